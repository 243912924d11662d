"""Internal implementation of mkdocs-ai-docstrings; import from the package root instead."""
