"""Exit 3 only for real bugs (issue 14 §7): bad environment and input are one line and exit 1 (or 130)."""
# ruff: noqa: E501 - expected messages are compared whole

from __future__ import annotations

import errno
import io
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from reconciler import cli
from reconciler.apply.ports import Subject
from reconciler.cli import main
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.read import fetch_roles
from reconciler.confluence.write import ConfluenceWriter
from reconciler.errors import ApiError
from reconciler.live_state import SpaceInfo

from .conftest import POLICIES

FORMS = "accepted forms: https://<site>.atlassian.net, https://api.atlassian.com/ex/confluence/<cloudId> or sandbox:<name>"
SITE = "https://acme.atlassian.net"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("url", "message"), [
    ("https://[::1", f"error: the site URL 'https://[::1' is malformed (Invalid IPv6 URL); {FORMS}"),
    ("https://acme.atlassian.net:abc", f"error: the site URL 'https://acme.atlassian.net:abc' is malformed (Port could not be cast to integer value as 'abc'); {FORMS}"),
    ("https://acme.atlassian.net:99999", f"error: the site URL 'https://acme.atlassian.net:99999' is malformed (Port out of range 0-65535); {FORMS}"),
    ("http://127.0.0.1:0", f"error: the site URL 'http://127.0.0.1:0' is malformed (port 0); {FORMS}"),
    ("https://acme .atlassian.net", f"error: the site URL 'https://acme .atlassian.net' is malformed (a space or control character); {FORMS}"),
    ("https://bob:hunter2@[::1", f"error: the site URL is malformed (Invalid IPv6 URL; not shown, it may hold credentials); {FORMS}"),
])
def test_a_malformed_confluence_url_is_one_line_and_exit_1(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    monkeypatch.setenv("CONFLUENCE_URL", url)
    monkeypatch.setenv("CONFLUENCE_EMAIL", "a@example.com")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", "tok-123")
    assert _run(["plan", str(POLICIES), "--no-progress"], capsys) == (1, message + "\n")


@pytest.mark.parametrize(("proxy", "message"), [
    ("socks5://proxy.example:1080", "error: HTTPS_PROXY uses the unsupported proxy scheme 'socks5'; use http or https, or unset it"),
    ("ftp://proxy.example:21", "error: HTTPS_PROXY uses the unsupported proxy scheme 'ftp'; use http or https, or unset it"),
    ("http://bob:hunter2@proxy.example:99999", "error: HTTPS_PROXY is not a valid proxy URL (Port out of range 0-65535); fix or unset it"),
])
def test_an_unusable_proxy_is_one_line_naming_the_variable_never_its_value(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], proxy: str, message: str
) -> None:
    monkeypatch.setenv("CONFLUENCE_URL", "https://acme.atlassian.net")
    monkeypatch.setenv("CONFLUENCE_EMAIL", "a@example.com")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", "tok-123")
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    assert _run(["plan", str(POLICIES), "--no-progress"], capsys) == (1, message + "\n")


