"""Who may do what on the simulated DC site, and the write rules, each with its source.

Sources (keys of evidence/datacenter.md): DC-1000/DC-910 (REST semantics), GEN-TS (error statuses), JD-RES,
SPO59 (UI rules), TFDC (JSON-RPC names, confirmed live on 9.2), PSC (Remote API method list), CS-99908
(500 for non-admins). Rules marked UNVERIFIED follow A.13's proposal; knobs let tests flip them.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.sandbox.datacenter.state import ANONYMOUS, DcState, DcUser
from reconciler.sandbox.failures import HttpError

# The 14 pairs DC REST accepts (GEN-TS / APA docstrings), as "operationKey/targetType".
OPERATIONS: tuple[str, ...] = (
    "read/space", "administer/space", "export/space", "restrict/space", "delete_own/space",
    "delete_mail/space", "create/page", "delete/page", "create/blogpost", "delete/blogpost",
    "create/comment", "delete/comment", "create/attachment", "delete/attachment",
)
# JSON-RPC permission names (TFDC permission.go, "empirically confirmed against ... 9.2"; PSC).
RPC_NAMES: dict[str, str] = {
    "read/space": "VIEWSPACE", "create/page": "EDITSPACE", "delete/page": "REMOVEPAGE",
    "create/blogpost": "EDITBLOG", "delete/blogpost": "REMOVEBLOG", "create/comment": "COMMENT",
    "delete/comment": "REMOVECOMMENT", "create/attachment": "CREATEATTACHMENT",
    "delete/attachment": "REMOVEATTACHMENT", "delete_own/space": "REMOVEOWNCONTENT",
    "restrict/space": "SETPAGEPERMISSIONS", "export/space": "EXPORTSPACE",
    "administer/space": "SETSPACEPERMISSIONS", "delete_mail/space": "REMOVEMAIL",
}
OPS_BY_RPC: dict[str, str] = {name: op for op, name in RPC_NAMES.items()}
MAX_SUBJECTS = 40  # "Maximum 40 different users/groups/anonymous user could be passed" (DC-1000)


def can_administer(state: DcState, user: DcUser | None, space: str) -> bool:
    """Space admin (administer/space through the user or a group) or Confluence admin (A.13)."""
    if user is None:
        return False
    return state.is_confluence_admin(user) or state.holds(user, space, "administer/space")


def require_admin(state: DcState, user: DcUser | None, space: str, status: int) -> None:
    """CS-99908: a caller who is not an admin gets 500 (``status``), not 403; the message is UNVERIFIED."""
    if not can_administer(state, user, space):
        raise HttpError(status, "com.atlassian.confluence.api.service.exceptions.PermissionException: "
                                "User is not permitted to view or edit permissions of this space")


def can_view_space(state: DcState, user: DcUser | None, space: str) -> bool:
    return state.is_confluence_admin(user) or state.holds(user, space, "read/space")


def check_operation(value: object) -> str:
    """An ``OperationDescription`` as ``key/target``; anything but the 14 pairs is 400 (GEN-TS; message
    UNVERIFIED)."""
    if not isinstance(value, dict):
        raise HttpError(400, "An operation must be an object with operationKey and targetType")
    key, target = value.get("operationKey"), value.get("targetType")
    op = f"{key}/{target}"
    if op not in OPERATIONS:
        raise HttpError(400, f"Operation {op} is not a valid space permission")
    return op


def check_subject_ops(subject: str, ops: Iterable[str]) -> None:
    """Anonymous cannot administer a space (SPO59; REST status 400 UNVERIFIED)."""
    if subject == ANONYMOUS and "administer/space" in set(ops):
        raise HttpError(400, "Space administration permission cannot be granted to anonymous users")


def set_subject(state: DcState, space: str, subject: str, ops: Iterable[str]) -> None:
    """Declarative: the subject holds exactly ``ops`` afterwards (DC-1000 POST semantics)."""
    state.permissions -= {(space, subj, op) for (subj, op) in state.rows(space) if subj == subject}
    state.permissions |= {(space, subject, op) for op in ops}
    state.touch()


def grant(state: DcState, space: str, subject: str, ops: Iterable[str]) -> None:
    """Union: "will only add those one that weren't granted before" (GEN-TS)."""
    state.permissions |= {(space, subject, op) for op in ops}
    state.touch()


def revoke(state: DcState, space: str, subject: str, ops: Iterable[str]) -> None:
    """Difference, silent on missing (GEN-TS). No read/space cascade (A.13 default, UNVERIFIED)."""
    state.permissions -= {(space, subject, op) for op in ops}
    state.touch()


def check_last_admin(state: DcState, space: str, protect: bool) -> None:
    """DC lets a space lose its last admin (SPO59); with the ``protect_last_admin`` knob it is 400."""
    if protect and not any(op == "administer/space" for (_, op) in state.rows(space)):
        raise HttpError(400, "A space must keep at least one space administrator")
