"""Warm-build cost of the shared Redis cache behind the local one, against the local cache alone.

Starts a real redis-server on 127.0.0.1 (`scripts/redis-server.sh`), then measures, best of R rounds:

- cache level, N entries: opening the cache and reading all N back as a warm build does, with the local cache
  alone, with Redis behind it (everything local: Redis is only pinged), and on a "second machine" whose local cache
  is empty (every entry comes from Redis and is copied locally);
- build level (`--objects`, 0 to skip): a real `mkdocs build` of a generated package against the emulator, warm,
  with the local cache alone and with Redis configured; and a build on a second cache folder filled from Redis.

Prints `key: value` lines. Usage: `python bench/shared_cache.py [--entries 1000] [--rounds 5] [--objects 60]`
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from mkdocs_ai_docstrings._internal.cache import AnswerCache  # noqa: E402
from mkdocs_ai_docstrings._internal.shared_cache import open_cache  # noqa: E402
from tests.conftest import TEST_KEY, build, build_env, make_site  # noqa: E402
from tests.emulator import AzureEmulator  # noqa: E402


def entry(index: int) -> dict[str, object]:
    return {
        "answer": {
            "summary": f"Compute the value number {index} from its inputs and return it.",
            "description": "The inputs are left unchanged. " * 6,
            "parameters": [{"name": f"arg{i}", "description": f"The argument number {i}."} for i in range(4)],
            "returns": {"description": "The computed value."},
        },
        "path": f"pkg.module.function_{index}",
        "model": "gpt-4o-mini",
        "repairs": [],
    }


def best(rounds: int, action: Callable[[], object], before: Callable[[], object] = lambda: None) -> float:
    timings = []
    for _ in range(rounds):
        before()
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "redis-server.sh"), str(port), str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.RedisError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def cache_level(folder: Path, url: str, entries: int, rounds: int) -> None:
    keys = [f"{index:064x}" for index in range(entries)]
    seed = open_cache(folder / "local", url=url, namespace="bench")
    for index, key in enumerate(keys):
        seed.put(key, entry(index))
    seed.close()

    def read(make: Callable[[], AnswerCache]) -> None:
        cache = make()
        assert all(cache.get(key) is not None for key in keys)
        cache.close()

    local = best(rounds, lambda: read(lambda: AnswerCache(folder / "local")))
    layered = best(rounds, lambda: read(lambda: open_cache(folder / "local", url=url, namespace="bench")))
    second = best(
        rounds,
        lambda: read(lambda: open_cache(folder / "second", url=url, namespace="bench")),
        before=lambda: shutil.rmtree(folder / "second", ignore_errors=True),
    )
    print(f"entries: {entries}")
    print(f"warm read, local cache only: {local * 1000:.1f} ms")
    print(f"warm read, local cache with Redis behind it: {layered * 1000:.1f} ms (ratio {layered / local:.2f})")
    print(f"second machine, every entry from Redis: {second * 1000:.1f} ms (ratio {second / local:.2f})")


def build_level(folder: Path, url: str, objects: int, rounds: int) -> None:
    functions = "\n\n".join(f"def function_{i}(value: int) -> int:\n    return value + {i}\n" for i in range(objects))
    source = {"pkg/__init__.py": '"""A package."""\n', "pkg/module.py": '"""Functions."""\n\n' + functions}
    pages = {"index.md": "# Bench\n\n::: pkg.module\n"}
    options = {"cache_dir": "cache", "lock_file": False, "cache_namespace": "bench"}
    site = make_site(folder / "first", source, pages, options)
    second = make_site(folder / "second", source, pages, options)  # another machine: its own cache folder
    with AzureEmulator(api_key=TEST_KEY) as emulator:
        shared = build_env(emulator, folder, AI_DOCSTRINGS_CACHE_URL=url)
        local = build_env(emulator, folder, AI_DOCSTRINGS_CACHE_URL=None)
        cold = build(site, shared, emulator=emulator, timeout=600)
        assert cold.returncode == 0 and cold.requests == objects, cold.output
        timings = {"local": float("inf"), "layered": float("inf")}
        for _ in range(rounds):  # interleaved: the machine's load drifts
            for name, env in (("local", local), ("layered", shared)):
                timings[name] = min(timings[name], best(1, lambda env=env: _warm(site, env, emulator)))
        timings["second"] = best(
            rounds,
            lambda: _warm(second, shared, emulator),
            before=lambda: shutil.rmtree(folder / "second" / "cache", ignore_errors=True),
        )
    print(f"objects: {objects}")
    print(f"warm build, local cache only: {timings['local']:.2f} s")
    print(
        f"warm build, local cache with Redis behind it: {timings['layered']:.2f} s "
        f"(ratio {timings['layered'] / timings['local']:.2f})"
    )
    print(f"build on a second cache folder, answers from Redis: {timings['second']:.2f} s (0 requests)")


def _warm(site: object, env: dict[str, str], emulator: AzureEmulator) -> None:
    result = build(site, env, emulator=emulator, timeout=600)  # type: ignore[arg-type]
    assert result.returncode == 0 and result.requests == 0, result.output


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--objects", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        process, url = start_server(folder / "redis")
        try:
            cache_level(folder / "cache-level", url, args.entries, args.rounds)
            if args.objects:
                build_level(folder / "build-level", url, args.objects, min(args.rounds, 3))
        finally:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
