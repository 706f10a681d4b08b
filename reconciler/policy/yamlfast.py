"""The fast path of ``yamlpos.parse_yaml``: values and positions built straight from libyaml's events.

A policy of 10,000 space files is half a million YAML nodes; PyYAML's Python scanner, parser and composer
spent most of a 15 s load on them. Here libyaml (PyYAML's C ``CParser``) scans and parses, and the values
and their ``line:column`` are built from its events without composing nodes first.

It covers what policy files are made of: mappings, sequences and scalars with the standard tags. For
anything else it returns ``None`` and ``yamlpos`` parses the text again the careful way, which gives the
same values and positions and PyYAML's own messages: an anchor or alias, a merge key, an explicit tag, a
duplicate key, nesting deeper than the limit, a second document, any error, and a tab or a character
PyYAML refuses (libyaml is more lenient there). ``tests/policy/test_yamlfast.py`` holds both paths equal
on every example policy file and on generated documents.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode
from yaml.reader import Reader
from yaml.resolver import Resolver

from reconciler.policy.yamlpos import MAX_DEPTH, Mark, Path, Positions

_CParser: Any
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None

_T = "tag:yaml.org,2002:"
_STR = _T + "str"
_SCALAR_TAGS = frozenset(_T + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_IMPLICIT = (None, "!")


class _FallbackError(Exception):
    """Not for the fast path: parse the careful way."""


# PyYAML's implicit scalar resolvers by first character (what ``Resolver.resolve`` looks up), wildcards
# appended; a plain scalar whose first character has none is a string.
_WILDCARD = tuple(Resolver.yaml_implicit_resolvers.get(None, []))
_RESOLVERS: dict[str, tuple[Any, ...]] = {
    first: (*resolvers, *_WILDCARD) for first, resolvers in Resolver.yaml_implicit_resolvers.items()
    if first is not None
}


class _Events:
    def __init__(self, text: str) -> None:
        self.parser: Any = _CParser(text)
        self.constructor: Any = SafeConstructor()
        self.positions = Positions()

    def document(self) -> tuple[Any, Positions]:
        """The stream's one document (``None`` for an empty stream)."""
        get = self.parser.get_event
        if type(get()) is not StreamStartEvent:
            raise _FallbackError
        event = get()
        if type(event) is StreamEndEvent:
            return None, self.positions
        if type(event) is not DocumentStartEvent:
            raise _FallbackError
        value = self.build()
        if type(get()) is not DocumentEndEvent or type(get()) is not StreamEndEvent:
            raise _FallbackError  # a second document: the careful path names the error
        return value, self.positions

    def build(self) -> Any:  # noqa: PLR0912, PLR0915 - one loop over the events, kept flat for speed
        """The document's root value, read event by event (no recursion, no nodes).

        Containers are attached to their parent when they start; ``frames`` holds the open ones.
        """
        get = self.parser.get_event
        values, keys = self.positions.values, self.positions.keys
        frames: list[tuple[Any, Path, bool]] = []  # (container, its path, is a mapping)
        root: Any = None
        container: Any = None
        is_map = False
        key: Any = None
        event: Any = get()
        while True:
            kind = type(event)
            if frames:
                container, at, is_map = frames[-1]
                if kind is MappingEndEvent or kind is SequenceEndEvent:
                    frames.pop()
                    if not frames:
                        return root
                    event = get()
                    continue
                if is_map:
                    if kind is not ScalarEvent or event.anchor is not None or event.tag not in _IMPLICIT:
                        raise _FallbackError
                    key = event.value
                    if key in container or key == "<<":
                        raise _FallbackError
                    mark = event.start_mark
                    path: Path = (*at, key)
                    keys[path] = Mark(mark.line + 1, mark.column + 1)
                    event = get()
                    kind = type(event)
                else:
                    path = (*at, len(container))
            else:
                path = ()
            mark = event.start_mark
            values[path] = Mark(mark.line + 1, mark.column + 1)
            if event.anchor is not None or len(frames) > MAX_DEPTH:  # an alias has an anchor too
                raise _FallbackError
            if kind is ScalarEvent:
                value = _scalar(event, self.constructor)
            elif kind is MappingStartEvent:
                if event.tag not in _IMPLICIT and event.tag != _T + "map":
                    raise _FallbackError
                value = {}
            elif kind is SequenceStartEvent:
                if event.tag not in _IMPLICIT and event.tag != _T + "seq":
                    raise _FallbackError
                value = []
            else:
                raise _FallbackError
            if not frames:
                root = value
            elif is_map:
                container[key] = value
            else:
                container.append(value)
            if kind is not ScalarEvent:
                frames.append((value, path, kind is MappingStartEvent))
            elif not frames:
                return root
            event = get()


def _scalar(event: Any, constructor: Any) -> Any:
    tag, value = event.tag, event.value
    if tag in _IMPLICIT:
        if event.style or not event.implicit[0]:  # quoted or block (libyaml's plain style is '')
            return value
        for resolved, pattern in _RESOLVERS.get(value[:1], _WILDCARD):
            if pattern.match(value):
                tag = resolved
                break
        else:
            return value
    if tag == _STR:
        return value
    if tag not in _SCALAR_TAGS:
        raise _FallbackError
    try:
        return constructor.construct_object(ScalarNode(tag, value, None, None, event.style))
    except (yaml.YAMLError, ValueError, OverflowError, TypeError):
        raise _FallbackError from None


def fast_parse(text: str) -> tuple[Any, Positions] | None:
    """``(value, positions)`` of a plain policy document, or ``None``: parse it the careful way."""
    if _CParser is None or "\t" in text or Reader.NON_PRINTABLE.search(text):
        return None  # libyaml accepts tabs as separators and some characters PyYAML refuses
    try:
        events = _Events(text)
        return events.document()
    except (_FallbackError, yaml.YAMLError, RecursionError, ValueError, UnicodeError):
        return None
