"""The loader reads the files outside spaces/ first and hands their outline to its caller before the
spaces/ files (so the site can be read while they load); messages and the digest stay in path order."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from reconciler.errors import PolicyError
from reconciler.model import Platform
from reconciler.policy import loader
from reconciler.policy.loader import load_policy
from reconciler.policy.outline import PolicyOutline

POLICIES = Path(__file__).resolve().parents[2] / "policies"  # the demo policy: defaults, six space files


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    return root


def test_the_outline_comes_before_any_spaces_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy(tmp_path)  # legacy.yaml declares OPS outside spaces/
    (root / "spaces" / "bad key.yaml").write_text("", encoding="utf-8")  # not a key: not read early
    events: list[str] = []
    read_file = loader._read_file

    def recorded(base: Path, rel: Path, *args: object) -> object:
        events.append(rel.as_posix())
        return read_file(base, rel, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "_read_file", recorded)
    outlines: list[PolicyOutline] = []

    def outlined(outline: PolicyOutline) -> None:
        outlines.append(outline)
        events.append("outline")

    desired = load_policy(root, on_outline=outlined)

    outline = PolicyOutline(url="sandbox:demo", platform=Platform.CLOUD, platform_auto=True,
                            allow_jsonrpc=False, selectors=True,
                            keys=frozenset({"DOCS", "ENG", "FIN", "HR", "LEGAL", "PUBLIC", "OPS"}))
    assert outlines == [outline]
    at = events.index("outline")
    assert all(not name.startswith("spaces/") for name in events[:at])
    assert sorted(events[at + 1:]) == sorted(p.relative_to(root).as_posix() for p in root.glob("spaces/*"))
    assert desired.site.url == outline.url


def test_the_digest_and_the_policy_do_not_depend_on_the_reading_order(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "zz-late.yaml").write_text("people:\n  zed: 557058:0000-zed\n", encoding="utf-8")
    digest = hashlib.sha256()
    for path in sorted((p for p in root.rglob("*.yaml")), key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")

    assert load_policy(root, on_outline=lambda _outline: None).digest == digest.hexdigest()
    assert load_policy(root) == load_policy(root, on_outline=lambda _outline: None)


def test_no_outline_when_a_file_outside_spaces_has_an_error_and_the_error_is_the_same(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "roles.yaml").write_text("roles:\n  Broken: {permisions: []}\n", encoding="utf-8")
    outlines: list[PolicyOutline] = []

    with pytest.raises(PolicyError) as with_hook:
        load_policy(root, on_outline=outlines.append)
    with pytest.raises(PolicyError) as without:
        load_policy(root)
    assert outlines == []
    assert str(with_hook.value) == str(without.value)


def test_no_outline_without_exactly_one_site(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    site = (root / "site.yaml").read_text(encoding="utf-8")
    (root / "site.yaml").unlink()
    (root / "spaces" / "DOCS.yaml").write_text(  # site: in a spaces/ file is an error, and not early
        site + (POLICIES / "spaces" / "DOCS.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    outlines: list[PolicyOutline] = []

    with pytest.raises(PolicyError):
        load_policy(root, on_outline=outlines.append)
    assert outlines == []
