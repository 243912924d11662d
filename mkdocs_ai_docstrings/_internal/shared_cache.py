"""A shared answer cache in Redis, behind the local one: read local, then Redis (filling local); write both.

Several machines (CI runners, maintainers) pay once for an answer: every entry is stored under the same key, as
the same JSON text, with the same TTL as in the local cache, in a namespace of one Redis server
(`ai-docstrings:v2:<namespace>:answer:<key>`). Redis is optional and never trusted: what it returns is decoded and
validated like a local entry (anything else is a miss), and a server that is down, unreachable or killed mid-build
gives one warning and the build goes on with the local cache. Answers stored while Redis was away are marked in the
local cache and sent by the next build that reaches it; a server that restarted empty (new `run_id`) is seeded
with the whole local cache.

The `redis` client is imported only when a `redis://` URL is configured.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from mkdocs_ai_docstrings._internal.cache import (
    CLAIM_SECONDS,
    FAULTS,
    FORMAT,
    UNREADABLE,
    AnswerCache,
    _parse_failure,
    claim_holder,
    holder_alive,
    parse_entry,
)
from mkdocs_ai_docstrings._internal.logger import logger
from mkdocs_ai_docstrings._internal.settings import redis_url_problem

if TYPE_CHECKING:
    import os

    import redis

T = TypeVar("T")

URL_VARIABLE = "AI_DOCSTRINGS_CACHE_URL"
"""Environment variable naming the shared cache when the `cache_url` option is not set."""

NAMESPACE_VARIABLE = "AI_DOCSTRINGS_CACHE_NAMESPACE"
"""Environment variable naming the namespace when the `cache_namespace` option is not set."""

SCHEMES = ("redis", "rediss")
"""URL schemes of a Redis server (`rediss`: TLS)."""

PREFIX = "ai-docstrings"

CONNECT_TIMEOUT = 1.0
"""Seconds to open a connection: an unreachable server costs the build at most this, once."""

SOCKET_TIMEOUT = 2.0
"""Seconds one command may take before the server counts as gone for the rest of the build."""

BATCH = 500
"""Entries sent per pipeline when seeding or re-syncing."""

_UNSYNCED = "shared-unsynced:"
"""Local key prefix marking an entry Redis has not received yet (the value is `1`)."""

_UNSYNCED_ANY = "shared-unsynced"
"""Local key present while at least one entry is marked."""

_SEEDED = "shared-seeded"
"""Local key recording which server (URL, namespace and `run_id`) received the whole local cache."""

_SHARED_PREFIXES = ("answer:", "failed:")
"""What is shared: answers and remembered failures (claims are shared separately, with an expiry)."""

_NAMESPACE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
"""Delete a claim only while it is still this build's."""


def is_redis_url(url: str | None) -> bool:
    """Whether `url` is a usable Redis URL (`redis://` or `rediss://` with a host)."""
    return bool(url) and redis_url_problem(url or "") is None


