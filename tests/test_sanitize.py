"""Untrusted model text becomes inert Markdown: plain paragraphs and code spans, nothing else."""

from __future__ import annotations

import random
from html.parser import HTMLParser

import griffe
import markdown
import pytest

from mkdocs_ai_docstrings._internal.sanitize import code_fence, sanitize_code, sanitize_text

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
