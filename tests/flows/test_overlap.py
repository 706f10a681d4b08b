"""``reconciler plan`` reads the site while the policy loads (flows/overlap.py), without changing what a
plan is: the same calls (none repeated), a policy mistake still wins over a site error, any failure still
means no plan, and a key known only from a file name is never planned unless the loaded policy manages it.
"""

from __future__ import annotations

import gc
import shutil
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import cli
from reconciler.confluence import read as cloud_read
from reconciler.errors import ApiError, PolicyError
from reconciler.flows import overlap
from reconciler.flows.connect import Connection
from reconciler.flows.live import request_for
from reconciler.flows.overlap import LOADING_SWITCH_INTERVAL, ReadAhead, abandoned_reads_running
from reconciler.flows.plan import plan_from_live, run_plan
from reconciler.model import Platform
from reconciler.policy import loader
from reconciler.policy.loader import load_policy
from reconciler.policy.outline import PolicyOutline
from reconciler.sandbox.synthetic_policy import write_synthetic_policy
from reconciler.sandbox.transport import SandboxTransport, open_sandbox_transport
from tests.kit.sites import connection

SPACES = 300  # two /spaces?keys= batches of 250
NAME = f"synthetic:spaces={SPACES},per_space=3,seed=1"
ASSIGNMENTS = "/role-assignments"
BULK = "GET /wiki/rest/api/user/bulk"


class Recorder(httpx.BaseTransport):
    """The sandbox behind a transport that records each call (method and path) and can fail some."""

    def __init__(self, inner: httpx.BaseTransport, fail: Any = None) -> None:
        self.inner = inner
        self.fail = fail or (lambda _request: None)
        self.calls: list[str] = []
        self.first_space_read = threading.Event()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self._lock:
            self.calls.append(f"{request.method} {path}")
        if path.endswith(ASSIGNMENTS):
            self.first_space_read.set()
        status = self.fail(request)
        if status is not None:
            return httpx.Response(status, json={"message": "injected"}, request=request)
        return self.inner.handle_request(request)

    def counts(self) -> Counter[str]:
        """Calls by kind: a space's own reads count under one name."""
        return Counter("GET /spaces/{id}/role-assignments" if c.endswith(ASSIGNMENTS) else c
                       for c in self.calls)


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    write_synthetic_policy(root, SPACES, 3, 1)
    return root


def _site(tmp_path: Path, fail: Any = None) -> tuple[Connection, Recorder]:
    recorder = Recorder(open_sandbox_transport(NAME, tmp_path / "state"), fail)
    return connection({}, transport=recorder, sandbox_dir=tmp_path / "state", sleep=lambda _s: None), recorder


def _sequential(tmp_path: Path, policy: Path) -> tuple[Any, Recorder]:
    """The same policy read the way it was before: the policy loaded first, then one whole read."""
    site, recorder = _site(tmp_path)
    desired = load_policy(policy)
    backend = site.open(desired.site.url, read_only=True, platform=desired.site.platform)
    live = backend.read(request_for(desired))
    return plan_from_live(desired, live, site), recorder


