"""policy-apply.yml's shell steps: find the reviewed plan, decide about a new plan, the apply comment.

Run with bash as a runner would. ``gh`` is a fake that answers ``gh api`` from canned GitHub responses and
runs the steps' ``--jq`` filters through the real jq, as gh does; the artifact is a real zip. The reconciler
commands of the same workflow run against the sandbox in test_workflow_commands.py.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.github.workflows import (
    gh_calls,
    install_fake_gh,
    install_fake_github,
    run_step,
    runner_env,
    step,
    step_env,
    workflow,
)

pytestmark = pytest.mark.skipif(shutil.which("jq") is None,
                                reason="jq (which gh --jq embeds) is not installed")

REPO_API = "repos/acme/confluence-policies"
SHA = "a1" * 20  # the pushed commit
HEAD = "b2" * 20  # the pull request's head commit
PLAN_RUN = "https://github.com/acme/confluence-policies/actions/runs/9001"
RUN_URL = "https://github.com/acme/confluence-policies/actions/runs/7"
PULLS = f"{REPO_API}/commits/{SHA}/pulls"
RUNS = (f"{REPO_API}/actions/workflows/policy-plan.yml/runs?head_sha={HEAD}&event=pull_request"
        "&status=completed&per_page=1")
ARTIFACTS = f"{REPO_API}/actions/runs/9001/artifacts?name=policy-plan"
ZIP = f"{REPO_API}/actions/artifacts/77/zip"
PLAN_JSON = '{"format_version": 1, "changes": []}\n'
FIND = "Find the merged pull request and its reviewed plan"


def _merged(number: int, merge_commit: str, head: str) -> dict[str, Any]:
    return {"number": number, "merged_at": "2026-12-02T10:00:00Z", "merge_commit_sha": merge_commit,
            "head": {"sha": head}}


def _github(tmp_path: Path, **override: Any) -> dict[str, Any]:
    """GitHub as it answers for a merged pull request #42 whose policy-plan run kept its plan."""
    artifact = tmp_path / "artifact.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("plan.json", PLAN_JSON)
        zf.writestr("plan.md", "### Plan\n")
    responses: dict[str, Any] = {
        PULLS: {"json": [
            {"number": 40, "merged_at": None, "merge_commit_sha": None, "head": {"sha": "c3" * 20}},
            _merged(41, "d4" * 20, "e5" * 20),  # an older pull request that also holds the commit
            _merged(42, SHA, HEAD),
        ]},
        RUNS: {"json": {"total_count": 1, "workflow_runs": [{"id": 9001, "head_sha": HEAD}]}},
        ARTIFACTS: {"json": {"total_count": 1,
                             "artifacts": [{"id": 77, "name": "policy-plan", "expired": False}]}},
        ZIP: {"file": str(artifact)},
    }
    for key, value in override.items():
        endpoint = {"pulls": PULLS, "runs": RUNS, "artifacts": ARTIFACTS, "zip": ZIP}[key]
        if value is None:
            responses.pop(endpoint)
        else:
            responses[endpoint] = value
    return responses


def _outputs(tmp_path: Path) -> dict[str, str]:
    text = (tmp_path / "github_output.txt").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines())


def _literal_env(item: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in item.get("env", {}).items() if "${{" not in str(value)}


def _find(tmp_path: Path, responses: dict[str, Any], event: str = "push") -> tuple[int, str, str]:
    item = step(workflow("policy-apply.yml"), "reviewed-plan", FIND)
    values = {**_literal_env(item), "GH_TOKEN": "ghs_fake", "EVENT_NAME": event, "SHA": SHA}
    path = install_fake_github(tmp_path / "bin", responses, tmp_path)
    env = runner_env(tmp_path, {**step_env(item, values), "FAKE_GITHUB_RESPONSES": str(path),
                                "GITHUB_SERVER_URL": "https://github.com"})
    result = run_step(item["run"], cwd=tmp_path, env=env)
    return result.returncode, result.stdout, result.stderr


