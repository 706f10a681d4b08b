"""``reconciler init DIR``: the files of a new policy repository (docs/commands/init.md).

Pure apart from reading its own package data: the three workflows (this repository's
``.github/workflows/policy-*.yml``, shipped as package data, with ``uses: ./`` replaced by the published
action pinned to a ref), the example policies (this repository's ``policies/``), ``.gitignore`` and the
repository's README. The flow (``flows/init_repo.py``) writes them, imports the site's policy when a site
is given, and generates CODEOWNERS from the policy.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable

from reconciler import __version__

ACTION = "acme/confluence-reconciler"  # the published action (docs/ci.md)
WORKFLOWS = ("policy-plan.yml", "policy-apply.yml", "policy-drift.yml")
GITIGNORE = """\
# reconciler: plans and reports made locally or in CI (the workflows upload them as artifacts)
plan.json
plan.md
plan-comment.md
apply.md
drift.md
# Python
__pycache__/
.venv/
"""


def templates() -> Traversable:
    return resources.files("reconciler.scaffold").joinpath("templates")


def default_action() -> str:
    return f"{ACTION}@v{__version__}"


def workflow(name: str, action: str) -> str:
    """One workflow as a policy repository uses it: the published ``action`` instead of ``uses: ./``."""
    text = templates().joinpath("workflows", name).read_text(encoding="utf-8")
    return re.sub(r"(?m)^(\s*(?:- )?uses: )\./\s*$", lambda m: f"{m.group(1)}{action}", text)


def example_policy() -> dict[str, str]:
    """The example policy files by path relative to ``policies/``."""
    root = templates().joinpath("policies")
    out: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".yaml"):
                out[prefix + child.name] = child.read_text(encoding="utf-8")

    walk(root, "")
    return out


def readme(site: str, *, imported: bool, action: str) -> str:
    """The README of the new repository, for its own users (the commands are tested: tests/scaffold)."""
    origin = (f"imported from `{site}` by `reconciler import`" if imported
              else "the examples of `reconciler init` (edit them, or replace them with `reconciler import`)")
    return f"""# Confluence permissions as code

This repository holds who may do what in our Confluence spaces: custom roles, role assignments per
space, and data security controls, as YAML under `policies/` ({origin}). Changes go through pull
requests; GitHub Actions ({action}) shows the plan on the pull request, applies it on merge, and opens
an issue every night when the site has drifted from the policy.

## Changing access

1. Edit `policies/spaces/<KEY>.yaml` (or `roles.yaml`, `defaults.yaml`) on a branch and open a pull
   request. The owners of the file (`.github/CODEOWNERS`, generated from `owners:`) review it.
2. The **policy-plan** check comments the plan: only the spaces your change reaches.
3. Merge: **policy-apply** applies the plan that was reviewed (in the protected environment
   `confluence-production`) and comments the result on the pull request. If the policy or the site
   changed since that plan was made, it plans again, posts the new plan and stops: review it, then run
   policy-apply by hand (Actions → policy-apply → Run workflow).

## On your machine

Install the tool (`pip install confluence-reconciler`), set the site's credentials, then:

```sh
export CONFLUENCE_URL=https://your-site.atlassian.net   # site.url in policies/site.yaml otherwise
export CONFLUENCE_EMAIL=you@example.com CONFLUENCE_API_TOKEN=...
reconciler validate policies
reconciler codeowners policies --check
reconciler plan policies --out plan.json
reconciler apply plan.json
reconciler drift policies
```

`plan` never writes; `apply plan.json` applies exactly that plan, or refuses it (and says what
changed) when the site or the policy moved since. `drift` exits 2 when the site differs from the policy.
After changing `owners:` run `reconciler codeowners policies` and commit `.github/CODEOWNERS`.

## Set-up (once)

Repository secrets (Settings → Secrets and variables → Actions): `CONFLUENCE_URL`,
`CONFLUENCE_READ_EMAIL` + `CONFLUENCE_READ_API_TOKEN` (read-only account, used by pull requests), and
in the protected environment `confluence-production`: `CONFLUENCE_EMAIL` + `CONFLUENCE_API_TOKEN` (the
account that applies). Protect `main` and require the policy-plan check and code owner reviews.
"""
