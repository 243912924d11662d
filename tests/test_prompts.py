"""Specification of the prompt: validated templates with a cache version, and context sections by importance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import griffe
import pytest

from mkdocs_ai_docstrings._internal.mark import attach_docstring
from mkdocs_ai_docstrings._internal.prompts import (
    SYSTEM_TEMPLATE,
    TEMPLATE_VERSION,
    USER_TEMPLATE,
    ContextInputs,
    PromptTemplates,
    TemplateError,
    build_sections,
    class_skeleton,
    example_messages,
    format_signature,
    render_context,
)
from mkdocs_ai_docstrings._internal.tokens import PromptSection, TokenCounter

BYTES = TokenCounter("test", "utf-8 bytes", False)
"""A deterministic counter: one token per UTF-8 byte."""


# Templates -----------------------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_built_in_templates_are_valid_and_carry_the_template_version() -> None:
    templates = PromptTemplates.load()
    assert (templates.system, templates.user) == (SYSTEM_TEMPLATE, USER_TEMPLATE)
    assert templates.version == TEMPLATE_VERSION


def test_custom_templates_are_loaded_from_files_and_change_the_version(tmp_path: Path) -> None:
    system = write(tmp_path, "system.txt", "Document $package in $style style. Be terse.\n")
    user = write(tmp_path, "user.txt", "Document $path ($kind).\n\n$context\n")
    custom = PromptTemplates.load(system, user)
    assert custom.system.startswith("Document $package")
    assert custom.version.startswith("custom-")
    assert custom.version != TEMPLATE_VERSION
    only_user = PromptTemplates.load(None, user)
    assert only_user.system == SYSTEM_TEMPLATE
    assert only_user.version not in {TEMPLATE_VERSION, custom.version}


def test_the_custom_version_is_stable_and_follows_every_character(tmp_path: Path) -> None:
    user = write(tmp_path, "user.txt", "Target $path\n$context\n")
    first = PromptTemplates.load(None, user).version
    assert PromptTemplates.load(None, user).version == first
    user2 = write(tmp_path, "user2.txt", "Target $path\n$context\n\n")
    assert PromptTemplates.load(None, user2).version != first


def test_an_unknown_system_variable_is_rejected_naming_the_option_file_variable_and_allowed_ones(
    tmp_path: Path,
) -> None:
    system = write(tmp_path, "system.txt", "Document $package for ${audience} in $style.\n")
    with pytest.raises(TemplateError) as error:
        PromptTemplates.load(system, None)
    assert str(error.value) == (
        f"option 'system_prompt_file': {system} uses unknown variable(s) $audience; allowed: $package, $style"
    )


def test_an_unknown_user_variable_is_rejected_by_name_with_the_allowed_ones(tmp_path: Path) -> None:
    user = write(tmp_path, "user.txt", "$path $context $source\n")
    with pytest.raises(TemplateError) as error:
        PromptTemplates.load(None, user)
    assert str(error.value) == (
        f"option 'user_prompt_file': {user} uses unknown variable(s) $source; allowed: $context, $kind, $path"
    )


def test_missing_required_user_variables_are_named(tmp_path: Path) -> None:
    user = write(tmp_path, "user.txt", "Document the $kind.\n")
    with pytest.raises(TemplateError, match=r"user.txt must contain \$context, \$path \(required"):
        PromptTemplates.load(None, user)


def test_the_system_template_needs_no_variable(tmp_path: Path) -> None:
    system = write(tmp_path, "system.txt", "Write terse docstrings.\n")
    assert PromptTemplates.load(system, None).system == "Write terse docstrings.\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [("Costs $5. $path $context", "line 1, column 7"), ("$path\n$context\n  ${ kind}", "line 3, column 3")],
)
def test_a_dollar_that_starts_no_variable_is_rejected_with_its_position(tmp_path: Path, text: str, where: str) -> None:
    user = write(tmp_path, "user.txt", text)
    with pytest.raises(TemplateError) as error:
        PromptTemplates.load(None, user)
    assert str(error.value).startswith(
        f"option 'user_prompt_file': {user} has a '$' at {where} that starts no variable"
    )
    assert "write $$ for a dollar sign" in str(error.value)


def test_a_missing_file_is_named_with_the_folder_relative_paths_start_from(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as error:
        PromptTemplates.load(None, "prompts/user.txt", base_dir=tmp_path)
    assert str(error.value) == (
        f"option 'user_prompt_file': {tmp_path / 'prompts/user.txt'} does not exist "
        f"(relative paths start from {tmp_path})"
    )


def test_relative_files_are_read_from_the_base_folder_not_the_current_one(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    write(tmp_path / "prompts", "user.txt", "Target $path\n$context\n")
    assert PromptTemplates.load(None, "prompts/user.txt", base_dir=tmp_path).user == "Target $path\n$context\n"


def test_a_folder_a_non_utf8_file_and_an_empty_file_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="is a folder, not a file"):
        PromptTemplates.load(str(tmp_path), None)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 $path $context".encode("latin-1"))
    with pytest.raises(TemplateError, match=r"latin.txt is not UTF-8 text \(byte 3\)"):
        PromptTemplates.load(None, str(latin))
    with pytest.raises(TemplateError, match=r"empty\.txt is empty"):
        PromptTemplates.load(write(tmp_path, "empty.txt", " \n"), None)


def test_template_errors_are_settings_errors() -> None:
    from mkdocs_ai_docstrings import SettingsError

    assert issubclass(TemplateError, SettingsError)


def test_validate_checks_templates_built_in_code() -> None:
    with pytest.raises(TemplateError, match=r"user prompt template must contain \$context"):
        PromptTemplates(user="Document $path").validate()
    PromptTemplates().validate()


def test_escaped_dollars_are_not_variables(tmp_path: Path) -> None:
    user = write(tmp_path, "user.txt", "Costs $$5. $path\n$context\n")
    templates = PromptTemplates.load(None, user)
    messages = templates.messages(package="p", style="google", kind="function", path="p.f", context="CTX")
    assert messages[1]["content"] == "Costs $5. p.f\nCTX\n"


def test_messages_fill_the_system_and_user_templates() -> None:
    messages = PromptTemplates().messages(
        package="weatherkit", style="numpy", kind="method", path="weatherkit.Station.read", context="## Context"
    )
    assert [message["role"] for message in messages] == ["system", "user"]
    assert "`weatherkit`" in messages[0]["content"]
    assert "numpy" not in messages[0]["content"]  # the renderer formats the style: the model is not told it
    assert messages[1]["content"] == "Target: the method `weatherkit.Station.read`.\n\n## Context\n"
    custom = PromptTemplates(system="Style: $style.").messages(
        package="weatherkit", style="numpy", kind="method", path="weatherkit.Station.read", context=""
    )
    assert custom[0]["content"] == "Style: numpy."


def test_substituted_values_are_not_expanded_again() -> None:
    messages = PromptTemplates().messages(package="p", style="google", kind="function", path="p.f", context="$path")
    assert messages[1]["content"].endswith("$path\n")


# Context sections ----------------------------------------------------------------------------------------------

SOURCE = '''"""Tools for boxes."""


def helper(x):
    """Help with x."""
    return x


def ai_helper(y):
    return y


class Base:
    """Base of all boxes."""


class Box(Base):
    """A box of things."""

    def put(self, item, *, force=False) -> int:
        return helper(item) + ai_helper(item)
'''


@pytest.fixture
def pkg() -> Iterator[griffe.Module]:
    with griffe.temporary_visited_package("pkg", {"__init__.py": "", "mod.py": SOURCE}) as package:
        attach_docstring(
            package["mod.ai_helper"],
            "Return y, written by a model.",
            model="gpt-4o-mini",
            parser=griffe.Parser.google,
            parser_options=None,
            status="generated",
        )
        yield package


def put_inputs(pkg: griffe.Module, **overrides: object) -> ContextInputs:
    values: dict[str, object] = {
        "obj": pkg["mod.Box.put"],
        "source": "def put(self, item, *, force=False) -> int:\n    return helper(item) + ai_helper(item)\n",
        "callees": [pkg["mod.helper"], pkg["mod.ai_helper"]],
        "bases": [],
        "style_examples": [pkg["mod.helper"], pkg["mod.Base"]],
    }
    values.update(overrides)
    return ContextInputs(**values)  # type: ignore[arg-type]


def test_the_target_source_comes_first_with_priority_zero_and_stands_for_the_signature(pkg: griffe.Module) -> None:
    sections = build_sections(put_inputs(pkg))
    assert [(s.name, s.priority) for s in sections[:1]] == [("target source", 0)]
    assert "def put(self, item, *, force=False) -> int" in sections[0].text
    assert "return helper(item) + ai_helper(item)" in sections[0].text
    assert all(section.priority > 0 for section in sections[1:])
    assert "Target signature" not in "".join(section.text for section in sections)  # not paid twice
    long_source = "def put(self, item, *, force=False) -> int:\n" + "    item += 1\n" * 70
    long = build_sections(put_inputs(pkg, source=long_source))
    assert [(s.name, s.priority) for s in long[:2]] == [("target signature", 0), ("target source", 0)]


def test_style_examples_come_last_with_the_lowest_importance(pkg: griffe.Module) -> None:
    sections = build_sections(put_inputs(pkg))
    assert sections[-1].name == "style examples"
    assert sections[-1].priority == max(section.priority for section in sections)
    assert "Help with x." in sections[-1].text
    assert "Base of all boxes." in sections[-1].text


def test_the_surroundings_sit_between_target_and_examples(pkg: griffe.Module) -> None:
    names = [section.name for section in build_sections(put_inputs(pkg))]
    assert names == [
        "target source",
        "callees",
        "class context",
        "module context",
        "style examples",
    ]
    sections = {section.name: section for section in build_sections(put_inputs(pkg))}
    assert "class Box(Base)" in sections["class context"].text
    assert "A box of things." in sections["class context"].text
    assert "Tools for boxes." in sections["module context"].text


def test_optional_sections_are_left_out_when_empty(pkg: griffe.Module) -> None:
    sections = build_sections(put_inputs(pkg, source="  \n", callees=[], style_examples=[]))
    assert [section.name for section in sections] == ["target signature", "class context", "module context"]


def test_ai_docstrings_of_objects_that_are_not_dependencies_are_left_out(pkg: griffe.Module) -> None:
    callees = {section.name: section for section in build_sections(put_inputs(pkg))}["callees"].text
    assert '"""Help with x."""' in callees  # a human docstring is context
    assert "def ai_helper(y)" in callees  # the signature of an AI-documented callee still is
    assert "written by a model" not in callees


def test_ai_docstrings_of_dependencies_generated_first_are_included(pkg: griffe.Module) -> None:
    inputs = put_inputs(pkg, generated_ok=frozenset({"pkg.mod.ai_helper"}))
    callees = {section.name: section for section in build_sections(inputs)}["callees"].text
    assert '"""Return y, written by a model."""' in callees


def test_other_objects_docstrings_are_quoted_by_their_first_paragraph(pkg: griffe.Module) -> None:
    long_doc = (
        "Convert the box to a tuple\n    of its items.\n\nThe items keep their order.\n\n"
        "Args:\n    x: The box.\n\nExamples:\n    ```python\n    helper(1)\n    ```"
    )
    for path in ("mod.helper", "mod.Box", "mod"):
        pkg[path].docstring = griffe.Docstring(long_doc, parent=pkg[path])
    inputs = put_inputs(pkg, generated_ok=frozenset({"pkg.mod.ai_helper"}))
    sections = {section.name: section.text for section in build_sections(inputs)}
    for name in ("callees", "class context", "module context"):
        assert "Convert the box to a tuple of its items." in sections[name]  # the paragraph, on one line
        assert "keep their order" not in sections[name] and "Args:" not in sections[name]
        assert "helper(1)" not in sections[name]
    ai_doc = "Return y.\n\nArgs:\n    y: A value.\n\nExamples:\n    ```python\n    ai_helper(2)\n    ```"
    pkg["mod.ai_helper"].docstring.value = ai_doc
    callees = {section.name: section.text for section in build_sections(inputs)}["callees"]
    assert '"""Return y."""' in callees and "ai_helper(2)" not in callees
    pkg["mod.helper"].docstring.value = "word " * 200
    callees = {section.name: section.text for section in build_sections(inputs)}["callees"]
    quoted = callees.split('"""')[1]
    assert quoted.endswith(" ...") and 300 < len(quoted) < 420
    assert "style examples" in sections and "Args:" in sections["style examples"]  # style examples stay whole