def test_the_site_is_read_while_the_spaces_files_load_and_no_read_is_made_twice(
    tmp_path: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, recorder = _site(tmp_path)
    seen_while_loading: list[bool] = []
    read_file = loader._read_file

    def last_file_waits_for_the_site(root: Path, rel: Path, *args: Any) -> Any:
        if rel.as_posix() == f"spaces/S{SPACES:05d}.yaml":  # the last file: the read must be under way
            seen_while_loading.append(recorder.first_space_read.wait(timeout=30))
        return read_file(root, rel, *args)

    monkeypatch.setattr(loader, "_read_file", last_file_waits_for_the_site)
    _desired, live, plan = run_plan(policy, site)

    assert seen_while_loading == [True]  # a space's assignments were read before the policy had loaded
    assert live is not None
    assert len(live.spaces) == SPACES
    counts = recorder.counts()
    assert counts == {
        "GET /wiki/api/v2/space-role-mode": 1,
        "GET /wiki/api/v2/space-roles": 1,
        "GET /wiki/api/v2/space-permissions": 1,
        "GET /wiki/rest/api/group": 1,
        "GET /wiki/api/v2/spaces": 2,
        "GET /spaces/{id}/role-assignments": SPACES,
        "GET /wiki/rest/api/user/bulk": 1,
        "GET /wiki/rest/api/user/current": 1,
    }
    before, sequential = _sequential(tmp_path / "again", policy)
    assert counts == sequential.counts()  # the calls of the read made after the load, in number
    assert plan.changes == before.changes
    assert plan.fingerprint == before.fingerprint


def test_a_policy_mistake_wins_over_a_site_that_fails(
    tmp_path: Path, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mistake = "spaces:\n  S00150:\n    authority: exact\n    asign: {}\n"  # asign: at 4:5
    (policy / "spaces" / "S00150.yaml").write_text(mistake, encoding="utf-8")
    site, recorder = _site(tmp_path, fail=lambda _request: 401)

    with pytest.raises(PolicyError) as caught:
        run_plan(policy, site)
    assert recorder.calls == ["GET /wiki/api/v2/space-role-mode"]  # the read had started, and failed
    assert [p.file for p in caught.value.problems] == [f"{policy.as_posix()}/spaces/S00150.yaml"]

    code = cli.main(["plan", str(policy), "--no-progress"], connection=_site(tmp_path / "cli",
                                                                               lambda _r: 401)[0])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"{policy.as_posix()}/spaces/S00150.yaml:4:5: ")
    assert "401" not in err


def test_a_failed_space_read_under_way_while_loading_means_no_plan(tmp_path: Path, policy: Path) -> None:
    failing = "/wiki/api/v2/spaces/2000002/role-assignments"
    site, recorder = _site(tmp_path, fail=lambda request: 403 if request.url.path == failing else None)

    with pytest.raises(ApiError) as caught:
        run_plan(policy, site)
    assert caught.value.space == "S00002"
    assert str(caught.value).startswith(f"GET {failing} (space S00002): 403")
    assert f"GET {failing}" in recorder.calls


def test_a_failed_site_wide_read_under_way_while_loading_means_no_plan(tmp_path: Path, policy: Path) -> None:
    site, _recorder = _site(tmp_path, fail=lambda r: 403 if r.url.path == "/wiki/rest/api/group" else None)

    with pytest.raises(ApiError) as caught:
        run_plan(policy, site)
    assert str(caught.value).startswith("GET /wiki/rest/api/group: 403")


def test_a_key_known_from_a_file_name_that_the_policy_does_not_manage_is_never_planned(
    tmp_path: Path, policy: Path
) -> None:
    (policy / "spaces" / "S00007.yaml").write_text("", encoding="utf-8")  # a warning: S00007 not managed
    (policy / "spaces" / "NOPE.yaml").write_text("# not on the site either\n", encoding="utf-8")
    failing = "/wiki/api/v2/spaces/2000007/role-assignments"  # S00007's read fails: not the policy's
    site, recorder = _site(tmp_path, fail=lambda request: 500 if request.url.path == failing else None)

    _desired, live, plan = run_plan(policy, site)

    assert f"GET {failing}" in recorder.calls  # it was read while loading, then dropped
    assert live is not None
    assert "S00007" not in live.spaces
    assert "NOPE" not in live.spaces
    assert len(live.spaces) == SPACES - 1
    assert all(change.space != "S00007" for change in plan.changes)
    assert "S00007" not in {space.key for space in plan.spaces}
    before, _sequential_calls = _sequential(tmp_path / "again", policy)
    assert plan.changes == before.changes


def test_a_head_start_for_another_site_is_dropped_with_its_failure(tmp_path: Path, policy: Path) -> None:
    site, recorder = _site(tmp_path, fail=lambda _request: 401)
    ahead = ReadAhead(site)
    ahead(PolicyOutline(url="https://other.atlassian.net", platform=Platform.CLOUD, platform_auto=True,
                        allow_jsonrpc=False, keys=frozenset({"S00001"}), selectors=False))
    desired = load_policy(policy)

    assert ahead.running
    # opening that site failed (no credentials for it in this environment): dropped with the head start,
    # and the caller reads its own site
    assert ahead.finish(desired, request_for(desired)) is None
    assert recorder.calls == []


def test_each_key_batch_goes_on_to_its_spaces_without_waiting_for_the_other_batches(
    tmp_path: Path, policy: Path
) -> None:
    waited: list[bool] = []
    holder: list[Recorder] = []

    def last_batch_waits(request: httpx.Request) -> None:
        keys = request.url.params.get("keys", "")
        if request.url.path == "/wiki/api/v2/spaces" and f"S{SPACES:05d}" in keys:
            waited.append(holder[0].first_space_read.wait(timeout=30))  # a space of the first batch is read

    site, recorder = _site(tmp_path, fail=last_batch_waits)
    holder.append(recorder)
    _desired, live, _plan = run_plan(policy, site)

    assert waited == [True]
    assert live is not None
    assert len(live.spaces) == SPACES
    assert recorder.counts()["GET /spaces/{id}/role-assignments"] == SPACES


def test_a_policy_mistake_is_shown_without_waiting_for_a_site_that_does_not_answer(
    tmp_path: Path, policy: Path
) -> None:
    (policy / "spaces" / "S00150.yaml").write_text("spaces:\n  S00150:\n    asign: {}\n", encoding="utf-8")
    release, answered = threading.Event(), threading.Event()
    still_waiting: list[bool] = []

    def hangs(_request: httpx.Request) -> None:
        release.wait(timeout=60)  # the role mode's answer does not come while the policy error is raised
        answered.set()

    site, recorder = _site(tmp_path, fail=hangs)
    try:
        with pytest.raises(PolicyError):
            run_plan(policy, site)
        still_waiting.append(not answered.is_set())
    finally:
        release.set()
    assert recorder.calls == ["GET /wiki/api/v2/space-role-mode"]
    assert still_waiting == [True]


DC_DEMO = Path(__file__).resolve().parents[2] / "examples" / "dc-demo"


def test_a_data_center_policy_is_read_while_it_loads_with_the_calls_of_the_read_after_the_load(
    tmp_path: Path
) -> None:
    from reconciler.sandbox.datacenter import DcSite, handle
    from reconciler.sandbox.datacenter.seeds import seed_state

    policy = tmp_path / "dc"
    shutil.copytree(DC_DEMO, policy)
    (policy / "spaces" / "GONE.yaml").write_text("", encoding="utf-8")  # a file name the policy ignores

    def dc_site() -> tuple[Connection, Recorder]:
        recorder = Recorder(SandboxTransport(DcSite(seed_state("dc-demo")), handler=handle))
        return connection({}, transport=recorder, sandbox_dir=tmp_path / "state"), recorder

    site, overlapped = dc_site()
    seen_outline: list[PolicyOutline] = []
    ahead = ReadAhead(site)

    def outlined(outline: PolicyOutline) -> None:
        seen_outline.append(outline)
        ahead(outline)

    desired = load_policy(policy, on_outline=outlined)
    live = ahead.finish(desired, request_for(desired))

    again, sequential = dc_site()
    backend = again.open(desired.site.url, read_only=True, platform=desired.site.platform)
    before = backend.read(request_for(desired))

    assert ahead.running
    assert seen_outline[0].platform is Platform.DATACENTER
    assert live is not None
    assert set(live.spaces) == {"DOCS", "ENG", "FIN", "HR", "PUBLIC"}
    assert live == before
    assert overlapped.counts() == sequential.counts()


DEMO = Path(__file__).resolve().parents[2] / "policies"  # defaults selectors, a spaces: entry outside spaces/


def test_a_policy_with_selectors_makes_the_calls_of_the_read_after_the_load(tmp_path: Path) -> None:
    def demo_site(state: Path) -> tuple[Connection, Recorder]:
        recorder = Recorder(open_sandbox_transport("demo", state))
        return connection({}, transport=recorder, sandbox_dir=state, sleep=lambda _s: None), recorder

    site, overlapped = demo_site(tmp_path / "a")
    _desired, live, plan = run_plan(DEMO, site, skip_data_security=True)

    again, sequential = demo_site(tmp_path / "b")
    desired = load_policy(DEMO)
    backend = again.open(desired.site.url, read_only=True, platform=desired.site.platform)
    before = plan_from_live(desired, backend.read(request_for(desired)), again)

    assert live is not None
    assert "GET /wiki/api/v2/spaces" in overlapped.calls  # every current space listed: selectors
    # the same calls, the accounts lookup too: the demo policy is additive, so its accounts are not looked
    # up ahead (its spaces hold accounts it does not name, which the finish asks for anyway)
    assert overlapped.counts() == sequential.counts()
    assert plan.changes == before.changes
    assert plan.fingerprint == before.fingerprint


class SlowToOpen(Connection):
    """A connection whose opening of the site takes a moment (imports, the HTTP client on a busy machine)."""

    def __init__(self) -> None:
        super().__init__({})
        self.opened = threading.Event()

    def open(self, policy_url: str, **kwargs: Any) -> Any:
        threading.Event().wait(0.05)
        self.opened.set()
        raise ApiError("GET", "/wiki/api/v2/space-role-mode", 503, "not this time")


def test_the_loader_goes_on_only_once_the_start_part_has_opened_the_site() -> None:
    """The site's opening is CPU the loader would share under the GIL: the loader lets it finish first, so
    the first request goes out sooner (its failure is still kept for ``finish``)."""
    outline = PolicyOutline(url="https://acme.atlassian.net", platform=Platform.CLOUD, platform_auto=False,
                            allow_jsonrpc=False, keys=frozenset({"OPS"}), selectors=False)
    site = SlowToOpen()
    ahead = ReadAhead(site)
    ahead(outline)
    assert site.opened.is_set()  # already, when the loader gets control back
    ahead.abandon()


def test_ctrl_c_while_the_plan_waits_for_the_read_ahead_keeps_it_counted_as_running_until_it_ends(
    tmp_path: Path, policy: Path
) -> None:
    """``__main__.run`` does not wait at exit for a stopped read that still runs; it must know one runs
    even when Ctrl-C interrupted the wait for it (Python 3.11 marks a thread whose join was interrupted as
    stopped while it still runs)."""
    release, asked = threading.Event(), threading.Event()

    def hangs(_request: httpx.Request) -> None:
        asked.set()
        release.wait(timeout=60)  # the role mode's answer comes only once the test releases it

    site, _recorder = _site(tmp_path, fail=hangs)
    desired = load_policy(policy)
    ahead = ReadAhead(site)
    main = threading.main_thread()

    def interrupt_once_finish_waits() -> None:
        asked.wait(timeout=60)
        while not _waiting_in_finish(main):
            threading.Event().wait(0.01)
        signal.pthread_kill(main.ident or 0, signal.SIGINT)

    ahead(PolicyOutline(url=desired.site.url, platform=desired.site.platform,
                        platform_auto=desired.site.platform_auto, allow_jsonrpc=desired.site.allow_jsonrpc,
                        keys=frozenset(desired.spaces), selectors=bool(desired.defaults)))
    sender = threading.Thread(target=interrupt_once_finish_waits, daemon=True)
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            ahead.finish(desired, request_for(desired))
        running_while_the_site_hangs = abandoned_reads_running()
    finally:
        release.set()
    sender.join(timeout=60)
    assert running_while_the_site_hangs
    for _ in range(6000):  # the site answered: the stopped read ends at its next check
        if not abandoned_reads_running():
            break
        threading.Event().wait(0.01)
    assert not abandoned_reads_running()


def _waiting_in_finish(thread: threading.Thread) -> bool:
    frame = sys._current_frames().get(thread.ident or 0)
    while frame is not None:
        if frame.f_code.co_name == "finish" and frame.f_code.co_filename.endswith("overlap.py"):
            return True
        frame = frame.f_back
    return False


def test_the_loader_gives_the_gil_up_more_often_only_while_the_site_is_read_beside_it(
    tmp_path: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader thread whose answer arrived waits for the loader's thread to give the GIL up: while both
    run, that is every ``LOADING_SWITCH_INTERVAL``; before and after, Python's own interval."""
    site, _recorder = _site(tmp_path)
    before = sys.getswitchinterval()
    while_loading: list[float] = []
    read_file = loader._read_file

    def note_the_interval(root: Path, rel: Path, *args: Any) -> Any:
        if rel.as_posix().startswith("spaces/"):
            while_loading.append(sys.getswitchinterval())
        return read_file(root, rel, *args)

    monkeypatch.setattr(loader, "_read_file", note_the_interval)
    run_plan(policy, site)

    assert set(while_loading) == {LOADING_SWITCH_INTERVAL}
    assert before > LOADING_SWITCH_INTERVAL
    assert sys.getswitchinterval() == before


def test_a_policy_that_does_not_load_leaves_the_switch_interval_as_it_was(
    tmp_path: Path, policy: Path
) -> None:
    (policy / "spaces" / "S00150.yaml").write_text("spaces:\n  S00150:\n    asign: {}\n", encoding="utf-8")
    site, _recorder = _site(tmp_path)
    before = sys.getswitchinterval()
    with pytest.raises(PolicyError):
        run_plan(policy, site)
    assert sys.getswitchinterval() == before


def test_what_the_caller_prepares_for_the_end_runs_while_the_site_is_still_read(
    tmp_path: Path, policy: Path
) -> None:
    """``meanwhile`` (``plan`` imports its renderers and compiles its templates there) runs once the policy
    loaded and before the read ends: the space reads below wait for it, so run after the read it would
    never see them waiting (and the read would end only by the timeout, failing the plan)."""
    prepared = threading.Event()
    reads_waiting: list[int] = []

    def wait_for_the_preparation(request: httpx.Request) -> int | None:
        if request.url.path.endswith(ASSIGNMENTS) and not prepared.wait(timeout=30):
            return 504
        return None

    site, recorder = _site(tmp_path, fail=wait_for_the_preparation)

    intervals: list[float] = []

    def meanwhile() -> None:
        reads_waiting.append(sum(1 for call in recorder.calls if call.endswith(ASSIGNMENTS)))
        intervals.append(sys.getswitchinterval())  # it runs beside the read, as the load did
        prepared.set()

    _desired, live, plan = run_plan(policy, site, meanwhile=meanwhile)

    assert len(reads_waiting) == 1
    assert 0 < reads_waiting[0] < SPACES  # space reads had started and were waiting, not all done
    assert intervals == [LOADING_SWITCH_INTERVAL]
    assert sys.getswitchinterval() > LOADING_SWITCH_INTERVAL  # restored once the read was waited for
    assert live is not None
    assert len(live.spaces) == SPACES
    assert plan.fingerprint


def test_the_garbage_collector_is_off_while_the_policy_loads_and_on_again_after_it_loaded_or_failed(
    tmp_path: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the loader makes lives on, so a cyclic collection during the load finds nothing and holds the
    GIL the read needs; the collector is back on once the load is over, whether it loaded or not."""
    site, _recorder = _site(tmp_path)
    enabled_while_loading: list[bool] = []
    read_file = loader._read_file

    def note_the_collector(root: Path, rel: Path, *args: Any) -> Any:
        enabled_while_loading.append(gc.isenabled())
        return read_file(root, rel, *args)

    monkeypatch.setattr(loader, "_read_file", note_the_collector)
    assert gc.isenabled()
    run_plan(policy, site)
    assert set(enabled_while_loading) == {False}
    assert gc.isenabled()

    (policy / "spaces" / "S00150.yaml").write_text("spaces:\n  S00150:\n    asign: {}\n", encoding="utf-8")
    with pytest.raises(PolicyError):
        run_plan(policy, _site(tmp_path / "again")[0])
    assert gc.isenabled()


def test_the_spaces_files_load_once_the_per_space_reads_can_begin(
    tmp_path: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site-wide reads before the per-space ones are a chain of round trips (role mode, then roles and
    key batches); the loader does not hold the GIL they need: it reads the first ``spaces/`` file only
    once the reads the first space's read needs were answered."""
    monkeypatch.setattr(overlap, "BEGUN_WAIT", 30.0)  # a slow machine must not pass it by timing out
    site, recorder = _site(tmp_path)
    asked_before_first_file: list[Counter[str]] = []
    read_file = loader._read_file

    def note_the_first_spaces_file(root: Path, rel: Path, *args: Any) -> Any:
        if rel.parts[0] == "spaces" and not asked_before_first_file:
            asked_before_first_file.append(recorder.counts())
        return read_file(root, rel, *args)

    monkeypatch.setattr(loader, "_read_file", note_the_first_spaces_file)
    run_plan(policy, site)
    [asked] = asked_before_first_file
    assert asked["GET /wiki/api/v2/space-role-mode"] == 1
    assert asked["GET /wiki/api/v2/space-roles"] == 1
    assert asked["GET /wiki/api/v2/spaces"] >= 1  # a batch of keys, whose spaces are read next


def test_a_start_part_that_reads_no_space_does_not_hold_the_load_back(
    tmp_path: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role mode fails: no per-space read ever begins, and the loader goes on at once (the start
    part ended), not after ``BEGUN_WAIT``; the policy loads and the site's failure is raised after it."""
    monkeypatch.setattr(overlap, "BEGUN_WAIT", 300.0)
    monkeypatch.setattr(overlap, "OPEN_WAIT", 300.0)
    site, _recorder = _site(tmp_path, fail=lambda r: 403 if r.url.path.endswith("space-role-mode") else None)
    with pytest.raises(ApiError, match="space-role-mode"):
        run_plan(policy, site)


def test_the_loaded_policy_is_kept_from_the_collector_while_the_site_is_read_and_handed_back_after(
    tmp_path: Path, policy: Path
) -> None:
    """Collections after the load walked the whole policy while the readers waited for the GIL; it is
    frozen (``gc.freeze``) from the end of the load to the end of the plan, and unfrozen after."""
    site, recorder = _site(tmp_path)
    frozen_while_reading: list[int] = []
    handle = recorder.handle_request

    def note_frozen(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/user/bulk"):  # asked after the policy loaded
            frozen_while_reading.append(gc.get_freeze_count())
        return handle(request)

    recorder.handle_request = note_frozen  # type: ignore[method-assign]
    assert gc.get_freeze_count() == 0
    run_plan(policy, site)
    assert len(frozen_while_reading) == 1
    assert frozen_while_reading[0] > 1000  # the policy's objects (300 spaces) and what was made before
    assert gc.get_freeze_count() == 0

    (policy / "spaces" / "S00150.yaml").write_text("spaces:\n  S00150:\n    asign: {}\n", encoding="utf-8")
    with pytest.raises(PolicyError):
        run_plan(policy, _site(tmp_path / "again")[0])
    assert gc.get_freeze_count() == 0


def test_the_policys_accounts_are_looked_up_while_the_spaces_are_still_read_and_not_again_at_the_end(
    tmp_path: Path, policy: Path
) -> None:
    """The lookup's round trip is not added after the last space's: it is made once the policy loaded,
    beside the space reads, and the finish asks for nothing more (every account seen is the policy's)."""
    asked = threading.Event()
    last_key_id = f"/spaces/{2000000 + SPACES}{ASSIGNMENTS}"  # the synthetic site's ids follow its keys
    order: list[str] = []

    def last_space_waits_for_the_lookup(request: httpx.Request) -> None:
        if request.url.path.endswith("/user/bulk"):
            order.append("lookup")
            asked.set()
        elif request.url.path.endswith(last_key_id):
            asked.wait(timeout=30)  # on a broken implementation: 30 s, then the order below is wrong
            order.append("last space")

    site, recorder = _site(tmp_path, fail=last_space_waits_for_the_lookup)
    _desired, live, plan = run_plan(policy, site)

    assert live is not None
    assert order == ["lookup", "last space"]
    assert recorder.counts()[BULK] == 1
    before, _sequential_recorder = _sequential(tmp_path / "again", policy)
    assert plan.changes == before.changes
    assert plan.fingerprint == before.fingerprint


def test_a_failed_lookup_ahead_is_asked_again_by_the_finish(tmp_path: Path, policy: Path) -> None:
    """The lookup made ahead keeps no failure: the finish asks again (and would raise its own)."""
    bulk_calls: list[int] = []
    asked = threading.Event()

    def first_lookup_fails(request: httpx.Request) -> int | None:
        if request.url.path.endswith("/user/bulk"):
            bulk_calls.append(1)
            asked.set()
            return 400 if len(bulk_calls) == 1 else None
        if request.url.path.endswith(f"/spaces/{2000000 + SPACES}{ASSIGNMENTS}"):
            asked.wait(timeout=30)  # the read is still running when the policy loaded: the lookup is ahead
        return None

    site, recorder = _site(tmp_path, fail=first_lookup_fails)
    _desired, live, plan = run_plan(policy, site)

    assert live is not None
    assert recorder.counts()[BULK] == 2
    before, _sequential_recorder = _sequential(tmp_path / "again", policy)
    assert plan.fingerprint == before.fingerprint


def test_once_the_policy_loaded_each_space_is_converted_as_it_is_read_not_all_after_the_last_answer(
    tmp_path: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finish converts only what the read did not convert ahead: here nothing (every group of the
    synthetic site is in its group list), and the live state is the one the read after the load makes."""
    asked = threading.Event()

    def last_space_waits_for_the_lookup(request: httpx.Request) -> None:
        if request.url.path.endswith("/user/bulk"):
            asked.set()  # made by the finish begun ahead, after it converted the spaces read so far
        elif request.url.path.endswith(f"/spaces/{2000000 + SPACES}{ASSIGNMENTS}"):
            asked.wait(timeout=30)

    converted_by_the_finish: list[int] = []
    to_live_spaces = cloud_read.to_live_spaces

    def note_the_finish(raw: Any, *args: Any) -> Any:
        converted_by_the_finish.append(len(raw))
        return to_live_spaces(raw, *args)

    monkeypatch.setattr(cloud_read, "to_live_spaces", note_the_finish)
    site, _recorder = _site(tmp_path, fail=last_space_waits_for_the_lookup)
    desired, live, _plan = run_plan(policy, site)

    assert converted_by_the_finish == [0]
    assert live is not None
    again, _again_recorder = _site(tmp_path / "again")
    backend = again.open(desired.site.url, read_only=True, platform=desired.site.platform)
    assert live == backend.read(request_for(desired))


def test_with_space_the_loader_does_not_wait_for_the_space_reads_to_begin(
    tmp_path: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--space`` (and selectors) read every space by key (or list them) first: the loader goes on at once,
    so a large policy loads while those reads run (the load is then the longer part)."""
    monkeypatch.setattr(overlap, "BEGUN_WAIT", 300.0)
    file_read = threading.Event()
    read_file = loader._read_file

    def note_a_spaces_file(root: Path, rel: Path, *args: Any) -> Any:
        if rel.parts[0] == "spaces":
            file_read.set()
        return read_file(root, rel, *args)

    def keys_wait_for_the_loader(request: httpx.Request) -> int | None:
        if request.url.path == "/wiki/api/v2/spaces":  # before the space reads (and spaces_begun)
            return None if file_read.wait(timeout=30) else 504
        return None

    monkeypatch.setattr(loader, "_read_file", note_a_spaces_file)
    site, _recorder = _site(tmp_path, fail=keys_wait_for_the_loader)
    _desired, live, _plan = run_plan(policy, site, spaces=["S00001"])
    assert live is not None
    assert list(live.spaces) == ["S00001"]


def test_a_failed_read_is_raised_without_waiting_for_the_accounts_lookup_begun_ahead(
    tmp_path: Path, policy: Path
) -> None:
    """The lookup begun ahead is slow (a site that takes its time); a space read fails meanwhile: the
    failure is shown as soon as the read ended, not after the lookup."""
    asked, release = threading.Event(), threading.Event()
    waited_out: list[bool] = []

    def slow_lookup_then_a_failed_space(request: httpx.Request) -> int | None:
        if request.url.path.endswith("/user/bulk"):
            asked.set()
            waited_out.append(not release.wait(timeout=30))  # True: nothing released it (finish waited)
            return None
        if request.url.path.endswith(f"/spaces/{2000000 + SPACES}{ASSIGNMENTS}"):
            asked.wait(timeout=30)
            return 403
        return None

    site, _recorder = _site(tmp_path, fail=slow_lookup_then_a_failed_space)
    with pytest.raises(ApiError) as failed:
        run_plan(policy, site)
    release.set()
    assert failed.value.space == f"S{SPACES:05d}"
    assert asked.is_set()
    assert waited_out in ([], [False])  # the lookup was still waiting (or had not ended) when it was raised
