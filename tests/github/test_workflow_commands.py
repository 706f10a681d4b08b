"""The command lines the policy workflows run, run for real against `sandbox serve` on loopback.

Each step is run the way a runner runs it: the action's own shell step (action.yml) with the inputs the
workflow passes, the workflow's secrets mapped to the sandbox's credentials, and GITHUB_STEP_SUMMARY,
GITHUB_OUTPUT and GITHUB_EVENT_PATH pointing at temporary files. GitHub itself (``gh``) is faked.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan.planfile import load_plan
from reconciler.sandbox import default_admin_api_key, default_credentials
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.store import open_site
from tests.github.test_workflow_scripts import logged_report
from tests.github.workflows import (
    REPO,
    action_step,
    gh_calls,
    install_fake_gh,
    run_step,
    runner_env,
    step,
    step_env,
    workflow,
)

pytestmark = pytest.mark.e2e

RUN_URL = "https://github.com/acme/confluence-policies/actions/runs/7"
VALIDATE = "Validate policies (annotations on the changed lines)"
CODEOWNERS = "CODEOWNERS matches owners in policies/spaces/"
EXPRESSIONS = {"${{ inputs.allow-unsafe && '--allow-unsafe' || '' }}": ""}  # a push: no dispatch inputs


@dataclass
class Runner:
    """A checked-out policy repository, a sandbox site served on loopback, and GitHub's step files."""

    root: Path
    server: RunningServer
    secrets: dict[str, str]

    def outputs(self) -> dict[str, str]:
        text = (self.root / "github_output.txt").read_text(encoding="utf-8")
        return dict(line.split("=", 1) for line in text.splitlines())

    def summary(self) -> str:
        return (self.root / "step_summary.md").read_text(encoding="utf-8")

    def reset_step_files(self) -> None:
        for name in ("github_output.txt", "step_summary.md"):
            (self.root / name).write_text("", encoding="utf-8")

    def uses(self, name: str, job: str, step_name: str) -> tuple[int, str, str]:
        """Run a ``uses: ./`` step: the action's command step with the workflow's inputs and env."""
        item = step(workflow(name), job, step_name)
        inputs: dict[str, Any] = {"args": "", "output": "", "ok-exit-codes": "0", **item["with"]}
        args = str(inputs["args"])
        for expression, value in EXPRESSIONS.items():
            args = args.replace(expression, value)
        assert "${{" not in args, args
        env = {
            "RECONCILER_COMMAND": inputs["command"],
            "RECONCILER_ARGS": args,
            "RECONCILER_OUTPUT": inputs["output"],
            "RECONCILER_OK_EXIT_CODES": inputs["ok-exit-codes"],
            "NO_COLOR": "1",
        }
        for var, value in item.get("env", {}).items():
            secret = re.fullmatch(r"\$\{\{ secrets\.([A-Z_]+) \}\}", value)
            assert secret, value
            env[var] = self.secrets.get(secret.group(1), "")  # an unset secret arrives as ""
        self.reset_step_files()
        script = action_step("reconciler ${{ inputs.command }}")["run"]
        result = run_step(script, cwd=self.root, env=runner_env(self.root, env))
        return result.returncode, result.stdout, result.stderr

    def run(self, name: str, job: str, step_name: str, **values: str) -> tuple[int, str, str]:
        """Run a ``run:`` step of a workflow with the step's env set from ``values``."""
        item = step(workflow(name), job, step_name)
        result = run_step(item["run"], cwd=self.root, env=runner_env(self.root, step_env(item, values)))
        return result.returncode, result.stdout, result.stderr


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    (tmp_path / ".github").mkdir()
    shutil.copy(REPO / ".github" / "CODEOWNERS", tmp_path / ".github" / "CODEOWNERS")
    install_fake_gh(tmp_path / "bin")
    _pull_request_checkout(tmp_path)
    state_dir = tmp_path / "sandbox-state"
    server = start_server(open_site("demo", state_dir))
    email, token = default_credentials("demo", state_dir)
    admin_key = default_admin_api_key("demo", state_dir)
    secrets = {
        "CONFLUENCE_URL": server.url,
        "CONFLUENCE_READ_EMAIL": email, "CONFLUENCE_READ_API_TOKEN": token,
        "ATLASSIAN_ADMIN_READ_API_KEY": admin_key,
        "CONFLUENCE_EMAIL": email, "CONFLUENCE_API_TOKEN": token, "ATLASSIAN_ADMIN_API_KEY": admin_key,
    }
    try:
        yield Runner(tmp_path, server, secrets)
    finally:
        server.stop()


