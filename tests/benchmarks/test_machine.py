"""The machine readings printed beside each benchmark figure (benchmarks/machine.py)."""

from __future__ import annotations

import pytest

from benchmarks.machine import CpuSample, probe, share


def test_steal_and_busy_are_shares_of_all_cpu_time_between_two_samples() -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice
    before = CpuSample.parse("cpu  1000 0 100 5000 10 0 10 40 0 0")
    after = CpuSample.parse("cpu  1060 0 120 5100 10 0 10 60 0 0")
    # 200 jiffies in all: 20 stolen, 100 idle, 80 busy (user 60 + system 20)
    assert share(before, after) == (0.1, 0.4)


def test_a_kernel_without_the_steal_column_counts_none() -> None:
    before = CpuSample.parse("cpu  100 0 0 100")
    after = CpuSample.parse("cpu  150 0 0 150")
    assert share(before, after) == (0.0, 0.5)


def test_no_time_between_the_samples_is_no_share() -> None:
    sample = CpuSample.parse("cpu  1 2 3 4 5 6 7 8")
    assert share(sample, sample) == (0.0, 0.0)


def test_a_line_other_than_the_cpu_total_is_refused() -> None:
    with pytest.raises(ValueError, match="not the cpu line of /proc/stat: 'cpu0 1 2 3'"):
        CpuSample.parse("cpu0 1 2 3")


def test_the_probe_measures_wall_and_cpu_seconds_of_real_work() -> None:
    wall, cpu = probe(rounds=1)
    assert 0.0 < wall < 60.0
    assert 0.0 < cpu < 60.0


def test_a_counter_that_went_backwards_counts_as_no_time() -> None:
    # iowait may go backwards between two readings (proc(5)): it must not shrink the total
    before = CpuSample.parse("cpu  100 0 0 100 50 0 0 0")
    after = CpuSample.parse("cpu  150 0 0 150 40 0 0 0")
    assert share(before, after) == (0.0, 0.5)
