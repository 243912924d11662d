"""Specification of discovery: which objects the site renders that lack a usable human docstring."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import griffe
import pytest

from mkdocs_ai_docstrings import Settings
from mkdocs_ai_docstrings._internal.discovery import PLACEHOLDERS, Candidate, discover, human_documented, missing_reason
from mkdocs_ai_docstrings._internal.scope import DocumentedRoot

DOC = '"""Documented well enough."""'


@contextmanager
def package(modules: Mapping[str, str]) -> Iterator[griffe.Module]:
    """A throwaway package `pkg` (google docstrings); `__init__.py` has a docstring unless given."""
    with griffe.temporary_visited_package(
        "pkg", {"__init__.py": DOC + "\n", **modules}, docstring_parser="google"
    ) as pkg:
        yield pkg


def paths(modules: Mapping[str, str], roots: Sequence[DocumentedRoot] | None = None, **options: object) -> list[str]:
    """Paths of the candidates discovered in `pkg` made of `modules`."""
    with package(modules) as pkg:
        return [candidate.path for candidate in discover(pkg, Settings.from_options(options), roots)]


def candidates(modules: Mapping[str, str], **options: object) -> dict[str, Candidate]:
    with package(modules) as pkg:
        return {candidate.path: candidate for candidate in discover(pkg, Settings.from_options(options))}


# What counts as missing ----------------------------------------------------------------------------------------

MISSING = f'''
{DOC}

def bare(x):
    return x

def blank(x):
    """   """

def todo(x):
    """TODO."""

def tbd(x):
    """tbd"""

def short(x):
    """Hi."""

def fine(x):
    """Return x."""
    return x
'''


def test_missing_placeholder_and_too_short_docstrings_are_candidates_with_their_reason() -> None:
    found = candidates({"mod.py": MISSING})
    assert {path: c.reason for path, c in found.items()} == {
        "pkg.mod.bare": "no docstring",
        "pkg.mod.blank": "no docstring",
        "pkg.mod.todo": "placeholder docstring",
        "pkg.mod.tbd": "placeholder docstring",
        "pkg.mod.short": "too short",
    }
    assert all(c.kind == "function" and not c.improve for c in found.values())


def test_the_minimum_length_is_an_option() -> None:
    assert "pkg.mod.short" not in paths({"mod.py": MISSING}, min_docstring_length=3)
    assert "pkg.mod.fine" in paths({"mod.py": MISSING}, min_docstring_length=50)


@pytest.mark.parametrize("text", ["TODO", "Todo.", "FIXME", "xxx", "WIP...", "TODO: docstring", "No docstring."])
def test_placeholder_texts_are_recognised_whatever_their_case_and_trailing_dots(text: str) -> None:
    with package({"mod.py": f'def f():\n    """{text}"""\n'}) as pkg:
        assert missing_reason(pkg["mod.f"], 0) == "placeholder docstring"


def test_an_ellipsis_docstring_is_a_placeholder_even_when_short_docstrings_are_allowed() -> None:
    with package({"mod.py": 'def f():\n    """..."""\n'}) as pkg:
        assert missing_reason(pkg["mod.f"], 0) == "placeholder docstring"


def test_a_real_sentence_that_starts_like_a_placeholder_is_kept() -> None:
    assert "todo" in PLACEHOLDERS
    with package({"mod.py": 'def f():\n    """Todo list manager."""\n'}) as pkg:
        assert missing_reason(pkg["mod.f"], 5) is None


def test_candidates_carry_the_object_and_its_kind() -> None:
    source = f"""
{DOC}
class Box:
    def put(self, item):
        pass

    @property
    def size(self):
        return 1

def helper():
    pass
"""
    found = candidates({"mod.py": source})
    assert {path: c.kind for path, c in found.items()} == {
        "pkg.mod.Box": "class",
        "pkg.mod.Box.put": "method",
        "pkg.mod.Box.size": "property",
        "pkg.mod.helper": "function",
    }
    assert all(c.obj.path == path for path, c in found.items())


def test_modules_without_docstrings_are_candidates_unless_modules_are_excluded() -> None:
    modules = {"__init__.py": "", "mod.py": "def f():\n    '''Return nothing at all.'''\n"}
    assert paths(modules) == ["pkg", "pkg.mod"]
    assert paths(modules, include_modules=False) == []


# Which members are considered -----------------------------------------------------------------------------------

MEMBERS = f"""
{DOC}
LIMIT = 10

_CACHE = {{}}

def _private_helper():
    pass

