"""The report formats of ``plan`` and ``apply`` (``--format``), named without importing the renderers:
every command's parser is built on every run (docs/performance.md, "Start-up")."""

from __future__ import annotations

REPORT_FORMATS: tuple[str, ...] = ("text", "markdown", "json")
