"""Specification of the answer cache: content-addressed keys, durable entries, TTL, in-flight claims."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mkdocs_ai_docstrings import AnswerCache, cache_key
from mkdocs_ai_docstrings._internal import cache as cache_module


def key_parts() -> dict[str, Any]:
    return {
        "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
        "schema": {"type": "object", "properties": {"summary": {"type": "string"}}},
        "schema_version": "3",
        "template_version": "1",
        "deployment": "gpt-4o-mini",
        "model": "gpt-4o-mini",
        "api_version": "2024-10-21",
        "params": {"temperature": 0.0, "max_completion_tokens": 700},
    }


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[AnswerCache]:
    store = AnswerCache(tmp_path / "cache")
    yield store
    store.close()


# Keys ----------------------------------------------------------------------------------------------------------


def test_the_key_is_a_sha256_hex_digest_stable_across_calls_and_key_order() -> None:
    key = cache_key(key_parts())
    assert len(key) == 64 and int(key, 16) >= 0
    assert cache_key(key_parts()) == key
    assert cache_key(dict(reversed(list(key_parts().items())))) == key


def test_the_key_is_the_documented_hash_of_canonical_json() -> None:
    assert cache_key({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # sha256("{}")


@pytest.mark.parametrize(
    ("part", "value"),
    [
        ("messages", [{"role": "system", "content": "S"}, {"role": "user", "content": "U!"}]),
        ("schema", {"type": "object", "properties": {}}),
        ("schema_version", "4"),
        ("template_version", "custom-0123456789abcdef"),
        ("deployment", "gpt-4o"),
        ("model", "gpt-4o-2024-08-06"),
        ("api_version", "2025-01-01-preview"),
        ("params", {"temperature": 0.2, "max_completion_tokens": 700}),
    ],
)
def test_changing_any_part_changes_the_key(part: str, value: Any) -> None:
    changed = {**key_parts(), part: value}
    assert cache_key(changed) != cache_key(key_parts())


def test_non_ascii_and_non_json_values_are_hashed_not_rejected() -> None:
    assert cache_key({"text": "Grüße 👋"}) != cache_key({"text": "Gruße 👋"})
    assert cache_key({"path": Path("a/b")}) == cache_key({"path": "a/b"})


# Entries and statistics ----------------------------------------------------------------------------------------


def test_put_then_get_returns_the_entry_with_its_creation_time(cache: AnswerCache) -> None:
    before = time.time()
    cache.put("k1", {"path": "pkg.f", "answer": {"summary": "Do f."}})
    entry = cache.get("k1")
    assert entry is not None
    assert entry["answer"] == {"summary": "Do f."}
    assert entry["path"] == "pkg.f"
    assert before <= entry["created"] <= time.time()
    assert len(cache) == 1


def test_hits_misses_and_stores_are_counted_and_peek_does_not_count(cache: AnswerCache) -> None:
    assert cache.get("absent") is None
    cache.put("k1", {"path": "pkg.f"})
    cache.get("k1")
    cache.get("k1")
    assert cache.peek("k1") is not None
    assert cache.peek("absent") is None
    assert (cache.stats.hits, cache.stats.misses, cache.stats.stores) == (2, 1, 1)


def test_entries_survive_reopening_the_directory(tmp_path: Path) -> None:
    first = AnswerCache(tmp_path)
    first.put("k1", {"path": "pkg.f", "answer": {"summary": "Do f."}})
    first.close()
    second = AnswerCache(tmp_path)
    try:
        assert second.get("k1")["answer"] == {"summary": "Do f."}  # type: ignore[index]
        assert second.stats.hits == 1
    finally:
        second.close()


def test_the_cache_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "cache"
    AnswerCache(target).close()
    assert target.is_dir()


# Expiry --------------------------------------------------------------------------------------------------------


def test_entries_older_than_the_ttl_are_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = AnswerCache(tmp_path, ttl_days=1)
    try:
        now = 1_000_000.0
        monkeypatch.setattr(cache_module.time, "time", lambda: now)
        cache.put("k1", {"path": "pkg.f"})
        now += 86_400 - 1
        assert cache.get("k1") is not None
        now += 2
        assert cache.get("k1") is None
        assert cache.peek("k1") is None
        assert (cache.stats.hits, cache.stats.misses) == (1, 1)
    finally:
        cache.close()


def test_without_a_ttl_entries_never_expire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = AnswerCache(tmp_path)
    try:
        cache.put("k1", {"path": "pkg.f"})
        monkeypatch.setattr(cache_module.time, "time", lambda: 10_000_000_000.0)
        assert cache.get("k1") is not None
    finally:
        cache.close()


def test_a_tiny_ttl_expires_an_entry_written_a_moment_ago(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path, ttl_days=1e-9)  # about 86 microseconds
    try:
        cache.put("k1", {"path": "pkg.f"})
        time.sleep(0.01)
        assert cache.get("k1") is None
    finally:
        cache.close()


# Claims --------------------------------------------------------------------------------------------------------


def test_a_claim_excludes_a_second_build_until_it_is_released(tmp_path: Path) -> None:
    first, second = AnswerCache(tmp_path), AnswerCache(tmp_path)
    try:
        assert first.claim("k1") is True
        assert second.claim("k1") is False
        assert first.claim("k1") is False  # a claim is not re-entrant either
        assert second.claim("k2") is True  # claims are per key
        first.unclaim("k1")
        assert second.claim("k1") is True
    finally:
        first.close()
        second.close()


def test_claims_lapse_after_their_expiry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = AnswerCache(tmp_path), AnswerCache(tmp_path)
    try:
        assert first.claim("k1")
        # diskcache measures expiry with time.time(): jump past the claim's lifetime.
        later = time.time() + cache_module.CLAIM_SECONDS + 1
        monkeypatch.setattr(time, "time", lambda: later)
        assert second.claim("k1") is True
    finally:
        first.close()
        second.close()


def test_claims_are_not_answers(cache: AnswerCache) -> None:
    cache.claim("k1")
    assert len(cache) == 0
    assert cache.peek("k1") is None


def test_wait_for_returns_the_entry_another_build_commits(tmp_path: Path) -> None:
    owner, waiter = AnswerCache(tmp_path), AnswerCache(tmp_path)

    async def scenario() -> dict[str, Any] | None:
        assert owner.claim("k1")

        async def finish() -> None:
            await asyncio.sleep(0.05)
            owner.put("k1", {"path": "pkg.f", "answer": {"summary": "Done."}})
            owner.unclaim("k1")

        task = asyncio.ensure_future(finish())
        entry = await waiter.wait_for("k1", timeout=5)
        await task
        return entry

    try:
        entry = asyncio.run(scenario())
        assert entry is not None and entry["answer"] == {"summary": "Done."}
    finally:
        owner.close()
        waiter.close()


def test_wait_for_gives_up_when_the_claim_is_dropped_without_an_answer(tmp_path: Path) -> None:
    owner, waiter = AnswerCache(tmp_path), AnswerCache(tmp_path)
    try:
        owner.claim("k1")
        owner.unclaim("k1")
        started = time.monotonic()
        assert asyncio.run(waiter.wait_for("k1", timeout=5)) is None
        assert time.monotonic() - started < 1
        owner.claim("k2")
        assert asyncio.run(waiter.wait_for("k2", timeout=0.3)) is None
    finally:
        owner.close()
        waiter.close()


# Invalidation --------------------------------------------------------------------------------------------------


def test_invalidate_removes_the_answers_whose_path_matches(cache: AnswerCache) -> None:
    cache.put("k1", {"path": "pkg.api.load"})
    cache.put("k2", {"path": "pkg.api.save"})
    cache.put("k3", {"path": "pkg.core.run"})
    cache.claim("k4")
    assert cache.invalidate(lambda path: path.startswith("pkg.api.")) == 2
    assert cache.peek("k1") is None and cache.peek("k2") is None
    assert cache.peek("k3") is not None
    assert len(cache) == 1
    assert cache.claim("k4") is False  # claims are untouched


def test_invalidate_passes_an_empty_path_for_entries_without_one(cache: AnswerCache) -> None:
    cache.put("k1", {"answer": {}})
    seen: list[str] = []
    assert cache.invalidate(lambda path: seen.append(path) or False) == 0
    assert seen == [""]


def test_clear_removes_everything_and_says_how_much(cache: AnswerCache) -> None:
    cache.put("k1", {"path": "a"})
    cache.put("k2", {"path": "b"})
    assert cache.clear() >= 2
    assert len(cache) == 0
    assert cache.get("k1") is None
    assert cache.clear() == 0
