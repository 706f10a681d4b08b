"""Text from the site is data, never markup or commands (issue 14 §5): every report (plan, apply, drift;
text and Markdown) escapes names; import writes only under --out and its YAML cannot be injected."""
# ruff: noqa: E501 - expected lines are compared whole

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciler.apply.result import ApplyResult, ChangeResult, Status
from reconciler.drift.classify import detect_drift
from reconciler.errors import UsageError
from reconciler.flows.import_site import _write_files
from reconciler.importer.files import SiteSnapshot, SiteUser, render_import
from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import Principal, PrincipalKind, RoleMode
from reconciler.plan.diff import build_plan
from reconciler.policy.loader import load_policy
from reconciler.report.apply_render import render_apply
from reconciler.report.drift_render import render_drift
from reconciler.report.escape import data, md_code, md_text
from reconciler.report.plan_render import render_plan
from tests.drift.builders import desired, live, space
from tests.report.scenarios import demo

HOSTILE = [
    "x\n::error file=a.yaml::pwned",
    "</details><!-- hidden",
    "@octo-org/admins please",
    "\x1b[2J\x1b[31mred",
    "evil\u202egnp.exe",
    "[click](https://evil.example) | `code`",
    "::warning::top",
    "a\r\n::set-output name=x::1",
]
# names the site could send: anything, with the dangerous characters made likely
NAMES = st.text(st.sampled_from(list("ab:@<>!-/|[]()`\\\n\r\t\x1b\x85\u2028\u202e ")) | st.characters(), min_size=1, max_size=30)


def _shown(ch: str) -> bool:
    """Printable, or a space or the emoji joiner: never a control, separator or direction character."""
    return ch.isprintable() or ch == "\u200d" or unicodedata.category(ch) == "Zs"


def _lines_are_safe(text: str) -> None:
    for line in text.split("\n"):
        assert not line.lstrip().startswith("::"), line  # no GitHub workflow command
        assert all(map(_shown, line)), line


def _markdown_is_safe(text: str, blocks: int) -> None:
    _lines_are_safe(text)
    assert "<!--" not in text
    assert text.count("<details>") == text.count("</details>") == blocks
    outside_code = re.sub(r"`[^`\n]*`|<code>.*?</code>", "", text.replace("\\`", ""))
    assert re.search(r"(?<![\w@])@(?=[\w-])", outside_code) is None  # no mention outside code spans


def _hostile_plan(name: str, key: str = "ENG") -> object:
    plan = demo()
    odd = replace(plan.changes[3], principal=Principal(PrincipalKind.GROUP, name), space=key,
                  reason=f"because {name}")
    spaces = tuple(replace(s, key=key) if s.key == "ENG" else s for s in plan.spaces)
    return replace(plan, spaces=spaces, changes=(odd,), notes=(f"note about {name}",))


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_escaped_in_the_text_and_markdown_plan(name: str) -> None:
    plan = _hostile_plan(name, key=name)
    _lines_are_safe(render_plan(plan, "text"))  # type: ignore[arg-type]
    _markdown_is_safe(render_plan(plan, "markdown"), blocks=1)  # type: ignore[arg-type]


def test_the_text_plan_shows_escaped_names_visibly() -> None:
    text = render_plan(_hostile_plan("ops\n::error::pwned", key="\x1b[2JENG"), "text")  # type: ignore[arg-type]
    assert "\\x1b[2JENG (exact, policies/spaces/ENG.yaml:3, defaults: admins-everywhere, staff-can-read):\n" in text
    assert "  + group:ops\\n::error::pwned  Collaborator  because ops\\n::error::pwned (policies/spaces/ENG.yaml:6)\n" in text


def test_the_markdown_plan_shows_no_html_and_mentions_no_one() -> None:
    text = render_plan(_hostile_plan("@octo-org/admins </details>", key="ENG"), "markdown")  # type: ignore[arg-type]
    assert "| + | group:@&#8203;octo-org/admins &lt;/details> | Collaborator | `policies/spaces/ENG.yaml:6` (because @&#8203;octo-org/admins &lt;/details>) |" in text
    assert "_Note: note about @&#8203;octo-org/admins &lt;/details>_" in text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, key=NAMES)
def test_no_name_the_site_can_send_escapes_a_plan_report(name: str, key: str) -> None:
    # a key another demo space has makes two spaces of one key, which no site sends (hypothesis drew 'OPS')
    assume(key not in {s.key for s in demo().spaces} - {"ENG"})
    plan = _hostile_plan(name, key=key)
    _lines_are_safe(render_plan(plan, "text"))  # type: ignore[arg-type]
    _markdown_is_safe(render_plan(plan, "markdown"), blocks=1)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(text=NAMES)
def test_the_escapes_keep_every_name_on_one_line_and_inert(text: str) -> None:
    for escaped in (data(text), md_text(text), md_code(text)):
        assert "\n" not in escaped
        assert "\r" not in escaped
        assert all(map(_shown, escaped))
        assert not escaped.lstrip().startswith("::")
    assert data(data(text)) == data(text)
    assert "<" not in md_text(text)
    assert "`" not in md_code(text)
    assert re.search(r"(?<!\\)\|", md_text(text).replace("\\\\", "")) is None  # every | escaped


