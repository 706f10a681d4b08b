"""How the machine itself behaved while a benchmark ran, so a figure can be read against it.

Wall-clock figures on a shared virtual machine move with its neighbours: on the machine these benchmarks
were run on, ``python -c "import httpx"`` took 0.10 s at its normal speed and 0.15-0.50 s in slow phases,
and the same 1,000-space plan went from 1.17x to 2.3x its lower bound (docs/performance.md, "Reading the
figures"). Two readings go beside each figure:

- ``probe``: the wall and CPU seconds of a fixed pure-Python workload, best of three each (a slow phase
  shows as larger numbers; compare runs of the same machine only). Both, because a kernel with
  paravirtual steal accounting (this machine's) leaves the time the hypervisor took out of a process's
  CPU time: a wall time well over the CPU time is steal;
- ``CpuSample`` / ``share``: from ``/proc/stat`` (Linux), the share of the machine's CPU time stolen by the
  hypervisor (``steal``) and spent busy, between two samples.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
_PAYLOAD = {"results": [{"id": str(i), "principal": {"type": "user", "id": f"acc-{i}"}, "roleId": "r"}
                        for i in range(200)]}


def probe(rounds: int = 3) -> tuple[float, float]:
    """(wall, CPU) seconds of a fixed workload (JSON round trips of a role-assignments page), the best of
    ``rounds`` each."""
    wall = cpu = float("inf")
    for _ in range(rounds):
        began, began_cpu = time.perf_counter(), time.process_time()
        for _ in range(200):
            json.loads(json.dumps(_PAYLOAD))
        wall = min(wall, time.perf_counter() - began)
        cpu = min(cpu, time.process_time() - began_cpu)
    return wall, cpu


@dataclass(frozen=True)
class CpuSample:
    """The ``cpu`` line of ``/proc/stat``: jiffies per state since boot."""

    fields: tuple[int, ...]

    @classmethod
    def parse(cls, line: str) -> CpuSample:
        name, *values = line.split()
        if name != "cpu":
            raise ValueError(f"not the cpu line of /proc/stat: {line!r}")
        return cls(tuple(int(value) for value in values))

    @classmethod
    def now(cls) -> CpuSample | None:
        """The current sample, or None where there is no ``/proc/stat``."""
        try:
            with PROC_STAT.open(encoding="ascii") as stat:
                return cls.parse(stat.readline())
        except (OSError, ValueError):
            return None


def share(before: CpuSample, after: CpuSample) -> tuple[float, float]:
    """(stolen, busy) shares of all the machine's CPU time between the samples (every process, this
    benchmark's own included); busy leaves out idle, iowait and steal.
    Fields: user nice system idle iowait irq softirq steal [guest guest_nice], guest counted in user."""
    # each clamped at 0: iowait may go backwards (proc(5))
    delta = [max(0, b - a) for a, b in zip(before.fields[:8], after.fields[:8], strict=False)]
    delta += [0] * (8 - len(delta))
    total = sum(delta)
    if total <= 0:
        return 0.0, 0.0
    idle, iowait, steal = delta[3], delta[4], delta[7]
    return steal / total, (total - idle - iowait - steal) / total