def public_url(url: str) -> str:
    """`url` without user name, password or query: what messages and reports may show."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or "?"
        port = parts.port or 6379
    except ValueError:
        return "redis://?"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}:{port}{parts.path or '/0'}"


def _secrets_of(url: str) -> tuple[str, ...]:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ()
    return tuple(unquote(s) for s in (parts.password, parts.username) if s and len(s) >= 3)


def namespace_from(name: str) -> str:
    """A namespace made of `name`: letters, digits, `.`, `_` and `-` (others become `-`), at most 64 characters."""
    cleaned = _NAMESPACE_CHARACTERS.sub("-", name).strip("-.")[:64]
    return cleaned or "default"


def open_cache(
    directory: str | os.PathLike[str],
    *,
    ttl_days: float | None = None,
    url: str | None = None,
    namespace: str = "default",
    seal_key: bytes | None = None,
) -> AnswerCache:
    """The local answer cache, with Redis behind it when `url` is a Redis URL (`seal_key`: see `AnswerCache`)."""
    if not is_redis_url(url):
        return AnswerCache(directory, ttl_days=ttl_days, seal_key=seal_key)
    assert url is not None
    return LayeredCache(directory, ttl_days=ttl_days, url=url, namespace=namespace, seal_key=seal_key)


class RedisUnavailable(Exception):
    """The server cannot be used (not installed, refused, timed out, killed, rejected the password)."""


class RedisStore:
    """Raw entries (JSON text) by name in one namespace of a Redis server; every fault is `RedisUnavailable`."""

    def __init__(self, url: str, namespace: str) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise RedisUnavailable(
                "the `redis` client is not installed (pip install 'mkdocs-ai-docstrings[redis]')"
            ) from None
        self.prefix = f"{PREFIX}:{FORMAT}:{namespace}:"
        self._secrets = _secrets_of(url)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError, ValueError)
        try:
            self._client: redis.Redis = redis.Redis.from_url(
                url.strip(),
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                decode_responses=False,
            )
        except self._errors as error:
            raise RedisUnavailable(self._describe(error)) from None
        self._release = self._client.register_script(_RELEASE)
        self._call(self._client.ping)

    def _describe(self, error: BaseException) -> str:
        text = str(error) or type(error).__name__
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except self._errors as error:
            raise RedisUnavailable(self._describe(error)) from None

    def server_id(self) -> str:
        """The server's `run_id` (it changes when the server restarts), or `""` where `INFO` is not allowed."""
        import redis

        try:
            info = self._client.info("server")
        except redis.ResponseError:
            return ""
        except self._errors as error:
            raise RedisUnavailable(self._describe(error)) from None
        return str(info.get("run_id", ""))

    def get(self, name: str) -> Any:
        """The text stored under `name`; `None` when absent, `UNREADABLE` when it is not UTF-8 text."""
        return _value(self._call(self._client.get, self.prefix + name))

    def set(self, name: str, text: str, ttl: float | None = None) -> None:
        """Store `text` under `name`, expiring after `ttl` seconds (`None`: never)."""
        self._call(self._client.set, self.prefix + name, text.encode("utf-8"), px=_milliseconds(ttl))

    def add(self, name: str, text: str, ttl: float) -> bool:
        """Store `text` under `name` only if nothing is there (`SET NX` with an expiry); whether it was stored."""
        return bool(
            self._call(self._client.set, self.prefix + name, text.encode("utf-8"), nx=True, px=_milliseconds(ttl))
        )

    def release(self, name: str, text: str) -> None:
        """Delete `name` only while it still holds `text` (atomic, on the server)."""
        self._call(self._release, keys=[self.prefix + name], args=[text.encode("utf-8")])

    def delete(self, *names: str) -> int:
        """Delete `names`; how many existed."""
        if not names:
            return 0
        return int(self._call(self._client.delete, *(self.prefix + name for name in names)))

    def names(self, start: str = "") -> Iterator[str]:
        """Every name in the namespace beginning with `start` (the namespace holds no glob character)."""
        for raw in self._call(lambda: list(self._client.scan_iter(match=f"{self.prefix}{start}*", count=1000))):
            name = _text(raw)
            if name is not None and name.startswith(self.prefix):
                yield name[len(self.prefix) :]

    def get_many(self, names: list[str]) -> list[Any]:
        """What `get` returns for each of `names`, in order, in one round trip."""
        if not names:
            return []
        return [_value(raw) for raw in self._call(self._client.mget, [self.prefix + name for name in names])]

    def add_many(self, items: list[tuple[str, str, float | None]]) -> None:
        """`add` each `(name, text, ttl)` in one round trip (entries already there are kept)."""
        pipeline = self._client.pipeline(transaction=False)
        for name, text, ttl in items:
            pipeline.set(self.prefix + name, text.encode("utf-8"), nx=True, px=_milliseconds(ttl))
        self._call(pipeline.execute)

    def close(self) -> None:
        """Close the connections (never raises)."""
        with contextlib.suppress(*self._errors):
            self._client.close()


def _text(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, bytes):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _value(raw: Any) -> Any:
    if raw is None:
        return None
    text = _text(raw)
    return UNREADABLE if text is None else text


