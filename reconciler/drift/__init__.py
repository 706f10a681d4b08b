"""Drift: where the live site differs from the policy, import of a live site, and role proposals.

- ``classify.detect_drift(desired, live, *, today)``: the classified drift report (pure);
- ``migrate.propose_roles(...)``: roles for principals still on custom access (pure);
- ``importer``: a policy directory written from a live site (``reconciler import``);
- ``run``: the pipelines behind ``reconciler drift`` and ``reconciler import``.
"""
