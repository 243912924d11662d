"""Redaction of credentials from source code before any of it is sent to the model.

Detection relies on the `detect-secrets` plugins (token formats, keyword assignments, high-entropy
strings) plus a few targeted patterns for what they miss: PEM key bodies spanning lines, credentials
in connection strings and URLs, `sk-...` keys, bare 32-hex keys, `Bearer`/`Basic` header values and
annotated assignments such as `api_key: str = "..."`. Only the secret value is replaced, by
`<redacted:KIND>`, so the surrounding code stays readable.
"""

from __future__ import annotations

import bisect
import math
import re
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from detect_secrets.filters.heuristic import (
    is_likely_id_string,
    is_potential_uuid,
    is_sequential_string,
    is_templated_secret,
)
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
    HighEntropyStringsPlugin,
)
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import DENYLIST, DENYLIST_REGEX, QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

__all__ = ["Redaction", "SecretFinding", "find_secrets", "redact_secrets"]

# Left out on purpose: `PrivateKeyDetector` flags only the `BEGIN ... PRIVATE KEY` marker (the PEM
# pattern below redacts the key body instead), `IPPublicDetector` (addresses are not credentials)
# and `ArtifactoryDetector` (its `AP...` pattern matches ordinary upper-case identifiers).
_TOKEN_PLUGINS: tuple[type[RegexBasedDetector], ...] = (
    AWSKeyDetector,
    AzureStorageKeyDetector,
    BasicAuthDetector,
    CloudantDetector,
    DiscordBotTokenDetector,
    GitHubTokenDetector,
    GitLabTokenDetector,
    IbmCloudIamDetector,
    IbmCosHmacDetector,
    JwtTokenDetector,
    MailchimpDetector,
    NpmDetector,
    OpenAIDetector,
    PypiTokenDetector,
    SendGridDetector,
    SlackDetector,
    SoftlayerDetector,
    SquareOAuthDetector,
    StripeDetector,
    TelegramBotTokenDetector,
    TwilioKeyDetector,
)
# In these plugins' patterns the capture group is a token prefix (`ghp`, `glpat`), not the secret.
_PREFIX_GROUP_PLUGINS = (GitHubTokenDetector, GitLabTokenDetector)
# Plugins with slow patterns run only on lines where something they need occurs: the assignment patterns
# all end in a value of 24+ characters, the npm one needs `_authToken`.
_LONG_VALUE = re.compile(r"[A-Za-z0-9_\-]{24}")
_MAX_GATED_LINE = 2000
_LINE_GATES: dict[type[RegexBasedDetector], re.Pattern[str]] = {
    CloudantDetector: _LONG_VALUE,
    IbmCloudIamDetector: _LONG_VALUE,
    IbmCosHmacDetector: _LONG_VALUE,
    SoftlayerDetector: _LONG_VALUE,
    NpmDetector: re.compile("_authToken"),
}

_MIN_ENTROPY_LENGTH = 16
"""Shorter quoted strings are not considered by the high-entropy detectors."""

_REDACTED = re.compile(r"<redacted:[^<>\n]*>")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_PLACEHOLDER_WORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "pw", "secret", "token", "key", "apikey", "api_key", "changeme", "redacted"}
)
_PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sdr]|\{[^{}]*\}|\$\{?\w+\}?|\*{3,}|x{3,}|X{3,}")


@dataclass(frozen=True)
class Redaction:
    """The outcome of redacting one text."""

    text: str
    """The text with every secret value replaced by `<redacted:KIND>`."""
    count: int
    """How many secrets were replaced."""
    kinds: tuple[str, ...]
    """The distinct kinds of secrets replaced, in order of first appearance."""


@dataclass(frozen=True)
class SecretFinding:
    """One credential found in a text."""

    kind: str
    """What it is, e.g. `AWS Access Key`."""
    line: int
    """The 1-based line of the text where it starts."""
    start: int
    end: int
    """Its span in the text."""


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    specificity: int = 2
    """Names the kind when hits overlap: 2 for a known token format, 1 for a keyword, 0 for entropy alone."""