@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_escaped_in_the_apply_report(name: str, fmt: str) -> None:
    change = replace(demo().changes[3], principal=Principal(PrincipalKind.GROUP, name))
    result = ApplyResult(site="sandbox:demo", mode="ROLES", results=(
        ChangeResult(change, Status.FAILED, f"400: no group {name}"), ChangeResult(change, Status.DONE, "")))
    text = render_apply(result, fmt)
    if fmt == "markdown":
        _markdown_is_safe(text, blocks=1)
    else:
        _lines_are_safe(text)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_escaped_in_the_drift_report(name: str, fmt: str) -> None:
    policy = desired(space("ENG", {"group:engineering": "Collaborator"}))
    site = live({"ENG": {"group:engineering": "Collaborator", f"group:{name}": "Admin"}},
                unmanaged=(name,))
    text = render_drift(detect_drift(policy, site, today=date(2026, 11, 23)), fmt)
    if fmt == "markdown":
        _markdown_is_safe(text, blocks=text.count("<details>"))
        assert "<details>" not in name or text.count("<details>") <= 1
    else:
        _lines_are_safe(text)


# ------------------------------------------------------------------------------------------------ import

ADMIN = "5b10ac8d82e05b22cc7d4e01"


def _site(key: str, group: str, display: str, space_name: str, role: str = "Auditor") -> SiteSnapshot:
    roles = {"Admin": LiveRole("r-a", "Admin", "SYSTEM", "", frozenset({"administer/space", "read/space"})),
             role: LiveRole("r-x", role, "CUSTOM", f"about {role}", frozenset({"read/space"}))}
    eng = LiveSpace(SpaceInfo(key, "1", space_name, "global"), assignments={
        Principal(PrincipalKind.USER, ADMIN): "Admin", Principal(PrincipalKind.GROUP, group): role})
    state = LiveState(RoleMode.ROLES, roles, frozenset(), {key: eng}, {group: "g1"})
    return SiteSnapshot("sandbox:test", state, {ADMIN: SiteUser(ADMIN, display)}, ADMIN)


def _import(tmp: Path, snapshot: SiteSnapshot) -> Path:
    out = tmp / "out"
    out.mkdir()
    _write_files(out, render_import(snapshot))
    return out


@pytest.mark.parametrize("key", ["../../escaped", "a/b", ".hidden", "..", "CON", "x\ny"])
def test_import_never_writes_outside_out_and_the_odd_key_still_validates(tmp_path: Path, key: str) -> None:
    out = _import(tmp_path, _site(key, "eng", "Site Admin", "Space"))
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["out/other-spaces.yaml", "out/people.yaml", "out/roles.yaml", "out/site.yaml"]
    desired_state = load_policy(out)
    assert list(desired_state.spaces) == [key]


def test_writing_a_relative_path_outside_out_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        _write_files(tmp_path / "out", {"../evil.yaml": "x: 1\n"})
    assert str(caught.value) == f"--out {tmp_path / 'out'}: refusing to write '../evil.yaml' outside the directory"
    assert not (tmp_path / "evil.yaml").exists()


IMPORT_NAMES = NAMES.filter(lambda s: s.strip() != "" and unicodedata.category(s[0]) != "Cs"
                            and all(unicodedata.category(c) != "Cs" for c in s))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(group=IMPORT_NAMES, display=IMPORT_NAMES, space_name=IMPORT_NAMES, role=IMPORT_NAMES)
def test_an_imported_policy_always_validates_and_keeps_every_name(
    tmp_path_factory: pytest.TempPathFactory, group: str, display: str, space_name: str, role: str
) -> None:
    if role in ("Admin", "Manager", "Collaborator", "Viewer", "none") or role != role.strip():
        role = f"R {role.strip()}"
    snapshot = _site("ENG", group, display, space_name, role)
    out = _import(tmp_path_factory.mktemp("imp"), snapshot)
    desired_state = load_policy(out)
    assert build_plan(desired_state, snapshot.live).changes == ()
    assert {p.principal.id for p in desired_state.spaces["ENG"].assignments} == {ADMIN, group}
    assert set(desired_state.roles) == {role}


def test_an_error_line_from_the_site_is_data_on_the_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import respx

    from reconciler.cli import main
    from tests.hardening.conftest import POLICIES

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONFLUENCE_URL", "https://acme.atlassian.net")
    monkeypatch.setenv("CONFLUENCE_EMAIL", "a@example.com")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", "tok-123456")
    with respx.mock(base_url="https://acme.atlassian.net") as api:
        api.get("/wiki/api/v2/space-role-mode").respond(
            403, json={"message": "denied \x1b[2J\x1b]0;owned\x07 \u202eevil"}, headers={"Content-Type": "application/json"})
        assert main(["plan", str(POLICIES), "--no-progress"]) == 1
    assert capsys.readouterr().err == (
        "error: GET /wiki/api/v2/space-role-mode: 403: Forbidden: denied \\x1b[2J\\x1b]0;owned\\x07 \\u202eevil\n")
