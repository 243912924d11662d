"""End-to-end specifications of issue "Core": real `mkdocs build` runs against the Azure OpenAI emulator.

Each build runs in a subprocess (`python -m mkdocs build`) on a tiny site written to a temporary folder; the
HTML is parsed to find each object's heading (`id="pkg.mod.func"`) and its own `doc-contents` block.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_KEY, BuildResult, Site, build, build_env, make_site
from tests.emulator import AzureEmulator

EXAMPLE_SITE = Path(__file__).resolve().parent.parent / "example_site"

# ----------------------------------------------------------------------------------------------------------------------
# The tiny package

CORE_SOURCE = '''\
from __future__ import annotations


def add(a: int, b: int) -> int:
    return a + b


def scale(values, factor=2):
    return [value * factor for value in values]


def greet(name: str, *, punctuation: str = "!") -> str:
    """Return a friendly greeting for `name` — with *emphasis* & "quotes".

    The text is built like this:

    - the word "Hello";
    - the `name`, unchanged.

    ```python
    greet("Ada")  # 'Hello, Ada!'
    ```

    Args:
        name: Who to greet (any string, even `""`).
        punctuation: What ends the greeting.

    Returns:
        The greeting.

    Raises:
        ValueError: When `name` contains a newline.
    """
    if "\\n" in name:
        raise ValueError("one line only")
    return f"Hello, {name}{punctuation}"


class Counter:
    def __init__(self, start: int = 0) -> None:
        self.value = start

    def increment(self, step: int = 1) -> int:
        self.value += step
        return self.value

    @property
    def doubled(self) -> int:
        return self.value * 2

    def reset(self) -> None:
        """Set the counter back to zero."""
        self.value = 0
'''

TINY_PACKAGE = {
    "tinypkg/__init__.py": '"""Tiny package used by the end-to-end tests."""\n',
    "tinypkg/core.py": CORE_SOURCE,
}
TINY_PAGES = {"index.md": "# API\n\n::: tinypkg\n\n::: tinypkg.core\n"}

UNDOCUMENTED = {
    "tinypkg.core",
    "tinypkg.core.add",
    "tinypkg.core.scale",
    "tinypkg.core.Counter",
    "tinypkg.core.Counter.increment",
    "tinypkg.core.Counter.doubled",
}
"""Every public object of the tiny package without a docstring: a module, functions, a class, a method, a property."""
HUMAN = {"tinypkg", "tinypkg.core.greet", "tinypkg.core.Counter.reset"}
"""Objects of the tiny package documented by people."""

STYLE_PACKAGE = {
    "stylepkg/__init__.py": '"""Package for docstring-style tests."""\n',
    "stylepkg/ops.py": (
        '"""Small operations."""\n\n\n'
        "def scale(values, factor=2):\n    return [value * factor for value in values]\n\n\n"
        "def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:\n"
        "    return max(low, min(high, value))\n"
    ),
}
STYLE_PAGES = {"index.md": "# API\n\n::: stylepkg.ops\n"}

WRONG_KEY = "sk-wrong-4f9c1e2d7a6b5c3e8f0a1b2c"
"""A distinctive API key the emulator rejects; it must never be echoed anywhere."""


# ----------------------------------------------------------------------------------------------------------------------
# HTML: headings and their own doc-contents


VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    start: int
    end: int = -1
    children: list[Node] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def iter(self, *, skip: Any = None) -> Iterator[Node]:
        """This node and its descendants, not entering nodes for which `skip(node)` is true."""
        yield self
        for child in self.children:
            if skip is not None and skip(child):
                continue
            yield from child.iter(skip=skip)


class _TreeBuilder(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.line_starts = [0]
        for match in re.finditer("\n", html):
            self.line_starts.append(match.end())
        self.root = Node("#root", {}, 0, len(html))
        self.stack = [self.root]

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._offset()
        node = Node(tag, {name: value or "" for name, value in attrs}, start)
        self.stack[-1].children.append(node)
        if tag in VOID_TAGS:
            node.end = start + len(self.get_starttag_text() or "")
        else:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._offset()
        node = Node(tag, {name: value or "" for name, value in attrs}, start)
        node.end = start + len(self.get_starttag_text() or "")
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag not in {node.tag for node in self.stack[1:]}:
            return
        end = self.html.index(">", self._offset()) + 1
        while self.stack[-1].tag != tag:
            self.stack.pop().end = end
        self.stack.pop().end = end


@dataclass
class RenderedObject:
    """One object as the HTML shows it: its heading and the part of its doc-contents that is its own docstring."""

    id: str
    labels: set[str]
    heading_html: str
    own_html: str
    """The object's doc-contents without its members (`doc-children`)."""
    admonitions: list[tuple[str, str]]
    """`(summary text, body text)` of each `<details class="ai-generated">` in the object's own doc-contents."""
    own_text: str

    @property
    def marked(self) -> bool:
        """Labelled `ai-generated` in the heading and carrying the "AI-generated" admonition."""
        return "ai-generated" in self.labels and any(summary == "AI-generated" for summary, _ in self.admonitions)

    @property
    def docstring_text(self) -> str:
        """The rendered docstring text, the admonition left out."""
        text = self.own_text
        for summary, body in self.admonitions:
            text = text.replace(summary, "", 1).replace(body, "", 1)
        return " ".join(text.split())


