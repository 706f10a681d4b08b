"""The access review of the demo site (in-process sandbox): every group member with the path of the grant,
goldens for the text, CSV and JSON, the HTML's structure, and its matrix against the CSV in a real browser."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reconciler.flows.access import run_access
from reconciler.report.access_render import render_access
from reconciler.review import Review, person_ref
from reconciler.sandbox.demo_data import DEMO_PEOPLE
from reconciler.sandbox.seeds import seed_state
from tests.kit.sites import connection

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
FORMATS = ("text", "csv", "json")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Review:
    state_dir = tmp_path_factory.mktemp("sandbox")
    # as a nightly job runs it, from the repository root with a relative policy dir: the sources in the
    # committed review are repository paths, never this checkout's absolute path
    with contextlib.chdir(ROOT):
        return run_access(Path("policies"), connection({}, sandbox_dir=state_dir))


@pytest.fixture(scope="module")
def demo_names(tmp_path_factory: pytest.TempPathFactory) -> Review:
    state_dir = tmp_path_factory.mktemp("sandbox")
    with contextlib.chdir(ROOT):
        return run_access(Path("policies"), connection({}, sandbox_dir=state_dir), names=True)


def _csv(review: Review) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render_access(review, "csv"))))


def test_every_member_of_every_group_holding_access_is_listed_with_the_path(demo: Review) -> None:
    state = seed_state("demo")
    rows = {(r["space"], r["person"]): r for r in _csv(demo)}
    labels = {account: handle for handle, (account, _, _) in DEMO_PEOPLE.items()}
    policy_handles = {"svc-reconciler", "alice", "bob", "carol", "dave", "erin", "frank", "heidi", "ivan",
                      "gina", "victor"}
    checked = 0
    for space in state.spaces.values():
        if demo.space(space.key) is None:
            continue  # not managed (personal, archived)
        for (kind, ident), role_id in space.assignments.items():
            if kind != "GROUP":
                continue
            group = state.groups[ident]
            role = state.roles[role_id].name
            for account in group.members:
                handle = labels[account]
                label = handle if handle in policy_handles else person_ref(account)
                assert f"via group:{group.name} \u2192 {role}" in rows[(space.key, label)]["grants"]
                checked += 1
    assert checked > 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_demo_review_matches_the_golden(demo: Review, fmt: str) -> None:
    out = render_access(demo, fmt)
    golden = GOLDEN / f"demo.{'txt' if fmt == 'text' else fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_without_names_no_account_id_or_display_name_appears_in_any_format(demo: Review) -> None:
    for fmt in (*FORMATS, "markdown", "html"):
        out = render_access(demo, fmt)
        for handle, (account, display, _guest) in DEMO_PEOPLE.items():
            assert account not in out, (fmt, handle)
            if display not in {h.capitalize() for h in DEMO_PEOPLE}:
                assert display not in out, (fmt, display)


def test_with_names_the_csv_has_account_ids_and_display_names(demo_names: Review) -> None:
    rows = _csv(demo_names)
    victor = next(r for r in rows if r["person"] == "victor" and r["space"] == "SANDBOX")
    assert (victor["account_id"], victor["display_name"], victor["guest"]) == (
        DEMO_PEOPLE["victor"][0], "Victor Vogel (guest)", "yes"
    )


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in = dict(attrs).get("type") or "js"
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self.scripts[-1] += data


def test_the_html_is_one_self_contained_file_embedding_the_json_review(demo: Review) -> None:
    page = _Page()
    page.feed(render_access(demo, "html"))
    names = [t for t, _ in page.tags]
    assert names[:1] == ["html"]
    assert not {"link", "img", "iframe", "object", "embed"} & set(names)
    assert all("src" not in attrs for _, attrs in page.tags)
    assert all(not str(v).startswith(("http:", "https:", "//")) for _, a in page.tags for v in a.values())
    data = next(s for s in page.scripts if s.strip().startswith("{"))
    assert json.loads(data) == json.loads(render_access(demo, "json"))
    text = render_access(demo, "html")
    assert "@import" not in text
    assert "url(" not in text
    assert ("table", {"id": "matrix"}) in page.tags
    assert names.count("td") == 0  # cells are drawn by the script, never emitted as a static table


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: set[tuple[str, str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "td" and "data-space" in found:
            self.cells.add((str(found["data-space"]), str(found["data-person"]), str(found["data-perms"])))


@pytest.mark.skipif(_chromium() is None, reason="no chromium on this machine: apt-get install -y chromium")
def test_the_matrix_drawn_in_a_real_browser_matches_the_csv(demo: Review, tmp_path: Path) -> None:
    page = tmp_path / "review.html"
    page.write_text(render_access(demo, "html"), encoding="utf-8")
    browser = _chromium()
    assert browser is not None
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    cells = _Cells()
    cells.feed(dom)
    expected = {(r["space"], r["person"], r["permissions"]) for r in _csv(demo)
                if not r["person"].startswith("class:")}
    assert cells.cells == expected


def test_a_saved_review_renders_every_format_as_the_live_one_did(demo: Review, tmp_path: Path) -> None:
    from reconciler.cli import main

    saved = tmp_path / "review.json"
    saved.write_text(render_access(demo, "json"), encoding="utf-8")
    for fmt in ("csv", "text", "html"):
        out = tmp_path / f"out.{fmt}"
        assert main(["access", "--from", str(saved), "--format", fmt, "--out", str(out)]) == 0
        assert out.read_text(encoding="utf-8") == render_access(demo, fmt)


def test_people_assigned_directly_are_named_from_the_site_with_names(demo_names: Review) -> None:
    rows = {(r["space"], r["person"]): r for r in _csv(demo_names)}
    assert rows[("DOCS", "gina")]["display_name"] == "Gina Gast (guest)"  # in no group: named by a user read
    assert rows[("HR", "heidi")]["display_name"] == "Heidi Hansen"
