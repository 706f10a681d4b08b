"""The shell steps of the workflows and of the action, run with bash as a runner would, GitHub faked.

``gh`` is a fake that logs its calls; the runner's files (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, ...) are
temporary files. The reconciler commands themselves run for real in test_workflow_commands.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.github.workflows import (
    action_step,
    gh_calls,
    install_fake_gh,
    run_step,
    runner_env,
    step,
    step_env,
    workflow,
)

RUN_URL = "https://github.com/acme/confluence-policies/actions/runs/7"
PLAN_BODY_STEP = ("policy-plan.yml", "plan", "Comment body and job summary")
STICKY_STEP = ("policy-plan.yml", "comment", "Create or update the plan comment")
DRIFT_BODY_STEP = ("policy-drift.yml", "drift", "Issue body and job summary")
DRIFT_ISSUE_STEP = ("policy-drift.yml", "issue", "Sync the drift issue")
VALUES = {
    "PLAN_EXIT_CODE": "0",
    "HEAD_SHA": "0123456789abcdef0123",
    "RUN_URL": RUN_URL,
    "GH_TOKEN": "ghs_faketoken",
    "GH_REPO": "acme/confluence-policies",
    "PR_NUMBER": "42",
    "DRIFT_EXIT_CODE": "2",
}


def _run(where: tuple[str, str, str], tmp_path: Path, **values: str) -> tuple[int, str, str]:
    doc_step = step(workflow(where[0]), where[1], where[2])
    env = runner_env(tmp_path, step_env(doc_step, {**VALUES, **values}))
    install_fake_gh(tmp_path / "bin")
    result = run_step(doc_step["run"], cwd=tmp_path, env=env)
    return result.returncode, result.stdout, result.stderr


def _summary(tmp_path: Path) -> str:
    return (tmp_path / "step_summary.md").read_text(encoding="utf-8")


def test_plan_comment_starts_with_the_hidden_marker_and_fills_the_job_summary(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("### Plan: 1 to assign\n\n+ ENG group:x Viewer\n", encoding="utf-8")
    assert _run(PLAN_BODY_STEP, tmp_path) == (0, "", "")
    expected = (
        "<!-- reconciler-plan -->\n### Plan: 1 to assign\n\n+ ENG group:x Viewer\n\n"
        f"<sub>Plan of 0123456789ab · [job log and plan.json artifact]({RUN_URL})</sub>\n"
    )
    assert (tmp_path / "plan-comment.md").read_text(encoding="utf-8") == expected
    assert _summary(tmp_path) == expected


def test_plan_comment_without_a_plan_says_why(tmp_path: Path) -> None:
    assert _run(PLAN_BODY_STEP, tmp_path, PLAN_EXIT_CODE="")[0] == 0
    assert (tmp_path / "plan-comment.md").read_text(encoding="utf-8") == (
        "<!-- reconciler-plan -->\n### Confluence plan: no plan\n\n"
        "`reconciler plan` did not produce a plan (exit code none: validation failed).\n"
        "The errors are annotated on the files and in the job log.\n\n"
        f"<sub>Plan of 0123456789ab · [job log and plan.json artifact]({RUN_URL})</sub>\n"
    )


def test_an_oversized_plan_comment_is_cut_below_the_limit_and_points_to_the_artifact(tmp_path: Path) -> None:
    lines = [f"- `ENG` group:team-{n:05d} Viewer → none" for n in range(4000)]
    plan = "### Plan: 4000 to remove\n" + "\n".join(lines) + "\n"
    (tmp_path / "plan.md").write_text(plan, encoding="utf-8")
    assert _run(PLAN_BODY_STEP, tmp_path)[0] == 0
    body = (tmp_path / "plan-comment.md").read_text(encoding="utf-8")
    assert len(body) < 65_535
    assert body.startswith("<!-- reconciler-plan -->\n### Plan: 4000 to remove\n- `ENG` group:team-00000")
    assert body.endswith(
        "\n\n**Cut to fit a comment.** The full plan is in the policy-plan artifact of "
        f"[this run]({RUN_URL}).\n"
    )
    kept = [line for line in body.splitlines() if line.startswith("- ")]
    assert kept == lines[: len(kept)], "the cut falls between lines, never inside one"


@pytest.mark.parametrize(
    ("found", "expected_call", "message"),
    [
        ("991", ["api", "--method", "PATCH", "repos/acme/confluence-policies/issues/comments/991",
                 "-F", "body=@plan-comment.md"], "updated plan comment 991\n"),
        ("", ["api", "--method", "POST", "repos/acme/confluence-policies/issues/42/comments",
              "-F", "body=@plan-comment.md"], "created the plan comment\n"),
    ],
    ids=["a plan comment exists: updated in place", "no plan comment yet: created"],
)
def test_the_plan_comment_is_sticky(
    tmp_path: Path, found: str, expected_call: list[str], message: str
) -> None:
    (tmp_path / "plan-comment.md").write_text("<!-- reconciler-plan -->\nthe plan\n", encoding="utf-8")
    env_found = {"FAKE_GH_FOUND": found}
    doc_step = step(workflow(STICKY_STEP[0]), STICKY_STEP[1], STICKY_STEP[2])
    env = runner_env(tmp_path, {**step_env(doc_step, VALUES), **env_found})
    install_fake_gh(tmp_path / "bin")
    result = run_step(doc_step["run"], cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, message, "")
    lookup = [
        "api", "--paginate", "repos/acme/confluence-policies/issues/42/comments", "--jq",
        '.[] | select(.user.type == "Bot" and (.body | contains("<!-- reconciler-plan -->"))) | .id',
    ]
    assert gh_calls(tmp_path) == [
        {"argv": lookup, "body": None},
        {"argv": expected_call, "body": "<!-- reconciler-plan -->\nthe plan\n"},
    ]


def test_drift_issue_body_carries_its_marker_and_fills_the_job_summary(tmp_path: Path) -> None:
    (tmp_path / "drift.md").write_text("### Drift: 2 spaces differ\n", encoding="utf-8")
    assert _run(DRIFT_BODY_STEP, tmp_path) == (0, "", "")
    expected = (
        "<!-- reconciler-drift -->\n### Drift: 2 spaces differ\n\n"
        f"<sub>[Drift run and report artifact]({RUN_URL})</sub>\n"
    )
    assert (tmp_path / "drift-issue.md").read_text(encoding="utf-8") == expected
    assert _summary(tmp_path) == expected


LABEL = [
    "label", "create", "drift", "--color", "D93F0B", "--force",
    "--description", "The Confluence site differs from policies/ (opened by policy-drift)",
]
LIST = ["issue", "list", "--label", "drift", "--state", "open", "--limit", "1", "--json", "number", "--jq",
        ".[].number"]
BODY = "<!-- reconciler-drift -->\ndrift\n"


@pytest.mark.parametrize(
    ("exit_code", "open_issue", "then", "stdout"),
    [
        ("2", "", [["issue", "create", "--title", "Confluence permissions drift", "--label", "drift",
                    "--body-file", "drift-issue.md"]], ""),
        ("2", "17", [["issue", "edit", "17", "--body-file", "drift-issue.md"]], "updated drift issue #17\n"),
        ("0", "17", [["issue", "close", "17", "--comment",
                      f"No drift found by [this run]({RUN_URL}): closing."]],
         "closed drift issue #17\n"),
        ("0", "", [], "no drift, no open drift issue\n"),
    ],
    ids=["drift, no issue: opened", "drift, issue open: updated", "no drift, issue open: closed",
         "no drift, no issue: nothing"],
)
def test_one_drift_issue_is_opened_updated_or_closed(
    tmp_path: Path, exit_code: str, open_issue: str, then: list[list[str]], stdout: str
) -> None:
    (tmp_path / "drift-issue.md").write_text(BODY, encoding="utf-8")
    doc_step = step(workflow(DRIFT_ISSUE_STEP[0]), DRIFT_ISSUE_STEP[1], DRIFT_ISSUE_STEP[2])
    env = runner_env(tmp_path, {**step_env(doc_step, {**VALUES, "DRIFT_EXIT_CODE": exit_code}),
                                "FAKE_GH_FOUND": open_issue})
    install_fake_gh(tmp_path / "bin")
    result = run_step(doc_step["run"], cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, stdout, "")
    calls = gh_calls(tmp_path)
    assert [c["argv"] for c in calls] == [LABEL, LIST, *then]
    assert [c["body"] for c in calls[2:]] == [BODY if "--body-file" in argv else None for argv in then]


# ------------------------------------------------------------------------------ the composite action


def logged_report(stdout: str) -> str:
    """The report as the action echoes it: between ``::stop-commands::<token>`` and ``::<token>::``."""
    match = re.fullmatch(r"::stop-commands::([0-9a-f]{32})\n(.*)::\1::\n", stdout, re.DOTALL)
    assert match, f"the report is not fenced off from workflow commands: {stdout!r}"
    return match.group(2)

FAKE_RECONCILER = '''\
import os, sys
print("argv=" + " ".join(sys.argv[1:]))
for name in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "NO_COLOR"):
    print(f"{name}={'set' if name in os.environ else 'unset'}")
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
'''


def _run_action(tmp_path: Path, inputs: dict[str, str], env: dict[str, str]) -> tuple[int, str, str]:
    fake = tmp_path / "bin" / "fake_reconciler.py"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(FAKE_RECONCILER, encoding="utf-8")
    launcher = tmp_path / "bin" / "reconciler"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake}" "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    doc_step = action_step("reconciler ${{ inputs.command }}")
    values = {
        "RECONCILER_COMMAND": inputs["command"],
        "RECONCILER_ARGS": inputs.get("args", ""),
        "RECONCILER_OUTPUT": inputs.get("output", ""),
        "RECONCILER_OK_EXIT_CODES": inputs.get("ok-exit-codes", "0"),
        "NO_COLOR": "1",
    }
    result = run_step(doc_step["run"], cwd=tmp_path, env={**runner_env(tmp_path, values), **env})
    return result.returncode, result.stdout, (tmp_path / "github_output.txt").read_text(encoding="utf-8")


def test_the_action_runs_the_command_with_split_args_and_saves_the_report(tmp_path: Path) -> None:
    code, stdout, outputs = _run_action(
        tmp_path,
        {"command": "plan", "args": "policies  --out plan.json --format markdown", "output": "plan.md"},
        {"CONFLUENCE_URL": "", "CONFLUENCE_EMAIL": "svc@example.com", "CONFLUENCE_API_TOKEN": "tok"},
    )
    report = (
        "argv=plan policies --out plan.json --format markdown\nCONFLUENCE_URL=unset\nCONFLUENCE_EMAIL=set\n"
        "CONFLUENCE_API_TOKEN=set\nNO_COLOR=set\n"
    )
    assert (code, outputs) == (0, "exit-code=0\noutput=plan.md\n")
    assert (tmp_path / "plan.md").read_text(encoding="utf-8") == report
    assert logged_report(stdout) == report


@pytest.mark.parametrize(
    ("exit_code", "ok", "step_code"),
    [("2", "0 2", 0), ("2", "0", 2), ("1", "0 2", 1), ("0", "0", 0)],
    ids=["drift found, allowed", "changes, not allowed", "error", "success"],
)
def test_the_action_fails_the_step_only_on_exit_codes_not_declared_ok(
    tmp_path: Path, exit_code: str, ok: str, step_code: int
) -> None:
    code, stdout, outputs = _run_action(
        tmp_path, {"command": "drift", "args": "policies", "ok-exit-codes": ok}, {"FAKE_EXIT": exit_code}
    )
    assert (code, outputs) == (step_code, f"exit-code={exit_code}\noutput=\n")
    error = f"::error title=reconciler drift::reconciler drift exited with code {exit_code}\n"
    assert stdout.endswith(error) == (step_code != 0)


def test_the_action_installs_once_per_job_and_puts_the_tool_on_path(tmp_path: Path) -> None:
    venv_bin = tmp_path / "runner_temp" / "reconciler-venv" / "bin"
    venv_bin.mkdir(parents=True)
    tool = venv_bin / "reconciler"
    tool.write_text('#!/bin/sh\necho "reconciler 0.1.0 ($*)"\n', encoding="utf-8")
    tool.chmod(0o755)
    doc_step = action_step("Install confluence-reconciler")
    env = runner_env(tmp_path, {"RECONCILER_VERSION": "", "GITHUB_ACTION_PATH": str(tmp_path / "nowhere")})
    result = run_step(doc_step["run"], cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout) == (0, "reconciler 0.1.0 (--version)\n"), result.stderr
    assert (tmp_path / "github_path.txt").read_text(encoding="utf-8") == f"{venv_bin}\n"
