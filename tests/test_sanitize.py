"""Untrusted model text becomes inert Markdown: plain paragraphs and code spans, nothing else."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import griffe
import markdown
import pytest

from mkdocs_ai_docstrings._internal.sanitize import code_fence, sanitize_code, sanitize_text
from tests.conftest import HAS_MARKDOWN_INCLUDE, SecretServer, include_payloads

EXTENSIONS = ["attr_list", "admonition", "pymdownx.details", "pymdownx.superfences", "md_in_html", "tables", "toc"]
MORE_EXTENSIONS = [
    *EXTENSIONS,
    "abbr",
    "def_list",
    "footnotes",
    "pymdownx.arithmatex",
    "pymdownx.blocks.admonition",
    "pymdownx.blocks.details",
    "pymdownx.critic",
    "pymdownx.inlinehilite",
    "pymdownx.magiclink",
    "pymdownx.snippets",
    "pymdownx.tabbed",
    "pymdownx.tasklist",
]

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![pic](javascript:alert(1))",
    "<javascript:alert(1)>",
    "<https://example.com>",
    "See [x].\n\n[x]: javascript:alert(1)",
    "[x][ref]\n\n[ref]: data:text/html;base64,PHNjcmlwdD4=",
    'Some text\n{: onclick="alert(1)" }',
    "Title {#id .cls onclick=alert(1)}",
    '!!! danger "t"\n    <b>body</b>',
    "??? note\n    hidden",
    "/// details | t\nbody\n///",
    "::: os",
    "# ::: os.path",
    "</div></details>",
    '<div markdown="1">x</div>',
    "Intro.\n\nReturns:\n    int: a value",
    "Args:\n    x: y",
    "Note: something important",
    "Raises:",
    ":param x: y",
    ":raises ValueError: when",
    ":return: nothing",
    "Parameters\n----------\nx : int",
    "\tindented code\n        more code",
    "# Heading",
    "Heading\n=======",
    "Heading\n-------",
    "---",
    "> quoted",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "```\n<script>x</script>\n```",
    "~~~\ncode\n~~~",
    "<!-- comment -->",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;",
    "text\u202e gnp.exe\u200b",
    "\\`<script>alert(1)</script>`",
    "`a``<b>`",
    "unbalanced ` <b>tick</b>",
    "1. one\n2. two",
    "- item\n- item",
    "*[HTML]: Hyper Text",
    "[^1]: footnote",
    "Term\n: definition",
    "$\\href{javascript:alert(1)}{x}$",
    '--8<-- "/etc/passwd"',
    "{++added++}{--removed--}",
    "- [x] task",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _parse(markdown_text: str, extensions: list[str] = EXTENSIONS) -> _Collector:
    collector = _Collector()
    collector.feed(markdown.markdown(markdown_text, extensions=extensions))
    collector.close()
    return collector


def _visible(markdown_text: str) -> str:
    return " ".join("".join(_parse(markdown_text).text).split())


def _assert_inert(
    markdown_text: str, extensions: list[str] = EXTENSIONS, allowed: frozenset[str] = frozenset({"p", "code"})
) -> None:
    html = _parse(markdown_text, extensions)
    assert set(html.tags) <= allowed, html.tags
    assert html.attrs == []
    assert html.comments == []


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_plain_paragraphs(text: str) -> None:
    _assert_inert(sanitize_text(text))


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_stays_inert_with_more_extensions(text: str) -> None:
    _assert_inert(sanitize_text(text), MORE_EXTENSIONS)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "&lt;script&gt; is shown as typed",
        '{: onclick="alert(1)" }',
        "::: os",
        "Returns: the value",
        ":param x: y",
        "# not a heading",
        "1. not a list",
        "a | b | c",
        "cost: $5 \\ path C:\\temp",
    ],
)
def test_hostile_text_is_shown_exactly_as_written(text: str) -> None:
    assert _visible(sanitize_text(text)) == text


def test_emphasis_is_the_only_formatting_kept() -> None:
    html = _parse(sanitize_text("A **bold** and *soft* claim about `x`."))
    assert html.tags == ["p", "strong", "em", "code"]
    assert html.attrs == []


def test_benign_text_reads_naturally() -> None:
    text = "Return the `value` as an int & keep a < b."
    sanitized = sanitize_text(text)
    assert sanitized == "Return the `value` as an int &amp; keep a &lt; b."
    html = _parse(sanitized)
    assert html.tags == ["p", "code"]
    assert _visible(sanitized) == text.replace("`", "")


def test_code_spans_keep_their_content_verbatim() -> None:
    sanitized = sanitize_text("Use `<b>{x}</b> | [y]` here.")
    assert sanitized == "Use `<b>{x}</b> | [y]` here."
    assert _visible(sanitized) == "Use <b>{x}</b> | [y] here."


def test_double_backtick_spans_become_single_and_stray_backticks_go() -> None:
    assert sanitize_text("Call ``f()`` now") == "Call `f()` now"
    assert sanitize_text("an ` unbalanced tick") == "an unbalanced tick"
    assert sanitize_text("```py\nx = 1\n```") == "`py x = 1`"


def test_escaped_backtick_cannot_hide_html_from_the_code_span_logic() -> None:
    # In Markdown "\`" is not a code span opener; the backslash must not survive as an escape.
    sanitized = sanitize_text("\\`<script>alert(1)</script>`")
    assert "<script>" not in markdown.markdown(sanitized, extensions=EXTENSIONS)


def test_paragraphs_are_kept_and_each_reflowed_onto_one_line() -> None:
    text = "First line\n  continues here.\n\n\n   Second\tparagraph\n    indented."
    assert sanitize_text(text) == "First line continues here.\n\nSecond paragraph indented."


def test_invisible_and_control_characters_are_removed() -> None:
    text = "a\u202eb\u2066c\u200bd\ufeffe\x00f\x1bg\u00adh"
    assert sanitize_text(text) == "abcdefgh"


def test_long_text_is_cut_at_a_word_boundary() -> None:
    sanitized = sanitize_text("word " * 100, max_chars=42)
    assert sanitized.endswith("word…")
    assert len(sanitized) <= 42
    assert "wor…" not in sanitized


def test_short_text_is_not_cut() -> None:
    assert sanitize_text("exactly ten", max_chars=11) == "exactly ten"


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("parser", ["google", "numpy", "sphinx"])
def test_sanitized_text_never_creates_docstring_sections(text: str, parser: str) -> None:
    docstring = griffe.Docstring("Summary.\n\n" + sanitize_text(text), parser=parser)
    sections = docstring.parse()
    assert [section.kind for section in sections] == [griffe.DocstringSectionKind.text]


def test_sanitized_description_stays_inside_its_google_section() -> None:
    description = sanitize_text("The value.\n\nRaises:\n    ValueError: never\n\nx: another param")
    # A renderer indents the continuation paragraphs of an item under the item.
    item = description.replace("\n\n", "\n\n        ")
    docstring = griffe.Docstring(f"Summary.\n\nArgs:\n    value (int): {item}", parser="google")
    sections = docstring.parse()
    assert [section.kind for section in sections] == [
        griffe.DocstringSectionKind.text,
        griffe.DocstringSectionKind.parameters,
    ]
    assert [parameter.name for parameter in sections[1].value] == ["value"]


def test_would_be_items_lose_their_colon() -> None:
    assert sanitize_text("Returns: the value") == "Returns&#58; the value"
    assert sanitize_text("x (int): fake") == "x (int)&#58; fake"
    # Even a paragraph placed at item indentation does not become another parameter.
    docstring = griffe.Docstring(f"S.\n\nArgs:\n    value: first.\n    {sanitize_text('x: fake')}", parser="google")
    sections = docstring.parse()
    assert [parameter.name for parameter in sections[1].value] == ["value"]


def test_random_mixtures_of_hostile_fragments_stay_inert() -> None:
    fragments = [*HOSTILE, "`", "``", "\\", "\n", "\n\n", "    ", "<", ">", "&", "[", "]", "(", ")", "{", "}", ":", "!"]
    rng = random.Random(20261124)
    for _ in range(150):
        text = "".join(rng.choice(fragments) for _ in range(rng.randint(1, 8)))
        sanitized = sanitize_text(text)
        # Emphasis is the one formatting prose keeps (`*args*` may become <em>): harmless, attribute-free.
        _assert_inert(sanitized, allowed=frozenset({"p", "code", "em", "strong"}))
        assert [s.kind for s in griffe.Docstring("S.\n\n" + sanitized, parser="google").parse()] == [
            griffe.DocstringSectionKind.text
        ]


def test_code_loses_fence_lines_and_invisible_characters() -> None:
    code = "```python\nx = 1\u202e\n~~~~\nprint(x)\x07\n```"
    assert sanitize_code(code) == "x = 1\nprint(x)"


def test_code_is_dedented_and_capped() -> None:
    code = "\n".join(f"    line_{number} = {number}" for number in range(50))
    sanitized = sanitize_code(code, max_lines=5)
    assert sanitized.splitlines() == ["line_0 = 0", "line_1 = 1", "line_2 = 2", "line_3 = 3", "# …"]


def test_code_fence_is_longer_than_any_backtick_run() -> None:
    assert code_fence("x = 1") == "```"
    assert code_fence("s = '```'") == "````"
    assert code_fence("a ````` b") == "``````"


def test_fenced_hostile_code_renders_as_one_code_block() -> None:
    code = sanitize_code("```\n</code></pre><script>alert(1)</script>\n```\n::: os\ns = '````'\n!!! note")
    fence = code_fence(code)
    html = _parse(f"{fence}python\n{code}\n{fence}", MORE_EXTENSIONS)
    assert html.tags.count("pre") == 1
    assert {"script", "p", "img", "a", "details"}.isdisjoint(html.tags)
    assert not [name for name, _ in html.attrs if name.startswith("on") or name in {"href", "src"}]
    assert "</code></pre><script>alert(1)</script>" in "".join(html.text)


# Includes and directives: model text is data for every extension a site may enable -----------------------------

MARKER = "SECRET-7f3a9c-not-for-publication"
"""The content of the local (and served) `secret.env`: it must never reach rendered HTML."""


@pytest.fixture(scope="module")
def secret_server() -> Iterator[SecretServer]:
    server = SecretServer(MARKER)
    yield server
    server.close()


@pytest.fixture(scope="module")
def secret_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("includes")
    (folder / "secret.env").write_text(MARKER + "\n", encoding="utf-8")
    return folder


def _snippets(secret_dir: Path, *, url_download: bool = False) -> dict[str, Any]:
    return {"base_path": [str(secret_dir)], "check_paths": False, "url_download": url_download, "url_timeout": 5}


def _renderers(secret_dir: Path) -> dict[str, Callable[[str], str]]:
    """Markdown set-ups a site may have: MkDocs' built-ins plus snippets, and a rich set with includes."""

    def mkdocs_defaults(text: str) -> str:
        md = markdown.Markdown(
            extensions=["toc", "tables", "fenced_code", "pymdownx.snippets"],
            extension_configs={"pymdownx.snippets": _snippets(secret_dir, url_download=True)},
        )
        return md.convert(text)

    def rich(text: str) -> str:
        configs: dict[str, Any] = {"pymdownx.snippets": _snippets(secret_dir, url_download=True)}
        extensions = [*MORE_EXTENSIONS, "pymdownx.blocks.html"]
        if HAS_MARKDOWN_INCLUDE:
            extensions.append("markdown_include.include")
            configs["markdown_include.include"] = {"base_path": str(secret_dir)}
        return markdown.Markdown(extensions=extensions, extension_configs=configs).convert(text)

    return {"mkdocs-defaults": mkdocs_defaults, "rich": rich}


