"""Content-addressed answer cache on disk (diskcache, JSON only), with TTL, in-flight claims and hit/miss counts.

Whoever can write the cache folder (a shared CI cache, a restored artifact) controls what it holds, so nothing read
from it is trusted: values are JSON text stored inside the database (never pickles, never files), keys are plain
strings, and every entry is validated when read; anything else is a miss. A storage fault never stops the build: the
cache warns once and goes on read-only (reads work, writes do not) or off; answers it cannot store stay in memory.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import hmac
import json
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import diskcache
from diskcache.core import MODE_RAW, UNKNOWN

from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.secrets import seal

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

CLAIM_SECONDS = 180.0
"""How long an in-flight claim protects an object from a parallel build paying for it too."""

FORMAT = "v2"
"""Subfolder of `cache_dir` holding this on-disk format (JSON values); older (pickled) caches are never opened."""

DATABASE = "cache.db"

LOCK_SECONDS = 15.0
"""How long one operation waits for a database another process holds locked before the cache degrades."""

_HOST = socket.gethostname()

T = TypeVar("T")

ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["answer", "path", "created"],
    "properties": {
        "answer": {"type": "object"},
        "path": {"type": "string"},
        "model": {"type": "string"},
        "repairs": {"type": "array", "items": {"type": "string"}},
        "created": {"type": "number"},
        "example_check": {"enum": ["run", "static"]},
    },
}
"""The shape of a cached answer; an entry that does not match is a miss."""


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Draft202012Validator:
    """A validator of a JSON schema given as JSON text, built once per schema (jsonschema imported on first use)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def _valid(instance: Any, schema: Mapping[str, Any]) -> bool:
    return _validator(json.dumps(schema, sort_keys=True)).is_valid(instance)


FAULTS: tuple[type[BaseException], ...] = (OSError, sqlite3.Error, diskcache.Timeout, ValueError, TypeError)
"""What a storage operation may raise: the cache degrades instead of failing the build."""


