"""Read the site while the policy loads (``reconciler plan``; docs/performance.md).

A 10,000-space policy takes seconds to load, and the read it leads to is mostly known before that: the
site is in ``site.yaml``, and most space keys are the names of the ``spaces/<KEY>.yaml`` files. The loader
reads the files outside ``spaces/`` first and hands their ``PolicyOutline`` to a ``ReadAhead``, which opens
the site and runs the start part of the read (``backend.SplitRead``: role mode, roles, catalogue, groups,
the key batches and each known space's assignments) on a worker thread while the ``spaces/`` files load.
Once the policy is loaded, ``finish`` makes the start part the live state of the policy's own request.

What does not change:

- a policy mistake is the one-line exit 1 it always was, and wins over a site error: a failure of the
  start part is raised only after the policy loaded cleanly; if the policy does not load, the start part
  is stopped and its outcome dropped, and the error is shown without waiting for a site that is slow to
  answer;
- any failure still means no plan, and nothing read for a key the loaded policy does not manage is
  planned (``StartedRead.finish`` drops it);
- the calls: the start part makes the calls the whole read would have made first, so a policy whose keys
  are all file names costs the same calls in the same number;
- a loaded policy whose site differs from the outline's (``site:`` edited while loading, a ``--space``
  scope the start did not fit) is read from the start, as before, and the head start is dropped;
- a backend that is not a ``SplitRead`` is read after the policy loads, as before (Cloud and Data Center
  both are).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from reconciler.backend import Progress, ReadRequest, ReadStart, SplitRead, StartedRead
from reconciler.flows.connect import Connection
from reconciler.live_state import LiveState
from reconciler.model import DesiredState
from reconciler.policy.outline import PolicyOutline

ABANDON_WAIT = 1.0  # seconds a stopped start part gets to end before the policy's error is raised
# seconds the loader waits for the start part to open the site (imports, the HTTP client, TLS settings:
# CPU that, shared with the loader's parsing under the GIL, took twice as long) before it goes on loading
OPEN_WAIT = 1.0
LOADING_SWITCH_INTERVAL = 0.0005  # seconds; Python's default is 0.005 (``sys.setswitchinterval``)

# start parts stopped while still running (each one's "ended" event): their reads (read-only) may be waiting
# for a slow site or out a Retry-After. The ``reconciler`` process does not wait for them (``__main__.run``
# ends with ``os._exit``); a library caller can ask (``abandoned_reads_running``). Not ``Thread.is_alive``:
# on Python 3.11 a join that Ctrl-C interrupts marks the thread stopped while it still runs.
_ABANDONED: list[threading.Event] = []


def abandoned_reads_running() -> bool:
    """Whether a stopped start part is still running (its reader threads would hold an interpreter's exit
    back: Python joins non-daemon threads at exit)."""
    return any(not ended.is_set() for ended in _ABANDONED)


class ReadAhead:
    """The loader's ``on_outline`` for one run: starts the read, then ``finish`` or ``abandon`` it."""

    def __init__(self, connection: Connection, *, only: tuple[str, ...] = (),
                 progress: Progress | None = None) -> None:
        self._connection = connection
        self._only = only
        self._progress = progress
        self._outline: PolicyOutline | None = None
        self._start: ReadStart | None = None
        self._started: StartedRead | None = None
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._opened = threading.Event()  # the start part opened the site (or failed to)
        self._ended = threading.Event()  # the start part returned (its reader threads ended with it)
        self._thread: threading.Thread | None = None
        self._interval: float | None = None  # the switch interval to restore (``_loading_switches``)

    def _loading_switches(self) -> None:
        """While the policy loads beside the read, the loader's thread gives the GIL up every
        ``LOADING_SWITCH_INTERVAL``: a reader thread whose answer arrived waits that long at most to take
        it, instead of Python's 5 ms, several times per answer (docs/performance.md, "Latest": the first
        second of the read). Only then: with only readers running, the shorter interval cost more than it
        saved."""
        if self._interval is None:
            self._interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._interval, LOADING_SWITCH_INTERVAL))

    def _switches_restored(self) -> None:
        if self._interval is not None:
            sys.setswitchinterval(self._interval)
            self._interval = None

    @property
    def running(self) -> bool:
        """Whether a start part was begun (a Cloud site, an outline the loader could give)."""
        return self._thread is not None

    def __call__(self, outline: PolicyOutline) -> None:
        self._loading_switches()
        self._outline = outline
        self._start = ReadStart(keys=outline.keys, only=self._only, list_all=outline.selectors)
        self._thread = threading.Thread(target=self._run, args=(outline, self._start),
                                        name="reconciler-read-ahead", daemon=True)
        self._thread.start()
        self._opened.wait(OPEN_WAIT)  # the first request goes out sooner; the load waits a moment for it

    def _run(self, outline: PolicyOutline, start: ReadStart) -> None:
        try:
            try:
                site = self._connection.open(outline.url, read_only=True, platform=outline.platform,
                                             jsonrpc=outline.allow_jsonrpc, detect=outline.platform_auto)
            finally:
                self._opened.set()
            if not isinstance(site, SplitRead):
                return
            site.on_wait(getattr(self._progress, "waiting", None))
            self._started = site.read_start(start, self._progress, stop=self._stop.is_set)
        except BaseException as err:  # noqa: BLE001 - raised by finish, once the policy loaded cleanly
            self._error = err
        finally:
            self._ended.set()

    def abandon(self, *, wait: bool = True) -> None:
        """The policy did not load: stop the start part and drop its outcome. With ``wait``, give it up to
        ``ABANDON_WAIT`` seconds to end (it stops between reads); a read still waiting for a slow site is
        not waited for: the policy's error is shown now, and the process does not wait for the read at exit
        (``abandoned_reads_running``)."""
        self._stop.set()
        self._switches_restored()
        if self._thread is None:
            return
        if not self._ended.is_set():
            _ABANDONED.append(self._ended)
        if wait:
            self._ended.wait(ABANDON_WAIT)

    def finish(self, desired: DesiredState, request: ReadRequest, *,
               meanwhile: Callable[[], None] | None = None) -> LiveState | None:
        """The live state of ``request`` for the loaded ``desired``, finishing the start part; None when
        there is none to finish (the caller reads the site as before). Raises the start part's failure.
        ``meanwhile``: run first when the start part is still reading (the caller's own preparation for
        what follows the read, done while the site is waited for instead of after)."""
        if self._thread is None:
            self._switches_restored()
            return None
        try:
            if meanwhile is not None and not self._ended.is_set():
                meanwhile()  # beside the read, like the load: the readers still get the GIL every 0.5 ms
            self._switches_restored()
            self._ended.wait()  # an event, not join: an interrupted join can mark a running thread stopped
        except BaseException:  # Ctrl-C while waiting: the reads stop
            self.abandon(wait=False)
            raise
        outline, start = self._outline, self._start
        if isinstance(self._error, KeyboardInterrupt):
            raise self._error
        if outline is None or start is None or not start.fits(request) or not _same_site(outline, desired):
            return None  # read from the start: the head start was for another site or scope
        if self._error is not None:
            raise self._error
        if self._started is None:
            return None
        return self._started.finish(request, self._progress)


def _same_site(outline: PolicyOutline, desired: DesiredState) -> bool:
    site = desired.site
    return (outline.url, outline.platform, outline.platform_auto, outline.allow_jsonrpc) == (
        site.url, site.platform, site.platform_auto, site.allow_jsonrpc)
