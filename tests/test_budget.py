"""Specifications of issue "Token budget and cost control".

Builds run in-process, the way the griffe extension runs them (`discover` + `fill` in a `BuildSession`), on real
packages (a copy of the example site's `weatherkit`, and small packages written for one behaviour) against the Azure
OpenAI emulator, which bills `usage.total_tokens` like Azure. The `plan` command runs in a subprocess. Nothing here
needs the network: the emulator listens on 127.0.0.1 and token counting works from bundled data.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import griffe
import pytest

from mkdocs_ai_docstrings._internal.budget import TokenLedger
from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.logger import LOGGER_NAME
from mkdocs_ai_docstrings._internal.prices import estimate_cost, price_for
from mkdocs_ai_docstrings._internal.report import BuildReport, ObjectOutcome, Status
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from tests.conftest import TEST_KEY, build_env
from tests.emulator import AzureEmulator
from tests.test_faults import many_functions

EXAMPLE_SITE = Path(__file__).resolve().parent.parent / "example_site"
WEATHERKIT_OBJECTS = 23
"""Objects of the example package without a docstring."""
BUDGETS = [0, 500, 2000, 5000, 20_000, 10**6]
PLAN_TOLERANCE = 0.15
"""The plan's total estimate may differ from what the real build then bills by at most this share."""
ALERT = re.compile(r"token budget (\d+)% used: (\d+) of (\d+) tokens spent")
EXHAUSTED = re.compile(r"token budget exhausted \(100% alert\): (\d+) of (\d+) tokens spent")

# ----------------------------------------------------------------------------------------------------------------------
# Builds


@dataclass
class Build:
    """One in-process build and what the emulator saw of it."""

    session: BuildSession
    report: BuildReport
    requests: int
    """Requests the emulator received during this build."""
    billed: int
    """`usage.total_tokens` the emulator billed during this build (200 responses)."""

    @property
    def outcomes(self) -> list[ObjectOutcome]:
        return list(self.report.outcomes.values())

    def paths(self, status: str) -> set[str]:
        """Paths of the objects with this status."""
        return {o.canonical_path or o.path for o in self.outcomes if o.status == status}

    def planned_tokens(self) -> int:
        """Plan mode: the total estimate of the objects that would be generated."""
        return sum(o.estimated_tokens or 0 for o in self.outcomes if o.status == Status.PLANNED)


def run_build(package: griffe.Module, cache_dir: Path, emulator: AzureEmulator | None = None, **options: Any) -> Build:
    """Generate the missing docstrings of `package` in one build session, with the emulator's credentials (if any)."""
    settings = Settings.from_options({"cache_dir": str(cache_dir), "examples": False, **options})
    environ = {"AZURE_OPENAI_ENDPOINT": emulator.url, "AZURE_OPENAI_API_KEY": TEST_KEY} if emulator else {}
    requests_before = len(emulator.requests) if emulator else 0
    billed_before = emulator.billed_total_tokens if emulator else 0
    session = BuildSession(settings, environ=environ)
    fill(session, package, discover(package, settings))
    report = session.finish()
    return Build(
        session=session,
        report=report,
        requests=len(emulator.requests) - requests_before if emulator else 0,
        billed=emulator.billed_total_tokens - billed_before if emulator else 0,
    )


@pytest.fixture(scope="module")
def weatherkit_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example site's source folder (so no test can touch the example)."""
    src = tmp_path_factory.mktemp("weatherkit") / "src"
    shutil.copytree(EXAMPLE_SITE / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
    return src


@pytest.fixture
def weatherkit(weatherkit_src: Path) -> Callable[[], griffe.Module]:
    """Load a fresh `weatherkit` (each build attaches docstrings to the objects it loaded)."""

    def load() -> griffe.Module:
        package = griffe.load("weatherkit", search_paths=[weatherkit_src], docstring_parser=griffe.Parser.google)
        assert isinstance(package, griffe.Module)
        return package

    return load


def request_reservation(session: BuildSession, body: dict[str, Any]) -> int:
    """The tokens the client reserves for a request body it sent: counted prompt with schema, plus
    `max_completion_tokens` (reserved whole, also for a first answer sent with a lower cap)."""
    wire = {key: body[key] for key in ("response_format", "tools", "tool_choice") if key in body}
    cap = body.get("max_completion_tokens") or body["max_tokens"]
    assert cap <= session.settings.max_completion_tokens
    return (
        session.reservation_counter.count_messages(body["messages"], extra=wire)
        + session.settings.max_completion_tokens
    )


def alerts(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int, int]]:
    """The budget alerts logged so far, as (threshold %, spent, budget); exhaustion counts as the 100% alert."""
    found = []
    for record in caplog.records:
        if record.name != LOGGER_NAME:
            continue
        if match := ALERT.search(record.getMessage()):
            found.append((int(match[1]), int(match[2]), int(match[3])))
        elif match := EXHAUSTED.search(record.getMessage()):
            found.append((100, int(match[1]), int(match[2])))
    return found


