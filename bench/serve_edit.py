"""`serve` after an edit to one function: how many requests reach the model (target: exactly one).

For each builder (`mkdocs serve` with the plugin, which watches the package's folder; `zensical serve` with only
the extension) a tiny site is served against the loopback emulator; once the first build has filled every object,
the body of one function is edited, and the requests the rebuild sends are counted. The report the rebuild writes
into the served site tells where every other docstring came from (memory, lock or cache: `cached`).

Results are printed as `key: value` lines.

Usage:
    python bench/serve_edit.py [mkdocs|zensical ...]
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import build_env, extension_site, make_site  # noqa: E402
from tests.emulator import AzureEmulator  # noqa: E402
from tests.test_build import CORE_SOURCE, TINY_PACKAGE, TINY_PAGES, UNDOCUMENTED  # noqa: E402

EDITED = "tinypkg.core.scale"
TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def _report(base: str) -> dict | None:
    text = _get(base + "ai-docstrings.json")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _wait(predicate, timeout: float = TIMEOUT) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _settled(emulator: AzureEmulator, quiet: float = 3.0) -> int:
    """Wait until no request arrived for `quiet` seconds; the request count then."""
    count, since = len(emulator.requests), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.2)
        if len(emulator.requests) != count:
            count, since = len(emulator.requests), time.monotonic()
    return count


def measure(builder: str, tmp: Path, emulator: AzureEmulator) -> dict[str, object]:
    """Serve a tiny site, edit one function, count the requests of the rebuild."""
    root = tmp / builder
    if builder == "mkdocs":
        site = make_site(root, TINY_PACKAGE, TINY_PAGES)  # the plugin watches `src/` on serve
        program = [sys.executable, "-m", "mkdocs", "serve"]
    else:
        site = extension_site(root, TINY_PACKAGE, TINY_PAGES, {})
        program = [str(Path(sys.executable).with_name("zensical")), "serve"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    log = (tmp / f"{builder}.log").open("w")
    process = subprocess.Popen(
        [*program, "-f", str(site.config_file), "-a", f"127.0.0.1:{port}"],
        cwd=site.root,
        env=build_env(emulator, tmp),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    before = len(emulator.requests)
    try:
        filled = _wait(lambda: (r := _report(base)) is not None and len(r["objects"]) == len(UNDOCUMENTED))
        first = _settled(emulator) - before
        time.sleep(1.0)
        site.write_source("tinypkg/core.py", CORE_SOURCE.replace("* factor", "* factor * 1"))
        edited_at = len(emulator.requests)
        rebuilt = _wait(
            lambda: (
                (r := _report(base)) is not None
                and {o["path"]: o["status"] for o in r["objects"]}.get(EDITED) == "generated"
                and any(o["status"] == "cached" for o in r["objects"])
            )
        )
        after = _settled(emulator) - edited_at
        report = _report(base) or {"objects": []}
        statuses = {o["path"]: o["status"] for o in report["objects"]}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        if os.environ.get("SERVE_BENCH_LOG"):
            print((tmp / f"{builder}.log").read_text()[-4000:], file=sys.stderr)
    return {
        "first_build_filled": filled,
        "first_build_requests": first,
        "rebuilt_after_edit": rebuilt,
        "requests_after_edit": after,
        "regenerated": sorted(p for p, s in statuses.items() if s == "generated"),
        "from_memory_lock_or_cache": sum(1 for s in statuses.values() if s == "cached"),
    }


def main() -> None:
    builders = sys.argv[1:] or ["mkdocs", "zensical"]
    with tempfile.TemporaryDirectory(prefix="ai-serve-bench-") as folder, AzureEmulator(api_key="test-key") as emu:
        for builder in builders:
            for key, value in measure(builder, Path(folder), emu).items():
                print(f"{builder}_{key}: {value}")


if __name__ == "__main__":
    main()