def test_ai_docstrings_never_appear_in_a_module_outline(pkg: griffe.Module) -> None:
    module = pkg["mod"]
    sections = build_sections(ContextInputs(module, "x = 1\n", generated_ok=frozenset({"pkg.mod.ai_helper"})))
    assert [(s.name, s.priority) for s in sections] == [
        ("target signature", 0),
        ("module outline", 0),
        ("target source", 2),
    ]
    outline = sections[1].text
    assert "def helper(x)  # Help with x." in outline
    assert "def ai_helper(y)\n" in outline
    assert "written by a model" not in outline


def test_source_holding_backtick_fences_gets_a_longer_fence(pkg: griffe.Module) -> None:
    source = 'def put(self):\n    """Example:\n\n    ```\n    put()\n    ```\n    """\n'
    text = build_sections(put_inputs(pkg, source=source))[0].text
    assert text.startswith("## Target source\n````python\n")
    assert text.endswith("\n````")


def test_signatures_show_parameter_kinds_defaults_and_annotations(pkg: griffe.Module) -> None:
    assert format_signature(pkg["mod.Box.put"]) == "def put(self, item, *, force=False) -> int"
    assert format_signature(pkg["mod.Box"]) == "class Box(Base)"
    assert format_signature(pkg["mod"]) == "module pkg.mod"
    source = "async def f(a: int, /, b=2, *, c: str = 'x'): ...\n"
    with griffe.temporary_visited_package("sig", {"__init__.py": source}) as sig:
        assert format_signature(sig["f"]) == "async def f(a: int, /, b=2, *, c: str = 'x')"


