"""Two saved access reviews compared: who gained, lost or changed access, per space. Pure."""

from __future__ import annotations

import json

from reconciler.report.access_render import md, safe
from reconciler.review.diff import Change, ReviewDiff


def render_diff(diff: ReviewDiff, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(_json(diff), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return "\n".join(_markdown(diff)) + "\n"
    return "\n".join(_lines(diff)) + "\n"


def _what(change: Change) -> str:
    if change.kind == "gained":
        return f"gained {' '.join(sorted(change.after))}"
    if change.kind == "lost":
        return f"lost {' '.join(sorted(change.before))}"
    parts = []
    if change.added:
        parts.append(f"+ {' '.join(sorted(change.added))}")
    if change.removed:
        parts.append(f"- {' '.join(sorted(change.removed))}")
    return "changed: " + "; ".join(parts)


def _counts(diff: ReviewDiff) -> str:
    kinds = [c.kind for c in diff.changes]
    return (f"{len(diff.people)} people changed: {kinds.count('gained')} gained, {kinds.count('lost')} lost, "
            f"{kinds.count('changed')} changed access (space, person) pairs")


def _lines(diff: ReviewDiff) -> list[str]:
    out = [f"Access review diff: {safe(diff.old_site)} -> {safe(diff.new_site)}", _counts(diff)]
    out += [f"space {key}: new in this review" for key in diff.spaces_added]
    out += [f"space {key}: no longer in the review" for key in diff.spaces_removed]
    space = None
    for change in diff.changes:
        if change.space != space:
            space = change.space
            out += ["", f"{space}"]
        out.append(f"  {safe(change.who)}: {_what(change)}")
    if not diff.changes:
        out += ["", "no change in access"]
    return out


def _markdown(diff: ReviewDiff) -> list[str]:
    title = f"## Access review diff: {md(diff.old_site)} \u2192 {md(diff.new_site)}"
    out = [title, "", md(_counts(diff)), ""]
    out += [f"- space {key}: new in this review" for key in diff.spaces_added]
    out += [f"- space {key}: no longer in the review" for key in diff.spaces_removed]
    if diff.changes:
        out += ["| space | who | change |", "|---|---|---|"]
        out += [f"| {c.space} | {md(c.who)} | {md(_what(c))} |" for c in diff.changes]
    else:
        out.append("No change in access.")
    return out


def _json(diff: ReviewDiff) -> dict[str, object]:
    return {
        "old_site": diff.old_site,
        "new_site": diff.new_site,
        "spaces_added": list(diff.spaces_added),
        "spaces_removed": list(diff.spaces_removed),
        "changes": [
            {"space": c.space, "who": c.who, "ref": c.ref, "kind": c.kind, "before": sorted(c.before),
             "after": sorted(c.after)}
            for c in diff.changes
        ],
    }