def cache_key(parts: Mapping[str, Any]) -> str:
    """Hash every input that changes the answer into a stable key."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CacheMode(Enum):
    """What the cache can do this build."""

    READ_WRITE = "read-write"
    READ_ONLY = "read-only"
    """Cached answers are used; new ones stay in memory for this build."""
    OFF = "off"


@dataclass
class CacheStats:
    """Counts of one build."""

    hits: int = 0
    misses: int = 0
    stores: int = 0
    invalid: int = 0
    """Entries that were present but did not validate (counted once per key; they are misses too)."""
    unstored: int = 0
    """Answers that could not be written (kept in memory for this build only)."""


class _Unreadable:
    """What the disk returns for a stored value it refuses to decode."""


UNREADABLE = _Unreadable()


class JSONOnlyDisk(diskcache.Disk):
    """diskcache serialization that only ever reads and writes data: string keys, JSON text values, in the database.

    Unlike `diskcache.JSONDisk`, which delegates to `Disk` and so still unpickles a row whose `mode` column says
    "pickle" (or whose key is not raw), opens files named by the database and deletes them, this disk decodes only
    raw rows and never touches a file: the database decides nothing about what code runs or which file is read.
    """

    def __init__(self, directory: str, **_settings: Any) -> None:
        # `disk_*` settings come from the database itself: ignore them.
        super().__init__(directory, min_file_size=2**62, pickle_protocol=0)

    def put(self, key: Any) -> tuple[Any, bool]:
        if type(key) is not str:
            raise TypeError(f"cache keys are strings, not {type(key).__name__}")
        return key, True

    def get(self, key: Any, raw: bool) -> Any:
        return key if raw and type(key) is str else None  # a pickled key is never loaded

    def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> tuple[int, int, None, str]:
        if read:
            raise TypeError("the answer cache stores JSON values, not files")
        return 0, MODE_RAW, None, _dumps(value)

    def fetch(self, mode: int, filename: Any, value: Any, read: bool) -> Any:
        if read or mode != MODE_RAW or filename is not None or type(value) is not str:
            return UNREADABLE
        return value

    def remove(self, file_path: Any) -> None:
        """This disk writes no file: a file name in the database was planted there, and is left alone."""

    def filename(self, key: Any = UNKNOWN, value: Any = UNKNOWN) -> tuple[str, str]:
        raise TypeError("the answer cache writes no files")


class _ReadOnlyStore:
    """Reads of a cache database that cannot be written (read-only folder, full disk), straight through sqlite."""

    def __init__(self, database: Path) -> None:
        uri = database.resolve().as_uri()
        last: sqlite3.Error | None = None
        # `immutable=1`: a WAL database in a read-only folder cannot create its `-shm` file otherwise.
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            connection = sqlite3.connect(uri + query, uri=True, check_same_thread=False)
            try:
                connection.execute("SELECT key, raw, expire_time, mode, filename, value FROM Cache LIMIT 1").fetchall()
            except sqlite3.Error as error:
                connection.close()
                last = error
                continue
            self._connection = connection
            self._lock = threading.Lock()
            return
        assert last is not None
        raise last

    def get(self, key: str, default: Any = None, **_: Any) -> Any:
        with self._lock:
            row = self._connection.execute(
                "SELECT expire_time, mode, filename, value FROM Cache WHERE key = ? AND raw = 1", (key,)
            ).fetchone()
        if row is None or (row[0] is not None and row[0] < time.time()):
            return default
        return value if (value := row[3]) is not None and row[1] == MODE_RAW and row[2] is None else UNREADABLE

    def iterkeys(self) -> Iterator[str]:
        with self._lock:
            rows = self._connection.execute("SELECT key FROM Cache WHERE raw = 1 ORDER BY rowid").fetchall()
        return (key for (key,) in rows if type(key) is str)

    def close(self) -> None:
        self._connection.close()


def describe_fault(error: BaseException, location: Path) -> str:
    """A short, specific description of a storage fault, with what to do about it where that is clear."""
    if isinstance(error, diskcache.Timeout):
        return "database is locked (another process holds it)"
    if isinstance(error, OSError) and error.errno in (errno.ENOTDIR, errno.EEXIST):
        blocker = next((p for p in (location, *location.parents) if p.exists() or p.is_symlink()), None)
        if blocker is not None and not blocker.is_dir():
            return f"{blocker} is a file, not a folder"
    if isinstance(error, OSError) and error.errno is not None:
        text = f"{error.strerror or os.strerror(error.errno)} ({errno.errorcode.get(error.errno, error.errno)})"
        if error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            text += ", the disk or quota is full"
        return text
    text = str(error) or type(error).__name__
    name = getattr(error, "sqlite_errorname", None)
    if name:
        text += f" ({name})"
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        text += f"; the cache database is damaged: delete {location} to start a new cache"
    elif "full" in lowered or "disk i/o error" in lowered:
        text += ", is the disk full?"
    return text


class AnswerCache:
    """Validated answers by key, committed as each object completes so a killed build loses nothing.

    Never raises on a storage fault: it logs one warning and continues read-only or off (see `mode`).
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, ttl_days: float | None = None, seal_key: bytes | None = None
    ) -> None:
        """`seal_key` (`secrets.seal_key`) seals what this cache writes, so that it reads back without validation."""
        self.directory = Path(directory)
        self.location = self.directory / FORMAT
        """Where this format's database lives."""
        self.ttl = None if ttl_days is None else ttl_days * 86400.0
        self.stats = CacheStats()
        self.mode = CacheMode.OFF
        self.problem: str | None = None
        """The storage fault this build met, when there was one."""
        self._store: Any = None
        self._invalid_keys: set[str] = set()
        self._seal_key = seal_key
        self._open()

    def _open(self) -> None:
        try:
            self.location.mkdir(parents=True, exist_ok=True)
            self._store = diskcache.Cache(
                str(self.location), disk=JSONOnlyDisk, timeout=LOCK_SECONDS, eviction_policy="none", size_limit=2**40
            )
        except Exception as error:  # any failure to open the optional store degrades, whatever the database holds
            fault = error
        else:
            self.mode = CacheMode.READ_WRITE
            return
        database = self.location / DATABASE
        try:
            if database.is_file():
                self._store = _ReadOnlyStore(database)
                self.mode = CacheMode.READ_ONLY
        except FAULTS:
            self._store = None
        self._degrade(fault, self.mode, opening=True)

    def _degrade(self, error: BaseException, mode: CacheMode, *, opening: bool = False) -> None:
        """Switch to `mode` (read-only or off) and say so once, naming the path and the problem."""
        if mode is CacheMode.OFF and self._store is not None:
            with contextlib.suppress(*FAULTS):
                self._store.close()
            self._store = None
        first = self.problem is None
        self.mode = mode
        self.problem = describe_fault(error, self.location)
        if not first:
            logger.debug("answer cache %s: %s", mode.value, self.problem)
            return
        if mode is CacheMode.READ_ONLY:
            what = "read-only" if opening else "read-only from now on (a write failed)"
            consequence = "cached answers are used; new answers are kept in memory for this build only"
        else:
            what = "off" if opening else "off from now on (a read failed)"
            consequence = "new answers are kept in memory for this build only"
        logger.warning("answer cache %s: %s: %s; %s", what, self.location, self.problem, consequence)

    def _write(self, operation: Callable[[Any], T], default: T) -> T:
        """Run a write on the store; `default` when it cannot be written (a failure turns the cache read-only)."""
        if self.mode is not CacheMode.READ_WRITE:
            return default
        try:
            return operation(self._store)
        except FAULTS as error:
            self._degrade(error, CacheMode.READ_ONLY)
            return default

    # Answers ---------------------------------------------------------------------------------------------------

    def get(self, key: str, answer_schema: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Return the cached entry for `key`, counting a hit or a miss (see `peek`)."""
        entry = self.peek(key, answer_schema)
        if entry is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return entry

    def peek(self, key: str, answer_schema: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Return the valid, unexpired cached entry for `key` without counting a hit or a miss.

        With `answer_schema`, an entry whose answer does not match it is invalid too.
        """
        if self._store is None:
            return None
        try:
            raw = self._store.get(f"answer:{key}", default=None)
        except FAULTS as error:
            self._degrade(error, CacheMode.OFF)
            return None
        if raw is None:
            return None
        entry = self._sealed_entry(key, raw)  # validated when this cache's key sealed it
        if entry is None:
            entry = parse_entry(raw)
            if entry is not None and answer_schema is not None and not _valid(entry["answer"], answer_schema):
                entry = None
            if entry is not None and self._seal_key is not None and "seal" not in entry:
                # validated once, sealed for the next builds (another key's seal is left alone: two users of one
                # cache folder would otherwise rewrite each other's entries on every build)
                self._write(lambda store: store.set(f"answer:{key}", self._with_seal(key, entry)), None)
        if entry is None:
            if key not in self._invalid_keys:
                self._invalid_keys.add(key)
                self.stats.invalid += 1
            return None
        if self.ttl is not None and time.time() - entry["created"] > self.ttl:
            return None
        return entry

    def put(self, key: str, entry: Mapping[str, Any]) -> bool:
        """Commit an entry now (durable before the next object starts); `False` when it could not be stored."""
        if self.mode is not CacheMode.READ_WRITE:
            self.stats.unstored += 1
            return False
        try:
            self._store.set(f"answer:{key}", self.stamped(key, entry))
        except FAULTS as error:
            self.stats.unstored += 1
            self._degrade(error, CacheMode.READ_ONLY)
            return False
        self.stats.stores += 1
        self._invalid_keys.discard(key)
        return True

    def stamped(self, key: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        """`entry` as stored under `key`: with its creation time, and sealed when the cache has a key."""
        return self._with_seal(key, {**entry, "created": time.time()})

    def _with_seal(self, key: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        unsealed = {name: value for name, value in entry.items() if name != "seal"}
        if self._seal_key is None:
            return unsealed
        return {**unsealed, "seal": _seal(self._seal_key, f"answer:{key}", _dumps(unsealed))}

    def _sealed_entry(self, key: str, raw: Any) -> dict[str, Any] | None:
        """The entry `raw` when this cache's key sealed it under `key` (so it was valid when written), else `None`."""
        if self._seal_key is None or not isinstance(raw, str) or '"seal":' not in raw:
            return None
        entry = _decode(raw)
        stored_seal = entry.pop("seal", None) if isinstance(entry, dict) else None
        if not isinstance(stored_seal, str):
            return None
        if not hmac.compare_digest(stored_seal, _seal(self._seal_key, f"answer:{key}", _dumps(entry))):
            return None
        return entry  # type: ignore[return-value]

    # Remembered failures ---------------------------------------------------------------------------------------

    def put_failure(self, key: str, path: str, reason: str) -> None:
        """Remember that the answer for `key` failed the checks after its repair attempt (best effort)."""
        entry = {"path": path, "reason": reason, "created": time.time()}
        self._write(lambda store: store.set(f"failed:{key}", entry), None)

    def failure(self, key: str) -> str | None:
        """The reason an earlier build's answer for `key` failed the checks, if one did (TTL applies)."""
        if self._store is None:
            return None
        try:
            raw = self._store.get(f"failed:{key}", default=None)
        except FAULTS as error:
            self._degrade(error, CacheMode.OFF)
            return None
        entry = _parse_failure(raw)
        if entry is None or (self.ttl is not None and time.time() - entry["created"] > self.ttl):
            return None
        return entry["reason"]

    def forget_failure(self, key: str) -> None:
        """Forget a remembered failure (the answer is asked again)."""
        self._write(lambda store: store.delete(f"failed:{key}"), None)

    # Warm-path records: the fingerprint index; sealed records (code memo, secret scans, parsed lock) ------------

    def index(self, fingerprint: str) -> Any:
        """The decoded `fingerprint -> key` record stored for `fingerprint` (unvalidated data), or `None`."""
        return self._read_data(f"fingerprint:{fingerprint}")

    def put_index(self, fingerprint: str, record: Mapping[str, Any]) -> None:
        """Remember which cache key the prompt with `fingerprint` has (best effort)."""
        self._write(lambda store: store.set(f"fingerprint:{fingerprint}", dict(record)), None)

    def sealed(self, name: str) -> Any:
        """The data `put_sealed` stored under `name` with this cache's seal key (decoded JSON), or `None`.

        A record whose seal does not match (written by anyone without the key, or altered since) reads as absent,
        so what a shared cache folder holds is trusted only when this user or this build's credentials wrote it.
        """
        key = self._seal_key
        record = self._read_data(f"sealed:{name}") if key is not None else None
        if not (isinstance(record, dict) and isinstance(body := record.get("body"), str)):
            return None
        stored_seal = record.get("seal")
        if not (isinstance(stored_seal, str) and hmac.compare_digest(stored_seal, _seal(key, name, body))):  # type: ignore[arg-type]
            return None
        return _decode(body)

    def put_sealed(self, name: str, data: Any) -> None:
        """Store JSON `data` under `name`, sealed with this cache's seal key (without one, nothing is stored)."""
        key = self._seal_key
        if key is None:
            return
        body = _dumps(data)
        self._write(lambda store: store.set(f"sealed:{name}", {"seal": _seal(key, name, body), "body": body}), None)

    def _read_data(self, raw_key: str) -> Any:
        if self._store is None:
            return None
        try:
            raw = self._store.get(raw_key, default=None)
        except FAULTS as error:
            self._degrade(error, CacheMode.OFF)
            return None
        return _decode(raw)

    # Claims ----------------------------------------------------------------------------------------------------

    def claim(self, key: str) -> bool:
        """Mark `key` as being generated; `False` when another build holds a live claim.

        A claim left by a build that was killed (its process is gone) is taken over at once. Without a writable
        store there are no claims across builds: this build goes ahead.
        """
        if self.mode is not CacheMode.READ_WRITE:
            return True
        holder = claim_holder()
        try:
            if self._store.add(f"claim:{key}", holder, expire=CLAIM_SECONDS):
                return True
            with self._store.transact():
                if self._claim_alive(key):
                    return False
                self._store.set(f"claim:{key}", holder, expire=CLAIM_SECONDS)
        except FAULTS as error:
            self._degrade(error, CacheMode.READ_ONLY)
        return True

    def _claim_alive(self, key: str) -> bool:
        """Whether a claim on `key` exists and its build may still be running (a dead local process: no)."""
        if self.mode is not CacheMode.READ_WRITE:
            return False
        try:
            raw = self._store.get(f"claim:{key}", default=None)
        except FAULTS as error:
            self._degrade(error, CacheMode.READ_ONLY)
            return False
        return raw is not None and holder_alive(raw)

    def unclaim(self, key: str) -> None:
        """Drop this build's claim on `key`."""
        self._write(lambda store: store.delete(f"claim:{key}"), None)

    async def wait_for(
        self, key: str, timeout: float = CLAIM_SECONDS, *, answer_schema: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Wait for another build to finish `key`; return its entry, or `None` if its claim lapses."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entry = self.peek(key, answer_schema)
            if entry is not None:
                return entry
            if not self._claim_alive(key):
                return self.peek(key, answer_schema)
            import asyncio  # imported when a request is waited for: a warm build runs no event loop

            await asyncio.sleep(0.25)
        return None

    # Maintenance -----------------------------------------------------------------------------------------------

    def clear(self) -> int:
        """Remove every entry; return how many were removed."""
        return self._write(lambda store: int(store.clear()), 0)

    def invalidate(self, predicate: Callable[[str], Any]) -> int:
        """Remove the answers (and remembered failures) whose stored `path` satisfies `predicate(path)`.

        Invalid entries pass `""`. Returns how many answers were removed.
        """
        if self.mode is not CacheMode.READ_WRITE:
            return 0
        removed = 0
        try:
            for raw_key in list(self._store.iterkeys()):
                if not (isinstance(raw_key, str) and raw_key.startswith(("answer:", "failed:"))):
                    continue
                raw = self._store.get(raw_key, default=None)
                is_answer = raw_key.startswith("answer:")
                entry = parse_entry(raw) if is_answer else _parse_failure(raw)
                if predicate(entry["path"] if entry else ""):
                    self._store.delete(raw_key)
                    removed += is_answer
        except FAULTS as error:
            self._degrade(error, CacheMode.READ_ONLY)
        return removed

    @property
    def where(self) -> str:
        """Where the entries live, for messages."""
        return str(self.directory)

    def __len__(self) -> int:
        if self._store is None:
            return 0
        try:
            return sum(1 for key in self._store.iterkeys() if isinstance(key, str) and key.startswith("answer:"))
        except FAULTS:
            return 0

    def close(self) -> None:
        """Close the underlying database."""
        if self._store is not None:
            try:
                self._store.close()
            except FAULTS as error:
                logger.debug("closing the answer cache: %s", describe_fault(error, self.location))
            self._store = None


def claim_holder() -> list[Any]:
    """What a claim records: this host and process (no credential, nothing else)."""
    return [_HOST, os.getpid()]


def holder_alive(raw: Any) -> bool:
    """Whether the build that recorded the claim `raw` may still be running (a dead local process: no)."""
    holder = _decode(raw)
    if not (
        isinstance(holder, list)
        and len(holder) == 2
        and holder[0] == _HOST
        and type(holder[1]) is int
        and holder[1] > 0
    ):
        return True  # another host, or an unreadable holder: trust the expiry
    try:
        os.kill(holder[1], 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: the process exists
        return True
    return True


def _dumps(data: Any) -> str:
    """JSON text as the store writes it (what a seal covers)."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _seal(key: bytes, name: str, body: str) -> str:
    """A sealed record's seal: bound to its name, so one record cannot stand in for another."""
    return seal(key, f"{name}\0{body}")


def _decode(raw: Any) -> Any:
    """A stored value decoded from JSON text (no NaN or infinities); `None` when it is not JSON text."""
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None


def parse_entry(raw: Any) -> dict[str, Any] | None:
    """Decode and validate one stored entry (JSON text); `None` when it is not a well-formed answer entry."""
    entry = _decode(raw)
    if not _valid(entry, ENTRY_SCHEMA) or not math.isfinite(entry["created"]):
        return None
    return entry


def _parse_failure(raw: Any) -> dict[str, Any] | None:
    """Decode one remembered failure (JSON text with `path`, `reason`, `created`); `None` when malformed."""
    entry = _decode(raw)
    if not (
        isinstance(entry, dict)
        and isinstance(entry.get("path"), str)
        and isinstance(entry.get("reason"), str)
        and isinstance(entry.get("created"), (int, float))
        and math.isfinite(entry["created"])
    ):
        return None
    return entry


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
