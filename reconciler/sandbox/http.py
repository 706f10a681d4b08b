"""Framework-agnostic request and response values, the v1/v2 error envelopes, and both paging styles."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from reconciler.sandbox.failures import HttpError, bad_request

REASONS: Mapping[int, str] = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    """One HTTP request as both front doors see it.  Header names are lower-case."""

    method: str
    path: str  # decoded path, no query string
    query: Mapping[str, Sequence[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    origin: str = "http://sandbox.localhost"  # scheme://host[:port], for absolute links
    # ``time.monotonic()`` when its request line was read (the HTTP front door); None: when it is handled.
    # The latency is counted from here, so parsing its headers is inside it (``faults.answer_time``).
    arrived: float | None = None

    @classmethod
    def from_target(
        cls, method: str, target: str, headers: Mapping[str, str], body: bytes, origin: str, *,
        arrived: float | None = None,
    ) -> Request:
        path, _, query = target.partition("?")
        return cls(
            method.upper(),
            unquote(path),
            parse_qs(query, keep_blank_values=True),
            {k.lower(): v for k, v in headers.items()},
            body,
            origin,
            arrived,
        )

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def multi(self, name: str) -> list[str]:
        """A multi-valued parameter: repeated (``a=1&a=2``) and/or comma-separated (``a=1,2``)."""
        return [part for value in self.query.get(name, ()) for part in value.split(",") if part]

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise bad_request(f"The request body is not valid JSON: {err}") from err


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without any response (a dropped connection)
    # ``time.monotonic()`` before which the front door does not send it (the latency; ``faults.wait_until``):
    # the answer is made, and its head formatted, first, so that work is inside the latency
    not_before: float | None = None

    @classmethod
    def json(cls, status: int, data: Any, headers: Mapping[str, str] | None = None) -> Response:
        merged = {"Content-Type": "application/json;charset=UTF-8", **(headers or {})}
        return cls(status, json.dumps(data).encode("utf-8"), merged)


# ------------------------------------------------------------------------------------------ envelopes
def v2_error(failure: HttpError) -> Response:
    status = failure.status
    code = REASONS.get(status, "Error").upper().replace(" ", "_")
    body = {
        "errors": [
            {"status": status, "code": code, "title": REASONS.get(status, "Error"), "detail": failure.message}
        ]
    }
    return Response.json(status, body, failure.headers)


def v1_error(failure: HttpError) -> Response:
    status = failure.status
    body = {
        "statusCode": status,
        "data": {
            "authorized": status not in (401, 403),
            "valid": status != 400,
            "allowedInReadOnlyMode": True,
            "errors": [],
            "successful": False,
        },
        "message": failure.message,
        "reason": REASONS.get(status, "Error"),
    }
    return Response.json(status, body, failure.headers)


def unauthorized() -> Response:
    """The gateway's 401 (confluence-api.md §3.1), for every path, before routing."""
    return Response.json(
        401,
        {"code": 401, "message": "Unauthorized"},
        {"WWW-Authenticate": 'Basic realm="Confluence", Bearer'},
    )


# ---------------------------------------------------------------------------------------- v2 paging
def parse_limit(request: Request, default: int = 25, maximum: int = 250) -> int:
    raw = request.param("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request(f"'limit' must be an integer between 1 and {maximum}, got '{raw}'") from None
    if not 1 <= limit <= maximum:
        raise bad_request(f"'limit' must be an integer between 1 and {maximum}, got '{raw}'")
    return limit


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "offset" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_request(f"Invalid cursor '{cursor}'") from None


def v2_page(request: Request, api_path: str, base: str, items: Sequence[Any]) -> Response:
    """One page of a v2 list: ``_links.next`` (relative, with ``/wiki``) and the same in ``Link``."""
    limit = parse_limit(request)
    offset = decode_cursor(request.param("cursor"))
    page = list(items[offset : offset + limit])
    links: dict[str, str] = {"base": base}
    header = [f'<{base}>; rel="base"']
    if offset + limit < len(items):
        query = [(k, v) for k, vs in request.query.items() if k != "cursor" for v in vs]
        query.append(("cursor", encode_cursor(offset + limit)))
        links["next"] = f"{api_path}?{urlencode(query)}"
        header.insert(0, f'<{links["next"]}>; rel="next"')
    return Response.json(200, {"results": page, "_links": links}, {"Link": ", ".join(header)})


# ---------------------------------------------------------------------------------------- v1 paging
def v1_page(
    request: Request, api_path: str, base: str, items: Sequence[Any], *, default_limit: int, max_limit: int
) -> Response:
    """``{results, start, limit, size, _links: {base, context, self, next?}}`` with start/limit paging."""
    start = _v1_int(request, "start", 0)
    limit = min(_v1_int(request, "limit", default_limit), max_limit)
    page = list(items[start : start + limit])
    context = "/wiki"
    links = {"base": base, "context": context, "self": f"{base}{api_path.removeprefix(context)}"}
    if start + limit < len(items):
        query = [(k, v) for k, vs in request.query.items() if k not in ("start", "limit") for v in vs]
        query += [("start", str(start + limit)), ("limit", str(limit))]
        links["next"] = f"{api_path.removeprefix(context)}?{urlencode(query)}"
    return Response.json(
        200, {"results": page, "start": start, "limit": limit, "size": len(page), "_links": links}
    )


def _v1_int(request: Request, name: str, default: int) -> int:
    raw = request.param(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise bad_request(f"'{name}' must be a non-negative integer, got '{raw}'")
    return int(raw)
