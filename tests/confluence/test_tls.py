"""The TLS context made ahead (``confluence/tls.py``): the one httpx would make, handed to every client of
the run; without ``prepare`` the clients make their own, as httpx always did. Each test runs in a fresh
interpreter: ``prepare`` holds for the life of a process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# what each client of the run is given as httpx's ``verify``: in ``given``, in order
CAPTURE = """
import httpx
given = []
real = httpx.Client
def client(*args, **kwargs):
    given.append(kwargs.get("verify"))
    return real(*args, **kwargs)
httpx.Client = client
"""


def _run(*parts: str) -> str:
    code = "".join(textwrap.dedent(part) for part in parts)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_prepared_context_is_the_one_every_client_of_the_run_uses() -> None:
    out = _run(CAPTURE, """
        import ssl
        from reconciler.confluence import tls
        from reconciler.confluence.client import ConfluenceClient
        tls.prepare()
        tls.prepare()  # once per process
        made = tls.context()
        ConfluenceClient("https://acme.atlassian.net").close()
        ConfluenceClient("https://api.atlassian.com/ex/confluence/x").close()
        print(isinstance(made, ssl.SSLContext), made.verify_mode == ssl.CERT_REQUIRED, made.check_hostname,
              given[0] is made, given[1] is made)
    """)
    assert out == "True True True True True"


def test_without_prepare_each_client_makes_its_own_as_httpx_does() -> None:
    out = _run(CAPTURE, """
        from reconciler.confluence import tls
        from reconciler.confluence.client import ConfluenceClient
        ConfluenceClient("https://acme.atlassian.net").close()
        print(tls.context(), given)
    """)
    assert out == "None [True]"


def test_a_context_that_cannot_be_made_leaves_it_to_the_client_which_says_so_in_one_line() -> None:
    """A broken ``SSL_CERT_FILE``: ``prepare`` keeps nothing; the client makes its own, fails on it, and
    says which settings to fix (a usage error, not an internal one)."""
    out = _run("""
        import os
        os.environ["SSL_CERT_FILE"] = "/nonexistent/ca.pem"
        from reconciler.confluence import tls
        from reconciler.confluence.client import ConfluenceClient
        from reconciler.errors import UsageError
        tls.prepare()
        print(tls.context())
        try:
            ConfluenceClient("https://acme.atlassian.net")
        except UsageError as err:
            print(err)
    """)
    said = ("cannot open a connection to acme.atlassian.net: the TLS settings (SSL_CERT_FILE, SSL_CERT_DIR) "
            "cannot be used (FileNotFoundError: No such file or directory); fix or unset them")
    assert out.splitlines() == ["None", said]
