"""Turn pydantic validation errors into one-line ``Problem``s at the right key or value."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from reconciler.errors import Problem
from reconciler.policy.document import Doc, did_you_mean
from reconciler.policy.schema import TEXT, UNION_TAGS, PolicyFile
from reconciler.policy.yamlpos import Path


def problems_from_validation(err: ValidationError, doc: Doc, prefix: Path = ()) -> list[Problem]:
    """One problem per distinct error; ``prefix`` is the path of what was validated, inside the file."""
    problems: dict[tuple[Path, str], Problem] = {}
    for error in err.errors(include_url=False):
        loc = tuple(error["loc"])
        tags = [part for part in loc if part in UNION_TAGS]
        path: Path = (*prefix, *(part for part in loc if part not in UNION_TAGS))
        problem = _one(error, path, tags, doc)
        problems.setdefault((path, problem.message), problem)
    return list(problems.values())


def _indent_hint(key: str, parent: Path) -> str:
    """A principal where a space's (or defaults rule's) keys are: almost always one level too far left."""
    if not re.match(r"^(user|group|class):", key) or "assign" not in _allowed_keys(parent):
        return ""
    return "; is it mis-indented? indent it under `assign:` (or `grants:`)"


def _one(error: Any, path: Path, tags: list[Any], doc: Doc) -> Problem:
    kind: str = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(path[-1])
        hint = did_you_mean(key, _allowed_keys(path[:-1])) or _indent_hint(key, path[:-1])
        return doc.problem(path, f"unknown key '{key}'{hint}", shown=path[:-1])
    if kind == "missing":
        return doc.problem(path[:-1], f"missing required key '{path[-1]}'")
    alt = ""
    if TEXT in tags:
        alt = " or a list of permission ids" if len(path) >= 2 and path[-2] == "grants" else " or a mapping"
    message = _MESSAGES.get(kind)
    if kind == "literal_error":
        options = _literal_options(path)
        expected = _one_of(options) if options else str(ctx.get("expected", ""))
        hint = did_you_mean(str(value), [str(o) for o in options]) if isinstance(value, str) else ""
        text = f"expected {expected}{alt}, got {describe(value)}{hint}"
    elif kind == "value_error":
        text = str(error["msg"]).removeprefix("Value error, ")
    elif kind in ("too_short",):
        text = "must not be empty"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        op, bound = next((_OPS[k], v) for k, v in ctx.items() if k in _OPS)
        text = f"must be {op} {bound}, got {describe(value)}"
    elif message is not None:
        text = f"expected {message}{alt}, got {describe(value)}"
    else:
        text = str(error["msg"])
    return doc.problem(path, text, at="value")


_OPS = {"ge": ">=", "le": "<=", "gt": ">", "lt": "<"}
_MESSAGES = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
}


def describe(value: Any) -> str:
    """How a YAML value is named in messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"'{value}'"  # a newline or control byte in it is escaped by ``Problem`` (one line)


# --------------------------------------------------------------------------- walking the model's types


def _type_at(path: Path) -> Any:
    tp: Any = PolicyFile
    for part in path:
        tp = _step(tp, part)
        if tp is None:
            return None
    return tp


def _members(tp: Any) -> list[Any]:
    """Flatten Annotated / Optional / Union into the plain member types."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _members(get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _step(tp: Any, part: str | int) -> Any:
    for member in _members(tp):
        origin = get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel) and isinstance(part, str):
            field = member.model_fields.get(part)
            if field is not None:
                return field.annotation
        elif origin is dict and isinstance(part, str):
            return get_args(member)[1]
        elif origin is list and isinstance(part, int):
            return get_args(member)[0]
    return None


def _allowed_keys(path: Path) -> list[str]:
    keys: list[str] = []
    for member in _members(_type_at(path)):
        if isinstance(member, type) and issubclass(member, BaseModel):
            keys.extend(member.model_fields)
    return keys


def _literal_options(path: Path) -> list[Any]:
    options: list[Any] = []
    for member in _members(_type_at(path)):
        if get_origin(member) is Literal:
            options.extend(get_args(member))
    return options


def _one_of(options: list[Any]) -> str:
    """``'a' or 'b'``; ``'a', 'b' or 'c'``; numbers unquoted."""
    shown = [f"'{o}'" if isinstance(o, str) else str(o) for o in options]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
