"""Persisted sandbox sites: ``<state_dir>/<name>.json``, created from the seed of that name on first use."""

from __future__ import annotations

import threading
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
    FileSync(site, path)
    return site


class FileSync:
    """Keeps a site and its file in step: saved after every write, reloaded before a request when
    another process (or another site object) changed the file since."""

    def __init__(self, site: Site, path: Path) -> None:
        self.site = site
        self.path = path
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        site.on_write = self.save
        site.before_request = self.reload_if_changed

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def save(self, site: Site) -> None:
        with self._lock:
            site.save(self.path)
            self._stamp = self._file_stamp()

    def reload_if_changed(self) -> None:
        with self.site.lock, self._lock:
            stamp = self._file_stamp()
            if stamp is not None and stamp != self._stamp:
                self.site.replace_state(load_state(self.path))
                self._stamp = stamp


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
