"""Read one YAML file into plain Python values plus the position of every key and value.

PyYAML is used only to scan and compose nodes; the values are built here so that:

- every mapping key and every value remembers its ``line:column`` (1-based);
- a key repeated inside one mapping is an error (PyYAML would silently keep the last one);
- mapping keys are always read as text (``NO:`` or ``1:`` stay ``"NO"`` and ``"1"``);
- aliases are bounded: their expansion may add at most ``MAX_ALIAS_NODES`` nodes, so a small file cannot
  expand into a huge one (the "billion laughs"), and a recursive alias is an error;
- merge keys (``<<``), custom tags and nesting deeper than ``MAX_DEPTH`` are errors.

Problems are raised as ``PolicyError`` carrying exactly one ``Problem``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import PolicyError, Problem

MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 64

Path = tuple[str | int, ...]

_T = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_T + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_MAP_TAG = _T + "map"
_SEQ_TAG = _T + "seq"
_MERGE_TAG = _T + "merge"


_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Mark:
    line: int
    column: int


@dataclass(slots=True)
class Positions:
    """Where each value (and each mapping key) of one document starts, by path from the root."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def of(self, path: Path) -> Mark:
        """The key's position when ``path`` ends in a mapping key, else the value's, else a parent's."""
        for end in range(len(path), -1, -1):
            sub = path[:end]
            mark = self.keys.get(sub) or self.values.get(sub)
            if mark is not None:
                return mark
        return Mark(1, 1)

    def value(self, path: Path) -> Mark:
        """The value's own position (falls back like ``of``)."""
        return self.values.get(path) or self.of(path)


class _AliasNode:
    """Stands where an alias was written, so the alias keeps its own position."""

    __slots__ = ("start_mark", "target")

    def __init__(self, target: Node, start_mark: yaml.Mark) -> None:
        self.target = target
        self.start_mark = start_mark


class _AliasComposer(Composer):
    """PyYAML's composer, keeping an alias's own position (``_AliasNode``)."""

    aliased = False  # whether the document holds an alias (the alias budget is checked only then)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            self.aliased = True
            mark = self.peek_event().start_mark  # type: ignore[attr-defined]
            target = super().compose_node(parent, index)
            return _AliasNode(target, mark) if target is not None else None  # type: ignore[return-value]
        return super().compose_node(parent, index)


class _Loader(_AliasComposer, yaml.SafeLoader):
    """All Python: the reference, and the source of every error message."""



def _mark(ymark: yaml.Mark | None) -> Mark:
    if ymark is None:
        return Mark(1, 1)
    return Mark(ymark.line + 1, ymark.column + 1)


class _FailError(Exception):
    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


def parse_yaml(text: str, file: str) -> tuple[Any, Positions]:
    """Parse one document; an empty document gives ``None``. Raises ``PolicyError`` (one problem).

    Plain documents take the fast path (``yamlfast``: libyaml's events, five times faster); anything
    else, errors included, is parsed here with PyYAML's Python loader, which gives the same values and
    positions and PyYAML's own messages.
    """
    from reconciler.policy.yamlfast import fast_parse  # noqa: PLC0415 - yamlfast imports this module

    fast = fast_parse(text)
    return fast if fast is not None else parse_yaml_python(text, file)


