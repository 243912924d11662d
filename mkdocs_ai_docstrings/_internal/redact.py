"""Redaction of credentials from source code before any of it is sent to the model.

Detection relies on the `detect-secrets` plugins (token formats, keyword assignments, high-entropy
strings) plus a few targeted patterns for what they miss: PEM key bodies spanning lines, credentials
in connection strings and URLs, `sk-...` keys, bare 32-hex keys, `Bearer`/`Basic` header values and
annotated assignments such as `api_key: str = "..."`. Only the secret value is replaced, by
`<redacted:KIND>`, so the surrounding code stays readable.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import enum
import math
import re
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
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

from mkdocs_ai_docstrings._internal.literals import Literal, joined_view, scan_literals

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
_PLACEHOLDER = re.compile(
    r"%(?:\(\w+\))?[sdr]|\{[^{}]*\}|\$\{?\w+\}?|\*{3,}|x{3,}|X{3,}|<[^<>]*>|\{\{.*\}\}|\$\{\{.*\}\}|.*(?:\.{3}|…)"
)
_FAKE_WORDS = frozenset(
    {
        "test", "testing", "mock", "mocked", "fake", "dummy", "example", "sample", "placeholder", "changeme",
        "your", "my", "here", "value", "secret", "password", "passwd", "token", "key", "api", "apikey", "access",
        "redacted", "insert", "replace", "todo", "foo", "bar", "baz", "demo", "none", "null", "default", "goes",
    }
)  # fmt: skip
"""Words a stand-in value is made of (`test-key`, `fake_token`, `your-secret-here`)."""
_WORD_PARTS = re.compile(r"[-_.\s]+")


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
    weak: bool = False
    """Random-looking but without context (a bare 32-hex value): kept only next to another credential on its line."""


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
        or _is_fake(value)
    )


def _is_fake(value: str) -> bool:
    """A value made only of letters forming stand-in words, such as `test-key` or `your_secret_here`."""
    parts = [part for part in _WORD_PARTS.split(value.lower()) if part]
    return bool(parts) and all(part.isalpha() for part in parts) and any(part in _FAKE_WORDS for part in parts)


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


_HASH_CONTEXT = re.compile(
    r"(?<![a-z])(?:sha|md|blake|crc|xxh)[0-9]*(?:[_-]?[0-9]+)?(?![a-z])|digest|hash|checksum|commit|(?<![a-z])rev(?![a-z])"
    r"|revision|etag|fingerprint|integrity|expected|vector|uuid|guid|(?<![a-z])ids?(?![a-z])|_ids?(?![a-z])|nonce"
    r"|(?<![a-z])git(?![a-z])|(?<![a-z])hex(?![a-z])|colou?r|version",
    re.IGNORECASE,
)
"""Names and words around a value that say it is a digest, an identifier or a revision, not a credential."""
_KEY_CONTEXT = re.compile(
    r"key|secret|token|passw|pwd|auth|credential|signature|(?<![a-z])sig(?![a-z])|bearer|(?<![a-z])api|sas(?![a-z])",
    re.IGNORECASE,
)
"""Names and words around a value that say it is a credential."""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTEXT_REACH = 200
_SRI_PREFIX = re.compile(r"(?:sha(?:1|224|256|384|512)|md5)[-:]", re.IGNORECASE)


class _Context(enum.Enum):
    KEY = "key"
    HASH = "hash"
    NONE = "none"


def _context(text: str, start: int) -> _Context:
    """What the code around the value at `start` says it is: the name it is given first, then its line."""
    line_start = text.rfind("\n", 0, start) + 1
    prefix = text[max(line_start, start - _CONTEXT_REACH) : start]
    names = _IDENTIFIER.findall(prefix)
    if names:
        if _HASH_CONTEXT.search(names[-1]):
            return _Context.HASH
        if _KEY_CONTEXT.search(names[-1]):
            return _Context.KEY
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else min(line_end, start + _CONTEXT_REACH)
    if _HASH_CONTEXT.search(prefix) or _HASH_CONTEXT.search(text, start, line_end):
        return _Context.HASH
    return _Context.KEY if _KEY_CONTEXT.search(prefix) else _Context.NONE


_HEX_VALUE = re.compile(r"[0-9a-fA-F]+")
_WORD = re.compile(r"[A-Z]?[a-z]{3,}|[A-Z]{3,}(?![a-z])")


def _wordlike(value: str) -> bool:
    """Mostly made of words (`AbstractProxyFactoryV2`, `test_name_here`), like an identifier."""
    return sum(len(word) for word in _WORD.findall(value)) >= 0.7 * len(value)


def _text_like(value: str) -> bool:
    """Base64 of ordinary text (a banner, a test fixture), not of random bytes."""
    try:
        data = base64.b64decode(
            value + "=" * (-len(value) % 4), altchars=b"-_" if "-" in value or "_" in value else None
        )
    except (binascii.Error, ValueError):
        return False
    if len(data) < 8:
        return False
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sum(char.isprintable() or char.isspace() for char in decoded) >= 0.95 * len(decoded)


def _contextual_hit(text: str, start: int, end: int, kind: str, *, hexadecimal: bool) -> _Hit | None:
    """A hit for a random-looking value found without a format, judged by its context.

    Hex values (digests, SHAs, UUIDs) count only next to a key-like name; near a hash-like name nothing counts.
    Other values count unless they are SRI hashes, base64 of text or made of words.
    """
    context = _context(text, start)
    if context is _Context.HASH:
        return None
    value = text[start:end]
    if context is _Context.KEY:
        return _Hit(start, end, kind, specificity=0)
    if hexadecimal:
        return _Hit(start, end, kind, specificity=0, weak=True) if len(value) >= 32 else None
    if _SRI_PREFIX.match(text, max(0, start - 7), start) or _wordlike(value) or _text_like(value):
        return None
    return _Hit(start, end, kind, specificity=0)


def _entropy_detector(plugin: HighEntropyStringsPlugin) -> _Detector:
    """Hits for quoted strings whose entropy exceeds the plugin's limit, judged by their context."""

    def detect(text: str) -> Iterator[_Hit]:
        for match in plugin.regex.finditer(text):
            value = match.group(2)
            if (
                len(value) >= _MIN_ENTROPY_LENGTH
                and plugin.calculate_shannon_entropy(value) > plugin.entropy_limit
                and not is_sequential_string(value)
                and not is_potential_uuid(value)
                and not _SRI_PREFIX.match(value)
            ):
                hexadecimal = bool(_HEX_VALUE.fullmatch(value))
                hit = _contextual_hit(text, match.start(2), match.end(2), plugin.secret_type, hexadecimal=hexadecimal)
                if hit is not None:
                    yield hit

    return detect


