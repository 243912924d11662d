"""Client-side pacing of requests to a deployment's RPM/TPM quota.

Azure charges each request up front (prompt tokens + `max_tokens`) and enforces its per-minute quota over
short windows (1 s / 10 s), so bursts get 429 even under the per-minute figure. [`RateLimiter`][] spaces
request starts evenly, keeps a token bucket holding at most a 10-second share of the TPM, follows the
server's `x-ratelimit-*` headers when they say less is left, and holds every request back after a 429.

The token bucket starts empty except that the first request may start at once: a full bucket plus its
refill would put twice the 10-second share into the first window of a cold build, and draw 429s. A quota learned
from the headers starts with what the server says remains, less what went out unpaced before it was known, and
never more than the 10-second share: the server's own count, without a second burst on top of the first.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from mkdocs_ai_docstrings._internal.retry import get_header, parse_seconds

_TOLERANCE = 1e-6
"""Waits shorter than this (seconds) are rounding noise, not worth another sleep."""

_REQUEST_BURST = 1.0
"""Requests that may start back to back after an idle period."""

_TOKEN_WINDOW = 10.0
"""Seconds of TPM the token bucket may hold: Azure's short enforcement window."""


@dataclass(frozen=True)
class RateLimiterStats:
    """How much pacing slowed the build down."""

    waits: int = 0
    """Acquisitions that had to wait (behind other requests, for the quota, or for a pause)."""
    total_wait_seconds: float = 0.0
    """Time spent in those waits, added over all requests."""
    pauses: int = 0
    """Pauses requested after 429 responses."""


@dataclass
class _Bucket:
    """A token bucket whose level is brought up to date lazily."""

    rate: float
    """Refill, in units per second."""
    capacity: float
    """Most units the bucket holds (a waiting request may raise the ceiling to its own cost)."""
    level: float
    updated: float
    """Clock time at which `level` was exact."""
    first_free: bool = False
    """The next request may start whatever the level (which then cannot fall below zero)."""

    def level_at(self, now: float, ceiling: float) -> float:
        return min(ceiling, self.level + max(now - self.updated, 0.0) * self.rate)

    def wait_for(self, cost: float, now: float, ceiling: float) -> float:
        if self.first_free:
            return 0.0
        return max(cost - self.level_at(now, ceiling), 0.0) / self.rate

    def charge(self, cost: float, now: float, ceiling: float) -> None:
        level = self.level_at(now, ceiling)
        if self.first_free:
            level = max(level, cost)
        self.set_level(level - cost, now)

    def set_level(self, level: float, now: float) -> None:
        self.level = level
        self.updated = now
        self.first_free = False


