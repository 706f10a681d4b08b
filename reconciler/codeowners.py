"""CODEOWNERS from the policy: each space's file belongs to that space's owners, the rest to the site's.

DESIGN.md §3: a file under ``policies/spaces/`` declares exactly the space named like the file, so
``policies/spaces/ENG.yaml`` can be given to the ``owners:`` of ``ENG``. Every other policy file (and the
whole policy directory, as a catch-all) belongs to ``site.owners``, as does the CODEOWNERS file itself, so
nobody moves ownership without the site's owners. GitHub applies the LAST matching line, so the catch-all
comes first and the rest follows sorted by path.

``build_codeowners`` is pure; ``layout_for`` is the one function that looks at the file system (through the
loader's own ``policy_files``, so both agree on which files make the policy).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reconciler.errors import UsageError
from reconciler.model import DesiredState
from reconciler.policy.loader import policy_files

SPACES_DIR = "spaces"
CODEOWNERS_HOMES = (".github", "docs")  # GitHub also reads CODEOWNERS from the repository root


@dataclass(frozen=True, slots=True)
class OwnerRule:
    """One CODEOWNERS line: a repository-root-anchored pattern and its owners."""

    pattern: str
    owners: tuple[str, ...]

    @property
    def line(self) -> str:
        escaped = self.pattern.replace("\\", "\\\\").replace(" ", "\\ ")
        return " ".join((escaped, *self.owners))


@dataclass(frozen=True, slots=True)
class Codeowners:
    """The generated file: its rules, its text, and notes for the user (owners that could not be used)."""

    rules: tuple[OwnerRule, ...]
    text: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things are, as repository-relative POSIX paths (``policies``, ``.github/CODEOWNERS``)."""

    policy_dir: str
    codeowners: str
    files: tuple[str, ...]  # policy files, repository-relative
    sources: Mapping[str, str] = field(default_factory=dict)  # space key -> its file, repository-relative
    data_security: str | None = None  # the file declaring data_security:, repository-relative


def repo_root_for(out: Path) -> Path:
    """The repository root a CODEOWNERS file at ``out`` governs (its patterns are relative to it)."""
    parent = out.resolve().parent
    return parent.parent if parent.name in CODEOWNERS_HOMES else parent


def _relative(path: Path, root: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return resolved.as_posix()


def layout_for(policy_dir: Path, out: Path, desired: DesiredState) -> Layout:
    """Find the policy files and express every path relative to the repository root of ``out``."""
    root = repo_root_for(out)
    rel_dir = _relative(policy_dir, root)
    if rel_dir.startswith("/"):
        raise UsageError(
            f"the policy directory {policy_dir} is outside {root}, the repository that {out} belongs to"
        )
    files = tuple(_relative(policy_dir / rel, root) for rel in policy_files(policy_dir))
    sources = {key: _relative(Path(space.source.file), root) for key, space in desired.spaces.items()}
    ds = desired.data_security
    return Layout(rel_dir, _relative(out, root), files, sources,
                  _relative(Path(ds.source.file), root) if ds else None)


def _anchored(path: str) -> str:
    return "/" + path.lstrip("/")


def _space_file_key(path: str, policy_dir: str) -> str | None:
    """``ENG`` for ``policies/spaces/ENG.yaml`` (also in subfolders of spaces/); None for other files."""
    rel = PurePosixPath(path)
    if policy_dir != ".":
        if not rel.is_relative_to(policy_dir):
            return None
        rel = rel.relative_to(policy_dir)
    if len(rel.parts) < 2 or rel.parts[0] != SPACES_DIR:
        return None
    return rel.stem


def _file_owners(desired: DesiredState, layout: Layout, path: str) -> tuple[tuple[str, ...], str | None]:
    """Who owns one policy file, and a note when a space file falls back to site.owners."""
    key = _space_file_key(path, layout.policy_dir)
    ds = desired.data_security
    if ds is not None and ds.owners and path == layout.data_security:
        return tuple(ds.owners), None  # the org admins own the org's data security defaults
    if key is None:
        return tuple(desired.site.owners), None
    space = desired.spaces.get(key)
    if space is not None and space.owners and layout.sources.get(key) == path:
        return tuple(space.owners), None
    return tuple(desired.site.owners), f"{path}: space {key} names no owners: the file stays with site.owners"


def _unusable_owners(desired: DesiredState, layout: Layout) -> list[str]:
    """Notes for spaces with owners that are declared outside spaces/ (their file is shared)."""
    notes = []
    spaces_dir = f"{layout.policy_dir}/{SPACES_DIR}"
    for key, space in sorted(desired.spaces.items()):
        source = layout.sources.get(key, space.source.file)
        if space.owners and _space_file_key(source, layout.policy_dir) is None:
            notes.append(
                f"{source}: space {key} declares owners {', '.join(space.owners)}, but only a file under "
                f"{spaces_dir}/ can belong to a space's owners: the file stays with site.owners "
                f"(move {key} to {spaces_dir}/{key}.yaml to hand it over)"
            )
    return notes


def build_rules(desired: DesiredState, layout: Layout) -> tuple[tuple[OwnerRule, ...], tuple[str, ...]]:
    """The CODEOWNERS rules in file order, and notes about owners that could not be used."""
    site_owners = tuple(desired.site.owners)
    notes: list[str] = []
    # CODEOWNERS in .github/: the whole directory (the workflows that apply the policy) is the site's too
    home = PurePosixPath(layout.codeowners).parent
    own = _anchored(home.as_posix()) + "/" if home.name == ".github" else _anchored(layout.codeowners)
    rules = [OwnerRule(own, site_owners)]
    for path in layout.files:
        owners, note = _file_owners(desired, layout, path)
        rules.append(OwnerRule(_anchored(path), owners))
        if note:
            notes.append(note)
    notes += _unusable_owners(desired, layout)
    catch_all = "*" if layout.policy_dir == "." else _anchored(layout.policy_dir) + "/"
    return (OwnerRule(catch_all, site_owners), *sorted(rules, key=lambda r: r.pattern)), tuple(notes)


def render(rules: Sequence[OwnerRule], *, policy_dir: str, command: str) -> str:
    """The file's text: a header saying it is generated and how to regenerate it, then one line a rule."""
    header = [
        f"# Generated by `{command}` from the owners: in {policy_dir}/ -- do not edit by hand.",
        f"# The owners of a space own {policy_dir}/{SPACES_DIR}/<KEY>.yaml; site.owners own the rest.",
        f"# To change an owner, edit owners: in the policy and run: {command}",
        "# GitHub applies the last matching line, so the catch-all comes first.",
        "",
    ]
    return "\n".join([*header, *(rule.line for rule in rules)]) + "\n"


def build_codeowners(desired: DesiredState, layout: Layout, *, command: str) -> Codeowners:
    rules, notes = build_rules(desired, layout)
    return Codeowners(rules, render(rules, policy_dir=layout.policy_dir, command=command), notes)


def regenerate_command(policy_dir: str, out: str, default_out: str) -> str:
    """The exact command line that regenerates the file, as the user should type it."""
    parts = ["reconciler", "codeowners", policy_dir]
    if out != default_out:
        parts += ["--out", out]
    return " ".join(parts)


def stale_diff(current: str | None, expected: str, *, name: str) -> list[str]:
    """A unified diff from the file on disk to the generated text; empty when the file is current."""
    if current == expected:
        return []
    return list(
        difflib.unified_diff(
            (current or "").splitlines(),
            expected.splitlines(),
            fromfile=f"{name} (committed)" if current is not None else "/dev/null",
            tofile=f"{name} (generated)",
            lineterm="",
        )
    )