def _is_keyword_value(value: str, line: str, start: int | None = None) -> bool:
    """Whether a value assigned to a secret-sounding name looks like a credential (not a name, phrase or template)."""
    if start is not None and _HEX_VALUE.fullmatch(value) and _context(line, start) is _Context.HASH:
        return False  # `password_sha1 = "..."`: a digest of a secret
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
                if match and _is_keyword_value(match.group(group), line, match.start(group)):
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
_PEM_LEADING = re.compile(r"(?:\\+[nr]|[\s\"'])*")
_PEM_UNTERMINATED = re.compile(
    # A truncated source may show the start of a key without its end: take the base64 lines that follow.
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:\\+[nr]|[\s\"'])*"
    r"(?P<secret>[A-Za-z0-9+/=]{16,}(?:(?:\\+[nr]|[\s\"'])+[A-Za-z0-9+/=]{16,})*)"
)
_PUTTY_KEY = re.compile(r"Private-Lines:\s*\d+\s*\n(?P<secret>(?:[A-Za-z0-9+/=]+\n?)+)")
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"'<>]*:(?P<secret>[^\s@\"'<>/]+)@"
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


_TOKEN_FORMATS: tuple[tuple[str, str], ...] = (
    # Formats detect-secrets lacks (or matches only in part, like Stripe's longer keys).
    ("Google API Key", r"AIza[0-9A-Za-z_\-]{35}"),
    ("Google OAuth Client Secret", r"GOCSPX-[0-9A-Za-z_\-]{28}"),
    ("Google OAuth Access Token", r"ya29\.[0-9A-Za-z_\-]{30,}"),
    ("GitHub Token", r"github_pat_[0-9A-Za-z_]{60,}|gh[pousr]_[0-9A-Za-z]{36,}"),
    ("Stripe Access Key", r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
    ("npm Token", r"npm_[0-9A-Za-z]{36}"),
    ("Hugging Face Token", r"hf_[0-9A-Za-z]{34,}"),
    ("Slack Token", r"xox[abposr]-[0-9A-Za-z\-]{10,}|xapp-\d-[0-9A-Za-z\-]{10,}"),
    ("Azure AD Client Secret", r"[0-9A-Za-z_~.]{3}\dQ~[0-9A-Za-z_~.\-]{31,34}"),
    ("Shopify Token", r"shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}"),
    ("DigitalOcean Token", r"do[opr]_v1_[0-9a-f]{64}"),
    ("Databricks Token", r"dapi[0-9a-f]{32}(?:-\d)?"),
    ("Mailgun Key", r"key-[0-9a-f]{32}"),
    ("Vault Token", r"hv[sbr]\.[0-9A-Za-z_\-]{24,}"),
    ("Postman Key", r"PMAK-[0-9a-f]{24}-[0-9a-f]{34}"),
    ("Age Secret Key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
    ("Atlassian Token", r"ATATT3[0-9A-Za-z_\-=]{150,}"),
    ("Supabase Token", r"sbp_[0-9a-f]{40}"),
    ("Linear Key", r"lin_api_[0-9A-Za-z]{40}"),
    ("Discord Webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[0-9A-Za-z_\-]{60,}"),
)
_TOKEN_FORMAT = re.compile(
    "|".join(f"(?P<f{index}>{pattern})" for index, (_, pattern) in enumerate(_TOKEN_FORMATS)).join(
        (r"(?<![0-9A-Za-z_\-])(?:", r")(?![0-9A-Za-z_\-])")
    )
)
_TOKEN_FORMAT_HINT = re.compile(
    r"AIza|GOCSPX|ya29|gh[pousr]_|github_pat|[sr]k_|npm_|hf_|xox|xapp|Q~|shp|_v1_|dapi|key-|hv[sbr]\.|PMAK|AGE-|ATATT|sbp_|lin_api|discord"
)


def _token_formats(text: str) -> Iterator[_Hit]:
    """Hits for the token formats of `_TOKEN_FORMATS` (one combined pattern, tried only where a prefix occurs)."""
    if not _TOKEN_FORMAT_HINT.search(text):
        return
    for match in _TOKEN_FORMAT.finditer(text):
        group = match.lastgroup
        if group is not None and not _is_placeholder(match.group()):
            yield _Hit(match.start(), match.end(), _TOKEN_FORMATS[int(group[1:])][0])


_SECRET_ROOTS = (
    r"password|passwd|passphrase|(?<![a-z])pass(?![a-z])|pwd|secret(?!ar)|token(?!i[sz])|api[_.\-]?key|apikey"
    r"|access[_.\-]?key|private[_.\-]?key|signing[_.\-]?key|master[_.\-]?key|account[_.\-]?key|auth(?!or)"
    r"|credentials?|signature|(?<![a-z])sas(?![a-z])|(?<![a-z])sig(?![a-z])"
)
"""Parts of names that hold credentials (`author`, `tokenizer`, `design` and `bypass` left out)."""
_SECRET_NAME = rf"[A-Za-z0-9_.\-]*(?:{_SECRET_ROOTS})[A-Za-z0-9_.\-]*"
_NOT_SECRET_NAME = re.compile(
    r"(?:_|-|\.|\b)(?:type|kind|name|names|file|path|dir|env|var|url|uri|endpoint|host|id|ids|length|len|size"
    r"|hash|sha\d*|md5|digest|prompt|expiry|expires?|expiration|ttl|timeout|field|header|count|min|max|policy|format"
    r"|mode|enabled|required|method|scheme|prefix|suffix|pattern|regex|limit|version|label|placeholder|hint|help"
    r"|error|message|char|chars|encoding|provider|backend|store|manager|source|location|ref|reset|reuse|rotation)$"
    r"|^(?:use|is|has|no|show|require|allow|enable|disable|num|max|min)_",
    re.IGNORECASE,
)
_VALUE_END = r"(?=[ \t]*(?:\r?\n|\\[nr]|$|[ \t]#))"
_CONFIG_LINE = re.compile(
    # `password: x`, `secret = x`, `export APP_SECRET=x`, `DB_PASS="x"`, `set TOKEN=x` as lines of a string.
    rf"(?:^|(?<=\n)|(?<=\\n))[ \t]*(?:export[ \t]+|set[ \t]+|setx[ \t]+)?(?P<q1>[\"']?)(?P<name>{_SECRET_NAME})(?P=q1)"
    rf"[ \t]*(?::|=|:=)[ \t]*(?P<q>[\"']?)(?P<secret>[^\s\"'\\]+)(?P=q){_VALUE_END}",
    re.IGNORECASE,
)
_PATH = re.compile(r"(?:~|\.{1,2})?/[\w.\-]+(?:/[\w.\-]+)*/?|(?:\.{1,2}|~)/?")
_INLINE_ASSIGNMENT = re.compile(
    # `host=db password=x dbname=app` (libpq), `user=a;password=x`, `--password x`, `docker login -p x`.
    rf"(?:(?<=[\s;,&])|^)(?:(?P<name>{_SECRET_NAME})=(?P<q>[\"']?)(?P<secret>[^\s\"';&,]+)(?P=q)"
    r"|--(?:password|passwd|token|api-key|secret|client-secret)[= ](?P<flag>[^\s\"';&]+)"
    r"|(?<=\slogin\s)(?:[^\n]*?\s)?-p\s+(?P<short>[^\s\"';&]+))(?=[\s;,&]|$)",
    re.IGNORECASE,
)
_CODE_VALUE = re.compile(r"[A-Za-z_][\w.]*(?:\(.*\)?|\[.*\]?)|[A-Za-z_]\w*")
"""Python expressions (`getpass()`, `os.environ[...]`) and bare names, as seen in comments about code."""


def _credential_shaped(value: str) -> bool:
    """A value that could be a password or a key: not a word, a number, a path, a URL, a name or a template."""
    return (
        len(value) >= 6
        and not _is_placeholder(value)
        and not value.isdigit()
        and not _PATH.fullmatch(value)
        and not value.startswith(("$", "%", "!", "&", "*", "@"))
        and "://" not in value
        and not _ENV_NAME.fullmatch(value)
        and not (_DOTTED_PATH.fullmatch(value) and (value.islower() or _wordlike(value.replace(".", ""))))
        and value.lower() not in ("true", "false", "null", "none", "required", "optional")
        and (_has_digit(value) or any(not char.isalnum() and char not in "-_." for char in value) or len(value) >= 16)
    )


def _config_lines(text: str, literals: Sequence[Literal]) -> Iterator[_Hit]:
    """Hits for config text in strings and comments: YAML, INI, shell and `.env` lines, `key=value` settings."""
    for literal in literals:
        content = text[literal.content_start : literal.content_end]
        if not _KEYWORD_ROOT_WIDE.search(content.translate(_ASCII_LOWER)):
            continue
        for match in (*_CONFIG_LINE.finditer(content), *_INLINE_ASSIGNMENT.finditer(content)):
            group = next(name for name in ("secret", "flag", "short") if match.groupdict().get(name) is not None)
            value = match.group(group)
            name = match.groupdict().get("name") or ""
            if (
                _NOT_SECRET_NAME.search(name)
                or not _credential_shaped(value)
                or (literal.comment and _CODE_VALUE.fullmatch(value))
                or _REDACTED.search(value)
            ):
                continue
            start = literal.content_start + match.start(group)
            yield _Hit(start, start + len(value), "Secret Keyword", 1)


_KEYWORD_ROOT_WIDE = re.compile("key|pass|pwd|secret|token|auth|credential|sas|sig|login")
_TOKEN_ASSIGNMENT = re.compile(
    # `token = "..."`, `auth_token: str = "..."`, `{"access_token": "..."}`, `login(token="...")`: names that
    # detect-secrets' keyword list leaves out.
    r"(?<![\w.])(?P<name>[\w.]*?(?:token(?!i[sz])|passphrase|credentials?|signature)\w*)['\"]?"
    r"\s*(?::\s*[A-Za-z_][\w\[\]., |]*)?\s*(?:=|:)\s*[rbuRBU]{0,2}(['\"])(?P<secret>[^'\"\s]+)\2",
    re.IGNORECASE,
)


_AUTH_PAIR = re.compile(
    # `auth=("user", "password")`, as `requests` and `httpx` take it.
    r"\bauth\w*\s*[:=]\s*[(\[]\s*[rbuRBU]{0,2}(['\"])[^'\"\n]*\1\s*,\s*[rbuRBU]{0,2}(['\"])(?P<secret>[^'\"\s]+)\2",
    re.IGNORECASE,
)


def _token_assignments(text: str) -> Iterator[_Hit]:
    """Hits for values given to token-like names and for `auth=(user, password)` pairs."""
    for match in _AUTH_PAIR.finditer(text):
        if _credential_shaped(match.group("secret")) and not _REDACTED.search(match.group("secret")):
            yield _Hit(match.start("secret"), match.end("secret"), "Secret Keyword", 1)
    for match in _TOKEN_ASSIGNMENT.finditer(text):
        value = match.group("secret")
        if (
            not _NOT_SECRET_NAME.search(match.group("name"))
            and _credential_shaped(value)
            and not _REDACTED.search(value)
        ):
            yield _Hit(match.start("secret"), match.end("secret"), "Secret Keyword", 1)


_URL_PARAMETER = re.compile(
    rf"[?&;](?P<name>[\w.\-]*?(?:{_SECRET_ROOTS}|(?<![a-z])key(?![a-z]))[\w.\-]*)=(?P<secret>[^&#;\s\"'<>{{}}]+)",
    re.IGNORECASE,
)


def _url_parameters(text: str) -> Iterator[_Hit]:
    """Hits for credentials in URL query strings: `?api_key=...`, `&access_token=...`, `?sig=...`."""
    for match in _URL_PARAMETER.finditer(text):
        value = match.group("secret")
        name = match.group("name")
        if not _NOT_SECRET_NAME.search(name) and _credential_shaped(value) and not _REDACTED.search(value):
            yield _Hit(match.start("secret"), match.end("secret"), "URL Credential", 1)


def _hex32_keys(text: str) -> Iterator[_Hit]:
    """Bare 32-hex values (Azure OpenAI and Cognitive Services keys), judged by their context."""
    for match in _HEX32_KEY.finditer(text):
        if _hex_key(match.group("secret")) and not _REDACTED.search(match.group("secret")):
            hit = _contextual_hit(text, match.start("secret"), match.end("secret"), "API Key", hexadecimal=True)
            if hit is not None:
                yield dataclasses.replace(hit, specificity=0 if hit.weak else 2)


def _long_tokens(text: str) -> Iterator[_Hit]:
    """Long unquoted runs of random letters and digits (Azure AI 84-character keys), judged by their context."""
    for match in _LONG_TOKEN.finditer(text):
        value = match.group("secret")
        if (
            _random_token(value)
            and not _wordlike(value)
            and not _text_like(value)
            and not _REDACTED.search(value)
            and _context(text, match.start("secret")) is not _Context.HASH
        ):
            yield _Hit(match.start("secret"), match.end("secret"), "High Entropy Token", specificity=0)


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
            elif text[end - 1] == "\\" and end - 1 > start and text[end - 2] == "\\":
                end -= 1
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
        _hex32_keys,
        _token_formats,
        _token_assignments,
        _url_parameters,
        _pattern_detector(_BEARER, "Bearer Token", _has_digit),
        _pattern_detector(_BASIC_HEADER, "Basic Auth Credentials"),
        _long_tokens,
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


def _scan(text: str) -> list[_Hit]:
    literals = scan_literals(text)
    return [*(hit for detect in _detectors() for hit in detect(text)), *_config_lines(text, literals)]


def _find(text: str, extra_literals: Iterable[str] = ()) -> list[_Hit]:
    """Every hit, merged; text split across concatenated literals is seen joined too."""
    hits = _scan(text)
    view = joined_view(text)
    if view is not None:
        for hit in _scan(view.text):
            start, end = view.original_span(hit.start, hit.end)
            hits.append(dataclasses.replace(hit, start=start, end=end))
    hits.extend(_literal_hits(text, extra_literals))
    # Markers left by an earlier pass are never secrets themselves.
    markers = [(marker.start(), marker.end()) for marker in _REDACTED.finditer(text)]
    if markers:
        hits = [hit for hit in hits if not any(start <= hit.start and hit.end <= end for start, end in markers)]
    # A value without context counts when another credential shares its line (a key ID and its secret).
    strong_lines = {text.count("\n", 0, hit.start) for hit in hits if not hit.weak}
    hits = [hit for hit in hits if not hit.weak or text.count("\n", 0, hit.start) in strong_lines]
    return _merge(hits)


def find_secrets(text: str) -> tuple[SecretFinding, ...]:
    """Every credential the detectors see in `text`, with its kind, line and span."""
    return tuple(SecretFinding(hit.kind, text.count("\n", 0, hit.start) + 1, hit.start, hit.end) for hit in _find(text))


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
