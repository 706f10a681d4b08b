"""What the client makes of an answer: its JSON, cleaned of any secret the site echoed back, and the cookie
jar that looks at an answer only when it sets a cookie. Split from ``client.py``, which sends."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.confluence import errordetail
from reconciler.confluence.paging import display
from reconciler.errors import ApiError

_SET_COOKIE = (b"set-cookie", b"set-cookie2")


def decode(secrets: tuple[str, ...], response: httpx.Response, method: str, path: str,
           space: str | None) -> Any:
    """The answer's JSON (None for 204 or an empty body), without ``secrets``; not JSON is an ``ApiError``
    naming the call."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        data = response.json()
    except ValueError:
        raise ApiError(method, display(path), response.status_code,
                       "the response is not JSON", space=space) from None
    return without_secrets(secrets, response, data)


def without_secrets(secrets: tuple[str, ...], response: httpx.Response, data: Any) -> Any:
    """The answer with any secret the server echoed back (into a name, a description, a message)
    replaced by ``***``, so no report, plan file or log line can carry it, in any encoding; and with
    lone surrogates (``\\udc80``, not text) replaced by U+FFFD, so every name can be written out."""
    pattern = errordetail.secret_pattern(secrets)
    text = response.text
    if "\\u" not in text and (pattern is None or pattern.search(text) is None):  # the usual case
        return data
    return errordetail.clean_value(data, pattern)


class SetCookieOnlyJar(httpx.Cookies):
    """httpx's cookie jar, skipping its per-answer work (a urllib request and response built around each
    answer, a quarter of the client's CPU per call) when the answer sets no cookie: the jar only ever
    changes on ``Set-Cookie``/``Set-Cookie2`` (``http.cookiejar.CookieJar.make_cookies``)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if any(key.lower() in _SET_COOKIE for key, _value in response.headers.raw):
            super().extract_cookies(response)
