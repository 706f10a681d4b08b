"""Persisted sandbox sites: ``<state_dir>/<name>.json``, created from the seed of that name on first use."""

from __future__ import annotations

from pathlib import Path

from reconciler.sandbox.demo_data import SVC_ACCOUNT_ID
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.site import Site, load_state

DEFAULT_STATE_DIR = Path(".reconciler/sandbox")


def state_path(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"invalid sandbox name '{name}'")
    return Path(state_dir) / f"{name}.json"


def open_site(
    name: str, state_dir: Path | str = DEFAULT_STATE_DIR, knobs: Knobs | None = None, seed: str | None = None
) -> Site:
    """The persisted site ``name``, created from ``seed`` (default: the seed named ``name``) if new;
    saved after every write."""
    path = state_path(name, state_dir)
    if path.exists():
        site = Site(load_state(path), knobs)
    else:
        state = seed_state(seed or name)
        state.name = name
        site = Site(state, knobs)
        site.save(path)
    site.on_write = lambda s: s.save(path)
    return site


def reset_site(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> Path:
    """Recreate ``name`` from the seed it was created from (or the seed named ``name``)."""
    path = state_path(name, state_dir)
    seed = (load_state(path).seed if path.exists() else "") or name
    state = seed_state(seed)
    state.name = name
    Site(state).save(path)
    return path


def default_credentials(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> tuple[str, str]:
    """(email, API token) of the site's admin account, ``svc-reconciler`` (the example policy's actor)."""
    path = state_path(name, state_dir)
    if path.exists():
        user = load_state(path).users.get(SVC_ACCOUNT_ID)
        if user is not None and user.api_token is not None:
            return user.email, user.api_token
    seed_state(name)  # validates the name
    return ADMIN_EMAIL, admin_token(name)


def default_admin_api_key(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> str:
    """The org admin API key the sandbox's Admin API accepts (``ATLASSIAN_ADMIN_API_KEY``)."""
    path = state_path(name, state_dir)
    state = load_state(path) if path.exists() else seed_state(name)
    return state.admin_api_key
