"""Keeping credentials out of everything the build writes or sends: messages, URLs, and the source shown to the model.

Every other module goes through these functions: `scrub` for a message or log line, `scrub_url` for a URL shown
to people, `redact_source` for the code about to be sent to the model, `find_secrets` to tell whether an object's
code holds one, `seal` for the warm-path records a build trusts only when it wrote them itself. The detectors
themselves (`detect-secrets` plugins and targeted patterns) are in `redact.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets as random_secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # `redact` imports detect-secrets: only a build that scans or redacts pays for it
    from mkdocs_ai_docstrings._internal.redact import Redaction, SecretFinding

__all__ = [
    "Redaction",
    "SecretFinding",
    "find_secrets",
    "redact_source",
    "scrub",
    "scrub_url",
    "scrub_urls",
    "seal",
    "seal_key",
]

MASK = "***"
"""What a credential becomes in messages and URLs."""
BUILD_KEY = "API key"
"""The kind named in `<redacted:KIND>` for this build's own key or token."""

_SECRET_PARAMS = frozenset(
    {"api-key", "api_key", "apikey", "key", "sig", "signature", "token", "access_token", "code", "password", "secret"}
)
"""Query parameters whose values are credentials (Azure SAS `sig`, `api-key`, OAuth tokens)."""
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_AUTH_VALUE = re.compile(r"(?i)(api-key|authorization)(['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+")


def scrub_url(url: str) -> str:
    """`url` without credentials: no `user:password@`, and `***` for secret query parameters (`api-key`, `sig`...)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return re.sub(r"//[^/@\s]*@", f"//{MASK}@", url)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(name, MASK if name.lower() in _SECRET_PARAMS else value) for name, value in pairs], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub_urls(text: str) -> str:
    """`text` with every URL in it passed through [`scrub_url`][mkdocs_ai_docstrings._internal.secrets.scrub_url]."""
    return _URL.sub(lambda match: scrub_url(match.group(0)), text)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """A message without the build's `secrets`, URL credentials, or anything that looks like an auth header value."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _AUTH_VALUE.sub(rf"\1\2{MASK}", scrub_urls(text))


def find_secrets(text: str) -> tuple[SecretFinding, ...]:
    """The credentials the detectors see in `text` (see `redact.find_secrets`)."""
    from mkdocs_ai_docstrings._internal import redact

    return redact.find_secrets(text)


def redact_source(text: str, secrets: Iterable[str], *, detect: bool = True) -> Redaction:
    """Source about to be sent to the model, with every credential the detectors see (when `detect`) and, always,
    the build's own `secrets` replaced by `<redacted:KIND>`."""
    from mkdocs_ai_docstrings._internal.redact import Redaction, redact_secrets

    secrets = tuple(secret for secret in secrets if secret)
    if detect:
        return redact_secrets(text, extra_literals=secrets)
    count = sum(text.count(secret) for secret in secrets)
    for secret in secrets:
        text = text.replace(secret, f"<redacted:{BUILD_KEY}>")
    return Redaction(text, count, (BUILD_KEY,) if count else ())


def seal_key(secrets: Iterable[str]) -> bytes | None:
    """The key sealing what this build stores for later builds to trust: its API key or token, else a user's own key.

    A user's own key is 32 random bytes in `$XDG_CACHE_HOME/mkdocs-ai-docstrings/seal.key` (default `~/.cache`),
    created on first use, readable by that user only: whoever can write a shared cache folder, but not read it,
    cannot forge a record. `None` when there is neither (the records are then neither read nor written).
    """
    secrets = tuple(secret for secret in secrets if secret)
    if secrets:
        return "\0".join(secrets).encode()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "mkdocs-ai-docstrings" / "seal.key"
    if path not in _USER_KEYS:
        _USER_KEYS[path] = _user_key(path)
    return _USER_KEYS[path]


_USER_KEYS: dict[Path, bytes | None] = {}


def _user_key(path: Path) -> bytes | None:
    for _ in range(2):  # a build creating it at the same moment: read the one it wrote
        try:
            status = path.stat()
            owner = os.getuid() if hasattr(os, "getuid") else status.st_uid
            private = status.st_mode & 0o077 == 0 and status.st_uid == owner
            key = path.read_bytes()
            return key if private and len(key) == 32 else None
        except FileNotFoundError:
            pass
        except OSError:
            return None
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError:
            return None
        with os.fdopen(descriptor, "wb") as file:
            file.write(random_secrets.token_bytes(32))
    return None


def seal(key: bytes, text: str) -> str:
    """The HMAC-SHA256 of `text` under `key`, in hex: compare with `hmac.compare_digest`."""
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def __getattr__(name: str) -> Any:
    """`Redaction` and `SecretFinding`, imported from `redact` on first use."""
    if name in {"Redaction", "SecretFinding"}:
        from mkdocs_ai_docstrings._internal import redact

        return getattr(redact, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
