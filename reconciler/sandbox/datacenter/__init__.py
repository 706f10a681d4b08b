"""A simulated Confluence Data Center site (docs/sandbox.md, "Data Center"; evidence/datacenter.md).

Front doors: :func:`open_dc_transport` (in-process httpx transport, ``sandbox:dc-demo``) and
``reconciler.sandbox.server.start_server(site, handler=handle)`` (loopback HTTP), both over :func:`handle`.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.sandbox.datacenter.api import handle
from reconciler.sandbox.datacenter.seeds import is_dc_seed, seed_state
from reconciler.sandbox.datacenter.site import DcKnobs, DcSite
from reconciler.sandbox.datacenter.state import DcState
from reconciler.sandbox.datacenter.store import (
    dc_context_path,
    default_dc_credentials,
    is_datacenter,
    open_dc_site,
    reset_dc_site,
)
from reconciler.sandbox.store import DEFAULT_STATE_DIR
from reconciler.sandbox.transport import SandboxTransport

__all__ = [
    "DcKnobs", "DcSite", "DcState", "dc_context_path",
    "default_dc_credentials", "handle", "is_datacenter", "is_dc_seed",
    "open_dc_site", "open_dc_transport", "reset_dc_site", "seed_state",
]


def open_dc_transport(name: str, state_dir: Path = DEFAULT_STATE_DIR, knobs: DcKnobs | None = None
                      ) -> SandboxTransport:
    """An httpx transport over the persisted DC sandbox site ``name``."""
    return SandboxTransport(open_dc_site(name, state_dir, knobs), handler=handle)
