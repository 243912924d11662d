"""Specification of the facts read from the code of one griffe object."""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import griffe
import pytest

from mkdocs_ai_docstrings._internal.facts import CodeFacts, code_facts, worth_an_example


@contextmanager
def package(modules: dict[str, str]) -> Iterator[griffe.Module]:
    """Load a throwaway package `pkg` made of the given modules (`__init__.py` is empty unless given)."""
    with griffe.temporary_visited_package("pkg", {"__init__.py": "", **modules}) as pkg:
        yield pkg


def facts_of(source: str, path: str) -> CodeFacts:
    """Facts of `pkg.mod.<path>` where `pkg/mod.py` holds `source`."""
    with package({"mod.py": source}) as pkg:
        return code_facts(pkg[f"mod.{path}"])


# Parameters ----------------------------------------------------------------------------------------------------


def test_parameters_follow_signature_order_with_starred_variadics_and_keyword_only() -> None:
    facts = facts_of("def f(a, /, b, *args, c, d=1, **kwargs): ...\n", "f")
    assert facts.kind == "function"
    assert facts.parameters == ("a", "b", "*args", "c", "d", "**kwargs")


def test_methods_omit_self_and_cls_but_static_methods_keep_their_first_parameter() -> None:
    source = """
class Box:
    def put(self, item, *, force=False): ...
    @classmethod
    def build(cls, size): ...
    @staticmethod
    def check(value, limit): ...
    def __new__(cls, *args): ...
"""
    with package({"mod.py": source}) as pkg:
        assert code_facts(pkg["mod.Box.put"]).parameters == ("item", "force")
        assert code_facts(pkg["mod.Box.build"]).parameters == ("size",)
        assert code_facts(pkg["mod.Box.check"]).parameters == ("value", "limit")
        assert code_facts(pkg["mod.Box.__new__"]).parameters == ("*args",)
        assert code_facts(pkg["mod.Box.put"]).kind == "method"


def test_a_class_documents_the_parameters_of_its_init_without_self() -> None:
    facts = facts_of(
        "class Box:\n    def __init__(self, width, *sizes, **options):\n        self.width = width\n", "Box"
    )
    assert facts.kind == "class"
    assert facts.parameters == ("width", "*sizes", "**options")


def test_starred_names_are_accepted_by_griffe_parsers_without_warnings(caplog: pytest.LogCaptureFixture) -> None:
    """The `*args` naming rule: griffe strips stars when it matches documented names to the signature."""
    google = "Do it.\n\nArgs:\n    a: First.\n    *args: More values.\n    **kwargs: Options.\n"
    numpy = "Do it.\n\nParameters\n----------\na\n    First.\n*args\n    More values.\n**kwargs\n    Options.\n"
    with package({"mod.py": "def f(a: int, *args: int, **kwargs: str) -> None: ...\n"}) as pkg:
        function = pkg["mod.f"]
        assert code_facts(function).parameters == ("a", "*args", "**kwargs")
        caplog.set_level(logging.DEBUG, logger="griffe")
        for text, parser in ((google, "google"), (numpy, "numpy")):
            sections = griffe.Docstring(text, parser=parser, parent=function).parsed
            documented = [
                param.name for section in sections if section.kind.value == "parameters" for param in section.value
            ]
            assert documented == ["a", "*args", "**kwargs"]
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
        # The capture works: a name that is not in the signature is reported.
        griffe.Docstring("Do it.\n\nArgs:\n    *other: Nope.\n", parser="google", parent=function).parse()
        assert any("does not appear in the function signature" in r.getMessage() for r in caplog.records)


# Returns and yields ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "returns_value"),
    [
        ("def f(x) -> int:\n    ...\n", True),
        ("def f(x) -> None:\n    return None\n", False),
        ("from typing import NoReturn\ndef f(x) -> NoReturn:\n    raise SystemExit\n", False),
        ("def f(x) -> 'None':\n    pass\n", False),
        ("def f(x):\n    if x:\n        return x * 2\n    return None\n", True),
        ("def f(x):\n    if x:\n        return\n    return None\n", False),
        ("def f(x):\n    def inner():\n        return 1\n    inner()\n", False),
        ("def f(x):\n    key = lambda item: item[0]\n    x.sort(key=key)\n", False),
        ("def f(x):\n    class Local:\n        def m(self):\n            return 1\n", False),
        ("async def f(x):\n    return await x\n", True),
    ],
)
def test_a_function_returns_a_value_by_annotation_or_by_its_own_return_statements(
    source: str, returns_value: bool
) -> None:
    assert facts_of(source, "f").returns_value is returns_value