def test_the_reviewed_plan_of_the_merged_pull_request_is_downloaded(tmp_path: Path) -> None:
    assert _find(tmp_path, _github(tmp_path)) == (0, f"reviewed plan of #42: {PLAN_RUN}\n", "")
    assert _outputs(tmp_path) == {"pr-number": "42", "plan-run": PLAN_RUN, "found": "true"}
    assert (tmp_path / "reviewed" / "plan.json").read_text(encoding="utf-8") == PLAN_JSON
    assert [call["argv"][1] for call in gh_calls(tmp_path)] == [PULLS, RUNS, ARTIFACTS, ZIP]


@pytest.mark.parametrize(
    ("override", "outputs"),
    [
        ({"pulls": {"json": []}},
         {"why": f"{SHA[:12]} was pushed without a merged pull request, so no plan was reviewed"}),
        ({"pulls": {"json": [{"number": 40, "merged_at": None, "merge_commit_sha": None,
                              "head": {"sha": HEAD}}]}},
         {"why": f"{SHA[:12]} was pushed without a merged pull request, so no plan was reviewed"}),
        ({"runs": {"json": {"total_count": 0, "workflow_runs": []}}},
         {"pr-number": "42",
          "why": f"no completed policy-plan.yml run for the head commit {HEAD[:12]} of #42"}),
        ({"artifacts": {"json": {"total_count": 0, "artifacts": []}}},
         {"pr-number": "42", "plan-run": PLAN_RUN,
          "why": f"the reviewed policy-plan.yml run {PLAN_RUN} has no policy-plan artifact"}),
        ({"artifacts": {"json": {"total_count": 1, "artifacts": [{"id": 77, "expired": True}]}}},
         {"pr-number": "42", "plan-run": PLAN_RUN,
          "why": f"the reviewed plan of {PLAN_RUN} has expired (kept 30 days)"}),
        ({"zip": "no plan.json"},
         {"pr-number": "42", "plan-run": PLAN_RUN,
          "why": f"the reviewed policy-plan.yml run {PLAN_RUN} made no plan.json (its plan failed: see that "
                 "run)"}),
    ],
    ids=["direct push", "only an unmerged pull request", "no policy-plan run", "artifact missing",
         "artifact expired", "the plan failed: no plan.json"],
)
def test_without_a_reviewed_plan_the_step_says_why_and_succeeds(
    tmp_path: Path, override: dict[str, Any], outputs: dict[str, str]
) -> None:
    if override.get("zip") == "no plan.json":
        only_md = tmp_path / "only-md.zip"
        with zipfile.ZipFile(only_md, "w") as zf:
            zf.writestr("plan.md", "### Confluence plan: no plan\n")
        override = {"zip": {"file": str(only_md)}}
    code, stdout, stderr = _find(tmp_path, _github(tmp_path, **override))
    assert (code, stdout, stderr) == (0, f"no reviewed plan: {outputs['why']}\n", "")
    assert _outputs(tmp_path) == {**outputs, "found": "false"} | {"why": outputs["why"]}
    assert not (tmp_path / "reviewed" / "plan.json").exists()


def test_run_by_hand_the_pull_request_is_found_but_its_plan_is_not_used(tmp_path: Path) -> None:
    code, stdout, _ = _find(tmp_path, _github(tmp_path), event="workflow_dispatch")
    why = "run by hand, so the merged policy is planned and applied as it is now"
    assert (code, stdout) == (0, f"no reviewed plan: {why}\n")
    assert _outputs(tmp_path) == {"pr-number": "42", "found": "false", "why": why}
    assert len(gh_calls(tmp_path)) == 1


def test_a_failed_look_up_fails_the_step_and_finds_nothing(tmp_path: Path) -> None:
    code, _, stderr = _find(tmp_path, _github(tmp_path, pulls=None))
    assert (code, stderr) == (1, "gh: Not Found (HTTP 404)\n")
    assert _outputs(tmp_path) == {}