_Detector = Callable[[str], Iterator[_Hit]]
_WORD_RUN = re.compile(r"\w*")
_KEY_NAME = re.compile(r"[A-Za-z]\w*\s*=\s*")
_JWT_TAIL = re.compile(r"[A-Za-z0-9\-_.+/=]*")


def _is_placeholder(value: str) -> bool:
    """Values that stand for a secret without being one: `{password}`, `${TOKEN}`, `%s`, `***`, `password`."""
    return (
        not value
        or is_templated_secret(value)
        or bool(_PLACEHOLDER.fullmatch(value))
        or value.lower().strip("_-") in _PLACEHOLDER_WORDS
    )


def _entropy(value: str) -> float:
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _line_spans(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, int]]:
    """Start and end offsets of each line of `text` in which `pattern` occurs."""
    line_end = -1
    for match in pattern.finditer(text):
        if match.start() > line_end:
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.start())
            line_end = len(text) if line_end < 0 else line_end
            yield line_start, line_end


def _word_starts(pattern: re.Pattern[str], line: str) -> list[int]:
    """Where `pattern` occurs in `line`, once per run of word characters (later ones match the same way)."""
    starts: list[int] = []
    run_end = -1
    for match in pattern.finditer(line):
        if match.start() >= run_end:
            starts.append(match.start())
            run_end = _WORD_RUN.match(line, match.start()).end()  # type: ignore[union-attr]
    return starts


def _token_detector(plugin: RegexBasedDetector) -> _Detector:
    """Hits for a `detect-secrets` regex plugin, located with the plugin's own patterns."""
    value_in_group = not isinstance(plugin, _PREFIX_GROUP_PLUGINS)
    # `AccountKey=...`: the key name is part of the match but not of the secret.
    key_name = _KEY_NAME if isinstance(plugin, AzureStorageKeyDetector) else None
    # The JWT pattern ends lazily, before the signature: extend the hit over the rest of the token.
    tail = _JWT_TAIL if isinstance(plugin, JwtTokenDetector) else None

    def scan(text: str, offset: int = 0) -> Iterator[_Hit]:
        for pattern in plugin.denylist:
            for match in pattern.finditer(text):
                # The plugin's own check (JWT: well-formed base64 JSON parts) must still accept the match.
                if not any(True for _ in plugin.analyze_string(match.group(0))):
                    continue
                group = 1 if value_in_group and pattern.groups and match.group(1) else 0
                if _is_placeholder(match.group(group)):
                    continue
                start, end = match.span(group)
                if key_name is not None and (name := key_name.match(text, start)):
                    start = name.end()
                if tail is not None:
                    end = tail.match(text, end).end()  # type: ignore[union-attr]
                yield _Hit(offset + start, offset + end, plugin.secret_type)

    gate = _LINE_GATES.get(type(plugin))
    if gate is None:
        return scan

    def scan_gated_lines(text: str) -> Iterator[_Hit]:
        for line_start, line_end in _line_spans(gate, text):
            if line_end - line_start <= _MAX_GATED_LINE:
                yield from scan(text[line_start:line_end], line_start)

    return scan_gated_lines


def _entropy_detector(plugin: HighEntropyStringsPlugin) -> _Detector:
    """Hits for quoted strings whose entropy exceeds the plugin's limit."""

    def detect(text: str) -> Iterator[_Hit]:
        for match in plugin.regex.finditer(text):
            value = match.group(2)
            if (
                len(value) >= _MIN_ENTROPY_LENGTH
                and plugin.calculate_shannon_entropy(value) > plugin.entropy_limit
                and not is_sequential_string(value)
                and not is_potential_uuid(value)
            ):
                yield _Hit(match.start(2), match.end(2), plugin.secret_type, specificity=0)

    return detect


def _is_keyword_value(value: str, line: str) -> bool:
    """Whether a value assigned to a secret-sounding name looks like a credential (not a name, phrase or template)."""
    return not (
        _is_placeholder(value)
        or _REDACTED.search(value)
        or any(char.isspace() for char in value)
        or not any(char.isalnum() for char in value)
        or _ENV_NAME.fullmatch(value)
        or _DOTTED_PATH.fullmatch(value)
        or is_likely_id_string(value, line)
    )


