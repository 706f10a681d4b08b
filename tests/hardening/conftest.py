"""Shared fixtures of the hardening tests (issue 14): a fresh demo sandbox and no real credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
CREDENTIALS = ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN",
               "ATLASSIAN_ADMIN_API_KEY", "ATLASSIAN_ADMIN_URL", "CI", "NO_COLOR", "RECONCILER_DEBUG",
               "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh demo sandbox under tmp_path, the working directory tmp_path, no credentials or proxies."""
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.chdir(tmp_path)
    return tmp_path