def _as_code_block(code: str) -> str:
    fence = code_fence(code)
    return f"{fence}python\n{code}\n{fence}"


_ACTIVE_SYNTAX = {
    "snippet": re.compile(r"(?m)^[ \t]*;*-+8<-+|-+8<-+[ \t]+\[[ \t]*(?:start|end)"),
    "markdown-include": re.compile(r"{!\s*(.+?)\s*!((\blines\b)=([0-9 -]+))?\}"),
    "jinja": re.compile(r"\{[{%#]"),
    "autodoc": re.compile(r"^(?P<heading>#{1,6} *|)::: ?(?P<name>.+?) *$", flags=re.MULTILINE),
    "blocks": re.compile(r"(?m)^[ ]{0,3}/{3,}"),
    "html-comment": re.compile(r"<!--"),
}
"""The extensions' own patterns (snippets' RE_ALL_SNIPPETS / RE_SNIPPET_SECTION, markdown-include's INC_SYNTAX,
mkdocstrings' AutoDocProcessor, pymdownx.blocks' RE_START), loosened to match more, never less."""


def _active(markdown_text: str) -> list[str]:
    return [name for name, pattern in _ACTIVE_SYNTAX.items() if pattern.search(markdown_text)]


def test_the_set_up_publishes_local_and_remote_files_from_raw_text(
    secret_dir: Path, secret_server: SecretServer
) -> None:
    """The control: without sanitization, these payloads do publish the file (so the tests below can fail)."""
    renderers = _renderers(secret_dir)
    before = secret_server.requests
    for payload in ['--8<-- "secret.env"', "--8<--\nsecret.env\n--8<--", f'--8<-- "{secret_server.url}"']:
        assert MARKER in renderers["mkdocs-defaults"](payload)
        assert MARKER in renderers["mkdocs-defaults"](f"```python\n{payload}\n```")
    if HAS_MARKDOWN_INCLUDE:
        assert MARKER in renderers["rich"]("{!secret.env!}")
        assert MARKER in renderers["rich"]("See `{!secret.env!}`.")
    assert secret_server.requests > before
    assert _active("::: os") == ["autodoc"]


