"""Policy YAML written by the tool: imported files and the edits drift suggests use the same quoting.

A group name may hold anything (``ops: on-call``, ``#legal``), so every key and value the tool writes goes
through ``scalar``, which quotes only when YAML needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import yaml

from reconciler.model import Principal, PrincipalKind


def scalar(value: str) -> str:
    """A YAML scalar, quoted only when it must be."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return text.removesuffix("\n...\n").removesuffix("\n")


def flow(values: Iterable[str]) -> str:
    """A sorted YAML flow list: ``[read/space, create/page]``."""
    return "[" + ", ".join(scalar(v) for v in sorted(values)) + "]"


def policy_ref(principal: Principal, handles: Mapping[str, str]) -> str:
    """How the policy writes a principal: ``user:<handle>`` for a person the policy names, else the ref."""
    if principal.kind is PrincipalKind.USER:
        return f"user:{handles.get(principal.id, principal.id)}"
    return principal.ref
