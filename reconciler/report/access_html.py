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

from reconciler.review.jsonform import to_json
from reconciler.review.model import Review

ROW_BATCH = 200  # rows drawn per batch (more as the reader scrolls)
COLUMN_PAGE = 60  # person or group columns per page


def render_html(review: Review) -> str:
    from reconciler.report.access_render import text_lines  # noqa: PLC0415 - the questions, as text

    data = json.dumps(to_json(review), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    lines = text_lines(review)
    questions = lines[lines.index("Who can administer each space:"):]
    title = f"Access review: {review.site}"
    return (
        _PAGE.replace("%TITLE%", html.escape(title))
        .replace("%SUMMARY%", html.escape(lines[0]))
        .replace("%QUESTIONS%", html.escape("\n".join(questions)))
        .replace("%ROW_BATCH%", str(ROW_BATCH))
        .replace("%COLUMN_PAGE%", str(COLUMN_PAGE))
        .replace("%DATA%", data)
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="reconciler access">
<title>%TITLE%</title>
<style>
:root { --admin: #b42318; --write: #b54708; --read: #027a48; --line: #d0d5dd; --muted: #667085; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #101828; }
header { padding: 12px 16px; border-bottom: 1px solid var(--line); background: #f9fafb; }
h1 { font-size: 18px; margin: 0 0 4px; }
#summary { color: var(--muted); margin: 0; }
#controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 8px 16px;
  border-bottom: 1px solid var(--line); }
#controls input[type=search] { width: 180px; padding: 3px 6px; }
#main { display: flex; height: calc(100vh - 170px); min-height: 300px; }
#scroller { flex: 1; overflow: auto; }
table { border-collapse: separate; border-spacing: 0; }
th, td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 2px 4px;
  white-space: nowrap; }
thead th { position: sticky; top: 0; background: #f2f4f7; z-index: 2; height: 110px; vertical-align: bottom; }
thead th.col > div { writing-mode: vertical-rl; transform: rotate(180deg); max-height: 104px;
  overflow: hidden; text-overflow: ellipsis; }
tbody th { position: sticky; left: 0; background: #fff; z-index: 1; text-align: left; font-weight: 600; }
thead th.corner { left: 0; z-index: 3; text-align: left; }
td.cell { text-align: center; min-width: 26px; cursor: pointer; font-weight: 600; }
td.admin { background: #fee4e2; color: var(--admin); }
td.write { background: #fef0c7; color: var(--write); }
td.read { background: #d1fadf; color: var(--read); }
td.sel { outline: 2px solid #155eef; outline-offset: -2px; }
.guest { font-style: italic; }
.tag { color: var(--muted); font-weight: 400; }
#panel { width: 380px; border-left: 1px solid var(--line); padding: 10px 12px; overflow: auto; }
#panel h2 { font-size: 14px; margin: 0 0 6px; }
#panel ul { padding-left: 18px; margin: 4px 0; }
#more { padding: 8px 16px; color: var(--muted); }
details { padding: 8px 16px; border-top: 1px solid var(--line); }
pre { white-space: pre-wrap; margin: 6px 0; }
.legend span { padding: 0 6px; margin-right: 4px; }
</style>
</head>
<body>
<header>
<h1>%TITLE%</h1>
<p id="summary">%SUMMARY%</p>
</header>
<div id="controls">
<label>View <select id="view"><option value="people">spaces × people</option>
<option value="groups">spaces × groups and access classes</option></select></label>
<label>Space <input id="fspace" type="search" placeholder="key or name"></label>
<label>Person or group <input id="fwho" type="search" placeholder="handle, id or name"></label>
<label><input id="fguests" type="checkbox"> guests only</label>
<label><input id="fadmins" type="checkbox"> administrators only</label>
<span id="pager"><button id="prev" type="button">‹</button> <span id="cols"></span>
<button id="next" type="button">›</button></span>
<span class="legend"><span class="admin" style="background:#fee4e2">A admin</span>
<span style="background:#fef0c7">W writes</span><span style="background:#d1fadf">R reads</span></span>
</div>
<div id="main">
<div id="scroller"><table id="matrix"><thead></thead><tbody></tbody></table>
<div id="more"></div></div>
<aside id="panel"><h2>Grant paths</h2><p class="tag">Hover a cell for its paths; click to pin them here.</p></aside>
</div>
<details><summary>Reviewer questions</summary><pre id="questions">%QUESTIONS%</pre></details>
<script type="application/json" id="review-data">%DATA%</script>
<script>
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("review-data").textContent);
  const ROWS = %ROW_BATCH%, PAGE = %COLUMN_PAGE%;
  const $ = (id) => document.getElementById(id);
  const people = Object.keys(D.people).map((ref) => {
    const p = D.people[ref];
    return { ref, label: p.handle || p.account_id || ref, name: p.name || "", guest: !!p.guest };
  }).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : (a.ref < b.ref ? -1 : 1)));
  const byRef = new Map(people.map((p) => [p.ref, p]));
  const members = new Map(Object.keys(D.groups).map((g) => [g, new Set(D.groups[g].members)]));
  const LICENSED = new Set(["authenticated-users", "all-licensed-users"]);
  const applies = (cls, p) => cls === "anonymous-users" || (LICENSED.has(cls) && !p.guest);
  const split = (principal) => { const i = principal.indexOf(":"); return [principal.slice(0, i), principal.slice(i + 1)]; };
  const tail = (g) => "→ " + g.access + ", " + (g.declared || "not in the policy") + (g.policy ? " (policy: " + g.policy + ")" : "");
  const describe = (g) => { const [k] = split(g.principal); return (k === "user" ? "directly " : "via " + g.principal + " ") + tail(g); };
  const order = (g) => (split(g.principal)[0] === "user" ? "0" : "1") + split(g.principal)[1];
  const level = (perms) => perms.has("administer/space") ? "admin" : [...perms].some((x) => x !== "read/space" && x !== "create/comment" && x !== "export/space") ? "write" : perms.size ? "read" : "";
  const letter = { admin: "A", write: "W", read: "R", "": "" };

  function personCell(space, p) {
    const own = [], classes = [];
    for (const g of space.grants) {
      const [kind, who] = split(g.principal);
      if (kind === "user" ? who === p.ref : kind === "group" ? (members.get(who) || new Set()).has(p.ref) : false) own.push(g);
      else if (kind === "class" && applies(who, p)) classes.push(g);
    }
    if (!own.length) return null;
    own.sort((a, b) => (order(a) < order(b) ? -1 : 1));
    const grants = own.concat(classes);
    const perms = new Set();
    grants.forEach((g) => g.permissions.forEach((x) => perms.add(x)));
    return { grants, perms };
  }
  function groupCell(space, principal) {
    const grants = space.grants.filter((g) => g.principal === principal);
    if (!grants.length) return null;
    const perms = new Set();
    grants.forEach((g) => g.permissions.forEach((x) => perms.add(x)));
    return { grants, perms };
  }
  const principals = [...new Set(D.spaces.flatMap((s) => s.grants.map((g) => g.principal))
    .filter((p) => !p.startsWith("user:")))].sort();

  let rows = [], cols = [], page = 0, drawn = 0, selected = null;
  function matches(text, ...values) { return !text || values.some((v) => v.toLowerCase().includes(text)); }
  function columns() {
    const who = $("fwho").value.trim().toLowerCase();
    if ($("view").value === "groups") return principals.filter((p) => matches(who, p)).map((p) => ({ key: p, label: p }));
    return people.filter((p) => matches(who, p.label, p.name, p.ref) && (!$("fguests").checked || p.guest))
      .map((p) => ({ key: p.ref, label: p.label, person: p }));
  }
  function cellFor(space, col) { return col.person ? personCell(space, col.person) : groupCell(space, col.key); }
  function refresh() {
    const text = $("fspace").value.trim().toLowerCase();
    cols = columns();
    page = Math.min(page, Math.max(0, Math.ceil(cols.length / PAGE) - 1));
    const visible = cols.slice(page * PAGE, page * PAGE + PAGE);
    rows = D.spaces.filter((s) => matches(text, s.key, s.name));
    if ($("fadmins").checked) rows = rows.filter((s) => visible.some((c) => { const x = cellFor(s, c); return x && x.perms.has("administer/space"); }));
    $("cols").textContent = cols.length ? (page * PAGE + 1) + "–" + Math.min(cols.length, page * PAGE + PAGE) + " of " + cols.length + " columns" : "no columns";
    const head = document.createElement("tr");
    const corner = document.createElement("th");
    corner.className = "corner";
    corner.textContent = rows.length + " spaces";
    head.appendChild(corner);
    for (const c of visible) {
      const th = document.createElement("th");
      th.className = "col" + (c.person && c.person.guest ? " guest" : "");
      const div = document.createElement("div");
      div.textContent = c.label + (c.person && c.person.guest ? " (guest)" : "");
      th.title = c.person && c.person.name ? c.label + " — " + c.person.name : c.label;
      th.appendChild(div);
      head.appendChild(th);
    }
    const thead = $("matrix").tHead;
    thead.replaceChildren(head);
    $("matrix").tBodies[0].replaceChildren();
    drawn = 0;
    drawMore();
  }
  function drawMore() {
    const visible = cols.slice(page * PAGE, page * PAGE + PAGE);
    const body = $("matrix").tBodies[0];
    const end = Math.min(rows.length, drawn + ROWS);
    for (; drawn < end; drawn++) {
      const s = rows[drawn];
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = s.key;
      th.title = s.name + " (" + s.authority + ")";
      const classes = s.grants.filter((g) => g.principal.startsWith("class:")).map((g) => g.principal.slice(6));
      if (classes.length) { const t = document.createElement("span"); t.className = "tag"; t.textContent = " + " + classes.join(", "); th.appendChild(t); }
      tr.appendChild(th);
      for (const c of visible) {
        const td = document.createElement("td");
        const x = cellFor(s, c);
        if (x) {
          const lv = level(x.perms);
          td.className = "cell " + lv;
          td.textContent = letter[lv];
          td.dataset.space = s.key;
          td.dataset.person = c.label;
          td.dataset.perms = [...x.perms].sort().join(" ");
          td.title = s.key + " · " + c.label + "\\n" + x.grants.map(describe).join("\\n");
          td.addEventListener("click", () => show(td, s, c, x));
        }
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    $("more").textContent = drawn < rows.length ? "showing " + drawn + " of " + rows.length + " spaces; scroll for more" : "";
  }
  function show(td, s, c, x) {
    if (selected) selected.classList.remove("sel");
    selected = td;
    td.classList.add("sel");
    const panel = $("panel");
    panel.replaceChildren();
    const h = document.createElement("h2");
    h.textContent = s.key + " · " + c.label;
    panel.appendChild(h);
    const add = (tag, text) => { const e = document.createElement(tag); e.textContent = text; panel.appendChild(e); return e; };
    if (c.person && c.person.name) add("p", c.person.name);
    if (c.person && c.person.guest) add("p", "guest");
    add("p", "Effective permissions: " + td.dataset.perms);
    const ul = add("ul", "");
    x.grants.forEach((g) => { const li = document.createElement("li"); li.textContent = describe(g); ul.appendChild(li); });
    const drift = (s.drift || []).find((d) => d.person === c.key);
    if (drift) add("p", "Differs from the policy, which gives: " + (drift.policy.join(" ") || "nothing"));
  }
  $("scroller").addEventListener("scroll", () => {
    const el = $("scroller");
    if (el.scrollTop + el.clientHeight > el.scrollHeight - 400 && drawn < rows.length) drawMore();
  });
  ["view", "fguests", "fadmins"].forEach((id) => $(id).addEventListener("change", () => { page = 0; refresh(); }));
  ["fspace", "fwho"].forEach((id) => $(id).addEventListener("input", () => { page = 0; refresh(); }));
  $("prev").addEventListener("click", () => { if (page > 0) { page--; refresh(); } });
  $("next").addEventListener("click", () => { if ((page + 1) * PAGE < cols.length) { page++; refresh(); } });
  refresh();
})();
</script>
</body>
</html>
"""