def _pull_request_checkout(root: Path) -> None:
    """A checkout as actions/checkout leaves it with fetch-depth 2: HEAD adds policies/ to its first parent
    (so ``plan --changed-since HEAD^1`` plans the whole policy)."""
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                       check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("commit", "-q", "--allow-empty", "-m", "base")
    git("add", "policies", ".github")
    git("commit", "-q", "-m", "pull request")


def test_pull_request_validates_plans_and_posts_one_comment(runner: Runner) -> None:
    code, _, stderr = runner.uses("policy-plan.yml", "plan", VALIDATE)
    assert (code, runner.outputs()) == (0, {"exit-code": "0", "output": ""}), stderr

    code, stdout, stderr = runner.uses("policy-plan.yml", "plan", CODEOWNERS)
    assert (code, stdout) == (0, ".github/CODEOWNERS is up to date\n"), stderr

    runner.server.site.reset_counters()
    code, stdout, stderr = runner.uses("policy-plan.yml", "plan", "Plan")
    assert (code, runner.outputs()) == (0, {"exit-code": "0", "output": "plan.md"}), stderr
    markdown = (runner.root / "plan.md").read_text(encoding="utf-8")
    assert markdown.startswith(f"### Reconciler plan for `{runner.server.url}`\n\n**Plan: ")
    assert logged_report(stdout) == markdown, "the report is also in the job log"
    plan = load_plan((runner.root / "plan.json").read_text(encoding="utf-8"))
    assert plan.changes, "the demo policy differs from the demo site"
    writes = [key for key in runner.server.site.counters if not key.startswith("GET ")]
    assert runner.server.site.request_count > 0
    assert writes == [], "plan never writes"

    runner.reset_step_files()
    assert runner.run("policy-plan.yml", "plan", "Comment body and job summary", PLAN_EXIT_CODE="0",
                      HEAD_SHA="0123456789abcdef", RUN_URL=RUN_URL) == (0, "", "")
    comment = (runner.root / "plan-comment.md").read_text(encoding="utf-8")
    footer = f"<sub>Plan of 0123456789ab · [job log and plan.json artifact]({RUN_URL})</sub>\n"
    assert comment == f"<!-- reconciler-plan -->\n{markdown}\n{footer}"
    assert runner.summary() == comment

    assert runner.run("policy-plan.yml", "comment", "Create or update the plan comment",
                      GH_TOKEN="ghs_fake", PR_NUMBER="42")[:2] == (0, "created the plan comment\n")
    posted = [call for call in gh_calls(runner.root) if "--method" in call["argv"]]
    assert [(call["argv"][2], call["body"]) for call in posted] == [("POST", comment)]


def _drift(runner: Runner) -> tuple[int, str]:
    code, _, stderr = runner.uses("policy-drift.yml", "drift", "Drift (read-only)")
    assert code == 0, stderr
    exit_code = runner.outputs()["exit-code"]
    runner.reset_step_files()
    assert runner.run("policy-drift.yml", "drift", "Issue body and job summary", RUN_URL=RUN_URL)[0] == 0
    return int(exit_code), (runner.root / "drift-issue.md").read_text(encoding="utf-8")


