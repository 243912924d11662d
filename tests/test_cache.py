"""Specification of the answer cache: content-addressed keys, durable entries, TTL, in-flight claims."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest

from mkdocs_ai_docstrings._internal import cache as cache_module
from mkdocs_ai_docstrings._internal.cache import AnswerCache, CacheMode, cache_key


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


def an_entry(path: str = "pkg.f", summary: str = "Do f.") -> dict[str, Any]:
    """An entry as the generator commits it."""
    return {"answer": {"summary": summary}, "path": path, "model": "gpt-4o-mini", "repairs": []}


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
    cache.put("k1", an_entry())
    entry = cache.get("k1")
    assert entry is not None
    assert entry["answer"] == {"summary": "Do f."}
    assert entry["path"] == "pkg.f"
    assert before <= entry["created"] <= time.time()
    assert len(cache) == 1


def test_hits_misses_and_stores_are_counted_and_peek_does_not_count(cache: AnswerCache) -> None:
    assert cache.get("absent") is None
    cache.put("k1", an_entry("pkg.f"))
    cache.get("k1")
    cache.get("k1")
    assert cache.peek("k1") is not None
    assert cache.peek("absent") is None
    assert (cache.stats.hits, cache.stats.misses, cache.stats.stores) == (2, 1, 1)


def test_entries_survive_reopening_the_directory(tmp_path: Path) -> None:
    first = AnswerCache(tmp_path)
    first.put("k1", an_entry())
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
        cache.put("k1", an_entry("pkg.f"))
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
        cache.put("k1", an_entry("pkg.f"))
        monkeypatch.setattr(cache_module.time, "time", lambda: 10_000_000_000.0)
        assert cache.get("k1") is not None
    finally:
        cache.close()


def test_a_tiny_ttl_expires_an_entry_written_a_moment_ago(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path, ttl_days=1e-9)  # about 86 microseconds
    try:
        cache.put("k1", an_entry("pkg.f"))
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
            owner.put("k1", an_entry(summary="Done."))
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
        sleeps: list[float] = []
        real_sleep = asyncio.sleep

        async def counted_sleep(seconds: float) -> None:
            sleeps.append(seconds)
            await real_sleep(0)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(asyncio, "sleep", counted_sleep)
            assert asyncio.run(waiter.wait_for("k1", timeout=5)) is None
        assert sleeps == []  # the dropped claim is seen at once: no waiting
        owner.claim("k2")
        assert asyncio.run(waiter.wait_for("k2", timeout=0.3)) is None
    finally:
        owner.close()
        waiter.close()


# Invalidation --------------------------------------------------------------------------------------------------


def test_invalidate_removes_the_answers_whose_path_matches(cache: AnswerCache) -> None:
    cache.put("k1", an_entry("pkg.api.load"))
    cache.put("k2", an_entry("pkg.api.save"))
    cache.put("k3", an_entry("pkg.core.run"))
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
    cache.put("k1", an_entry("a"))
    cache.put("k2", an_entry("b"))
    assert cache.clear() >= 2
    assert len(cache) == 0
    assert cache.get("k1") is None
    assert cache.clear() == 0


# Data, never pickles -------------------------------------------------------------------------------------------


class Planted:
    """A value whose unpickling creates `target`: proof that code ran."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.target,))