class Engine:
    {DOC}
    speed = 1

    def __init__(self, power):
        self.power = power

    def __call__(self):
        pass

    def _tune(self):
        pass

    @property
    def rpm(self):
        return 1
"""


def test_private_special_and_attribute_members_are_skipped_by_default_but_properties_are_kept() -> None:
    assert paths({"mod.py": MEMBERS}) == ["pkg.mod.Engine.rpm"]


def test_private_members_are_included_on_request() -> None:
    assert paths({"mod.py": MEMBERS}, include_private=True) == [
        "pkg.mod._private_helper",
        "pkg.mod.Engine._tune",
        "pkg.mod.Engine.rpm",
    ]


def test_special_members_are_included_on_request() -> None:
    found = paths({"mod.py": MEMBERS}, include_special=True)
    assert "pkg.mod.Engine.__init__" in found
    assert "pkg.mod.Engine.__call__" in found
    assert "pkg.mod.Engine._tune" not in found


def test_attributes_are_only_documented_with_include_attributes() -> None:
    found = candidates({"mod.py": MEMBERS}, include_attributes=True)
    assert {path for path, c in found.items() if c.kind == "attribute"} == {
        "pkg.mod.LIMIT",
        "pkg.mod.Engine.speed",
        "pkg.mod.Engine.power",
    }
    assert "pkg.mod._CACHE" not in found


def test_properties_can_be_left_out() -> None:
    assert paths({"mod.py": MEMBERS}, include_properties=False) == []


def test_include_globs_keep_only_matching_paths_and_exclude_globs_win() -> None:
    modules = {
        "api.py": "def load(): pass\ndef save(): pass\n",
        "core.py": "def run(): pass\n",
    }
    assert paths(modules, include=["pkg.api.*"], include_modules=False) == ["pkg.api.load", "pkg.api.save"]
    assert sorted(paths(modules, exclude=["pkg.api.s*", "pkg.core"], include_modules=False)) == [
        "pkg.api.load",
        "pkg.core.run",
    ]
    assert paths(modules, include=["pkg.api.*"], exclude=["*.save"], include_modules=False) == ["pkg.api.load"]


def test_globs_match_the_whole_path_case_sensitively() -> None:
    modules = {"api.py": "def load(): pass\n"}
    assert paths(modules, include=["load"], include_modules=False) == []
    assert paths(modules, include=["*.LOAD"], include_modules=False) == []
    assert paths(modules, include=["*.load"], include_modules=False) == ["pkg.api.load"]


# What a `:::` block renders -------------------------------------------------------------------------------------

SITE = {
    "__init__.py": f"""{DOC}
from pkg._internal.core import Engine, run, unlisted
from os.path import join

__all__ = ["Engine", "run", "join"]
""",
    "_internal/__init__.py": "",
    "_internal/core.py": """
def run(x):
    return x

def unlisted():
    pass

def never_exported():
    pass

class Engine:
    def start(self):
        pass
""",
    "sub.py": f"""{DOC}
def subfunc():
    pass
""",
    "other.py": """
def other_a():
    pass

def other_b():
    pass

def other_c():
    pass
