"""The one read protocol of the Cloud backend: what every read needs of ``ConfluenceClient``.

``read.py`` (the live state), ``members.py`` (group members) and ``vocabulary_read.py`` (accounts, users,
the caller) all take a ``Reader``; a test fake can be one too. ``parse`` and ``convert`` turn a payload of
the wrong shape into an ``ApiError`` naming the call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, TypeVar, cast

from reconciler.confluence.wire import WireError, WireModel
from reconciler.errors import ApiError

T = TypeVar("T")
R = TypeVar("R")
W = TypeVar("W", bound=WireModel)


class Reader(Protocol):
    """What the read needs from ``ConfluenceClient`` (reads only); a test fake can be one too."""

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, *,
                 space: str | None = None) -> Any: ...

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *,
                 space: str | None = None) -> Iterator[dict[str, Any]]: ...

    def paginate_v1(self, path: str, params: Mapping[str, Any] | None = None, *,
                    space: str | None = None) -> Iterator[dict[str, Any]]: ...

    def map_concurrently(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]: ...


def parse(model: type[W], data: Any, path: str, space: str | None) -> W:
    """A payload as its wire model; a payload of the wrong shape is an ``ApiError`` naming the call."""
    try:
        return cast(W, model.parse(data))
    except WireError as exc:
        raise ApiError("GET", path, 200, str(exc), space=space) from None


def convert(to_model: Callable[[], R], path: str, space: str | None) -> R:
    """``to_model()`` of a parsed payload; a value it cannot convert (an unknown role mode) is an
    ``ApiError`` naming the call, like a payload of the wrong shape."""
    try:
        return to_model()
    except WireError as exc:
        raise ApiError("GET", path, 200, str(exc), space=space) from None