def _milliseconds(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))


def _encode(value: Any) -> str:
    """The JSON text of a value, exactly as the local cache stores it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@dataclass
class SharedStats:
    """What Redis did this build (the hit and miss counts of `AnswerCache.stats` include its hits)."""

    hits: int = 0
    """Answers found in Redis, not in the local cache."""
    sent: int = 0
    """Entries written to Redis (new answers, remembered failures, re-synced entries)."""
    synced: int = 0
    """Entries of the local cache sent at the start (seeding a new server, or answers stored while it was away)."""


class LayeredCache(AnswerCache):
    """The local answer cache in front of a shared Redis one; a Redis fault turns Redis off for the build."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        ttl_days: float | None = None,
        url: str,
        namespace: str,
        seal_key: bytes | None = None,
    ) -> None:
        super().__init__(directory, ttl_days=ttl_days, seal_key=seal_key)
        self.url = public_url(url)
        """The server, without credentials."""
        self.namespace = namespace
        self.shared_stats = SharedStats()
        self.shared_problem: str | None = None
        """Why Redis is off this build, when it is."""
        self.shared: RedisStore | None = None
        try:
            self.shared = RedisStore(url, namespace)
        except RedisUnavailable as error:
            self._lose_shared(error)
            return
        logger.info("shared answer cache: %s (namespace %s) behind %s", self.url, namespace, self.location)
        self._on_shared(self._sync, None)

    @property
    def where(self) -> str:
        return f"{self.directory} and {self.url} (namespace {self.namespace})"

    # Redis faults ----------------------------------------------------------------------------------------------

    def _lose_shared(self, error: BaseException) -> None:
        """Turn Redis off for the rest of the build, with one warning."""
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        if self.shared_problem is not None:
            return
        self.shared_problem = str(error).rstrip(". ")
        logger.warning(
            "shared answer cache off: %s (namespace %s): %s; the build goes on with the local cache %s, and "
            "answers stored there are sent to Redis by the next build that reaches it",
            self.url,
            self.namespace,
            self.shared_problem,
            self.location,
        )

    def _on_shared(self, operation: Callable[[RedisStore], T], default: T) -> T:
        """Run `operation` on Redis; `default` when Redis is off or fails now (it is then off for the build)."""
        if self.shared is None:
            return default
        try:
            return operation(self.shared)
        except RedisUnavailable as error:
            self._lose_shared(error)
            return default

    def _send(self, name: str, value: Mapping[str, Any]) -> bool:
        """Write an entry to Redis with the rest of its TTL; when Redis is off, mark it for the next build."""
        ttl = None if self.ttl is None else self.ttl - (time.time() - value["created"])
        if ttl is not None and ttl <= 0:
            return False
        text = _encode(value)
        if self._on_shared(lambda shared: shared.set(name, text, ttl) or True, False):
            self.shared_stats.sent += 1
            return True

        def mark(store: Any) -> None:
            store.set(_UNSYNCED + name, 1)
            store.set(_UNSYNCED_ANY, 1)

        self._write(mark, None)
        return False

    # Re-sync ---------------------------------------------------------------------------------------------------

    def _sync(self, shared: RedisStore) -> None:
        """Seed a server that has not received this local cache; else send the entries marked while it was away."""
        if self._store is None:
            return
        seeded = {"server": self.url, "namespace": self.namespace, "run_id": shared.server_id()}
        try:
            recorded = self._store.get(_SEEDED, default=None)
            marked = self._store.get(_UNSYNCED_ANY, default=None) is not None
        except FAULTS:
            return
        if recorded != _encode(seeded) or marked:
            self._write(lambda store: store.delete(_UNSYNCED_ANY), None)  # first: later marks set it again
        local = self._local_names()
        marks = {name[len(_UNSYNCED) :] for name in local if name.startswith(_UNSYNCED)}
        if recorded != _encode(seeded):
            names = [name for name in local if name.startswith(_SHARED_PREFIXES)]
        elif marked:
            names = sorted(marks)
        else:
            return
        sent = self._push(shared, names, marks)
        if recorded != _encode(seeded):
            self._write(lambda store: store.set(_SEEDED, seeded), None)
        if sent:
            logger.info("shared answer cache: %d local entr%s sent to %s", sent, "y" if sent == 1 else "ies", self.url)

    def _local_names(self) -> list[str]:
        try:
            return [name for name in self._store.iterkeys() if isinstance(name, str)]
        except FAULTS:
            return []

    def _push(self, shared: RedisStore, names: list[str], marks: set[str]) -> int:
        """Send the valid, unexpired local entries `names` to Redis (kept there when present); clear their marks."""
        sent = 0
        for start in range(0, len(names), BATCH):
            items: list[tuple[str, str, float | None]] = []
            for name in names[start : start + BATCH]:
                try:
                    raw = self._store.get(name, default=None)
                except FAULTS:
                    continue
                entry = parse_entry(raw) if name.startswith("answer:") else _parse_failure(raw)
                if entry is None:
                    continue
                ttl = None if self.ttl is None else self.ttl - (time.time() - entry["created"])
                if ttl is None or ttl > 0:
                    items.append((name, _encode(entry), ttl))
            shared.add_many(items)
            sent += len(items)
            done = [name for name in names[start : start + BATCH] if name in marks]
            self._write(lambda store, done=done: [store.delete(_UNSYNCED + name) for name in done], None)
        self.shared_stats.synced += sent
        return sent

    # Answers ---------------------------------------------------------------------------------------------------

    def peek(self, key: str, answer_schema: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The local entry, else Redis's (validated the same way, then stored locally)."""
        entry = super().peek(key, answer_schema)
        if entry is not None or self.shared is None:
            return entry
        raw = self._on_shared(lambda shared: shared.get(f"answer:{key}"), None)
        if raw is None:
            return None
        entry = self._validated(key, raw, answer_schema)
        if entry is None or (self.ttl is not None and time.time() - entry["created"] > self.ttl):
            return None
        self._write(lambda store: store.set(f"answer:{key}", entry), None)  # its creation time is kept
        self.shared_stats.hits += 1
        return entry

    def _validated(self, key: str, raw: Any, answer_schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
        from jsonschema import Draft202012Validator

        entry = parse_entry(raw)
        if (
            entry is not None
            and answer_schema is not None
            and not Draft202012Validator(answer_schema).is_valid(entry["answer"])
        ):
            entry = None
        if entry is None and key not in self._invalid_keys:
            self._invalid_keys.add(key)
            self.stats.invalid += 1
        return entry

    def put(self, key: str, entry: Mapping[str, Any]) -> bool:
        """Commit an entry locally and to Redis, with one creation time; `False` when neither could store it."""
        stamped = self.stamped(key, entry)
        stored = self._write(lambda store: store.set(f"answer:{key}", stamped) or True, False)
        shared = self._send(f"answer:{key}", stamped)
        if stored or shared:
            self.stats.stores += 1
            self._invalid_keys.discard(key)
        else:
            self.stats.unstored += 1
        return stored or shared

    # Remembered failures ---------------------------------------------------------------------------------------

    def put_failure(self, key: str, path: str, reason: str) -> None:
        super().put_failure(key, path, reason)
        self._send(f"failed:{key}", {"path": path, "reason": reason, "created": time.time()})

    def failure(self, key: str) -> str | None:
        reason = super().failure(key)
        if reason is not None or self.shared is None:
            return reason
        entry = _parse_failure(self._on_shared(lambda shared: shared.get(f"failed:{key}"), None))
        if entry is None or (self.ttl is not None and time.time() - entry["created"] > self.ttl):
            return None
        self._write(lambda store: store.set(f"failed:{key}", entry), None)
        return entry["reason"]

    def forget_failure(self, key: str) -> None:
        super().forget_failure(key)
        self._on_shared(lambda shared: shared.delete(f"failed:{key}"), 0)

    # Claims ----------------------------------------------------------------------------------------------------

    def claim(self, key: str) -> bool:
        """Claim `key` in Redis (`SET NX` with the claim's expiry), so builds on other machines wait for this one.

        A claim left by a killed build on this host is taken over; without Redis, the local claim is used.
        """
        holder = _encode(claim_holder())
        taken = self._on_shared(lambda shared: shared.add(f"claim:{key}", holder, CLAIM_SECONDS), None)
        if taken is None:
            return super().claim(key)
        if taken or not self._claim_alive(key):
            if not taken:
                self._on_shared(lambda shared: shared.set(f"claim:{key}", holder, CLAIM_SECONDS), None)
            return True
        return False

    def _claim_alive(self, key: str) -> bool:
        if self.shared is None:
            return super()._claim_alive(key)
        raw = self._on_shared(lambda shared: shared.get(f"claim:{key}"), None)
        if self.shared is None:
            return super()._claim_alive(key)
        return raw is not None and holder_alive(raw)

    def unclaim(self, key: str) -> None:
        self._on_shared(lambda shared: shared.release(f"claim:{key}", _encode(claim_holder())), None)
        super().unclaim(key)

    # Maintenance -----------------------------------------------------------------------------------------------

    def clear(self) -> int:
        """Remove every entry of the local cache and of the namespace in Redis; how many were removed in all."""
        local = super().clear()
        return local + self._on_shared(lambda shared: shared.delete(*shared.names()), 0)

    def invalidate(self, predicate: Callable[[str], Any]) -> int:
        """Remove matching answers and failures locally and in Redis; the answers removed, both places counted."""
        removed = super().invalidate(predicate)

        def in_shared(shared: RedisStore) -> int:
            count = 0
            for prefix, parse in (("answer:", parse_entry), ("failed:", _parse_failure)):
                names = list(shared.names(prefix))
                doomed = []
                for start in range(0, len(names), BATCH):
                    batch = names[start : start + BATCH]
                    for name, raw in zip(batch, shared.get_many(batch), strict=True):
                        entry = parse(raw)
                        if predicate(entry["path"] if entry else ""):
                            doomed.append(name)
                shared.delete(*doomed)
                count += len(doomed) if prefix == "answer:" else 0
            return count

        return removed + self._on_shared(in_shared, 0)

    def shared_count(self) -> int | None:
        """Answers in the namespace in Redis; `None` when Redis is off."""
        return self._on_shared(lambda shared: sum(1 for _ in shared.names("answer:")), None)

    def close(self) -> None:
        stats = self.shared_stats
        if self.shared is not None and (stats.hits or stats.sent or stats.synced):
            logger.info(
                "shared answer cache %s: %d hit(s), %d entr%s sent",
                self.url,
                stats.hits,
                stats.sent + stats.synced,
                "y" if stats.sent + stats.synced == 1 else "ies",
            )
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        super().close()


def default_namespace(config_dir: str | os.PathLike[str] | None, base_dir: str | os.PathLike[str]) -> str:
    """The namespace when none is configured: the name of the site's folder (the folder of `mkdocs.yml`)."""
    folder = Path(config_dir if config_dir is not None else base_dir).resolve()
    return namespace_from(folder.name)


def shared_cache_options(
    url: str | None,
    namespace: str | None,
    environ: Mapping[str, str],
    *,
    config_dir: str | os.PathLike[str] | None = None,
    base_dir: str | os.PathLike[str] = ".",
) -> tuple[str | None, str]:
    """The Redis URL (option, else `$AI_DOCSTRINGS_CACHE_URL`) and namespace (option, else env, else the folder).

    The option was checked with the settings; a variable that is not a Redis URL gives a warning (never showing
    the value) and the local cache only.
    """
    if not url:
        url = environ.get(URL_VARIABLE, "").strip() or None
        if url is not None and not is_redis_url(url):
            logger.warning(
                "$%s is not a redis:// or rediss:// URL (not shown: it may hold a password); using the local cache only",
                URL_VARIABLE,
            )
            url = None
    chosen = namespace or environ.get(NAMESPACE_VARIABLE, "").strip()
    return url, namespace_from(chosen) if chosen else default_namespace(config_dir, base_dir)
