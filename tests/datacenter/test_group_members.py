"""DC group members for the access review: paged, once per group, by username; '/' names are unreadable."""

from __future__ import annotations

from reconciler.datacenter.members import fetch_dc_group_members
from reconciler.sandbox.datacenter import DcSite
from tests.datacenter.conftest import MakeReader

ROUTE = "GET /rest/api/group/{groupName}/member"


def test_members_are_read_by_username_once_per_group(make_reader: MakeReader, site: DcSite) -> None:
    reader = make_reader(read_only=True)
    members = fetch_dc_group_members(reader.client, {"engineering": "engineering", "finance": "finance",
                                                     "nobody-has-this": "nobody-has-this"})
    assert [m.account_id for m in members["engineering"].members] == ["alice", "bob"]
    assert [m.account_id for m in members["finance"].members] == ["carol"]
    assert members["nobody-has-this"].missing
    assert sum(n for key, n in site.counters.items() if key.endswith(ROUTE)) == 3


def test_a_group_name_with_a_slash_comes_back_missing_without_a_call(make_reader: MakeReader,
                                                                      site: DcSite) -> None:
    reader = make_reader(read_only=True)
    members = fetch_dc_group_members(reader.client, {"ops/oncall": "ops/oncall"})
    assert members["ops/oncall"].missing
    assert not any(key.endswith(ROUTE) for key in site.counters)
