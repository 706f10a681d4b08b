"""Raw spaces as ``LiveSpace`` (``read_spaces.Converter``): what a space converted while the read still runs
must be what the finish would make of it."""

from __future__ import annotations

from reconciler.confluence.read_spaces import Converter, RawSpace, to_live_spaces, users_of
from reconciler.live_state import SpaceInfo
from reconciler.model import Principal, PrincipalKind

USER, GROUP, CLASS = PrincipalKind.USER, PrincipalKind.GROUP, PrincipalKind.CLASS


def _raw(key: str, assignments: dict[tuple[PrincipalKind, str], str],
         grants: dict[tuple[PrincipalKind, str], dict[str, int]] | None = None) -> RawSpace:
    return RawSpace(SpaceInfo(key, key.lower(), key, "global"), assignments, grants or {}, {}, {})


def test_a_space_holding_a_group_the_site_list_does_not_name_is_left_for_the_finish() -> None:
    convert = Converter({"g1": "eng"}, {})
    assert convert.names_every_group(_raw("A", {(GROUP, "g1"): "Viewer", (USER, "u1"): "Admin"}))
    assert not convert.names_every_group(_raw("B", {(GROUP, "g2"): "Viewer"}))
    assert not convert.names_every_group(_raw("C", {}, grants={(GROUP, "g2"): {"read/space": 7}}))


def test_a_space_converted_ahead_equals_the_finishs_conversion_and_shares_its_principals() -> None:
    groups, labels = {"g1": "eng"}, {"u1": "alice"}
    spaces = [_raw("A", {(GROUP, "g1"): "Viewer", (USER, "u1"): "Admin"}),
              _raw("B", {(USER, "u1"): "Viewer", (CLASS, "anonymous-users"): "Viewer"},
                   grants={(USER, "u2"): {"read/space": 9, "create/page": 4}})]
    convert = Converter(groups, labels)
    ahead = {space.info.key: convert(space) for space in spaces}

    assert ahead == to_live_spaces(spaces, groups, labels)
    alice = next(p for p in ahead["A"].assignments if p.kind is USER)
    assert alice == Principal(USER, "u1")
    assert alice.label == "alice"
    assert next(p for p in ahead["B"].assignments if p.kind is USER) is alice  # built once
    assert list(ahead["B"].grants[Principal(USER, "u2")]) == ["create/page", "read/space"]
    assert ahead["A"].grants == {}


def test_the_accounts_seen_are_the_users_of_assignments_grants_and_companions() -> None:
    spaces = [_raw("A", {(GROUP, "g1"): "Viewer", (USER, "u1"): "Admin"}),
              RawSpace(SpaceInfo("B", "b", "B", "global"), {}, {(USER, "u2"): {"read/space": 1}}, {},
                       {(USER, "u3"): {"read/space": 2}})]
    assert users_of(spaces) == {"u1", "u2", "u3"}
    assert spaces[0].users() == {"u1"}