def test_the_plan_artifact_the_step_looks_for_is_the_one_policy_plan_uploads() -> None:
    find = step(workflow("policy-apply.yml"), "reviewed-plan", FIND)
    upload = step(workflow("policy-plan.yml"), "plan", "Upload plan.json and plan.md")
    assert find["env"]["PLAN_ARTIFACT"] == upload["with"]["name"]
    assert find["env"]["PLAN_RETENTION_DAYS"] == str(upload["with"]["retention-days"])
    assert "plan.json" in upload["with"]["path"].split()
    assert find["env"]["PLAN_WORKFLOW"] == "policy-plan.yml"


# ------------------------------------------------------------------------------ a new plan: apply or stop

STALE = (f"the reviewed plan ([policy-plan run]({PLAN_RUN})) is stale: the policy or the site changed "
         "since it was made (the job log says what changed)")
HEAD_NOTE = ("**The reviewed plan was not applied:** {why}. The merged policy was planned again (the new "
             "plan is below).\n\n")
DISPATCH = ("Review the new plan, then run **policy-apply** by hand (Actions → policy-apply → Run workflow) "
            "to apply the merged policy.")
STOP = ("**Not applied:** an unreviewed plan is never applied on merge (the repository variable "
        f"`RECONCILER_STALE_PLAN` is `stop`). {DISPATCH}")
APPLY = ("Applying the new plan: it passes the safety checks and the repository variable "
         "`RECONCILER_STALE_PLAN` is `apply`.")
UNSAFE = (f"**Not applied:** the new plan fails a safety check (listed at its top). {DISPATCH} Tick "
          "**allow-unsafe** to apply it anyway.")
NO_CHANGES = "The new plan has no changes: the site already matches the merged policy. Nothing to apply."
STOPPED = ("::error title=policy-apply::the reviewed plan was not applied and neither was the new plan; see "
           "the job summary\n")
NEITHER = "::warning title=RECONCILER_STALE_PLAN::'always' is neither apply nor stop: stop\n"
PUSHED = f"{SHA[:12]} was pushed without a merged pull request, so no plan was reviewed"


def _decide(tmp_path: Path, **values: str) -> tuple[int, str, str]:
    item = step(workflow("policy-apply.yml"), "apply", "Decide whether to apply the new plan")
    defaults = {"WHY": "", "LOOKUP_RESULT": "success", "PLAN_RUN": PLAN_RUN, "REVIEWED_EXIT_CODE": "4",
                "PLAN_EXIT_CODE": "2", "STALE_PLAN": "", "EVENT_NAME": "push"}
    env = runner_env(tmp_path, step_env(item, {**defaults, **values}))
    result = run_step(item["run"], cwd=tmp_path, env=env)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("values", "expected", "then"),
    [
        ({}, (1, STOPPED, "stop"), STOP),
        ({"STALE_PLAN": "stop"}, (1, STOPPED, "stop"), STOP),
        ({"STALE_PLAN": "apply"}, (0, "", "true"), APPLY),
        ({"STALE_PLAN": "apply", "PLAN_EXIT_CODE": "1"}, (1, STOPPED, "stop"), UNSAFE),
        ({"PLAN_EXIT_CODE": "0"}, (0, "", "false"), NO_CHANGES),
        ({"STALE_PLAN": "always"}, (1, NEITHER + STOPPED, "stop"), STOP),
    ],
    ids=["stale, default: stop", "stale, stop", "stale, apply, safe: applied", "stale, apply, unsafe: stop",
         "stale, nothing to change", "a setting that is neither: stop"],
)
def test_a_stale_plan_is_planned_again_and_applied_only_when_safe_and_allowed(
    tmp_path: Path, values: dict[str, str], expected: tuple[int, str, str], then: str
) -> None:
    (tmp_path / "replan.json").write_text("{}", encoding="utf-8")
    code, stdout, apply = expected
    assert _decide(tmp_path, **values) == (code, stdout, "")
    assert _outputs(tmp_path) == {"apply": apply}
    note = (tmp_path / "replan-note.md").read_text(encoding="utf-8")
    assert note == HEAD_NOTE.format(why=STALE) + then + "\n"


