"""The one jinja2 environment every report renders with (plan, apply, drift).

Templates lay out a view model built in Python and hold no logic (STYLE.md 10): ``StrictUndefined`` turns
a missing field into an error instead of an empty string. Output is text and Markdown, never HTML, so
nothing is auto-escaped; Markdown table cells are escaped by the view models.
"""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reconciler.report", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - plain text and Markdown, never HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template(name: str) -> jinja2.Template:
    return environment().get_template(name)