def test_init_never_returns_a_value() -> None:
    facts = facts_of("class A:\n    def __init__(self, x) -> None:\n        self.x = x\n", "A.__init__")
    assert facts.returns_value is False


@pytest.mark.parametrize(
    "source",
    [
        "def f(n):\n    for i in range(n):\n        yield i\n",
        "def f(n):\n    yield from range(n)\n",
        "from collections.abc import Iterator\ndef f(n) -> Iterator[int]:\n    yield n\n",
        "async def f(n):\n    yield n\n",
    ],
)
def test_generators_yield_instead_of_returning(source: str) -> None:
    facts = facts_of(source, "f")
    assert facts.is_generator is True
    assert facts.returns_value is False


def test_a_function_returning_an_iterator_without_yield_returns_a_value() -> None:
    facts = facts_of("from collections.abc import Iterator\ndef f(n) -> Iterator[int]:\n    return iter(n)\n", "f")
    assert facts.is_generator is False
    assert facts.returns_value is True


def test_yield_in_a_nested_function_does_not_make_a_generator() -> None:
    facts = facts_of("def f(n):\n    def gen():\n        yield n\n    return list(gen())\n", "f")
    assert facts.is_generator is False
    assert facts.returns_value is True


def test_source_with_a_multiline_string_at_column_zero_is_still_parsed() -> None:
    source = 'class A:\n    def m(self):\n        text = """first\nsecond"""\n        return text\n'
    facts = facts_of(source, "A.m")
    assert facts.returns_value is True


def test_an_object_without_source_gets_neutral_facts_from_its_signature() -> None:
    function = griffe.Function(
        "f", parameters=griffe.Parameters(griffe.Parameter("x"), griffe.Parameter("y")), returns="int"
    )
    facts = code_facts(function)
    assert facts == CodeFacts(kind="function", parameters=("x", "y"), returns_value=True)


# Raises ----------------------------------------------------------------------------------------------------------


def test_direct_raises_use_the_class_name_and_skip_variables() -> None:
    source = """
import errors_lib

def f(x, exc):
    if x == 1:
        raise ValueError("bad")
    if x == 2:
        raise KeyError
    if x == 3:
        raise errors_lib.RemoteError(x)
    if x == 4:
        raise exc
    error = TypeError()
    raise error
"""
    facts = facts_of(source, "f")
    assert facts.raises == ("ValueError", "KeyError", "RemoteError")
    assert facts.raise_paths == ("ValueError", "KeyError", "errors_lib.RemoteError")


def test_bare_reraise_counts_the_handled_exceptions() -> None:
    source = """
import json

def f(text):
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        raise

def g(mapping):
    try:
        return mapping["key"]
    except KeyError as error:
        raise error
"""
    with package({"mod.py": source}) as pkg:
        assert code_facts(pkg["mod.f"]).raises == ("ValueError", "TypeError")
        assert code_facts(pkg["mod.g"]).raises == ("KeyError",)


def test_exceptions_caught_around_the_raise_do_not_escape() -> None:
    source = """
def f(x):
    try:
        raise KeyError(x)
    except LookupError:
        pass
    try:
        raise FileNotFoundError(x)
    except ValueError:
        pass
"""
    assert facts_of(source, "f").raises == ("FileNotFoundError",)


def test_exceptions_of_callees_in_other_modules_are_resolved_to_their_path() -> None:
    modules = {
        "errors.py": "class BadInput(ValueError):\n    pass\n",
        "util.py": "from pkg.errors import BadInput\n\ndef check(x):\n    if not x:\n        raise BadInput(x)\n",
        "api.py": """
from pkg.util import check
from pkg import util

def load(x):
    check(x)
    return x

def safe_load(x):
    try:
        util.check(x)
    except ValueError:
        return None
    return x
""",
    }
    with package(modules) as pkg:
        load = code_facts(pkg["api.load"])
        assert load.raises == ("BadInput",)
        assert load.raise_paths == ("pkg.errors.BadInput",)
        # BadInput is a ValueError: catching ValueError around the call stops it.
        assert code_facts(pkg["api.safe_load"]).raises == ()


