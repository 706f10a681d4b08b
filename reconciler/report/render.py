"""Render a plan as text (terminals), Markdown (PR comments) or JSON (the plan file itself).

Templates (``templates/plan.txt.j2``, ``plan.md.j2``) lay out a view model built in ``plan_view`` and
here; they hold loops and ifs only. Markdown stays under GitHub's comment limit however large the plan:
removed access is listed first, then per-space details until the budget is spent, with a line saying
what was left out (the full plan is the JSON artifact).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from reconciler.errors import UsageError
from reconciler.plan.changes import Plan
from reconciler.plan.planfile import dump_plan
from reconciler.report.plan_view import Line, PlanView, SpaceView, build_view
from reconciler.report.templates import environment

FORMATS = ("text", "markdown", "json")
MARKDOWN_LIMIT = 65_535  # GitHub's comment limit, in characters
_MARGIN = 600  # room for the truncation notes, whose digits are not known in advance
_COLORS = {"+": "\x1b[32m", "~": "\x1b[33m", "-": "\x1b[31m", "!": "\x1b[1;31m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"
T = TypeVar("T")


def render_plan(plan: Plan, fmt: str, *, color: bool = False) -> str:
    """The plan in ``fmt`` (text, markdown or json); ``color`` adds ANSI colours to text."""
    if fmt == "json":
        return dump_plan(plan)
    view = build_view(plan)
    if fmt == "text":
        return environment().get_template("plan.txt.j2").render(v=view, t=_text_view(view, color=color))
    if fmt == "markdown":
        return render_markdown(view)
    raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


# ------------------------------------------------------------------------------------------------- text


class TextLine(NamedTuple):
    c: str  # colour start ("" without colour)
    r: str  # colour reset
    symbol: str
    subject: str  # padded to the group's widest subject
    detail: str  # padded when a note follows
    note: str  # "  policies/spaces/ENG.yaml:7", "  set to none in policy (policies/...:11)" or ""


def _note(line: Line) -> str:
    if line.reason and line.source:
        return f"{line.reason} ({line.source})"
    return line.reason or line.source


def _text_lines(lines: Sequence[Line], *, color: bool, with_space: bool = False) -> list[TextLine]:
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


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _code(text: str) -> str:
    return f"`{_cell(text).replace('`', chr(39))}`" if text else ""


def _md_line(line: Line) -> MdLine:
    where = _code(line.source)
    if line.reason:
        where = f"{where} ({_cell(line.reason)})" if where else _cell(line.reason)
    return MdLine(line.symbol, _code(line.space) or "(site)", _code(line.subject), _cell(line.detail), where)


def _md_space(space: SpaceView) -> MdSpace:
    about = f"Declared at {_code(space.declared_at)}" if space.declared_at else "Matched by defaults only"
    if space.defaults:
        about += f"; defaults: {_cell(space.defaults)}"
    summary = f"<code>{_cell(space.key)}</code> ({space.authority}): {space.counts}"
    return MdSpace(summary, about, tuple(_md_line(ln) for ln in space.lines))


def render_markdown(view: PlanView, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The PR comment, cut to stay under ``limit`` characters with a note on what was left out."""
    env = environment()
    page, row, block = (env.get_template(n) for n in ("plan.md.j2", "plan_row.md.j2", "plan_space.md.j2"))
    ctx: dict[str, Any] = {
        "v": view,
        "roles": [_md_line(ln) for ln in view.roles],
        "apps": [_md_line(ln) for ln in view.apps],
        "held": [_md_line(ln) for ln in view.held],
        "removals": [], "removals_left": 0, "spaces": [], "spaces_left": 0, "changes_left": 0,
    }
    budget = limit - 1 - _MARGIN - len(page.render(ctx))
    share = int(budget * 0.6) if view.spaces else budget
    rows, used = _fit((_md_line(ln) for ln in view.removals), lambda r: row.render(line=r), share)
    spaces, _ = _fit((_md_space(s) for s in view.spaces), lambda s: block.render(space=s), budget - used)
    ctx.update(
        removals=rows, removals_left=len(view.removals) - len(rows),
        spaces=spaces, spaces_left=len(view.spaces) - len(spaces),
        changes_left=sum(len(s.lines) for s in view.spaces[len(spaces):]),
    )
    text = page.render(ctx)
    while len(text) >= limit and ctx["spaces"]:  # never expected: the margin covers the notes
        ctx.update(spaces=ctx["spaces"][:-1], spaces_left=ctx["spaces_left"] + 1)
        text = page.render(ctx)
    return text


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
