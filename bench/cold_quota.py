"""A cold build under a quota the client learns: no `rpm`/`tpm` configured, only the server's headers and 429s.

Generates a synthetic package of N undocumented functions, starts `tests.emulator.AzureEmulator` with an RPM/TPM
quota over a sliding window (it answers with `x-ratelimit-*` headers, and with 429 + `retry-after` when over quota),
and runs one cold generation whose settings name no quota: the limiter adopts what the headers say. It prints
`key: value` lines, among them the elapsed time over the quota's floor,

    floor = max(requests / rpm, charged tokens / tpm) * 60

(charged tokens: prompt tokens + `max_tokens` of each answered request, as Azure charges them up front), and the share
of 429 answers. Targets: `ratio` at most 1.10 and `share_429` under 0.02.

Usage:
    python bench/cold_quota.py [--objects 150] [--rpm 600] [--tpm 400000] [--window 60] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import griffe  # noqa: E402

from bench.throughput import write_package  # noqa: E402
from mkdocs_ai_docstrings._internal.discovery import discover  # noqa: E402
from mkdocs_ai_docstrings._internal.generator import fill  # noqa: E402
from mkdocs_ai_docstrings._internal.session import BuildSession  # noqa: E402
from mkdocs_ai_docstrings._internal.settings import Settings  # noqa: E402
from tests.emulator import AzureEmulator, count_prompt_tokens  # noqa: E402

API_KEY = "bench-key"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=150, help="functions to document (default 150)")
    parser.add_argument("--rpm", type=float, default=600, help="the server's requests per minute (default 600)")
    parser.add_argument("--tpm", type=float, default=400_000, help="the server's tokens per minute (default 400000)")
    parser.add_argument("--latency", type=float, default=0.05, help="emulated seconds per request (default 0.05)")
    parser.add_argument(
        "--window", type=float, default=60.0, help="the emulator's sliding quota window in seconds (default 60)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client concurrency (default 8)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ai-docstrings-cold-") as tmp:
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
        options = {"cache_dir": str(Path(tmp) / "cache"), "concurrency": args.concurrency, "run_examples": False}
        with emulator:
            settings = Settings.from_options(options)
            session = BuildSession(
                settings, environ={"AZURE_OPENAI_ENDPOINT": emulator.url, "AZURE_OPENAI_API_KEY": API_KEY}
            )
            candidates = discover(package, settings)
            started = time.monotonic()
            session.run(fill(session, package, candidates))
            elapsed = time.monotonic() - started
            report = session.finish()
            records = list(emulator.requests)

    statuses = Counter(record.status for record in records)
    answered = [record for record in records if record.status == 200]
    charged = sum(
        count_prompt_tokens(record.body) + (record.body.get("max_completion_tokens") or record.body["max_tokens"])
        for record in answered
    )
    floor = max(len(answered) / args.rpm * 60, charged / args.tpm * 60)
    throttled = statuses.get(429, 0)
    counts = report.counts()
    results = {
        "objects": len(candidates),
        "quota_window_s": args.window,
        "server_rpm": args.rpm,
        "server_tpm": args.tpm,
        "learned_rpm": session.limiter.rpm,
        "learned_tpm": session.limiter.tpm,
        "elapsed_s": round(elapsed, 2),
        "floor_requests_s": round(len(answered) / args.rpm * 60, 2),
        "floor_tokens_s": round(charged / args.tpm * 60, 2),
        "floor_s": round(floor, 2),
        "ratio": round(elapsed / floor, 3) if floor else None,
        "requests": len(records),
        "requests_429": throttled,
        "share_429": round(throttled / len(records), 4) if records else 0.0,
        "generated": counts["generated"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "limiter_waits": session.limiter.stats.waits,
        "limiter_wait_s": round(session.limiter.stats.total_wait_seconds, 1),
        "limiter_pauses": session.limiter.stats.pauses,
        "token_counter": report.token_counter,
    }
    for key, value in results.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
