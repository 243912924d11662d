"""Content-addressed answer cache on disk (diskcache), with TTL, in-flight claims and hit/miss counts."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

CLAIM_SECONDS = 180.0
"""How long an in-flight claim protects an object from a parallel build paying for it too."""

_HOST = socket.gethostname()


def cache_key(parts: Mapping[str, Any]) -> str:
    """Hash every input that changes the answer into a stable key."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """Hit and miss counts of one build."""

    hits: int = 0
    misses: int = 0
    stores: int = 0


class AnswerCache:
    """Validated answers by key, committed as each object completes so a killed build loses nothing."""

    def __init__(self, directory: str | os.PathLike[str], *, ttl_days: float | None = None) -> None:
        self.directory = Path(directory)
        self.ttl = None if ttl_days is None else ttl_days * 86400.0
        self.directory.mkdir(parents=True, exist_ok=True)
        self._store = diskcache.Cache(str(self.directory), timeout=60, eviction_policy="none", size_limit=2**34)
        self.stats = CacheStats()

    def get(self, key: str) -> dict[str, Any] | None:
        """Return the cached entry for `key`, counting a hit or a miss."""
        entry = self.peek(key)
        if entry is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return entry

    def peek(self, key: str) -> dict[str, Any] | None:
        """Return the cached entry for `key` without counting."""
        entry = self._store.get(f"answer:{key}")
        if not isinstance(entry, dict):
            return None
        if self.ttl is not None and time.time() - float(entry.get("created", 0)) > self.ttl:
            return None
        return entry

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        """Commit an entry now (the write is durable before the next object starts)."""
        self._store.set(f"answer:{key}", {**entry, "created": time.time()})
        self.stats.stores += 1

    def put_failure(self, key: str, path: str, reason: str) -> None:
        """Remember that the answer for `key` failed the checks after its repair attempt."""
        self._store.set(f"failed:{key}", {"path": path, "reason": reason, "created": time.time()})

    def failure(self, key: str) -> str | None:
        """The reason an earlier build's answer for `key` failed the checks, if one did (TTL applies)."""
        entry = self._store.get(f"failed:{key}")
        if not isinstance(entry, dict) or not isinstance(entry.get("reason"), str):
            return None
        if self.ttl is not None and time.time() - float(entry.get("created", 0)) > self.ttl:
            return None
        return entry["reason"]

    def forget_failure(self, key: str) -> None:
        """Forget a remembered failure (the answer is asked again)."""
        self._store.delete(f"failed:{key}")

    def claim(self, key: str) -> bool:
        """Mark `key` as being generated; `False` when another build holds a live claim.

        A claim left by a build that was killed (its process is gone) is taken over at once.
        """
        holder = (_HOST, os.getpid())
        if self._store.add(f"claim:{key}", holder, expire=CLAIM_SECONDS):
            return True
        with self._store.transact():
            if self._claim_alive(key):
                return False
            self._store.set(f"claim:{key}", holder, expire=CLAIM_SECONDS)
        return True

    def _claim_alive(self, key: str) -> bool:
        """Whether a claim on `key` exists and its build may still be running (a dead local process: no)."""
        holder = self._store.get(f"claim:{key}")
        if holder is None:
            return False
        if not (isinstance(holder, tuple) and len(holder) == 2 and holder[0] == _HOST and isinstance(holder[1], int)):
            return True  # another host, or an older format: trust the expiry
        try:
            os.kill(holder[1], 0)
        except ProcessLookupError:
            return False
        except OSError:  # e.g. PermissionError: the process exists
            return True
        return True

    def unclaim(self, key: str) -> None:
        """Drop this build's claim on `key`."""
        self._store.delete(f"claim:{key}")

    async def wait_for(self, key: str, timeout: float = CLAIM_SECONDS) -> dict[str, Any] | None:
        """Wait for another build to finish `key`; return its entry, or `None` if its claim lapses."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entry = self.peek(key)
            if entry is not None:
                return entry
            if not self._claim_alive(key):
                return self.peek(key)
            await asyncio.sleep(0.25)
        return None

    def clear(self) -> int:
        """Remove every entry; return how many were removed."""
        return int(self._store.clear())

    def invalidate(self, predicate: Any) -> int:
        """Remove the answers (and remembered failures) whose stored `path` satisfies `predicate(path)`."""
        removed = 0
        for raw_key in list(self._store.iterkeys()):
            if not str(raw_key).startswith(("answer:", "failed:")):
                continue
            entry = self._store.get(raw_key)
            if isinstance(entry, dict) and predicate(entry.get("path", "")):
                self._store.delete(raw_key)
                removed += str(raw_key).startswith("answer:")
        return removed

    def __len__(self) -> int:
        return sum(1 for key in self._store.iterkeys() if str(key).startswith("answer:"))

    def close(self) -> None:
        """Close the underlying database."""
        self._store.close()
