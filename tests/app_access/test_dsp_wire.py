"""The one wire-format module: to_wire and from_wire agree, and foreign resources are kept visible."""

from __future__ import annotations

import pytest

from reconciler.confluence import dsp_wire
from reconciler.model import AppBlockMode, AppPolicy

CLOUD = "c-1"


@pytest.mark.parametrize("mode", list(AppBlockMode), ids=lambda m: m.value)
def test_to_wire_then_from_wire_gives_the_policy_back(mode: AppBlockMode) -> None:
    apps = () if mode is AppBlockMode.ALL else ("a.app", "b.app")
    policy = AppPolicy("R (1/2)", mode, apps, ("ENG", "HR"), "CONTAINER", id="p-1")
    document = dsp_wire.to_wire(policy, CLOUD, {"ENG": "10", "HR": "20"})
    assert dsp_wire.from_wire(document["data"], {"10": "ENG", "20": "HR"}, cloud_id=CLOUD) == policy


def test_to_wire_writes_the_documented_shape() -> None:
    policy = AppPolicy("No AI", AppBlockMode.ONLY, ("z.app", "a.app"), ("SALES",))
    assert dsp_wire.to_wire(policy, CLOUD, {"SALES": "7"}) == {"data": {"type": "policy", "attributes": {
        "name": "No AI", "type": "data-security", "status": "enabled", "policyCoverageLevel": "CONTAINER",
        "rule": {"appAccess": {"mode": "BLOCKLIST", "apps": ["a.app", "z.app"]}},
        "resources": [{"id": "ari:cloud:confluence:c-1:space/7"}]}}}


def test_resources_of_another_site_or_unknown_spaces_stay_aris() -> None:
    resource = {"id": "p", "type": "policy", "attributes": {
        "name": "R", "policyCoverageLevel": "CONTAINER", "rule": {"appAccess": {"mode": "BLOCK_ALL"}},
        "resources": [{"id": "ari:cloud:confluence:c-1:space/10"}, "ari:cloud:confluence:other:space/10",
                      {"id": "ari:cloud:confluence:c-1:space/99"}]}}
    assert dsp_wire.from_wire(resource, {"10": "ENG"}, cloud_id=CLOUD).spaces == (
        "ENG", "ari:cloud:confluence:c-1:space/99", "ari:cloud:confluence:other:space/10")


def test_policies_without_an_app_access_rule_are_not_app_policies() -> None:
    resource = {"id": "x", "type": "policy", "attributes": {"name": "IPs", "rule": {"in": ["10.0.0.0/8"]}}}
    assert not dsp_wire.is_app_access_policy(resource)
    with pytest.raises(dsp_wire.WireFormatError, match="policy 'x' has no app access rule"):
        dsp_wire.from_wire(resource, {})


def test_an_unknown_mode_is_a_wire_format_error() -> None:
    resource = {"id": "x", "attributes": {"name": "R", "rule": {"appAccess": {"mode": "SOMETIMES"}}}}
    with pytest.raises(dsp_wire.WireFormatError, match="policy 'x': unknown app access mode 'SOMETIMES'"):
        dsp_wire.from_wire(resource, {})
