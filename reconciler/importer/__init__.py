"""``reconciler import``: a policy directory written from a live site (read through the backend contract).

``snapshot.py`` says what import reads and which account it runs as; ``files.py`` turns the snapshot into
policy files (pure). The flow is ``reconciler.flows.import_site``.
"""
