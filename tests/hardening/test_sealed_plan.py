"""A saved plan is a sealed artifact (issue 14 §1): `apply plan.json` applies only what the policy and the
live state produce. An edited plan file is refused before any write, naming the first difference; a plan
for another site is refused; a malformed plan file is one line and exit 1."""
# ruff: noqa: E501 - expected messages are compared whole

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.errors import PlanFileError
from reconciler.flows.apply import open_policy_site
from reconciler.plan.planfile import dump_plan, load_plan
from reconciler.sandbox.transport import SandboxTransport, open_sandbox_transport
from tests.apply.sandbox_helpers import SITE, copy_policies, env_for, writes
from tests.kit.sites import connection

BOB = {"label": "bob", "ref": "user:5b10ac8d82e05b22cc7d4ef6"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """The demo policies, a demo site that no test writes to, and the saved plan of the two."""
    tmp = tmp_path_factory.mktemp("sealed")
    policies = copy_policies(tmp)
    state_dir = tmp / "sandbox"
    with pytest.MonkeyPatch.context() as mp:
        _point_at_sandbox(mp, state_dir, tmp)
        assert main(["plan", str(policies), "--out", str(tmp / "plan.json"), "--no-progress"]) == 0
    return policies, state_dir, json.loads((tmp / "plan.json").read_text(encoding="utf-8"))


def _point_at_sandbox(mp: pytest.MonkeyPatch, state_dir: Path, cwd: Path) -> SandboxTransport:
    for name in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN",
                 "ATLASSIAN_ADMIN_API_KEY", "CI"):
        mp.delenv(name, raising=False)
    for name, value in env_for(state_dir).items():
        mp.setenv(name, value)
    mp.chdir(cwd)
    mp.setattr("sys.stdin", io.StringIO(""))
    return open_sandbox_transport(SITE, state_dir)


def _apply(world: tuple[Path, Path, dict[str, Any]], doc: Any, tmp: Path,
           capsys: pytest.CaptureFixture[str], *, raw: bytes | None = None) -> tuple[int, str, dict[str, int]]:
    policies, pristine, _ = world
    # every apply gets its own copy of the untouched site, so no example can pass because an earlier one
    # (on a build that applied edited plans) had already changed the site and made the plan stale
    state_dir = Path(tempfile.mkdtemp(dir=tmp, prefix="site-"))
    shutil.copytree(pristine, state_dir, dirs_exist_ok=True)
    path = tmp / "edited.json"
    path.write_bytes(raw if raw is not None else json.dumps(doc).encode())
    before = _stored(state_dir)
    with pytest.MonkeyPatch.context() as mp:
        transport = _point_at_sandbox(mp, state_dir, tmp)
        site = transport.site
        capsys.readouterr()
        code = main(["apply", str(path), "--policy-dir", str(policies), "--no-progress"],
                    connection=connection(dict(os.environ), transport=transport))
        out, err = capsys.readouterr()
    assert out == ""
    assert _stored(state_dir) == before  # the persisted site (spaces, roles, org policies) is as it was
    return code, err, writes(site)


def _stored(state_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(state_dir.iterdir()) if p.is_file()}


def _change(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(c for c in doc["changes"] if c["kind"] == kind))


