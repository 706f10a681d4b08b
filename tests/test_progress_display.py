"""The progress display: milestones off a terminal (only phases and waits of a second or more), one line
updated in place on a terminal with count, rate and what it waits for. Time comes from a fake clock."""

from __future__ import annotations

import io

from reconciler.commands.progress import Display


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_only_phases_and_waits_of_a_second_or_more_print_a_line() -> None:
    out, clock = io.StringIO(), Clock()
    display = Display(out, live=False, color=False, clock=clock)
    display("loading the policy")
    clock.now += 2.25
    display("reading the site's role mode")
    clock.now += 0.2  # short: nothing
    display("reading 10000 spaces")
    display.waiting(0.5, "rate limited (429)")  # short: nothing
    display.waiting(12, "rate limited (429)")
    for done in (1, 5000, 10000):
        display.count(done, 10000, "spaces")
    clock.now += 58.25
    display("planning")
    clock.now += 0.5
    display.close()
    assert out.getvalue() == (
        "  loading the policy: 2.2 s\n"
        "  waiting 12 s: rate limited (429)\n"
        "  read 10000 spaces in 58.2 s (172/s)\n"
    )


def test_on_a_terminal_one_task_shows_the_count_the_rate_and_the_wait() -> None:
    out, clock = io.StringIO(), Clock()
    display = Display(out, live=True, color=False, clock=clock)
    assert display.live
    display("reading 200 spaces")
    clock.now += 2
    display.count(50, 200, "spaces")
    display.waiting(12, "rate limited (429)")
    bar = display._bar
    assert bar is not None
    (task,) = bar.tasks
    assert (task.description, task.completed, task.total) == ("reading 200 spaces", 50, 200)
    assert task.fields == {"counted": "50/200 spaces", "rate": "25/s",
                           "status": "waiting 12 s: rate limited (429)"}
    display("planning")
    (task,) = bar.tasks
    assert (task.description, task.total, task.fields["counted"]) == ("planning", None, "")
    display.close()
    assert not display.live


def test_site_text_in_a_phase_is_shown_as_data() -> None:
    out, clock = io.StringIO(), Clock()
    display = Display(out, live=False, color=False, clock=clock)
    display("reading [bold]x[/bold]\x1b[31m\nspace")
    clock.now += 1
    display.close()
    assert out.getvalue() == "  reading [bold]x[/bold]\\x1b[31m\\nspace: 1.0 s\n"


def test_a_step_that_ran_beside_the_phase_is_one_milestone_line_off_a_terminal_and_none_on_one() -> None:
    out, clock = io.StringIO(), Clock()
    display = Display(out, live=False, color=False, clock=clock)
    display("reading 10000 spaces")  # the site is read while the policy loads
    display.note("loaded the policy", 9.24)
    display.note("loaded the policy", 0.4)  # short: nothing
    clock.now += 0.5
    display.close()
    assert out.getvalue() == "  loaded the policy in 9.2 s\n"

    live = io.StringIO()
    shown = Display(live, live=True, color=False, clock=clock)
    shown.note("loaded the policy", 9.24)
    shown.close()
    assert "loaded the policy" not in live.getvalue()