# ----------------------------------------------------------------------------------------------------------------------
# Small packages


TINY = {
    "__init__.py": """\
def add(a: int, b: int) -> int:
    return a + b


def scale(values, factor=2):
    return [value * factor for value in values]


class Counter:
    def __init__(self, start: int = 0) -> None:
        self.value = start

    def increment(self, step: int = 1) -> int:
        self.value += step
        return self.value

    @property
    def doubled(self) -> int:
        return self.value * 2


def check(x):
    if x < 0:
        raise ValueError("negative")
    return x


def countdown(n):
    while n > 0:
        yield n
        n -= 1
""",
}
"""Small objects of every kind: the completion is a large share of each request."""

SINGLE = {
    "__init__.py": '''\
"""One function."""


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
''',
}

PRIORITY = {
    "__init__.py": '''\
"""A package whose public API is two functions kept in a private module."""

from prio._impl import exported_one, exported_two

__all__ = ["exported_one", "exported_two"]


def unexported_top(records, key, default=None, *, reverse=False):
    """"""
    seen = {}
    for record in records:
        value = record.get(key, default)
        if value is None:
            continue
        seen.setdefault(value, []).append(record)
    ordered = sorted(seen, reverse=reverse)
    return [(value, len(seen[value])) for value in ordered]
''',
    "_impl.py": '''\
"""Where the exported functions live."""


def exported_one(a, b):
    return a + b


def exported_two(text):
    return text.strip().lower()


def helper(x):
    return x
''',
    "extras.py": '''\
"""Public helpers that the package does not export."""


def public_extra(values, threshold, *, strict=False, label="extra"):
    kept = []
    for index, value in enumerate(values):
        if value > threshold or (not strict and value == threshold):
            kept.append((index, value, label))
    total = sum(value for _, value, _ in kept)
    average = total / len(kept) if kept else 0.0
    return {"label": label, "kept": kept, "total": total, "average": average}


class Table:
    """A table of rows."""

    def __init__(self, rows):
        self.rows = list(rows)

    def render(self, width=80, *, title=None, separator=" | "):
        lines = [title.center(width)] if title else []
        for row in self.rows:
            cells = [str(cell) for cell in row]
            line = separator.join(cells)
            lines.append(line[:width])
        return "\\n".join(lines)
''',
}
"""Exported functions are small; every other undocumented object is larger (its request reserves more)."""

POPULAR = {
    "__init__.py": '''\
"""Four exported functions; `shared` is called by two of them."""

__all__ = ["alpha", "beta", "lonely", "shared"]


def lonely(x):
    return x - 1


def alpha(x):
    return shared(x) + 1


def beta(x):
    return shared(x) * 2


def shared(x):
    return x * x
''',
}


# ----------------------------------------------------------------------------------------------------------------------
# The ceiling: billed usage never exceeds the budget