def test_merge_applies_and_the_nightly_drift_issue_opens_then_closes(runner: Runner) -> None:
    drift_code, body = _drift(runner)
    assert drift_code == 2, "the demo site drifted from the demo policy"
    assert body.startswith("<!-- reconciler-drift -->\n")
    assert runner.summary() == body
    result = runner.run("policy-drift.yml", "issue", "Sync the drift issue", GH_TOKEN="ghs_fake",
                        GH_REPO="acme/confluence-policies", DRIFT_EXIT_CODE="2", RUN_URL=RUN_URL)
    assert result[0] == 0, result[2]
    created = gh_calls(runner.root)[-1]
    assert (created["argv"][:2], created["body"]) == (["issue", "create"], body)

    _review(runner)  # the pull request's plan, reviewed; merged with nothing else changed
    runner.server.site.reset_counters()
    code, stdout, stderr = runner.uses("policy-apply.yml", "apply", "Apply the reviewed plan")
    assert (code, runner.outputs()) == (0, {"exit-code": "0", "output": "apply.md"}), stdout + stderr
    report = (runner.root / "apply.md").read_text(encoding="utf-8")
    assert report.startswith(f"### Apply to `{runner.server.url}`")
    assert _writes(runner), "the reviewed plan was applied"
    runner.reset_step_files()
    assert _apply_report(runner, REVIEWED_EXIT_CODE="0") == (0, "", "")
    assert runner.summary() == (
        f"<!-- reconciler-apply -->\nApplied the plan reviewed in [this policy-plan run]({PLAN_RUN}): the "
        f"merged policy and the site still gave exactly that plan.\n\n{report}{FOOTER}"
    )

    drift_code, body = _drift(runner)
    assert drift_code == 0, body
    (runner.root / "gh_calls.jsonl").unlink()
    item = step(workflow("policy-drift.yml"), "issue", "Sync the drift issue")
    values = {"GH_TOKEN": "ghs_fake", "GH_REPO": "acme/confluence-policies", "DRIFT_EXIT_CODE": "0",
              "RUN_URL": RUN_URL}
    env = runner_env(runner.root, {**step_env(item, values), "FAKE_GH_FOUND": "5"})
    result = run_step(item["run"], cwd=runner.root, env=env)
    assert (result.returncode, result.stdout) == (0, "closed drift issue #5\n"), result.stderr
    assert gh_calls(runner.root)[-1]["argv"][:3] == ["issue", "close", "5"]


PLAN_RUN = "https://github.com/acme/confluence-policies/actions/runs/9001"
SHA = "a1" * 20
FOOTER = f"\n<sub>Apply of {SHA[:12]} · [job log and report artifact]({RUN_URL})</sub>\n"


def _review(runner: Runner) -> None:
    """The pull request's Plan step, and its plan.json as the apply job downloads it: reviewed/plan.json."""
    code, _, stderr = runner.uses("policy-plan.yml", "plan", "Plan")
    assert code == 0, stderr
    (runner.root / "reviewed").mkdir()
    (runner.root / "plan.json").rename(runner.root / "reviewed" / "plan.json")


def _writes(runner: Runner) -> list[str]:
    return [key for key in runner.server.site.counters if not key.startswith("GET ")]


def _apply_report(runner: Runner, **values: str) -> tuple[int, str, str]:
    defaults = {"REVIEWED_EXIT_CODE": "", "APPLIED_EXIT_CODE": "", "PLAN_RUN": PLAN_RUN, "SHA": SHA,
                "RUN_URL": RUN_URL}
    return runner.run("policy-apply.yml", "apply", "Apply report and job summary", **{**defaults, **values})


