"""Reading the workflows and the composite action, and running their shell steps the way a runner would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
ACTION = REPO / "action.yml"
POLICY_WORKFLOWS = ("policy-plan.yml", "policy-apply.yml", "policy-drift.yml")
ALL_WORKFLOWS = ("ci.yml", "release.yml", *POLICY_WORKFLOWS)


def load(path: Path) -> dict[str, Any]:
    """A workflow or action as data; PyYAML reads the key ``on`` as True, so it is put back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS / name)


def step(doc: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    for candidate in doc["jobs"][job]["steps"]:
        if candidate.get("name") == name:
            return dict(candidate)
    raise AssertionError(f"no step {name!r} in job {job!r}")


def action_step(name: str) -> dict[str, Any]:
    for candidate in load(ACTION)["runs"]["steps"]:
        if candidate.get("name") == name:
            return dict(candidate)
    raise AssertionError(f"no step {name!r} in action.yml")


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every scalar in a document with the keys leading to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))
    else:
        yield path, node


FAKE_GH = '''\
"""A stand-in for the GitHub CLI: logs each call (with the body files it was given) as one JSON line."""
import json, os, sys
argv = sys.argv[1:]
body = None
for index, arg in enumerate(argv):
    if arg.startswith("body=@"):
        body = open(arg[len("body=@"):], encoding="utf-8").read()
    if arg == "--body-file":
        body = open(argv[index + 1], encoding="utf-8").read()
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"argv": argv, "body": body}) + "\\n")
is_lookup = "--jq" in argv and "--method" not in argv
if is_lookup and os.environ.get("FAKE_GH_FOUND"):
    print(os.environ["FAKE_GH_FOUND"])
'''


def install_fake_gh(bin_dir: Path) -> Path:
    """Put a fake ``gh`` first on PATH; it answers look-ups with $FAKE_GH_FOUND (an id or nothing)."""
    return _install_gh(bin_dir, "fake_gh.py", FAKE_GH)


def _install_gh(bin_dir: Path, name: str, source: str) -> Path:
    """``bin_dir/gh``: a shell script running the Python script ``source`` (saved as ``name``)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / name
    script.write_text(source, encoding="utf-8")
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n', encoding="utf-8")
    gh.chmod(0o755)
    return gh


def runner_env(tmp: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables a GitHub runner sets for a step, pointing at files under ``tmp``."""
    files = {
        "GITHUB_STEP_SUMMARY": tmp / "step_summary.md",
        "GITHUB_OUTPUT": tmp / "github_output.txt",
        "GITHUB_PATH": tmp / "github_path.txt",
        "GITHUB_ENV": tmp / "github_env.txt",
    }
    for file in files.values():
        file.touch()
    event = tmp / "event.json"
    if not event.exists():
        event.write_text('{"pull_request": {"number": 42, "head": {"sha": "0123456789abcdef"}}}', "utf-8")
    env = {
        "PATH": os.pathsep.join([str(tmp / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "RUNNER_TEMP": str(tmp / "runner_temp"),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "acme/confluence-policies",
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "FAKE_GH_LOG": str(tmp / "gh_calls.jsonl"),
        **{name: str(path) for name, path in files.items()},
    }
    (tmp / "runner_temp").mkdir(exist_ok=True)
    env.update(extra or {})
    return env


def run_step(script: str, *, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a ``run:`` script as the runner does: ``bash --noprofile --norc -eo pipefail {0}``."""
    path = cwd / ".step.sh"
    path.write_text(script, encoding="utf-8")
    try:
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
            cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=120, check=False,
        )
    finally:
        path.unlink()


def step_env(step_doc: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str]:
    """The step's ``env:`` with each ``${{ ... }}`` expression replaced by the value the test chose."""
    env: dict[str, str] = {}
    for name in step_doc.get("env", {}):
        assert name in values, f"the test gives no value for the step's env {name}"
        env[name] = values[name]
    return env


def gh_calls(tmp: Path) -> list[dict[str, Any]]:
    import json

    log = tmp / "gh_calls.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


FAKE_GITHUB = '''\
"""A stand-in for the GitHub CLI's `gh api` that answers from canned responses, as gh does.

$FAKE_GITHUB_RESPONSES is a JSON object: endpoint (as passed to gh, with its query) -> {"json": body} or
{"file": path} (raw bytes, e.g. an artifact zip). --jq runs the real jq over the body (gh prints strings
raw, as jq -r). An endpoint not listed is GitHub's 404. Every call is logged as FAKE_GH does.
"""
import json, os, subprocess, sys
argv = sys.argv[1:]
body = None
for arg in argv:
    if arg.startswith("body=@"):
        body = open(arg[len("body=@"):], encoding="utf-8").read()
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"argv": argv, "body": body}) + "\\n")
assert argv[0] == "api", argv
endpoint = next(a for a in argv[1:] if a.startswith("repos/"))
if "--method" in argv:
    print("{}")
    sys.exit(0)
responses = json.load(open(os.environ["FAKE_GITHUB_RESPONSES"], encoding="utf-8"))
if endpoint not in responses:
    sys.stderr.write("gh: Not Found (HTTP 404)\\n")
    sys.exit(1)
answer = responses[endpoint]
if "file" in answer:
    sys.stdout.buffer.write(open(answer["file"], "rb").read())
    sys.exit(0)
text = json.dumps(answer["json"])
if "--jq" in argv:
    jq = argv[argv.index("--jq") + 1]
    result = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True, check=False)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.exit(result.returncode)
print(text)
'''


def install_fake_github(bin_dir: Path, responses: Mapping[str, Any], tmp: Path) -> Path:
    """Put a fake ``gh`` first on PATH that answers ``gh api`` from ``responses`` (see FAKE_GITHUB); returns
    the responses file to name in $FAKE_GITHUB_RESPONSES."""
    import json

    _install_gh(bin_dir, "fake_github.py", FAKE_GITHUB)
    path = tmp / "github_responses.json"
    path.write_text(json.dumps(responses), encoding="utf-8")
    return path
