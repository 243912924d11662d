"""End to end: a model that obeys injected instructions cannot publish local or remote files through a site's includes.

Each build is a real `mkdocs build` (subprocess) of a tiny site with `pymdownx.snippets` (base paths: the site root
and `docs/`, remote downloads on) and `show_source: true`, next to a `secret.env` holding a unique marker. The
emulated model answers every string field, and the examples, with include and directive payloads aimed at that
file. The marker must appear in no file of the built site, while the AI docstrings are still published and marked.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HAS_MARKDOWN_INCLUDE, SecretServer, build, build_env, include_payloads, make_site
from tests.emulator import AzureEmulator, fenced, is_example_request, request_schema, synthesize
from tests.test_build import rendered_objects

MARKER = "EXFIL-5d1c0e-must-never-be-published"
"""The content of every `secret.env` (local or served)."""

HOSTILE_MODEL = '<img src=x onerror=alert(1)> **bold** --8<-- "secret.env" {!secret.env!}'
"""The configured `model` name, shown in the marker: it must render as these characters, nothing else."""

PACKAGE = {
    "vault/__init__.py": '"""A package whose docstrings the model writes."""\n',
    "vault/store.py": textwrap.dedent(
        '''\
        """Storage helpers."""


        class Vault:
            def __init__(self, path: str) -> None:
                self.path = path

            def open(self, mode: str = "r") -> str:
                if mode not in ("r", "w"):
                    raise ValueError(mode)
                return self.path + mode


        def load(name: str) -> int:
            if not name:
                raise KeyError(name)
            return len(name)
        '''
    ),
}
PAGES = {"index.md": "# API\n\n::: vault.store\n"}


def prose_payload(url: str) -> str:
    """Every include or directive form, as paragraphs, lines and code spans of one prose field."""
    spans = 'See `--8<-- "secret.env"` and `{!secret.env!}` and `{% include "secret.env" %}` and `<!-- c -->`.'
    return "\n\n".join(["Reads the vault.", spans, *include_payloads(url)])


def code_payload(url: str) -> str:
    """Example code carrying every include or directive form on its own lines."""
    lines = [line for payload in include_payloads(url) for line in payload.splitlines()]
    return "\n".join(['vault = Vault("data")', *lines, 'print("{!secret.env!}")', "vault.open()"])


def injected_answer(url: str) -> Any:
    """An answer callable: a valid synthesized answer with every free-text string replaced by payloads."""
    prose, code = prose_payload(url), code_payload(url)

    def answer(body: dict[str, Any]) -> dict[str, Any] | str:
        if is_example_request(body):
            return fenced(code)
        value = synthesize(request_schema(body))
        for key in ("summary", "description"):
            if key in value:
                value[key] = prose
        if "examples" in value:
            value["examples"] = code
        for key in ("parameters", "raises", "attributes"):
            section = value.get(key) or []
            if isinstance(section, dict):  # keyed by name
                value[key] = dict.fromkeys(section, prose)
            for item in section if isinstance(section, list) else []:
                item["description"] = prose
        for key in ("returns", "yields"):
            if isinstance(value.get(key), dict):
                value[key]["description"] = prose
        return value

    return answer


@pytest.fixture
def secret_server() -> Iterator[SecretServer]:
    server = SecretServer(MARKER)
    yield server
    server.close()


def extensions(root: Path, setup: str) -> list[Any]:
    """`minimal`: snippets alone (MkDocs adds toc, tables, fenced_code); `rich`: what a typical site enables."""
    snippets = {
        "base_path": [str(root), str(root / "docs")],
        "check_paths": False,
        "url_download": True,
        "url_timeout": 5,
    }
    if setup == "minimal":
        return [{"pymdownx.snippets": snippets}]
    configured: list[Any] = ["admonition", "attr_list", "pymdownx.details", "pymdownx.superfences"]
    configured += [{"pymdownx.snippets": snippets}, "pymdownx.blocks.html"]
    if HAS_MARKDOWN_INCLUDE:
        configured.append({"markdown_include.include": {"base_path": str(root)}})
    return configured


def files_with_marker(folder: Path) -> list[str]:
    return [str(path) for path in folder.rglob("*") if path.is_file() and MARKER.encode() in path.read_bytes()]


@pytest.mark.parametrize(
    ("style", "setup"), [("google", "rich"), ("numpy", "rich"), ("sphinx", "rich"), ("google", "minimal")]
)
def test_injected_includes_publish_no_file(
    style: str, setup: str, tmp_path: Path, secret_server: SecretServer, emulator: AzureEmulator
) -> None:
    root = tmp_path / "site-root"
    site = make_site(
        root,
        PACKAGE,
        PAGES,
        plugin_options={"model": HOSTILE_MODEL, "concurrency": 2, "max_completion_tokens": 4000},
        handler_options={"docstring_style": style, "show_source": True},
        extra_config={"markdown_extensions": extensions(root, setup), "exclude_docs": "secret.env"},
    )
    for folder in (root, root / "docs"):
        (folder / "secret.env").write_text(MARKER + "\n", encoding="utf-8")
    emulator.answer = injected_answer(secret_server.url)

    result = build(site, build_env(emulator, tmp_path), emulator=emulator)

    assert result.returncode == 0, result.output
    assert files_with_marker(site.site_dir) == []
    assert MARKER not in result.output
    assert secret_server.requests == 0, "a remote include was fetched"
    page = result.html["index.html"]
    objects = rendered_objects(page)
    assert not [name for name in objects if name == "os" or name.startswith("os.")], "an autodoc directive ran"
    generated = {path for path, status in result.statuses().items() if status == "generated"}
    assert {"vault.store.Vault", "vault.store.Vault.open", "vault.store.load"} <= generated
    assert all(objects[path].marked for path in generated), generated
    # The model name is text: no image, no bold, no include, and the characters are all there.
    admonition = next(body for summary, body in objects["vault.store.load"].admonitions if summary == "AI-generated")
    assert f"({HOSTILE_MODEL})" in admonition
    assert "<img" not in page and "<strong>bold" not in page
    # The injected text is still there to read, as text.
    assert 'See --8<-- "secret.env" and {!secret.env!}' in objects["vault.store.load"].docstring_text
