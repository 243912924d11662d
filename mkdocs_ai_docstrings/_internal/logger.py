"""The package's logger, shared by the plugin and the griffe extension."""

from __future__ import annotations

import logging

LOGGER_NAME = "mkdocs.plugins.ai-docstrings"
"""Logger name: MkDocs shows records of `mkdocs.plugins.*` loggers with the plugin's prefix."""

logger = logging.getLogger(LOGGER_NAME)
