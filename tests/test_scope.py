"""Specification of the site scope: which `:::` blocks the pages hold, and the options that shape them."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import griffe
import pytest
from mkdocstrings_handlers.python import PythonOptions

from mkdocs_ai_docstrings._internal.extension import _scope
from mkdocs_ai_docstrings._internal.scope import (
    DocumentedRoot,
    by_package,
    documented_roots,
    handler_options,
    load_yaml,
    root_from_options,
    roots_from_mkdocs_yml,
    roots_in_markdown,
)
from mkdocs_ai_docstrings._internal.settings import Settings


def md(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# One Markdown text -----------------------------------------------------------------------------------------------


def test_a_bare_block_renders_all_members_without_submodules() -> None:
    assert roots_in_markdown("# API\n\n::: pkg.api\n") == [DocumentedRoot("pkg.api")]
    root = DocumentedRoot("pkg.api")
    assert root.show_submodules is False
    assert root.members is None


def test_blocks_are_found_in_page_order_with_their_dotted_identifiers() -> None:
    text = md(
        """
        # Reference

        ::: pkg

        Some prose.

        ::: pkg.sub.module

        ::: other_pkg.Thing
        """
    )
    assert [root.identifier for root in roots_in_markdown(text)] == ["pkg", "pkg.sub.module", "other_pkg.Thing"]


def test_a_block_on_the_last_line_without_a_trailing_newline_is_found() -> None:
    assert roots_in_markdown("# API\n\n::: pkg.api") == [DocumentedRoot("pkg.api")]


def test_three_colons_inside_a_sentence_are_not_a_block() -> None:
    assert roots_in_markdown("Write `::: pkg` on its own line.\nA ratio 3 ::: 4.\n") == []


def test_local_options_set_show_submodules_and_the_members_list() -> None:
    text = md(
        """
        ::: pkg.api
            handler: python
            options:
              show_submodules: true
              members:
                - load
                - Store
        """
    )
    assert roots_in_markdown(text) == [DocumentedRoot("pkg.api", show_submodules=True, members=("load", "Store"))]


def test_members_false_renders_no_member_and_members_true_renders_all() -> None:
    text = md(
        """
        ::: pkg.a
            options:
              members: false

        ::: pkg.b
            options:
              members: true
        """
    )
    assert roots_in_markdown(text) == [DocumentedRoot("pkg.a", members=()), DocumentedRoot("pkg.b", members=None)]


def test_local_options_override_the_global_handler_options_block_by_block() -> None:
    text = md(
        """
        ::: pkg.a

        ::: pkg.b
            options:
              show_submodules: false
        """
    )
    roots = roots_in_markdown(text, {"show_submodules": True, "members": ["x"]})
    assert roots == [
        DocumentedRoot("pkg.a", show_submodules=True, members=("x",)),
        DocumentedRoot("pkg.b", show_submodules=False, members=("x",)),
    ]


def test_a_block_body_ends_at_the_first_line_that_is_not_indented_more() -> None:
    text = md(
        """
        ::: pkg.a
            options:
              show_submodules: true
        members:
          - not_an_option
        ::: pkg.b
        """
    )
    assert roots_in_markdown(text) == [DocumentedRoot("pkg.a", show_submodules=True), DocumentedRoot("pkg.b")]


def test_blank_lines_inside_a_block_body_keep_its_options() -> None:
    text = "::: pkg.a\n    options:\n\n      show_submodules: true\n"
    assert roots_in_markdown(text) == [DocumentedRoot("pkg.a", show_submodules=True)]


def test_an_indented_block_in_a_list_item_uses_options_indented_below_it() -> None:
    text = md(
        """
        - The API:

            ::: pkg.listed
                options:
                  members: [one]
        """
    )
    assert roots_in_markdown(text) == [DocumentedRoot("pkg.listed", members=("one",))]


def test_unparsable_or_odd_option_bodies_keep_the_block_with_default_options() -> None:
    text = md(
        """
        ::: pkg.broken
            options: [unclosed

        ::: pkg.scalar
            just some text

        ::: pkg.list_options
            options:
              - show_submodules
        """
    )
    assert roots_in_markdown(text, {"show_submodules": True}) == [
        DocumentedRoot("pkg.broken", show_submodules=True),
        DocumentedRoot("pkg.scalar", show_submodules=True),
        DocumentedRoot("pkg.list_options", show_submodules=True),
    ]


def test_a_block_shown_as_an_example_inside_a_code_fence_is_not_rendered() -> None:
    text = md(
        """
        Write this in a page:

        ```markdown
        ::: pkg.example
            options:
              show_submodules: true
        ```
        """
    )
    assert roots_in_markdown(text) == []


def test_the_package_of_a_root_is_the_first_component_of_its_identifier() -> None:
    assert DocumentedRoot("pkg.sub.Thing").package == "pkg"
    assert DocumentedRoot("pkg").package == "pkg"


def test_by_package_groups_roots_by_top_level_package_in_order() -> None:
    roots = [DocumentedRoot("a.x"), DocumentedRoot("b"), DocumentedRoot("a.y", show_submodules=True)]
    assert by_package(roots) == {"a": [roots[0], roots[2]], "b": [roots[1]]}
    assert by_package([]) == {}


# A docs folder ---------------------------------------------------------------------------------------------------


def test_documented_roots_scans_markdown_in_nested_folders_and_ignores_other_files(tmp_path: Path) -> None:
    (tmp_path / "reference" / "deep").mkdir(parents=True)
    (tmp_path / "index.md").write_text("::: pkg\n", encoding="utf-8")
    (tmp_path / "reference" / "api.md").write_text("::: pkg.api\n", encoding="utf-8")
    (tmp_path / "reference" / "deep" / "inner.md").write_text(
        "::: pkg.inner\n    options:\n      show_submodules: true\n", encoding="utf-8"
    )
    (tmp_path / "reference" / "notes.txt").write_text("::: pkg.not_markdown\n", encoding="utf-8")
    (tmp_path / "reference" / "bad.md").write_bytes(b"::: pkg.undecodable\n\xff\xfe\n")
    roots = documented_roots(tmp_path)
    assert sorted(root.identifier for root in roots) == ["pkg", "pkg.api", "pkg.inner"]
    assert DocumentedRoot("pkg.inner", show_submodules=True) in roots


def test_documented_roots_applies_the_global_defaults(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("::: pkg\n", encoding="utf-8")
    assert documented_roots(tmp_path, {"show_submodules": True}) == [DocumentedRoot("pkg", show_submodules=True)]


def test_handler_options_reads_the_python_handler_global_options() -> None:
    config = {"handlers": {"python": {"paths": ["src"], "options": {"show_submodules": True}}}}
    assert handler_options(config) == {"show_submodules": True}


@pytest.mark.parametrize(
    "config",
    [None, "mkdocstrings", {}, {"handlers": None}, {"handlers": {"python": None}}, {"handlers": ["python"]}],
)
def test_handler_options_are_empty_when_absent_or_malformed(config: object) -> None:
    assert handler_options(config) == {}  # type: ignore[arg-type]


# mkdocs.yml ------------------------------------------------------------------------------------------------------


def write_site(root: Path, config: str, pages: dict[str, str], docs_dir: str = "docs") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config_file = root / "mkdocs.yml"
    config_file.write_text(md(config), encoding="utf-8")
    for name, text in pages.items():
        page = root / docs_dir / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(text, encoding="utf-8")
    return config_file


def test_roots_from_mkdocs_yml_tolerates_mkdocs_custom_yaml_tags(tmp_path: Path) -> None:
    config = write_site(
        tmp_path,
        """
        site_name: !ENV [SITE_NAME, "tiny"]
        site_url: !ENV SITE_URL
        theme:
          name: material
        plugins:
          - search
          - mkdocstrings:
              enabled: !ENV [MKDOCSTRINGS_ENABLED, true]
              handlers:
                python:
                  paths: [!relative $config_dir/src]
                  options:
                    show_submodules: true
        markdown_extensions:
          - pymdownx.emoji:
              emoji_index: !!python/name:material.extensions.emoji.twemoji
              emoji_generator: !!python/name:material.extensions.emoji.to_svg
          - pymdownx.superfences:
              custom_fences:
                - name: mermaid
                  class: mermaid
                  format: !!python/name:pymdownx.superfences.fence_code_format
        """,
        {"index.md": "::: pkg\n", "reference/api.md": "::: pkg.api\n    options:\n      members: [run]\n"},
    )
    roots = roots_from_mkdocs_yml(config)
    assert roots is not None
    assert sorted(roots, key=lambda root: root.identifier) == [
        DocumentedRoot("pkg", show_submodules=True),
        DocumentedRoot("pkg.api", show_submodules=True, members=("run",)),
    ]


def test_load_yaml_never_executes_python_tags() -> None:
    data = load_yaml('a: !!python/object/apply:os.system ["exit 3"]\nb: !ENV [X, 1]\n')
    assert data == {"a": ["exit 3"], "b": ["X", 1]}


def test_roots_from_mkdocs_yml_follows_a_custom_docs_dir(tmp_path: Path) -> None:
    config = write_site(
        tmp_path,
        """
        site_name: tiny
        docs_dir: content/pages
        plugins: [mkdocstrings]
        """,
        {"nested/deeper/api.md": "::: pkg.api\n"},
        docs_dir="content/pages",
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ignored.md").write_text("::: pkg.ignored\n", encoding="utf-8")
    assert roots_from_mkdocs_yml(config) == [DocumentedRoot("pkg.api")]


def test_roots_from_mkdocs_yml_is_none_without_a_config_blocks_or_valid_yaml(tmp_path: Path) -> None:
    assert roots_from_mkdocs_yml(tmp_path / "missing.yml") is None
    no_blocks = write_site(tmp_path / "a", "site_name: tiny\n", {"index.md": "# Just prose\n"})
    assert roots_from_mkdocs_yml(no_blocks) is None
    (tmp_path / "b").mkdir()
    broken = tmp_path / "b" / "mkdocs.yml"
    broken.write_text("site_name: [unclosed\n", encoding="utf-8")
    assert roots_from_mkdocs_yml(broken) is None
    (tmp_path / "c").mkdir()
    scalar = tmp_path / "c" / "mkdocs.yml"
    scalar.write_text("just a string\n", encoding="utf-8")
    assert roots_from_mkdocs_yml(scalar) is None


def test_roots_from_mkdocs_yml_reads_handler_options_from_mapping_form_plugins(tmp_path: Path) -> None:
    config = write_site(
        tmp_path,
        """
        site_name: tiny
        plugins:
          search: {}
          mkdocstrings:
            handlers:
              python:
                options:
                  show_submodules: true
        """,
        {"index.md": "::: pkg\n"},
    )
    assert roots_from_mkdocs_yml(config) == [DocumentedRoot("pkg", show_submodules=True)]


def test_every_identifier_syntax_mkdocstrings_accepts_is_a_root() -> None:
    text = "# API\n\n:::pkg.a\n\n## ::: pkg.b\n\n###:::pkg.c\n    options:\n      members: [x]\n"
    roots = roots_in_markdown(text)
    assert [root.identifier for root in roots] == ["pkg.a", "pkg.b", "pkg.c"]
    assert roots[2].members == ("x",)


# What the host collects decides ----------------------------------------------------------------------------------


def _decide(
    package: str, pages: list[DocumentedRoot] | None, collected: DocumentedRoot | None, **options: Any
) -> tuple[bool, list[DocumentedRoot] | None]:
    return _scope(griffe.Module(package), Settings.from_options(options), by_package(pages or []) or None, collected)


def test_a_package_the_handler_collects_but_no_page_names_is_walked_whole() -> None:
    # e.g. a page another plugin generated that the builder does not show us
    assert _decide("pkg", [DocumentedRoot("other")], DocumentedRoot("pkg.mod")) == (True, None)


def test_a_collected_block_that_the_pages_show_uses_the_pages_roots() -> None:
    pages = [DocumentedRoot("pkg.a", members=()), DocumentedRoot("pkg.b")]
    assert _decide("pkg", pages, DocumentedRoot("pkg.a", members=())) == (True, pages)


def test_a_collected_block_the_pages_do_not_show_widens_the_scope_to_the_whole_package() -> None:
    pages = [DocumentedRoot("pkg", members=())]
    assert _decide("pkg", pages, DocumentedRoot("pkg.hidden")) == (True, None)


def test_a_package_loaded_on_the_side_of_another_block_is_out_of_scope_unless_a_page_names_it() -> None:
    assert _decide("dep", [DocumentedRoot("pkg")], DocumentedRoot("pkg")) == (False, None)
    assert _decide("dep", None, DocumentedRoot("pkg")) == (False, None)
    assert _decide("dep", [DocumentedRoot("pkg"), DocumentedRoot("dep.x")], DocumentedRoot("pkg")) == (
        True,
        [DocumentedRoot("dep.x")],
    )


def test_packages_still_restricts_what_the_host_collects() -> None:
    assert _decide("pkg", None, DocumentedRoot("pkg"), packages=["other"]) == (False, None)
    assert _decide("dep", None, DocumentedRoot("pkg"), packages=["dep"]) == (True, None)


def test_the_collected_root_reads_the_handlers_final_options() -> None:
    options = PythonOptions.from_data(members=["a", "b"], show_submodules=True)
    assert root_from_options("pkg.mod", options) == DocumentedRoot("pkg.mod", True, ("a", "b"))
    assert root_from_options("pkg", PythonOptions.from_data(members=False)) == DocumentedRoot("pkg", members=())
    assert root_from_options("pkg", PythonOptions.from_data()) == DocumentedRoot("pkg")
