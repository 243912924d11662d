"""mkdocs-ai-docstrings: fill missing API docstrings with AI-written, cached, validated and clearly marked text.

List the griffe extension `mkdocs_ai_docstrings` under mkdocstrings' `handlers.python.options.extensions`
(it works with any site generator that runs mkdocstrings), or use the MkDocs plugin `ai-docstrings`.
Everything else lives in `mkdocs_ai_docstrings._internal` and may change without notice.
"""

from __future__ import annotations

from mkdocs_ai_docstrings._internal.errors import ConfigurationError, SettingsError
from mkdocs_ai_docstrings._internal.extension import AIDocstringsExtension
from mkdocs_ai_docstrings._internal.mark import AI_LABEL
from mkdocs_ai_docstrings._internal.plugin import AIDocstringsPlugin
from mkdocs_ai_docstrings._internal.settings import Settings

__all__ = [
    "AI_LABEL",
    "AIDocstringsExtension",
    "AIDocstringsPlugin",
    "ConfigurationError",
    "Settings",
    "SettingsError",
]
