"""The site's own explanation of a failed call, as one short line without secrets.

Envelopes understood (confluence-api.md §2.6, §3.1):

- v2: ``{"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": null}]}``
- v1: ``{"statusCode": 404, "data": {...}, "message": "No space with key : x", "reason": "Not Found"}``
- gateway: ``{"code": 401, "message": "Unauthorized; scope does not match"}``
- plain text bodies (HTML pages are ignored).
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, quote_plus

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
    """``text`` with every secret replaced by ``***``, in every encoding a server or an exception may show
    it in: as is, ``repr``/``ascii`` escaped, ``repr`` of its UTF-8 bytes (``b'Bearer abc\\ndef'``),
    JSON-escaped (``\\/``, ``\\uXXXX``), URL-encoded (``%2F``, ``%2f``, ``+``), HTML-escaped."""
    pattern = secret_pattern(secrets)
    return text if pattern is None else pattern.sub("***", text)


def clean_value(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """A decoded JSON value with every string (keys too) that holds a secret redacted, and every lone
    surrogate (only a ``\\udc80`` escape can make one; it cannot be written as UTF-8) replaced by U+FFFD."""
    if isinstance(value, str):
        if not value.isascii():
            value = _SURROGATE.sub("\ufffd", value)
        return value if pattern is None else pattern.sub("***", value)
    if isinstance(value, list):
        return [clean_value(item, pattern) for item in value]
    if isinstance(value, dict):
        return {clean_value(k, pattern): clean_value(v, pattern) for k, v in value.items()}
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.lru_cache(maxsize=16)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    forms = {form for secret in secrets if secret for form in _forms(secret) if form}
    if not forms:
        return None
    return re.compile("|".join(_form_regex(f) for f in sorted(forms, key=len, reverse=True)))


def secret_pattern(secrets: Sequence[str]) -> re.Pattern[str] | None:
    """One regular expression matching every form of every secret (None without secrets)."""
    return _pattern(tuple(sorted(set(secrets))))


def _form_regex(form: str) -> str:
    """A form as a regular expression; percent escapes match in either case (``%2F`` and ``%2f``)."""
    parts = re.split(r"(%[0-9A-Fa-f]{2})", form)
    return "".join(f"%(?i:{p[1:]})" if re.fullmatch(r"%[0-9A-Fa-f]{2}", p) else re.escape(p) for p in parts)


def _forms(secret: str) -> tuple[str, ...]:
    as_json = json.dumps(secret)[1:-1]
    return (
        secret,
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        repr(secret.encode())[2:-1],
        as_json,
        as_json.replace("/", "\\/"),
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        html.escape(secret),
    )


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
