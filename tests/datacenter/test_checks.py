"""The DC client's own checks: credentials from the environment, pacing, a blocked account, Retry-After."""

from __future__ import annotations

import httpx
import pytest

from reconciler.confluence.retry import parse_retry_after
from reconciler.datacenter.checks import DcChecks, RateLimitBlockedError
from reconciler.datacenter.connect import dc_auth, parse_dc_url
from reconciler.errors import UsageError
from reconciler.sandbox.datacenter import DcKnobs, DcSite
from tests.datacenter.conftest import PAT, MakeReader


def test_pat_is_sent_as_bearer_and_wins_over_basic() -> None:
    found = dc_auth({"CONFLUENCE_PAT": PAT, "CONFLUENCE_USERNAME": "u", "CONFLUENCE_PASSWORD": "p"})
    assert found is not None
    request = next(found[0].auth_flow(httpx.Request("GET", "http://x/")))
    assert request.headers["Authorization"] == f"Bearer {PAT}"
    assert found[1] == (PAT,)


def test_username_without_password_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^no Confluence Data Center credentials: set CONFLUENCE_PASSWORD"):
        dc_auth({"CONFLUENCE_USERNAME": "svc"})
    assert dc_auth({}) is None


@pytest.mark.parametrize(
    ("url", "base"),
    [("https://wiki.example.com/confluence/", "https://wiki.example.com/confluence"),
     ("https://wiki.example.com", "https://wiki.example.com"),
     ("http://127.0.0.1:8089/confluence", "http://127.0.0.1:8089/confluence")],
)
def test_context_paths_are_kept(url: str, base: str) -> None:
    assert parse_dc_url(url) == base


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(UsageError, match="must use https"):
        parse_dc_url("http://wiki.example.com/confluence")


def test_a_blocked_account_fails_at_once_with_one_line(make_reader: MakeReader, site: DcSite) -> None:
    site.configure(DcKnobs(rate_limit=10, blocked_users=frozenset({"svc-reconciler"})))
    with pytest.raises(RateLimitBlockedError) as caught:
        make_reader().connect()
    assert str(caught.value) == (
        "GET /rest/api/user/current: 429: Too Many Requests; the rate limiter blocks this account "
        "(X-RateLimit-Limit 0, Retry-After 9223372036854775807): ask a Confluence administrator to exempt it "
        "under Rate limiting")
    assert site.request_count == 1


def test_retry_after_long_max_is_clamped_to_a_day() -> None:
    assert parse_retry_after("9223372036854775807") == 86400.0


def test_requests_are_paced_by_the_advertised_fill_rate() -> None:
    slept: list[float] = []
    checks = DcChecks(sleep=slept.append)
    headers = {"X-RateLimit-Remaining": "1", "X-RateLimit-FillRate": "4", "X-RateLimit-Interval-Seconds": "2"}
    checks.check("GET", "/rest/api/space", httpx.Response(200, headers=headers), None)
    checks.before_request()  # the one token left
    checks.before_request()  # none left: wait for the next at 2 tokens per second
    checks.before_request()
    assert slept == [0.5, 0.5]


def test_a_rate_limited_site_is_read_without_errors(make_reader: MakeReader, site: DcSite) -> None:
    site.configure(DcKnobs(rate_limit=1000, burst=3))
    reader = make_reader()
    reader.connect()
    assert len(reader.read_all(["DOCS", "ENG", "FIN"])) == 3