def raw_rows(location: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(location / "cache.db") as connection:
        return connection.execute("SELECT key, raw, mode, filename, value FROM Cache ORDER BY rowid").fetchall()


def plant(location: Path, key: Any, raw: int, mode: int, value: Any, filename: str | None = None) -> None:
    """Write a row straight into the cache database, as someone who can write the cache folder could."""
    with sqlite3.connect(location / "cache.db") as connection:
        connection.execute(
            "INSERT OR REPLACE INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size,"
            " mode, filename, value) VALUES (?, ?, 0, NULL, 0, 0, NULL, 0, ?, ?, ?)",
            (key, raw, mode, filename, value),
        )


def test_values_are_stored_as_json_text_inside_the_database_in_a_versioned_folder(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path)
    cache.put("k1", an_entry())
    cache.claim("k2")
    cache.close()
    assert (tmp_path / cache_module.FORMAT / "cache.db").is_file()
    rows = {key: (raw, mode, filename, value) for key, raw, mode, filename, value in raw_rows(tmp_path / "v2")}
    raw, mode, filename, value = rows["answer:k1"]
    assert (raw, mode, filename) == (1, diskcache.core.MODE_RAW, None)
    assert json.loads(value)["answer"] == {"summary": "Do f."}
    assert json.loads(rows["claim:k2"][3])[1] == os.getpid()
    assert [p for p in (tmp_path / "v2").rglob("*") if p.name.endswith(".val")] == []


def test_a_pickled_cache_of_the_old_format_is_never_read(tmp_path: Path) -> None:
    proof = tmp_path / "code-ran"
    old = diskcache.Cache(str(tmp_path))  # the previous layout: pickles at the top of cache_dir
    old.set("answer:k1", Planted(proof))
    old.close()
    cache = AnswerCache(tmp_path)
    try:
        assert cache.get("k1") is None
        assert len(cache) == 0
    finally:
        cache.close()
    assert not proof.exists()


@pytest.mark.parametrize("mode", [diskcache.core.MODE_PICKLE, diskcache.core.MODE_BINARY, diskcache.core.MODE_TEXT])
def test_a_planted_pickle_or_file_reference_is_an_invalid_entry_never_loaded(tmp_path: Path, mode: int) -> None:
    proof = tmp_path / "code-ran"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    cache = AnswerCache(tmp_path / "cache")
    location = cache.location
    cache.close()
    payload = pickle.dumps(Planted(proof))
    plant(location, "answer:k1", 1, mode, payload, filename=None if mode == diskcache.core.MODE_PICKLE else str(victim))
    plant(location, pickle.dumps(Planted(proof)), 0, diskcache.core.MODE_PICKLE, payload)  # a pickled key
    cache = AnswerCache(tmp_path / "cache")
    try:
        assert cache.get("k1") is None
        assert cache.get("k1") is None
        assert (cache.stats.invalid, cache.stats.misses) == (1, 2)
        assert len(cache) == 1  # the planted answer row; the pickled key is not decoded
        assert cache.invalidate(lambda path: True) == 1  # the invalid answer row, passed as ""
        cache.put("k1", an_entry())  # an invalid entry is simply overwritten
        assert cache.get("k1") is not None
        assert cache.clear() >= 1
    finally:
        cache.close()
    assert not proof.exists()
    assert victim.read_text() == "keep me"  # a file name planted in the database is neither read nor deleted


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[1, 2]",
        '{"path": "pkg.f", "created": 1}',
        '{"answer": "text", "path": "pkg.f", "created": 1}',
        '{"answer": {}, "path": 3, "created": 1}',
        '{"answer": {}, "path": "pkg.f", "created": "yesterday"}',
        '{"answer": {}, "path": "pkg.f", "created": NaN}',
        '{"answer": {}, "path": "pkg.f", "created": 1, "repairs": [1]}',
        '{"answer": {}, "path": "pkg.f", "created": 1, "model": null}',
    ],
)
def test_an_entry_that_does_not_validate_is_a_counted_miss(tmp_path: Path, value: str) -> None:
    cache = AnswerCache(tmp_path)
    cache.close()
    plant(cache.location, "answer:k1", 1, diskcache.core.MODE_RAW, value)
    cache = AnswerCache(tmp_path)
    try:
        assert cache.get("k1") is None
        assert (cache.stats.hits, cache.stats.misses, cache.stats.invalid) == (0, 1, 1)
    finally:
        cache.close()