@pytest.mark.parametrize("setup", ["mkdocs-defaults", "rich"])
def test_includes_in_prose_and_code_publish_nothing(secret_dir: Path, secret_server: SecretServer, setup: str) -> None:
    render = _renderers(secret_dir)[setup]
    before = secret_server.requests
    for payload in include_payloads(secret_server.url):
        for kind, text in (("prose", sanitize_text(payload)), ("code", _as_code_block(sanitize_code(payload)))):
            assert _active(text) == [], (kind, payload, text)
            assert MARKER not in render(text), (kind, payload, text)
            assert MARKER not in render(f"Intro.\n\n{text}\n\nOutro."), (kind, payload)
    assert secret_server.requests == before, "no include was downloaded"


@pytest.mark.parametrize(
    "text",
    [
        '--8<-- "secret.env"',
        ';--8<-- "secret.env"',
        "-8<-",
        'Lead `--8<-- "secret.env"` trail',
        "Kept `--8<-- [start:x]` whole",
        "`{!secret.env!}` and `{{ x }}` and `{% include 'a' %}` and `{# c #}`",
        "`<!-- x -->` comment",
        "/// html | div",
        "::: os",
    ],
)
def test_neutralized_prose_still_shows_the_characters_written(text: str) -> None:
    html = _parse(sanitize_text(text), MORE_EXTENSIONS)  # with snippets, which would delete a section-marker line
    assert " ".join("".join(html.text).split()) == text.replace("`", "")


