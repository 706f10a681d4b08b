"""``map_concurrently``: Ctrl-C does not wait for the reads under way (one may be out a ``Retry-After``)."""

from __future__ import annotations

import signal
import threading

import pytest

from reconciler.confluence.fanout import map_concurrently


def test_ctrl_c_while_reads_are_under_way_raises_at_once_without_waiting_for_them_to_end() -> None:
    release, started, ended = threading.Event(), threading.Event(), threading.Event()
    calls: list[int] = []

    def read(item: int) -> int:
        calls.append(item)
        started.set()
        release.wait(timeout=30)  # a read waiting for a slow site
        ended.set()
        return item

    def interrupt_once_reading() -> None:
        started.wait(timeout=30)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    sender = threading.Thread(target=interrupt_once_reading, daemon=True)
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            map_concurrently(read, range(10), 2)
        ended_before_the_caller_got_control = ended.is_set()
    finally:
        release.set()
    sender.join(timeout=30)
    assert not ended_before_the_caller_got_control
    assert len(calls) <= 2  # nothing queued started after Ctrl-C: only the two reads already under way
