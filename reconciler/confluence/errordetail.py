"""The site's own explanation of a failed call, as one short line without secrets.

Envelopes understood (confluence-api.md §2.6, §3.1):

- v2: ``{"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": null}]}``
- v1: ``{"statusCode": 404, "data": {...}, "message": "No space with key : x", "reason": "Not Found"}``
- gateway: ``{"code": 401, "message": "Unauthorized; scope does not match"}``
- plain text bodies (HTML pages are ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

MAX_DETAIL = 300


def describe(response: httpx.Response, secrets: Sequence[str] = ()) -> str:
    """``"<reason phrase>: <site message>"`` (or just the reason phrase)."""
    reason = httpx.codes.get_reason_phrase(response.status_code) or "Error"
    message = _message(response)
    if not message:
        text = reason
    elif message.lower().startswith(reason.lower()):
        text = message
    else:
        text = f"{reason}: {message}"
    text = " ".join(redact(text, secrets).split())
    if len(text) > MAX_DETAIL:
        text = text[: MAX_DETAIL - 3] + "..."
    return text


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret replaced by ``***``, also in the escaped forms an exception message
    may show it in (``repr``/``ascii`` of the text, ``repr`` of its UTF-8 bytes: ``b'Bearer abc\\ndef'``)."""
    for form in sorted({f for secret in secrets if secret for f in _forms(secret)}, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _forms(secret: str) -> tuple[str, ...]:
    return (secret, repr(secret)[1:-1], ascii(secret)[1:-1], repr(secret.encode())[2:-1])


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("text/plain"):
            return response.text.strip()
        return ""
    if isinstance(body, dict):
        return _from_envelope(body)
    return ""


def _from_envelope(body: dict[str, Any]) -> str:
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(filter(None, (_v2_error(e) for e in errors if isinstance(e, dict))))
    for key in ("message", "errorMessage", "detail", "title", "reason"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _v2_error(error: dict[str, Any]) -> str:
    title = error.get("title")
    detail = error.get("detail")
    code = error.get("code")
    parts = [str(p) for p in (title, detail) if isinstance(p, str) and p.strip()]
    if not parts and isinstance(code, str):
        parts.append(code)
    return ": ".join(parts)
