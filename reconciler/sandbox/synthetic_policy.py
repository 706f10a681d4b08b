"""A policy directory matching a synthetic sandbox site, with a small known drift (for benchmarks).

``write_synthetic_policy(path, spaces, per_space, seed)`` writes ``site.yaml``, ``people.yaml`` and one
``spaces/S00001.yaml`` per space (authority exact) for the site ``sandbox:synthetic:spaces=N,...``; the
policy differs from the site by about ``drift_fraction`` of its assignments, split evenly between
assignments to add, to change and to remove.  The returned :class:`SyntheticDrift` says how many of each.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import yaml

from reconciler.sandbox.demo_data import SVC_ACCOUNT_ID
from reconciler.sandbox.seeds import synthetic_assignments, synthetic_pool

ACTOR_REF = f"user:{SVC_ACCOUNT_ID}"
_KINDS = ("reassign", "assign", "unassign")


@dataclass(frozen=True)
class SyntheticDrift:
    """How the written policy differs from the synthetic site."""

    site_url: str
    assignments: int  # live assignments on the site
    assign: int
    reassign: int
    unassign: int

    @property
    def changes(self) -> int:
        return self.assign + self.reassign + self.unassign


def write_synthetic_policy(
    path: Path | str, spaces: int, per_space: int, seed: int, drift_fraction: float = 0.05
) -> SyntheticDrift:
    root = Path(path)
    live = synthetic_assignments(spaces, per_space, seed)
    desired = {key: dict(picks) for key, picks in live.items()}
    total = sum(len(picks) for picks in live.values())
    wanted = max(1, round(total * drift_fraction)) if drift_fraction > 0 else 0
    counts = _drift(desired, per_space, seed, wanted)
    url = f"sandbox:synthetic:spaces={spaces},per_space={per_space},seed={seed}"
    _write(root, url, per_space, desired)
    return SyntheticDrift(url, total, counts["assign"], counts["reassign"], counts["unassign"])


def _drift(desired: dict[str, dict[str, str]], per_space: int, seed: int, wanted: int) -> dict[str, int]:
    rng = random.Random(seed * 7919 + 17)  # noqa: S311 - deterministic test data
    pool = synthetic_pool(per_space)
    refs = [f"user:{u}" for u in pool.users] + [f"group:{g}" for g in pool.groups]
    keys = sorted(desired)
    counts = dict.fromkeys(_KINDS, 0)
    touched: set[tuple[str, str]] = set()
    attempt = 0
    while sum(counts.values()) < wanted and attempt < 50 * wanted + 50:
        kind = _KINDS[sum(counts.values()) % len(_KINDS)]
        attempt += 1
        key = rng.choice(keys)
        if kind == "assign":
            candidates = [r for r in refs if r not in desired[key] and (key, r) not in touched]
        else:
            candidates = [r for r in desired[key] if r != ACTOR_REF and (key, r) not in touched]
        if not candidates:
            continue
        ref = rng.choice(candidates)
        touched.add((key, ref))
        if kind == "assign":
            desired[key][ref] = "Viewer"
        elif kind == "reassign":
            desired[key][ref] = rng.choice(
                [r for r in ("Viewer", "Collaborator", "Manager") if r != desired[key][ref]]
            )
        else:
            del desired[key][ref]
        counts[kind] += 1
    return counts


def _handle(ref: str) -> str:
    kind, _, ident = ref.partition(":")
    if kind == "user":
        return "user:svc-reconciler" if ident == SVC_ACCOUNT_ID else f"user:u{int(ident[-6:], 16):05d}"
    return ref


def _write(root: Path, url: str, per_space: int, desired: dict[str, dict[str, str]]) -> None:
    (root / "spaces").mkdir(parents=True, exist_ok=True)
    site = {
        "version": 1,
        "site": {
            "url": url,
            "model": "roles",
            "custom_role_limit": 10,
            "actor": "svc-reconciler",
            "default_authority": "exact",
        },
        # the seeded site has spaces whose only admin is the tool's account, which the policy mirrors:
        # with the actor left out of the count (docs/safety.md) they have none, so the check is off
        "safety": {"max_removal_fraction": 0.25, "min_admins_per_space": 0},
    }
    people = {"svc-reconciler": SVC_ACCOUNT_ID}
    people.update({f"u{int(u[-6:], 16):05d}": u for u in synthetic_pool(per_space).users})
    _dump(root / "site.yaml", site)
    _dump(root / "people.yaml", {"people": people})
    for key, picks in desired.items():
        assign = {_handle(ref): role for ref, role in sorted(picks.items())}
        _dump(root / "spaces" / f"{key}.yaml", {"spaces": {key: {"authority": "exact", "assign": assign}}})


def _dump(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
