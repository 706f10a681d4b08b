"""``door``: every sandbox test that takes it runs through both front doors (transport and server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.doors import Door


@pytest.fixture(params=["transport", pytest.param("server", marks=pytest.mark.e2e)])
def door(request: pytest.FixtureRequest) -> Iterator[Door]:
    opened = Door(str(request.param))
    try:
        yield opened
    finally:
        opened.close()
