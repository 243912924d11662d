"""Where requests go and with which credentials: the connection resolved from the settings and the environment.

Resolved at the start of every build (a missing key is one clear line before any work), while the client that
sends requests is only built when a request is needed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mkdocs_ai_docstrings._internal.errors import ConfigurationError
from mkdocs_ai_docstrings._internal.secrets import scrub_url
from mkdocs_ai_docstrings._internal.settings import DEFAULT_API_VERSION, Settings


def host_port(url: str) -> str:
    """`host:port` of a URL (the scheme's default port when none is given), without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{parts.hostname or '?'}:{port}"
    except ValueError:
        return "?"


@dataclass(frozen=True)
class Connection:
    """Where and how to send requests."""

    provider: str
    deployment: str
    model: str
    endpoint: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    auth: str = "key"
    """`key`, `entra` (token provider) or `token` (static Entra token from the environment)."""
    api_key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Where `deployment` and the endpoint came from: an option name (`` `deployment` option ``), a variable, or
    `default`; used to name the setting actually in effect in hints."""

    @property
    def url(self) -> str:
        """The URL requests go to (may hold credentials: log only `scrub_url` of it)."""
        return self.endpoint or self.base_url or "https://api.openai.com/v1"

    @property
    def where(self) -> str:
        """`host:port` of the server, without credentials."""
        return host_port(self.url)

    def describe(self) -> str:
        """A one-line, secret-free description for logs and reports."""
        version = f", api-version {self.api_version}" if self.api_version else ""
        return f"{self.provider} {scrub_url(self.url)} deployment '{self.deployment}'{version}, auth: {self.auth}"

    def source(self, name: str) -> str:
        """How to change setting `name` (`deployment` or `endpoint`), naming the source in effect."""
        return self.sources.get(name, f"the `{name}` option")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in any output (the URL's password included)."""
        try:
            password = urlsplit(self.url).password
        except ValueError:
            password = None
        return tuple(secret for secret in (self.api_key, self.token, password) if secret)


def _pick(option: str | None, option_name: str, env: Mapping[str, str], variable: str) -> tuple[str | None, str]:
    """A setting's value and where it came from: the option, else the environment variable."""
    if option:
        return option, f"the `{option_name}` option in mkdocs.yml"
    value = env.get(variable) or None
    return value, variable


def resolve_connection(settings: Settings, environ: Mapping[str, str] | None = None) -> Connection:
    """Build the connection from settings and the environment, or explain what is missing."""
    env = os.environ if environ is None else environ
    picked, deployment_source = _pick(settings.deployment, "deployment", env, "AZURE_OPENAI_DEPLOYMENT")
    if picked is None:
        deployment_source = "AZURE_OPENAI_DEPLOYMENT or the `deployment` option (the default 'gpt-4o-mini' was used)"
    deployment = picked or "gpt-4o-mini"
    model = settings.model or deployment
    if settings.provider == "openai":
        key_env = settings.api_key_env or "OPENAI_API_KEY"
        key = env.get(key_env, "").strip()
        base_url, base_source = _pick(settings.base_url, "base_url", env, "OPENAI_BASE_URL")
        if not key and base_url is None:
            raise ConfigurationError(f"no API key: set {key_env} (or `base_url` for a local OpenAI-compatible server)")
        return Connection(
            provider="openai",
            deployment=deployment,
            model=model,
            base_url=base_url,
            api_key=key or "not-needed",
            sources={"deployment": deployment_source, "endpoint": base_source},
        )
    raw_endpoint, endpoint_source = _pick(settings.endpoint, "endpoint", env, "AZURE_OPENAI_ENDPOINT")
    endpoint = (raw_endpoint or "").strip().rstrip("/")
    if not endpoint:
        raise ConfigurationError("no Azure OpenAI endpoint: set AZURE_OPENAI_ENDPOINT (or the `endpoint` option)")
    if not re.match(r"^https?://", endpoint):
        shown = scrub_url(endpoint)[:60]
        raise ConfigurationError(
            f"the Azure OpenAI endpoint must start with https:// (got {shown!r} from {endpoint_source})"
        )
    api_version = settings.api_version or env.get("OPENAI_API_VERSION") or DEFAULT_API_VERSION
    key_env = settings.api_key_env or "AZURE_OPENAI_API_KEY"
    key = env.get(key_env, "").strip()
    common = {
        "provider": "azure",
        "deployment": deployment,
        "model": model,
        "endpoint": endpoint,
        "sources": {"deployment": deployment_source, "endpoint": endpoint_source},
    }
    if settings.auth in ("auto", "key") and key:
        return Connection(**common, api_version=api_version, auth="key", api_key=key)
    if settings.auth == "key":
        raise ConfigurationError(f"no API key: set {key_env}")
    token = env.get("AZURE_OPENAI_AD_TOKEN", "").strip()
    if token:
        return Connection(**common, api_version=api_version, auth="token", token=token)
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            f"no credentials: set {key_env}, or install `mkdocs-ai-docstrings[entra]` and sign in "
            "(az login, managed identity or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET) for Microsoft Entra ID"
        ) from None
    return Connection(**common, api_version=api_version, auth="entra")
