"""The ``Connection``: built once per command from the environment, the one place that picks the backend,
its transport and its credentials, and the only code that knows ``sandbox:<name>`` sites.

A flow asks it for the backend of the policy's site (``open``); each client is opened once per run and
closed with the connection: a plan of the site and its org's app policies opens one client for the site
and one for the Admin API. Tests inject a site by passing a ``Connection`` (an environment, a transport,
a sandbox directory), never by reaching into library signatures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from reconciler.confluence.cloud import CloudBackend
from reconciler.confluence.endpoint import (
    ACCEPTED_FORMS,
    DefaultLogin,
    SiteUrl,
    check_proxy_env,
    cloud_id_hint,
    effective_site_url,
    open_client,
    parse_site_url,
)
from reconciler.datacenter.backend import DataCenterBackend
from reconciler.datacenter.connect import open_dc_client, parse_dc_url, probe_datacenter
from reconciler.errors import UsageError
from reconciler.model import Platform
from reconciler.policy.platform import platform_of_url

if TYPE_CHECKING:
    import httpx

    from reconciler.confluence.client import ConfluenceClient

SANDBOX = "sandbox:"
SANDBOX_BASE_URL = "https://sandbox.invalid"
SANDBOX_DIR_VARIABLE = "RECONCILER_SANDBOX_DIR"
ADMIN_KEY = "ATLASSIAN_ADMIN_API_KEY"


def parse_site(url: str) -> SiteUrl:
    """A site URL in any accepted form: a Cloud site, the Cloud gateway, or ``sandbox:<name>``."""
    text = url.strip()
    if not text.startswith(SANDBOX):
        return parse_site_url(text, ACCEPTED_FORMS)
    if not text.removeprefix(SANDBOX).strip():
        raise UsageError(f"site URL 'sandbox:' has no sandbox name; accepted forms: {ACCEPTED_FORMS}")
    return SiteUrl(SANDBOX_BASE_URL, "sandbox", label="the sandbox", admin_base=SANDBOX_BASE_URL)


class Connection:
    """The environment of one command: which site, through what, logged in how.

    ``env`` holds the settings and credentials (default: the process environment); ``transport`` replaces
    the network (tests), ``admin_transport`` the Admin API's when it differs (a test faulting the site
    only); ``sandbox_dir`` is where ``sandbox:`` sites are kept (default
    ``sandbox_state_dir``); ``sleep`` is the clients' wait between retries.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        admin_transport: httpx.BaseTransport | None = None,
        sandbox_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self._transport = transport
        self._admin_transport = admin_transport
        self._sandbox_dir = sandbox_dir
        self._sleep = sleep
        self._backends: dict[tuple[str, bool], CloudBackend | DataCenterBackend] = {}
        self.clients_opened: list[str] = []  # "site" or "admin", once per client opened (tests count them)

    # ------------------------------------------------------------------------------------- the site

    def site_url(self, policy_url: str) -> str:
        """The site the tool talks to: ``CONFLUENCE_URL`` when set, else the policy's ``site.url``."""
        return effective_site_url(policy_url, self.env)

    def display_url(self, policy_url: str) -> str:
        """The site URL as plans show it: no user info, query or fragment (nothing secret in a plan)."""
        url = self.site_url(policy_url).strip()
        if url.startswith(SANDBOX):
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))

    def admin_reachable(self, policy_url: str) -> bool:
        """Whether the org's Admin API can be asked: a sandbox site, or an Admin API key is set."""
        return self.site_url(policy_url).startswith(SANDBOX) or bool((self.env.get(ADMIN_KEY) or "").strip())

    # ------------------------------------------------------------------------------------ opening

    def open(
        self,
        policy_url: str,
        *,
        read_only: bool,
        platform: Platform | None = None,
        jsonrpc: bool = False,
        detect: bool = False,
    ) -> CloudBackend | DataCenterBackend:
        """The backend of the site (opened on first use; the same one for the rest of the run).

        ``platform``: the policy's (``site.platform``); None infers it from the policy's URL (import).
        ``jsonrpc``: a Data Center site may use the legacy JSON-RPC service (``site.jsonrpc: allow``).
        ``detect``: the policy left ``site.platform`` to the URL; a Cloud guess for a host that is not
        Atlassian's is checked with one anonymous ``GET /rest/api/server-information``."""
        url = self.site_url(policy_url)
        key = (url, read_only)
        if key not in self._backends:
            if detect and platform is Platform.CLOUD:
                self._refuse_datacenter(url)
            if (platform or platform_of_url(policy_url or url)) is Platform.DATACENTER:
                self._backends[key] = self._open_datacenter(url, read_only=read_only, jsonrpc=jsonrpc)
            else:
                self._backends[key] = self._open(url, read_only=read_only)
        return self._backends[key]

    def _open_datacenter(self, url: str, *, read_only: bool, jsonrpc: bool) -> DataCenterBackend:
        """A Data Center site: ``https://host[/context]`` or a ``sandbox:`` DC site (its own PAT)."""
        transport, fallback = self._transport, None
        if url.strip().startswith(SANDBOX):
            name = url.strip().removeprefix(SANDBOX).strip()
            state_dir = self._state_dir()
            # the sandbox is imported only for sandbox: sites (measured in docs/performance.md)
            from reconciler.sandbox.datacenter import (  # noqa: PLC0415
                dc_context_path,
                default_dc_credentials,
                is_datacenter,
                open_dc_transport,
            )

            if not is_datacenter(name, state_dir):
                raise UsageError(f"sandbox:{name} is a Confluence Cloud sandbox site, but the policy is for "
                                 "Data Center (site.platform); use a dc-* sandbox such as sandbox:dc-demo")

            transport = transport or open_dc_transport(name, state_dir)
            base = SANDBOX_BASE_URL + dc_context_path(name, state_dir)
            fallback = default_dc_credentials(name, state_dir)[1]
        else:
            base = parse_dc_url(url)
        client = open_dc_client(base, read_only=read_only, env=self.env, transport=transport,
                                fallback_pat=fallback, sleep=self._sleep)
        self.clients_opened.append("site")
        return DataCenterBackend(client, allow_jsonrpc=jsonrpc)

    def _refuse_datacenter(self, url: str) -> None:
        """A site the URL made Cloud that answers like Data Center: say so, with the override."""
        try:
            parts = urlsplit(url.strip())
            host = (parts.hostname or "").lower()
        except ValueError:
            return  # malformed: the Cloud path reports it in one line
        if (url.strip().startswith(SANDBOX) or host.endswith(".atlassian.net") or host == "api.atlassian.com"
                or host in ("127.0.0.1", "localhost", "::1") or parts.scheme not in ("http", "https")):
            return
        found = probe_datacenter(f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", self._transport)
        if found is not None:
            raise UsageError(f"{self.display_url(url)} answers like Confluence Data Center {found} "
                             "(GET /rest/api/server-information) but the policy is read as Cloud: set "
                             "site.platform: datacenter (or site.platform: cloud to keep Cloud)")

    def _state_dir(self) -> Path:
        return self._sandbox_dir or sandbox_state_dir(self.env)

    def _open(self, url: str, *, read_only: bool) -> CloudBackend:
        site, transport, login = self._locate(url)

        def client(admin: bool) -> ConfluenceClient:
            through = (self._admin_transport or transport) if admin else transport
            opened = open_client(site, read_only=read_only, env=self.env, admin=admin, transport=through,
                                 default_login=login, sleep=self._sleep)
            self.clients_opened.append("admin" if admin else "site")
            return opened

        hint = cloud_id_hint(site, self.env)
        return CloudBackend(client(False), open_admin=lambda: client(True), cloud_id=hint)

    def _locate(self, url: str) -> tuple[SiteUrl, httpx.BaseTransport | None, DefaultLogin | None]:
        """The parsed site, its transport and, for a sandbox, its own accounts."""
        site = parse_site(url)
        if self._transport is None:  # httpx reads the proxy variables of the process itself (trust_env)
            check_proxy_env(os.environ)
        if site.form != "sandbox":
            return site, self._transport, None
        name = url.strip().removeprefix(SANDBOX).strip()
        state_dir = self._state_dir()
        # the sandbox is imported only for sandbox: sites (measured in docs/performance.md)
        from reconciler.sandbox import default_admin_api_key, default_credentials  # noqa: PLC0415
        from reconciler.sandbox.datacenter import is_datacenter  # noqa: PLC0415

        if is_datacenter(name, state_dir):
            raise UsageError(f"sandbox:{name} is a Confluence Data Center sandbox site, but the policy is "
                             "for Cloud: set site.platform: datacenter")
        transport = self._transport
        if transport is None:
            from reconciler.sandbox.transport import open_sandbox_transport  # noqa: PLC0415

            transport = open_sandbox_transport(name, state_dir)
        login = DefaultLogin(
            basic=lambda: default_credentials(name, state_dir=state_dir),
            admin_key=lambda: default_admin_api_key(name, state_dir=state_dir),
            label="the sandbox",
        )
        return site, transport, login

    def close(self) -> None:
        """Close every client this connection opened (it can open them again afterwards)."""
        backends, self._backends = list(self._backends.values()), {}
        for backend in backends:
            backend.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def sandbox_state_dir(env: Mapping[str, str]) -> Path:
    """Where ``sandbox:<name>`` sites live, the same whatever the current directory (docs/sandbox.md):
    ``RECONCILER_SANDBOX_DIR``, else ``$XDG_STATE_HOME/reconciler/sandbox``, else
    ``~/.local/state/reconciler/sandbox``. ``reconciler sandbox`` uses it too (``--state-dir`` first)."""
    variable = (env.get(SANDBOX_DIR_VARIABLE) or "").strip()
    if variable:
        return Path(variable)
    state_home = (env.get("XDG_STATE_HOME") or "").strip()
    absolute = bool(state_home) and Path(state_home).is_absolute()  # XDG: a relative value is ignored
    base = Path(state_home) if absolute else Path.home() / ".local" / "state"
    return base / "reconciler" / "sandbox"
