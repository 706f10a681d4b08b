"""`reconciler init DIR`: a policy repository whose README commands work and whose workflows lint clean."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.flows.connect import Connection
from reconciler.sandbox import default_credentials
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.store import open_site
from reconciler.scaffold import WORKFLOWS, default_action, example_policy, workflow
from tests.github.test_actionlint import _lint

REPO = Path(__file__).resolve().parents[2]


def test_init_without_a_site_writes_the_examples_workflows_codeowners_and_readme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "confluence-policies"
    assert main(["init", str(target)], connection=Connection({})) == 0
    assert capsys.readouterr().out.startswith(f"wrote {target} (")
    names = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert {".gitignore", "README.md", ".github/CODEOWNERS", "schemas/policy.schema.json",
            "policies/site.yaml", "policies/spaces/ENG.yaml",
            *(f".github/workflows/{name}" for name in WORKFLOWS)} <= set(names)
    for name in WORKFLOWS:
        text = (target / ".github" / "workflows" / name).read_text(encoding="utf-8")
        assert "uses: ./" not in text
        assert f"uses: {default_action()}" in text
    owners = (target / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    assert "\n/.github/ @acme/confluence-admins\n" in owners
    assert "\n/policies/site.yaml @acme/confluence-admins\n" in owners
    monkeypatch.chdir(target)
    assert main(["codeowners", "policies", "--check"]) == 0
    assert main(["validate", "policies"]) == 0


def test_the_packaged_templates_are_this_repository_s_workflows_and_policies() -> None:
    for name in WORKFLOWS:
        ours = (REPO / ".github" / "workflows" / name).read_text(encoding="utf-8")
        assert workflow(name, "./") == ours, f"reconciler/scaffold/templates/workflows/{name} is stale"
    repo_policy = {p.relative_to(REPO / "policies").as_posix(): p.read_text(encoding="utf-8")
                   for p in sorted((REPO / "policies").rglob("*.yaml"))}
    assert example_policy() == repo_policy, "reconciler/scaffold/templates/policies is stale"


def test_init_refuses_a_non_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["init", str(tmp_path)], connection=Connection({})) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path} is not empty; give a new or empty directory, or --force to write into it\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_the_generated_workflows_pass_actionlint(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    assert main(["init", str(target), "--action", "acme/confluence-reconciler@" + "0" * 40],
                connection=Connection({})) == 0
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    result = _lint(*sorted((target / ".github" / "workflows").glob("*.yml")), cwd=target)
    assert (result.stdout, result.stderr, result.returncode) == ("", "", 0)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    state_dir = tmp_path / "sandbox-state"
    server = start_server(open_site("demo", state_dir))
    email, token = default_credentials("demo", state_dir)
    try:
        yield server, {"CONFLUENCE_URL": server.url, "CONFLUENCE_EMAIL": email, "CONFLUENCE_API_TOKEN": token}
    finally:
        server.stop()


def _readme_commands(readme: str) -> list[list[str]]:
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block, "the README has a sh block"
    return [shlex.split(line.split("#")[0])[1:] for line in block.group(1).splitlines()
            if line.startswith("reconciler ")]


@pytest.mark.e2e
def test_init_imports_the_site_and_the_readme_commands_work_against_sandbox_serve(
    tmp_path: Path, served: tuple[RunningServer, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, env = served
    target = tmp_path / "policies-repo"
    with Connection(env) as site:
        assert main(["init", str(target), "--no-progress"], connection=site) == 0
    commands = _readme_commands((target / "README.md").read_text(encoding="utf-8"))
    assert [c[0] for c in commands] == ["validate", "codeowners", "plan", "apply", "drift"]
    monkeypatch.chdir(target)
    server.site.reset_counters()
    for argv in commands:
        with Connection(env) as site:
            assert main([*argv, "--no-progress"] if argv[0] != "codeowners" else argv,
                        connection=site) == 0, argv
    assert server.site.request_count > 0
