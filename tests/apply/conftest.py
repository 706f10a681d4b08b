"""Apply tests: every session a test opened is closed after it (no client left to the garbage collector)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.apply.sandbox_helpers import OPENED


@pytest.fixture(autouse=True)
def _close_sessions() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()
