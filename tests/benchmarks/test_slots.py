"""The benchmark's loss accounting (benchmarks/slots.py): idle concurrency slots, phase by phase, add up to
the time from the first request to the last answer over calls x latency / cap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.slots import Logged, idle_by_phase, overshoot, parse_log, phase_marks


def _req(arrived: float, answered: float, path: str = "/wiki/api/v2/spaces/1/role-assignments") -> Logged:
    return Logged(arrived, answered, "GET", path)


def test_the_log_lines_are_read_in_arrival_order() -> None:
    lines = ["10.5 10.55 GET /wiki/api/v2/spaces/7/role-assignments 200",
             "10.0 10.05 GET /wiki/api/v2/space-role-mode 200", ""]
    assert parse_log(lines) == [_req(10.0, 10.05, "/wiki/api/v2/space-role-mode"),
                                _req(10.5, 10.55, "/wiki/api/v2/spaces/7/role-assignments")]


def test_two_slots_one_idle_for_half_the_time_lose_a_quarter_of_it() -> None:
    # slot A busy 0-1 s; slot B busy 0.5-1 s: B idle 0.5 slot-seconds, of 2 slots: 0.25 s lost
    requests = [_req(0.0, 1.0), _req(0.5, 1.0)]
    assert idle_by_phase(requests, 2, []) == [("last round", 1.0, 0.25)]


def test_phases_are_cut_at_the_marks_in_time_order() -> None:
    requests = [_req(0.0, 1.0, "/wiki/api/v2/space-role-mode"), _req(1.0, 2.0), _req(1.0, 2.0)]
    phases = idle_by_phase(requests, 2, phase_marks(requests, loaded_at=None))
    # 0-1 s: one of two slots idle (0.5 s lost); 1-2 s: both busy; the last read was asked at 1.0 too, so
    # there is no steady phase between the two
    assert phases == [("site-wide reads (to the first space read)", 1.0, 0.5), ("last round", 1.0, 0.0)]


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0.001, 2)), min_size=1, max_size=40),
       st.integers(1, 8), st.lists(st.floats(0, 12), max_size=3))
def test_the_phases_add_up_to_the_time_over_the_bound(spans: list[tuple[float, float]], cap: int,
                                                     marks: list[float]) -> None:
    """With never more than ``cap`` in flight, the lost seconds of all phases are the span from the first
    request to the last answer minus the busy slot-seconds over ``cap``."""
    requests = sorted((_req(start, start + length) for start, length in spans), key=lambda r: r.arrived)
    events = sorted([(r.arrived, 1) for r in requests] + [(r.answered, -1) for r in requests])
    in_flight = 0
    peak = 0
    for _when, step in events:
        in_flight += step
        peak = max(peak, in_flight)
    cap = max(cap, peak)
    phases = idle_by_phase(requests, cap, [(f"m{i}", at) for i, at in enumerate(marks)])
    span = max(r.answered for r in requests) - requests[0].arrived
    busy = sum(r.answered - r.arrived for r in requests)
    assert sum(length for _n, length, _lost in phases) == pytest.approx(span)
    assert sum(lost for _n, _length, lost in phases) == pytest.approx(span - busy / cap, abs=1e-9)


def test_the_sandbox_overshoot_is_its_time_past_the_latency_averaged_and_spread_over_the_slots() -> None:
    # two requests answered 52 ms and 54 ms after arrival, latency 50 ms: 3 ms each on average, 6 ms in
    # all, which 2 slots spread to 3 ms of the read
    mean, added = overshoot([_req(0.0, 0.052), _req(0.01, 0.064)], 0.05, 2)
    assert (round(mean, 6), round(added, 6)) == (0.003, 0.003)
    assert overshoot([], 0.05, 8) == (0.0, 0.0)


def test_answers_made_without_the_latency_are_left_out_of_the_overshoot() -> None:
    # a 429 answered at once would pull the mean down by the whole latency
    refused = Logged(0.0, 0.001, "GET", "/wiki/api/v2/spaces/1/role-assignments", 429)
    mean, _added = overshoot([_req(0.0, 0.052), refused], 0.05, 2)
    assert round(mean, 6) == 0.002


def test_the_status_is_read_from_the_log() -> None:
    [logged] = parse_log(["10.0 10.05 GET /wiki/api/v2/space-role-mode 429"])
    assert logged.status == 429
