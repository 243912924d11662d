"""Specifications of the shared Redis cache (issue 13): a real `redis-server` on 127.0.0.1, started by the project's
own `scripts/redis-server.sh`, behind the local cache of real `mkdocs build` runs against the emulator.

The server requires a password, so every test also checks that it never reaches a key, a value or the build output.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from mkdocs_ai_docstrings._internal.cache import AnswerCache, cache_key
from mkdocs_ai_docstrings._internal.cli import main as cli_main
from mkdocs_ai_docstrings._internal.settings import Settings, SettingsError
from mkdocs_ai_docstrings._internal.shared_cache import LayeredCache, open_cache, public_url
from tests.conftest import TEST_KEY, build, build_env, make_site
from tests.emulator import AzureEmulator, request_schema, synthesize

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "redis-server.sh"
PASSWORD = "s3cret-redis-pass"

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not installed (scripts/redis-server.sh install, or apt-get install redis-server)",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A real redis-server on 127.0.0.1 (no persistence), that a test can kill and start again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [str(SCRIPT), str(self.port), str(self.directory), "--requirepass", PASSWORD],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.client().ping()
                return self
            except redis.RedisError:
                assert self.process.poll() is None, (self.directory / "redis.log").read_text(errors="replace")
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def client(self) -> Any:
        return redis.Redis.from_url(self.url, socket_timeout=2)

    def entries(self) -> dict[str, bytes]:
        """Every key of the server (decoded) with its raw value."""
        client = self.client()
        return {key.decode(): client.get(key) for key in client.scan_iter(count=1000)}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    running = RedisServer(tmp_path / "redis").start()
    yield running
    running.kill()


SOURCE = {
    "shop/__init__.py": "",
    "shop/cart.py": '''\
def total(prices: list[float], tax: float = 0.2) -> float:
    return sum(prices) * (1 + tax)


def count(items: list[str]) -> int:
    return len(items)


def empty(items: list[str]) -> bool:
    return not items


class Cart:
    """A shopping cart."""

    def add(self, item: str) -> None:
        self.items.append(item)
''',
}
PAGES = {"index.md": "# Shop\n\n::: shop.cart\n"}


def _site(root: Path, cache_dir: str, **options: Any):
    return make_site(root, SOURCE, PAGES, {"cache_dir": cache_dir, "lock_file": False, **options})


def _generated(result: Any) -> set[str]:
    return {path for path, status in result.statuses().items() if status in ("generated", "cached")}


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("WARNING")]


def _no_secret_anywhere(server: RedisServer, *outputs: str) -> None:
    for key, value in server.entries().items():
        for secret in (PASSWORD, TEST_KEY):
            assert secret not in key
            assert secret.encode() not in value
    for output in outputs:
        assert PASSWORD not in output


# Builds ---------------------------------------------------------------------------------------------------------


def test_a_second_machine_with_its_own_cache_folder_makes_no_request(
    tmp_path: Path, emulator: AzureEmulator, server: RedisServer
) -> None:
    site = _site(tmp_path / "site", "cache-a")
    env = build_env(emulator, tmp_path, AI_DOCSTRINGS_CACHE_URL=server.url)

    first = build(site, env, emulator=emulator)
    assert first.returncode == 0, first.output
    assert first.requests == 5
    answers = {k for k in server.entries() if k.startswith("ai-docstrings:v2:site:answer:")}
    assert len(answers) == 5  # namespaced by the site's folder name, one key per answer

    other = _site(tmp_path / "site", "cache-b")  # the same site on another machine: a different cache folder
    second = build(other, env, emulator=emulator)
    assert second.returncode == 0, second.output
    assert second.requests == 0
    assert set(second.statuses().values()) == {"cached"}
    assert second.pages()["index.html"] == first.pages()["index.html"]
    assert (tmp_path / "site" / "cache-b" / "v2" / "cache.db").is_file()  # filled from Redis
    assert _warnings(first.output + second.output) == []
    assert f"shared answer cache: redis://127.0.0.1:{server.port}/0 (namespace site)" in first.output
    _no_secret_anywhere(server, first.output, second.output)


def test_redis_killed_mid_build_loses_nothing_and_the_next_build_resyncs(tmp_path: Path, server: RedisServer) -> None:
    answered = 0

    def answer_then_kill(body: dict[str, Any]) -> Any:
        nonlocal answered
        answered += 1
        if answered == 2:
            server.kill()
        return synthesize(request_schema(body))

    with AzureEmulator(api_key=TEST_KEY, answer=answer_then_kill) as emulator:
        env = build_env(emulator, tmp_path, AI_DOCSTRINGS_CACHE_URL=server.url)
        site = _site(tmp_path / "site", "cache-a", concurrency=1)
        first = build(site, env, emulator=emulator)
        assert first.returncode == 0, first.output
        assert first.requests == 5
        assert set(first.statuses().values()) == {"generated"}
        warnings = _warnings(first.output)
        assert len(warnings) == 1, first.output
        assert warnings[0].startswith(
            f"WARNING -  shared answer cache off: redis://127.0.0.1:{server.port}/0 (namespace site): "
        )
        assert "goes on with the local cache" in warnings[0]

        server.start()  # back, empty (no persistence): a new run_id
        again = build(site, env, emulator=emulator)
        assert again.returncode == 0, again.output
        assert again.requests == 0  # nothing was lost locally
        assert "shared answer cache: 5 local entries sent" in again.output
        elsewhere = build(_site(tmp_path / "site", "cache-b", concurrency=1), env, emulator=emulator)
        assert elsewhere.requests == 0  # ... and Redis has everything again
        assert elsewhere.pages()["index.html"] == first.pages()["index.html"]
        _no_secret_anywhere(server, first.output, again.output, elsewhere.output)


def test_redis_down_at_the_start_is_one_warning_and_a_normal_build(tmp_path: Path, emulator: AzureEmulator) -> None:
    port = _free_port()  # nothing listens there
    env = build_env(emulator, tmp_path, AI_DOCSTRINGS_CACHE_URL=f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    result = build(_site(tmp_path / "site", "cache"), env, emulator=emulator)
    assert result.returncode == 0, result.output
    assert set(result.statuses().values()) == {"generated"}
    warnings = _warnings(result.output)
    assert len(warnings) == 1
    assert f"shared answer cache off: redis://127.0.0.1:{port}/0 (namespace site)" in warnings[0]
    assert PASSWORD not in result.output
    assert len(AnswerCache(tmp_path / "site" / "cache")) == 5


# The layered cache ----------------------------------------------------------------------------------------------

ENTRY = {"answer": {"summary": "Add two numbers."}, "path": "pkg.add", "model": "gpt-4o-mini", "repairs": []}


def _layered(tmp_path: Path, server: RedisServer, name: str, **options: Any) -> LayeredCache:
    cache = open_cache(tmp_path / name, url=server.url, namespace=options.pop("namespace", "proj"), **options)
    assert isinstance(cache, LayeredCache)
    return cache


def test_a_redis_hit_is_counted_as_a_hit_and_fills_the_local_cache(tmp_path: Path, server: RedisServer) -> None:
    writer, reader = _layered(tmp_path, server, "a"), _layered(tmp_path, server, "b")
    key = cache_key({"object": "pkg.add"})
    assert writer.put(key, ENTRY)
    assert reader.get(key) == writer.get(key)
    assert (reader.stats.hits, reader.stats.misses, reader.shared_stats.hits) == (1, 0, 1)
    reader.close()
    assert AnswerCache(tmp_path / "b").peek(key) is not None  # the entry is local now, its creation time kept
    assert reader.get(cache_key({"object": "other"})) is None
    writer.close()
    assert _layered(tmp_path, server, "a").shared_stats.synced == 0  # same server run: no re-seeding on open


def test_namespaces_isolate_projects_on_one_server(tmp_path: Path, server: RedisServer) -> None:
    first = _layered(tmp_path, server, "a", namespace="first")
    second = _layered(tmp_path, server, "b", namespace="second")
    key = cache_key({"object": "pkg.add"})
    first.put(key, ENTRY)
    assert second.get(key) is None
    second.put(cache_key({"object": "pkg.sub"}), {**ENTRY, "path": "pkg.sub"})
    assert len([k for k in server.entries() if ":answer:" in k]) == 2
    second.clear()  # its local and Redis entries, nothing of `first`
    assert [k for k in server.entries() if ":answer:" in k] == [f"ai-docstrings:v2:first:answer:{key}"]
    assert first.get(key) is not None


def test_the_ttl_is_honoured_in_redis(tmp_path: Path, server: RedisServer) -> None:
    cache = _layered(tmp_path, server, "a", ttl_days=1)
    key = cache_key({"object": "pkg.add"})
    cache.put(key, ENTRY)
    remaining = server.client().pttl(f"ai-docstrings:v2:proj:answer:{key}")
    assert 86_300_000 < remaining <= 86_400_000  # Redis drops it when the TTL is over
    old = json.dumps({**ENTRY, "created": time.time() - 2 * 86400})
    old_key = cache_key({"object": "old"})
    server.client().set(f"ai-docstrings:v2:proj:answer:{old_key}", old)
    assert _layered(tmp_path, server, "b", ttl_days=1).get(old_key) is None  # older than the TTL: a miss
    assert _layered(tmp_path, server, "c").get(old_key) is not None  # no TTL: still good


class _Planted:
    def __reduce__(self) -> Any:
        return (os.mkdir, (str(_Planted.target),))

    target = Path()


@pytest.mark.parametrize(
    "planted",
    ["pickle", b"\x80\x04\x95 not text \xff\xfe", "{not json", '{"answer": "text", "path": 1}', "NaN"],
)
def test_a_hostile_value_in_redis_is_a_miss_and_never_runs(tmp_path: Path, server: RedisServer, planted: Any) -> None:
    _Planted.target = tmp_path / "pwned"
    value = pickle.dumps(_Planted()) if planted == "pickle" else planted
    key = cache_key({"object": "pkg.add"})
    server.client().set(f"ai-docstrings:v2:proj:answer:{key}", value)
    cache = _layered(tmp_path, server, "a")
    assert cache.get(key) is None
    assert (cache.stats.misses, cache.stats.invalid) == (1, 1)
    assert not _Planted.target.exists()
    cache.close()
    assert AnswerCache(tmp_path / "a").peek(key) is None  # not copied into the local cache


def test_an_answer_failing_the_schema_in_redis_is_a_miss(tmp_path: Path, server: RedisServer) -> None:
    key = cache_key({"object": "pkg.add"})
    _layered(tmp_path, server, "a").put(key, ENTRY)
    schema = {"type": "object", "required": ["summary", "returns"]}
    assert _layered(tmp_path, server, "b").get(key, schema) is None


def test_a_server_that_stops_answering_mid_build_is_one_warning_then_the_local_cache(
    tmp_path: Path, server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    cache = _layered(tmp_path, server, "a")
    key, other = cache_key({"object": "pkg.add"}), cache_key({"object": "pkg.sub"})
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)  # hangs: every command times out
    try:
        assert cache.put(key, ENTRY)  # stored locally after the socket timeout
        assert cache.get(key) is not None
        assert cache.put(other, ENTRY)
        assert cache.claim(key)  # the local claim, without waiting for Redis again
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"shared answer cache off: redis://127.0.0.1:{server.port}/0 (namespace proj): ")
    assert "Timeout" in warnings[0] or "timed out" in warnings[0]
    cache.close()
    resumed = _layered(tmp_path, server, "a")  # the next build: both answers reach Redis
    assert resumed.shared_stats.synced == 2
    assert len([k for k in server.entries() if ":answer:" in k]) == 2


def test_claims_work_across_machines_through_redis(tmp_path: Path, server: RedisServer) -> None:
    first, second = _layered(tmp_path, server, "a"), _layered(tmp_path, server, "b")
    key = cache_key({"object": "pkg.add"})
    assert first.claim(key)
    assert not second.claim(key)  # different cache folders: only Redis knows about the claim
    ttl = server.client().pttl(f"ai-docstrings:v2:proj:claim:{key}")
    assert 0 < ttl <= 180_000
    first.unclaim(key)
    assert second.claim(key)


def test_a_claim_of_a_killed_build_on_this_host_is_taken_over(tmp_path: Path, server: RedisServer) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    key = cache_key({"object": "pkg.add"})
    server.client().set(f"ai-docstrings:v2:proj:claim:{key}", json.dumps([socket.gethostname(), int(dead.stdout)]))
    assert _layered(tmp_path, server, "a").claim(key)


def test_remembered_failures_are_shared(tmp_path: Path, server: RedisServer) -> None:
    key = cache_key({"object": "pkg.add"})
    _layered(tmp_path, server, "a").put_failure(key, "pkg.add", "ungrounded")
    other = _layered(tmp_path, server, "b")
    assert other.failure(key) == "ungrounded"
    other.forget_failure(key)
    assert _layered(tmp_path, server, "c").failure(key) is None


def test_the_cli_clears_and_invalidates_both_layers(
    tmp_path: Path, server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = _layered(tmp_path, server, "a")
    cache.put(cache_key({"o": 1}), {**ENTRY, "path": "pkg.add"})
    cache.put(cache_key({"o": 2}), {**ENTRY, "path": "other.sub"})
    cache.close()
    options = ["--cache-dir", str(tmp_path / "a"), "--cache-url", server.url, "--namespace", "proj"]
    assert cli_main(["cache", "invalidate", "pkg.*", *options]) == 0
    assert [json.loads(v)["path"] for k, v in server.entries().items() if ":answer:" in k] == ["other.sub"]
    assert len(AnswerCache(tmp_path / "a")) == 1
    assert cli_main(["cache", "clear", *options]) == 0
    assert server.entries() == {}
    output = capsys.readouterr().out
    assert f"in {tmp_path / 'a'} and redis://127.0.0.1:{server.port}/0 (namespace proj)" in output
    assert PASSWORD not in output


# Options --------------------------------------------------------------------------------------------------------


def test_a_bad_cache_url_is_rejected_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_options({"cache_url": f"http://:{PASSWORD}@127.0.0.1:6379"})
    assert "option 'cache_url' must be a Redis URL" in str(raised.value)
    assert PASSWORD not in str(raised.value)
    assert Settings.from_options({"cache_url": "rediss://cache.example:6380/2"}).cache_url


def test_a_namespace_holds_no_separator_or_glob() -> None:
    for bad in ("a:b", "a*", "", "-x", "x" * 65):
        with pytest.raises(SettingsError, match="cache_namespace"):
            Settings.from_options({"cache_namespace": bad})
    assert Settings.from_options({"cache_namespace": "my-lib_2.x"}).cache_namespace == "my-lib_2.x"


def test_the_public_url_has_no_credentials() -> None:
    assert public_url(f"redis://user:{PASSWORD}@10.0.0.5:6380/3?ssl_cert_reqs=none") == "redis://10.0.0.5:6380/3"
    assert public_url("rediss://cache.example") == "rediss://cache.example:6379/0"


def test_without_a_redis_url_the_redis_client_is_not_imported(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from mkdocs_ai_docstrings._internal.session import BuildSession\n"
        "from mkdocs_ai_docstrings._internal.settings import Settings\n"
        "BuildSession(Settings.from_options({'cache_dir': sys.argv[1]}), environ={}).finish()\n"
        "print('redis' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "AI_DOCSTRINGS_CACHE_URL"}
    completed = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert completed.stdout.strip() == "False", completed.stderr