@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("budget", BUDGETS)
def test_billed_tokens_never_exceed_the_budget_and_what_does_not_fit_is_skipped_for_budget(
    budget: int, concurrency: int, weatherkit: Callable[[], griffe.Module], tmp_path: Path, emulator: AzureEmulator
) -> None:
    build = run_build(weatherkit(), tmp_path / "cache", emulator, token_budget=budget, concurrency=concurrency)

    assert build.billed <= budget
    assert build.billed == build.session.ledger.spent == build.report.totals.total_tokens
    assert sum(o.total_tokens for o in build.outcomes) == build.billed
    assert build.requests == build.report.totals.requests == sum(o.requests for o in build.outcomes)
    assert len(build.outcomes) == WEATHERKIT_OBJECTS
    assert build.paths("failed") == set()
    skipped = [o for o in build.outcomes if o.status == "skipped"]
    assert {o.reason for o in skipped} <= {"budget"}
    assert len(build.paths("generated")) + len(skipped) == WEATHERKIT_OBJECTS
    assert build.report.totals.budget == budget
    assert build.report.totals.budget_remaining == budget - build.billed
    if budget <= 2000:  # less than any object's worst case: nothing is even sent
        assert build.requests == 0
    if budget == 10**6:
        assert skipped == []
        assert build.session.ledger.refused == 0


