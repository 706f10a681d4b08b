"""``tool_exchanges``: every request the tool made to the sandbox, and its answer, over whole runs of
apply, plan, drift and import on the demo site, the demo site with the live vocabulary, and a roles-only
synthetic site (recorded once per session)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox.synthetic_policy import write_synthetic_policy
from tests.kit.sites import site_client as open_client
from tests.sandbox.conformance.recorder import Exchange, recording

REPO = Path(__file__).resolve().parents[3]
ENV = ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN",
       "ATLASSIAN_ADMIN_API_KEY")


@pytest.fixture(scope="session")
def tool_exchanges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Exchange]]:
    root = tmp_path_factory.mktemp("conformance")
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies)
    synthetic = root / "synthetic"
    drift = write_synthetic_policy(synthetic, 3, 4, 7)
    with pytest.MonkeyPatch.context() as patch, recording() as seen:
        for name in ENV:
            patch.delenv(name, raising=False)
        patch.setenv("RECONCILER_SANDBOX_DIR", str(root / "sandbox"))
        patch.chdir(root)
        assert main(["apply", str(policies), "--auto-approve", "--no-progress"]) == 0
        assert main(["plan", str(policies), "--no-progress"]) == 0
        _grant_by_hand(root / "sandbox", "OPS", "marketing", "read/space")
        assert main(["apply", str(policies), "--auto-approve", "--no-progress"]) == 0  # revokes it
        main(["drift", str(policies), "--no-progress"])
        main(["import", "--out", str(root / "imported"), "--site", "sandbox:demo", "--no-progress"])
        patch.setenv("CONFLUENCE_URL", "sandbox:demo+live")
        main(["plan", str(policies), "--no-progress"])
        main(["drift", str(policies), "--no-progress"])
        patch.delenv("CONFLUENCE_URL")
        assert main(["apply", str(synthetic), "--auto-approve", "--no-progress"]) == 0, drift
        yield list(seen)
    os.environ.pop("RECONCILER_SANDBOX_DIR", None)


def _grant_by_hand(state: Path, key: str, group: str, permission: str) -> None:
    """A legacy grant made outside the policy (so the next apply revokes it through v1 DELETE)."""
    with open_client("sandbox:demo", read_only=False, env={}, state_dir=state) as client:
        group_id = next(g["id"] for g in client.paginate_v1("/wiki/rest/api/group") if g["name"] == group)
        op_key, _, target = permission.partition("/")
        body = {"subject": {"type": "group", "identifier": group_id},
                "operation": {"key": op_key, "target": target}}
        client.post_json(f"/wiki/rest/api/space/{key}/permission", body, space=key)
