"""Specification of the retry policy: retryable failures, server hints, backoff and the build-wide cap."""

from __future__ import annotations

import random
import threading
from email.utils import formatdate

import pytest

from mkdocs_ai_docstrings._internal.retry import (
    RetryBudget,
    RetryDecision,
    RetryPolicy,
    backoff_delay,
    decide,
    parse_retry_after,
    retry_after_from_message,
)

AZURE_DAILY_QUOTA = (
    "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded "
    "token rate limit of your current OpenAI S0 pricing tier. Please retry after 86400 seconds."
)


def _decide(
    status: int | None,
    headers: dict[str, str] | None = None,
    *,
    attempt: int = 0,
    message: str = "",
    policy: RetryPolicy | None = None,
    budget: RetryBudget | None = None,
) -> tuple[RetryDecision, float]:
    policy = policy or RetryPolicy()
    return decide(
        attempt=attempt,
        status=status,
        headers=headers or {},
        message=message,
        policy=policy,
        budget=budget or RetryBudget(policy.build_retry_cap),
        rng=random.Random(7),
    )


# parse_retry_after


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert parse_retry_after({"retry-after": "10", "retry-after-ms": "1500"}) == 1.5


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25


def test_retry_after_as_http_date_counts_from_now() -> None:
    now = 1_700_000_000.0
    headers = {"retry-after": formatdate(now + 30, usegmt=True)}
    assert parse_retry_after(headers, now=now) == pytest.approx(30.0)
    assert parse_retry_after({"retry-after": formatdate(now - 30, usegmt=True)}, now=now) == 0.0


def test_invalid_retry_after_ms_falls_back_to_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "-5", "retry-after": "3"}) == 3.0


def test_reset_headers_are_the_last_resort() -> None:
    assert parse_retry_after({"x-ratelimit-reset-tokens": "6s"}) == 6.0
    assert parse_retry_after({"x-ratelimit-reset-tokens": "250ms"}) == 0.25
    assert parse_retry_after({"x-ratelimit-reset-requests": "1m30s"}) == 90.0
    assert parse_retry_after({"x-ratelimit-reset-tokens": "12"}) == 12.0
    assert parse_retry_after({"x-ratelimit-reset-tokens": "2", "x-ratelimit-reset-requests": "40"}) == 2.0
    assert parse_retry_after({"x-ratelimit-reset-tokens": "2", "retry-after": "5"}) == 5.0


def test_header_names_are_case_insensitive() -> None:
    assert parse_retry_after({"Retry-After-Ms": "400"}) == 0.4


@pytest.mark.parametrize(
    "headers",
    [{}, {"retry-after": "later"}, {"retry-after": "-1"}, {"x-ratelimit-reset-tokens": "soon"}, {"retry-after": ""}],
)
def test_no_usable_hint_gives_none(headers: dict[str, str]) -> None:
    assert parse_retry_after(headers) is None


# retry_after_from_message


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        (AZURE_DAILY_QUOTA, 86400.0),
        ("Rate limit is exceeded. Try again in 20 seconds.", 20.0),
        ("Please retry after 2 seconds.", 2.0),
        ("please retry after 500 milliseconds", 0.5),
        ("Rate limit reached for gpt-4o. Please try again in 1.2s. Visit ...", 1.2),
        ("Please try again in 6ms.", 0.006),
        ("Please try again in 7m12s.", 432.0),
    ],
)
def test_hint_from_message(message: str, seconds: float) -> None:
    assert retry_after_from_message(message) == pytest.approx(seconds)


@pytest.mark.parametrize("message", ["", "Internal server error", "retry after a while", "try again later"])
def test_message_without_hint(message: str) -> None:
    assert retry_after_from_message(message) is None


# backoff_delay


@pytest.mark.parametrize(("attempt", "ceiling"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)])
def test_backoff_is_full_jitter_under_a_capped_exponential_ceiling(attempt: int, ceiling: float) -> None:
    rng = random.Random(1234)
    delays = [backoff_delay(attempt, RetryPolicy(), rng) for _ in range(500)]
    assert all(0 <= delay <= ceiling for delay in delays)
    assert min(delays) < 0.05 * ceiling  # jitter spans the whole range, from near zero...
    assert max(delays) > 0.95 * ceiling  # ...to near the ceiling


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    first = [backoff_delay(n, RetryPolicy(), random.Random(5)) for n in range(5)]
    second = [backoff_delay(n, RetryPolicy(), random.Random(5)) for n in range(5)]
    assert first == second


