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
  are all file names costs the same calls in the same number; the one exception is the accounts lookup
  (``user/bulk``): an exact policy's accounts are looked up as soon as it loaded, while the spaces are
  still read (not when the spaces read so far hold an account the policy does not name), so a site whose
  later spaces hold accounts the policy does not name (access granted by hand) costs one more call for
  those, at the end;
- a loaded policy whose site differs from the outline's (``site:`` edited while loading, a ``--space``
  scope the start did not fit) is read from the start, as before, and the head start is dropped;
- a backend that is not a ``SplitRead`` is read after the policy loads, as before (Cloud and Data Center
  both are).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

from reconciler.backend import FinishAhead, Progress, ReadRequest, ReadStart, SplitRead, StartedRead
from reconciler.flows.connect import Connection
from reconciler.live_state import LiveState
from reconciler.model import Authority, DesiredState
from reconciler.policy.outline import PolicyOutline

ABANDON_WAIT = 1.0  # seconds a stopped start part gets to end before the policy's error is raised
# seconds the loader waits for the start part to open the site (imports, the HTTP client, TLS settings:
# CPU that, shared with the loader's parsing under the GIL, took twice as long) before it goes on loading
OPEN_WAIT = 1.0
# seconds from the outline the loader waits, once the site is open, for the per-space reads to start: the
# site-wide reads before them (role mode, then roles, groups, key batches) are a chain of round trips, and
# each answer's reader waited for the GIL the loader held, so the first space read went out 176 ms after the
# first request instead of 121 ms (docs/performance.md, "Latest"). The load is off the critical path when
# the read it waits for is the longer; on a slow site it goes on after this long. Not with --space or
# selectors: those reads list or look up every space first, and the load would only wait (with --space on
# a large policy, the load is the longer part).
BEGUN_WAIT = 0.5
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
        self._site: object = None  # the backend the start part opened
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._opened = threading.Event()  # the start part opened the site (or failed to)
        self._begun = threading.Event()  # its per-space reads started (or it ended)
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
        began = time.monotonic()
        self._opened.wait(OPEN_WAIT)  # the first request goes out sooner; the load waits a moment for it
        if not (self._only or outline.selectors):  # the space reads follow the key batches at once
            self._begun.wait(max(0.0, BEGUN_WAIT - (time.monotonic() - began)))  # and the reads it leads to

    def _run(self, outline: PolicyOutline, start: ReadStart) -> None:
        try:
            try:
                site = self._connection.open(outline.url, read_only=True, platform=outline.platform,
                                             jsonrpc=outline.allow_jsonrpc, detect=outline.platform_auto)
            finally:
                self._opened.set()
            self._site = site
            if not isinstance(site, SplitRead):
                return
            site.on_wait(getattr(self._progress, "waiting", None))
            self._started = site.read_start(start, self._progress, stop=self._stop.is_set,
                                            spaces_begun=self._begun.set)
        except BaseException as err:  # noqa: BLE001 - raised by finish, once the policy loaded cleanly
            self._error = err
        finally:
            self._begun.set()
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
            begun = self._finish_ahead(desired, request)
            if meanwhile is not None and not self._ended.is_set():
                meanwhile()  # beside the read, like the load: the readers still get the GIL every 0.5 ms
            self._switches_restored()
            self._ended.wait()  # an event, not join: an interrupted join can mark a running thread stopped
            if self._error is None and (self._started is None or self._started.failure is None):
                begun.wait()  # the finish uses what it did; a failed read is raised without waiting for it
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


    def _finish_ahead(self, desired: DesiredState, request: ReadRequest) -> threading.Event:
        """Begin the finish while the spaces are still being read, when the backend can (``FinishAhead``):
        the spaces are converted as they arrive, not all after the last answer, and, when the policy is
        exact (``_whole_truth``), its accounts are looked up now, so the finish asks only for accounts seen
        live that the policy does not name, usually none, and the lookup's round trip does not follow the
        last space's (docs/performance.md). Set when done (at once when not begun); a failure is left to
        the finish, which does that part again."""
        done = threading.Event()
        site, start = self._site, self._start
        if (self._ended.is_set() or self._error is not None or not isinstance(site, FinishAhead)
                or start is None or not start.fits(request)
                or self._outline is None or not _same_site(self._outline, desired)):
            done.set()
            return done
        look_up = bool(request.accounts) and _whole_truth(desired)

        def begin() -> None:
            try:
                site.finish_ahead(request, look_up_accounts=look_up)
            except Exception:  # noqa: BLE001, S110 - the finish does it again, and raises its own failure
                pass
            finally:
                done.set()

        threading.Thread(target=begin, name="reconciler-finish-ahead", daemon=True).start()
        return done


def _whole_truth(desired: DesiredState) -> bool:
    """Whether the policy is the whole truth of every space it manages (``exact`` authority): the accounts
    its spaces hold are then the policy's, but for drift. Under an additive policy they are mostly not,
    the finish must ask for those anyway, and a lookup ahead would only add a call."""
    return desired.site.default_authority is Authority.EXACT and all(
        space.authority is Authority.EXACT for space in desired.spaces.values())


def _same_site(outline: PolicyOutline, desired: DesiredState) -> bool:
    site = desired.site
    return (outline.url, outline.platform, outline.platform_auto, outline.allow_jsonrpc) == (
        site.url, site.platform, site.platform_auto, site.allow_jsonrpc)
