"""Shared fixtures for end-to-end tests: the Azure OpenAI emulator and tiny MkDocs sites built in a subprocess."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import AzureEmulator

TEST_KEY = "test-key"
"""The API key the default emulator accepts."""

CONNECTION_VARIABLES = (
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_AD_TOKEN",
    "OPENAI_API_VERSION",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
)
"""Variables removed from every build's environment, so builds never see the developer's real credentials."""


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user cache folder (`XDG_CACHE_HOME`) per test: in-process builds never write the developer's home."""
    from mkdocs_ai_docstrings._internal import secrets

    folder = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.setattr(secrets, "_USER_KEYS", {})
    return folder


@pytest.fixture
def emulator() -> Iterator[AzureEmulator]:
    """A running Azure OpenAI emulator accepting the key `test-key` and the deployment `gpt-4o-mini`."""
    with AzureEmulator(api_key=TEST_KEY) as emu:
        yield emu


@dataclass
class Site:
    """A tiny MkDocs site written to disk."""

    root: Path
    """Folder holding `mkdocs.yml`, `docs/` and `src/`."""

    @property
    def config_file(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def src(self) -> Path:
        return self.root / "src"

    def write_source(self, relative: str, text: str) -> None:
        """Replace (or add) a file of the documented package."""
        path = self.src / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@dataclass
class BuildResult:
    """What one `mkdocs build` produced."""

    returncode: int
    output: str = field(repr=False)
    """stdout and stderr of the build, concatenated."""
    site_dir: Path
    report: dict[str, Any] | None = field(repr=False)
    """The parsed `ai-docstrings.json` from the site directory (None when absent)."""
    requests: int = 0
    """Requests the emulator received during this build (0 without an emulator)."""
    html: dict[str, str] = field(default_factory=dict, repr=False)
    """The HTML pages as this build wrote them (by path relative to the site directory), kept before a later
    build of the same site replaces them."""

    def __iter__(self) -> Iterator[Any]:
        """Unpack as `(returncode, output, site_dir, report)`."""
        return iter((self.returncode, self.output, self.site_dir, self.report))

    def statuses(self) -> dict[str, str]:
        """Report status by object path."""
        assert self.report is not None, f"no report was written; build output:\n{self.output}"
        return {item["path"]: item["status"] for item in self.report["objects"]}

    def pages(self) -> dict[str, str]:
        """HTML pages this build wrote, by path relative to the site directory."""
        return self.html


NO_EXAMPLE_REQUESTS = {"examples": False}
"""Sites of these tests make no example requests unless a test asks for them (plugin options): the request
counts and fault scripts of other concerns stay about the docstring requests (tests/test_examples.py covers
examples)."""


def make_site(
    tmp_path: Path,
    package_source: Mapping[str, str],
    pages: Mapping[str, str] | None = None,
    plugin_options: Mapping[str, Any] | None = None,
    handler_options: Mapping[str, Any] | None = None,
    plugins_order: Sequence[str] = ("ai-docstrings", "mkdocstrings"),
    *,
    theme: str = "mkdocs",
    handler_config: Mapping[str, Any] | None = None,
    extra_config: Mapping[str, Any] | None = None,
) -> Site:
    """Write a tiny MkDocs site: `src/` holds `package_source` (relative path -> code), `docs/` holds `pages`.

    `plugins_order` lists the plugins in order; `ai-docstrings` gets `plugin_options`, `mkdocstrings` gets the
    Python handler with `paths: [src]` and `handler_options` (defaults: google style, root heading, labels).
    Leave `ai-docstrings` out of `plugins_order` to build without the plugin.
    """
    root = tmp_path
    root.mkdir(parents=True, exist_ok=True)
    site = Site(root)
    for relative, text in package_source.items():
        site.write_source(relative, text)
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    for name, text in (pages or {"index.md": "# Home\n"}).items():
        page = docs / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(text, encoding="utf-8")
    options = {
        "docstring_style": "google",
        "show_root_heading": True,
        "show_symbol_type_heading": True,
        "show_labels": True,
        "show_source": False,
        "members_order": "source",
        **(handler_options or {}),
    }
    plugins: list[Any] = []
    for name in plugins_order:
        if name == "ai-docstrings":
            plugins.append({"ai-docstrings": {**NO_EXAMPLE_REQUESTS, **(plugin_options or {})}})
        elif name == "mkdocstrings":
            python = {"paths": ["src"], "options": options, **(handler_config or {})}
            plugins.append({"mkdocstrings": {"handlers": {"python": python}}})
        else:
            plugins.append(name)
    config: dict[str, Any] = {
        "site_name": "tiny",
        "theme": {"name": theme},
        "plugins": plugins,
        "markdown_extensions": ["admonition", "attr_list", "pymdownx.details", "pymdownx.superfences"],
        **(extra_config or {}),
    }
    lines = [f"{key}: {json.dumps(value)}" for key, value in config.items()]  # JSON flow style is YAML
    site.config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return site


def build_env(emulator: AzureEmulator | None, tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """The environment of a build: no real credentials; the emulator's endpoint and key when one is given.

    Overrides set (or, with `None`, remove) variables.
    """
    env = {key: value for key, value in os.environ.items() if key not in CONNECTION_VARIABLES}
    env["NO_MKDOCS_2_WARNING"] = "1"
    env["SOURCE_DATE_EPOCH"] = "1700000000"  # the `mkdocs` theme writes the build date into every page
    tiktoken_cache = tmp_path / "tiktoken-cache"
    tiktoken_cache.mkdir(parents=True, exist_ok=True)
    env["TIKTOKEN_CACHE_DIR"] = str(tiktoken_cache)
    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")  # the user's own seal key (`secrets.seal_key`) lives here
    if emulator is not None:
        env["AZURE_OPENAI_ENDPOINT"] = emulator.url
        env["AZURE_OPENAI_API_KEY"] = TEST_KEY
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def build(
    site: Site,
    env: Mapping[str, str],
    *args: str,
    emulator: AzureEmulator | None = None,
    report_path: Path | None = None,
    timeout: float = 120,
) -> BuildResult:
    """Run a real `mkdocs build` of `site` in a subprocess; `args` are extra CLI flags such as `--strict`.

    Returns `(returncode, output, site_dir, report)` (unpackable), plus the emulator requests of this build.
    """
    return build_with(
        "mkdocs", site, env, *args, cwd=site.root, emulator=emulator, report_path=report_path, timeout=timeout
    )


# --- The same site under every builder (mkdocs, properdocs, zensical) with only the griffe extension configured ---

BUILDERS = ("mkdocs", "properdocs", "zensical")
"""The builders the product supports; each runs the extension listed under the handler's options."""


def extension_site(
    root: Path,
    package_source: Mapping[str, str],
    pages: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Site:
    """A tiny site without the plugin: the extension (with `options`) under the Python handler, Material theme."""
    kwargs.setdefault("theme", "material")  # ProperDocs ships no theme of its own; Zensical renders Material
    return make_site(
        root,
        package_source,
        pages,
        handler_options={"extensions": [{"mkdocs_ai_docstrings": dict(options or {})}]},
        plugins_order=("mkdocstrings",),
        **kwargs,
    )


def build_with(
    builder: str,
    site: Site,
    env: Mapping[str, str],
    *args: str,
    cwd: Path | None = None,
    emulator: AzureEmulator | None = None,
    report_path: Path | None = None,
    timeout: float = 180,
) -> BuildResult:
    """Run a real `<builder> build -f mkdocs.yml` (from `cwd`, default the site's parent folder) in a subprocess."""
    program = (
        [sys.executable, "-m", "mkdocs"] if builder == "mkdocs" else [str(Path(sys.executable).with_name(builder))]
    )
    before = len(emulator.requests) if emulator is not None else 0
    completed = subprocess.run(
        [*program, "build", "-f", str(site.config_file), *args],
        cwd=cwd or site.root.parent,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    requests = len(emulator.requests) - before if emulator is not None else 0
    report_file = report_path or site.site_dir / "ai-docstrings.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else None
    html = {
        str(path.relative_to(site.site_dir)): path.read_text(encoding="utf-8")
        for path in sorted(site.site_dir.rglob("*.html"))
    }
    return BuildResult(completed.returncode, completed.stdout + completed.stderr, site.site_dir, report, requests, html)


def error_lines(output: str) -> list[str]:
    """The build's error lines (`ERROR - ...`, as MkDocs, ProperDocs and the extension under Zensical log them)."""
    return [line for line in output.splitlines() if line.startswith("ERROR")]


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep retry backoff short (server hints such as `retry-after-ms` are still honoured as sent).

    Modules whose every test needs it say `pytestmark = pytest.mark.usefixtures("fast_backoff")`.
    """
    import functools

    from mkdocs_ai_docstrings._internal import retry as retry_module
    from mkdocs_ai_docstrings._internal.retry import RetryPolicy

    monkeypatch.setattr(retry_module, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.02, max_delay=0.05))


@pytest.fixture
def load() -> Iterator[Any]:
    """Load a package from a mapping of file names to sources: `load(files, name="pkg")` (unloaded at the end)."""
    import griffe

    stack: list[Any] = []

    def loader(files: Mapping[str, str], name: str = "pkg") -> griffe.Module:
        manager = griffe.temporary_visited_package(name, dict(files))
        stack.append(manager)
        return manager.__enter__()

    yield loader
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


HAS_MARKDOWN_INCLUDE = importlib.util.find_spec("markdown_include") is not None
"""markdown-include (`{!file!}`) is not a dependency; with it installed, the include tests cover it too."""


class SecretServer:
    """A loopback HTTP server serving `marker` for any path and counting the requests it receives.

    Include and snippet payloads point at its `url`: any request means a directive was executed.
    """

    def __init__(self, marker: str) -> None:
        import http.server
        import threading

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = marker.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.requests = 0
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/secret.env"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


def include_payloads(url: str) -> list[str]:
    """Every include, snippet, macro and autodoc form a hostile text may carry (the remote ones point at `url`)."""
    return [
        '--8<-- "secret.env"',
        ';--8<-- "secret.env"',
        ";;-8<- 'secret.env'",
        '-8<- "secret.env"',
        '--------8<-------- "secret.env"',
        '    --8<-- "secret.env"',
        "--8<--\nsecret.env\n--8<--",
        "-8<-\nsecret.env\n\n-8<-",
        f'--8<-- "{url}"',
        f"--8<--\n{url}\n--8<--",
        '`--8<-- "secret.env"`',
        'Lead text `-8<- "secret.env"` trail',
        "Kept `--8<-- [start:x]` whole",
        "{!secret.env!}",
        "`{!secret.env!}`",
        "{! secret.env !}",
        '{% include "secret.env" %}',
        '{% include-markdown "secret.env" %}',
        '`{% include "secret.env" %}`',
        "{{ secret }}",
        "`{{ secret }}`",
        "{# hidden #}",
        "::: os",
        "# ::: os",
        "Text\n::: os\nmore",
        "<!-- include secret.env -->",
        "`<!-- x -->`",
        "/// html | div\nbody\n///",
        '/// details | x\n    --8<-- "secret.env"\n///',
    ]
