"""Specification of client-side pacing: RPM spacing, the TPM bucket, fairness, pauses and server corrections.

All tests run on fake time, so they take milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from mkdocs_ai_docstrings._internal.ratelimit import RateLimiter, RateLimiterStats


class AutoClock:
    """Fake time where every sleep completes at once, moving the clock forward."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class ManualClock:
    """Fake time that only moves when the test calls `advance`; sleepers wake when their deadline passes."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        await future

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for deadline, future in list(self._sleepers):
            if deadline <= self.now + 1e-9:
                self._sleepers.remove((deadline, future))
                if not future.done():
                    future.set_result(None)
        await settle()


async def settle() -> None:
    """Let every runnable task run until it blocks."""
    for _ in range(20):
        await asyncio.sleep(0)


def limiter_on(clock: AutoClock | ManualClock, **quota: float | None) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep, **quota)


async def start_times(limiter: RateLimiter, clock: AutoClock, costs: list[int]) -> list[float]:
    """Acquire for each cost in turn; the clock time at which each request could start."""
    times = []
    for cost in costs:
        await limiter.acquire(cost)
        times.append(clock.now)
    return times


def run(coroutine_function: Callable[[], Awaitable[object]]) -> object:
    return asyncio.run(coroutine_function())  # type: ignore[arg-type]


# Requests per minute


def test_rpm_spaces_request_starts_evenly() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=60)
    times = run(lambda: start_times(limiter, clock, [100] * 10))
    assert times == pytest.approx([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])


def test_rpm_allows_a_burst_of_one_after_idling() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=120)

    async def scenario() -> list[float]:
        await limiter.acquire(1)
        clock.now = 100.0  # a long idle period does not bank more than one request
        return await start_times(limiter, clock, [1, 1, 1])

    assert run(scenario) == pytest.approx([100.0, 100.5, 101.0])


def test_unlimited_limiter_never_waits() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock)
    assert run(lambda: start_times(limiter, clock, [1_000_000] * 50)) == [0.0] * 50
    assert clock.sleeps == []
    assert limiter.stats.waits == 0


@pytest.mark.parametrize("quota", [{"rpm": 0}, {"rpm": -5}, {"tpm": 0}, {"tpm": float("nan")}])
def test_rejects_non_positive_quotas(quota: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(**quota)


# Tokens per minute


def test_first_request_starts_at_once_then_tokens_flow_at_the_per_minute_rate() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, tpm=6000)  # 100 tokens/s
    times = run(lambda: start_times(limiter, clock, [500, 500, 500, 250]))
    assert times == pytest.approx([0, 5, 10, 12.5])


def test_after_idling_the_bucket_holds_at_most_ten_seconds_of_quota() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, tpm=6000)  # bucket of 1000

    async def scenario() -> list[float]:
        await limiter.acquire(1)
        clock.now = 100.0
        return await start_times(limiter, clock, [500, 500, 500])

    assert run(scenario) == pytest.approx([100, 100, 105])


def test_request_larger_than_the_bucket_still_starts() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, tpm=6000)  # bucket of 1000
    times = run(lambda: start_times(limiter, clock, [100, 3000, 100]))
    assert times == pytest.approx([0, 30, 31])


def test_the_tighter_of_rpm_and_tpm_paces() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=60, tpm=6000)
    times = run(lambda: start_times(limiter, clock, [100, 100, 100, 100, 1000, 1000]))
    assert times == pytest.approx([0, 1, 2, 3, 13, 23])  # small requests: RPM binds; large ones: TPM


def test_long_build_finishes_in_the_time_the_quota_allows() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=360, tpm=60_000)  # 1000 tokens/s
    starts: list[float] = []

    async def worker(queue: asyncio.Queue[int]) -> None:
        while not queue.empty():
            await limiter.acquire(queue.get_nowait())
            starts.append(clock.now)
            await asyncio.sleep(0)

    async def build() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for _ in range(100):
            queue.put_nowait(1500)
        await asyncio.gather(*(worker(queue) for _ in range(8)))

    run(build)
    assert len(starts) == 100
    assert starts[-1] == pytest.approx(99 * 1500 / 1000)  # the first request is free, then exactly the quota rate
    for start in starts:  # no 10 s window gets more than its share of the quota plus one request
        in_window = sum(1 for other in starts if start <= other < start + 10)
        assert in_window * 1500 <= 10 * 1000 + 1500


def test_real_clock_and_sleep_by_default() -> None:
    limiter = RateLimiter(rpm=3000)  # 20 ms apart

    async def three() -> float:
        started = time.monotonic()
        for _ in range(3):
            await limiter.acquire(1)
        return time.monotonic() - started

    assert run(three) >= 0.039  # really waited (a loaded machine only makes it longer)


# Fairness and concurrency


def test_concurrent_waiters_are_served_first_come_first_served() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=60)
    order: list[tuple[str, float]] = []

    async def request(name: str) -> None:
        await limiter.acquire(10)
        order.append((name, clock.now))

    async def scenario() -> None:
        tasks = []
        for name in "abcdef":
            tasks.append(asyncio.create_task(request(name)))
            await asyncio.sleep(0)  # each task queues before the next is created
        await asyncio.gather(*tasks)

    run(scenario)
    assert order == [("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", 4), ("f", 5)]


def test_small_request_does_not_overtake_a_large_one_waiting_ahead() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, tpm=6000)
    order: list[tuple[str, float]] = []

    async def request(name: str, cost: int) -> None:
        await limiter.acquire(cost)
        order.append((name, clock.now))

    async def scenario() -> None:
        tasks = []
        for name, cost in (("first", 1000), ("large", 1000), ("small", 10)):
            tasks.append(asyncio.create_task(request(name, cost)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)

    run(scenario)
    assert [name for name, _ in order] == ["first", "large", "small"]
    assert order[1][1] == pytest.approx(10)
    assert order[2][1] == pytest.approx(10.1)


def test_cancelled_waiter_charges_nothing_and_does_not_block_the_queue() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock, rpm=60)
    started: dict[str, float] = {}

    async def request(name: str) -> None:
        await limiter.acquire(1)
        started[name] = clock.now

    async def scenario() -> None:
        await limiter.acquire(1)
        cancelled = asyncio.create_task(request("cancelled"))
        await settle()
        behind = asyncio.create_task(request("behind"))
        await settle()
        cancelled.cancel()
        await settle()
        await clock.advance(1.0)
        await behind

    run(scenario)
    assert started == {"behind": 1.0}


def test_limiter_can_be_reused_by_a_later_event_loop() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=60)

    async def contended() -> None:
        await asyncio.gather(*(limiter.acquire(1) for _ in range(3)))

    run(contended)
    run(contended)  # an asyncio lock bound to the first loop would fail here
    assert clock.now == pytest.approx(5)


# Pauses after 429


def test_pause_holds_back_every_waiter() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock)

    async def scenario() -> None:
        limiter.pause(3.0)
        waiters = [asyncio.create_task(limiter.acquire(1)) for _ in range(3)]
        await settle()
        await clock.advance(2.9)
        assert not any(waiter.done() for waiter in waiters)
        await clock.advance(0.1)
        assert all(waiter.done() for waiter in waiters)

    run(scenario)
    assert limiter.stats == RateLimiterStats(waits=3, total_wait_seconds=9.0, pauses=1)


def test_pause_during_a_wait_extends_it() -> None:
    clock = ManualClock()
    limiter = limiter_on(clock, rpm=60)
    started: list[float] = []

    async def scenario() -> None:
        await limiter.acquire(1)
        waiting = asyncio.create_task(limiter.acquire(1))
        waiting.add_done_callback(lambda _: started.append(clock.now))
        await settle()
        await clock.advance(0.5)
        limiter.pause(5.0)  # until t=5.5
        await clock.advance(0.5)
        assert not waiting.done()
        await clock.advance(4.0)
        assert not waiting.done()
        await clock.advance(0.5)
        await waiting

    run(scenario)
    assert started == [5.5]


def test_shorter_pause_does_not_shorten_a_longer_one_and_non_positive_pauses_are_ignored() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock)
    limiter.pause(10.0)
    limiter.pause(1.0)
    limiter.pause(0.0)
    limiter.pause(-3.0)
    assert run(lambda: start_times(limiter, clock, [1])) == [10.0]
    assert limiter.stats.pauses == 2


def test_pause_empties_the_token_bucket() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, tpm=6000)

    async def scenario() -> list[float]:
        await limiter.acquire(1)
        clock.now = 100.0  # the bucket is full again (1000)
        limiter.pause(2.0)
        return await start_times(limiter, clock, [500])

    assert run(scenario) == pytest.approx([105.0])  # refilled from empty at 100/s


# Corrections from response headers


def full_token_bucket_after(limiter: RateLimiter, clock: AutoClock, headers: dict[str, str], cost: int) -> float:
    """Fill the bucket by idling, observe `headers`, then acquire `cost`; return the wait."""

    async def scenario() -> float:
        await limiter.acquire(1)
        clock.now = 100.0
        limiter.observe_headers(headers)
        await limiter.acquire(cost)
        return clock.now - 100.0

    return run(scenario)  # type: ignore[return-value]


def test_remaining_tokens_header_lowers_the_bucket() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, tpm=6000)  # 100 tokens/s, bucket 1000
    assert full_token_bucket_after(limiter, clock, {"x-ratelimit-remaining-tokens": "200"}, 500) == pytest.approx(3.0)


def test_remaining_tokens_above_the_bucket_change_nothing() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, tpm=6000)
    headers = {"x-ratelimit-remaining-tokens": "5000", "x-ratelimit-remaining-requests": "9"}
    assert full_token_bucket_after(limiter, clock, headers, 1000) == 0.0


def test_remaining_requests_header_lowers_the_request_allowance() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=60)
    limiter.observe_headers({"X-RateLimit-Remaining-Requests": "0"})
    assert run(lambda: start_times(limiter, clock, [1, 1])) == pytest.approx([1.0, 2.0])


@pytest.mark.parametrize("value", ["-1", "abc", "", "nan", "inf"])
def test_unusable_header_values_are_ignored(value: str) -> None:
    headers = {
        "x-ratelimit-remaining-tokens": value,
        "x-ratelimit-remaining-requests": value,
        "x-ratelimit-limit-tokens": value,
        "x-ratelimit-limit-requests": value,
    }
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=60, tpm=6000)
    assert full_token_bucket_after(limiter, clock, headers, 1000) == 0.0
    unconfigured = limiter_on(AutoClock())
    unconfigured.observe_headers(headers)
    assert (unconfigured.rpm, unconfigured.tpm) == (None, None)


def test_limit_headers_reveal_an_unconfigured_request_quota() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock)
    limiter.observe_headers({"x-ratelimit-limit-requests": "120", "x-ratelimit-remaining-requests": "100"})
    assert (limiter.rpm, limiter.tpm) == (120, None)
    # requests already went out unpaced: the learned quota starts with an empty bucket
    assert run(lambda: start_times(limiter, clock, [1, 1, 1])) == pytest.approx([0.5, 1.0, 1.5])


def test_limit_headers_reveal_an_unconfigured_token_quota() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock)
    limiter.observe_headers({"X-RateLimit-Limit-Tokens": "6000"})
    assert (limiter.rpm, limiter.tpm) == (None, 6000)
    # without a remaining count, requests may have gone out unpaced: the learned quota starts with an empty bucket
    assert run(lambda: start_times(limiter, clock, [500, 500])) == pytest.approx([5, 10])


def test_a_learned_token_quota_starts_with_what_remains_less_what_went_out_unpaced() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock)
    run(lambda: start_times(limiter, clock, [300]))  # sent before any header: unpaced
    limiter.observe_headers({"x-ratelimit-limit-tokens": "6000", "x-ratelimit-remaining-tokens": "5700"})
    # the bucket holds a 10-second share (1000) less the 300 sent: 700; then it refills at 100 per second
    assert run(lambda: start_times(limiter, clock, [500, 500])) == pytest.approx([0, 3])


def test_a_learned_token_quota_never_starts_above_what_the_server_says_remains() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock)
    limiter.observe_headers({"x-ratelimit-limit-tokens": "6000", "x-ratelimit-remaining-tokens": "200"})
    assert run(lambda: start_times(limiter, clock, [500])) == pytest.approx([3])


def test_limit_headers_do_not_override_a_configured_quota() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=60, tpm=6000)
    limiter.observe_headers({"x-ratelimit-limit-requests": "6000", "x-ratelimit-limit-tokens": "600000"})
    assert (limiter.rpm, limiter.tpm) == (60, 6000)
    assert run(lambda: start_times(limiter, clock, [100, 100])) == pytest.approx([0, 1])


# Statistics


def test_stats_count_waits_and_waited_time() -> None:
    clock = AutoClock()
    limiter = limiter_on(clock, rpm=30)
    run(lambda: start_times(limiter, clock, [1, 1, 1]))
    stats = limiter.stats
    assert stats.waits == 2
    assert stats.total_wait_seconds == pytest.approx(4.0)
    assert stats.pauses == 0