def text_of(fragment: str) -> str:
    """The text of an HTML fragment, in document order."""
    return unescape(re.sub(r"<[^>]*>", "", fragment))


def rendered_objects(html: str) -> dict[str, RenderedObject]:
    """Objects rendered with a heading on one page, by heading id (the dotted path)."""
    builder = _TreeBuilder(html)
    builder.feed(html)
    builder.close()
    objects: dict[str, RenderedObject] = {}

    def is_children(node: Node) -> bool:
        return node.tag == "div" and "doc-children" in node.classes

    for parent in builder.root.iter():
        for index, heading in enumerate(parent.children):
            if not (
                re.fullmatch(r"h[1-6]", heading.tag) and "doc-heading" in heading.classes and heading.attrs.get("id")
            ):
                continue
            contents = next(
                (n for n in parent.children[index + 1 :] if n.tag == "div" and "doc-contents" in n.classes), None
            )
            labels = {
                cls.removeprefix("doc-label-")
                for node in heading.iter()
                for cls in node.classes
                if cls.startswith("doc-label-")
            }
            own_html = own_text = ""
            admonitions: list[tuple[str, str]] = []
            if contents is not None:
                raw = html[contents.start : contents.end]
                for child in contents.children:
                    if is_children(child):
                        raw = raw.replace(html[child.start : child.end], "")
                own_html = raw
                own_text = text_of(own_html)
                for node in contents.iter(skip=is_children):
                    if node.tag == "details" and "ai-generated" in node.classes:
                        summary = next((c for c in node.children if c.tag == "summary"), None)
                        summary_html = html[summary.start : summary.end] if summary else ""
                        body_html = html[node.start : node.end].replace(summary_html, "", 1)
                        admonitions.append((text_of(summary_html).strip(), text_of(body_html).strip()))
            objects[heading.attrs["id"]] = RenderedObject(
                id=heading.attrs["id"],
                labels=labels,
                heading_html=html[heading.start : heading.end],
                own_html=own_html,
                admonitions=admonitions,
                own_text=own_text,
            )
    return objects


def site_objects(result: BuildResult) -> dict[str, RenderedObject]:
    """Objects rendered with a heading anywhere in the site, by id (the first page showing an id wins)."""
    found: dict[str, RenderedObject] = {}
    for _, html in sorted(result.pages().items()):
        for key, obj in rendered_objects(html).items():
            found.setdefault(key, obj)
    return found


def marked_ids(result: BuildResult) -> set[str]:
    return {key for key, obj in site_objects(result).items() if obj.marked}


def site_files(site_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site_dir)): p.read_bytes() for p in sorted(site_dir.rglob("*")) if p.is_file()}


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("ERROR")]


def warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("WARNING")]


def assert_built(result: BuildResult) -> None:
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output, result.output


