"""Writing a DC site through the sandbox: declarative POSTs in chunks of 40, grant/revoke, JSON-RPC."""

from __future__ import annotations

from reconciler.datacenter.read import ANONYMOUS
from reconciler.datacenter.write import DcWriter
from reconciler.model import Principal, PrincipalKind
from reconciler.sandbox.datacenter import DcSite
from reconciler.sandbox.datacenter.seeds import user_key
from tests.datacenter.conftest import MakeReader

ERIN = Principal(PrincipalKind.USER, "erin")
ONCALL = Principal(PrincipalKind.GROUP, "ops/oncall")
HR = Principal(PrincipalKind.GROUP, "hr")


def _writer(make_reader: MakeReader, **options: object) -> DcWriter:
    reader = make_reader(**options)
    reader.connect()
    return DcWriter(reader)


def test_set_access_converges_keeps_read_and_leaves_others(make_reader: MakeReader, site: DcSite) -> None:
    writer = _writer(make_reader)
    before = writer.reader.space_access("ENG")
    site.reset_counters()
    writer.set_access("ENG", {ERIN: frozenset({"create/page"}), ONCALL: frozenset(), ANONYMOUS: frozenset()})
    after = writer.reader.space_access("ENG")
    assert after[ERIN] == frozenset({"read/space", "create/page"})
    assert ONCALL not in after
    assert ANONYMOUS not in after
    assert {p: o for p, o in after.items() if p not in (ERIN,)} == {
        p: o for p, o in before.items() if p != ONCALL}
    assert site.counters["POST /rest/api/space/{spaceKey}/permissions"] == 1


def test_more_than_40_subjects_go_in_chunks_of_40(make_reader: MakeReader, site: DcSite) -> None:
    for i in range(84):
        site.state.groups[f"team-{i:02d}"] = []
    writer = _writer(make_reader)
    site.reset_counters()
    desired = {Principal(PrincipalKind.GROUP, f"team-{i:02d}"): frozenset({"read/space"}) for i in range(84)}
    writer.set_access("FIN", desired)
    assert site.counters == {"POST /rest/api/space/{spaceKey}/permissions": 3}
    teams = {subj for (s, subj, _) in site.state.permissions if s == "FIN" and subj.startswith("group:team-")}
    assert len(teams) == 84


def test_grant_and_revoke_use_put_and_never_put_a_slash_group_in_a_path(
    make_reader: MakeReader, site: DcSite
) -> None:
    writer = _writer(make_reader)
    site.reset_counters()
    writer.grant("ENG", ERIN, frozenset({"create/comment"}))
    writer.grant("ENG", ONCALL, frozenset({"create/comment"}))
    writer.revoke("ENG", HR, frozenset({"create/comment"}))
    assert all("oncall" not in path for _, path in site.requests)
    assert site.counters == {
        "PUT /rest/api/space/{spaceKey}/permissions/user/{userKey}/grant": 1,
        "GET /rest/api/space/{spaceKey}/permissions": 1,
        "GET /rest/api/space/{spaceKey}/permissions/anonymous": 1,
        "POST /rest/api/space/{spaceKey}/permissions": 1,
        "PUT /rest/api/space/{spaceKey}/permissions/group/{groupName}/revoke": 1,
        "GET /rest/api/user": 2,  # erin's key for the path; alice's name when ENG is read
    }
    held = writer.reader.space_access("ENG")
    assert held[ERIN] == frozenset({"read/space", "create/comment"})
    assert held[ONCALL] == frozenset({"read/space", "create/comment"})
    assert ("ENG", f"user:{user_key('erin')}", "read/space") in site.state.permissions


def test_json_rpc_writes_converge_to_the_same_state(make_reader: MakeReader, site: DcSite) -> None:
    site.state.version = "8.9.3"
    writer = _writer(make_reader, allow_jsonrpc=True)
    writer.set_access("ENG", {ERIN: frozenset({"create/page"}), ONCALL: frozenset(),
                              ANONYMOUS: frozenset({"read/space"})})
    writer.revoke("ENG", Principal(PrincipalKind.USER, "alice"), frozenset({"export/space"}))
    held = writer.reader.space_access("ENG")
    assert held[ERIN] == frozenset({"read/space", "create/page"})
    assert ONCALL not in held
    assert held[ANONYMOUS] == frozenset({"read/space"})
    assert "export/space" not in held[Principal(PrincipalKind.USER, "alice")]
    assert {template for template in site.counters if "/rest/api/space/" in template} == set()
