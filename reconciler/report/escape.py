"""Text from the site (and from policy files) is data in every report: never markup, never a command.

One module, applied where the view models are built (``plan_view``, ``apply_render``, ``drift_render``)
and where Markdown cells are made (``render``, ``drift_groups``). docs/reports.md lists what is escaped.

- ``data``: for every format. Control characters (C0, DEL, C1), line and paragraph separators and the
  bidirectional controls (``U+202E``: "Trojan source") become visible escapes (``\\n``, ``\\x1b``,
  ``\\u202e``): a name cannot move the cursor, colour the terminal, start a new line (so it cannot start
  a GitHub workflow command such as ``::error::``), or reorder what is shown. A name that itself starts
  with ``::`` shows its first colon as ``\\x3a``. Idempotent.
- ``md_text``: Markdown outside code spans (table cells, list items, notes): ``data`` plus escapes for
  ``\\``, ``|``, `````, ``[``, ``]``, ``<`` (no raw HTML: ``</details>``, ``<!--``) and an ``@`` that
  would mention someone (``@&#8203;team``, as Renovate does).
- ``md_code``: a code span's content (mentions and HTML are inert there): ``data``, ``|`` escaped for
  tables, backticks shown as ``'``.
- ``md_fenced``: a line inside a fenced code block: ``data``, and no run of backticks that could close
  the fence.
- ``html``: text inside raw HTML (``<summary>``): ``data`` plus HTML entities.
"""

from __future__ import annotations

import html as _html
import re

_VISIBLE = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}
_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0)]
_FORMAT = [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF]
_TABLE = {code: _VISIBLE.get(code, f"\\x{code:02x}") for code in _CONTROLS}
_TABLE.update({code: f"\\u{code:04x}" for code in _FORMAT})
_MENTION = re.compile(r"(?<![\w@])@(?=[\w-])")
_MD = str.maketrans({"\\": "\\\\", "|": "\\|", "`": "\\`", "[": "\\[", "]": "\\]", "<": "&lt;"})


def data(text: str) -> str:
    """``text`` safe to print anywhere: no control or direction character, no leading ``::``."""
    if text.isprintable() and "::" not in text:  # the usual case, at C speed
        return text
    text = text.translate(_TABLE)
    stripped = text.lstrip(" ")
    if stripped.startswith("::"):
        text = text[: len(text) - len(stripped)] + "\\x3a" + stripped[1:]
    return text


def md_text(text: str) -> str:
    """``text`` as Markdown text outside code spans: no markup, no HTML, no mention, one table cell."""
    text = data(text).translate(_MD)
    return _MENTION.sub("@&#8203;", text) if "@" in text else text


def md_code(text: str) -> str:
    """``text`` as the content of a code span in a Markdown table cell."""
    return data(text).replace("|", "\\|").replace("`", "'")


def md_fenced(line: str) -> str:
    """A line inside a fenced code block: it cannot close the fence."""
    line = data(line)
    return line.replace("`", "'") if "``" in line else line


def html(text: str) -> str:
    """``text`` inside raw HTML."""
    return _html.escape(data(text), quote=True)
