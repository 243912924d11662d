"""One typed, validated settings object, built from plugin options, extension options or the CLI.

The options are declared once, on [`Settings`][mkdocs_ai_docstrings.Settings]: a field's annotation is its type,
its default is the default, the string below it is its documentation (the README's table is written from them).
MkDocs' own config options (`mkdocs.config.config_options`) check each value against its annotation (NaN and
infinities rejected for every number); accepted values beyond the type are one line of `CONSTRAINTS`; rules that
tie options together are in `RULES`. A new option is a field with its docstring and, when it is a number or a
path, one line in `CONSTRAINTS`.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from mkdocs.config import config_options as opt
from mkdocs.config.base import BaseConfigOption, ValidationError

from mkdocs_ai_docstrings._internal.errors import SettingsError
from mkdocs_ai_docstrings._internal.prices import validate_prices

Provider = Literal["azure", "openai"]
OutputMode = Literal["json_schema", "tool", "json_object", "auto"]
Auth = Literal["auto", "key", "entra"]
Stale = Literal["show", "omit"]
Publish = Literal["all", "accepted"]

DEFAULT_API_VERSION = "2024-10-21"
"""Latest GA Azure OpenAI data-plane API version with structured outputs."""


@dataclass(frozen=True)
class Settings:
    """Every option of mkdocs-ai-docstrings, with its default."""

    enabled: bool = True
    """Generate docstrings at all; when false the build only reports what is missing."""
    provider: Provider = "azure"
    """`azure` (Azure OpenAI) or `openai` (OpenAI or any OpenAI-compatible server through `base_url`)."""
    endpoint: str | None = None
    """Azure endpoint; default: `$AZURE_OPENAI_ENDPOINT`."""
    base_url: str | None = None
    """Base URL for `provider: openai`; default: `$OPENAI_BASE_URL`, else OpenAI."""
    api_version: str | None = None
    """Azure API version; default: `$OPENAI_API_VERSION`, else the current GA version."""
    deployment: str | None = None
    """Azure deployment (or model name for `provider: openai`); default: `$AZURE_OPENAI_DEPLOYMENT`, else `gpt-4o-mini`."""
    model: str | None = None
    """Underlying model name, for token encoding and prices; default: the deployment name."""
    auth: Auth = "auto"
    """`key` (API key), `entra` (Microsoft Entra ID), or `auto`: the key when one is set, else Entra ID."""
    api_key_env: str | None = None
    """Environment variable holding the key; default `AZURE_OPENAI_API_KEY` (azure) or `OPENAI_API_KEY` (openai)."""
    output_mode: OutputMode = "auto"
    """How the answer is constrained: `json_schema`, `tool` (forced tool call), `json_object`, or `auto` (fall back)."""
    temperature: float = 0.0
    """Sampling temperature; 0 gives the most repeatable answers."""
    max_completion_tokens: int = 700
    """Output cap per request (a first docstring request is capped lower, near its expected size)."""
    max_input_tokens: int = 2500
    """Prompt cap per object; larger prompts are truncated by priority."""
    token_budget: int | None = None
    """Hard ceiling on billed tokens (prompt + completion) per build; `None` = unlimited."""
    concurrency: int = 4
    """Most requests in flight; timeouts and queueing lower it during the build, successes raise it back."""
    request_timeout: float = 60.0
    """Wall-clock deadline of each HTTP attempt, in seconds: connect, first byte and the whole body (> 0)."""
    build_timeout: float | None = 1800.0
    """Per-build deadline, in seconds (> 0, or `None` for none): then no request starts and those in flight are cut."""
    max_attempts: int = 4
    """Attempts per request, the first included (HTTP errors, timeouts)."""
    build_retry_cap: int = 200
    """Retries allowed across the whole build."""
    max_retry_after: float = 60.0
    """A server retry hint beyond this many seconds (a daily quota) stops new requests for the build."""
    rpm: float | None = None
    """Requests per minute allowed by the deployment's quota (client-side pacing)."""
    tpm: float | None = None
    """Tokens per minute allowed by the deployment's quota (client-side pacing)."""
    cache_dir: str = ".cache/ai-docstrings"
    """Cache folder, relative to the current directory (or mkdocs.yml when used as a plugin)."""
    cache_ttl_days: float | None = None
    """Cached answers older than this are regenerated; `None` = never expire."""
    cache_url: str | None = None
    """Shared answer cache behind the local one: `redis://[:password@]host[:port][/db]` (or `rediss://`, TLS);
    default: `$AI_DOCSTRINGS_CACHE_URL`, else none (local cache only)."""
    cache_namespace: str | None = None
    """Namespace of this project's entries in the shared cache; default: `$AI_DOCSTRINGS_CACHE_NAMESPACE`, else
    the name of the folder holding `mkdocs.yml`."""
    packages: tuple[str, ...] = ()
    """Top-level packages to document; default: the packages the site's `:::` blocks name."""
    include: tuple[str, ...] = ()
    """Glob patterns on dotted paths; when given, only matching objects are generated."""
    exclude: tuple[str, ...] = ()
    """Glob patterns on dotted paths never generated."""
    include_private: bool = False
    """Also document private objects (`_name`)."""
    include_special: bool = False
    """Also document special methods and attributes (`__name__`)."""
    include_attributes: bool = False
    """Also document plain attributes (module constants, class attributes)."""
    include_properties: bool = True
    """Document properties."""
    include_modules: bool = True
    """Document modules and packages."""
    min_docstring_length: int = 5
    """Docstrings shorter than this (or placeholders like TODO) count as missing."""
    strict: bool = False
    """Fail the build when any object failed or was skipped for budget."""
    dry_run: bool = False
    """Plan only: list what would be generated with estimated tokens and cost; no API call."""
    report_file: str = "ai-docstrings.json"
    """Report path, relative to the site directory (plugin) or the cache folder (standalone extension)."""
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Price overrides, USD per 1M tokens: `{model: {input, cached_input, output}}`."""
    improve: bool = False
    """Add missing sections (e.g. undocumented parameters) to human docstrings, marked as AI-added."""
    style_examples: int = 2
    """Human docstrings of the project shown to the model as style examples."""
    redact_secrets: bool = True
    """Redact credentials from the source sent to the model (the build's own key is always removed)."""
    skip_objects_with_secrets: bool = True
    """Do not generate an object whose shown source holds a credential (generating would publish it)."""
    examples: bool = True
    """Ask for a usage example of each function and method (and of each class without a public method), in a
    small request of its own after the docstring; it is checked (and run) before it is published, repaired once,
    else left out."""
    run_examples: bool = True
    """Run each generated example in an isolated Python process before publishing it; when false, only examples
    that pass the static check (and show no `>>>` outputs) are published."""
    example_timeout: float = 10.0
    """Seconds an example may run before it counts as failed."""
    system_prompt_file: str | None = None
    """Override of the system prompt template (variables: `$style`, `$package`)."""
    user_prompt_file: str | None = None
    """Override of the user prompt template (variables: `$kind`, `$path`, `$context`)."""
    lock_file: bool | str = "ai-docstrings.lock"
    """Lock file of published AI docstrings, relative to mkdocs.yml's folder; `false` turns it off."""
    frozen: bool = False
    """Make no request; fail the build when an object has no up-to-date lock record (also `AI_DOCSTRINGS_FROZEN=1`)."""
    stale: Stale = "show"
    """A lock record whose code changed, when it cannot be regenerated: `show` it with a note, or `omit` it."""
    publish: Publish = "all"
    """`accepted`: publish only lock records a maintainer accepted or edited; the rest wait for review."""
    retry_failed: bool = False
    """Ask again for answers that failed the checks in an earlier build (also `AI_DOCSTRINGS_RETRY_FAILED=1`)."""
    coverage_page: bool | str = "ai-docstrings-coverage.html"
    """Coverage page written into the site (path relative to the site directory); `false` turns it off."""
    fail_under_human: float | None = None
    """Fail the build when fewer than this percentage of the public objects in scope have a human docstring."""
    fail_under_total: float | None = None
    """Fail the build when fewer than this percentage have a docstring (human or AI-written)."""
    max_ai_share: float | None = None
    """Fail the build when more than this percentage of the public objects in scope show an AI docstring."""
    call_log: str | None = None
    """Append one OTLP/JSON log line per HTTP attempt to this file, relative to mkdocs.yml's folder (also
    `AI_DOCSTRINGS_CALL_LOG`)."""
    call_log_prompts: bool = False
    """Also write each attempt's prompt (as sent, secrets redacted) into the call log."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None = None, **overrides: Any) -> Settings:
        """Build settings from a mapping of options; the first wrong option raises `SettingsError` naming it."""
        data = {**(options or {}), **overrides}
        known = option_types()
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise SettingsError(f"unknown option(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
        values = {name: _checked(name, value, known[name]) for name, value in data.items()}
        settings = cls(**values)
        for rule in RULES:
            rule(settings)
        return settings


# Types ---------------------------------------------------------------------------------------------------------
#
# Each annotation becomes one of MkDocs' own config options (`mkdocs.config.config_options`, already imported by
# mkdocstrings under every host); it checks the value, and the annotation gives the words of the message.


class _Integer(opt.Type):
    """An `int` that is not a `bool`."""

    def __init__(self) -> None:
        super().__init__(int)

    def run_validation(self, value: object) -> int:
        if isinstance(value, bool):
            raise ValidationError("a bool is not an integer")
        return super().run_validation(value)


class _NotFinite(ValidationError):
    """A number that is NaN or infinite."""


class _Number(opt.Type):
    """An `int` or `float` (not a `bool`), finite, returned as a `float`."""

    def __init__(self) -> None:
        super().__init__((int, float))

    def run_validation(self, value: object) -> float:
        if isinstance(value, bool):
            raise ValidationError("a bool is not a number")
        try:
            number = float(super().run_validation(value))
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise _NotFinite("not finite")
        return number


class _Strings(opt.ListOfItems):
    """A list (or tuple) of strings, or one string, returned as a tuple."""

    def __init__(self) -> None:
        super().__init__(opt.Type(str), default=[])

    def run_validation(self, value: object) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else list(value) if isinstance(value, tuple) else value
        return tuple(super().run_validation(items))


class _Mapping(opt.Type):
    """Any mapping, copied into a plain `dict`."""

    def __init__(self) -> None:
        super().__init__(Mapping)

    def run_validation(self, value: object) -> dict[Any, Any]:
        return dict(super().run_validation(value))


def _literal_words(hint: Any) -> str:
    return f"one of {', '.join(map(repr, get_args(hint)))}"


_OPTIONS: dict[Any, tuple[Callable[[Any], BaseConfigOption[Any]], Callable[[Any], str]]] = {
    bool: (lambda hint: opt.Type(bool), lambda hint: "true or false"),
    int: (lambda hint: _Integer(), lambda hint: "an integer"),
    float: (lambda hint: _Number(), lambda hint: "a number"),
    str: (lambda hint: opt.Type(str), lambda hint: "a string"),
    Literal: (lambda hint: opt.Choice(get_args(hint)), _literal_words),
    tuple: (lambda hint: _Strings(), lambda hint: "a list of strings"),
    Mapping: (lambda hint: _Mapping(), lambda hint: "a mapping"),
}
"""The MkDocs config option checking each annotation (or its origin), and the words naming what it accepts."""


def _split_optional(hint: Any) -> tuple[Any, bool]:
    """`X | None` -> `(X, True)`; anything else -> `(hint, False)`."""
    if get_origin(hint) in (Union, types.UnionType):
        rest = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(rest) < len(get_args(hint)):
            return (rest[0] if len(rest) == 1 else Union[tuple(rest)]), True  # noqa: UP007
    return hint, False


def _alternatives(hint: Any) -> tuple[Any, ...]:
    return get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)


def _entry(hint: Any) -> tuple[Callable[[Any], BaseConfigOption[Any]], Callable[[Any], str]]:
    try:
        return _OPTIONS[get_origin(hint) or hint]
    except KeyError:
        raise TypeError(f"no config option for the annotation {hint!r}; add one to _OPTIONS") from None


@dataclass(frozen=True)
class OptionType:
    """How one option's value is checked: MkDocs config options for its annotation (`bool | str`: first match)."""

    checks: tuple[BaseConfigOption[Any], ...]
    expected: str
    """What the option accepts, in words: `an integer or null`, `true or false or a string`."""
    optional: bool

    @classmethod
    def of(cls, hint: Any) -> OptionType:
        """The checks for an annotation such as `int`, `float | None`, `tuple[str, ...]` or `bool | str`."""
        inner, optional = _split_optional(hint)
        entries = [(_entry(alternative), alternative) for alternative in _alternatives(inner)]
        words = " or ".join(describe(alternative) for (_, describe), alternative in entries)
        return cls(
            tuple(make(alternative) for (make, _), alternative in entries),
            words + (" or null" if optional else ""),
            optional,
        )

    def check(self, name: str, value: Any) -> Any:
        """The value, normalised (lists to tuples, numbers to floats); `SettingsError` naming the option if wrong."""
        if value is None:
            if self.optional:
                return None
            raise SettingsError(f"option '{name}' must not be empty")
        expected = self.expected
        for check in self.checks:
            try:
                return check.validate(value)
            except _NotFinite:
                expected = "a finite number" + (" or null" if self.optional else "")
            except ValidationError:
                continue
        raise SettingsError(f"option '{name}' must be {expected}, got {_show(value)}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@functools.cache
def option_types() -> dict[str, OptionType]:
    """Every option by name, in declaration order, with the checks of its annotation on `Settings`."""
    return {name: OptionType.of(hint) for name, hint in get_type_hints(Settings).items()}


def _checked(name: str, value: Any, option: OptionType) -> Any:
    """Check `value` against the option's type, normalise it (lists to tuples), then apply its constraint."""
    value = option.check(name, value)
    constraint = CONSTRAINTS.get(name)
    if constraint is not None and value is not None:
        constraint.check(name, value)
    return value


# Values --------------------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    """`50` for 50 or 50.0, `0.001` for 0.001; very long integers shortened."""
    text = str(value) if isinstance(value, int) else str(int(value)) if value.is_integer() else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Between:
    """A number in `[low, high]` (`low` excluded when `above`); `None` leaves a side open."""

    low: float | None = None
    high: float | None = None
    above: bool = False

    def check(self, name: str, value: float) -> None:
        """Raise `SettingsError` when `value` is out of range."""
        too_low = self.low is not None and (value <= self.low if self.above else value < self.low)
        too_high = self.high is not None and value > self.high
        if too_low or too_high:
            raise SettingsError(f"option '{name}' must be {self.describe()}, got {_number(value)}")

    def describe(self) -> str:
        """The range in words: `between 0 and 2`, `at least 1`, `greater than 0 and at most 3600`."""
        if self.low is None:
            return f"at most {_number(self.high)}" if self.high is not None else "a number"
        if self.above:
            low = f"greater than {_number(self.low)}"
            return low if self.high is None else f"{low} and at most {_number(self.high)}"
        if self.high is None:
            return f"at least {_number(self.low)}"
        return f"between {_number(self.low)} and {_number(self.high)}"


@dataclass(frozen=True)
class Check:
    """Any other rule: `test(value)` returns what is wrong (`None` when fine); `accepted` describes the values."""

    accepted: str
    test: Callable[[Any], str | None]

    def check(self, name: str, value: Any) -> None:
        """Raise `SettingsError` naming the option, what it accepts and what is wrong."""
        problem = self.test(value)
        if problem is not None:
            raise SettingsError(f"option '{name}' must be {self.accepted}: {problem}")

    def describe(self) -> str:
        """What the option accepts."""
        return self.accepted


def _non_empty(value: str) -> str | None:
    return "got an empty string" if not value.strip() else None


def _relative_path(value: str) -> str | None:
    if not value.strip() or value.endswith(("/", "\\")):
        return f"got {_show(value)}"
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute() or PureWindowsPath(value).drive:
        return f"got the absolute path {_show(value)}"
    if ".." in PureWindowsPath(value).parts:
        return f"got {_show(value)}, whose '..' leaves it"
    return None


def _page_path(value: bool | str) -> str | None:
    if isinstance(value, bool):
        return None if value is False else "got true (give a path, or leave the option out for the default)"
    return _relative_path(value)


def _globs(patterns: tuple[str, ...]) -> str | None:
    for pattern in patterns:
        if not pattern.strip():
            return "got an empty pattern"
        try:
            re.compile(fnmatch.translate(pattern))
        except re.error as error:
            return f"{_show(pattern)} does not compile ({error})"
    return None


def _identifiers(names: tuple[str, ...]) -> str | None:
    bad = [name for name in names if not name.isidentifier()]
    return f"got {', '.join(map(_show, bad))}" if bad else None


def redis_url_problem(value: str) -> str | None:
    """What is wrong with a Redis URL (never echoing it: it may hold a password); `None` when it is usable."""
    try:
        parts = urlsplit(value.strip())
        ok = parts.scheme in ("redis", "rediss") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        ok = False
    return None if ok else "got a value that is not one (the value is not shown: it may hold a password)"


_NAMESPACE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")


def _namespace(value: str) -> str | None:
    return None if _NAMESPACE.fullmatch(value) else f"got {_show(value)}"


def _http_url(value: str) -> str | None:
    # The value is not echoed: a URL may carry a password.
    try:
        parts = urlsplit(value.strip())
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    return None if ok else "got a value that is not one (the value is not shown: it may hold a password)"


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str) -> str | None:
    # The value is not echoed: a key pasted here by mistake must not reach the log.
    if _ENV_NAME.fullmatch(value):
        return None
    return "got a value that is not a variable name (not shown: is it the key itself? Put the key in the environment)"


def _prices(value: Mapping[Any, Any]) -> str | None:
    try:
        validate_prices(value)
    except ValueError as error:
        return str(error)
    return None


_POSITIVE_SECONDS = Between(0, 3600, above=True)

CONSTRAINTS: dict[str, Between | Check] = {
    "temperature": Between(0, 2),
    "max_completion_tokens": Between(1, 128_000),
    "max_input_tokens": Between(1, 1_000_000),
    "token_budget": Between(0),
    "concurrency": Between(1, 64),
    "request_timeout": _POSITIVE_SECONDS,
    "example_timeout": Between(0, 600, above=True),
    "build_timeout": Between(0, 86400, above=True),
    "max_attempts": Between(1, 20),
    "build_retry_cap": Between(0, 100_000),
    "max_retry_after": Between(0, 3600),
    "rpm": Between(1),
    "tpm": Between(1),
    "cache_ttl_days": Between(0),
    "min_docstring_length": Between(0, 10_000),
    "style_examples": Between(0, 50),
    "endpoint": Check("an http(s) URL such as https://<resource>.openai.azure.com", _http_url),
    "base_url": Check("an http(s) URL such as http://127.0.0.1:11434/v1", _http_url),
    "api_version": Check("a non-empty string such as 2024-10-21", _non_empty),
    "deployment": Check("a non-empty string", _non_empty),
    "model": Check("a non-empty string", _non_empty),
    "api_key_env": Check("the name of an environment variable", _env_name),
    "cache_dir": Check("a folder path", _non_empty),
    "cache_url": Check("a Redis URL such as redis://127.0.0.1:6379/0 (or rediss:// for TLS)", redis_url_problem),
    "cache_namespace": Check("1 to 64 letters, digits, '.', '_' or '-' (not starting with '.' or '-')", _namespace),
    "packages": Check("a list of top-level package names", _identifiers),
    "include": Check("a list of glob patterns", _globs),
    "exclude": Check("a list of glob patterns", _globs),
    "report_file": Check("a relative path inside the site directory (standalone: the cache folder)", _relative_path),
    "prices": Check("{model: {input, cached_input?, output}} in USD per 1M tokens", _prices),
    "coverage_page": Check("false or a relative path inside the site directory", _page_path),
    "fail_under_human": Between(0, 100),
    "fail_under_total": Between(0, 100),
    "max_ai_share": Between(0, 100),
    "system_prompt_file": Check("a file path", _non_empty),
    "user_prompt_file": Check("a file path", _non_empty),
    "call_log": Check("a file path", _non_empty),
}
"""Accepted values of each option beyond its type, one line per option (ranges are inclusive).

Bounds: 128,000 completion tokens is the largest output any current OpenAI model allows (GPT-5); 1,000,000 prompt
tokens the largest context (GPT-4.1); a docstring needs a few hundred of each. 64 requests in flight and 20
attempts are far above what a deployment's quota serves; timeouts are capped at an hour so a build cannot wait
forever on one request. Prompt files are checked (exist, UTF-8, variables) when they are loaded, relative to the
folder of `mkdocs.yml`: see `PromptTemplates.load`.
"""


def _one_request_fits_in_a_minute(settings: Settings) -> None:
    worst = settings.max_input_tokens + settings.max_completion_tokens
    if settings.tpm is not None and settings.tpm < worst:
        raise SettingsError(
            f"option 'tpm' must be at least max_input_tokens + max_completion_tokens = {worst}, so that one request "
            f"fits in a minute's quota (or lower those two options), got {_number(settings.tpm)}"
        )


def _lock_file_needed(settings: Settings) -> None:
    if settings.lock_file == "":
        raise SettingsError("option 'lock_file' must be a file name, true (the default name) or false")
    for name, wanted in (("publish", settings.publish == "accepted"), ("frozen", settings.frozen)):
        if wanted and settings.lock_file is False:
            raise SettingsError(f"option '{name}' needs the lock file: remove `lock_file: false`")


RULES: tuple[Callable[[Settings], None], ...] = (_one_request_fits_in_a_minute, _lock_file_needed)
"""Checks that involve several options, run on the built settings."""
