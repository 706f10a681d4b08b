"""The live vocabulary seed option (``+live``): app users, companion rows, the wider catalogue, duplicate
rows and access-class principals, as third parties saw them on live sites (docs/sandbox.md)."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.sandbox.catalogue import LIVE_ONLY
from reconciler.sandbox.live_vocabulary import APP_USERS
from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.site import Site
from tests.sandbox.doors import Door

OPS_ID, PUBLIC_ID, ENG_ID = 1474561, 1605633, 1441793
JIRA = APP_USERS[0][0]


def _rows(client: httpx.Client, space_id: int) -> list[dict[str, Any]]:
    body = client.get(f"/wiki/api/v2/spaces/{space_id}/permissions", params={"limit": 250}).json()
    assert "next" not in body["_links"]
    return list(body["results"])


def _ops(rows: list[dict[str, Any]], principal_id: str) -> list[str]:
    return sorted(f"{r['operation']['key']}/{r['operation']['targetType']}" for r in rows
                  if r["principal"]["id"] == principal_id)


def test_every_app_user_holds_every_catalogue_permission_on_every_space(door: Door) -> None:
    site = Site(seed_state("demo+live"))
    client = door.client(site)
    catalogue = sorted(item["id"] for item in
                       client.get("/wiki/api/v2/space-permissions", params={"limit": 250}).json()["results"])
    assert len(catalogue) == 14 + len(LIVE_ONLY) == 26
    for space in site.state.spaces.values():
        rows = _rows(client, space.id)
        for account_id, _ in APP_USERS:
            held = _ops(rows, account_id)
            extra = ["read/space"] if (space.id, account_id) == (ENG_ID, JIRA) else []
            assert held == sorted(catalogue + extra), space.key
    app = client.get("/wiki/rest/api/user", params={"accountId": JIRA}).json()
    assert (app["accountType"], app["displayName"]) == ("app", "Jira Cloud")


def test_duplicate_rows_have_distinct_ids(door: Door) -> None:
    site = Site(seed_state("demo+live"))
    rows = _rows(door.client(site), ENG_ID)
    jira_reads = [r["id"] for r in rows if r["principal"]["id"] == JIRA and r["operation"]["key"] == "read"]
    assert len(jira_reads) == len(set(jira_reads)) == 2


def test_seeded_grants_carry_their_companions(door: Door) -> None:
    site = Site(seed_state("demo+live"))
    contractors = site.state.group_by_name("contractors")
    assert contractors is not None
    rows = _rows(door.client(site), OPS_ID)
    assert _ops(rows, contractors.id) == ["export_content/space", "read/space"]
    companion = next(r for r in rows if r["principal"]["id"] == contractors.id
                     and r["operation"]["key"] == "export_content")
    assert companion["id"] != next(r["id"] for r in rows if r["principal"]["id"] == contractors.id
                                   and r["operation"]["key"] == "read")


def test_access_class_principals_appear_in_permission_reads(door: Door) -> None:
    site = Site(seed_state("demo+live"))
    rows = _rows(door.client(site), PUBLIC_ID)
    classes = {(r["principal"]["type"], r["principal"]["id"]) for r in rows
               if r["principal"]["type"] == "access-class"}
    assert classes == {("access-class", "anonymous-users")}
    assert _ops(rows, "anonymous-users") == ["export_content/space", "read/space"]


def test_revoking_one_duplicate_read_space_takes_every_row_of_that_principal(door: Door) -> None:
    site = Site(seed_state("demo+live"))
    client = door.client(site)
    reads = [r["id"] for r in _rows(client, ENG_ID) if r["principal"]["id"] == JIRA
             and r["operation"]["key"] == "read"]
    assert len(reads) == 2  # the duplicate
    read = reads[0]
    assert client.delete(f"/wiki/rest/api/space/ENG/permission/{read}").status_code == 204
    assert _ops(_rows(client, ENG_ID), JIRA) == []


def test_the_plain_seed_has_none_of_it(door: Door) -> None:
    site = Site(seed_state("demo+plain"))
    client = door.client(site)
    catalogue = client.get("/wiki/api/v2/space-permissions", params={"limit": 250}).json()["results"]
    assert len(catalogue) == 14
    assert not any(u.account_type == "app" for u in site.state.users.values())
    assert site.state.seed == "demo+plain"


def test_live_seeds_are_deterministic_and_survive_persistence() -> None:
    first, second = Site(seed_state("demo+live")), Site(seed_state("demo+live"))
    assert first.to_json_text() == second.to_json_text()
    synthetic = seed_state("synthetic:spaces=3,per_space=4,seed=1+live")
    assert synthetic.vocabulary == "live"
    assert sum(1 for u in synthetic.users.values() if u.account_type == "app") == 2
    from reconciler.sandbox.state import SiteState

    again = SiteState.from_json(first.state.to_json())
    assert (again.vocabulary, again.to_json()) == ("live", first.state.to_json())
