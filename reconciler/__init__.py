"""reconciler: permissions as code for Confluence."""

__version__ = "0.1.0"
