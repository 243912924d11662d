"""mkdocs-ai-docstrings: fill missing API docstrings with AI-written, cached, validated and clearly marked text.

Use the MkDocs plugin `ai-docstrings`, or list the griffe extension `mkdocs_ai_docstrings` under
mkdocstrings' `handlers.python.options.extensions` for site generators that run no MkDocs plugins.
"""

from __future__ import annotations

from mkdocs_ai_docstrings._internal.budget import TokenLedger
from mkdocs_ai_docstrings._internal.cache import AnswerCache, cache_key
from mkdocs_ai_docstrings._internal.client import ChatClient, ConfigurationError, Connection, resolve_connection
from mkdocs_ai_docstrings._internal.discovery import Candidate, discover
from mkdocs_ai_docstrings._internal.extension import AIDocstringsExtension
from mkdocs_ai_docstrings._internal.mark import AI_LABEL
from mkdocs_ai_docstrings._internal.plugin import AIDocstringsPlugin
from mkdocs_ai_docstrings._internal.report import BuildReport, ObjectOutcome
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings, SettingsError

__all__ = [
    "AI_LABEL",
    "AIDocstringsExtension",
    "AIDocstringsPlugin",
    "AnswerCache",
    "BuildReport",
    "BuildSession",
    "Candidate",
    "ChatClient",
    "ConfigurationError",
    "Connection",
    "ObjectOutcome",
    "Settings",
    "SettingsError",
    "TokenLedger",
    "cache_key",
    "discover",
    "resolve_connection",
]
