"""``reconciler doctor``: read-only checks of every assumption about a site and its org, through the
site's one client and (when an org id and an Admin API key or a sandbox site are given) its Admin API."""

from __future__ import annotations

from collections.abc import Callable

from reconciler.confluence.admin import AdminApi
from reconciler.confluence.doctor import Doctor, Finding, data_security_finding
from reconciler.datacenter.backend import DataCenterBackend
from reconciler.datacenter.doctor import DcDoctor
from reconciler.flows.connect import ADMIN_KEY, Connection


def run_doctor(site: str, org_id: str | None, connection: Connection) -> tuple[str, list[Finding]]:
    """(the site URL checked, the findings); ``site``: a URL, or "" for ``CONFLUENCE_URL``."""
    url = connection.site_url(site)
    backend = connection.open(site, read_only=True)
    if isinstance(backend, DataCenterBackend):
        return url, DcDoctor(backend.client, allow_jsonrpc=backend.reader.allow_jsonrpc).run()
    extra: list[Callable[[], Finding]] = []
    if org_id and connection.admin_reachable(site):

        def data_security() -> Finding:
            return data_security_finding(AdminApi(backend.admin_client(), org_id))

        extra.append(data_security)
    findings = Doctor(backend.client).run(extra)
    if not extra:
        why = "no organisation id (--org-id or data_security.org_id)" if not org_id else f"no {ADMIN_KEY}"
        findings.append(Finding("data security", "skip", f"data security: not checked: {why}"))
    return url, findings
