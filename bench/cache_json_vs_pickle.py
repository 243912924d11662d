"""Warm-build cost of the JSON-only answer cache versus diskcache's pickle default.

Writes N realistic entries (a summary, parameters, returns, raises, an example) into three caches — diskcache with
its default (pickling) `Disk`, diskcache with `JSONDisk`, and `AnswerCache` (JSON text, validated on every read) —
then times reading all N back, as a warm build does, best of R rounds. Prints `key: value` lines.

Usage: `python bench/cache_json_vs_pickle.py [--entries 500] [--rounds 5]`
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import diskcache  # noqa: E402

from mkdocs_ai_docstrings._internal.cache import AnswerCache  # noqa: E402


def entry(index: int) -> dict[str, object]:
    return {
        "answer": {
            "summary": f"Compute the value number {index} from its inputs and return it.",
            "description": "The inputs are left unchanged. " * 6,
            "parameters": [{"name": f"arg{i}", "description": f"The argument number {i}."} for i in range(4)],
            "returns": {"description": "The computed value."},
            "raises": [{"name": "ValueError", "description": "When an argument is negative."}],
            "examples": f"result = compute({index}, 2)\nassert result > 0",
        },
        "path": f"pkg.module.function_{index}",
        "model": "gpt-4o-mini",
        "repairs": [],
        "created": 1_700_000_000.0,
    }


def best(rounds: int, action: object) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    keys = [f"{index:064x}" for index in range(args.entries)]
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        for name, disk in (("pickle (diskcache default)", diskcache.Disk), ("diskcache JSONDisk", diskcache.JSONDisk)):
            store = diskcache.Cache(str(Path(folder) / name), disk=disk, eviction_policy="none")
            for index, key in enumerate(keys):
                store.set(f"answer:{key}", entry(index))
            results[name] = best(args.rounds, lambda store=store: [store.get(f"answer:{key}") for key in keys])
            store.close()
        cache = AnswerCache(Path(folder) / "answer-cache")
        for index, key in enumerate(keys):
            cache.put(key, entry(index))
        results["AnswerCache (JSON text + validation)"] = best(args.rounds, lambda: [cache.peek(key) for key in keys])
        assert all(cache.peek(key) is not None for key in keys)
        cache.close()
    baseline = results["pickle (diskcache default)"]
    print(f"entries: {args.entries}")
    for name, seconds in results.items():
        print(
            f"{name}: {seconds * 1000:.1f} ms ({seconds / args.entries * 1e6:.0f} us/entry, x{seconds / baseline:.2f})"
        )


if __name__ == "__main__":
    main()