@pytest.mark.parametrize(
    ("values", "why", "code", "then"),
    [
        ({"REVIEWED_EXIT_CODE": "", "WHY": PUSHED}, PUSHED, 1, STOP),
        ({"REVIEWED_EXIT_CODE": "", "WHY": "", "LOOKUP_RESULT": "failure"},
         "the reviewed plan could not be looked up (the reviewed-plan job: failure)", 1, STOP),
        ({"REVIEWED_EXIT_CODE": "", "WHY": "run by hand", "EVENT_NAME": "workflow_dispatch",
          "PLAN_EXIT_CODE": "1"},
         "run by hand", 0, "Run by hand: applying the new plan."),
    ],
    ids=["direct push: stop", "look-up failed: stop", "run by hand: applied (apply judges --allow-unsafe)"],
)
def test_without_a_reviewed_plan_the_new_plan_says_why(
    tmp_path: Path, values: dict[str, str], why: str, code: int, then: str
) -> None:
    (tmp_path / "replan.json").write_text("{}", encoding="utf-8")
    assert _decide(tmp_path, **values)[0] == code
    note = (tmp_path / "replan-note.md").read_text(encoding="utf-8")
    assert note == HEAD_NOTE.format(why=why) + then + "\n"


def test_a_new_plan_that_could_not_be_made_stops(tmp_path: Path) -> None:
    assert _decide(tmp_path, PLAN_EXIT_CODE="1", STALE_PLAN="apply") == (1, STOPPED, "")
    assert (tmp_path / "replan-note.md").read_text(encoding="utf-8") == HEAD_NOTE.format(why=STALE) + (
        "**Nothing was applied:** the merged policy could not be planned (exit code 1); see the job log.\n")


# ------------------------------------------------------------------------------ the apply comment

FOOTER = f"\n<sub>Apply of {SHA[:12]} · [job log and report artifact]({RUN_URL})</sub>\n"


