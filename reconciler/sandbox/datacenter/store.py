"""Persisted DC sandbox sites (``<state_dir>/<name>.json``, ``"platform": "datacenter"``), kept in step with
their file like the Cloud ones (:class:`reconciler.sandbox.store.FileSync` semantics)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.sandbox.datacenter.seeds import ADMIN_USERNAME, DEMO_PAT, is_dc_seed, seed_state
from reconciler.sandbox.datacenter.site import DcKnobs, DcSite
from reconciler.sandbox.datacenter.state import PLATFORM, DcState
from reconciler.sandbox.store import DEFAULT_STATE_DIR, state_path

_WHERE = "set RECONCILER_SANDBOX_DIR (or --state-dir) to a writable directory"


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


def _save(site: DcSite, path: Path) -> None:
    try:
        site.save(path)
    except OSError as err:
        raise UsageError(f"sandbox directory '{path.parent}': cannot write {path.name}: "
                         f"{err.strerror or err}; {_WHERE}") from None


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
        _save(site, path)
    _FileSync(site, path)
    return site


def reset_dc_site(name: str, state_dir: Path | str = DEFAULT_STATE_DIR) -> Path:
    path = state_path(name, state_dir)
    seed = read_state(path).seed if path.exists() else name
    state = seeded(seed or name)
    state.name = name
    _save(DcSite(state), path)
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


class _FileSync:
    def __init__(self, site: DcSite, path: Path) -> None:
        self.site, self.path = site, path
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

    def save(self, site: DcSite) -> None:
        with self._lock:
            _save(site, self.path)
            self._stamp = self._file_stamp()

    def reload_if_changed(self) -> None:
        with self.site.lock, self._lock:
            stamp = self._file_stamp()
            if stamp is not None and stamp != self._stamp:
                self.site.replace_state(read_state(self.path))
                self._stamp = stamp
