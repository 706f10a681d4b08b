"""The progress display on stderr: one line updating in place on a terminal, a few milestones elsewhere.

The pipelines report through a plain callable (``progress("reading 10000 spaces")``: a new phase) and,
where they can, two more methods this display has: ``count(done, total, noun)`` and
``waiting(seconds, why)`` (the client calls it before a retry, so a rate limit is never a silent pause).

- On a terminal (rich, ``transient``): ``⠋ reading spaces  4,210/10,000  168/s  ETA 0:00:34`` and, while
  the client waits, ``waiting 12 s: rate limited (429)``. The line is removed when the command ends, so
  the report that follows starts clean.
- Elsewhere (CI, a pipe): no animation; a milestone line when a phase that took a second or more ends
  (``  read 10000 spaces in 58.2 s (172/s)``), and one line per wait of a second or more. A few lines.
- ``--no-progress``: nothing. ``NO_COLOR`` removes colour, not progress (https://no-color.org).

Benchmarks read the milestone lines to time the phases of a whole ``reconciler plan`` process.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

from reconciler.report.escape import data

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

MILESTONE_SECONDS = 1.0  # off a terminal, phases and waits shorter than this print nothing


class Display:
    """What the pipelines call; ``close()`` when the command is done (or use it as a context manager)."""

    def __init__(self, stream: TextIO, *, live: bool, color: bool, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._phase = ""
        self._started = clock()
        self._done = 0
        self._total = 0
        self._noun = ""
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if live:  # rich only on a terminal: in CI and pipes it is not imported (docs/performance.md)
            from rich.console import Console  # noqa: PLC0415 - 25-40 ms before the first request
            from rich.progress import (  # noqa: PLC0415
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            console = Console(file=stream, no_color=not color, highlight=False, force_terminal=True)
            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(bar_width=20),
                TextColumn("{task.fields[counted]}", markup=False), TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(), TextColumn("{task.fields[status]}", markup=False), console=console,
                transient=True,
            )
            self._task = self._bar.add_task("starting", total=None, counted="", rate="", status="")
            self._bar.start()

    @property
    def live(self) -> bool:
        """Whether this display updates one line in place (a terminal) rather than printing milestones."""
        return self._bar is not None

    # -------------------------------------------------------------------------- what pipelines call

    def __call__(self, message: str) -> None:
        """A new phase (``"reading the site's role mode"``)."""
        with self._lock:
            self._end_phase()
            self._phase, self._started = message, self._clock()
            self._done = self._total = 0
            self._noun = ""
            if self._bar is not None and self._task is not None:  # a new task: no count, no ETA yet
                self._bar.remove_task(self._task)
                self._task = self._bar.add_task(_plain(message), total=None, counted="", rate="", status="")

    def count(self, done: int, total: int, noun: str) -> None:
        """Progress within the phase: ``done`` of ``total`` ``noun`` (``"spaces"``)."""
        with self._lock:
            self._done, self._total, self._noun = done, total, noun
            if self._bar is not None and self._task is not None:
                rate = done / max(self._clock() - self._started, 1e-9)
                counted = f"{done:,}/{total:,} {noun}"
                self._bar.update(self._task, total=total, completed=done, counted=counted,
                                 rate=f"{rate:,.0f}/s", status="")

    def waiting(self, seconds: float, why: str) -> None:
        """The client waits ``seconds`` before a retry, because ``why`` (``"rate limited (429)"``)."""
        text = f"waiting {seconds:.0f} s: {why}" if seconds >= 1 else f"waiting {seconds:.1f} s: {why}"
        with self._lock:
            if self._bar is not None and self._task is not None:
                self._bar.update(self._task, status=text)
            elif seconds >= MILESTONE_SECONDS:
                self._line(text)

    def note(self, text: str, seconds: float) -> None:
        """A step that ran beside the current phase ended (``note("loaded the policy", 9.2)`` while the
        site is read): off a terminal, a milestone line when it took a second or more; on a terminal
        nothing, the line keeps showing the phase being waited on."""
        with self._lock:
            if self._bar is None and seconds >= MILESTONE_SECONDS:
                self._line(f"{text} in {seconds:.1f} s")

    def close(self) -> None:
        with self._lock:
            self._end_phase()
            self._phase = ""
            if self._bar is not None:
                self._bar.stop()
                self._bar = None

    def __enter__(self) -> Display:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ internals

    def _end_phase(self) -> None:
        if not self._phase or self._bar is not None:
            return
        seconds = self._clock() - self._started
        if seconds < MILESTONE_SECONDS:
            return
        if self._total:
            rate = self._done / max(seconds, 1e-9)
            self._line(f"read {self._done} {self._noun} in {seconds:.1f} s ({rate:,.0f}/s)")
        else:
            self._line(f"{self._phase}: {seconds:.1f} s")

    def _line(self, text: str) -> None:
        self._stream.write(f"  {_plain(text)}\n")
        self._stream.flush()


def _plain(text: str) -> str:
    """Site text is data: no control characters (report/escape.py), and never read as rich markup (the
    columns print it as plain text)."""
    return data(text)


def display(disabled: bool, env: Mapping[str, str], *, color_flag: bool = True,
            stream: TextIO | None = None) -> Display | None:
    """The display for a command, or None with ``--no-progress``."""
    if disabled:
        return None
    out = stream or sys.stderr
    tty = out.isatty() and not env.get("CI") and env.get("TERM") != "dumb"
    return Display(out, live=tty, color=tty and color_flag and not env.get("NO_COLOR"))
