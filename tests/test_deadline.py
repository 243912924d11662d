"""Deadlines and adaptive concurrency: trickling, hanging and slot-limited servers cost at most their deadlines."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import griffe
import pytest

from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.ratelimit import AdaptiveConcurrency
from mkdocs_ai_docstrings._internal.schedule import PriorityGate
from tests.emulator import AzureEmulator
from tests.test_faults import API_KEY, generate, many_functions

pytestmark = pytest.mark.usefixtures("fast_backoff")


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("fault", ["trickle", "hang"])
def test_a_trickling_or_hanging_server_costs_at_most_the_deadlines_and_is_named_once(
    load: Callable[..., griffe.Module], tmp_path: Path, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    caplog.set_level(logging.WARNING, logger=logger.name)
    with AzureEmulator(api_key=API_KEY, fault_rates={fault: 1.0}) as emu:
        where = emu.url.removeprefix("http://")
        pkg = load(many_functions(6))
        build = generate(pkg, emu, tmp_path, include=["pkg.funcs.*"], request_timeout=1.0)

    # Without a wall-clock deadline a trickle (one byte a second) keeps each request alive for its whole 30 s.
    # (the time this takes is measured by bench/resilience.py: `hang+deadline`, `trickle`)
    assert len(emu.requests) <= 6 * 4  # each object asked at most max_attempts times, then the build stops asking
    assert all(outcome.status in ("skipped", "failed") for outcome in build.report.outcomes.values())
    assert {(o.reason or "").split(":")[0] for o in build.report.outcomes.values()} <= {"stopped", "timeout"}
    assert build.report.totals.total_tokens == 0, "no answer arrived: nothing is reported as billed"
    assert build.report.totals.possibly_billed_tokens > 0, "the server did receive them: possibly billed"
    assert build.session.ledger.reserved == 0
    [line] = errors(caplog)
    assert where in line and "request_timeout" in line


def test_the_build_deadline_cuts_requests_in_flight_and_settles_their_reservations(
    load: Callable[..., griffe.Module], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=logger.name)
    with AzureEmulator(api_key=API_KEY, latency=0.3, fault_rates={"hang": 1.0}) as emu:
        pkg = load(many_functions(4))
        build = generate(
            pkg, emu, tmp_path, include=["pkg.funcs.*"], request_timeout=30.0, build_timeout=1.5, concurrency=4
        )

    # the 1.5 s build deadline cut them, not the 30 s request timeout (time: bench/resilience.py `build_timeout`)
    reasons = {o.reason for o in build.report.outcomes.values()}
    assert all(reason and reason.startswith("stopped: build_timeout reached") for reason in reasons), reasons
    assert build.session.ledger.reserved == 0, "cut requests leave no reservation behind"
    assert build.report.totals.possibly_billed_tokens > 0
    assert [line for line in errors(caplog) if "build_timeout" in line] == errors(caplog)
    assert len(errors(caplog)) == 1


def test_a_server_with_two_slots_teaches_the_client_to_send_two_at_a_time(
    load: Callable[..., griffe.Module], tmp_path: Path
) -> None:
    # Two slots, 1 s each: a request queued behind two others takes 2 s > request_timeout 1.6 s; a served one 1 s.
    # (CI saw func_001 time out 4 times: its retries, sent at once while 4 were in flight, queued again; a retry
    # now waits for room under the cut limit.)
    with AzureEmulator(api_key=API_KEY, slots=2, latency=1.0) as emu:
        pkg = load(many_functions(16))
        build = generate(pkg, emu, tmp_path, include=["pkg.funcs.*"], request_timeout=1.6, concurrency=4)

    assert build.statuses()["generated"] == 16, {
        o.path: (o.reason, o.repairs, o.requests) for o in build.report.outcomes.values() if o.status != "generated"
    }
    client = build.session.client
    assert client is not None
    assert client.concurrency.ceiling in (1, 2), "learned from the timeouts of the requests queued behind two slots"
    # Only the learning episode times out: the first batch, and the requests started with it before the cut (4 to 6
    # on an idle machine, 8 seen on a loaded one). Without adaptation every batch of four loses two: 19 timeouts in
    # 33 requests, and 2 objects fail.
    assert build.report.totals.timeouts <= 10
    assert build.session.ledger.reserved == 0


def test_a_retry_waits_until_fewer_requests_are_in_flight_than_the_cut_limit_allows(
    load: Callable[..., griffe.Module], tmp_path: Path
) -> None:
    with AzureEmulator(api_key=API_KEY) as emu:
        build = generate(load(many_functions(1)), emu, tmp_path, include=["pkg.funcs.*"])
    client = build.session.client
    assert client is not None

    async def scenario() -> tuple[bool, bool]:
        client.concurrency.limit = 1  # cut by a timeout while two requests were in flight; one still is
        client._in_flight = 1
        waiting = asyncio.ensure_future(client._wait_for_room())
        await asyncio.sleep(0.05)
        held = not waiting.done()
        client._in_flight = 0  # that request ends
        assert client._room is not None
        client._room.set()
        await asyncio.wait_for(waiting, timeout=1.0)
        return held, waiting.done()

    assert asyncio.run(scenario()) == (True, True)


def test_adaptive_concurrency_halves_once_per_episode_and_grows_back_to_its_ceiling() -> None:
    async def scenario() -> None:
        limit = AdaptiveConcurrency(8)
        loop = asyncio.get_running_loop()
        started = loop.time()
        limit.on_timeout(started, in_flight=6)
        limit.on_timeout(started, in_flight=8)  # same episode: no second cut
        assert (limit.limit, limit.ceiling, limit.cuts) == (4, 5, 1)
        for _ in range(4):
            limit.on_success(loop.time(), 0.1, 10.0)
        assert limit.limit == 5
        for _ in range(50):
            limit.on_success(loop.time(), 0.1, 10.0)
        assert 5 < limit.ceiling <= 8 and limit.limit <= limit.ceiling, "the ceiling is probed after clean successes"
        before = limit.limit
        limit.on_success(loop.time(), 6.0, 10.0)  # queueing: over half the timeout and far above the fastest
        assert limit.limit == before // 2 and limit.lowest == limit.limit
        for _ in range(200):
            limit.on_timeout(loop.time(), in_flight=1)
        assert limit.limit == 1, "never below one"

    asyncio.run(scenario())


def test_the_priority_gate_follows_a_changing_limit() -> None:
    async def scenario() -> None:
        allowed = [2]
        gate = PriorityGate(4, lambda: allowed[0])
        await gate.acquire((0,))
        await gate.acquire((0,))
        third = asyncio.create_task(gate.acquire((1,)))
        urgent = asyncio.create_task(gate.acquire((0,)))
        await asyncio.sleep(0.01)
        assert not third.done() and not urgent.done(), "the limit is 2"
        allowed[0] = 4
        gate.release()
        await asyncio.sleep(0.01)
        assert urgent.done() and third.done(), "a raised limit grants every waiter it allows, most urgent first"
        allowed[0] = 1
        gate.release()
        gate.release()
        late = asyncio.create_task(gate.acquire((0,)))
        await asyncio.sleep(0.01)
        assert not late.done(), "one slot is still held and the limit is now 1"
        gate.release()
        await asyncio.wait_for(late, 1)

    asyncio.run(scenario())
