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


class _Events:
    def __init__(self, text: str) -> None:
        self.parser: Any = _CParser(text)
        self.resolver: Any = Resolver()
        self.constructor: Any = SafeConstructor()
        self.positions = Positions()

    def document(self) -> tuple[Any, Positions]:
        """The stream's one document (``None`` for an empty stream)."""
        if type(self.next()) is not StreamStartEvent:
            raise _FallbackError
        event = self.next()
        if type(event) is StreamEndEvent:
            return None, self.positions
        if type(event) is not DocumentStartEvent:
            raise _FallbackError
        value = self.value(self.next(), (), 0)
        if type(self.next()) is not DocumentEndEvent or type(self.next()) is not StreamEndEvent:
            raise _FallbackError  # a second document: the careful path names the error
        return value, self.positions

    def next(self) -> Any:
        return self.parser.get_event()

    def value(self, event: Any, path: Path, depth: int) -> Any:
        mark = event.start_mark
        self.positions.values[path] = Mark(mark.line + 1, mark.column + 1)
        if getattr(event, "anchor", None) is not None or depth > MAX_DEPTH:
            raise _FallbackError
        kind = type(event)
        if kind is ScalarEvent:
            return self.scalar(event)
        if kind is MappingStartEvent:
            if event.tag not in _IMPLICIT and event.tag != _T + "map":
                raise _FallbackError
            return self.mapping(path, depth)
        if kind is SequenceStartEvent:
            if event.tag not in _IMPLICIT and event.tag != _T + "seq":
                raise _FallbackError
            items: list[Any] = []
            event = self.next()
            while type(event) is not SequenceEndEvent:
                items.append(self.value(event, (*path, len(items)), depth + 1))
                event = self.next()
            return items
        raise _FallbackError  # an alias

    def mapping(self, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        keys = self.positions.keys
        event = self.next()
        while type(event) is not MappingEndEvent:
            if type(event) is not ScalarEvent or event.anchor is not None:
                raise _FallbackError
            key = event.value
            if key in result or key == "<<" or event.tag not in _IMPLICIT:
                raise _FallbackError
            mark: Any = event.start_mark
            keys[(*path, key)] = Mark(mark.line + 1, mark.column + 1)
            result[key] = self.value(self.next(), (*path, key), depth + 1)
            event = self.next()
        return result

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag in _IMPLICIT:
            if event.style:  # quoted or block: a string (libyaml gives plain scalars the style '')
                return event.value
            tag = self.resolver.resolve(ScalarNode, event.value, event.implicit)
        if tag == _STR:
            return event.value
        if tag not in _SCALAR_TAGS:
            raise _FallbackError
        node = ScalarNode(tag, event.value, None, None, event.style)
        try:
            return self.constructor.construct_object(node)
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
