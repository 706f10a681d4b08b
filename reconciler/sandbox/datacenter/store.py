"""Persisted DC sandbox sites (``<state_dir>/<name>.json``, ``"platform": "datacenter"``), kept in step with
their file like the Cloud ones (by :class:`reconciler.sandbox.store.FileSync`)."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.sandbox.datacenter.seeds import ADMIN_USERNAME, DEMO_PAT, is_dc_seed, seed_state
from reconciler.sandbox.datacenter.site import DcKnobs, DcSite
from reconciler.sandbox.datacenter.state import PLATFORM, DcState
from reconciler.sandbox.store import DEFAULT_STATE_DIR, FileSync, save_site, state_path


def is_datacenter(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> bool:
    """Whether ``sandbox:<name>`` is a DC site: its saved file says so, or (new) its seed is a DC seed."""
    path = state_path(name, state_dir)
    if path.exists():
        try:
            return bool(json.loads(path.read_text(encoding="utf-8")).get("platform") == PLATFORM)
        except (OSError, ValueError, AttributeError):
            return False
    return is_dc_seed(name)


def read_state(path: Path) -> DcState:
    try:
        return DcState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except OSError as err:
        raise UsageError(f"sandbox site file '{path}': cannot read it: {err.strerror or err}") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UsageError(f"sandbox site file '{path}': not a saved Data Center sandbox site; run "
                         f"`reconciler sandbox reset {path.stem}` to recreate it from its seed") from None


def seeded(seed: str) -> DcState:
    try:
        return seed_state(seed)
    except ValueError as err:
        raise UsageError(str(err)) from None


def open_dc_site(name: str, state_dir: Path | str = DEFAULT_STATE_DIR, knobs: DcKnobs | None = None,
                 seed: str | None = None) -> DcSite:
    path = state_path(name, state_dir)
    if path.exists():
        site = DcSite(read_state(path), knobs)
    else:
        state = seeded(seed or name)
        state.name = name
        site = DcSite(state, knobs)
        save_site(site, path)
    FileSync(site, path, read_state)
    return site


def reset_dc_site(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> Path:
    path = state_path(name, state_dir)
    seed = read_state(path).seed if path.exists() else name
    state = seeded(seed or name)
    state.name = name
    save_site(DcSite(state), path)
    return path


def dc_context_path(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> str:
    """The context path the site ``name`` serves under (``/confluence`` for dc-demo)."""
    path = state_path(name, state_dir)
    return (read_state(path) if path.exists() else seeded(name)).context_path


def default_dc_credentials(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> tuple[str, str]:
    """(username, PAT) of the site's admin account ``svc-reconciler``."""
    path = state_path(name, state_dir)
    state = read_state(path) if path.exists() else seeded(name)
    user = state.user_by_name(ADMIN_USERNAME)
    return ADMIN_USERNAME, (user.pat if user is not None and user.pat else DEMO_PAT)