def test_long_answers_are_cut_at_max_completion_tokens_and_the_budget_still_holds(
    weatherkit: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    def verbose(body: dict[str, Any]) -> str:
        return "word " * 5000  # far more than any output cap

    budget, cap = 20_000, 300
    with AzureEmulator(api_key=TEST_KEY, answer=verbose) as emu:
        build = run_build(
            weatherkit(), tmp_path / "cache", emu, token_budget=budget, concurrency=8, max_completion_tokens=cap
        )
        answered = [r for r in emu.requests if r.status == 200 and r.usage]
        completions = [(r.usage["completion_tokens"], r.body["max_tokens"]) for r in answered]

    assert completions, "some requests should fit the budget"
    assert all(billed == sent_cap <= cap for billed, sent_cap in completions), (
        "every answer runs into its request's cap (a first answer's may be lower) and is billed exactly that"
    )
    assert cap in {sent_cap for _, sent_cap in completions}  # the retries get the whole max_completion_tokens
    assert build.billed <= budget
    assert build.billed == build.session.ledger.spent
    assert build.paths("generated") == set()
    for outcome in build.outcomes:
        assert (outcome.status, outcome.reason.split(":")[0]) in {("failed", "truncated"), ("skipped", "budget")}


def test_a_request_whose_worst_case_does_not_fit_is_never_sent(tmp_path: Path, emulator: AzureEmulator) -> None:
    with griffe.temporary_visited_package("single", SINGLE) as package:
        probe = run_build(package, tmp_path / "probe", emulator)
    [request] = emulator.requests
    reservation = request_reservation(probe.session, request.body)
    assert reservation > probe.billed

    with griffe.temporary_visited_package("single", SINGLE) as package:
        short = run_build(package, tmp_path / "short", emulator, token_budget=reservation - 1)
    assert short.requests == 0
    assert [(o.status, o.reason) for o in short.outcomes] == [("skipped", "budget")]

    with griffe.temporary_visited_package("single", SINGLE) as package:
        exact = run_build(package, tmp_path / "exact", emulator, token_budget=reservation)
    assert exact.requests == 1
    assert exact.paths("generated") == {"single.clamp"}
    assert exact.billed == probe.billed
    assert exact.report.totals.budget_remaining == reservation - probe.billed


# ----------------------------------------------------------------------------------------------------------------------
# Priorities under a short budget


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_short_budget_goes_to_the_exported_functions_first(
    concurrency: int, tmp_path: Path, emulator: AzureEmulator
) -> None:
    exported = {"prio._impl.exported_one", "prio._impl.exported_two"}
    with griffe.temporary_visited_package("prio", PRIORITY) as package:
        probe = run_build(package, tmp_path / "probe", emulator, concurrency=1)
    billed = {o.canonical_path or o.path: o.total_tokens for o in probe.outcomes}
    reservations = {}
    for request in emulator.requests:
        path = next(p for p in billed if p in request.body["messages"][-1]["content"])
        reservations[path] = request_reservation(probe.session, request.body)
    assert "prio._impl.helper" not in billed, "objects of private modules that nothing exports are not documented"
    others = set(billed) - exported
    assert others >= {"prio.unexported_top", "prio.extras.public_extra", "prio.extras.Table.render"}
    biggest_exported = max(reservations[path] for path in exported)
    assert min(reservations[path] for path in others) > biggest_exported, "test design: the others reserve more"

    # The two exported functions fit one after the other; then nothing else fits.
    budget = sum(billed[path] for path in exported) + biggest_exported
    with griffe.temporary_visited_package("prio", PRIORITY) as package:
        build = run_build(package, tmp_path / "cache", emulator, token_budget=budget, concurrency=concurrency)

    assert build.paths("generated") == exported
    skipped = {(o.canonical_path or o.path, o.reason) for o in build.outcomes if o.status == "skipped"}
    assert skipped == {(p, "budget") for p in others}
    assert build.billed <= budget


def test_among_exported_functions_the_most_referenced_comes_first(tmp_path: Path, emulator: AzureEmulator) -> None:
    with griffe.temporary_visited_package("popular", POPULAR) as package:
        probe = run_build(package, tmp_path / "probe", emulator, concurrency=1)
    billed = {o.path: o.total_tokens for o in probe.outcomes}
    reservations = {}
    for request in emulator.requests:
        path = next(p for p in billed if p in request.body["messages"][-1]["content"])
        reservations[path] = request_reservation(probe.session, request.body)
    budget = reservations["popular.shared"]
    for path in set(billed) - {"popular.shared"}:
        assert billed["popular.shared"] + reservations[path] > budget, "test design: only one object fits"

    with griffe.temporary_visited_package("popular", POPULAR) as package:
        build = run_build(package, tmp_path / "cache", emulator, token_budget=budget, concurrency=1)

    assert build.paths("generated") == {"popular.shared"}, "`lonely` comes first in the file but nothing calls it"


# ----------------------------------------------------------------------------------------------------------------------
# Alerts and final figures


def test_budget_alerts_are_logged_once_each_at_50_80_and_100_percent(
    load: Callable[..., griffe.Module], tmp_path: Path, emulator: AzureEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    # Forty alike functions: each worst case (about 2,500 tokens) is a small share of the whole, so spending passes 80% before the
    # first worst case stops fitting; a budget of exactly the whole build runs out before the end (reservations
    # are worst cases, answers bill less).
    package = many_functions(40)
    functions = {"include": ["pkg.funcs.*"]}  # not the module: its prompt quotes them all
    whole = run_build(load(package), tmp_path / "probe", emulator, concurrency=8, **functions).billed
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    budget = whole
    build = run_build(load(package), tmp_path / "cache", emulator, token_budget=budget, concurrency=1, **functions)

    assert build.paths("skipped"), "test design: the budget runs out"
    logged = alerts(caplog)
    assert [threshold for threshold, _, _ in logged] == [50, 80, 100]
    for threshold, spent, total in logged[:2]:
        assert total == budget
        assert spent >= budget * threshold / 100
    final = [r.getMessage() for r in caplog.records if "100%" in r.getMessage()]
    assert "skipped" in final[0]


def test_budget_alerts_come_in_ascending_order_and_never_overstate_the_spending(
    weatherkit: Callable[[], griffe.Module], tmp_path: Path, emulator: AzureEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    budget = 20_000
    run_build(weatherkit(), tmp_path / "cache", emulator, token_budget=budget, concurrency=1)

    logged = alerts(caplog)
    thresholds = [threshold for threshold, _, _ in logged]
    assert thresholds == sorted(set(thresholds))
    for threshold, spent, _ in logged:
        if threshold < 100:  # the 100% alert is the exhaustion alert: the next worst case no longer fits
            assert spent >= budget * threshold / 100, f"'{threshold}% used' logged with {spent} of {budget} spent"


def test_report_and_summary_give_tokens_cost_and_remaining_budget(
    weatherkit: Callable[[], griffe.Module], tmp_path: Path, emulator: AzureEmulator
) -> None:
    budget = 100_000
    build = run_build(weatherkit(), tmp_path / "cache", emulator, token_budget=budget, concurrency=8)
    totals = build.report.to_dict()["totals"]

    assert totals["total_tokens"] == build.billed == totals["prompt_tokens"] + totals["completion_tokens"]
    assert totals["prompt_tokens"] == emulator.billed_prompt_tokens
    assert totals["completion_tokens"] == emulator.billed_completion_tokens
    assert totals["budget"] == budget
    assert totals["budget_remaining"] == budget - build.billed
    expected = estimate_cost(
        price_for("gpt-4o-mini"),
        prompt_tokens=emulator.billed_prompt_tokens,
        completion_tokens=emulator.billed_completion_tokens,
    )
    assert totals["cost"] == pytest.approx(expected)
    assert totals["cost"] > 0
    summary = build.report.summary()
    assert f"= {build.billed} tokens" in summary
    assert f"cost ${expected:.4f}" in summary
    assert f"budget {budget} ({budget - build.billed} left)" in summary


def test_an_unknown_model_price_makes_the_cost_unknown_never_zero(
    weatherkit: Callable[[], griffe.Module], tmp_path: Path, emulator: AzureEmulator
) -> None:
    build = run_build(weatherkit(), tmp_path / "cache", emulator, model="acme-docs-llm", concurrency=8)

    assert len(build.paths("generated")) == WEATHERKIT_OBJECTS
    assert build.billed > 0
    report = build.report.to_dict()
    assert report["model"] == "acme-docs-llm"
    assert report["totals"]["cost"] is None
    assert all(o["cost"] is None for o in report["objects"])
    assert "cost unknown" in build.report.summary()
    assert "$0.0000" not in build.report.summary()


# ----------------------------------------------------------------------------------------------------------------------
# Cache


def test_cached_answers_cost_zero_and_need_no_budget(
    weatherkit: Callable[[], griffe.Module], tmp_path: Path, emulator: AzureEmulator
) -> None:
    first = run_build(weatherkit(), tmp_path / "cache", emulator, token_budget=10**6, concurrency=8)
    assert len(first.paths("generated")) == WEATHERKIT_OBJECTS

    second = run_build(weatherkit(), tmp_path / "cache", emulator, token_budget=0, concurrency=8)

    assert second.requests == 0
    assert len(second.paths("cached")) == WEATHERKIT_OBJECTS
    totals = second.report.to_dict()["totals"]
    assert (totals["requests"], totals["prompt_tokens"], totals["completion_tokens"]) == (0, 0, 0)
    assert totals["total_tokens"] == 0
    assert totals["cost"] == 0
    assert totals["budget_remaining"] == 0
    assert totals["cache_hits"] == WEATHERKIT_OBJECTS
    for outcome in second.outcomes:
        assert (outcome.total_tokens, outcome.requests, outcome.cost) == (0, 0, 0)


# ----------------------------------------------------------------------------------------------------------------------
# The ledger


def test_ledger_reserves_the_worst_case_and_keeps_only_what_was_billed() -> None:
    ledger = TokenLedger(1000)
    first = ledger.try_reserve(600)
    assert first is not None
    assert (ledger.spent, ledger.reserved, ledger.remaining) == (0, 600, 400)
    assert ledger.try_reserve(401) is None, "spent + reserved + request must stay within the budget"
    second = ledger.try_reserve(400)
    assert second is not None and ledger.remaining == 0

    ledger.settle(first, 250)
    assert (ledger.spent, ledger.reserved, ledger.remaining) == (250, 400, 350)
    ledger.settle(first, 250)
    assert ledger.spent == 250, "settling twice counts once"

    ledger.release(second)
    assert (ledger.spent, ledger.reserved, ledger.remaining) == (250, 0, 750)

    timed_out = ledger.try_reserve(700)
    assert timed_out is not None
    ledger.settle(timed_out, None)
    assert ledger.spent == 950, "unknown usage (timeout, disconnect) keeps the whole reservation as spent"
    assert ledger.remaining == 50


def test_ledger_without_budget_reserves_anything_and_reports_no_remaining() -> None:
    ledger = TokenLedger(None)
    reservation = ledger.try_reserve(10**9)
    assert reservation is not None
    ledger.settle(reservation, 123)
    assert ledger.spent == 123
    assert ledger.remaining is None


def test_ledger_waits_while_an_open_reservation_may_free_room_and_refuses_hopeless_requests() -> None:
    async def scenario() -> None:
        ledger = TokenLedger(1000)
        assert await ledger.reserve(1001) is None, "never fits: refused at once"
        open_ = ledger.try_reserve(800)
        assert open_ is not None
        waiting = asyncio.create_task(ledger.reserve(500))
        await asyncio.sleep(0.05)
        assert not waiting.done(), "500 may fit once the open reservation settles"
        ledger.settle(open_, 300)
        granted = await asyncio.wait_for(waiting, 1)
        assert granted is not None
        assert (ledger.spent, ledger.reserved) == (300, 500)
        hoping = asyncio.create_task(ledger.reserve(201))
        await asyncio.sleep(0.05)
        assert not hoping.done(), "300 spent + 201 fits once the open 500 settles for less"
        ledger.settle(granted, 500)
        assert await asyncio.wait_for(hoping, 1) is None, "800 spent + 201 > 1000 and nothing is open: hopeless"
        assert ledger.refused == 2

    asyncio.run(scenario())


def test_ledger_under_concurrent_tasks_never_lets_spent_plus_reserved_exceed_the_budget() -> None:
    budget = 5000
    rng = random.Random(7)
    ledger = TokenLedger(budget)
    worst: list[int] = []
    granted: list[int] = []

    async def request(size: int, billed: int, latency: float) -> None:
        reservation = await ledger.reserve(size)
        worst.append(ledger.spent + ledger.reserved)
        if reservation is None:
            return
        await asyncio.sleep(latency)
        if billed < 0:
            ledger.release(reservation)  # an HTTP error: nothing billed
        else:
            ledger.settle(reservation, billed)
            granted.append(billed)
        worst.append(ledger.spent + ledger.reserved)

    async def scenario() -> None:
        tasks = []
        for _ in range(300):
            size = rng.randint(50, 900)
            billed = rng.choice([-1, rng.randint(0, size), size])
            tasks.append(request(size, billed, rng.random() * 0.01))
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    assert max(worst) <= budget
    assert ledger.spent == sum(granted) <= budget
    assert ledger.reserved == 0
    assert len(granted) > 5 and ledger.refused > 0


def test_ledger_alerts_once_per_threshold(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    ledger = TokenLedger(1000)
    for billed in (300, 250, 100, 200, 100):  # spent: 300, 550, 650, 850, 950
        reservation = ledger.try_reserve(billed)
        assert reservation is not None
        ledger.settle(reservation, billed)
    assert asyncio.run(ledger.reserve(100)) is None
    assert asyncio.run(ledger.reserve(100)) is None
    assert alerts(caplog) == [(50, 550, 1000), (80, 850, 1000), (100, 950, 1000)]  # the last is the exhaustion


# ----------------------------------------------------------------------------------------------------------------------
# Plan mode


@pytest.mark.parametrize("which", ["weatherkit", "tiny"])
def test_plan_estimate_is_within_15_percent_of_what_the_build_then_bills(
    which: str, weatherkit: Callable[[], griffe.Module], tmp_path: Path, emulator: AzureEmulator
) -> None:
    def package() -> AbstractContextManager[griffe.Module]:
        if which == "weatherkit":
            return nullcontext(weatherkit())
        return griffe.temporary_visited_package("tiny", TINY)

    with package() as loaded:
        plan = run_build(loaded, tmp_path / "cache", emulator, dry_run=True, concurrency=8)
    assert plan.requests == 0, "plan mode sends nothing, even with credentials"
    assert plan.report.dry_run
    assert all(o.status == Status.PLANNED and o.reason is None for o in plan.outcomes)
    assert all((o.estimated_tokens or 0) > 0 and (o.cost or 0) > 0 for o in plan.outcomes)
    assert plan.report.totals.total_tokens == 0

    with package() as loaded:
        real = run_build(loaded, tmp_path / "cache", emulator, concurrency=8)
    assert real.paths("generated") == {o.canonical_path or o.path for o in plan.outcomes}

    estimate = plan.planned_tokens()
    assert abs(estimate - real.billed) <= PLAN_TOLERANCE * real.billed, (
        f"plan {estimate} vs billed {real.billed}: {estimate / real.billed - 1:+.1%}"
    )


def test_plan_against_a_budget_leaves_out_what_would_not_fit(
    weatherkit: Callable[[], griffe.Module], tmp_path: Path
) -> None:
    budget = 10_000
    plan = run_build(weatherkit(), tmp_path / "cache", None, dry_run=True, token_budget=budget)

    planned = [o for o in plan.outcomes if o.status == Status.PLANNED]
    left_out = [o for o in plan.outcomes if o.reason == "budget"]
    assert planned and left_out
    assert len(planned) + len(left_out) == WEATHERKIT_OBJECTS
    assert plan.planned_tokens() <= budget
    assert all(o.estimated_tokens for o in left_out), "left-out objects still show their estimate"


def test_under_a_short_budget_the_build_generates_what_the_plan_lists(
    weatherkit: Callable[[], griffe.Module], tmp_path: Path, emulator: AzureEmulator
) -> None:
    budget = 12_000
    plan = run_build(weatherkit(), tmp_path / "plan", emulator, dry_run=True, token_budget=budget, concurrency=8)
    real = run_build(weatherkit(), tmp_path / "real", emulator, token_budget=budget, concurrency=8)

    listed = plan.paths(Status.PLANNED)
    generated = real.paths(Status.GENERATED)
    assert 0 < len(listed) < WEATHERKIT_OBJECTS, "test design: the budget covers some objects, not all"
    assert listed <= generated, f"listed but not generated: {sorted(listed - generated)}"
    extra = generated - listed
    assert len(extra) * 5 <= len(generated), f"generated but not listed: {sorted(extra)}"
    assert real.billed <= budget


def test_plan_command_prints_a_table_and_a_total_and_sends_nothing(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = tmp_path / "site-copy"
    shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("site", ".cache", "__pycache__"))
    env = build_env(emulator, tmp_path)  # credentials are there: the plan must still not use them
    env.update({"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"})
    temp = tmp_path / "temp"
    temp.mkdir()
    env["TMPDIR"] = str(temp)
    script = Path(sys.executable).with_name("mkdocs-ai-docstrings")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mkdocs_ai_docstrings._internal.cli"]

    completed = subprocess.run(
        [*command, "plan", "-f", str(site / "mkdocs.yml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert emulator.requests == []
    assert list(temp.iterdir()) == []  # the plan's temporary site is gone, report and all
    lines = completed.stdout.splitlines()
    assert re.match(r"^object\s+kind\s+est\. tokens\s+status$", lines[0])
    rows = [line for line in lines[1:] if line.startswith("weatherkit")]
    assert len(rows) == WEATHERKIT_OBJECTS
    assert all(line.endswith("generate") for line in rows)
    total = re.search(
        r"Plan for model gpt-4o-mini: (\d+) to generate \(~(\d+) tokens, \$(\d+\.\d{4})\), 0 cached \(free\), "
        r"0 left out by the budget 200000\.",
        completed.stdout,
    )
    assert total, completed.stdout
    assert int(total[1]) == WEATHERKIT_OBJECTS
    assert int(total[2]) == sum(int(line.split()[-2]) for line in rows)
    assert float(total[3]) > 0


def test_the_plan_counts_the_example_request_of_each_function_and_class(
    weatherkit: Callable[[], griffe.Module], tmp_path: Path, emulator: AzureEmulator
) -> None:
    package = weatherkit()
    without = run_build(weatherkit(), tmp_path / "a", dry_run=True)
    planned = run_build(weatherkit(), tmp_path / "b", dry_run=True, examples=True)
    estimates = {o.path: o.estimated_tokens or 0 for o in without.outcomes}
    grown = {o.path for o in planned.outcomes if (o.estimated_tokens or 0) > estimates[o.path]}

    def has_public_method(path: str) -> bool:
        return any(
            m.is_function and not m.name.startswith("_") for m in package[path.split(".", 1)[1]].members.values()
        )

    functions = {o.path for o in planned.outcomes if o.kind in ("function", "method")}
    classes = {o.path for o in planned.outcomes if o.kind == "class"}
    lone_classes = {path for path in classes if not has_public_method(path)}
    assert lone_classes and lone_classes != classes  # the fixture has classes of both kinds
    # exactly the objects that get an example request: functions, methods, and the classes without a public method
    # (a public method's example makes the instance itself)
    assert grown == functions | lone_classes

    built = run_build(weatherkit(), tmp_path / "c", emulator, examples=True)
    assert built.paths("generated") == planned.paths("planned")
    assert built.billed <= planned.planned_tokens() * 1.1  # the estimate is not far under what is billed