_MAX_KEYWORD_LINE = 1000
_QUOTE = re.compile("['\"`]")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_KEYWORD_ROOT = re.compile("key|pass|pwd|secret|contrase")
"""A part of every keyword in detect-secrets' `DENYLIST`."""
_KEYWORD_HINT = re.compile("|".join(DENYLIST), re.IGNORECASE)
_ANNOTATED_KEYWORD = re.compile(
    # e.g. `api_key: str = "..."`, `password: Final[str] = '...'` (missed by detect-secrets).
    rf"{DENYLIST_REGEX}\s*:\s*[A-Za-z_][\w\[\]., |]*=\s*(['\"])((?=\w)[^'\"\n]*[^,'\"`\n])\2",
    re.IGNORECASE,
)
_HEADER_KEYWORD = re.compile(
    # e.g. `{"api-key": "..."}`, `"Ocp-Apim-Subscription-Key": "..."`.
    r"(?:api-key|x-api-key|ocp-apim-subscription-key)['\"]?\s*[:=]\s*(['\"])([^'\"\s]{8,})\1",
    re.IGNORECASE,
)


def _keyword_detector(kind: str) -> _Detector:
    """Hits for values assigned to secret-sounding names (`password = "..."`), with detect-secrets' patterns."""
    patterns = [*QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP.items(), (_ANNOTATED_KEYWORD, 3)]
    # Most patterns begin with the keyword itself: try them only where a keyword starts.
    anchored = [(pattern, group) for pattern, group in patterns if pattern.pattern.startswith(DENYLIST_REGEX)]
    floating = [(pattern, group) for pattern, group in patterns if (pattern, group) not in anchored]

    def detect(text: str) -> Iterator[_Hit]:
        # A case-sensitive search in an ASCII-lowercased copy (same offsets) finds candidate lines fast.
        for line_start, line_end in _line_spans(_KEYWORD_ROOT, text.translate(_ASCII_LOWER)):
            line = text[line_start:line_end]
            # Like detect-secrets' own heuristics, leave very long (minified, data) lines to the other detectors.
            if len(line) > _MAX_KEYWORD_LINE or not _QUOTE.search(line):
                continue
            starts = _word_starts(_KEYWORD_HINT, line)
            matches = [(pattern.match(line, start), group) for pattern, group in anchored for start in starts]
            if "==" in line or "!=" in line:
                matches += [(match, group) for pattern, group in floating for match in pattern.finditer(line)]
            for match, group in matches:
                if match and _is_keyword_value(match.group(group), line):
                    yield _Hit(line_start + match.start(group), line_start + match.end(group), kind, 1)
        for match in _HEADER_KEYWORD.finditer(text):
            if _is_keyword_value(match.group(2), match.group(0)):
                yield _Hit(match.start(2), match.end(2), kind, 1)

    return detect


def _pattern_detector(
    pattern: re.Pattern[str], kind: str, accept: Callable[[str], bool] | None = None, specificity: int = 2
) -> _Detector:
    """Hits for the `secret` group of a targeted pattern."""

    def detect(text: str) -> Iterator[_Hit]:
        for match in pattern.finditer(text):
            value = match.group("secret")
            if not _is_placeholder(value) and not _REDACTED.search(value) and (accept is None or accept(value)):
                yield _Hit(match.start("secret"), match.end("secret"), kind, specificity)

    return detect


