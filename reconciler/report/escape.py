"""Text from the site (and from policy files) is data in every report: never markup, never a command.

One module, applied where the view models are built (``plan_view``, ``apply_render``, ``drift_render``)
and where Markdown cells are made (``render``, ``drift_groups``). docs/reports.md lists what is escaped.

- ``data``: for every format. Control characters (C0, DEL, C1), line and paragraph separators, format
  characters such as the bidirectional controls (``U+202E``: "Trojan source") and unassigned code points
  become visible escapes (``\\n``, ``\\x1b``, ``\\u202e``); spaces and the emoji joiner stay. A name
  cannot move the cursor, colour the terminal, start a new line (so it cannot start a GitHub workflow
  command such as ``::error::``), or reorder what is shown. A name that itself starts
  with ``::`` shows its first colon as ``\\x3a``. Idempotent.
- ``md_text``: Markdown outside code spans (table cells, list items, notes): ``data`` plus escapes for
  ``\\``, ``|``, `````, ``[``, ``]``, ``<`` (no raw HTML: ``</details>``, ``<!--``) and an ``@`` that
  would mention someone (``@&#8203;team``, as Renovate does).
- ``md_code``: a code span's content (mentions are inert there): ``data``, ``|`` escaped for tables,
  backticks shown as ``'``, ``<`` as ``&lt;``; ``code`` makes the span, or escaped text for a name
  holding ``<`` (so no report holds a raw ``</details>`` or ``<!--`` anywhere).
- ``md_fenced``: a line inside a fenced code block: ``data``, and no run of backticks that could close
  the fence.
- ``html``: text inside raw HTML (``<summary>``): ``data`` plus HTML entities.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata

_VISIBLE = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ZWJ = "\u200d"  # joins emoji sequences; harmless
_MENTION = re.compile(r"(?<![\w@])@")  # any @ that could start a mention, whatever follows
_MD = str.maketrans({"\\": "\\\\", "|": "\\|", "`": "\\`", "[": "\\[", "]": "\\]", "<": "&lt;"})


def data(text: str) -> str:
    """``text`` safe to print anywhere: no control, format, separator or unassigned character (spaces
    such as U+00A0 stay), no leading ``::``."""
    if text.isprintable() and "::" not in text:  # the usual case, at C speed
        return text
    if not text.isprintable():
        text = "".join(_visible(ch) for ch in text)
    stripped = text.lstrip(" ")
    if stripped.startswith("::"):
        text = text[: len(text) - len(stripped)] + "\\x3a" + stripped[1:]
    return text


def _visible(ch: str) -> str:
    if ch.isprintable() or ch == _ZWJ or unicodedata.category(ch) == "Zs":
        return ch
    code = ord(ch)
    return _VISIBLE.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                                else f"\\U{code:08x}")


def md_text(text: str) -> str:
    """``text`` as Markdown text outside code spans: no markup, no HTML, no mention, one table cell."""
    text = data(text).translate(_MD)
    return _MENTION.sub("@&#8203;", text) if "@" in text else text


def md_code(text: str) -> str:
    """``text`` as the content of a code span in a Markdown table cell (inside a template's backticks)."""
    return data(text).replace("|", "\\|").replace("`", "'").replace("<", "&lt;")


def code(text: str) -> str:
    """``text`` as a code span, or as escaped text when it holds a ``<``: a code span would show ``&lt;``
    as typed, and no report should carry a raw ``</details>`` or ``<!--`` even where it is inert."""
    if not text:
        return ""
    return md_text(text) if "<" in text else f"`{md_code(text)}`"


def md_fenced(line: str) -> str:
    """A line inside a fenced code block: it cannot close the fence."""
    line = data(line)
    return line.replace("`", "'") if "``" in line else line


def html(text: str) -> str:
    """``text`` inside raw HTML."""
    return _html.escape(data(text), quote=True)
