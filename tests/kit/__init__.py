"""The one test kit.

- ``tests.kit.state``: building desired and live state (``desired_state``, ``live_state``) and the one role
  catalogue tests use (``SITE_ROLES``: the site's documented default roles, for the planner, apply, drift
  and import alike);
- ``tests.kit.sites``: a site for a test through the composition root (``connection``, ``site_client``,
  ``fetch_live``), every connection closed after the test;
- root fixtures (``tests/conftest.py``): ``demo_policy`` (a copy of policies/), ``sandbox_dir`` (an empty
  directory for persisted sandbox sites) and ``demo_connection`` (a ``Connection`` on it).

Domain builders (``tests/plan/factory.py``, ``tests/drift/builders.py``,
``tests/plan/data_security_builders.py``, ``tests/apply/fakes.py``, ``tests/confluence/test_fetch.py``) are
thin parameterisations of these.
"""
