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
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from bench.throughput import run_under_quota  # noqa: E402


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

    options = {"concurrency": args.concurrency, "run_examples": False}  # no rpm/tpm: learned from the headers
    run = run_under_quota(args, options, "ai-docstrings-cold-")
    session, report, records, elapsed = run.session, run.report, run.records, run.elapsed
    statuses = Counter(record.status for record in records)
    answered = run.answered
    charged = run.charged
    floor = max(len(answered) / args.rpm * 60, charged / args.tpm * 60)
    throttled = statuses.get(429, 0)
    counts = report.counts()
    results = {
        "objects": run.objects,
        "quota_window_s": args.window,
        "server_rpm": args.rpm,
        "server_tpm": args.tpm,
        "learned_rpm": session.stack.limiter.rpm,
        "learned_tpm": session.stack.limiter.tpm,
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
        "limiter_waits": session.stack.limiter.stats.waits,
        "limiter_wait_s": round(session.stack.limiter.stats.total_wait_seconds, 1),
        "limiter_pauses": session.stack.limiter.stats.pauses,
        "token_counter": report.token_counter,
    }
    for key, value in results.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
