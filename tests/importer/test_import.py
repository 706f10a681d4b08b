"""`reconciler import`: a policy written from a live site validates and plans to zero changes against it.

Round trips run against the in-process sandbox (demo and synthetic seeds) in a temporary state directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.drift.yamltext import scalar
from reconciler.errors import UsageError
from reconciler.flows.import_site import run_import
from reconciler.importer.files import SiteUser, derive_handles
from reconciler.model import DesiredState
from reconciler.plan.diff import build_plan
from reconciler.plan.plan import Plan
from reconciler.plan.safety import check_plan
from reconciler.policy.loader import load_policy
from tests.kit.sites import connection, fetch_live
from tests.kit.sites import site_client as open_client

DEMO = "sandbox:demo"
SYNTHETIC = "sandbox:synthetic:spaces=12,per_space=6,seed=7"


def plan_against_site(policy_dir: Path, state_dir: Path) -> tuple[DesiredState, Plan]:
    desired = load_policy(policy_dir)
    with open_client(desired.site.url, read_only=True, env={}, state_dir=state_dir) as client:
        live = fetch_live(client, desired)
    plan = build_plan(desired, live)
    return desired, plan


@pytest.mark.parametrize("site", [DEMO, SYNTHETIC], ids=["demo site", "synthetic site"])
def test_import_validates_and_plans_to_zero_changes(site: str, tmp_path: Path) -> None:
    state, out = tmp_path / "sandbox", tmp_path / "imported"
    result = run_import(out, connection({}, sandbox_dir=state), site=site)
    assert result.spaces > 0
    assert "site.yaml" in result.files
    desired, plan = plan_against_site(out, state)
    assert plan.changes == ()
    assert plan.held == ()
    assert check_plan(plan, desired, fetch_state(desired, state)) == ()


def fetch_state(desired: DesiredState, state_dir: Path) -> object:
    with open_client(desired.site.url, read_only=True, env={}, state_dir=state_dir) as client:
        return fetch_live(client, desired)


def test_import_is_stable_byte_for_byte(tmp_path: Path) -> None:
    state = tmp_path / "sandbox"
    first = run_import(tmp_path / "a", connection({}, sandbox_dir=state), site=DEMO)
    run_import(tmp_path / "b", connection({}, sandbox_dir=state), site=DEMO)
    for relative in first.files:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()


def test_imported_files_carry_the_schema_comment(tmp_path: Path) -> None:
    result = run_import(tmp_path / "out", connection({}, sandbox_dir=tmp_path / "sandbox"), site=DEMO)
    for relative in result.files:
        first = (tmp_path / "out" / relative).read_text(encoding="utf-8").splitlines()[0]
        depth = "../../" if relative.startswith("spaces/") else "../"
        assert first == f"# yaml-language-server: $schema={depth}schemas/policy.schema.json"


def test_import_of_named_spaces_writes_only_those(tmp_path: Path) -> None:
    result = run_import(tmp_path / "out", connection({}, sandbox_dir=tmp_path / "sb"), site=DEMO,
                        spaces=["HR", "ENG"])
    assert result.files == ("people.yaml", "roles.yaml", "site.yaml", "spaces/ENG.yaml", "spaces/HR.yaml")
    _, plan = plan_against_site(tmp_path / "out", tmp_path / "sb")
    assert plan.changes == ()


def test_import_refuses_a_non_empty_directory_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError) as err:
        run_import(out, connection({}, sandbox_dir=tmp_path / "sb"), site=DEMO)
    assert str(err.value) == f"--out {out}: directory is not empty; pass --force to overwrite its files"
    run_import(out, connection({}, sandbox_dir=tmp_path / "sb"), site=DEMO, force=True)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "site.yaml").is_file()


def test_import_without_a_site_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        run_import(tmp_path / "out", connection({}))
    assert str(err.value) == (
        "no site to import: set CONFLUENCE_URL or pass --site (e.g. --site sandbox:demo)"
    )


def test_propose_roles_comments_custom_access_and_still_plans_to_zero(tmp_path: Path) -> None:
    state, out = tmp_path / "sb", tmp_path / "out"
    result = run_import(out, connection({}, sandbox_dir=state), site=DEMO, propose_roles_too=True)
    assert result.proposals is not None
    ops = (out / "spaces" / "OPS.yaml").read_text(encoding="utf-8")
    line = "      group:contractors: [read/space]  # proposed role: Viewer (nearest; gains create/comment)\n"
    assert line in ops
    _, plan = plan_against_site(out, state)
    assert plan.changes == ()


def test_import_command_prints_what_it_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "sb"))
    monkeypatch.delenv("CONFLUENCE_URL", raising=False)
    out = tmp_path / "out"
    assert main(["import", "--out", str(out), "--site", DEMO, "--no-progress"]) == 0
    assert capsys.readouterr().out == (
        f"Imported 10 spaces and 8 people into {out} (13 files). "
        f"Next: reconciler validate {out} && reconciler plan {out}\n"
    )
    assert main(["validate", str(out)]) == 0


@pytest.mark.parametrize(
    ("names", "handles"),
    [
        ({"a1": "Alice Smith"}, {"a1": "alice-smith"}),
        ({"a1": "Zoë Ångström"}, {"a1": "zoe-angstrom"}),
        ({"a2": "Ann", "a1": "Ann", "a3": "ann"}, {"a1": "ann", "a2": "ann-2", "a3": "ann-3"}),
        ({"a1": "", "a2": "李雷", "a3": "123"}, {"a1": "a1", "a2": "a2", "a3": "a3"}),
        ({"a1": "Ann", "a2": "Ann", "a3": "Ann 2"}, {"a1": "ann", "a2": "ann-2", "a3": "a3"}),
    ],
    ids=["two words", "accents folded", "collisions numbered by account id", "no usable name",
         "a numbered handle taken by a real name"],
)
def test_handles_are_derived_deterministically(names: dict[str, str], handles: dict[str, str]) -> None:
    assert derive_handles(SiteUser(a, n) for a, n in names.items()) == handles


@pytest.mark.parametrize(
    ("value", "text"),
    [("Release Manager", "Release Manager"), ("yes", "'yes'"), ("@acme/x", "'@acme/x'"),
     ("group:eng: ops", "'group:eng: ops'")],
)
def test_scalars_are_quoted_only_when_yaml_needs_it(value: str, text: str) -> None:
    assert scalar(value) == text


@pytest.mark.parametrize(
    ("actor", "handle"),
    [(None, "reconciler-service"), ("5b10ac8d82e05b22cc7d4ef5", "alice-anders")],
    ids=["the busiest admin outside personal spaces", "--actor"],
)
def test_the_actor_is_the_busiest_admin_unless_given(actor: str | None, handle: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_import(out, connection({}, sandbox_dir=tmp_path / "sb"), site=DEMO,
               spaces=["~5b10ac8d82e05b22cc7d4ef5", "ENG"], actor=actor)
    assert f"  actor: {handle}\n" in (out / "site.yaml").read_text(encoding="utf-8")
    assert (out / "spaces" / "~5b10ac8d82e05b22cc7d4ef5.yaml").is_file()