# ----------------------------------------------------------------------------------------------------------------------
# Shared builds


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[AzureEmulator]:
    with AzureEmulator(api_key=TEST_KEY) as emu:
        yield emu


@dataclass
class Rebuilds:
    """Three builds of the same tiny site: first, unchanged again, then after editing `scale`."""

    site: Site
    first: BuildResult
    first_files: dict[str, bytes]
    second: BuildResult
    second_files: dict[str, bytes]
    edited: BuildResult


@pytest.fixture(scope="module")
def rebuilds(tmp_path_factory: pytest.TempPathFactory, module_emulator: AzureEmulator) -> Rebuilds:
    root = tmp_path_factory.mktemp("tiny")
    site = make_site(root / "site-root", TINY_PACKAGE, TINY_PAGES)
    env = build_env(module_emulator, root)
    first = build(site, env, emulator=module_emulator)
    first_files = site_files(site.site_dir)
    second = build(site, env, emulator=module_emulator)
    second_files = site_files(site.site_dir)
    edited_source = CORE_SOURCE.replace(
        "    return [value * factor for value in values]", "    return [factor * value for value in list(values)]"
    )
    assert edited_source != CORE_SOURCE
    site.write_source("tinypkg/core.py", edited_source)
    edited = build(site, env, emulator=module_emulator)
    return Rebuilds(site, first, first_files, second, second_files, edited)


@pytest.fixture(scope="module")
def first_build(rebuilds: Rebuilds) -> BuildResult:
    """The first build of the tiny site, with the plugin listed before mkdocstrings."""
    assert_built(rebuilds.first)
    return rebuilds.first


@pytest.fixture(scope="module")
def disabled_build(tmp_path_factory: pytest.TempPathFactory, module_emulator: AzureEmulator) -> BuildResult:
    """The tiny site built with `enabled: false`: the plugin only counts what is missing."""
    root = tmp_path_factory.mktemp("disabled")
    site = make_site(root / "site-root", TINY_PACKAGE, TINY_PAGES, plugin_options={"enabled": False})
    result = build(site, build_env(module_emulator, root), emulator=module_emulator)
    assert_built(result)
    return result


# ----------------------------------------------------------------------------------------------------------------------
# 1. Every undocumented public object gets a marked AI docstring


def test_every_undocumented_public_object_gets_a_marked_ai_docstring(first_build: BuildResult) -> None:
    statuses = first_build.statuses()
    assert statuses == dict.fromkeys(UNDOCUMENTED, "generated")
    assert first_build.requests == len(UNDOCUMENTED)

    objects = site_objects(first_build)
    assert set(objects) >= UNDOCUMENTED | HUMAN, "every object is rendered with a heading"
    for path in UNDOCUMENTED:
        obj = objects[path]
        assert obj.marked, f"{path} lacks the ai-generated label or admonition:\n{obj.heading_html}\n{obj.own_html}"
        assert len(obj.admonitions) == 1, f"{path} carries {len(obj.admonitions)} admonitions"
        assert "written by an AI model (gpt-4o-mini)" in obj.admonitions[0][1]
        assert obj.docstring_text, f"{path} shows the marker but no docstring text"


def test_the_html_marks_exactly_the_objects_the_report_calls_generated_or_cached(first_build: BuildResult) -> None:
    statuses = first_build.statuses()
    published = {path for path, status in statuses.items() if status in ("generated", "cached")}
    objects = site_objects(first_build)
    assert marked_ids(first_build) == published
    for path in HUMAN:
        assert path not in statuses
        assert not objects[path].marked
        assert "ai-generated" not in objects[path].labels
        assert not objects[path].admonitions


# ----------------------------------------------------------------------------------------------------------------------
# 2. Human docstrings are untouched


def test_human_docstrings_render_byte_for_byte_as_without_the_plugin(
    first_build: BuildResult, disabled_build: BuildResult
) -> None:
    with_plugin = site_objects(first_build)
    without = site_objects(disabled_build)
    assert marked_ids(disabled_build) == set()
    assert disabled_build.requests == 0
    for path in HUMAN:
        assert with_plugin[path].own_html == without[path].own_html, path
        assert with_plugin[path].heading_html == without[path].heading_html, path
    greet = with_plugin["tinypkg.core.greet"]
    assert "Return a friendly greeting for" in greet.docstring_text
    assert "&amp;" in greet.own_html


