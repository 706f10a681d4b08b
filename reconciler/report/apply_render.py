"""The apply report in text, Markdown or JSON.

Text and Markdown lay out a view model built here (templates hold no logic); JSON comes from the result
dataclasses (``reconciler.apply.result.result_to_dict``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from reconciler.apply.result import ApplyResult, ChangeResult, describe, result_to_dict
from reconciler.errors import UsageError
from reconciler.report.environment import environment
from reconciler.report.escape import data, md_code, md_text
from reconciler.report.formats import REPORT_FORMATS

FORMATS = REPORT_FORMATS


@dataclass(frozen=True, slots=True)
class ResultLine:
    symbol: str
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unconverged:
    space: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApplyView:
    site: str
    mode: str
    summary: str
    verdict: str
    done: tuple[ResultLine, ...]
    failed: tuple[ResultLine, ...]
    skipped: tuple[ResultLine, ...]
    not_converged: tuple[Unconverged, ...]


def build_view(result: ApplyResult) -> ApplyView:
    def lines(results: tuple[ChangeResult, ...]) -> tuple[ResultLine, ...]:
        return tuple(ResultLine(r.change.kind.symbol, data(describe(r.change)), data(r.reason))
                     for r in results)

    counts = (f"{len(result.done)} done, {len(result.failed)} failed, {len(result.skipped)} skipped, "
              f"{len(result.not_converged)} space(s) not converged; {result.writes} write(s)")
    if not result.results:
        verdict = "Nothing to apply: the site already matches the plan."
    elif result.ok:
        verdict = "Apply complete: every change is written and verified."
    else:
        verdict = "Apply incomplete: fix the failures above and run apply again (it converges)."
    return ApplyView(
        site=data(result.site),
        mode=data(result.mode),
        summary=counts,
        verdict=verdict,
        done=lines(result.done),
        failed=lines(result.failed),
        skipped=lines(result.skipped),
        not_converged=tuple(
            Unconverged(data(nc.space), tuple(data(describe(c)) for c in nc.changes))
            for nc in result.not_converged
        ),
    )


def render_apply(result: ApplyResult, fmt: str) -> str:
    """The apply report in ``fmt`` (text, markdown or json), ending with a newline."""
    if fmt == "json":
        return json.dumps(result_to_dict(result), indent=2) + "\n"
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    view = build_view(result)
    if fmt == "markdown":
        view = _escaped(view)
    template = environment().get_template("apply.txt.j2" if fmt == "text" else "apply.md.j2")
    return template.render(view=view)


def _escaped(view: ApplyView) -> ApplyView:
    """The view as the Markdown page shows it: site text cannot become markup, a mention or a new cell."""

    def lines(items: tuple[ResultLine, ...]) -> tuple[ResultLine, ...]:
        return tuple(ResultLine(x.symbol, md_text(x.text), md_text(x.reason)) for x in items)

    return replace(
        view, site=md_code(view.site), failed=lines(view.failed), skipped=lines(view.skipped),
        done=lines(view.done),
        not_converged=tuple(Unconverged(md_text(u.space), tuple(map(md_text, u.lines)))
                            for u in view.not_converged),
    )
