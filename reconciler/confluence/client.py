"""The one seam to Confluence: an httpx client with auth, retries, pagination and a read-only mode.

Every httpx error and every non-2xx response is translated here, once, into the project's errors
(``ApiError`` and its subclasses) naming the method, the path (never the query), the status, the site's
own error detail and the space concerned. Nothing above this module catches ``httpx.*``.

Paths are given from ``/wiki`` on (``/wiki/api/v2/spaces``); the base URL is the site
(``https://acme.atlassian.net``) or the API gateway (``https://api.atlassian.com/ex/confluence/<cloudId>``).
Credentials are held by the httpx client and never appear in errors, logs or ``repr``.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from reconciler import __version__
from reconciler.confluence import tls
from reconciler.confluence.answers import SetCookieOnlyJar, decode
from reconciler.confluence.failures import status_error, transport_error
from reconciler.confluence.fanout import map_concurrently
from reconciler.confluence.pace import AdaptiveLimit
from reconciler.confluence.paging import (
    PageGuard,
    display,
    next_link,
    offset_pages,
    relative_path,
    results_of,
)
from reconciler.confluence.rate import RatePacer
from reconciler.confluence.retry import (
    RetryPolicy,
    Tries,
    parse_retry_after,
    retry_limit,
    status_is_retryable,
    transport_error_is_retryable,
)
from reconciler.confluence.throttle import Throttle
from reconciler.errors import (
    ApiError,
    ReadOnlyViolationError,
    TransportError,
    UsageError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
Params = Mapping[str, Any]

USER_AGENT = f"reconciler/{__version__}"
# Every v1 write carries this: "v1 enforces XSRF protection on every write: without X-Atlassian-Token:
# no-check each one answers 403 XSRF check failed" ([2nd] confluence.js MIGRATION.md; the official v1 spec
# documents the header only on watcher endpoints). Harmless where it is not needed.
XSRF_HEADERS = {"X-Atlassian-Token": "no-check"}
# Headers by which a site reports its rate-limit budget (Atlassian's rate limiting page; `reconciler doctor`
# reports which ones a site sends). Only the names are kept, never values.
RATE_LIMIT_HEADERS = ("retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                      "x-ratelimit-nearlimit", "ratelimit-reason", "beta-retry-after")
_RATE_LIMIT_NAMES = frozenset(name.encode() for name in RATE_LIMIT_HEADERS)
DEFAULT_CONCURRENCY = 32  # the cap of requests in flight; the adaptive limit starts at 8 (pace.py)
DEFAULT_REQUEST_DEADLINE = 120.0  # RECONCILER_REQUEST_DEADLINE
DEFAULT_RUN_DEADLINE = 3 * 3600.0  # RECONCILER_RUN_DEADLINE


class ResponseCheck(Protocol):
    """A backend's own look at every exchange (Data Center: pacing by ``X-RateLimit-*``, answers that a
    status alone does not explain). ``check`` may raise an ``ApiError`` to end the call at once."""

    def before_request(self) -> None: ...

    def check(self, method: str, path: str, response: httpx.Response, space: str | None) -> None: ...


class ConfluenceClient:
    """One httpx client for every call to one Confluence site (thread-safe for concurrent reads)."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        read_only: bool = False,
        retry: RetryPolicy | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        auth_hint: str = "",
        secrets: Sequence[str] = (),
        checks: ResponseCheck | None = None,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        run_deadline: float = DEFAULT_RUN_DEADLINE,
    ) -> None:
        self._checks = checks
        self._base_url = base_url.rstrip("/")
        self._read_only = read_only
        self._retry = retry or RetryPolicy()
        self._concurrency = max(1, concurrency)  # the cap: worker threads, and requests in flight at most
        # in flight (grows to the cap, halves on 429) and when the next request may start (throttle.py)
        self._throttle = Throttle(self._concurrency, clock=clock, sleep=sleep,
                                  longest_hold=self._retry.max_total_seconds)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._auth_hint = auth_hint
        self._secrets = tuple(s for s in secrets if s)
        self._counts: dict[str, int] = {}
        self._rate_headers: dict[str, int] = {}  # rate-limit header name -> answers that carried it
        self._answers = 0
        # told before every wait between attempts (seconds, why): the progress display shows it
        self.on_wait: Callable[[float, str], None] | None = None
        self._request_deadline = request_deadline  # seconds for one whole answer, however it trickles
        self._run_limit = run_deadline
        self._run_ends = clock() + run_deadline  # no request starts (and no retry waits) past this
        self._lock = threading.Lock()
        verify = tls.context()  # made ahead (``tls.prepare``), or None: httpx makes the same one itself
        try:
            self._http = httpx.Client(
                base_url=self._base_url,
                auth=auth,
                transport=transport,
                verify=True if verify is None else verify,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                limits=httpx.Limits(max_connections=self._concurrency + 4),
                follow_redirects=False,
            )
            self._base_path = str(self._http.base_url).rstrip("/") + "/"  # httpx's form, then "/"
            # the cookie jar, looked at only when an answer sets a cookie (``SetCookieOnlyJar``); httpx's own
            # attribute, since its setter would copy the jar into a plain ``httpx.Cookies``
            self._http._cookies = SetCookieOnlyJar()
        except (ValueError, ImportError) as err:  # a proxy variable httpx cannot use (value not shown)
            raise UsageError(f"cannot open a connection to {urlsplit(self._base_url).hostname}: the proxy "
                             f"settings (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY) cannot be used "
                             f"({type(err).__name__}); fix or unset them") from None
        except OSError as err:  # the CA bundle SSL_CERT_FILE / SSL_CERT_DIR names (ssl.SSLError is one)
            raise UsageError(f"cannot open a connection to {urlsplit(self._base_url).hostname}: the TLS "
                             f"settings (SSL_CERT_FILE, SSL_CERT_DIR) cannot be used ({type(err).__name__}: "
                             f"{err.strerror or err}); fix or unset them") from None

    # ------------------------------------------------------------------------------------ properties

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def concurrency(self) -> int:
        return self._concurrency

    @property
    def pace(self) -> AdaptiveLimit:
        """Requests in flight: the adaptive concurrency limit."""
        return self._throttle.limit

    @property
    def pacer(self) -> RatePacer:
        """When requests start: the rate learnt from the site's 429s and budget headers."""
        return self._throttle.pacer

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far (each retry counts), all methods together."""
        with self._lock:
            return sum(self._counts.values())

    @property
    def request_counts(self) -> Mapping[str, int]:
        """HTTP requests sent so far, per method (``{"GET": 12}``)."""
        with self._lock:
            return dict(self._counts)

    @property
    def rate_limit_headers(self) -> tuple[int, Mapping[str, int]]:
        """(answers received, rate-limit header name -> answers that carried it)."""
        with self._lock:
            return self._answers, dict(sorted(self._rate_headers.items()))

    def __repr__(self) -> str:
        return f"ConfluenceClient({self._base_url!r}, read_only={self._read_only})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ConfluenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ public API

    def get_json(self, path: str, params: Params | None = None, *, space: str | None = None) -> Any:
        response = self._request("GET", path, params=params, space=space)
        return decode(self._secrets, response, "GET", path, space)

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        space: str | None = None,
        headers: Mapping[str, str] | None = None,
        read: bool = False,
    ) -> Any:
        """``read=True``: a POST that only reads (a JSON-RPC getter), allowed on a read-only client."""
        response = self._request("POST", path, body=body, space=space, headers=headers, read=read)
        return decode(self._secrets, response, "POST", path, space)

    def put_json(self, path: str, body: Any, *, space: str | None = None) -> Any:
        response = self._request("PUT", path, body=body, space=space)
        return decode(self._secrets, response, "PUT", path, space)

    def delete(self, path: str, *, space: str | None = None) -> None:
        self._request("DELETE", path, space=space)

    def paginate(
        self, path: str, params: Params | None = None, *, space: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a v2 list, following the cursor in ``_links.next`` (or the ``Link`` header)."""
        url: str = path
        query: Params | None = params
        seen: set[str] = set()
        guard = PageGuard("GET", path, space)
        while True:
            response = self._request("GET", url, params=query, space=space)
            page = decode(self._secrets, response, "GET", path, space)
            results = results_of(page, "GET", path, space)
            yield from results
            link = next_link(page, response)
            if not link:
                return
            url, query = relative_path(link), None
            if url in seen:
                raise ApiError("GET", display(path), response.status_code, "pagination did not advance",
                               space=space)
            seen.add(url)
            guard.check(results, response.status_code)  # a new cursor each time, and no end

    def paginate_v1(
        self, path: str, params: Params | None = None, *, space: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a v1 list, by offset (``start``/``limit``/``size``/``_links.next``)."""
        return offset_pages(self.get_json, path, params, space)

    def map_concurrently(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(x) for x in items]`` on at most ``concurrency`` threads; the first error stops the rest."""
        return map_concurrently(fn, items, self._concurrency)

    def url_of(self, path: str, params: Params | None = None) -> httpx.URL:
        """The URL of ``path`` (from ``/wiki`` on) with ``params``, parsed once: what httpx makes of
        ``client.build_request(method, path, params=params).url`` in three parses (the path, the path
        joined to the base, the query added), about a quarter of the client's CPU per call. A path httpx
        would treat otherwise (a query of its own that ``params``, even empty, replace; a fragment, which it
        drops; not a plain path) is left to httpx.
        """
        plain = path.startswith("/") and not path.startswith("//") and "#" not in path
        if not plain or (params is not None and "?" in path):
            return self._http.build_request("GET", path, params=params).url
        query = f"?{httpx.QueryParams(params)}" if params else ""
        return httpx.URL(f"{self._base_path}{path[1:]}{query}")

    # ------------------------------------------------------------------------------------ internals

    def _count(self, method: str) -> None:
        with self._lock:
            self._counts[method] = self._counts.get(method, 0) + 1

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        space: str | None = None,
        headers: Mapping[str, str] | None = None,
        read: bool = False,
    ) -> httpx.Response:
        shown = display(path)
        if not read:
            self._refuse_if_read_only(method, shown, space)
        tries = Tries()
        while True:
            if self._checks is not None:
                self._checks.before_request()
            self._check_run_deadline(method, shown, space)
            self._count(method)
            try:
                sent = {**(_write_headers(method, path) or {}), **(headers or {})} or None
                response = self._send(method, path, params, body, sent)
            except _TooSlowError:
                raise self._too_slow(method, shown, space) from None
            except httpx.TransportError as exc:
                limit = retry_limit(self._retry, exc) if transport_error_is_retryable(method, exc) else 0
                delay = self._backoff_delay(tries.errors + 1, None, tries.waited, limit)
                if delay is None:
                    raise transport_error(method, shown, exc, space, retries=tries.retries,
                                          base_url=self._base_url, secrets=self._secrets) from None
                tries.errors += 1
                why, shared = type(exc).__name__, False
            except httpx.HTTPError as exc:
                raise transport_error(method, shown, exc, space, retries=tries.retries,
                                          base_url=self._base_url, secrets=self._secrets) from None
            else:
                log.debug("%s %s -> %s", method, shown, response.status_code)
                self._note_headers(response.headers)
                if self._checks is not None:
                    self._checks.check(method, shown, response, space)
                if response.is_success:
                    return response
                delay = self._response_delay(method, response, tries)
                if delay is None:
                    raise status_error(method, shown, response, space, retries=tries.retries,
                                       waited=tries.waited, budget=self._retry.max_total_seconds,
                                       secrets=self._secrets, auth_hint=self._auth_hint)
                why = str(response.status_code)
                shared = parse_retry_after(response.headers.get("Retry-After")) is not None
            tries.waited += delay
            log.info("%s %s: %s, retrying in %.1fs", method, shown, why, delay)
            self._wait(delay, why, shared=shared)

    def _wait(self, delay: float, why: str, *, shared: bool) -> None:
        """Wait before the next attempt, saying so first (``on_wait``: the progress display); requests
        refused together wait out one hold, which is said once."""
        told = self._throttle.hold(delay) if shared else True  # shared: every request of the client waits
        if told and self.on_wait is not None:
            self.on_wait(delay, "rate limited (429)" if why == "429" else f"{why} from the site")
        if not shared:
            self._sleep(delay)

    def _note_headers(self, headers: httpx.Headers) -> None:
        sent = _RATE_LIMIT_NAMES.intersection(key.lower() for key, _value in headers.raw)  # one pass
        with self._lock:
            self._answers += 1
            for name in RATE_LIMIT_HEADERS:
                if name.encode() in sent:
                    self._rate_headers[name] = self._rate_headers.get(name, 0) + 1

    def _send(self, method: str, path: str, params: Params | None, body: Any,
              headers: Mapping[str, str] | None) -> httpx.Response:
        """One attempt, on its turn of the pace and holding a slot of the concurrency limit (throttle.py).
        The request is made before the slot is waited for: a slot handed over (``pace.hand_over``) is
        used at once, not after the URL is parsed and the request built (about a sixth of the client's
        CPU per space read, py-spy at 1,000 spaces; docs/performance.md): no slot stands idle meanwhile.
        The request carries the cookies the jar held when it was made, not a cookie an answer sets while
        it waits for its turn (every request authenticates itself; no read depends on a session cookie)."""
        request = self._http.build_request(method, self.url_of(path, params), json=body, headers=headers)
        return self._throttle.send(lambda: self._send_once(request))

    def _send_once(self, request: httpx.Request) -> httpx.Response:
        """One request, its answer read whole within the request deadline (httpx's timeout bounds each
        read, not the whole: a site trickling one byte at a time would hold the run forever)."""
        deadline = self._clock() + self._request_deadline
        with contextlib.closing(self._http.send(request, stream=True)) as streamed:
            if streamed.is_stream_consumed:  # an in-memory answer (a test or in-process transport)
                return streamed
            raw = bytearray()
            for chunk in streamed.iter_raw():
                raw += chunk
                if self._clock() > deadline:
                    raise _TooSlowError
            return httpx.Response(streamed.status_code, headers=streamed.headers, content=bytes(raw),
                                  request=streamed.request)

    def _too_slow(self, method: str, shown: str, space: str | None) -> TransportError:
        host = urlsplit(self._base_url).netloc or self._base_url
        detail = (f"{host} did not send its whole answer within {self._request_deadline:g}s "
                  "(RECONCILER_REQUEST_DEADLINE)")
        if method != "GET":
            detail += " (the outcome of this write is unknown: re-read before retrying)"
        return TransportError(method, shown, None, detail, space=space)

    def _check_run_deadline(self, method: str, shown: str, space: str | None) -> None:
        if self._clock() >= self._run_ends:
            raise TransportError(method, shown, None, f"not sent: the run reached its time limit of "
                                 f"{self._run_limit:g}s (RECONCILER_RUN_DEADLINE)", space=space)

    def _response_delay(self, method: str, response: httpx.Response, tries: Tries) -> float | None:
        """The wait before retrying after this response, or None to give up; counts the retry."""
        status = response.status_code
        hinted = parse_retry_after(response.headers.get("Retry-After"))
        retryable = status_is_retryable(method, status)
        throttled = status == 429
        if throttled:  # the site pacing us, not failing: its own, larger count
            count, limit = tries.throttled + 1, self._retry.max_throttled_retries if retryable else 0
        else:
            count, limit = tries.errors + 1, self._retry.max_retries if retryable else 0
        delay = self._backoff_delay(count, hinted, tries.waited, limit)
        if delay is None:
            return None
        if throttled:
            tries.throttled += 1
        else:
            tries.errors += 1
        return delay

    def _refuse_if_read_only(self, method: str, shown: str, space: str | None) -> None:
        if self._read_only and method != "GET":
            where = f" (space {space})" if space else ""
            raise ReadOnlyViolationError(
                f"refused {method} {shown}{where}: the client is read-only (plan and drift never write)"
            )

    def _backoff_delay(self, retry: int, hinted: float | None, waited: float, limit: int) -> float | None:
        """The wait before this retry, or None when the retry budget (count or time) is spent."""
        if retry > limit:
            return None
        delay = hinted if hinted is not None else self._retry.backoff(retry, self._rng)
        if waited + delay > self._retry.max_total_seconds or self._clock() + delay >= self._run_ends:
            return None
        return delay


def _write_headers(method: str, path: str) -> Mapping[str, str] | None:
    """The XSRF header on v1 (``/rest/api/``) writes; nothing extra on reads and v2 calls."""
    return XSRF_HEADERS if method != "GET" and "/rest/api/" in path else None


class _TooSlowError(Exception):
    """The answer did not arrive whole within the request deadline."""