def test_backoff_of_huge_attempt_numbers_stays_capped() -> None:
    assert 0 <= backoff_delay(10_000, RetryPolicy(max_delay=3.0), random.Random(0)) <= 3.0


# RetryBudget


def test_budget_allows_exactly_its_cap() -> None:
    budget = RetryBudget(3)
    assert [budget.take() for _ in range(5)] == [True, True, True, False, False]
    assert budget.used == 3
    assert budget.remaining == 0


def test_budget_is_thread_safe() -> None:
    budget = RetryBudget(5000)
    granted: list[int] = []

    def worker() -> None:
        granted.append(sum(budget.take() for _ in range(1000)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 5000
    assert budget.used == 5000


# decide


@pytest.mark.parametrize("status", [None, 408, 409, 429, 500, 502, 503, 504])
def test_transient_failures_are_retried_after_a_backoff(status: int | None) -> None:
    budget = RetryBudget(10)
    decision, delay = _decide(status, attempt=1, budget=budget)
    assert decision is RetryDecision.RETRY
    assert 0 <= delay <= 1.0  # attempt 1: full jitter under 0.5 * 2**1
    assert budget.used == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    budget = RetryBudget(10)
    assert _decide(status, {"retry-after": "1"}, budget=budget) == (RetryDecision.GIVE_UP, 0.0)
    assert budget.used == 0


def test_x_should_retry_overrides_the_status() -> None:
    assert _decide(400, {"x-should-retry": "true"})[0] is RetryDecision.RETRY
    assert _decide(503, {"x-should-retry": "false"})[0] is RetryDecision.GIVE_UP
    assert _decide(503, {"X-Should-Retry": "False"})[0] is RetryDecision.GIVE_UP


def test_server_hint_is_the_delay() -> None:
    assert _decide(429, {"retry-after": "2"}) == (RetryDecision.RETRY, 2.0)
    assert _decide(429, {"retry-after-ms": "1500", "retry-after": "2"}) == (RetryDecision.RETRY, 1.5)
    assert _decide(503, {"retry-after": "60"}) == (RetryDecision.RETRY, 60.0)


def test_hint_from_the_message_when_headers_have_none() -> None:
    assert _decide(429, message="Please retry after 3 seconds.") == (RetryDecision.RETRY, 3.0)
    assert _decide(429, {"retry-after": "1"}, message="Please retry after 3 seconds.") == (RetryDecision.RETRY, 1.0)


def test_zero_hint_falls_back_to_backoff() -> None:
    decision, delay = _decide(429, {"retry-after": "0"}, attempt=2)
    assert decision is RetryDecision.RETRY
    assert delay == backoff_delay(2, RetryPolicy(), random.Random(7))


def test_hint_beyond_max_retry_after_stops_the_build() -> None:
    budget = RetryBudget(10)
    assert _decide(429, {"retry-after": "86400"}, budget=budget) == (RetryDecision.STOP_BUILD, 86400.0)
    assert _decide(429, message=AZURE_DAILY_QUOTA) == (RetryDecision.STOP_BUILD, 86400.0)
    assert _decide(429, {"retry-after": "61"}, policy=RetryPolicy(max_retry_after=60))[0] is RetryDecision.STOP_BUILD
    assert budget.used == 0


def test_daily_quota_stops_the_build_even_on_the_last_attempt() -> None:
    decision, _ = _decide(429, {"retry-after": "86400"}, attempt=3, budget=RetryBudget(0))
    assert decision is RetryDecision.STOP_BUILD


def test_gives_up_when_attempts_are_exhausted() -> None:
    policy = RetryPolicy(max_attempts=4)
    budget = RetryBudget(10)
    assert _decide(503, attempt=2, policy=policy, budget=budget)[0] is RetryDecision.RETRY  # third attempt failed
    assert _decide(503, attempt=3, policy=policy, budget=budget) == (RetryDecision.GIVE_UP, 0.0)  # fourth failed
    assert budget.used == 1


def test_gives_up_when_the_build_budget_is_used_up() -> None:
    budget = RetryBudget(2)
    decisions = [_decide(429, {"retry-after": "1"}, budget=budget)[0] for _ in range(3)]
    assert decisions == [RetryDecision.RETRY, RetryDecision.RETRY, RetryDecision.GIVE_UP]
    assert budget.used == 2
