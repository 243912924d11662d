"""The errors a user of mkdocs-ai-docstrings may catch: a wrong option, a connection that cannot be set up."""

from __future__ import annotations


class SettingsError(ValueError):
    """An option has a wrong name, type or value; the message names the option."""


class ConfigurationError(Exception):
    """The connection cannot be set up; the message says what to set (and never holds a secret)."""