def test_a_long_base_class_expression_is_cut_in_the_class_line() -> None:
    fields = ", ".join(f"('field_{n}', typing.Optional[str])" for n in range(7))
    source = f"""\
import typing


class Url(typing.NamedTuple('Url', [{fields}])):
    def geturl(self) -> str: ...


class Pairs(dict[str, typing.Optional[typing.Tuple[int, int, int, int, int, int, int]]]): ...


class Plain(dict[str, int]): ...
"""
    with griffe.temporary_visited_package("sig", {"__init__.py": source}) as sig:
        assert format_signature(sig["Url"]) == "class Url(typing.NamedTuple(...))"
        assert (
            format_signature(sig["Pairs"])
            == "class Pairs(dict[str, typing.Optional[typing.Tuple[int, int, int, int...)"
        )
        assert format_signature(sig["Plain"]) == "class Plain(dict[str, int])"  # short bases stay as written


def test_variadic_parameters_are_shown_without_defaults() -> None:
    source = "async def f(a: int, /, b=2, *args, c: str = 'x', **kw): ...\n"
    with griffe.temporary_visited_package("sig", {"__init__.py": source}) as sig:
        assert format_signature(sig["f"]) == "async def f(a: int, /, b=2, *args, c: str = 'x', **kw)"


def test_render_context_keeps_everything_that_fits_and_reports_cuts() -> None:
    sections = [
        PromptSection("target signature", "def f()", 0),
        PromptSection("style examples", "\n".join(f"line {n}" for n in range(200)), 3),
    ]
    text, truncated = render_context(sections, BYTES, 10_000)
    assert text == sections[0].text + "\n\n" + sections[1].text
    assert truncated is False
    text, truncated = render_context(sections, BYTES, 60)
    assert truncated is True
    assert text.startswith("def f()")
    assert "line 199" not in text


