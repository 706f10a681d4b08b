"""The policy language on Data Center: platform detection, DC names, principals and what DC has not."""
# ruff: noqa: E501 - policy fixtures and expected messages read best on one line

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.model import Platform, Principal, PrincipalKind
from reconciler.permissions import compile_role_for_dc
from reconciler.policy.loader import load_policy
from reconciler.policy.platform import platform_of_url

from .conftest import write_policy

DC_SITE = """\
version: 1
site:
  url: https://wiki.acme.example/confluence
  actor: bot
  default_authority: exact
people:
  bot: svc-bot
  ann: ann.smith
"""


def _validate(root: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    write_policy(root / "p", {"site.yaml": DC_SITE, **files}, base=False)
    code = main(["validate", str(root / "p")])
    return code, capsys.readouterr().err.replace(str(root) + "/", "").splitlines()


@pytest.mark.parametrize(
    ("url", "platform"),
    [("https://acme.atlassian.net", Platform.CLOUD), ("https://acme.atlassian.net/wiki", Platform.CLOUD),
     ("https://api.atlassian.com/ex/confluence/abc", Platform.CLOUD), ("sandbox:demo", Platform.CLOUD),
     ("sandbox:dc-demo", Platform.DATACENTER), ("https://wiki.acme.example/confluence", Platform.DATACENTER),
     ("https://wiki.acme.example", Platform.CLOUD)],
)
def test_auto_platform_comes_from_the_url(url: str, platform: Platform) -> None:
    assert platform_of_url(url) is platform


def test_the_dc_demo_example_validates_clean(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    assert main(["validate", str(root / "examples" / "dc-demo")]) == 0
    assert capsys.readouterr().out.endswith("valid (5 spaces, 1 defaults rules, 4 people, 0 custom roles)\n")


def test_dc_usernames_and_dc_permission_names_resolve(tmp_path: Path) -> None:
    space = "spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n    grants:\n      user:jdoe: [read/space, delete_mail/space, restrict/space]\n      user:ann: [read/space]\n"
    write_policy(tmp_path / "p", {"site.yaml": DC_SITE, "spaces/ENG.yaml": space}, base=False)
    desired = load_policy(tmp_path / "p")
    assert desired.site.platform is Platform.DATACENTER
    grants = {g.principal: g.permissions for g in desired.spaces["ENG"].grants}
    assert grants[Principal(PrincipalKind.USER, "jdoe")] == frozenset({"read/space", "delete_mail/space", "restrict/space"})
    assert Principal(PrincipalKind.USER, "ann.smith") in grants
    assert desired.site.actor == Principal(PrincipalKind.USER, "svc-bot")


def test_what_dc_does_not_have_is_an_error_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = ("spaces:\n  ENG:\n    data_security: {export: block}\n    assign:\n      group:space-admins: Admin\n      class:authenticated-users: Viewer\n"
             "    grants:\n      group:g: [read/space, delete/space, archive/page]\n")
    extra = "guests:\n  max_role: Viewer\n"
    code, lines = _validate(tmp_path, {"spaces/ENG.yaml": space, "guests.yaml": extra}, capsys)
    assert code == 1
    assert lines == [
        "p/guests.yaml:1:1: Data Center has no guests; remove the guests: section",
        "p/spaces/ENG.yaml:3:5: spaces.ENG.data_security: data security controls do not exist on Data Center; remove data_security:",
        "p/spaces/ENG.yaml:6:7: spaces.ENG.assign: access class 'authenticated-users' does not exist on Data Center (only class:anonymous-users); use a group such as confluence-users instead",
        "p/spaces/ENG.yaml:8:29: spaces.ENG.grants.group:g[1]: 'delete/space' is called 'delete_own/space' on Data Center; write 'delete_own/space'",
        "p/spaces/ENG.yaml:8:43: spaces.ENG.grants.group:g[2]: 'archive/page' does not exist on Data Center; remove it",
    ]


def test_dc_names_are_unknown_on_cloud(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_policy(tmp_path / "p", {"spaces/ENG.yaml": "spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n    grants:\n      group:g: [read/space, delete_mail/space]\n"})
    assert main(["validate", str(tmp_path / "p")]) == 1
    assert "unknown permission 'delete_mail/space'" in capsys.readouterr().err


def test_roles_compile_to_dc_pairs_and_name_what_dc_lacks() -> None:
    ops, dropped = compile_role_for_dc(frozenset({"read/space", "delete/space", "restrict_content/space", "archive/page"}))
    assert ops == frozenset({"read/space", "delete_own/space", "restrict/space"})
    assert dropped == frozenset({"archive/page"})


def test_a_malformed_url_is_left_to_the_url_check() -> None:
    assert platform_of_url("https://[::1") is Platform.CLOUD