_PEM_BEGIN = re.compile(r"-----BEGIN (?P<label>[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----")
_PEM_END = re.compile(r"-----END (?P<label>[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----")
_PEM_LEADING = re.compile(r"(?:\\[nr]|[\s\"'])*")
_PEM_UNTERMINATED = re.compile(
    # A truncated source may show the start of a key without its end: take the base64 lines that follow.
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:\\[nr]|[\s\"'])*"
    r"(?P<secret>[A-Za-z0-9+/=]{16,}(?:(?:\\[nr]|[\s\"'])+[A-Za-z0-9+/=]{16,})*)"
)
_PUTTY_KEY = re.compile(r"Private-Lines:\s*\d+\s*\n(?P<secret>(?:[A-Za-z0-9+/=]+\n?)+)")
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"'<>]+:(?P<secret>[^\s@\"'<>/]+)@"
)
_CONNECTION_KEY = re.compile(
    r"\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*(?P<secret>[^;\"'\s]+)", re.IGNORECASE
)
_CONNECTION_PASSWORD = re.compile(
    # Only inside `key=value;` strings, so a Python keyword argument `password=password` is left alone.
    r"(?:(?<=;)\s*(?:password|pwd)\s*=\s*(?P<secret>[^;\"'\s]+)"
    r"|\b(?:password|pwd)\s*=\s*(?P<secret2>[^;\"'\s(){}\[\],]+)(?=\s*;))",
    re.IGNORECASE,
)
_SAS_SIGNATURE = re.compile(r"[?&]sig=(?P<secret>[^&\s\"'#]{16,})")
_SK_KEY = re.compile(r"(?<![\w-])(?P<secret>sk-(?:[A-Za-z]+-)?[A-Za-z0-9_\-]{20,})")
_HEX32_KEY = re.compile(r"(?<![0-9A-Za-z_])(?P<secret>[0-9a-fA-F]{32})(?![0-9A-Za-z_])")
_BEARER = re.compile(r"\bbearer\s+(?P<secret>[A-Za-z0-9\-._~+/]{16,}=*)", re.IGNORECASE)
_BASIC_HEADER = re.compile(
    r"authorization['\"]?\s*[:=,]\s*['\"]?basic\s+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})", re.IGNORECASE
)
_LONG_TOKEN = re.compile(r"(?<![\w+/=-])(?P<secret>[A-Za-z0-9]{32,})(?![\w+/=-])")


def _pem_blocks(text: str) -> Iterator[_Hit]:
    """The body of each `-----BEGIN ... PRIVATE KEY-----` ... `-----END ...-----` block, across lines."""
    ends = [(match.start(), match.group("label")) for match in _PEM_END.finditer(text)]
    end_starts = [start for start, _ in ends]
    for begin in _PEM_BEGIN.finditer(text):
        index = bisect.bisect_left(end_starts, begin.end())
        if index == len(ends) or ends[index][1] != begin.group("label"):
            continue
        start = _PEM_LEADING.match(text, begin.end()).end()  # type: ignore[union-attr]
        end = ends[index][0]
        # Step back over what separates the body from the END marker: whitespace, quotes, `\n` escapes, `+`.
        while end > start:
            if text[end - 1] in " \t\r\n\"'+":
                end -= 1
            elif text[end - 2 : end] in ("\\n", "\\r"):
                end -= 2
            else:
                break
        if end > start:
            yield _Hit(start, end, "Private Key")


def _has_digit(value: str) -> bool:
    return any(char.isdigit() for char in value)


def _hex_key(value: str) -> bool:
    return _has_digit(value) and any(char.isalpha() for char in value)


def _random_token(value: str) -> bool:
    """A long unquoted run of letters and digits that is random rather than a name (Azure AI keys)."""
    digits = sum(char.isdigit() for char in value)
    upper = sum(char.isupper() for char in value)
    lower = sum(char.islower() for char in value)
    return digits >= 2 and upper >= 2 and lower >= 2 and not is_sequential_string(value) and _entropy(value) > 4.3


class _PasswordDetector:
    """The two alternatives of `_CONNECTION_PASSWORD` use two group names."""

    kind = "Connection String Credential"

    def __call__(self, text: str) -> Iterator[_Hit]:
        for match in _CONNECTION_PASSWORD.finditer(text):
            group = "secret" if match.group("secret") is not None else "secret2"
            value = match.group(group)
            if not _is_placeholder(value) and not _REDACTED.search(value):
                yield _Hit(match.start(group), match.end(group), self.kind)