def test_a_class_prompt_shows_public_method_signatures_names_special_methods_and_cuts_private_helpers() -> None:
    source = """\
class Wrapper:
    width = 70
    pattern = re.compile(
        "a very long pattern"
    )

    def __init__(self, width=70):
        self.width = width

    def _split(self, text):
        return text.split()

    @property
    def _cached(self):
        return 1

    def __len__(self):
        return self.width

    def wrap(self, text: str) -> list[str]:
        return self._split(text)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: Callable[[Any], CoreSchema]) -> CoreSchema:
        return handler(source)
"""
    with griffe.temporary_visited_module(source) as module:
        skeleton = class_skeleton(module["Wrapper"], "\n".join(source.splitlines()))

    assert "    width = 70\n    pattern = ...\n" in skeleton
    assert "self.width = width" in skeleton  # the constructor is kept whole
    assert "_split" not in skeleton and "_cached" not in skeleton and "@property" not in skeleton
    # Special methods are named, not shown: their signatures are the protocol's (or a framework's hook).
    assert "    # special methods: __len__, __get_pydantic_core_schema__\n\n    def wrap(self, text: str)" in skeleton
    assert "handler" not in skeleton and "@classmethod" not in skeleton
    assert "return" not in skeleton and "\n\n\n" not in skeleton


def test_a_method_s_prompts_show_its_class_line_not_the_whole_constructor() -> None:
    source = """\
class Wrapper:
    def __init__(self, text, width=70, indent='', tabs=True, hyphens=True, *, lines=None):
        self.width = width

    def wrap(self):
        return [self.text]
"""
    with griffe.temporary_visited_module(source) as module:
        method = module["Wrapper.wrap"]
        sections = {s.name: s.text for s in build_sections(ContextInputs(method, source="def wrap(self): ..."))}
        example = example_messages(method, "pkg", "Wrap it.")[-1]["content"]

    assert "class Wrapper" in sections["class context"] and "__init__" not in sections["class context"]
    assert "def __init__(self, text, width=70, indent='', tabs=True, ...)" in example  # enough to make an instance
