"""Errors that teach: each common mistake's message says how to fix it, and every problem of a policy
(all files, every entry) is reported in one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import PolicyError
from reconciler.policy.loader import load_policy
from tests.policy.conftest import write_policy


def _problems(files: dict[str, str]) -> list[str]:
    write_policy(Path("p"), files)
    with pytest.raises(PolicyError) as exc:
        load_policy("p")
    return [str(problem) for problem in exc.value.problems]


def test_a_principal_one_level_too_far_left_is_told_to_indent_under_assign(in_tmp: Path) -> None:
    problems = _problems({"spaces/ENG.yaml": "spaces:\n  ENG:\n    assign:\n    group:eng: Viewer\n"})
    assert ("p/spaces/ENG.yaml:4:5: spaces.ENG: unknown key 'group:eng'; is it mis-indented? indent it "
            "under `assign:` (or `grants:`)") in problems


def test_a_value_starting_with_at_is_told_to_be_quoted_with_the_value_itself(in_tmp: Path) -> None:
    problems = _problems({"spaces/OPS.yaml": "spaces:\n  OPS:\n    assign:\n      group:ops: @admins  # x\n"})
    assert problems == [
        ("p/spaces/OPS.yaml:4:18: invalid YAML: found character '@' that cannot start any token (while "
         "scanning for the next token); a value starting with @ must be quoted: '@admins'")
    ]


def test_an_unknown_person_is_told_where_to_add_it(in_tmp: Path) -> None:
    problems = _problems({"spaces/FIN.yaml": "spaces:\n  FIN:\n    assign:\n      user:zed: Viewer\n"})
    assert ("p/spaces/FIN.yaml:4:7: spaces.FIN.assign: unknown person 'zed'; add it under `people:` in "
            "p/people.yaml (handle: account id)") in problems


def test_every_problem_of_every_entry_comes_in_one_run(in_tmp: Path) -> None:
    problems = _problems({
        "spaces/FIN.yaml": "spaces:\n  FIN:\n    assign:\n      user:zed: Viewer\n      group:fin: Viewr\n",
        "spaces/OPS.yaml": "spaces:\n  OPS:\n    assign:\n      group:ops: @admins\n",
    })
    where = [p.split(": ", 1)[0] for p in problems]
    assert {"p/spaces/FIN.yaml:4:7", "p/spaces/FIN.yaml:5:18", "p/spaces/OPS.yaml:4:18"} <= set(where)