""",
}


def test_a_root_renders_its_members_but_not_its_submodules_by_default() -> None:
    assert paths(SITE, [DocumentedRoot("pkg")]) == [
        "pkg._internal.core.Engine",
        "pkg._internal.core.Engine.start",
        "pkg._internal.core.run",
    ]


def test_submodules_are_walked_only_with_show_submodules() -> None:
    found = paths(SITE, [DocumentedRoot("pkg", show_submodules=True)])
    assert "pkg.sub.subfunc" in found
    assert "pkg.other" in found
    assert "pkg._internal" not in found  # private modules are not rendered
    assert "pkg._internal.core" not in found


def test_reexports_from_a_private_module_are_followed_to_their_canonical_targets() -> None:
    with package(SITE) as pkg:
        found = {c.path: c for c in discover(pkg, Settings(), [DocumentedRoot("pkg")])}
        engine = found["pkg._internal.core.Engine"]
        assert engine.obj is pkg["_internal.core.Engine"]
        assert not engine.obj.is_alias


def test_imported_names_are_rendered_only_when_listed_in_all() -> None:
    found = paths(SITE, [DocumentedRoot("pkg", show_submodules=True)])
    assert "pkg._internal.core.unlisted" not in found
    assert "pkg._internal.core.never_exported" not in found


def test_names_imported_from_other_packages_are_never_candidates() -> None:
    found = paths(SITE, [DocumentedRoot("pkg")])
    assert not any("join" in path for path in found)


def test_the_members_option_restricts_the_root_level_only() -> None:
    roots = [DocumentedRoot("pkg.other", members=("other_a", "other_c"))]
    assert paths(SITE, roots) == ["pkg.other", "pkg.other.other_a", "pkg.other.other_c"]
    assert paths(SITE, [DocumentedRoot("pkg.other", members=())]) == ["pkg.other"]
    assert paths(SITE, [DocumentedRoot("pkg", members=("Engine",))]) == [
        "pkg._internal.core.Engine",
        "pkg._internal.core.Engine.start",
    ]


def test_a_root_may_name_a_class_or_a_reexported_alias() -> None:
    assert paths(SITE, [DocumentedRoot("pkg.Engine")]) == [
        "pkg._internal.core.Engine",
        "pkg._internal.core.Engine.start",
    ]


def test_roots_outside_the_package_or_missing_render_nothing() -> None:
    assert paths(SITE, [DocumentedRoot("otherpkg.thing"), DocumentedRoot("pkg.nope")]) == []


def test_an_object_reached_from_several_roots_is_a_candidate_once() -> None:
    roots = [DocumentedRoot("pkg"), DocumentedRoot("pkg.Engine"), DocumentedRoot("pkg._internal.core.run")]
    found = paths(SITE, roots)
    assert found.count("pkg._internal.core.Engine") == 1
    assert found.count("pkg._internal.core.run") == 1


def test_without_roots_the_whole_package_is_walked_with_submodules() -> None:
    assert paths(SITE) == paths(SITE, [DocumentedRoot("pkg", show_submodules=True)])


def test_only_objects_reached_through_all_are_marked_exported() -> None:
    with package(SITE) as pkg:
        found = {c.path: c.exported for c in discover(pkg, Settings(), [DocumentedRoot("pkg", show_submodules=True)])}
    assert found["pkg._internal.core.run"] is True
    assert found["pkg.other.other_a"] is False


def test_members_listed_explicitly_are_rendered_even_when_private_or_special() -> None:
    roots = [DocumentedRoot("pkg.mod.Engine", members=("_tune", "__call__"))]
    assert sorted(paths({"mod.py": MEMBERS}, roots)) == ["pkg.mod.Engine.__call__", "pkg.mod.Engine._tune"]


# Improve mode --------------------------------------------------------------------------------------------------

IMPROVE = f'''
{DOC}

def partial(a, b, *args, **kwargs):
    """Combine values.

    Args:
        a: The first.
        *args: More values.
    """
    return a


def complete(a):
    """Echo a value.

    Args:
        a: The value.

    Returns:
        The same value.
    """
    return a


def prose_only(a):
    """Print a value to the console."""
    print(a)


def no_return_doc(a):
    """Double a value.

    Args:
        a: The value.
    """
    return a * 2


class Shape:
    """A shape.

    Args:
        width: How wide.
    """

    def __init__(self, width, height):
        self.width = width


def missing():
    return 1
'''


def test_improve_mode_lists_human_docstrings_that_lack_parameters_or_returns() -> None:
    found = candidates({"mod.py": IMPROVE}, improve=True)
    summary = {
        path: (c.reason, c.missing_parameters, c.missing_returns, c.improve)
        for path, c in found.items()
        if c.reason == "incomplete"
    }
    assert summary == {
        "pkg.mod.partial": ("incomplete", ("b", "**kwargs"), True, True),
        "pkg.mod.prose_only": ("incomplete", ("a",), False, True),
        "pkg.mod.no_return_doc": ("incomplete", (), True, True),
        "pkg.mod.Shape": ("incomplete", ("height",), False, True),
    }
    assert found["pkg.mod.missing"].reason == "no docstring"
    assert not found["pkg.mod.missing"].improve
    assert "pkg.mod.complete" not in found


def test_improve_mode_is_off_by_default() -> None:
    assert paths({"mod.py": IMPROVE}) == ["pkg.mod.missing"]


def test_improve_mode_leaves_attributes_and_modules_alone() -> None:
    modules = {"mod.py": '"""A module documented by hand."""\nLIMIT = 3\n"""The limit of things."""\n'}
    assert paths(modules, improve=True, include_attributes=True) == []


def test_human_documented_lists_functions_and_classes_with_usable_docstrings() -> None:
    with package({"mod.py": IMPROVE}) as pkg:
        documented = [obj.path for obj in human_documented(pkg, Settings())]
    assert "pkg.mod.complete" in documented
    assert "pkg.mod.Shape" in documented
    assert "pkg.mod.missing" not in documented
    assert "pkg.mod" not in documented
