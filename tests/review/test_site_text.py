"""Text from the site is data in every format of the review: escaped, never markup, never a formula."""

from __future__ import annotations

import csv
import io

from reconciler.live_state import GroupMembers, Member
from reconciler.report.access_render import render_access
from reconciler.review import build_review
from tests.drift.builders import desired, live, space

EVIL_GROUP = "</script><script>alert(1)</script>\x1b[31m\u202e"
EVIL_NAME = "=HYPERLINK(\"http://x\")"


def _review():  # type: ignore[no-untyped-def]
    members = {EVIL_GROUP: GroupMembers(EVIL_GROUP, "g1", (Member("acc-x", EVIL_NAME),))}
    return build_review(desired(space("S", {})), live({"S": {f"group:{EVIL_GROUP}": "Viewer"}}), members,
                        site="s", names=True)


def test_control_and_bidi_characters_never_reach_a_terminal_line() -> None:
    out = render_access(_review(), "text")
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert "\\x1b[31m\\u202e" in out


def test_a_display_name_that_looks_like_a_formula_is_quoted_in_the_csv() -> None:
    [row] = list(csv.DictReader(io.StringIO(render_access(_review(), "csv"))))
    assert row["display_name"] == "'" + EVIL_NAME


def test_the_html_embeds_site_text_so_it_cannot_close_its_script_element() -> None:
    page = render_access(_review(), "html")
    assert "</script><script>alert(1)" not in page
    assert page.count("</script>") == 2  # the data element and the page's own script
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in page


def test_markdown_holds_no_raw_html_outside_the_fenced_questions() -> None:
    out = render_access(_review(), "markdown")
    before, fenced = out.split("```text\n")
    inside, after = fenced.split("\n```")
    assert "<script>" not in before + after
    assert "</script>" not in before + after
    assert "```" not in inside
