"""Every v1 write carries ``X-Atlassian-Token: no-check`` ([2nd] confluence.js: without it v1 writes answer
``403 XSRF check failed``); reads and v2 writes carry nothing extra."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import respx

from reconciler.confluence.client import ConfluenceClient


def test_v1_writes_carry_the_xsrf_header_and_nothing_else_does(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    created = httpx.Response(200, json={"id": 1})
    v1_add = api.post("/wiki/rest/api/space/OPS/permission").mock(return_value=created)
    v1_delete = api.delete("/wiki/rest/api/space/OPS/permission/1").mock(return_value=httpx.Response(204))
    v2_write = api.post("/wiki/api/v2/space-roles").mock(return_value=httpx.Response(201, json={"id": "r"}))
    v1_read = api.get("/wiki/rest/api/group").mock(return_value=httpx.Response(200, json={"results": []}))
    client = make_client()

    client.post_json("/wiki/rest/api/space/OPS/permission", {"subject": {}}, space="OPS")
    client.delete("/wiki/rest/api/space/OPS/permission/1", space="OPS")
    client.post_json("/wiki/api/v2/space-roles", {"name": "r"})
    client.get_json("/wiki/rest/api/group")

    assert v1_add.calls[0].request.headers["X-Atlassian-Token"] == "no-check"
    assert v1_delete.calls[0].request.headers["X-Atlassian-Token"] == "no-check"
    assert "X-Atlassian-Token" not in v2_write.calls[0].request.headers
    assert "X-Atlassian-Token" not in v1_read.calls[0].request.headers