class RateLimiter:
    """Paces request starts to an RPM/TPM quota; fair (FIFO) among concurrent asyncio tasks."""

    def __init__(
        self,
        *,
        rpm: float | None = None,
        tpm: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Create a limiter; `None` leaves a quota unlimited until the server's headers reveal it.

        Args:
            rpm: Requests per minute.
            tpm: Tokens per minute, counting prompt tokens + `max_tokens` of each request.
            clock: Monotonic time in seconds.
            sleep: Coroutine function waiting the given seconds (on the same time scale as `clock`).
        """
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number or None, got {value!r}")
        self._clock = clock
        self._sleep = sleep
        self._rpm_configured = rpm is not None
        self._tpm_configured = tpm is not None
        now = clock()
        self._requests = None if rpm is None else self._request_bucket(rpm, _REQUEST_BURST, now)
        self._tokens = None if tpm is None else self._token_bucket(tpm, now, first_free=True)
        self._paused_until = -math.inf
        self._head_tokens = 0.0
        self._unpaced_tokens = 0.0
        """Tokens of requests started before the token quota was known (configured or learned)."""
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._waits = 0
        self._total_wait = 0.0
        self._pauses = 0

    @staticmethod
    def _request_bucket(rpm: float, level: float, now: float) -> _Bucket:
        return _Bucket(rate=rpm / 60, capacity=_REQUEST_BURST, level=level, updated=now)

    @staticmethod
    def _token_bucket(tpm: float, now: float, *, first_free: bool) -> _Bucket:
        capacity = tpm / 60 * _TOKEN_WINDOW
        return _Bucket(rate=tpm / 60, capacity=capacity, level=0.0, updated=now, first_free=first_free)

    @property
    def rpm(self) -> float | None:
        """The requests-per-minute quota in force (configured or learned from headers)."""
        return None if self._requests is None else self._requests.rate * 60

    @property
    def tpm(self) -> float | None:
        """The tokens-per-minute quota in force (configured or learned from headers)."""
        return None if self._tokens is None else self._tokens.rate * 60

    @property
    def stats(self) -> RateLimiterStats:
        """A snapshot of the waiting done so far."""
        return RateLimiterStats(waits=self._waits, total_wait_seconds=self._total_wait, pauses=self._pauses)

    def _token_ceiling(self, bucket: _Bucket) -> float:
        # A request larger than the bucket may still start: the bucket fills up to its cost.
        return max(bucket.capacity, self._head_tokens)

    def _lock_for_running_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    def _wait_time(self, cost: float, now: float) -> float:
        wait = self._paused_until - now
        if self._requests is not None:
            wait = max(wait, self._requests.wait_for(1.0, now, _REQUEST_BURST))
        if self._tokens is not None:
            wait = max(wait, self._tokens.wait_for(cost, now, self._token_ceiling(self._tokens)))
        return wait

    def _charge(self, cost: float, now: float) -> None:
        if self._requests is not None:
            self._requests.charge(1.0, now, _REQUEST_BURST)
        if self._tokens is not None:
            self._tokens.charge(cost, now, self._token_ceiling(self._tokens))
        else:
            self._unpaced_tokens += cost

    async def acquire(self, tokens: int) -> None:
        """Wait until a request charged `tokens` (prompt + `max_tokens`) may start, then charge it.

        Waiters are served first come, first served; a cancelled waiter charges nothing.
        """
        cost = float(max(tokens, 0))
        lock = self._lock_for_running_loop()
        started = self._clock()
        waited = lock.locked()
        async with lock:
            self._head_tokens = cost
            try:
                while True:
                    wait = self._wait_time(cost, self._clock())
                    if wait <= _TOLERANCE:
                        break
                    waited = True
                    await self._sleep(wait)
                self._charge(cost, self._clock())
            finally:
                self._head_tokens = 0.0
        if waited:
            self._waits += 1
            self._total_wait += max(self._clock() - started, 0.0)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Correct the buckets from a response's `x-ratelimit-*` headers.

        `x-ratelimit-limit-requests|tokens` (per minute) set a quota that was not configured;
        `x-ratelimit-remaining-requests|tokens` lower a bucket that holds more than the server says is left.
        Missing, non-numeric or negative values are ignored.
        """
        now = self._clock()
        limit_requests = parse_seconds(get_header(headers, "x-ratelimit-limit-requests"))
        remaining_requests = parse_seconds(get_header(headers, "x-ratelimit-remaining-requests"))
        limit_tokens = parse_seconds(get_header(headers, "x-ratelimit-limit-tokens"))
        remaining_tokens = parse_seconds(get_header(headers, "x-ratelimit-remaining-tokens"))

        if not self._rpm_configured and limit_requests:
            self._requests = self._adopt(self._requests, limit_requests, now, tokens=False)
        if not self._tpm_configured and limit_tokens:
            learned = self._tokens is None
            self._tokens = self._adopt(self._tokens, limit_tokens, now, tokens=True)
            if learned and remaining_tokens is not None:
                # The server's count of what is left, less what this build sent unpaced, within one short window.
                start = min(remaining_tokens, self._tokens.capacity - self._unpaced_tokens)
                self._tokens.set_level(max(start, 0.0), now)

        if self._requests is not None and remaining_requests is not None:
            current = self._requests.level_at(now, _REQUEST_BURST)
            if remaining_requests < current:
                self._requests.set_level(remaining_requests, now)
        if self._tokens is not None and remaining_tokens is not None:
            current = self._tokens.level_at(now, self._token_ceiling(self._tokens))
            if remaining_tokens < current:
                self._tokens.set_level(remaining_tokens, now)

    def _adopt(self, bucket: _Bucket | None, per_minute: float, now: float, *, tokens: bool) -> _Bucket:
        """The bucket of a quota learned from the server; a new one starts empty (`observe_headers` may fill it)."""
        if bucket is not None:
            level = bucket.level_at(now, self._token_ceiling(bucket) if tokens else _REQUEST_BURST)
            bucket.rate = per_minute / 60
            bucket.capacity = per_minute / 60 * _TOKEN_WINDOW if tokens else _REQUEST_BURST
            bucket.set_level(level, now)
            return bucket
        if tokens:
            return self._token_bucket(per_minute, now, first_free=False)
        return self._request_bucket(per_minute, 0.0, now)

    def pause(self, seconds: float) -> None:
        """Start no request before `seconds` from now (after a 429).

        The server's window is full, so the buckets are emptied too: they refill from now on.
        """
        if not (math.isfinite(seconds) and seconds > 0):
            return
        now = self._clock()
        self._paused_until = max(self._paused_until, now + seconds)
        self._pauses += 1
        if self._requests is not None:
            self._requests.set_level(min(self._requests.level_at(now, _REQUEST_BURST), 0.0), now)
        if self._tokens is not None:
            self._tokens.set_level(min(self._tokens.level_at(now, self._token_ceiling(self._tokens)), 0.0), now)


RECOVER_AFTER = 25
"""Clean successes at the learned ceiling after which the ceiling is probed one request higher."""


class AdaptiveConcurrency:
    """How many requests may be in flight: AIMD between 1 and the configured `concurrency`.

    A timeout (or a success slower than half the request timeout and twice the fastest seen: queueing) halves the
    limit, once per congestion episode (signals from requests started before the last cut are ignored), and lowers
    the ceiling below the number of requests that were in flight when the timed-out one started: a server with two
    slots learns a ceiling of two (sometimes one, while requests abandoned during learning still hold its slots). Every `limit` clean successes raise the limit by one, up to the ceiling; the
    ceiling itself is probed one higher after `RECOVER_AFTER` clean successes at it.
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.ceiling = self.maximum
        self.lowest = self.maximum
        """The lowest limit reached this build."""
        self.cuts = 0
        self.fastest: float | None = None
        self._cut_at = -math.inf
        self._previous_cut = -math.inf
        self._successes = 0
        self._at_ceiling = 0

    def __call__(self) -> int:
        """The current limit (for [`PriorityGate`][mkdocs_ai_docstrings._internal.schedule.PriorityGate])."""
        return self.limit

    def on_success(self, started: float, latency: float, request_timeout: float) -> None:
        """A response arrived `latency` seconds after an attempt `started` (loop time)."""
        if self.fastest is None or latency < self.fastest:
            self.fastest = latency
        if latency > request_timeout / 2 and latency > 2 * self.fastest:
            self._congestion(started, None)
            return
        self._successes += 1
        if self.limit < self.ceiling and self._successes >= self.limit:
            self.limit += 1
            self._successes = 0
        elif self.limit == self.ceiling < self.maximum:
            self._at_ceiling += 1
            if self._at_ceiling >= RECOVER_AFTER:
                self.ceiling += 1
                self._at_ceiling = 0

    def on_timeout(self, started: float, in_flight: int) -> None:
        """An attempt `started` (loop time) with `in_flight` requests in flight (itself included) timed out."""
        self._congestion(started, in_flight)

    def _congestion(self, started: float, in_flight: int | None) -> None:
        if started < self._previous_cut:
            return  # started before the episode before last: stale news
        if in_flight is not None:
            self.ceiling = max(1, min(self.ceiling, in_flight - 1))
        if started >= self._cut_at:  # a new episode: cut once
            self._previous_cut, self._cut_at = self._cut_at, asyncio.get_running_loop().time()
            self.cuts += 1
            self.limit = self.limit // 2
        self.limit = max(1, min(self.limit, self.ceiling))
        self.lowest = min(self.lowest, self.limit)
        self._successes = self._at_ceiling = 0
