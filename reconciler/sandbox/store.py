"""Persisted sandbox sites: ``<state_dir>/<name>.json``, created from the seed of that name on first use."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from reconciler.errors import UsageError
from reconciler.sandbox.demo_data import SVC_ACCOUNT_ID
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.site import Site, load_state
from reconciler.sandbox.state import SiteState

# the library's default; commands use flows.connect.sandbox_state_dir (RECONCILER_SANDBOX_DIR first)
DEFAULT_STATE_DIR = (Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
                     / "reconciler" / "sandbox")
_WHERE = "set RECONCILER_SANDBOX_DIR (or --state-dir) to a writable directory"


def state_path(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> Path:
    """``<state_dir>/<name>.json``; a ``state_dir`` that exists but is not a directory is a usage error."""
    if not name or "/" in name or name.startswith("."):
        raise UsageError(f"invalid sandbox name '{name}'")
    folder = Path(state_dir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"sandbox directory '{folder}' is not a directory; {_WHERE}")
    return folder / f"{name}.json"


class SavedSite(Protocol):
    """What :class:`FileSync` needs of a site, Cloud (:class:`Site`) or Data Center."""

    on_write: Any  # Callable[[<the site's class>], None] | None
    before_request: Callable[[], None] | None

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def save(self, path: Path) -> None: ...

    def replace_state(self, state: Any) -> None: ...


def save_site(site: SavedSite, path: Path) -> None:
    """``site.save(path)``; a file system error is a one-line usage error naming the directory."""
    try:
        site.save(path)
    except OSError as err:
        raise UsageError(f"sandbox directory '{path.parent}': cannot write {path.name}: "
                         f"{err.strerror or err}; {_WHERE}") from None


def read_state(path: Path) -> SiteState:
    """The site saved at ``path``; an unreadable or foreign file is a one-line usage error."""
    try:
        return load_state(path)
    except OSError as err:
        raise UsageError(f"sandbox site file '{path}': cannot read it: {err.strerror or err}; "
                         "delete it to start again from the seed") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UsageError(f"sandbox site file '{path}': not a saved sandbox site; run `reconciler sandbox "
                         f"reset {path.stem}` to recreate it from its seed") from None


def seeded(seed: str) -> SiteState:
    """``seed_state(seed)``; an unknown seed is a usage error (the sandbox name comes from the user)."""
    try:
        return seed_state(seed)
    except ValueError as err:
        raise UsageError(str(err)) from None


def open_site(
    name: str, state_dir: Path | str = DEFAULT_STATE_DIR, knobs: Knobs | None = None, seed: str | None = None
) -> Site:
    """The persisted site ``name``, created from ``seed`` (default: the seed named ``name``) if new;
    saved after every write."""
    path = state_path(name, state_dir)
    if path.exists():
        site = Site(read_state(path), knobs)
    else:
        state = seeded(seed or name)
        state.name = name
        site = Site(state, knobs)
        save_site(site, path)
    FileSync(site, path)
    return site


class FileSync:
    """Keeps a site and its file in step: saved after every write, reloaded (with ``read``) before a request
    when another process (or another site object) changed the file since."""

    def __init__(self, site: SavedSite, path: Path, read: Callable[[Path], Any] = read_state) -> None:
        self.site = site
        self.path = path
        self._read = read
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

    def save(self, site: SavedSite) -> None:
        with self._lock:
            save_site(site, self.path)
            self._stamp = self._file_stamp()

    def reload_if_changed(self) -> None:
        with self.site.lock, self._lock:
            stamp = self._file_stamp()
            if stamp is not None and stamp != self._stamp:
                self.site.replace_state(self._read(self.path))
                self._stamp = stamp


def reset_site(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> Path:
    """Recreate ``name`` from the seed it was created from (or the seed named ``name``)."""
    path = state_path(name, state_dir)
    seed = name
    if path.exists():
        try:
            seed = load_state(path).seed or name
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            seed = name  # an unreadable file is replaced by the seed named like the site
    state = seeded(seed)
    state.name = name
    save_site(Site(state), path)
    return path


def default_credentials(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> tuple[str, str]:
    """(email, API token) of the site's admin account, ``svc-reconciler`` (the example policy's actor)."""
    path = state_path(name, state_dir)
    if path.exists():
        user = read_state(path).users.get(SVC_ACCOUNT_ID)
        if user is not None and user.api_token is not None:
            return user.email, user.api_token
    seeded(name)  # validates the name
    return ADMIN_EMAIL, admin_token(name)


def default_admin_api_key(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> str:
    """The org admin API key the sandbox's Admin API accepts (``ATLASSIAN_ADMIN_API_KEY``)."""
    path = state_path(name, state_dir)
    state = read_state(path) if path.exists() else seeded(name)
    return state.admin_api_key