def test_an_answer_that_does_not_match_the_objects_schema_is_invalid(cache: AnswerCache) -> None:
    schema = {"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}}
    cache.put("k1", {"answer": {"summary": 3}, "path": "pkg.f"})
    cache.put("k2", an_entry())
    assert cache.get("k1", schema) is None
    assert cache.get("k2", schema) is not None
    assert cache.stats.invalid == 1


def test_an_entry_this_cache_sealed_or_validated_reads_back_without_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = {"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}}
    validated: list[Any] = []
    original = cache_module._valid
    monkeypatch.setattr(cache_module, "_valid", lambda value, shape: validated.append(value) or original(value, shape))
    AnswerCache(tmp_path, seal_key=b"build key").put("k1", an_entry(summary="Sealed."))
    AnswerCache(tmp_path).put("k2", an_entry(summary="Written without a key."))

    entry = AnswerCache(tmp_path, seal_key=b"build key").get("k1", schema)
    assert entry is not None and entry["answer"] == {"summary": "Sealed."} and validated == []

    for _ in range(2):
        assert AnswerCache(tmp_path, seal_key=b"build key").get("k2", schema) is not None
    assert len(validated) == 2  # the unsealed entry and its answer were validated once, then sealed

    for _ in range(2):  # another key's seal proves nothing, and is left in place
        assert AnswerCache(tmp_path, seal_key=b"someone else's key").get("k1", schema) is not None
    assert len(validated) == 6


def test_a_sealed_entry_altered_afterwards_is_validated_like_any_other(tmp_path: Path) -> None:
    schema = {"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}}
    cache = AnswerCache(tmp_path, seal_key=b"build key")
    cache.put("k1", an_entry())
    stored = json.loads(cache._store.get("answer:k1"))
    cache._store.set("answer:k1", {**stored, "answer": {"summary": 3}})  # the old seal kept, the answer changed

    assert cache.get("k1", schema) is None
    assert cache.stats.invalid == 1


# Storage faults ------------------------------------------------------------------------------------------------


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


def assert_works_without_a_store(cache: AnswerCache) -> None:
    """Off: every operation answers at once, nothing raises, nothing is stored."""
    assert cache.mode is CacheMode.OFF
    assert cache.get("k1") is None
    assert cache.put("k1", an_entry()) is False
    assert cache.stats.unstored == 1
    assert cache.claim("k1") is True and cache.claim("k1") is True  # no store: no cross-build claims
    cache.unclaim("k1")
    assert asyncio.run(cache.wait_for("k1", timeout=5)) is None
    assert (len(cache), cache.clear(), cache.invalidate(lambda path: True)) == (0, 0, 0)
    cache.close()


def test_a_cache_dir_that_is_a_file_turns_the_cache_off_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("")
    cache = AnswerCache(blocker)
    assert_works_without_a_store(cache)
    assert warnings_of(caplog) == [
        f"answer cache off: {blocker / 'v2'}: {blocker} is a file, not a folder; "
        "new answers are kept in memory for this build only"
    ]


def test_a_cache_dir_under_a_file_turns_the_cache_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "file").write_text("")
    assert_works_without_a_store(AnswerCache(tmp_path / "file" / "deeper" / "cache"))
    [warning] = warnings_of(caplog)
    assert f"{tmp_path / 'file'} is a file, not a folder" in warning


def test_a_corrupted_database_turns_the_cache_off_and_says_how_to_fix_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    AnswerCache(tmp_path).close()
    (tmp_path / "v2" / "cache.db").write_bytes(random.Random(7).randbytes(64 * 1024))
    assert_works_without_a_store(AnswerCache(tmp_path))
    [warning] = warnings_of(caplog)
    assert warning.startswith(f"answer cache off: {tmp_path / 'v2'}: file is not a database")
    assert f"delete {tmp_path / 'v2'} to start a new cache" in warning


def test_a_failing_write_makes_the_cache_read_only_without_losing_what_it_holds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AnswerCache(tmp_path)
    cache.put("k1", an_entry())

    def full(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(cache._store, "set", full)
    monkeypatch.setattr(cache._store, "add", full)
    assert cache.put("k2", an_entry("pkg.g")) is False
    assert cache.put("k3", an_entry("pkg.h")) is False
    assert cache.mode is CacheMode.READ_ONLY
    assert cache.get("k1") is not None  # reads go on; nothing was evicted to make room
    assert cache.claim("k2") is True
    assert (cache.stats.stores, cache.stats.unstored) == (1, 2)
    assert warnings_of(caplog) == [
        f"answer cache read-only from now on (a write failed): {tmp_path / 'v2'}: database or disk is full, "
        "is the disk full?; cached answers are used; new answers are kept in memory for this build only"
    ]
    cache.close()


def test_a_failing_read_turns_the_cache_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AnswerCache(tmp_path)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(cache._store, "get", broken)
    assert cache.get("k1") is None
    assert_works_without_a_store(cache)
    [warning] = warnings_of(caplog)
    assert "off from now on (a read failed)" in warning and "database disk image is malformed" in warning


def test_the_read_only_reader_serves_valid_entries_and_honours_expiry(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path)
    cache.put("k1", an_entry())
    cache.claim("k2")
    cache.close()
    reader = cache_module._ReadOnlyStore(tmp_path / "v2" / "cache.db")
    try:
        assert cache_module.parse_entry(reader.get("answer:k1"))["path"] == "pkg.f"  # type: ignore[index]
        assert reader.get("answer:absent") is None
        assert sorted(reader.iterkeys()) == ["answer:k1", "claim:k2"]
    finally:
        reader.close()
