"""The access review as one self-contained HTML file: no external scripts, styles or fonts. Pure.

The file embeds the review's JSON document (``jsonform``: the principal level, the size of the site's
assignments plus memberships) and a small inline script that draws a matrix of spaces by people (or by
groups and access classes) from it: rows are drawn in batches as the reader scrolls and columns a page at
a time, so a review of 2,000 spaces and 5,000 people never becomes a 10-million-cell table. Every cell
carries ``data-space``, ``data-person`` and ``data-perms`` (the same values as the CSV) and the grant path
as its tooltip; a click shows the paths in a side panel. Site text is only ever inserted with
``textContent``; the embedded JSON escapes ``<``, ``>`` and ``&`` so it cannot end its script element.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib import resources

from reconciler.review.jsonform import to_json
from reconciler.review.model import Review

_PLACEHOLDER = re.compile(r"%(TITLE|SUMMARY|QUESTIONS|ROW_BATCH|COLUMN_PAGE|DATA)%")
ROW_BATCH = 200  # rows drawn per batch (more as the reader scrolls)
COLUMN_PAGE = 60  # person or group columns per page


def render_html(review: Review) -> str:
    from reconciler.report.access_render import summary_line, summary_lines  # noqa: PLC0415

    data = json.dumps(to_json(review), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    questions = summary_lines(review)
    title = f"Access review: {review.site}"
    values = {
        "TITLE": html.escape(title),
        "SUMMARY": html.escape(summary_line(review)),
        "QUESTIONS": html.escape("\n".join(questions)),
        "ROW_BATCH": str(ROW_BATCH),
        "COLUMN_PAGE": str(COLUMN_PAGE),
        "DATA": data,
    }
    # one pass, so text from the site that spells a placeholder is never substituted
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], _page())


@cache
def _page() -> str:
    """The page (``templates/access.html``): markup, style and script, with ``%NAME%`` placeholders."""
    return resources.files("reconciler.report").joinpath("templates/access.html").read_text("utf-8")
