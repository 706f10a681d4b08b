"""``door``: every sandbox test that takes it runs through both front doors (transport and server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.site import Site
from tests.sandbox.doors import Door


@pytest.fixture(params=["transport", pytest.param("server", marks=pytest.mark.e2e)])
def door(request: pytest.FixtureRequest) -> Iterator[Door]:
    opened = Door(str(request.param))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def sandbox_site() -> Site:
    """The sandbox's own rule tests run on the plain demo (``demo+plain``: the documented model, ids from
    100001 up); the live vocabulary has tests of its own (test_live_vocabulary.py)."""
    return Site(seed_state("demo+plain"))