@lru_cache(maxsize=1)
def _detectors() -> tuple[_Detector, ...]:
    """Every detector, built once (plugin instances and compiled patterns are reused across calls)."""
    return (
        _pem_blocks,
        _pattern_detector(_PEM_UNTERMINATED, "Private Key"),
        _pattern_detector(_PUTTY_KEY, "Private Key"),
        *(_token_detector(plugin()) for plugin in _TOKEN_PLUGINS),
        _entropy_detector(Base64HighEntropyString(limit=4.5)),
        _entropy_detector(HexHighEntropyString(limit=3.0)),
        _keyword_detector("Secret Keyword"),
        _pattern_detector(_URL_CREDENTIALS, BasicAuthDetector.secret_type),
        _pattern_detector(_CONNECTION_KEY, "Connection String Credential"),
        _PasswordDetector(),
        _pattern_detector(_SAS_SIGNATURE, "Shared Access Signature"),
        _pattern_detector(_SK_KEY, OpenAIDetector.secret_type, _has_digit),
        _pattern_detector(_HEX32_KEY, "API Key", _hex_key),
        _pattern_detector(_BEARER, "Bearer Token", _has_digit),
        _pattern_detector(_BASIC_HEADER, "Basic Auth Credentials"),
        _pattern_detector(_LONG_TOKEN, "High Entropy Token", _random_token, specificity=0),
    )


def _literal_hits(text: str, literals: Iterable[str]) -> Iterator[_Hit]:
    for literal in sorted({literal for literal in literals if literal and literal.strip()}, key=len, reverse=True):
        start = text.find(literal)
        while start >= 0:
            yield _Hit(start, start + len(literal), "Configured Secret")
            start = text.find(literal, start + len(literal))


def _merge(hits: Iterable[_Hit]) -> list[_Hit]:
    """Overlapping hits become one, named by the most specific of them (the earliest on a tie)."""
    merged: list[_Hit] = []
    for hit in sorted(hits, key=lambda hit: (hit.start, -hit.end)):
        if hit.start >= hit.end:
            continue
        if merged and hit.start < merged[-1].end:
            last = merged[-1]
            named = hit if hit.specificity > last.specificity else last
            merged[-1] = _Hit(last.start, max(last.end, hit.end), named.kind, named.specificity)
        else:
            merged.append(hit)
    return merged


def _find(text: str, extra_literals: Iterable[str] = ()) -> list[_Hit]:
    hits = [hit for detect in _detectors() for hit in detect(text)]
    hits.extend(_literal_hits(text, extra_literals))
    # Markers left by an earlier pass are never secrets themselves.
    markers = [(marker.start(), marker.end()) for marker in _REDACTED.finditer(text)]
    if markers:
        hits = [hit for hit in hits if not any(start <= hit.start and hit.end <= end for start, end in markers)]
    return _merge(hits)


def find_secrets(text: str) -> tuple[SecretFinding, ...]:
    """Every credential the detectors see in `text`, with its kind, line and span."""
    return tuple(
        SecretFinding(hit.kind, text.count("\n", 0, hit.start) + 1, hit.start, hit.end) for hit in _find(text)
    )


def redact_secrets(text: str, *, extra_literals: Iterable[str] = ()) -> Redaction:
    """Replace every credential in `text` by `<redacted:KIND>`.

    Args:
        text: Source code or any text about to be sent to the model.
        extra_literals: Exact strings removed wherever they occur (the product's own API key or token).

    Returns:
        The redacted text, the number of secrets replaced and their kinds.
    """
    merged = _find(text, extra_literals)
    if not merged:
        return Redaction(text=text, count=0, kinds=())
    parts: list[str] = []
    position = 0
    for hit in merged:
        parts.append(text[position : hit.start])
        parts.append(f"<redacted:{hit.kind}>")
        position = hit.end
    parts.append(text[position:])
    kinds = tuple(dict.fromkeys(hit.kind for hit in merged))
    return Redaction(text="".join(parts), count=len(merged), kinds=kinds)
