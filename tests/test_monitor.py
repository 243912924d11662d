"""Monitoring: per-attempt latency, figures per module, and the call log, against the emulator with faults."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import statistics
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import griffe
import pytest
from google.protobuf import json_format
from opentelemetry.proto.logs.v1.logs_pb2 import LogsData

from mkdocs_ai_docstrings._internal import retry as retry_module
from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.monitor import CALL_LOG_VARIABLE, percentile_pair
from mkdocs_ai_docstrings._internal.report import BuildReport
from mkdocs_ai_docstrings._internal.retry import RetryPolicy
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from tests.conftest import build, build_env, make_site
from tests.emulator import AzureEmulator
from tests.test_build import TINY_PACKAGE, TINY_PAGES

API_KEY = "sk-test-monitor-0123456789abcdef0123456789"
"""A distinctive key, easy to look for in the call log."""

PACKAGE = {
    "__init__.py": '"""A package to document."""\n',
    "alpha.py": textwrap.dedent(
        '''\
        """Alpha helpers."""


        def add(first: int, second: int) -> int:
            return first + second


        def twice(value: int) -> int:
            return value * 2


        def negate(value: int) -> int:
            return -value
        '''
    ),
    "beta.py": textwrap.dedent(
        '''\
        """Beta helpers."""


        def shout(text: str) -> str:
            return text.upper()


        def whisper(text: str) -> str:
            return text.lower()
        '''
    ),
}
FAULTS = ("429", "ok", "500", "ok", "trickle", "ok", "bad_body", "ok")
"""One object each: a 429 (retry-after 200 ms) then ok, a 500 then ok, a trickled body cut by request_timeout then
ok, an unreadable 200 (the object fails), and a clean ok."""


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_module, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.02, max_delay=0.05))


@pytest.fixture
def emu() -> Iterator[AzureEmulator]:
    with AzureEmulator(api_key=API_KEY, seed=3) as emulator:
        yield emulator


@pytest.fixture
def load() -> Iterator[Callable[[], griffe.Module]]:
    """Load a fresh copy of `PACKAGE` (a build attaches docstrings to the objects it loads)."""
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(griffe.temporary_visited_package("pkg", PACKAGE))


def run_build(
    pkg: griffe.Module, emu: AzureEmulator, folder: Path, environ: dict[str, str] | None = None, **options: Any
) -> tuple[BuildReport, BuildSession]:
    settings = Settings.from_options(
        {"cache_dir": str(folder / "cache"), "request_timeout": 1.0, "concurrency": 1, "examples": False, **options}
    )
    env = {"AZURE_OPENAI_ENDPOINT": emu.url, "AZURE_OPENAI_API_KEY": API_KEY, **(environ or {})}
    session = BuildSession(settings, environ=env, base_dir=folder, config_dir=folder)
    fill(session, pkg, discover(pkg, session.settings))
    return session.finish(), session


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every log record of the call log, its attributes as a plain mapping."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        json_format.Parse(line, LogsData())  # the collector's otlpjsonfile receiver reads exactly this message
        [resource_logs] = data["resourceLogs"]
        [scope_logs] = resource_logs["scopeLogs"]
        assert scope_logs["scope"]["name"] == "mkdocs-ai-docstrings"
        for record in scope_logs["logRecords"]:
            attributes = {item["key"]: next(iter(item["value"].values())) for item in record["attributes"]}
            records.append({**record, "attrs": attributes})
    return records


def total(records: list[dict[str, Any]], name: str) -> int:
    return sum(int(record["attrs"].get(name, 0)) for record in records)


def test_the_call_log_has_one_line_per_http_attempt_and_its_sums_equal_the_reports_totals(
    load: Callable[[], griffe.Module], emu: AzureEmulator, tmp_path: Path
) -> None:
    emu.script(*FAULTS)
    report, _ = run_build(load(), emu, tmp_path, call_log="calls.jsonl")
    totals = report.totals
    records = read_log(tmp_path / "calls.jsonl")

    assert len(records) == totals.requests == len(emu.requests) == len(FAULTS)
    outcomes = Counter(record["attrs"]["ai_docstrings.outcome"] for record in records)
    assert outcomes == {"ok": 4, "rate_limited": 1, "server_error": 1, "timeout": 1, "invalid_answer": 1}
    assert outcomes["rate_limited"] == totals.rate_limited == emu.count(429)
    assert outcomes["timeout"] == totals.timeouts
    assert sum(1 for record in records if int(record["attrs"]["ai_docstrings.retry"]) > 0) == totals.retries == 3
    assert total(records, "gen_ai.usage.input_tokens") == totals.prompt_tokens > 0
    assert total(records, "gen_ai.usage.output_tokens") == totals.completion_tokens > 0
    assert totals.prompt_tokens + totals.completion_tokens == totals.total_tokens
    assert [int(r["attrs"].get("http.response.status_code", 0)) for r in records].count(200) == 5  # bad_body's too
    by_object = Counter(record["attrs"]["ai_docstrings.object"] for record in records)
    assert by_object == {outcome.path: outcome.requests for outcome in report.outcomes.values() if outcome.requests}
    assert all(len(record["attrs"]["ai_docstrings.cache_key"]) == 64 for record in records)
    assert {record["attrs"]["gen_ai.request.model"] for record in records} == {"gpt-4o-mini"}
    for record in records:
        ok = record["attrs"]["ai_docstrings.outcome"] == "ok"
        assert (record["severityText"], "error.type" in record["attrs"]) == (("INFO", False) if ok else ("WARN", True))

    text = (tmp_path / "calls.jsonl").read_text(encoding="utf-8")
    assert API_KEY not in text and "api-key" not in text.lower() and "authorization" not in text.lower()
    assert "gen_ai.input.messages" not in text and "Target:" not in text, "no prompt text unless asked"


def test_the_report_has_latency_percentiles_the_cache_hit_rate_and_tokens_and_cost_per_module(
    load: Callable[[], griffe.Module], emu: AzureEmulator, tmp_path: Path
) -> None:
    emu.script(*FAULTS)
    report, _ = run_build(load(), emu, tmp_path, call_log="calls.jsonl", lock_file=False)
    records = read_log(tmp_path / "calls.jsonl")
    latencies = [float(record["attrs"]["ai_docstrings.latency_s"]) for record in records]
    totals = report.totals

    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    assert totals.latency_p50_s == pytest.approx(cuts[49], abs=0.002)
    assert totals.latency_p95_s == pytest.approx(cuts[94], abs=0.002)
    assert max(latencies) >= 1.0, "the trickled attempt ran until request_timeout"
    assert totals.cache_hit_rate == 0.0

    modules = report.to_dict()["modules"]
    assert set(modules) == {"pkg.alpha", "pkg.beta"}
    assert sum(m["total_tokens"] for m in modules.values()) == totals.total_tokens
    assert sum(m["requests"] for m in modules.values()) == totals.requests
    assert sum(m["cost"] for m in modules.values()) == pytest.approx(totals.cost)
    for name, figures in modules.items():
        mine = [record for record in records if record["attrs"]["ai_docstrings.module"] == name]
        assert figures["requests"] == len(mine)
        assert figures["prompt_tokens"] == total(mine, "gen_ai.usage.input_tokens")

    summary = report.summary()
    assert f"Latency per attempt p50 {totals.latency_p50_s:.2f} s, p95 {totals.latency_p95_s:.2f} s" in summary
    assert "Tokens by module: pkg." in summary

    warm, _ = run_build(load(), emu, tmp_path, lock_file=False)  # the same cache: all but the failed answer
    looked_up = warm.totals.cache_hits + warm.totals.cache_misses
    assert warm.totals.cache_hit_rate == pytest.approx(warm.totals.cache_hits / looked_up) == pytest.approx(0.8)
    assert warm.totals.requests == 1 and warm.totals.latency_p50_s == warm.totals.latency_p95_s  # one attempt


def test_prompts_are_logged_only_when_asked_and_are_exactly_what_was_sent(
    load: Callable[[], griffe.Module], emu: AzureEmulator, tmp_path: Path
) -> None:
    run_build(load(), emu, tmp_path, call_log="calls.jsonl", call_log_prompts=True)
    records = read_log(tmp_path / "calls.jsonl")

    sent = sorted(json.dumps(request.body["messages"], ensure_ascii=False) for request in emu.requests)
    logged = sorted(record["attrs"]["gen_ai.input.messages"] for record in records)
    assert logged == sent and len(logged) == 5
    assert API_KEY not in (tmp_path / "calls.jsonl").read_text(encoding="utf-8")


def test_the_environment_names_the_call_log_relative_to_the_config_folder_and_a_bad_path_only_warns(
    load: Callable[[], griffe.Module], emu: AzureEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_build(load(), emu, tmp_path, environ={CALL_LOG_VARIABLE: "logs/calls.jsonl"})
    assert len(read_log(tmp_path / "logs" / "calls.jsonl")) == 5

    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report, _ = run_build(load(), emu, tmp_path / "again", call_log=str(tmp_path / "file" / "calls.jsonl"))
    warnings = [record.getMessage() for record in caplog.records if "call log" in record.getMessage()]
    assert len(warnings) == 1 and "no call log this build" in warnings[0]
    assert report.counts()["generated"] == 5


def test_percentiles_come_from_the_standard_library_and_stay_within_the_measured_range() -> None:
    assert percentile_pair([]) == (None, None)
    assert percentile_pair([0.3]) == (0.3, 0.3)
    p50, p95 = percentile_pair([float(value) for value in range(1, 101)])
    assert (p50, p95) == (pytest.approx(50.5), pytest.approx(95.05))
    assert percentile_pair([0.1, 5.0]) == (pytest.approx(2.55), pytest.approx(4.755))


def test_a_real_build_with_only_the_extension_writes_the_call_log_beside_its_config_file(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = make_site(
        tmp_path / "root",
        TINY_PACKAGE,
        TINY_PAGES,
        handler_options={"extensions": [{"mkdocs_ai_docstrings": {"call_log": "logs/calls.jsonl"}}]},
        plugins_order=("mkdocstrings",),
    )
    emulator.script("429", "500")
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode == 0, result.output
    assert result.report is not None, result.output
    totals = result.report["totals"]
    records = read_log(site.root / "logs" / "calls.jsonl")

    assert len(records) == totals["requests"] == result.requests
    assert (
        total(records, "gen_ai.usage.input_tokens") + total(records, "gen_ai.usage.output_tokens")
        == (totals["total_tokens"])
    )
    outcomes = Counter(record["attrs"]["ai_docstrings.outcome"] for record in records)
    assert (outcomes["rate_limited"], outcomes["server_error"]) == (totals["rate_limited"], totals["server_errors"])
    assert (outcomes["rate_limited"], outcomes["server_error"]) == (1, 1)
    assert "Latency per attempt p50" in result.output