# ----------------------------------------------------------------------------------------------------------------------
# 3. and 4. Cache: a second build is free and identical; an edit regenerates just the edited object


def test_second_build_sends_no_request_and_writes_identical_html(rebuilds: Rebuilds) -> None:
    assert_built(rebuilds.second)
    assert rebuilds.second.requests == 0
    assert rebuilds.second.statuses() == dict.fromkeys(UNDOCUMENTED, "cached")
    assert rebuilds.second.report["totals"]["requests"] == 0
    ignored = {"ai-docstrings.json", "sitemap.xml.gz"}
    first = {name: data for name, data in rebuilds.first_files.items() if name not in ignored}
    second = {name: data for name, data in rebuilds.second_files.items() if name not in ignored}
    assert sorted(first) == sorted(second)
    changed = [name for name in first if first[name] != second[name]]
    assert changed == []
    assert marked_ids(rebuilds.second) == UNDOCUMENTED


def test_editing_one_function_regenerates_exactly_that_object(rebuilds: Rebuilds) -> None:
    assert_built(rebuilds.edited)
    assert marked_ids(rebuilds.edited) == UNDOCUMENTED
    assert rebuilds.edited.requests == 1
    expected = dict.fromkeys(UNDOCUMENTED, "cached")
    expected["tinypkg.core.scale"] = "generated"
    assert rebuilds.edited.statuses() == expected


