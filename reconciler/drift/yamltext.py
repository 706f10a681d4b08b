"""Policy YAML written by the tool: imported files and the edits drift suggests use the same quoting.

A group name may hold anything (``ops: on-call``, ``#legal``), so every key and value the tool writes goes
through ``scalar``, which quotes only when YAML needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import yaml

from reconciler.model import Principal, PrincipalKind


def scalar(value: str) -> str:
    """A YAML scalar on one line, quoted only when it must be.

    Text that is not printable as it stands (a line break, a control or direction character from a name on
    the site) is written double-quoted with escapes (``"a\\nb"``): PyYAML would write a line break as a
    multi-line scalar, whose next line could be read as more policy (an injection).
    """
    if not value.isprintable():
        return _double_quoted(value)
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return text.removesuffix("\n...\n").removesuffix("\n")


def _double_quoted(value: str) -> str:
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def flow(values: Iterable[str]) -> str:
    """A sorted YAML flow list: ``[read/space, create/page]``."""
    return "[" + ", ".join(scalar(v) for v in sorted(values)) + "]"


def policy_ref(principal: Principal, handles: Mapping[str, str]) -> str:
    """How the policy writes a principal: ``user:<handle>`` for a person the policy names, else the ref."""
    if principal.kind is PrincipalKind.USER:
        return f"user:{handles.get(principal.id, principal.id)}"
    return principal.ref