def _report(tmp_path: Path, files: dict[str, str], **values: str) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    item = step(workflow("policy-apply.yml"), "apply", "Apply report and job summary")
    defaults = {"REVIEWED_EXIT_CODE": "", "APPLIED_EXIT_CODE": "", "PLAN_RUN": PLAN_RUN, "SHA": SHA,
                "RUN_URL": RUN_URL}
    env = runner_env(tmp_path, step_env(item, {**defaults, **values}))
    result = run_step(item["run"], cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    comment = (tmp_path / "apply-comment.md").read_text(encoding="utf-8")
    assert (tmp_path / "step_summary.md").read_text(encoding="utf-8") == comment
    return comment


def test_a_fresh_reviewed_plan_applied_is_reported_with_a_link_to_it(tmp_path: Path) -> None:
    comment = _report(tmp_path, {"apply.md": "### Apply to `x`\n\n1 done\n"}, REVIEWED_EXIT_CODE="0")
    assert comment == (
        "<!-- reconciler-apply -->\n"
        f"Applied the plan reviewed in [this policy-plan run]({PLAN_RUN}): the merged policy and the site "
        "still gave exactly that plan.\n\n### Apply to `x`\n\n1 done\n" + FOOTER
    )


def test_a_stale_plan_stopped_posts_why_and_the_new_plan(tmp_path: Path) -> None:
    note = HEAD_NOTE.format(why=STALE) + "**Not applied:** ...\n"
    files = {"apply.md": "", "replan-note.md": note, "replan.md": "### Plan: 1 to change\n"}
    comment = _report(tmp_path, files, REVIEWED_EXIT_CODE="4")
    assert comment == (f"<!-- reconciler-apply -->\n{note}\n\n#### The new plan\n\n### Plan: 1 to change\n"
                       + FOOTER)


def test_a_new_plan_applied_is_reported_with_why_then_the_report_then_the_plan(tmp_path: Path) -> None:
    note = HEAD_NOTE.format(why=STALE) + "Applying the new plan: ...\n"
    comment = _report(tmp_path, {"apply.md": "### Apply to `x`\n", "replan-note.md": note,
                                 "replan.md": "### Plan\n"}, REVIEWED_EXIT_CODE="4", APPLIED_EXIT_CODE="0")
    assert comment == (f"<!-- reconciler-apply -->\n{note}\n### Apply to `x`\n\n"
                       "#### The new plan\n\n### Plan\n" + FOOTER)


@pytest.mark.parametrize(
    ("values", "lead", "code"),
    [
        ({}, "", "none: validation failed or the step did not run"),
        ({"REVIEWED_EXIT_CODE": "1"},
         f"The plan reviewed in [this policy-plan run]({PLAN_RUN}) was not applied; see the job log.\n\n",
         "1"),
    ],
    ids=["validation failed", "the reviewed plan refused (unsafe, another site, edited)"],
)
def test_nothing_applied_says_so_with_the_exit_code(
    tmp_path: Path, values: dict[str, str], lead: str, code: str
) -> None:
    assert _report(tmp_path, {}, **values) == (
        f"<!-- reconciler-apply -->\n{lead}### Confluence apply: nothing applied\n\n"
        f"`reconciler apply` produced no report (exit code {code}); see the job log.\n" + FOOTER
    )


def test_an_oversized_apply_comment_is_cut_below_github_s_limit(tmp_path: Path) -> None:
    lines = [f"- `~` ENG group:team-{n:05d}: Viewer -> Collaborator" for n in range(4000)]
    comment = _report(tmp_path, {"apply.md": "### Apply\n" + "\n".join(lines) + "\n"}, REVIEWED_EXIT_CODE="0")
    assert len(comment) < 65_536
    assert comment.endswith("\n\n**Cut to fit a comment.** The full reports are in the policy-apply artifact "
                            f"of [this run]({RUN_URL}).\n")
    kept = [line for line in comment.splitlines() if line.startswith("- ")]
    assert kept == lines[: len(kept)], "the cut falls between lines"


@pytest.mark.parametrize(
    ("found", "expected", "message"),
    [
        ("991", ["api", "--method", "PATCH", f"{REPO_API}/issues/comments/991", "-F",
                 "body=@apply-comment.md"],
         "updated apply comment 991\n"),
        ("", ["api", "--method", "POST", f"{REPO_API}/issues/42/comments", "-F", "body=@apply-comment.md"],
         "created the apply comment\n"),
    ],
    ids=["re-run: updated in place", "first apply: created"],
)
def test_the_apply_report_is_one_comment_on_the_pull_request(
    tmp_path: Path, found: str, expected: list[str], message: str
) -> None:
    (tmp_path / "apply-comment.md").write_text("<!-- reconciler-apply -->\nthe report\n", encoding="utf-8")
    item = step(workflow("policy-apply.yml"), "report", "Create or update the apply comment")
    env = runner_env(tmp_path, {**step_env(item, {"GH_TOKEN": "ghs_fake", "PR_NUMBER": "42"}),
                                "FAKE_GH_FOUND": found})
    install_fake_gh(tmp_path / "bin")
    result = run_step(item["run"], cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, message, "")
    lookup = ["api", "--paginate", f"{REPO_API}/issues/42/comments", "--jq",
              '.[] | select(.user.type == "Bot" and (.body | contains("<!-- reconciler-apply -->"))) | .id']
    assert gh_calls(tmp_path) == [
        {"argv": lookup, "body": None},
        {"argv": expected, "body": "<!-- reconciler-apply -->\nthe report\n"},
    ]
