"""The workflows' security properties, read from the YAML: pins, permissions, triggers, secrets."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from reconciler.cli import build_parser
from reconciler.errors import ExitCode
from tests.github.workflows import (
    ACTION,
    ALL_WORKFLOWS,
    POLICY_WORKFLOWS,
    REPO,
    WORKFLOWS,
    load,
    step,
    walk,
    workflow,
)

USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$", re.MULTILINE)
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+#\s+v\d+(?:\.\d+){0,2}$")
READ_ONLY_SECRETS = {
    "CONFLUENCE_URL": "CONFLUENCE_URL",
    "CONFLUENCE_EMAIL": "CONFLUENCE_READ_EMAIL",
    "CONFLUENCE_API_TOKEN": "CONFLUENCE_READ_API_TOKEN",
    "CONFLUENCE_BEARER_TOKEN": "CONFLUENCE_READ_BEARER_TOKEN",
    "CONFLUENCE_PAT": "CONFLUENCE_READ_PAT",  # Data Center
    "CONFLUENCE_USERNAME": "CONFLUENCE_READ_USERNAME",
    "CONFLUENCE_PASSWORD": "CONFLUENCE_READ_PASSWORD",
    "ATLASSIAN_ADMIN_API_KEY": "ATLASSIAN_ADMIN_READ_API_KEY",
}
WRITE_SECRETS = {name: name for name in READ_ONLY_SECRETS}
EXPECTED_PERMISSIONS = {
    ("ci.yml", None): {"contents": "read"},
    ("policy-plan.yml", None): {},
    ("policy-plan.yml", "plan"): {"contents": "read"},
    ("policy-plan.yml", "comment"): {"pull-requests": "write"},
    ("policy-apply.yml", None): {},
    ("policy-apply.yml", "reviewed-plan"): {"actions": "read", "contents": "read", "pull-requests": "read"},
    ("policy-apply.yml", "apply"): {"contents": "read"},
    ("policy-apply.yml", "report"): {"pull-requests": "write"},
    ("policy-drift.yml", None): {},
    ("policy-drift.yml", "drift"): {"contents": "read"},
    ("policy-drift.yml", "issue"): {"issues": "write"},
}


def _sources() -> list[tuple[str, str]]:
    files = [WORKFLOWS / name for name in ALL_WORKFLOWS] + [ACTION]
    return [(path.name, path.read_text(encoding="utf-8")) for path in files]


@pytest.mark.parametrize(("name", "text"), _sources(), ids=[name for name, _ in _sources()])
def test_every_action_is_pinned_to_a_commit_sha_with_its_version_in_a_comment(name: str, text: str) -> None:
    refs = USES_LINE.findall(text)
    assert refs, f"{name} uses no action"
    for ref, rest in refs:
        if ref == "./":
            assert rest == "", f"{name}: the local action needs no comment"
            continue
        assert PINNED.match(ref), f"{name}: {ref} is not pinned to a full commit SHA"
        assert VERSION_COMMENT.match(rest), f"{name}: {ref} lacks a trailing '# vX.Y.Z' comment"


def test_all_workflows_are_linted_and_none_is_forgotten() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == sorted(ALL_WORKFLOWS)


@pytest.mark.parametrize(
    ("name", "job"), list(EXPECTED_PERMISSIONS), ids=[f"{n} {j or '(top)'}" for n, j in EXPECTED_PERMISSIONS]
)
def test_permissions_are_least_privilege(name: str, job: str | None) -> None:
    doc = workflow(name)
    scope = doc if job is None else doc["jobs"][job]
    assert scope["permissions"] == EXPECTED_PERMISSIONS[(name, job)]


def test_every_job_of_a_policy_workflow_declares_its_own_permissions_and_a_timeout() -> None:
    for name in POLICY_WORKFLOWS:
        for job_name, job in workflow(name)["jobs"].items():
            assert (name, job_name) in EXPECTED_PERMISSIONS, f"{name}: job {job_name} is not checked"
            assert job["timeout-minutes"] <= 60


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_no_workflow_uses_pull_request_target(name: str) -> None:
    assert "pull_request_target" not in workflow(name)["on"]
    assert "pull_request_target" not in (WORKFLOWS / name).read_text(encoding="utf-8").replace(
        "never `pull_request_target`", ""
    )


def _secret_refs(doc: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    return [(path, value) for path, value in walk(doc) if isinstance(value, str) and "secrets." in value]


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_secrets_reach_the_tool_only_as_environment_variables(name: str) -> None:
    for path, value in _secret_refs(workflow(name)):
        assert path[-2] == "env", f"{name}: a secret outside env: at {'.'.join(path)}"
        assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", value), f"{name}: {value!r} is not one secret"


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_no_run_script_interpolates_an_expression(name: str) -> None:
    for path, value in walk(workflow(name)):
        if path[-1] == "run":
            assert "${{" not in value, f"{name}: {'.'.join(path)} interpolates an expression into the script"


def test_the_action_takes_no_secret_as_an_input_and_interpolates_nothing_into_scripts() -> None:
    action = load(ACTION)
    assert not [i for i in action["inputs"] if re.search(r"token|secret|password|key", i, re.IGNORECASE)]
    for path, value in walk(action):
        if path[-1] == "run":
            assert "${{" not in value, f"action.yml: {'.'.join(path)} interpolates an expression"


def _env_secrets(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """(job, step name) -> {env name: secret name} for every step that is given secrets."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for job_name, job in doc["jobs"].items():
        for item in job["steps"]:
            secrets = {
                env: m.group(1)
                for env, value in item.get("env", {}).items()
                if (m := re.fullmatch(r"\$\{\{ secrets\.([A-Z_]+) \}\}", str(value)))
            }
            if secrets:
                found[(job_name, item.get("name", item.get("uses", "")))] = secrets
    return found


