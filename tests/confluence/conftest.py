"""Shared helpers for the client tests: a client whose sleeps are recorded, never slept."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.retry import RetryPolicy

SITE = "https://acme.atlassian.net"


class Sleeps(list[float]):
    """The delays a client asked to sleep, in order; ``now`` is a clock that only sleeping advances."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def now(self) -> float:
        return 1000.0 + sum(self)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=SITE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def make_client(sleeps: Sleeps) -> Iterator[Callable[..., ConfluenceClient]]:
    made: list[ConfluenceClient] = []

    def make(base_url: str = SITE, **kwargs: Any) -> ConfluenceClient:
        kwargs.setdefault("sleep", sleeps)
        kwargs.setdefault("clock", sleeps.now)
        kwargs.setdefault("rng", random.Random(7))
        kwargs.setdefault("retry", RetryPolicy())
        client = ConfluenceClient(base_url, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
