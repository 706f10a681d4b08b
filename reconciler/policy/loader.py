"""Load a policy directory: read every ``*.yaml``/``*.yml``, check and merge, resolve to a ``DesiredState``.

All problems of all files are gathered and raised together as one ``PolicyError``, sorted by file and
position. Warnings (an empty file, an expired drift acknowledgement) do not fail the load; they come back
from ``load_policy_with_warnings``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.errors import PolicyError, Problem, Severity, UsageError
from reconciler.model import DesiredState
from reconciler.policy.checks import check_policy
from reconciler.policy.document import Doc, Entry, Merged, did_you_mean
from reconciler.policy.outline import PolicyOutline, outline_of
from reconciler.policy.resolve import resolve
from reconciler.policy.schema import (
    REPLACED_SPACE,
    REPLACED_TOP_LEVEL,
    TOP_LEVEL_KEYS,
    DefaultSpec,
    PolicyFile,
)
from reconciler.policy.translate import problems_from_validation
from reconciler.policy.yamlpos import Mark, parse_yaml

MAX_FILE_BYTES = 1024 * 1024
POLICY_SUFFIXES = (".yaml", ".yml")
# ".yaml"/".yml" in any case, then nothing but what editors, copies and typos add ("~", ".bak", " ")
_LOOKS_LIKE_POLICY = re.compile(r"(\.ya?ml)(?:[\s.~]|\.[a-z0-9_-]+)*$")
SPACES_DIR = "spaces"
_SINGULAR = ("site", "safety", "data_security", "guests", "drift")
_NAMED = {"people": "person", "roles": "role", "spaces": "space"}


def load_policy(
    policy_dir: Path | str, *, today: dt.date | None = None,
    on_outline: Callable[[PolicyOutline], None] | None = None,
) -> DesiredState:
    """The validated, resolved policy; raises ``PolicyError`` with every problem found.

    ``on_outline``: called once the files outside ``spaces/`` are read, before the ``spaces/`` files, with
    the site settings and the space keys known so far (``policy/outline.py``); not called when those files
    have an error or do not declare one ``site:``."""
    desired, _warnings = load_policy_with_warnings(policy_dir, today=today, on_outline=on_outline)
    return desired


def load_policy_with_warnings(
    policy_dir: Path | str, *, today: dt.date | None = None,
    on_outline: Callable[[PolicyOutline], None] | None = None,
) -> tuple[DesiredState, list[Problem]]:
    """Like ``load_policy``, also returning the warnings (sorted)."""
    root = Path(policy_dir)
    merged, problems, digest = read_policy(root, on_outline)
    problems.extend(check_policy(merged, today=today or dt.datetime.now(dt.UTC).date()))
    problems.sort(key=lambda p: p.sort_key)
    if any(p.severity is Severity.ERROR for p in problems):
        raise PolicyError(problems)
    return resolve(merged, digest), problems


def policy_files(root: Path, problems: list[Problem] | None = None) -> list[Path]:
    """The policy files under ``root``, relative, in path order; hidden files and folders are skipped.

    Only names ending in ``.yaml`` or ``.yml`` (lowercase) are read. Nothing else that could hold policy is
    skipped silently (skipping it would turn the access it declared into removals); each of these is
    reported into ``problems`` as an error:

    - a name that looks like a policy file but is not read (``HR.YAML``, ``HR.Yml``, ``HR.yaml.bak``,
      ``HR.yaml~``, ``HR.yaml `` with a trailing space);
    - a ``*.yaml``/``*.yml`` entry that is not a regular file (a broken symbolic link, a directory, a FIFO,
      a link out of the tree);
    - a symbolic link to a directory (whatever its name), whose files would be skipped;
    - a directory that cannot be listed.

    A symbolic link to a regular file inside the policy directory is followed.
    """
    found = []
    resolved_root = root.resolve()
    for path, entry in _walk(root, problems):
        rel = path.relative_to(root)
        link = entry.is_symlink()  # from the listing: no system call per file (10,000 at 10,000 spaces)
        if link and path.is_dir():  # not followed: its files would be skipped
            why: str | None = ("a symbolic link to a directory is not followed, so the policy files in it "
                               "would be skipped; replace it with a real directory")
        elif path.suffix not in POLICY_SUFFIXES:
            why = _near_miss(path.name)
            if why is None:
                continue
        elif not link and entry.is_file(follow_symlinks=False):  # a regular file: read it
            why = None
        else:
            why = _not_a_policy_file(path, resolved_root)
        if why is None:
            found.append(rel)
        elif problems is not None:
            problems.append(Problem(path.as_posix(), 1, 1, why))
    return sorted(found, key=lambda p: p.as_posix())


def _walk(root: Path, problems: list[Problem] | None) -> Iterator[tuple[Path, os.DirEntry[str]]]:
    """Every entry under ``root`` (its path and its listing) except hidden ones, not following symbolic
    links to directories; a directory that cannot be listed is a problem (``os.walk`` and ``rglob`` would
    skip it silently)."""
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError as err:
            if problems is not None:
                problems.append(Problem(folder.as_posix(), 1, 1, "cannot list directory: "
                                        f"{err.strerror or err}; its policy files would be skipped, so "
                                        "make it readable or move it out of the policy directory"))
            continue
        for entry in listed:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            yield path, entry
            if entry.is_dir(follow_symlinks=False):
                pending.append(path)


def _near_miss(name: str) -> str | None:
    """Why a file whose name looks like a policy file's but is not read is an error, or None."""
    lowered = name.lower()
    match = _LOOKS_LIKE_POLICY.search(lowered)
    if match is None:
        return None
    fixed = name[: match.start()] + match.group(1)
    return (f"looks like a policy file but is not read (only names ending in '.yaml' or '.yml', lowercase, "
            f"are read); rename it to '{fixed}' or move it out of the policy directory")


