"""The access review as text, Markdown, CSV and JSON (HTML: ``access_html.py``). Pure.

Everything from the site (group names, display names, account ids) is data (``report/escape.py``, as in
every report): control and bidirectional characters are shown escaped, Markdown cells are escaped, CSV
cells that a spreadsheet would run as a formula get a leading apostrophe (and control characters escaped).
Output is sorted (spaces by key, people by label) so the same site gives
the same bytes: a nightly commit's diff is the change in access.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from reconciler.errors import UsageError
from reconciler.report import escape
from reconciler.review.jsonform import dumps
from reconciler.review.model import Grant, PersonAccess, Review, SpaceReview
from reconciler.review.questions import Drifted, admins, drifted, guests, undeclared_only

FORMATS = ("text", "markdown", "csv", "json", "html")
CSV_COLUMNS = ("space", "person", "guest", "admin", "access", "permissions", "grants")
CSV_NAME_COLUMNS = ("account_id", "display_name")
CLASS_NOTES = {
    "anonymous-users": "everyone, signed in or not",
    "authenticated-users": "every signed-in user",
    "all-licensed-users": "every licensed user",
    "all-product-admins": "every product admin",
    "jsm-project-admins": "every JSM project admin",
}


def render_access(review: Review, fmt: str) -> str:
    """The review in ``fmt``, ending with a newline."""
    if fmt == "json":
        return dumps(review)
    if fmt == "csv":
        return render_csv(review)
    if fmt == "html":
        from reconciler.report.access_html import render_html  # noqa: PLC0415 - only for html

        return render_html(review)
    if fmt == "text":
        return "\n".join(text_lines(review)) + "\n"
    if fmt == "markdown":
        return "\n".join(markdown_lines(review)) + "\n"
    raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def safe(text: str) -> str:
    """Site text for a terminal line or a plain-text file (``report.escape.data``)."""
    return escape.data(text)


def md(text: str) -> str:
    """Site text for a Markdown table cell or list item (``report.escape.md_text``)."""
    return escape.md_text(text)


def person_text(access: PersonAccess, names: bool) -> str:
    person = access.person
    extra = [person.name] if names and person.name else []
    if person.guest:
        extra.append("guest")
    return person.label + (f" ({', '.join(extra)})" if extra else "")


def summary_line(review: Review) -> str:
    people = {ref for s in review.spaces for g in s.grants for ref in review.reach(g)}
    hidden = "" if review.names else "; names hidden (--names shows account ids and display names)"
    return (f"Access review of {safe(review.site)}: {len(review.spaces)} space(s), {len(people)} people with "
            f"access, {len(review.groups)} group(s) read{hidden}")


def _class_line(grant: Grant) -> str:
    who = CLASS_NOTES.get(grant.who, "a class the tool does not expand")
    return f"{grant.principal} ({who}, not expanded) {grant.tail()}"


def _group_notes(review: Review, space: SpaceReview) -> list[str]:
    out = []
    for grant in space.grants:
        if grant.kind != "group":
            continue
        group = review.groups.get(grant.who)
        if group is None or group.missing:
            out.append(f"{grant.principal} {grant.tail()}: members unknown "
                       "(the site does not know this group)")
        elif not group.members:
            out.append(f"{grant.principal} {grant.tail()}: no members, reaches nobody")
    return out


# ------------------------------------------------------------------------------------------------ text


def text_lines(review: Review) -> list[str]:
    out = [summary_line(review), *(f"note: {n}" for n in review.notes)]
    for space in review.spaces:
        people = review.people_in(space)
        out += ["", f"{space.key}  {safe(space.name)}  ({space.authority}; {len(people)} people)"]
        for grant in space.grants:
            if grant.kind == "class":
                out.append(f"  {safe(_class_line(grant))}")
        out += [f"  {safe(line)}" for line in _group_notes(review, space)]
        for access in people:
            flag = "  [admin]" if access.admin else ""
            out.append(f"  {safe(person_text(access, review.names))}: {', '.join(access.roles)}{flag}")
            out += [f"      {safe(g.describe())}" for g in access.grants]
    out += ["", *_questions_text(review)]
    return out


def _questions_text(review: Review) -> list[str]:
    out = ["Who can administer each space:"]
    for row in admins(review):
        names = [p.person.label for p in row.people] + [g.principal for g in row.principals]
        out.append(f"  {row.space}: {safe(', '.join(names)) if names else 'nobody'}")
    out += ["", "Guests and what they reach (exact: group members are read):"]
    rows = guests(review)
    for guest in rows:
        out.append(f"  {safe(guest.person.label)}: {len(guest.spaces)} space(s)")
        for key, access in guest.spaces:
            paths = "; ".join(g.describe() for g in access.grants)
            out.append(f"    {key}: {', '.join(access.roles)}: {safe(paths)}")
    if not rows:
        out.append("  no guests")
    out += ["", "People who reach a space only through a group the policy does not name there:"]
    undeclared = undeclared_only(review)
    for entry in undeclared:
        paths = "; ".join(g.describe() for g in entry.access.grants if g.kind == "group")
        out.append(f"  {entry.space}: {safe(entry.access.person.label)} {safe(paths)}")
    if not undeclared:
        out.append("  none")
    out += ["", "People whose access differs from the policy:"]
    drift = drifted(review)
    out += [f"  {item.space}: {safe(item.person.label)}: {_drift_text(item)}" for item in drift]
    if not drift:
        out.append("  none")
    return out


def summary_lines(review: Review, *, limit: int = 500) -> list[str]:
    """The reviewer's questions at the principal level (for the HTML report, whose matrix answers them
    per person): cheap on a site of any size, long lists cut at ``limit`` lines with a count."""
    out = ["Who can administer each space (principals holding administer/space):"]
    for space in review.spaces:
        holders = [_principal_text(review, g) for g in space.grants if "administer/space" in g.permissions]
        out.append(f"  {space.key}: {safe(', '.join(holders)) if holders else 'nobody'}")
    out += ["", "Guests and what they reach (exact: group members are read):"]
    rows = guests(review)
    for guest in rows:
        reached = [f"{key} ({'; '.join(g.describe() for g in a.grants)})" for key, a in guest.spaces]
        where = ", ".join(reached) if reached else "no managed space"
        out.append(f"  {safe(guest.person.label)}: {safe(where)}")
    if not rows:
        out.append("  no guests")
    out += ["", "Groups holding access that the policy does not name there:"]
    undeclared = [f"  {space.key}: {safe(_principal_text(review, g))} {g.tail()}" for space in review.spaces
                  for g in space.grants if g.kind == "group" and g.declared is None]
    out += _cut(undeclared, limit) or ["  none"]
    out += ["", "People whose access differs from the policy:"]
    drift = [f"  {d.space}: {safe(d.person.label)}: {_drift_text(d)}" for d in drifted(review)]
    out += _cut(drift, limit) or ["  none"]
    return out


def _principal_text(review: Review, grant: Grant) -> str:
    if grant.kind == "user":
        return f"user:{review.person(grant.who).label}"
    if grant.kind == "group":
        return f"{grant.principal} ({len(review.members(grant.who))} members)"
    return grant.principal


def _drift_text(item: Drifted) -> str:
    parts = []
    if item.losses:
        parts.append(f"holds beyond the policy: {', '.join(sorted(item.losses))}")
    if item.gains:
        parts.append(f"lacks per the policy: {', '.join(sorted(item.gains))}")
    return "; ".join(parts)


def _cut(lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"  ... and {len(lines) - limit} more (the CSV and JSON have all of them)"]


# -------------------------------------------------------------------------------------------- markdown


def markdown_lines(review: Review) -> list[str]:
    out = [f"## {md(summary_line(review))}", "", *(f"> {md(n)}" for n in review.notes)]
    for space in review.spaces:
        people = review.people_in(space)
        out += ["", f"### {space.key} {md(space.name)} ({space.authority}, {len(people)} people)", ""]
        extras = [md(_class_line(g)) for g in space.grants if g.kind == "class"]
        extras += [md(line) for line in _group_notes(review, space)]
        out += [f"- {line}" for line in extras] + ([""] if extras else [])
        out += ["| person | access | admin | how |", "|---|---|---|---|"]
        out += [f"| {md(person_text(a, review.names))} | {md(', '.join(a.roles))} | "
                f"{'yes' if a.admin else ''} | {'<br>'.join(md(g.describe()) for g in a.grants)} |"
                for a in people]
    out += ["", "### Reviewer questions", "", "```text", *map(escape.md_fenced, _questions_text(review)),
            "```"]
    return out


# ------------------------------------------------------------------------------------------------- csv


def csv_rows(review: Review) -> Iterable[list[str]]:
    """One row per (space, person) with access, and one per access class holding access; sorted."""
    for space in review.spaces:
        for grant in space.grants:
            if grant.kind == "class":
                row = [space.key, grant.principal, "", _yes(grant), grant.access,
                       " ".join(sorted(grant.permissions)), grant.describe()]
                yield row + (["", ""] if review.names else [])
        for access in review.people_in(space):
            person = access.person
            row = [space.key, person.label, "yes" if person.guest else "", "yes" if access.admin else "",
                   "; ".join(access.roles), " ".join(sorted(access.permissions)),
                   "; ".join(g.describe() for g in access.grants)]
            yield row + ([person.account_id or "", person.name or ""] if review.names else [])


def _yes(grant: Grant) -> str:
    return "yes" if "administer/space" in grant.permissions else ""


def render_csv(review: Review) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (CSV_NAME_COLUMNS if review.names else ()))
    for row in csv_rows(review):
        writer.writerow([_formula_safe(escape.data(cell)) for cell in row])
    return buffer.getvalue()


def _formula_safe(cell: str) -> str:
    """A cell a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR) gets a leading apostrophe."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
