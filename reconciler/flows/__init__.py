"""The composition root: one flow per command (plan, apply, drift, import), each readable top to bottom,
and the ``Connection`` (``connect.py``) that opens the site's backend once per run. See
docs/architecture.md.
"""
