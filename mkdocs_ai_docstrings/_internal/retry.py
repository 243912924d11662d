"""Retry policy: which failures to retry, how long to wait, and when to stop the whole build.

The SDK is used with `max_retries=0`; the client asks [`decide`][] after every failed attempt.
"""

from __future__ import annotations

import enum
import math
import random
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt (`None`, a connection error or timeout, is retryable too)."""

_MAX_EXPONENT = 62
"""Caps `2**attempt` so huge attempt numbers cannot overflow a float."""

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_UNIT = r"(?:milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)"
_AMOUNT = re.compile(rf"({_NUMBER})\s*({_UNIT})?", re.IGNORECASE)
_DURATION = rf"{_NUMBER}(?:\s*{_UNIT}(?:\s*{_NUMBER}\s*{_UNIT})*)?"
_HEADER_DURATION = re.compile(rf"\s*{_DURATION}\s*", re.IGNORECASE)
_MESSAGE_HINT = re.compile(rf"(?:retry\s+after|try\s+again\s+in)\s+({_DURATION})", re.IGNORECASE)
"""Azure: "Please retry after 86400 seconds."; OpenAI: "Please try again in 1.2s." (or "6ms", "7m12s")."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently failed requests are retried."""

    max_attempts: int = 4
    """Attempts per request, the first included."""
    base_delay: float = 0.5
    """Backoff ceiling of the first retry, in seconds; it doubles with every retry."""
    max_delay: float = 8.0
    """Cap of the exponential backoff, in seconds."""
    max_retry_after: float = 60.0
    """A server retry hint longer than this (a daily quota: 86400 s) means "stop sending for this build"."""
    build_retry_cap: int = 200
    """Retries allowed across the whole build."""


class RetryDecision(enum.Enum):
    """What to do after a failed attempt."""

    RETRY = "retry"
    """Wait the returned delay, then send again."""
    GIVE_UP = "give_up"
    """This request fails; other requests carry on."""
    STOP_BUILD = "stop_build"
    """The server asks for a wait beyond `max_retry_after`: send no further request this build."""


class RetryBudget:
    """Counts the retries of one build against a cap; safe to share between threads and tasks."""

    def __init__(self, cap: int = RetryPolicy.build_retry_cap) -> None:
        """Create an unused budget allowing `cap` retries."""
        self.cap = max(cap, 0)
        self._used = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Use one retry; `False` (and nothing used) once the cap is reached."""
        with self._lock:
            if self._used >= self.cap:
                return False
            self._used += 1
            return True

    @property
    def used(self) -> int:
        """Retries taken so far."""
        return self._used

    @property
    def remaining(self) -> int:
        """Retries still allowed."""
        return self.cap - self._used


def get_header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name` (lower case), matching keys case-insensitively."""
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def parse_seconds(value: str | None) -> float | None:
    """A non-negative finite number, or `None` for missing, non-numeric, negative or infinite values."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _unit_seconds(unit: str) -> float:
    unit = unit.lower()
    if unit.startswith(("ms", "milli")):
        return 0.001
    if unit.startswith("h"):
        return 3600.0
    if unit.startswith("m"):
        return 60.0
    return 1.0


def _sum_amounts(text: str) -> float:
    return sum(float(number) * _unit_seconds(unit) for number, unit in _AMOUNT.findall(text))


def parse_duration(value: str | None) -> float | None:
    """Seconds from `"20"`, `"1.5s"`, `"250ms"` or `"6m0s"`; `None` if unparsable."""
    if value is None or not _HEADER_DURATION.fullmatch(value):
        return None
    return _sum_amounts(value)


def _http_date_delay(value: str, now: float) -> float | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # "-0000": UTC with no offset information
        moment = moment.replace(tzinfo=timezone.utc)
    return max(moment.timestamp() - now, 0.0)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The server's retry hint in seconds, or `None` when it gives none.

    `retry-after-ms` wins over `retry-after` (seconds or an HTTP-date, relative to `now`, a Unix time
    defaulting to the current time); `x-ratelimit-reset-tokens`, then `-requests`, are the last resort.
    """
    milliseconds = parse_seconds(get_header(headers, "retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    retry_after = get_header(headers, "retry-after")
    if retry_after is not None:
        seconds = parse_seconds(retry_after)
        if seconds is None:
            seconds = _http_date_delay(retry_after, time.time() if now is None else now)
        if seconds is not None:
            return seconds
    for name in ("x-ratelimit-reset-tokens", "x-ratelimit-reset-requests"):
        seconds = parse_duration(get_header(headers, name))
        if seconds is not None:
            return seconds
    return None


def retry_after_from_message(message: str) -> float | None:
    """A retry hint in seconds from an error message ("Please retry after 86400 seconds", "try again in 1.5s")."""
    match = _MESSAGE_HINT.search(message)
    return None if match is None else _sum_amounts(match.group(1))


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Full-jitter exponential backoff before retry number `attempt + 1` (`attempt` counts from 0)."""
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** min(max(attempt, 0), _MAX_EXPONENT))
    return rng.uniform(0, ceiling)


def is_retryable(status: int | None, headers: Mapping[str, str]) -> bool:
    """Whether a failure is worth another attempt; `x-should-retry` overrides the status."""
    should_retry = (get_header(headers, "x-should-retry") or "").strip().lower()
    if should_retry == "true":
        return True
    if should_retry == "false":
        return False
    return status is None or status in RETRYABLE_STATUSES


def decide(
    *,
    attempt: int,
    status: int | None,
    headers: Mapping[str, str],
    message: str,
    policy: RetryPolicy,
    budget: RetryBudget,
    rng: random.Random,
) -> tuple[RetryDecision, float]:
    """Decide what follows failed attempt number `attempt` (from 0), and the delay before retrying.

    Args:
        attempt: Index of the attempt that just failed (0 for the first).
        status: HTTP status, or `None` for a connection error or timeout.
        headers: Response headers (empty without a response).
        message: The error message, searched for a retry hint when the headers give none.
        policy: Retry limits.
        budget: The build's retry budget; one retry is taken when the decision is to retry.
        rng: Source of the backoff jitter.

    Returns:
        The decision and its delay in seconds: the wait before retrying, the server's hint for
        `STOP_BUILD`, 0 for `GIVE_UP`.
    """
    if not is_retryable(status, headers):
        return RetryDecision.GIVE_UP, 0.0
    hint = parse_retry_after(headers)
    if hint is None and message:
        hint = retry_after_from_message(message)
    if hint is not None and hint > policy.max_retry_after:
        return RetryDecision.STOP_BUILD, hint
    if attempt + 1 >= policy.max_attempts or not budget.take():
        return RetryDecision.GIVE_UP, 0.0
    if hint is not None and hint > 0:
        return RetryDecision.RETRY, hint
    return RetryDecision.RETRY, backoff_delay(attempt, policy, rng)