def test_editing_a_function_of_a_documented_module_regenerates_only_that_function(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = make_site(tmp_path / "site-root", STYLE_PACKAGE, STYLE_PAGES)
    env = build_env(emulator, tmp_path)
    assert_built(build(site, env, emulator=emulator))
    site.write_source(
        "stylepkg/ops.py",
        STYLE_PACKAGE["stylepkg/ops.py"].replace("max(low, min(high, value))", "min(high, max(low, value))"),
    )
    result = build(site, env, emulator=emulator)
    assert_built(result)
    assert result.requests == 1
    assert result.statuses() == {"stylepkg.ops.scale": "cached", "stylepkg.ops.clamp": "generated"}
    assert marked_ids(result) == {"stylepkg.ops.scale", "stylepkg.ops.clamp"}


# ----------------------------------------------------------------------------------------------------------------------
# 5. and 6. No credentials, a wrong key, an unknown deployment: the build succeeds and says why


def test_build_without_credentials_succeeds_and_says_how_to_enable_generation(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site-root", TINY_PACKAGE, TINY_PAGES)
    result = build(site, build_env(None, tmp_path))
    assert_built(result)
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "skipped")
    assert f"{len(UNDOCUMENTED)} object(s) are waiting for a docstring" in result.output
    assert "AZURE_OPENAI_ENDPOINT" in result.output
    assert errors(result.output) == []
    assert marked_ids(result) == set()


def test_wrong_api_key_fails_with_one_clear_error_and_never_leaks_the_key(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    site = make_site(tmp_path / "site-root", TINY_PACKAGE, TINY_PAGES, plugin_options={"concurrency": 2})
    result = build(site, build_env(emulator, tmp_path, AZURE_OPENAI_API_KEY=WRONG_KEY), emulator=emulator)
    assert_built(result)
    assert 1 <= result.requests <= 2, "a 401 stops every request not already in flight"
    assert emulator.count(401) == result.requests
    lines = errors(result.output)
    assert len(lines) == 1, result.output
    assert re.search(r"401|auth|key", lines[0], re.IGNORECASE), lines[0]
    assert WRONG_KEY not in result.output
    for name, data in site_files(result.site_dir).items():
        assert WRONG_KEY.encode() not in data, name
    for cache_file in (site.root / ".cache").rglob("*"):
        if cache_file.is_file():
            assert WRONG_KEY.encode() not in cache_file.read_bytes(), cache_file
    statuses = result.statuses()
    assert set(statuses) == UNDOCUMENTED
    assert "generated" not in statuses.values() and "cached" not in statuses.values()
    assert marked_ids(result) == set()


def test_unknown_deployment_fails_with_one_error_naming_the_deployment(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(
        tmp_path / "site-root",
        TINY_PACKAGE,
        TINY_PAGES,
        plugin_options={"deployment": "no-such-deployment", "concurrency": 2},
    )
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    assert 1 <= result.requests <= 2, "a 404 deployment stops every request not already in flight"
    assert emulator.count(404) == result.requests
    lines = errors(result.output)
    assert len(lines) == 1, result.output
    assert "no-such-deployment" in lines[0]
    assert TEST_KEY not in result.output
    for name, data in site_files(result.site_dir).items():
        assert TEST_KEY.encode() not in data, name
    statuses = result.statuses()
    assert set(statuses) == UNDOCUMENTED
    assert "generated" not in statuses.values()


# ----------------------------------------------------------------------------------------------------------------------
# 7. Plugin order


def test_plugin_listed_after_mkdocstrings_generates_the_same(
    tmp_path: Path, emulator: AzureEmulator, first_build: BuildResult
) -> None:
    site = make_site(tmp_path / "site-root", TINY_PACKAGE, TINY_PAGES, plugins_order=("mkdocstrings", "ai-docstrings"))
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    assert result.statuses() == first_build.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")
    assert marked_ids(result) == marked_ids(first_build) == UNDOCUMENTED
    assert (result.site_dir / "assets" / "ai-docstrings.css").is_file()


# ----------------------------------------------------------------------------------------------------------------------
# 8. The griffe extension on its own, and listed by hand next to the plugin


def test_standalone_extension_generates_marks_and_reports_into_the_site(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    cache_dir = tmp_path / "ext-cache"
    site = make_site(
        tmp_path / "site-root",
        TINY_PACKAGE,
        TINY_PAGES,
        handler_options={
            "extensions": [{"mkdocs_ai_docstrings": {"cache_dir": str(cache_dir), "examples": False}}],
            "preload_modules": ["json"],
        },
        plugins_order=("mkdocstrings",),
    )
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    assert result.requests == len(UNDOCUMENTED)
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")
    assert marked_ids(result) == UNDOCUMENTED
    assert not (cache_dir / "ai-docstrings.json").exists()
    assert not (result.site_dir / "assets" / "ai-docstrings.css").exists()


def test_standalone_extension_reports_every_documented_package(tmp_path: Path, emulator: AzureEmulator) -> None:
    cache_dir = tmp_path / "ext-cache"
    site = make_site(
        tmp_path / "site-root",
        {**TINY_PACKAGE, **STYLE_PACKAGE},
        {"index.md": "# API\n\n::: tinypkg.core\n\n::: stylepkg.ops\n"},
        handler_options={"extensions": [{"mkdocs_ai_docstrings": {"cache_dir": str(cache_dir), "examples": False}}]},
        plugins_order=("mkdocstrings",),
    )
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    both = UNDOCUMENTED | {"stylepkg.ops.scale", "stylepkg.ops.clamp"}
    assert result.requests == len(both)
    assert marked_ids(result) == both
    assert result.statuses() == dict.fromkeys(both, "generated")


@pytest.mark.parametrize("spelling", ["mkdocs_ai_docstrings", "mkdocs_ai_docstrings.AIDocstringsExtension"])
def test_extension_listed_by_hand_next_to_the_plugin_generates_each_object_once(
    tmp_path: Path, emulator: AzureEmulator, spelling: str
) -> None:
    site = make_site(
        tmp_path / "site-root",
        TINY_PACKAGE,
        TINY_PAGES,
        handler_options={"extensions": [{spelling: {"cache_dir": str(tmp_path / "ext-cache"), "examples": False}}]},
    )
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    assert result.requests == len(UNDOCUMENTED)
    assert result.statuses() == dict.fromkeys(UNDOCUMENTED, "generated")
    objects = site_objects(result)
    for path in UNDOCUMENTED:
        assert len(objects[path].admonitions) == 1, f"{path} is marked {len(objects[path].admonitions)} times"
    assert marked_ids(result) == UNDOCUMENTED


# ----------------------------------------------------------------------------------------------------------------------
# 9. and 10. Strict builds in every docstring style; parameters land in the parameters table


@pytest.mark.parametrize("style", ["google", "numpy", "sphinx"])
def test_generated_docstrings_pass_strict_and_fill_the_parameters_table(
    tmp_path: Path, emulator: AzureEmulator, style: str
) -> None:
    site = make_site(tmp_path / "site-root", STYLE_PACKAGE, STYLE_PAGES, handler_options={"docstring_style": style})
    result = build(site, build_env(emulator, tmp_path), "--strict", emulator=emulator)
    assert_built(result)
    assert warnings(result.output) == []
    assert result.statuses() == {"stylepkg.ops.scale": "generated", "stylepkg.ops.clamp": "generated"}
    objects = site_objects(result)
    for path, parameters in (("stylepkg.ops.scale", ("values", "factor")), ("stylepkg.ops.clamp", ("value", "low"))):
        obj = objects[path]
        assert obj.marked
        table = obj.own_html.split("Parameters:", 1)
        assert len(table) == 2, f"{path} ({style}) has no parameters section:\n{obj.own_html}"
        for name in parameters:
            assert re.search(rf"<code>{name}</code>", table[1].split("</table>", 1)[0]), f"{name} missing ({style})"


# ----------------------------------------------------------------------------------------------------------------------
# 11. The stylesheet


def test_stylesheet_is_in_the_site_and_linked_from_every_page(rebuilds: Rebuilds) -> None:
    css = rebuilds.first_files.get("assets/ai-docstrings.css")
    assert css is not None, sorted(rebuilds.first_files)
    assert b".ai-generated" in css
    pages = rebuilds.first.pages()
    assert "index.html" in pages
    for name, html in pages.items():
        assert re.search(r'<link[^>]+href="[^"]*assets/ai-docstrings\.css"', html), f"{name} does not link the CSS"


# ----------------------------------------------------------------------------------------------------------------------
# 12. Side-loaded packages are not documented


def test_preloaded_external_modules_are_not_documented(tmp_path: Path, emulator: AzureEmulator) -> None:
    package = {
        "sidepkg/__init__.py": (
            '"""A package that imports the standard library."""\n\n'
            "import json\nfrom json import dumps\n\n__all__ = ['dumps', 'encode']\n\n\n"
            "def encode(data):\n    return json.dumps(data, sort_keys=True)\n"
        )
    }
    site = make_site(
        tmp_path / "site-root",
        package,
        {"index.md": "# API\n\n::: sidepkg\n"},
        handler_options={"load_external_modules": True, "preload_modules": ["json"]},
    )
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert_built(result)
    statuses = result.statuses()
    assert statuses == {"sidepkg.encode": "generated"}
    assert not [path for path in statuses if path.split(".")[0] != "sidepkg"]
    assert result.requests == 1
    assert marked_ids(result) == {"sidepkg.encode"}


# ----------------------------------------------------------------------------------------------------------------------
# The example site


def test_example_site_builds_strict_with_all_23_objects_generated_and_marked(
    tmp_path: Path, emulator: AzureEmulator
) -> None:
    root = tmp_path / "example_site"
    shutil.copytree(EXAMPLE_SITE, root, ignore=shutil.ignore_patterns(".cache", "site", "__pycache__"))
    result = build(Site(root), build_env(emulator, tmp_path), "--strict", emulator=emulator)
    assert_built(result)
    statuses = result.statuses()
    assert len(statuses) == 23
    assert set(statuses.values()) == {"generated"}
    assert result.report["counts"]["generated"] == 23
    # one docstring request each, and one example request for each of the 21 functions, methods and classes but
    # StationRegistry, whose public methods' examples make the instance (the emulator's example is empty: nothing to
    # check, nothing to repair)
    assert result.requests == 23 + 20
    assert marked_ids(result) >= set(statuses)