def parse_yaml_python(text: str, file: str) -> tuple[Any, Positions]:
    """``parse_yaml`` with PyYAML's Python loader alone: the reference the fast path is held equal to."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as err:
        raise _error(file, _offset_mark(text, err.position),
                     f"character #x{err.character:04x} is not allowed in YAML") from None
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = _mark(err.problem_mark or err.context_mark)
        raise _error(file, mark, f"invalid YAML: {_yaml_message(err)}{_quote_hint(err)}") from None
    except yaml.YAMLError as err:
        raise _error(file, Mark(1, 1), f"invalid YAML: {_one_line(str(err))}") from None
    except RecursionError:
        raise _error(file, Mark(1, 1), "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    if root is None:
        return None, Positions()
    builder = _Builder(loader)
    try:
        if loader.aliased:
            _check_alias_budget(root)
        value = builder.build(root, (), 0)
    except _FailError as fail:
        raise _error(file, fail.mark, fail.message) from None
    return value, builder.positions


def _offset_mark(text: str, offset: int) -> Mark:
    before = text[:offset]
    return Mark(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _error(file: str, mark: Mark, message: str) -> PolicyError:
    return PolicyError([Problem(file, mark.line, mark.column, message)])


def _quote_hint(err: yaml.MarkedYAMLError) -> str:
    """``@`` and backquote are reserved in YAML: a value starting with one must be quoted."""
    found = re.search(r"found character '(.)' that cannot start any token", err.problem or "")
    if found is None or found.group(1) not in "@`":
        return ""
    mark = err.problem_mark
    buffer, at = (getattr(mark, "buffer", None) or ""), getattr(mark, "pointer", 0)
    value = buffer[at:].split("\n", 1)[0].split(" #", 1)[0].strip().rstrip("\0")
    quoted = "'" + value.replace("'", "''") + "'" if value else f"'{found.group(1)}...'"
    return f"; a value starting with {found.group(1)} must be quoted: {quoted}"


def _yaml_message(err: yaml.MarkedYAMLError) -> str:
    problem, context = err.problem or "", err.context or ""
    if problem and context:
        return f"{context} {problem}" if problem.startswith("but ") else f"{problem} ({context})"
    return _one_line(problem or context or "cannot be parsed")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_alias_budget(root: Node) -> None:
    """Reject recursive aliases and aliases whose expansion adds more than ``MAX_ALIAS_NODES`` nodes."""
    sizes: dict[int, int] = {}
    unique: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        if isinstance(node, _AliasNode):
            target = node.target
            if id(target) in active:
                raise _FailError(_mark(node.start_mark), "recursive YAML alias: an anchor refers to itself")
            stack.append((target, False))
            continue
        key = id(node)
        if done:
            active.discard(key)
            sizes[key] = 1 + sum(_size(child, sizes) for child in _children(node))
            continue
        unique.add(key)
        if key in sizes:
            continue
        active.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    if sizes[id(root)] - len(unique) > MAX_ALIAS_NODES:
        raise _FailError(
            _mark(root.start_mark),
            f"YAML aliases expand to more than {MAX_ALIAS_NODES} extra values; write the values out instead",
        )


def _size(node: Any, sizes: dict[int, int]) -> int:
    target = node.target if isinstance(node, _AliasNode) else node
    return sizes.get(id(target), 1)


def _children(node: Node) -> list[Any]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _describe_tag(tag: str) -> str:
    return "!!" + tag[len(_T):] if tag.startswith(_T) else tag


class _Builder:
    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.positions = Positions()

    def build(self, raw: Any, path: Path, depth: int) -> Any:
        node: Node = raw.target if isinstance(raw, _AliasNode) else raw
        self.positions.values[path] = _mark(raw.start_mark)
        if depth > MAX_DEPTH:
            raise _FailError(_mark(raw.start_mark), f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, MappingNode):
            self._check_tag(node, _MAP_TAG)
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            self._check_tag(node, _SEQ_TAG)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            raise _FailError(_mark(node.start_mark), f"unsupported YAML tag '{_describe_tag(node.tag)}'")

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for raw_key, raw_value in node.value:
            key_node = raw_key.target if isinstance(raw_key, _AliasNode) else raw_key
            key_mark = _mark(raw_key.start_mark)
            if key_node.tag == _MERGE_TAG:
                raise _FailError(key_mark, "YAML merge keys ('<<') are not supported; write the keys out")
            if not isinstance(key_node, ScalarNode):
                raise _FailError(key_mark, "a mapping key must be plain text, not a list or mapping")
            key = _text(str(key_node.value), key_mark)
            if key in result:
                first = self.positions.keys[(*path, key)]
                raise _FailError(key_mark, f"duplicate key '{key}' (first at line {first.line})")
            self.positions.keys[(*path, key)] = key_mark
            result[key] = self.build(raw_value, (*path, key), depth + 1)
        return result

    def _scalar(self, node: Node) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise _FailError(_mark(node.start_mark), f"unsupported YAML tag '{_describe_tag(node.tag)}'")
        try:
            value = self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as err:
            message = _one_line(getattr(err, "problem", None) or str(err))
            raise _FailError(_mark(node.start_mark), f"invalid value '{node.value}': {message}") from None
        return _text(value, _mark(node.start_mark)) if isinstance(value, str) else value


def _text(value: str, mark: Mark) -> str:
    """``value``, unless it holds a lone surrogate (only a ``"\\udc80"`` escape can make one): such text
    cannot be written as UTF-8 to a plan file, a report or the site."""
    found = None if value.isascii() else _SURROGATE.search(value)
    if found is not None:
        code = ord(found.group())
        raise _FailError(mark, f"the text contains a lone surrogate (\\u{code:04x}), which is not a "
                         "character; remove the escape or write the character itself")
    return value