@pytest.mark.parametrize("setting", ["", "apply"], ids=["RECONCILER_STALE_PLAN unset: stop", "apply"])
def test_a_stale_reviewed_plan_is_refused_planned_again_and_stopped_or_applied(
    runner: Runner, setting: str
) -> None:
    _review(runner)
    with (runner.root / "policies" / "spaces" / "HR.yaml").open("a", encoding="utf-8") as fh:
        fh.write("# the base branch moved on before the merge\n")
    runner.server.site.reset_counters()
    code, _, stderr = runner.uses("policy-apply.yml", "apply", "Apply the reviewed plan")
    assert (code, runner.outputs()) == (0, {"exit-code": "4", "output": "apply.md"}), stderr
    assert stderr.endswith(
        "error: the policy changed since this plan was made; run `reconciler plan` again\n")
    assert _writes(runner) == [], "a stale plan writes nothing"

    code, _, stderr = runner.uses("policy-apply.yml", "apply", "Plan the merged policy again")
    assert (code, runner.outputs()) == (0, {"exit-code": "2", "output": "replan.md"}), stderr
    new_plan = (runner.root / "replan.md").read_text(encoding="utf-8")
    assert new_plan.startswith(f"### Reconciler plan for `{runner.server.url}`\n\n**Plan: ")

    runner.reset_step_files()
    code, stdout, _ = runner.run("policy-apply.yml", "apply", "Decide whether to apply the new plan",
                                 WHY="", LOOKUP_RESULT="success", PLAN_RUN=PLAN_RUN, REVIEWED_EXIT_CODE="4",
                                 PLAN_EXIT_CODE="2", STALE_PLAN=setting, EVENT_NAME="push")
    note = (runner.root / "replan-note.md").read_text(encoding="utf-8")
    assert note.startswith("**The reviewed plan was not applied:** the reviewed plan ([policy-plan "
                           f"run]({PLAN_RUN})) is stale")
    if setting == "":
        assert (code, runner.outputs()) == (1, {"apply": "stop"}), stdout
        assert _writes(runner) == []
        applied = ""
    else:
        assert (code, runner.outputs()) == (0, {"apply": "true"}), stdout
        code, stdout, stderr = runner.uses("policy-apply.yml", "apply", "Apply the new plan")
        assert (code, runner.outputs()) == (0, {"exit-code": "0", "output": "apply.md"}), stdout + stderr
        assert _writes(runner), "the new plan was applied"
        applied = (runner.root / "apply.md").read_text(encoding="utf-8")
        assert applied.startswith(f"### Apply to `{runner.server.url}`")

    runner.reset_step_files()
    result = _apply_report(runner, REVIEWED_EXIT_CODE="4", APPLIED_EXIT_CODE="0" if setting else "")
    assert result == (0, "", "")
    assert runner.summary() == (f"<!-- reconciler-apply -->\n{note}\n{applied}\n#### The new plan\n\n"
                                f"{new_plan}{FOOTER}")


def test_a_stale_codeowners_fails_the_pull_request_with_the_command_to_run(runner: Runner) -> None:
    (runner.root / ".github" / "CODEOWNERS").write_text("# hand-edited\n", encoding="utf-8")
    code, stdout, stderr = runner.uses("policy-plan.yml", "plan", CODEOWNERS)
    assert code == 1
    assert stdout.endswith("::error title=reconciler codeowners::reconciler codeowners exited with code 1\n")
    assert stderr.endswith(
        "error: .github/CODEOWNERS is stale: run `reconciler codeowners policies` and commit the result\n"
    )


def test_validate_turns_a_policy_error_into_an_annotation_on_its_file_and_line(runner: Runner) -> None:
    eng = runner.root / "policies" / "spaces" / "ENG.yaml"
    text = eng.read_text(encoding="utf-8")
    eng.write_text(text.replace("Collaborator", "Colaborator", 1), encoding="utf-8")
    code, stdout, _ = runner.uses("policy-plan.yml", "plan", VALIDATE)
    assert code == 1
    assert re.search(r"^::error file=policies/spaces/ENG\.yaml,line=\d+", stdout, re.MULTILINE), stdout
    assert json.dumps("Colaborator")[1:-1] in stdout


def test_an_unsafe_plan_fails_the_check_but_still_reaches_the_comment(runner: Runner) -> None:
    site = runner.root / "policies" / "site.yaml"
    site.write_text(site.read_text(encoding="utf-8").replace("max_removal_fraction: 0.25",
                                                             "max_removal_fraction: 0.01"), encoding="utf-8")
    code, stdout, stderr = runner.uses("policy-plan.yml", "plan", "Plan")
    assert (code, runner.outputs()) == (1, {"exit-code": "1", "output": "plan.md"})
    error = "::error title=reconciler plan::reconciler plan exited with code 1\n"
    assert stdout.endswith(error)
    assert logged_report(stdout.removesuffix(error)) == (runner.root / "plan.md").read_text(encoding="utf-8")
    assert "--allow-unsafe" in stderr
    markdown = (runner.root / "plan.md").read_text(encoding="utf-8")
    assert "> **Unsafe plan:** apply refuses it without `--allow-unsafe`." in markdown

    runner.reset_step_files()
    assert runner.run("policy-plan.yml", "plan", "Comment body and job summary", PLAN_EXIT_CODE="1",
                      HEAD_SHA="0123456789abcdef", RUN_URL=RUN_URL)[0] == 0
    comment = (runner.root / "plan-comment.md").read_text(encoding="utf-8")
    assert comment.startswith(f"<!-- reconciler-plan -->\n{markdown}")
