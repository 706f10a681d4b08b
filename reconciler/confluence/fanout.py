"""Run one read per item side by side on a bounded pool; the first failure stops the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_concurrently(fn: Callable[[T], R], items: Iterable[T], concurrency: int) -> list[R]:
    """``[fn(x) for x in items]`` on at most ``concurrency`` threads; the first error stops the rest."""
    work = list(items)
    if len(work) <= 1 or concurrency <= 1:
        return [fn(item) for item in work]
    stop = threading.Event()

    def guarded(item: T) -> R:
        if stop.is_set():
            raise _SkippedError
        try:
            return fn(item)
        except BaseException:
            stop.set()
            raise

    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(work)), thread_name_prefix="reconciler-read")
    interrupted = False
    try:
        futures = [pool.submit(guarded, item) for item in work]
        wait(futures, return_when=FIRST_EXCEPTION)
        error = _first_error(futures)
        if error is not None:
            raise error
        return [future.result() for future in futures]
    except KeyboardInterrupt:
        # Ctrl-C: nothing more starts, and the caller is not held until the reads under way end (one may be
        # waiting out a Retry-After); they only read, and ``reconciler`` ends with ``os._exit``
        interrupted = True
        stop.set()
        raise
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)


class _SkippedError(Exception):
    """Raised in a worker that started after another worker failed."""


def _first_error(futures: Sequence[Future[Any]]) -> BaseException | None:
    for future in futures:
        if future.done() and not future.cancelled():
            error = future.exception()
            if error is not None and not isinstance(error, _SkippedError):
                return error
    return None