def _not_a_policy_file(path: Path, resolved_root: Path) -> str | None:
    """Why ``path`` cannot be read as a policy file, or None when it is a regular file in the tree."""
    link = path.is_symlink()
    if link and not path.exists():
        return "not a readable file (a broken symbolic link); fix the link or delete it"
    if path.is_dir():
        return "not a readable file (a directory); rename it or move its files up"
    if not path.is_file():
        return "not a readable file (a FIFO, socket or device); replace it with a regular file or delete it"
    if link and not path.resolve().is_relative_to(resolved_root):
        return ("not a readable file (a symbolic link to a file outside the policy directory); "
                "copy the file into the policy directory instead")
    return None


def read_policy(
    root: Path, on_outline: Callable[[PolicyOutline], None] | None = None
) -> tuple[Merged, list[Problem], str]:
    """Read and merge every file; returns the merged policy, the problems so far and the digest.

    The files outside ``spaces/`` are read first, then ``on_outline`` is called with what they say (only
    when they have no error and declare one ``site:``), then the ``spaces/`` files; merging and the
    digest follow path order whatever the reading order, so messages and digest do not depend on it."""
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise UsageError(f"policy directory '{root}' {what}")
    problems: list[Problem] = []
    files = policy_files(root, problems)
    merged = Merged(policy_dir=root.as_posix(), files=tuple((root / rel).as_posix() for rel in files))
    if not files and not problems:
        problems.append(Problem(root.as_posix(), 1, 1, "no policy files (*.yaml, *.yml) found"))
    digest = hashlib.sha256()
    in_spaces = [i for i, rel in enumerate(files) if rel.parts[0] == SPACES_DIR and len(rel.parts) > 1]
    first, last = (in_spaces[0], in_spaces[-1] + 1) if in_spaces else (len(files), len(files))
    outside = {rel: _read_file(root, rel, problems, merged.seen) for rel in files[:first] + files[last:]}
    if on_outline is not None and not any(p.severity is Severity.ERROR for p in problems):
        outline = outline_of((doc[0] for _raw, doc in outside.values() if doc is not None), files[first:last])
        if outline is not None:
            on_outline(outline)
    for rel in files:  # path order; the spaces/ files (contiguous in it) are read here
        raw, doc = outside[rel] if rel in outside else _read_file(root, rel, problems, merged.seen)
        if raw is not None:
            digest.update(rel.as_posix().encode() + b"\0" + raw + b"\0")
        if doc is not None:
            _merge(merged, *doc, problems)
    return merged, problems, digest.hexdigest()