def test_a_closed_stdout_is_one_line_and_exit_1_before_anything_runs(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdout", None)
    assert _run(["plan", str(POLICIES)], capsys) == (
        1, "error: standard output is closed; run with stdout open (redirect it to a file or /dev/null)\n")
    assert not (sandbox / "sandbox").exists()  # nothing was read


class _FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no descriptor")


def test_a_full_disk_on_stdout_is_one_line_and_exit_1(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdout", _FullDisk())
    assert _run(["plan", str(POLICIES), "--no-progress"], capsys) == (
        1, "error: cannot write the output: No space left on device\n")


def test_a_stdout_that_cannot_encode_the_text_still_gets_it_escaped(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr("sys.stdout", ascii_out)
    shutil.copytree(POLICIES, sandbox / "pólicies")
    assert _run(["validate", "pólicies"], capsys) == (0, "")
    ascii_out.flush()
    assert raw.getvalue().decode("ascii").startswith("p\\xf3licies: valid (")


def test_a_lone_surrogate_in_a_policy_value_is_a_file_line_column_error_and_no_plan_file(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = sandbox / "p"
    shutil.copytree(POLICIES, policies)
    (policies / "extra.yaml").write_text('roles:\n  Auditor2:\n    description: "Reads \\udc80 all"\n    permissions: [read/space]\n', encoding="utf-8")
    assert _run(["plan", "p", "--out", "plan.json", "--no-progress"], capsys) == (
        1, "p/extra.yaml:3:18: the text contains a lone surrogate (\\udc80), which is not a character; remove the escape or write the character itself\n")
    assert not (sandbox / "plan.json").exists()


def test_a_plan_file_that_cannot_be_written_whole_leaves_the_old_one_untouched(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (sandbox / "plan.json").write_text("previous plan\n", encoding="utf-8")

    def fsync(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    code, err = _run(["plan", str(POLICIES), "--out", "plan.json", "--no-progress"], capsys)
    assert (code, err) == (1, "error: plan.json: cannot write the plan file: No space left on device\n")
    assert (sandbox / "plan.json").read_text(encoding="utf-8") == "previous plan\n"
    assert sorted(p.name for p in sandbox.iterdir()) == ["plan.json", "sandbox"]  # no temporary file left


@pytest.mark.parametrize("where", ["start-up", "policy", "site"])
def test_ctrl_c_at_any_moment_prints_one_line_and_exits_130(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    def interrupt(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    target = {"start-up": (cli, "build_parser"),
              "policy": ("reconciler.policy.loader.read_policy", None),
              "site": (ConfluenceClient, "_request")}[where]
    if target[1] is None:
        monkeypatch.setattr(str(target[0]), interrupt)
    else:
        monkeypatch.setattr(target[0], str(target[1]), interrupt)
    assert _run(["plan", str(POLICIES), "--no-progress"], capsys) == (130, "interrupted\n")


def test_an_unknown_role_mode_is_an_api_error_naming_the_call(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONFLUENCE_URL", SITE)
    monkeypatch.setenv("CONFLUENCE_EMAIL", "a@example.com")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", "tok-123")
    with respx.mock(base_url=SITE) as api:
        api.get("/wiki/api/v2/space-role-mode").respond(json={"mode": "HYBRID_2027"})
        code, err = _run(["plan", str(POLICIES), "--no-progress"], capsys)
    assert (code, err) == (1, "error: GET /wiki/api/v2/space-role-mode: 200: unknown space role mode 'HYBRID_2027'\n")


def test_a_role_without_a_name_is_an_api_error_naming_the_call() -> None:
    with respx.mock(base_url=SITE) as api, ConfluenceClient(SITE) as client:
        api.get("/wiki/api/v2/space-roles").respond(json={"results": [{"id": "7", "type": "CUSTOM"}], "_links": {}})
        with pytest.raises(ApiError) as caught:
            fetch_roles(client)
    assert str(caught.value) == "GET /wiki/api/v2/space-roles: 200: space role 7 has no name"


@pytest.mark.parametrize("size", ["12x", 2.5, -1, None, True])
def test_a_malformed_number_in_a_v1_page_is_an_api_error_naming_the_call(size: Any) -> None:
    with respx.mock(base_url=SITE) as api, ConfluenceClient(SITE) as client:
        api.get("/wiki/rest/api/group").respond(json={"results": [{"id": "g", "name": "g"}], "size": size, "_links": {"next": "/x"}})
        with pytest.raises(ApiError) as caught:
            list(client.paginate_v1("/wiki/rest/api/group", {"limit": 1}))
    assert str(caught.value) == f"GET /wiki/rest/api/group: 200: the response's 'size' is not a whole number: {str(size)!r}"


def test_a_permission_id_that_is_not_a_number_is_an_api_error_naming_the_call() -> None:
    with respx.mock(base_url=SITE) as api, ConfluenceClient(SITE) as client:
        api.post("/wiki/rest/api/space/ENG/permission").mock(return_value=httpx.Response(200, json={"id": "12ab"}))
        writer = ConfluenceWriter(client)
        with pytest.raises(ApiError) as caught:
            writer.add_permission(SpaceInfo("ENG", "1", "Engineering", "global"), Subject("user", "5b10"), "read/space")
    assert str(caught.value) == "POST /wiki/rest/api/space/ENG/permission (space ENG): 200: the response's permission id is not a number: '12ab'"



class _InterruptingFinder:
    """A meta path finder that is Ctrl-C while ``reconciler.cli`` is being imported."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "reconciler.cli":
            raise KeyboardInterrupt


def test_ctrl_c_while_the_cli_is_still_importing_is_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import reconciler.__main__ as entry

    monkeypatch.delitem(sys.modules, "reconciler.cli")
    monkeypatch.setattr(sys, "meta_path", [_InterruptingFinder(), *sys.meta_path])
    with pytest.raises(SystemExit) as exited:
        entry.run()
    assert (exited.value.code, capsys.readouterr().err) == (130, "interrupted\n")
