"""``reconciler init DIR``: write a new policy repository.

``run_init`` = refuse a non-empty DIR (unless forced) -> the policy: ``run_import`` of the site when one
is given (``--site`` or CONFLUENCE_URL), else the examples -> the three workflows with the published
action -> CODEOWNERS generated from the policy (``.github/`` and every file outside ``spaces/`` belong to
``site.owners``) -> .gitignore, README.md, schemas/policy.schema.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.backend import Progress
from reconciler.errors import UsageError
from reconciler.flows.connect import Connection
from reconciler.flows.import_site import run_import

CODEOWNERS = ".github/CODEOWNERS"


@dataclass(frozen=True)
class InitResult:
    directory: Path
    imported: bool
    files: tuple[str, ...]  # written, relative to the directory


def run_init(
    directory: Path,
    connection: Connection,
    *,
    site: str | None = None,
    action: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> InitResult:
    from reconciler import scaffold  # noqa: PLC0415 - package data, not for `--help`
    from reconciler.codeowners import build_codeowners, layout_for, regenerate_command  # noqa: PLC0415
    from reconciler.policy.loader import load_policy  # noqa: PLC0415
    from reconciler.policy.schema import json_schema_text  # noqa: PLC0415

    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: not a directory; give a new or empty directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UsageError(f"{directory} is not empty; give a new or empty directory, or --force to write "
                         "into it")
    pinned = action or scaffold.default_action()
    written: list[str] = []

    def write(relative: str, text: str) -> None:
        target = directory / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as err:
            raise UsageError(f"{target}: cannot write: {err.strerror or err}") from None
        written.append(relative)

    reachable = site or connection.env.get("CONFLUENCE_URL")
    if reachable:
        result = run_import(directory / "policies", connection, site=site, force=force, progress=progress)
        written += [f"policies/{name}" for name in result.files]
    else:
        for relative, text in scaffold.example_policy().items():
            write(f"policies/{relative}", text)
    for name in scaffold.WORKFLOWS:
        write(f".github/workflows/{name}", scaffold.workflow(name, pinned))
    write(".gitignore", scaffold.GITIGNORE)
    write("schemas/policy.schema.json", json_schema_text())
    desired = load_policy(directory / "policies")
    layout = layout_for(directory / "policies", directory / CODEOWNERS, desired)
    command = regenerate_command("policies", CODEOWNERS, CODEOWNERS)
    write(CODEOWNERS, build_codeowners(desired, layout, command=command).text)
    label = connection.display_url(desired.site.url)
    write("README.md", scaffold.readme(label, imported=bool(reachable), action=pinned))
    return InitResult(directory, bool(reachable), tuple(written))
