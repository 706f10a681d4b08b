"""The error tree and the exit codes.

    ReconcilerError                 root: every error the tool expects carries a one-line message
    ├── UsageError                  bad command line or environment (missing variable, bad URL)
    ├── PolicyError                 one or more problems in policy files (gathered, never the first only)
    ├── ApiError                    a Confluence or Admin API call failed (method, path, status, space)
    │   ├── AuthError               401/403: wrong or missing credentials, not enough rights
    │   ├── NotFoundError           404: a space deleted or hidden from the account the tool runs as
    │   └── TransportError          the site could not be reached, or the connection broke
    ├── ReadOnlyViolationError      a write was attempted through a read-only client (a bug in the caller)
    ├── UnsafePlanError             the plan fails a safety check and --allow-unsafe was not given
    ├── StalePlanError              a saved plan no longer matches the live state
    └── PlanFileError               a saved plan file that cannot be read

Anything else that escapes to the CLI is a bug: exit code 3 with a one-line message.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Process exit codes, like Terraform's (DESIGN.md §5)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # plan --detailed-exitcode with changes, or drift found
    BUG = 3
    STALE = 4  # apply refused a saved plan because the policy or the site changed since it was made
    INTERRUPTED = 130


class ReconcilerError(Exception):
    """Root of every error the tool expects; ``str(err)`` is the message for the user."""

    exit_code: ExitCode = ExitCode.ERROR


class UsageError(ReconcilerError):
    """A bad command line, a missing environment variable, an unsupported site URL."""


class ReadOnlyViolationError(ReconcilerError):
    """A write was attempted through a client opened read-only (plan, drift)."""

    exit_code = ExitCode.BUG


class UnsafePlanError(ReconcilerError):
    """The plan fails a safety check; the message names the override flag."""


class StalePlanError(ReconcilerError):
    """A saved plan was computed from a policy or a live state that has changed since.

    Its own exit code (4), so a workflow tells "plan again" from every other failure without parsing text.
    """

    exit_code = ExitCode.STALE


class PlanFileError(ReconcilerError):
    """A saved plan file that is missing, unreadable, or of another format version."""


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in the policy files, at a position.

    ``str(problem)`` is the one line shown to the user:
    ``policies/spaces/ENG.yaml:7:5: spaces.ENG.assign: unknown role 'Colaborator' (did you mean ...)``
    """

    file: str
    line: int
    column: int
    message: str
    path: str = ""  # dotted location inside the document, e.g. "spaces.ENG.assign"
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return one_line(f"{where}: {prefix}{what}")

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.message)


def one_line(text: str) -> str:
    """``text`` with every character that is not printable (a newline, a control byte) shown as its escape,
    so a problem naming a value or key from a policy file stays one line whatever that value holds."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


class PolicyError(ReconcilerError):
    """Problems in the policy files: all of them, sorted by file and position."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems, key=lambda p: p.sort_key))
        errors = [p for p in self.problems if p.severity is Severity.ERROR]
        super().__init__("\n".join(str(p) for p in errors) or "invalid policy")

    @property
    def errors(self) -> Sequence[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> Sequence[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


class ApiError(ReconcilerError):
    """A call to Confluence or the Admin API failed.

    The message names the call, the status and, where there is one, the space:
    ``GET /wiki/api/v2/spaces/98305/role-assignments (space ENG): 500 Internal Server Error: ...``
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        detail: str = "",
        *,
        space: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail
        self.space = space
        super().__init__(self._message())

    def _message(self) -> str:
        call = f"{self.method} {self.path}"
        if self.space:
            call += f" (space {self.space})"
        status = f"{self.status}" if self.status is not None else "no response"
        return f"{call}: {status}{': ' + self.detail if self.detail else ''}"


class AuthError(ApiError):
    """401 or 403: the credentials are wrong, missing, or lack a permission."""


class NotFoundError(ApiError):
    """404: a space (or other object) that is deleted or hidden from the account the tool runs as."""


class TransportError(ApiError):
    """No HTTP response: the site could not be reached, timed out, or dropped the connection."""
