"""The sandbox: an embedded, simulated Confluence Cloud site (DESIGN.md §8, docs/sandbox.md).

Front doors: :func:`reconciler.sandbox.transport.open_sandbox_transport` (in-process httpx transport) and
:func:`reconciler.sandbox.server.start_server` (threaded HTTP on loopback), both over ``api.handle``.
"""

from __future__ import annotations

from reconciler.sandbox.store import DEFAULT_STATE_DIR, default_admin_api_key, default_credentials

__all__ = ["DEFAULT_STATE_DIR", "default_admin_api_key", "default_credentials"]
