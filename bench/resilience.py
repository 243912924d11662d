"""Measure the network-fault figures of docs/resilience.md: unreachable endpoint, trickling server, a server whose
tokenizer counts 1.4x, and a two-slot server at concurrency 4. Prints one line per scenario.

Run: `PYTHONPATH=. .venv/bin/python bench/resilience.py` (about a minute).
"""

from __future__ import annotations

import socket
import tempfile
import time
from typing import Any

import griffe

from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from tests.emulator import AzureEmulator
from tests.test_faults import many_functions

KEY = "bench-key-0123456789"


def run(url: str, count: int, emu: AzureEmulator | None = None, **options: Any) -> dict[str, Any]:
    settings = Settings.from_options({"cache_dir": tempfile.mkdtemp(), "include": ["pkg.funcs.*"], **options})
    with griffe.temporary_visited_package("pkg", many_functions(count)) as pkg:
        session = BuildSession(settings, environ={"AZURE_OPENAI_ENDPOINT": url, "AZURE_OPENAI_API_KEY": KEY})
        started = time.monotonic()
        fill(session, pkg, discover(pkg, session.settings))
        report = session.finish()
        elapsed = time.monotonic() - started
    totals = report.totals
    reasons = sorted({(o.reason or "").split(":")[0] for o in report.outcomes.values() if o.reason})
    return {
        "wall_s": round(elapsed, 1),
        "requests": totals.requests,
        "tokens": totals.total_tokens,
        "possibly_billed": getattr(totals, "possibly_billed_tokens", "n/a"),
        "generated": report.counts()["generated"],
        "timeouts": totals.timeouts,
        "reasons": reasons,
        "server_billed": emu.billed_total_tokens if emu is not None else 0,
    }


def main() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    print("unreachable  ", run(f"http://127.0.0.1:{port}", 20, token_budget=200000))
    with AzureEmulator(api_key=KEY, fault_rates={"trickle": 1.0}) as emu:
        print("trickle      ", run(emu.url, 10, emu, request_timeout=3.0))
    with AzureEmulator(api_key=KEY, prompt_token_factor=1.4) as emu:
        print("tokenizer1.4 ", run(emu.url, 30, emu, model="gpt-4", token_budget=8000, max_completion_tokens=120))
    with AzureEmulator(api_key=KEY, slots=2, latency=0.5) as emu:
        print("slots=2      ", run(emu.url, 24, emu, request_timeout=0.8, concurrency=4))
    # Moved from the tests (which now assert what happened, not how long it took):
    with AzureEmulator(api_key=KEY, fault_rates={"hang": 1.0}) as emu:
        print("hang+deadline", run(emu.url, 6, emu, request_timeout=1.0))
    with AzureEmulator(api_key=KEY, latency=0.3, fault_rates={"hang": 1.0}) as emu:
        print("build_timeout", run(emu.url, 4, emu, request_timeout=30.0, build_timeout=1.5))
    with AzureEmulator(api_key=KEY, fault_rates={"429_daily": 1.0}) as emu:
        print("daily_quota  ", run(emu.url, 10, emu, concurrency=4))


if __name__ == "__main__":
    main()
