"""One typed, validated settings object, built from plugin options, extension options or the CLI."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin, get_type_hints

Provider = Literal["azure", "openai"]
OutputMode = Literal["json_schema", "tool", "json_object", "auto"]
Auth = Literal["auto", "key", "entra"]

DEFAULT_API_VERSION = "2024-10-21"
"""Latest GA Azure OpenAI data-plane API version with structured outputs."""


class SettingsError(ValueError):
    """An option has a wrong name, type or value; the message names the option."""


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
    max_completion_tokens: int = 700
    """Output cap per request."""
    max_input_tokens: int = 2500
    """Prompt cap per object; larger prompts are truncated by priority."""
    token_budget: int | None = None
    """Hard ceiling on billed tokens (prompt + completion) per build; `None` = unlimited."""
    concurrency: int = 4
    request_timeout: float = 60.0
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
    packages: tuple[str, ...] = ()
    """Top-level packages to document; default: the packages the site's `:::` blocks name."""
    include: tuple[str, ...] = ()
    """Glob patterns on dotted paths; when given, only matching objects are generated."""
    exclude: tuple[str, ...] = ()
    """Glob patterns on dotted paths never generated."""
    include_private: bool = False
    include_special: bool = False
    include_attributes: bool = False
    """Also document plain attributes (module constants, class attributes)."""
    include_properties: bool = True
    include_modules: bool = True
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
    run_examples: bool = True
    """Run each generated example in an isolated Python process before publishing it; when false, only examples
    that pass the static check (and show no `>>>` outputs) are published."""
    example_timeout: float = 10.0
    """Seconds an example may run before it counts as failed."""
    system_prompt_file: str | None = None
    """Override of the system prompt template (variables: `$style`, `$package`)."""
    user_prompt_file: str | None = None
    """Override of the user prompt template (variables: `$kind`, `$path`, `$context`)."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None = None, **overrides: Any) -> Settings:
        """Build settings from a mapping of options, rejecting unknown names and wrong types."""
        data = {**(options or {}), **overrides}
        hints = get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SettingsError(f"unknown option(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(names))}")
        values = {name: _coerce(name, value, hints[name]) for name, value in data.items()}
        settings = cls(**values)
        settings._check()
        return settings

    def _check(self) -> None:
        positive = ("max_completion_tokens", "max_input_tokens", "concurrency", "max_attempts")
        for name in positive:
            if getattr(self, name) < 1:
                raise SettingsError(f"option '{name}' must be at least 1, got {getattr(self, name)!r}")
        for name in ("token_budget", "rpm", "tpm", "cache_ttl_days"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise SettingsError(f"option '{name}' must not be negative, got {value!r}")
        if self.request_timeout <= 0:
            raise SettingsError("option 'request_timeout' must be positive")
        if self.example_timeout <= 0:
            raise SettingsError("option 'example_timeout' must be positive")
        if self.min_docstring_length < 0 or self.style_examples < 0 or self.build_retry_cap < 0:
            raise SettingsError("options 'min_docstring_length', 'style_examples', 'build_retry_cap' must be >= 0")


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Check `value` against the annotation `hint` and normalise lists to tuples."""
    origin = get_origin(hint)
    args = get_args(hint)
    if value is None:
        if type(None) in args:
            return None
        raise SettingsError(f"option '{name}' must not be empty")
    if origin is Literal:
        if value not in args:
            raise SettingsError(f"option '{name}' must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin in (tuple, list) or hint is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            raise SettingsError(f"option '{name}' must be a list of strings, got {value!r}")
        return tuple(value)
    if origin is Mapping or hint is Mapping:
        if not isinstance(value, Mapping):
            raise SettingsError(f"option '{name}' must be a mapping, got {value!r}")
        return dict(value)
    if args:  # a union such as `int | None`
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(name, value, arg)
            except SettingsError:
                continue
        raise SettingsError(f"option '{name}' has the wrong type: {value!r}")
    if hint is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"option '{name}' must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"option '{name}' must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"option '{name}' must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise SettingsError(f"option '{name}' must be a string, got {value!r}")
        return value
    return value
