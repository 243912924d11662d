"""Throughput of a cold build against a rate-limited (emulated) Azure OpenAI deployment.

Generates a synthetic package of N undocumented functions, starts `tests.emulator.AzureEmulator` with an RPM/TPM
quota, runs one cold generation with the same quota configured client-side (`rpm`, `tpm`, `concurrency`), and
compares the elapsed time with the quota's theoretical minimum:

    max(N / rpm * 60, charged tokens / tpm * 60)

where the charged tokens of a request are what Azure charges up front: its prompt tokens plus `max_tokens`
(taken from the emulator's records). Results are printed as `key: value` lines.

Usage:
    python bench/throughput.py [--objects 200] [--rpm 600] [--tpm 200000] [--latency 0.05] [--window 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import griffe  # noqa: E402

from mkdocs_ai_docstrings._internal.discovery import discover  # noqa: E402
from mkdocs_ai_docstrings._internal.generator import fill  # noqa: E402
from mkdocs_ai_docstrings._internal.report import BuildReport  # noqa: E402
from mkdocs_ai_docstrings._internal.session import BuildSession  # noqa: E402
from mkdocs_ai_docstrings._internal.settings import Settings  # noqa: E402
from tests.emulator import AzureEmulator, RecordedRequest, count_prompt_tokens  # noqa: E402

API_KEY = "bench-key"
FUNCTIONS_PER_MODULE = 50


def write_package(root: Path, objects: int) -> Path:
    """Write package `benchpkg` with `objects` undocumented functions (module and package are documented)."""
    package = root / "benchpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A synthetic package for the throughput benchmark."""\n')
    for start in range(0, objects, FUNCTIONS_PER_MODULE):
        lines = [f'"""Functions {start} to {min(start + FUNCTIONS_PER_MODULE, objects) - 1}."""\n']
        for index in range(start, min(start + FUNCTIONS_PER_MODULE, objects)):
            lines.append(
                f"\n\ndef scale_{index:04d}(values: list[float], factor: float = {index % 7 + 1}.0) -> list[float]:\n"
                f"    if factor <= 0:\n"
                f'        raise ValueError("factor must be positive")\n'
                f"    return [value * factor + {index} for value in values]\n"
            )
        (package / f"part_{start // FUNCTIONS_PER_MODULE:03d}.py").write_text("".join(lines))
    return root


@dataclass
class QuotaRun:
    """One in-process build of a generated package against an emulator enforcing a quota."""

    elapsed: float
    session: BuildSession
    report: BuildReport
    records: list[RecordedRequest]
    objects: int
    billed_total_tokens: int

    @property
    def answered(self) -> list[RecordedRequest]:
        """The requests the emulator answered (and charged against the quota)."""
        return [record for record in self.records if record.status == 200]

    @property
    def charged(self) -> int:
        """Tokens the emulator's quota charged: prompt plus the requested output cap, per answered request."""
        return sum(
            count_prompt_tokens(record.body) + (record.body.get("max_completion_tokens") or record.body["max_tokens"])
            for record in self.answered
        )


def run_under_quota(args: argparse.Namespace, options: dict[str, object], prefix: str) -> QuotaRun:
    """Build `args.objects` functions with `options` against an emulator enforcing `args.rpm`/`args.tpm`."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        source = write_package(Path(tmp) / "src", args.objects)
        package = griffe.load("benchpkg", search_paths=[source])
        scale = args.window / 60.0
        emulator = AzureEmulator(
            api_key=API_KEY,
            latency=args.latency,
            rpm=max(1, round(args.rpm * scale)),
            tpm=max(1, round(args.tpm * scale)),
            quota_window=args.window,
        )
        with emulator:
            settings = Settings.from_options({"cache_dir": str(Path(tmp) / "cache"), **options})
            session = BuildSession(
                settings, environ={"AZURE_OPENAI_ENDPOINT": emulator.url, "AZURE_OPENAI_API_KEY": API_KEY}
            )
            candidates = discover(package, settings)
            started = time.monotonic()
            fill(session, package, candidates)
            elapsed = time.monotonic() - started
            report = session.finish()
            records = list(emulator.requests)
    return QuotaRun(elapsed, session, report, records, len(candidates), emulator.billed_total_tokens)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=200, help="functions to document (default 200)")
    parser.add_argument("--rpm", type=float, default=600, help="requests per minute quota (default 600)")
    parser.add_argument("--tpm", type=float, default=200_000, help="tokens per minute quota (default 200000)")
    parser.add_argument("--latency", type=float, default=0.05, help="emulated seconds per request (default 0.05)")
    parser.add_argument(
        "--window",
        type=float,
        default=60.0,
        choices=(60.0, 10.0),
        help="length of the emulator's sliding quota window in seconds; the quota is scaled to it (default 60)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client concurrency (default 8)")
    parser.add_argument(
        "--max-completion-tokens", type=int, default=None, help="output cap per request (default: the product's)"
    )
    args = parser.parse_args(argv)

    options: dict[str, object] = {"rpm": args.rpm, "tpm": args.tpm, "concurrency": args.concurrency}
    if args.max_completion_tokens is not None:
        options["max_completion_tokens"] = args.max_completion_tokens
    run = run_under_quota(args, options, "ai-docstrings-bench-")
    session, report, records, elapsed = run.session, run.report, run.records, run.elapsed
    statuses = Counter(record.status for record in records)
    charged_records = run.answered
    charged = run.charged
    objects = run.objects
    minimum = max(objects / args.rpm * 60, charged / args.tpm * 60)
    counts = report.counts()
    throttled = statuses.get(429, 0)
    limiter = session.stack.limiter.stats
    results = {
        "objects": objects,
        "quota_window_s": args.window,
        "rpm": args.rpm,
        "tpm": args.tpm,
        "concurrency": args.concurrency,
        "latency_s": args.latency,
        "elapsed_s": round(elapsed, 2),
        "min_time_requests_s": round(objects / args.rpm * 60, 2),
        "min_time_tokens_s": round(charged / args.tpm * 60, 2),
        "theoretical_min_s": round(minimum, 2),
        "ratio": round(elapsed / minimum, 3) if minimum else None,
        "requests": len(records),
        "charged_tokens": charged,
        "charged_tokens_per_request": round(charged / len(charged_records)) if charged_records else 0,
        "billed_tokens": run.billed_total_tokens,
        "ledger_spent_tokens": report.totals.total_tokens,
        "requests_429": throttled,
        "share_429": round(throttled / len(records), 4) if records else 0.0,
        "generated": counts["generated"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "limiter_waits": limiter.waits,
        "limiter_wait_s": round(limiter.total_wait_seconds, 1),
        "token_counter": report.token_counter,
    }
    for key, value in results.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