def test_plan_and_drift_get_only_the_read_only_credentials() -> None:
    assert _env_secrets(workflow("policy-plan.yml")) == {("plan", "Plan"): READ_ONLY_SECRETS}
    assert _env_secrets(workflow("policy-drift.yml")) == {("drift", "Drift (read-only)"): READ_ONLY_SECRETS}


def test_apply_credentials_live_only_in_the_protected_environment_of_the_apply_job() -> None:
    doc = workflow("policy-apply.yml")
    assert _env_secrets(doc) == {
        ("apply", "Apply the reviewed plan"): WRITE_SECRETS,
        ("apply", "Plan the merged policy again"): WRITE_SECRETS,
        ("apply", "Apply the new plan"): WRITE_SECRETS,
    }
    assert doc["jobs"]["apply"]["environment"] == "confluence-production"
    assert [job for job in doc["jobs"].values() if "environment" in job] == [doc["jobs"]["apply"]]
    on_default_branch = "github.ref_name == github.event.repository.default_branch"
    assert doc["jobs"]["reviewed-plan"]["if"] == on_default_branch
    assert doc["jobs"]["apply"]["if"] == "${{ !cancelled() && " + on_default_branch + " }}"


@pytest.mark.parametrize("name", POLICY_WORKFLOWS)
def test_no_step_holds_a_github_token_and_confluence_secrets_together(name: str) -> None:
    for job_name, job in workflow(name)["jobs"].items():
        for item in job["steps"]:
            values = [str(v) for v in item.get("env", {}).values()]
            if any("github.token" in v for v in values):
                assert not any("secrets." in v for v in values), f"{name}: {job_name}: {item.get('name')}"
                assert "environment" not in job, f"{name}: {job_name} holds a token and the environment"


def test_jobs_with_a_write_token_never_check_out_or_run_repository_code() -> None:
    for name, job_name in [("policy-plan.yml", "comment"), ("policy-drift.yml", "issue"),
                           ("policy-apply.yml", "report")]:
        uses = [item["uses"] for item in workflow(name)["jobs"][job_name]["steps"] if "uses" in item]
        assert uses == ["actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093"], name