def _attacks(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The edits a hostile reviewer-bypass would make, each a whole plan document."""
    attacks = {}
    edited = copy.deepcopy(doc)  # an unassign in an additive space
    edited["changes"].append({"kind": "unassign", "old_role": "Viewer", "principal": {"ref": "group:everyone"},
                              "space": "DOCS", "symbol": "-", "reason": "not in policy; space is exact"})
    attacks["unassign in an additive space"] = edited
    edited = copy.deepcopy(doc)  # a role raised to Admin
    next(c for c in edited["changes"] if c["kind"] == "assign")["role"] = "Admin"
    attacks["role raised to Admin"] = edited
    edited = copy.deepcopy(doc)  # a new custom role
    role = _change(doc, "create_role")
    role["role_def"]["name"] = "Shadow Admin"
    role["role_def"]["permissions"] = ["administer/space", "read/space"]
    edited["changes"].insert(0, role)
    attacks["new custom role"] = edited
    edited = copy.deepcopy(doc)  # a revoke with a made-up id
    edited["changes"].append({"kind": "revoke", "permission": "read/space", "permission_id": 999999,
                              "principal": {"ref": "group:contractors"}, "space": "OPS", "symbol": "-"})
    attacks["revoke with a made-up id"] = edited
    edited = copy.deepcopy(doc)  # a removal taken out of the plan (applying less than reviewed is a change too)
    edited["changes"] = [c for c in edited["changes"] if c["kind"] != "unassign"]
    attacks["removal dropped"] = edited
    edited = copy.deepcopy(doc)  # an unassign aimed at someone else
    next(c for c in edited["changes"] if c["kind"] == "unassign")["principal"] = {"ref": "group:confluence-administrators"}
    attacks["unassign retargeted"] = edited
    return attacks


@pytest.mark.parametrize("attack", ["unassign in an additive space", "role raised to Admin", "new custom role",
                                    "revoke with a made-up id", "removal dropped", "unassign retargeted"])
def test_an_edited_plan_file_is_refused_before_any_write(
    world: tuple[Path, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str], attack: str
) -> None:
    code, err, written = _apply(world, _attacks(world[2])[attack], tmp_path, capsys)
    assert (code, written) == (1, {})
    assert err.startswith("error: the saved plan is not the plan the policy and the live site give, so it was "
                          "not applied (first difference: ")
    assert err.endswith("); nothing was written; run `reconciler plan` again and review the new plan\n")


def test_the_refusal_names_the_first_difference(
    world: tuple[Path, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _attacks(world[2])["role raised to Admin"]
    index = next(i for i, c in enumerate(doc["changes"]) if c.get("role") == "Admin")
    _code, err, _ = _apply(world, doc, tmp_path, capsys)
    assert f'(first difference: changes[{index}].role: "Admin" in the saved plan, "Viewer" recomputed)' in err


def test_the_unedited_plan_file_is_accepted_by_the_seal(world: tuple[Path, Path, dict[str, Any]], tmp_path: Path) -> None:
    policies, state_dir, doc = world
    with pytest.MonkeyPatch.context() as mp:
        transport = _point_at_sandbox(mp, state_dir, tmp_path)
        session = open_policy_site(policies, connection(dict(os.environ), transport=transport))
        try:
            live, plan = session.seal(load_plan(json.dumps(doc)))
        finally:
            session.connection.close()
    assert json.loads(dump_plan(plan)) == doc
    assert plan.fingerprint == doc["fingerprint"]
    assert live.spaces


# Random edits: any value anywhere in the plan replaced, removed or added.
PATHS = st.integers(min_value=0, max_value=10_000)
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 10**6), st.text(max_size=12),
                   st.sampled_from(["Admin", "Viewer", "exact", "additive", "unassign", "revoke", "assign",
                                    "create_role", "group:everyone", "administer/space", "DOCS", "ENG"]))


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(doc, dict):
        return [path] + [p for k, v in doc.items() for p in _leaves(v, (*path, k))]
    if isinstance(doc, list):
        return [path] + [p for i, v in enumerate(doc) for p in _leaves(v, (*path, i))]
    return [path]


def _edit(doc: dict[str, Any], pick: int, how: str, value: Any) -> dict[str, Any]:
    edited = copy.deepcopy(doc)
    paths = [p for p in _leaves(edited) if p and p[0] in ("changes", "held", "spaces", "scope", "site", "mode")]
    path = paths[pick % len(paths)]
    parent = edited
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "set":
        parent[last] = value
    elif how == "delete":
        del parent[last]
    elif isinstance(parent, list):  # "add": a copy of an element, inserted
        parent.insert(0, copy.deepcopy(parent[last]))
    else:
        parent[f"{last}_extra"] = value
    return edited


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pick=PATHS, how=st.sampled_from(["set", "delete", "add"]), value=VALUES)
def test_an_edited_plan_file_is_never_applied(
    world: tuple[Path, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str], *,
    pick: int, how: str, value: Any,
) -> None:
    doc = world[2]
    edited = _edit(doc, pick, how, value)
    try:
        changed = json.loads(dump_plan(load_plan(json.dumps(edited)))) != doc
    except PlanFileError:
        changed = True  # refused as malformed: also never applied
    assume(changed)  # an edit the plan file does not carry (an unknown key) changes nothing to apply
    code, err, written = _apply(world, edited, tmp_path, capsys)
    # 4 (stale) when the edit reaches what the freshness check reads (the spaces, the fingerprint): the file
    # and the fresh read disagree either way, and apply cannot tell who changed; 1 otherwise. Never applied.
    assert (code in (1, 4), written) == (True, {}), code
    assert err.startswith("error: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(("raw", "message"), [
    (b"\xff\xfe{}", "the plan file is not UTF-8 (byte 0xff at offset 0); make it again with `reconciler plan --out`"),
    (b"[" * 100_000 + b"]" * 100_000, "plan file is nested too deeply to be a plan"),
    (b'{"format_version": 1, "site": "sandbox:demo"}', "plan file: plan.mode: missing"),
])
def test_a_malformed_plan_file_is_one_line_and_exit_1_before_any_write(
    world: tuple[Path, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes, message: str
) -> None:
    code, err, written = _apply(world, None, tmp_path, capsys, raw=raw)
    assert (code, written) == (1, {})
    assert err in (f"error: {message}\n", f"error: {tmp_path / 'edited.json'}: {message}\n")


def test_a_change_missing_its_fields_is_one_line_and_exit_1(
    world: tuple[Path, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = copy.deepcopy(world[2])
    index = next(i for i, c in enumerate(doc["changes"]) if c["kind"] == "grant")
    doc["changes"][index] = {"kind": "grant"}
    code, err, written = _apply(world, doc, tmp_path, capsys)
    assert (code, written) == (1, {})
    assert err.count("\n") == 1
    assert err.startswith(f"error: plan file: plan.changes[{index}]")


def test_a_plan_made_for_another_site_is_refused_before_any_request(
    world: tuple[Path, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = copy.deepcopy(world[2])
    doc["site"] = "https://other.atlassian.net"
    code, err, written = _apply(world, doc, tmp_path, capsys)
    assert (code, written) == (1, {})
    assert err == ("error: this plan was made for https://other.atlassian.net, not for sandbox:demo, the site "
                   "this run would write to (CONFLUENCE_URL, else site.url); nothing was written\n")