def test_code_spans_without_directives_stay_code() -> None:
    assert sanitize_text("Use `a - 8 < b` or `{x}`.") == "Use `a - 8 < b` or `{x}`."
    assert sanitize_text('See `--8<-- "f"`.') == 'See --8&lt;-- "f".'


def test_jinja_over_sanitized_text_changes_nothing() -> None:
    """A macros-style Jinja pass over the docstring text finds nothing to evaluate or include."""
    import jinja2

    environment = jinja2.Environment(loader=jinja2.DictLoader({"secret.env": MARKER}))
    for payload in include_payloads("http://127.0.0.1:9/x"):
        for text in (sanitize_text(payload), _as_code_block(sanitize_code(payload))):
            assert environment.from_string(text).render(secret=MARKER) == text


def test_example_lines_carrying_directives_are_dropped_and_the_rest_is_kept() -> None:
    code = "\n".join(
        [
            "data = load('x')",
            '--8<-- "secret.env"',
            ";--8<-- 'secret.env'",
            "-8<-",
            "secret.env",
            "-8<-",
            "text = '{!secret.env!}'",
            "page = '{% include \"x\" %}'",
            "name = f'{{literal}}'",
            "# ::: os",
            "  ::: os",
            "/// html | div",
            "html = '<!-- note -->'",
            "print(data['key'], {1: 2}, a - 8 < b)  # comment: ::: not at line start",
        ]
    )
    assert sanitize_code(code).splitlines() == [
        "data = load('x')",
        "secret.env",
        "print(data['key'], {1: 2}, a - 8 < b)  # comment: ::: not at line start",
    ]