def test_checkouts_do_not_keep_the_token_in_git_config() -> None:
    for name in ALL_WORKFLOWS:
        for job in workflow(name)["jobs"].values():
            for item in job["steps"]:
                if item.get("uses", "").startswith("actions/checkout@"):
                    assert item["with"]["persist-credentials"] is False, name


def test_applies_never_overlap_and_are_never_cancelled_midway() -> None:
    doc = workflow("policy-apply.yml")
    assert doc["concurrency"] == {"group": "policy-apply", "cancel-in-progress": False}


def test_triggers_match_the_policy_repo_flow() -> None:
    assert workflow("policy-plan.yml")["on"] == {"pull_request": {"paths": ["policies/**"]}}
    apply_on = workflow("policy-apply.yml")["on"]
    assert apply_on["push"] == {"branches": ["main"], "paths": ["policies/**"]}
    assert apply_on["workflow_dispatch"]["inputs"]["allow-unsafe"]["type"] == "boolean"
    drift_on = workflow("policy-drift.yml")["on"]
    assert drift_on == {"schedule": [{"cron": "17 3 * * *"}], "workflow_dispatch": None}
    assert workflow("ci.yml")["jobs"]["test"]["strategy"]["matrix"] == {"python": ["3.11", "3.12"]}


@pytest.mark.parametrize(
    ("name", "job", "step_name", "command", "args"),
    [
        ("policy-plan.yml", "plan", "Validate policies (annotations on the changed lines)", "validate",
         "policies --format github"),
        ("policy-plan.yml", "plan", "CODEOWNERS matches owners in policies/spaces/", "codeowners",
         "policies --check"),
        ("policy-plan.yml", "plan", "Plan", "plan",
         "policies --changed-since HEAD^1 --out plan.json --format markdown"),
        ("policy-apply.yml", "apply", "Apply the reviewed plan", "apply",
         "reviewed/plan.json --auto-approve --format markdown"),
        ("policy-apply.yml", "apply", "Plan the merged policy again", "plan",
         "policies --out replan.json --format markdown --detailed-exitcode"),
        ("policy-apply.yml", "apply", "Apply the new plan", "apply",
         "replan.json --auto-approve --format markdown ${{ inputs.allow-unsafe && '--allow-unsafe' || '' }}"),
        ("policy-drift.yml", "drift", "Drift (read-only)", "drift", "policies --format markdown"),
    ],
    ids=["validate", "codeowners", "plan", "apply the reviewed plan", "plan again", "apply the new plan",
         "drift"],
)
def test_each_policy_step_runs_the_intended_reconciler_command(
    name: str, job: str, step_name: str, command: str, args: str
) -> None:
    item = step(workflow(name), job, step_name)
    assert item["uses"] == "./"
    assert (item["with"]["command"], item["with"]["args"]) == (command, args)


def test_pre_commit_hooks_run_real_commands_on_policy_files() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [(h["id"], h["entry"], h["args"]) for h in hooks] == [
        ("reconciler-validate", "reconciler validate", ["policies"]),
        ("reconciler-codeowners", "reconciler codeowners --check", ["policies"]),
    ]
    parser = build_parser()
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert re.match(hook["files"], "policies/spaces/ENG.yaml")
        assert not re.match(hook["files"], "README.md")
        args = parser.parse_args([*shlex.split(hook["entry"])[1:], *hook["args"]])
        assert args.policy_dir == "policies"


def test_apply_on_merge_plans_again_exactly_on_apply_s_stale_exit_code() -> None:
    doc = workflow("policy-apply.yml")
    stale = int(ExitCode.STALE)
    assert step(doc, "apply", "Apply the reviewed plan")["with"]["ok-exit-codes"] == f"0 {stale}"
    replan = step(doc, "apply", "Plan the merged policy again")["if"]
    assert replan == ("needs.reviewed-plan.outputs.found != 'true' || "
                      f"steps.reviewed.outputs.exit-code == '{stale}'")