def test_callee_exceptions_are_followed_two_calls_deep_and_cycles_end() -> None:
    source = """
def f0():
    f1()

def f1():
    f2()

def f2():
    f3()

def f3():
    raise KeyError("deep")

def ping(n):
    if n:
        pong(n - 1)

def pong(n):
    ping(n)
    raise IndexError(n)
"""
    with package({"mod.py": source}) as pkg:
        assert code_facts(pkg["mod.f1"]).raises == ("KeyError",)
        assert code_facts(pkg["mod.f0"]).raises == ()
        assert code_facts(pkg["mod.ping"]).raises == ("IndexError",)


def test_a_class_raises_what_its_init_raises() -> None:
    source = """
class Config:
    def __init__(self, path):
        self.path = path
        self._load()

    def _load(self):
        if not self.path:
            raise FileNotFoundError(self.path)
"""
    assert facts_of(source, "Config").raises == ("FileNotFoundError",)


# Callees, attributes, bases --------------------------------------------------------------------------------------


def test_callees_are_resolved_through_griffe_within_the_package() -> None:
    modules = {
        "util.py": "def helper(x):\n    return x\n\ndef other(x):\n    return x\n",
        "api.py": """
import json
from pkg.util import helper
from pkg import util

def local(x):
    return x

class Client:
    def __init__(self, x):
        self.x = x

    def fetch(self):
        return self.parse(json.loads(self.x))

    def parse(self, data):
        return local(helper(util.other(data)))

    def clone(self):
        return Client(self.x)
""",
    }
    with package(modules) as pkg:
        assert code_facts(pkg["api.Client.fetch"]).callees == ("pkg.api.Client.parse",)
        assert code_facts(pkg["api.Client.parse"]).callees == ("pkg.api.local", "pkg.util.helper", "pkg.util.other")
        assert code_facts(pkg["api.Client.clone"]).callees == ("pkg.api.Client",)


def test_class_facts_list_public_attributes_bases_and_init_callees() -> None:
    source = """
class Base:
    def __init__(self):
        self.ready = True

def prepare(x):
    return x

class Shape(Base, ValueError):
    sides = 0
    _cache = None

    def __init__(self, name):
        self.name = prepare(name)
        self._secret = 1

    @property
    def label(self):
        return self.name

    def area(self):
        return 0
"""
    facts = facts_of(source, "Shape")
    assert facts.attributes == ("sides", "label")  # `name` is documented once, as the constructor parameter
    assert facts.bases == ("pkg.mod.Base", "ValueError")
    assert facts.callees == ("pkg.mod.Base", "pkg.mod.prepare")


def test_kinds_of_objects() -> None:
    source = "class A:\n    x = 1\n    @property\n    def p(self):\n        return 1\n\ny = 2\n"
    with package({"mod.py": source}) as pkg:
        assert code_facts(pkg["mod"]) == CodeFacts(kind="module")
        assert code_facts(pkg["mod.A.x"]).kind == "attribute"
        assert code_facts(pkg["mod.y"]).kind == "attribute"
        prop = code_facts(pkg["mod.A.p"])
        assert prop.kind == "property"
        assert prop.returns_value is False
        assert prop.parameters == ()


def test_facts_kept_for_a_tree_do_not_keep_the_tree_alive() -> None:
    source = "class Base:\n    def f(self): ...\n\n\nclass Child(Base):\n    def __init__(self, x: int): ...\n\n    def g(self, y): ...\n"
    with griffe.temporary_visited_module(source) as module:
        code_facts(module["Child"])  # reads the class's members with the inherited ones
        assert worth_an_example(module["Child.g"])  # asks whether the class can be instantiated
        tree = weakref.ref(module)
    del module
    gc.collect()

    assert tree() is None  # a `mkdocs serve` session loads one tree a rebuild: none may outlive its build
