"""The one exception the sandbox's rules raise; the router turns it into the v1 or v2 error envelope."""

from __future__ import annotations

from collections.abc import Mapping


class HttpError(Exception):
    """An API error: HTTP ``status``, a human ``message``, optional extra response headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str) -> HttpError:
    return HttpError(400, message)


def not_found(message: str) -> HttpError:
    return HttpError(404, message)


def forbidden(message: str) -> HttpError:
    return HttpError(403, message)


