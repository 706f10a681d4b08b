"""Render a plan as text (terminals), Markdown (PR comments) or JSON (the plan file itself).

Templates (``templates/plan.txt.j2``, ``plan.md.j2``) lay out a view model built in ``plan_view`` and
here; they hold loops and ifs only. Markdown stays under GitHub's comment limit however large the plan:
its first lines say how much access it removes, then come the safety findings and notes (grouped by kind,
``group.py``), the removals, and the rest until the budget is spent, with lines naming what was left out
(the full plan is the JSON artifact).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from reconciler.errors import UsageError
from reconciler.plan.plan import Plan
from reconciler.plan.planfile import dump_plan
from reconciler.report.environment import environment
from reconciler.report.escape import code, html, md_code, md_text
from reconciler.report.formats import REPORT_FORMATS
from reconciler.report.plan_view import ChangeLine, PlanSpaceView, PlanView, build_view

FORMATS = REPORT_FORMATS
MARKDOWN_LIMIT = 65_535  # GitHub's comment limit, in characters
# The workflow wraps the body in a marker line and a footer with the run's URL (policy-plan.yml).
MARKDOWN_BODY_LIMIT = MARKDOWN_LIMIT - 535
_COLORS = {"+": "\x1b[32m", "~": "\x1b[33m", "-": "\x1b[31m", "!": "\x1b[1;31m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"
T = TypeVar("T")


def render_plan(plan: Plan, fmt: str, *, color: bool = False) -> str:
    """The plan in ``fmt`` (text, markdown or json); ``color`` adds ANSI colours to text."""
    if fmt == "json":
        return dump_plan(plan)
    view = build_view(plan)
    if fmt == "text":
        page = environment().get_template(TEMPLATES["text"][0])
        return page.render(v=view, t=_text_view(view, color=color))
    if fmt == "markdown":
        return render_markdown(view)
    raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


TEMPLATES = {"text": ("plan.txt.j2",),
             "markdown": ("plan.md.j2", "plan_row.md.j2", "plan_change.md.j2", "plan_space.md.j2")}


def compile_templates(fmt: str) -> None:
    """Compile the templates ``render_plan(..., fmt)`` uses ahead of it (jinja2 keeps them in the one
    environment): ``reconciler plan`` does it while the site is read instead of after."""
    env = environment()
    for name in TEMPLATES.get(fmt, ()):
        env.get_template(name)


# ------------------------------------------------------------------------------------------------- text


class TextLine(NamedTuple):
    c: str  # colour start ("" without colour)
    r: str  # colour reset
    symbol: str
    subject: str  # padded to the group's widest subject
    detail: str  # padded when a note follows
    note: str  # "  policies/spaces/ENG.yaml:7", "  set to none in policy (policies/...:11)" or ""


def _note(line: ChangeLine) -> str:
    if line.reason and line.source:
        return f"{line.reason} ({line.source})"
    return line.reason or line.source


def _text_lines(lines: Sequence[ChangeLine], *, color: bool, with_space: bool = False) -> list[TextLine]:
    lines = tuple(lines)  # built once (plan_view.Lines builds them when read)
    subjects = [f"{ln.space} {ln.subject}" if with_space else ln.subject for ln in lines]
    width = max((len(s) for s in subjects), default=0)
    dwidth = max((len(ln.detail) for ln in lines), default=0)
    start, reset = "", ""
    out = []
    for subject, line in zip(subjects, lines, strict=True):
        note = _note(line)
        if color:
            start, reset = _COLORS.get(line.symbol, ""), _RESET
        if note:
            out.append(TextLine(start, reset, line.symbol, subject.ljust(width), line.detail.ljust(dwidth),
                                "  " + note))
        else:
            out.append(TextLine(start, reset, line.symbol, subject.ljust(width), line.detail, ""))
    return out


def _text_view(view: PlanView, *, color: bool) -> dict[str, Any]:
    held = [ln._replace(symbol="!") for ln in view.held]
    return {
        "bold": _COLORS["bold"] if color else "",
        "alarm": _COLORS["!"] if color else "",
        "reset": _RESET if color else "",
        "scope": f", scope {view.scope}" if view.scope else "",
        "roles": _text_lines(view.roles, color=color),
        "apps": _text_lines(view.apps, color=color),
        "spaces": [(s, _text_lines(s.lines, color=color)) for s in view.spaces],
        "held": _text_lines(held, color=color, with_space=True),
    }


# --------------------------------------------------------------------------------------------- markdown


@dataclass(frozen=True, slots=True)
class MdLine:
    symbol: str
    space: str
    subject: str
    detail: str
    where: str


@dataclass(frozen=True, slots=True)
class MdSpace:
    summary: str  # the <summary> text, HTML-escaped
    about: str
    lines: tuple[MdLine, ...]


_cell = md_text


_code = code


def _md_line(line: ChangeLine) -> MdLine:
    where = _code(line.source)
    if line.reason:
        where = f"{where} ({_cell(line.reason)})" if where else _cell(line.reason)
    return MdLine(line.symbol, _code(line.space) or "(site)", _code(line.subject), _cell(line.detail), where)


def _md_space(space: PlanSpaceView) -> MdSpace:
    about = f"Declared at {_code(space.declared_at)}" if space.declared_at else "Matched by defaults only"
    if space.defaults:
        about += f"; defaults: {_cell(space.defaults)}"
    summary = f"<code>{html(space.key)}</code> ({space.authority}): {space.counts}"
    return MdSpace(summary, about, tuple(_md_line(ln) for ln in space.lines))


# What the Markdown comment holds, in the order the budget is spent; the summary and the removal line
# are always there. Each section: (name, what its left-out count names in the top line).
_SECTIONS = (
    ("findings", "safety finding(s)"),
    ("notes", "note(s)"),
    ("removals", "removal(s)"),
    ("roles", "custom role change(s)"),
    ("apps", "data security policy change(s)"),
    ("held", "kept change(s)"),
    ("spaces", "per-space detail(s)"),
)


def render_markdown(view: PlanView, *, limit: int = MARKDOWN_BODY_LIMIT) -> str:
    """The PR comment, under ``limit`` characters whatever the plan's size.

    Everything counts against the limit. The budget goes, in order, to the safety findings (grouped by
    kind, so there are few), the notes (grouped too), the removals, custom roles, app policies, kept
    changes and the per-space details; a section that does not fit whole ends with a line saying how many
    were left out, and the comment's first lines name everything left out. Items are rendered lazily, so
    a plan of 200,000 changes renders only as far as the budget reaches.
    """
    # the fields the page shows as they stand: site and scope in code spans, the quiet keys as text
    view = dataclasses.replace(view, site=md_code(view.site), scope=md_code(view.scope),
                               quiet=md_text(view.quiet))
    env = environment()
    page, row, change, block = (env.get_template(name) for name in TEMPLATES["markdown"])
    sources: dict[str, tuple[int, Iterable[Any], Callable[[Any], str]]] = {
        "findings": (len(view.findings), map(md_text, view.findings), lambda f: f"> - {f}\n"),
        "notes": (len(view.notes), map(md_text, view.notes), lambda n: f"\n_Note: {n}_\n"),
        "removals": (len(view.removals), map(_md_line, view.removals), lambda r: row.render(line=r)),
        "roles": (len(view.roles), map(_md_line, view.roles), lambda r: change.render(l=r)),
        "apps": (len(view.apps), map(_md_line, view.apps), lambda r: change.render(l=r)),
        "held": (len(view.held), map(_md_line, view.held), lambda r: row.render(line=r)),
        "spaces": (len(view.spaces), map(_md_space, view.spaces), lambda s: block.render(space=s)),
    }
    totals = {name: total for name, (total, _, _) in sources.items()}
    kept: dict[str, list[Any]] = {name: [] for name in totals}
    # The page with nothing in it and everything left out bounds the fixed part: kept items only shrink
    # the left-out notes (fewer digits, or none).
    budget = limit - 1 - len(page.render(_md_context(view, kept, totals)))
    for name, (_, items, render) in sources.items():
        kept[name], used = _fit(items, render, budget)
        budget -= used
    text = page.render(_md_context(view, kept, totals))
    while len(text) >= limit:  # a backstop: the measured pieces are the pieces rendered
        last = next((n for n, _ in reversed(_SECTIONS) if kept[n]), None)
        if last is None:
            break
        kept[last].pop()
        text = page.render(_md_context(view, kept, totals))
    return text


def _md_context(view: PlanView, kept: dict[str, list[Any]], totals: dict[str, int]) -> dict[str, Any]:
    left = {name: totals[name] - len(kept[name]) for name in totals}
    named = [f"{left[name]} {noun}" for name, noun in _SECTIONS if left[name]]
    ctx: dict[str, Any] = {"v": view, "left_out": ", ".join(named)}
    for name in totals:
        ctx[name] = kept[name]
        ctx[f"{name}_left"] = left[name]
    ctx["changes_left"] = sum(len(s.lines) for s in view.spaces[len(kept["spaces"]):])
    return ctx


def _fit(items: Iterable[T], render: Callable[[T], str], budget: int) -> tuple[list[T], int]:
    """The leading items whose renderings fit in ``budget`` characters, and the characters they use.

    ``items`` is consumed lazily, so a huge plan is converted and rendered only as far as the budget reaches.
    """
    kept: list[T] = []
    used = 0
    for item in items:
        size = len(render(item))
        if used + size > budget:
            break
        used += size
        kept.append(item)
    return kept, used