def _read_file(
    root: Path, rel: Path, problems: list[Problem], seen: set[str]
) -> tuple[bytes | None, tuple[PolicyFile, Doc, list[int]] | None]:
    display = (root / rel).as_posix()
    raw = _read_bytes(root / rel, display, problems)
    if raw is None:
        return None, None
    return raw, _read_document(raw, rel, display, problems, seen)


def _read_bytes(path: Path, display: str, problems: list[Problem]) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(Problem(display, 1, 1, f"file is larger than 1 MiB ({size} bytes); split it"))
            return None
        return path.read_bytes()
    except OSError as err:
        problems.append(Problem(display, 1, 1, f"cannot read file: {err.strerror or err}"))
        return None


def _decode(raw: bytes, display: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        column = err.start - (before.rfind(b"\n") + 1) + 1
        byte = raw[err.start]
        raise PolicyError([Problem(display, line, column,
                                   f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8")]) from None
    for number, line_text in enumerate(text.splitlines(), start=1):
        stripped = line_text.lstrip(" \t")
        indent = line_text[: len(line_text) - len(stripped)]
        if "\t" in indent and stripped:
            column = indent.index("\t") + 1
            raise PolicyError([Problem(display, number, column,
                                       "tab character in indentation; indent with spaces")])
    return text


def _read_document(
    raw: bytes, rel: Path, display: str, problems: list[Problem], seen: set[str]
) -> tuple[PolicyFile, Doc, list[int]] | None:
    try:
        data, positions = parse_yaml(_decode(raw, display), display)
    except PolicyError as err:
        problems.extend(err.problems)
        return None
    doc = Doc(display, positions)
    if data is None:
        problems.append(Problem(display, 1, 1, "empty file", severity=Severity.WARNING))
        return None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        mark = positions.values.get((), Mark(1, 1))
        keys = ", ".join(TOP_LEVEL_KEYS)
        problems.append(Problem(display, mark.line, mark.column,
                                f"expected a mapping of top-level keys ({keys}), got {kind}"))
        return None
    if rel.parts[0] == SPACES_DIR and len(rel.parts) > 1:
        data = _spaces_file_rule(data, rel, doc, problems)
    spec, default_indexes = _validate(data, doc, problems, seen)
    return spec, doc, default_indexes


def _spaces_file_rule(data: dict[str, Any], rel: Path, doc: Doc, problems: list[Problem]) -> dict[str, Any]:
    """Files under spaces/ declare only ``spaces:`` and only the space named like the file."""
    kept: dict[str, Any] = {}
    stem = rel.stem
    for key, value in data.items():
        if key != "spaces":
            problems.append(doc.problem((key,), f"files under {SPACES_DIR}/ may only declare 'spaces:', "
                                        f"not '{key}'", shown=()))
            continue
        if not isinstance(value, dict):
            kept[key] = value
            continue
        kept[key] = {}
        for space in value:
            if space == stem:
                kept[key][space] = value[space]
            else:
                problems.append(doc.problem((key, space), f"{SPACES_DIR}/{rel.name} may only declare space "
                                            f"'{stem}', not '{space}'", shown=(key,)))
    return kept


def _validate(data: dict[str, Any], doc: Doc, problems: list[Problem],
              seen: set[str]) -> tuple[PolicyFile, list[int]]:
    """Validate section by section (and entry by entry), so one bad entry hides nothing else.

    Returns the valid part and the original indexes of the valid ``defaults`` items.
    """
    good: dict[str, Any] = {}
    indexes: list[int] = []
    seen.update(data)
    for key, value in data.items():
        if key in REPLACED_TOP_LEVEL:
            problems.append(doc.problem((key,), REPLACED_TOP_LEVEL[key], shown=()))
        elif key == "spaces" and isinstance(value, dict):
            cleaned = {name: _replaced_space_keys(name, item, doc, problems) for name, item in value.items()}
            good[key] = {name: item for name, item in cleaned.items()
                         if _valid({key: {name: item}}, doc, problems)}
        elif key not in TOP_LEVEL_KEYS:
            problems.append(doc.problem((key,), f"unknown top-level key '{key}'"
                                        f"{did_you_mean(key, TOP_LEVEL_KEYS)}", shown=()))
        elif key in _NAMED and isinstance(value, dict):
            good[key] = {name: item for name, item in value.items()
                         if _valid({key: {name: item}}, doc, problems)}
        elif key == "defaults" and isinstance(value, list):
            indexes = [i for i, item in enumerate(value) if _valid_default(item, i, doc, problems)]
            good[key] = [value[i] for i in indexes]
        elif _valid({key: value}, doc, problems):
            good[key] = value
    return PolicyFile.model_validate(good), indexes


def _replaced_space_keys(name: str, item: Any, doc: Doc, problems: list[Problem]) -> Any:
    """A space entry without the keys the data security language replaced (each one error naming its new
    form, so the rest of the entry is still checked)."""
    if not isinstance(item, dict):
        return item
    for old, message in REPLACED_SPACE.items():
        if old in item:
            value = item[old]
            effect = "block" if value == "blocked" else "allow" if value == "allowed" else "block|allow"
            problems.append(doc.problem(("spaces", name, old),
                                        message.format(value=value, effect=effect), shown=("spaces", name)))
    return {k: v for k, v in item.items() if k not in REPLACED_SPACE}


def _valid(data: dict[str, Any], doc: Doc, problems: list[Problem]) -> bool:
    try:
        PolicyFile.model_validate(data)
    except ValidationError as err:
        problems.extend(problems_from_validation(err, doc))
        return False
    return True


def _valid_default(item: Any, index: int, doc: Doc, problems: list[Problem]) -> bool:
    try:
        DefaultSpec.model_validate(item)
    except ValidationError as err:
        problems.extend(problems_from_validation(err, doc, prefix=("defaults", index)))
        return False
    return True


def _merge(merged: Merged, spec: PolicyFile, doc: Doc, indexes: list[int], problems: list[Problem]) -> None:
    if spec.version is not None and merged.version is None:
        merged.version = Entry(spec.version, doc, ("version",))
    for section in _SINGULAR:
        value = getattr(spec, section)
        if value is None:
            continue
        first = getattr(merged, section)
        if first is not None:
            problems.append(doc.problem((section,), f"'{section}' is already declared at {first.where()}",
                                        shown=()))
            continue
        setattr(merged, section, Entry(value, doc, (section,)))
    for section, noun in _NAMED.items():
        target: dict[str, Entry[Any]] = getattr(merged, section)
        for name, value in (getattr(spec, section) or {}).items():
            if name in target:
                problems.append(doc.problem((section, name), f"{noun} '{name}' is already declared at "
                                            f"{target[name].where()}", shown=(section,)))
                continue
            target[name] = Entry(value, doc, (section, name))
    _merge_defaults(merged, spec, doc, indexes, problems)


def _merge_defaults(merged: Merged, spec: PolicyFile, doc: Doc, indexes: list[int],
                    problems: list[Problem]) -> None:
    seen = {entry.value.name: entry for entry in merged.defaults}
    for index, rule in zip(indexes, spec.defaults or [], strict=True):
        entry = Entry(rule, doc, ("defaults", index))
        if rule.name in seen:
            problems.append(entry.problem(("name",), f"defaults rule '{rule.name}' is already declared at "
                                          f"{seen[rule.name].where('name')}", at="value"))
            continue
        seen[rule.name] = entry
        merged.defaults.append(entry)
