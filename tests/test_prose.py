"""Specification of the prose checks: what a summary, description, default and return text must not say."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import griffe
import pytest

from mkdocs_ai_docstrings._internal.checks import drop_prose, prose_problems
from mkdocs_ai_docstrings._internal.discovery import discover
from mkdocs_ai_docstrings._internal.generator import fill
from mkdocs_ai_docstrings._internal.mark import SUMMARY_MARK
from mkdocs_ai_docstrings._internal.session import BuildSession
from mkdocs_ai_docstrings._internal.settings import Settings
from tests.emulator import AzureEmulator, fenced, is_example_request, request_schema, synthesize

MODULES = {
    "__init__.py": '"""A package."""\n',
    "store.py": '''
"""Storage."""
from collections.abc import Iterator

def helper():
    """Help."""

class Store:
    """Keep items."""

    def append(self, item, limit=None, retries=3, mode="fast"):
        return None

    def items(self) -> Iterator[int]:
        return iter([])

    def count(self) -> int | None:
        return 0

    def is_empty(self) -> bool:
        return True

    @classmethod
    def load(cls, raw: bytes, label: str = "") -> "Store":
        return cls()
''',
}


@pytest.fixture(scope="module")
def pkg() -> Iterator[griffe.Module]:
    with griffe.temporary_visited_package("pkg", MODULES) as package:
        yield package


def kinds(answer: dict[str, Any], obj: griffe.Object) -> list[str]:
    return [problem.kind for problem in prose_problems(answer, obj)]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("The pkg.store.Store.append method adds an item.", ["summary_path"]),
        ("Wrap Store.append to add an item.", ["summary_path"]),
        ("The append method adds an item to the store.", ["summary_restates_name"]),
        ("`append` adds an item to the store.", ["summary_restates_name"]),
        ("Append an item to the store.", []),  # the imperative verb that is also the name is fine
        ("Add an item to the store, using `self.items` to check duplicates.", []),
    ],
)
def test_the_summary_neither_contains_the_dotted_path_nor_opens_with_the_name(
    pkg: griffe.Module, summary: str, expected: list[str]
) -> None:
    assert kinds({"summary": summary}, pkg["store.Store.append"]) == expected


def test_a_summary_is_repaired_by_removing_the_path_and_the_name(pkg: griffe.Module) -> None:
    method = pkg["store.Store.append"]
    fixed, problems = drop_prose({"summary": "The pkg.store.Store.append method adds an item."}, method)

    assert [problem.kind for problem in problems] == ["summary_path"]
    assert fixed["summary"] == "Adds an item."
    assert kinds(fixed, method) == []


def test_a_description_sentence_repeating_the_summary_is_dropped(pkg: griffe.Module) -> None:
    answer = {
        "summary": "Add an item to the store.",
        "description": "Add an item to the store. It is kept until the store is closed.",
    }
    method = pkg["store.Store.append"]

    assert kinds(answer, method) == ["repeated_summary"]
    fixed, _ = drop_prose(answer, method)
    assert fixed["description"] == "It is kept until the store is closed."


def test_a_description_repeating_the_summary_under_the_object_s_path_is_dropped_too(pkg: griffe.Module) -> None:
    answer = {
        "summary": "The pkg.store.Store.append method adds an item to the store.",
        "description": "The pkg.store.Store.append method adds an item to the store. It keeps the order.",
    }
    method = pkg["store.Store.append"]

    fixed, _ = drop_prose(answer, method)

    assert fixed["summary"] == "Adds an item to the store."
    assert fixed["description"] == "It keeps the order."


def test_the_object_s_own_path_in_the_description_becomes_its_name(pkg: griffe.Module) -> None:
    answer = {"summary": "Add an item.", "description": "Unlike pkg.store.Store.append, `Store.append` is public."}

    fixed, problems = drop_prose(answer, pkg["store.Store.append"])

    assert problems == []
    assert fixed["description"] == "Unlike append, `append` is public."


@pytest.mark.parametrize(
    ("name", "text", "wrong"),
    [
        ("raw", "A hexadecimal string to read.", True),
        ("raw", "The byte string to read, e.g. from a file.", False),
        ("raw", "The bytes to read.", False),
        ("label", "A name shown in messages.", False),
        ("label", "The label as raw bytes.", True),
    ],
)
def test_a_parameter_text_must_not_call_bytes_a_string_or_the_reverse(
    pkg: griffe.Module, name: str, text: str, wrong: bool
) -> None:
    answer = {"parameters": [{"name": name, "description": text}]}

    assert kinds(answer, pkg["store.Store.load"]) == (["type_contradiction"] if wrong else [])


def test_a_contradicting_parameter_sentence_is_dropped(pkg: griffe.Module) -> None:
    answer = {
        "parameters": [
            {"name": "raw", "description": "A hexadecimal string."},
            {"name": "label", "description": "A name. It is never stored as bytes."},
        ]
    }

    fixed, _ = drop_prose(answer, pkg["store.Store.load"])

    assert fixed["parameters"] == [{"name": "label", "description": "A name."}]


@pytest.mark.parametrize(
    ("name", "text", "wrong"),
    [
        ("limit", "The most items kept. Defaults to 1.", True),
        ("limit", "The most items kept. Defaults to `None`, meaning no limit.", False),
        ("limit", "The most items kept (default: None).", False),
        ("retries", "How often to retry. Defaults to 3.", False),
        ("retries", "How often to retry; defaults to 5.", True),
        ("mode", "How to store. Defaults to 'fast'.", False),
        ("mode", "How to store. Defaults to 'slow'.", True),
        ("item", "The item. Defaults to None.", True),  # it has no default
        ("limit", "The most items kept. Defaults to the store's capacity.", False),  # prose: not checkable
    ],
)
def test_a_stated_default_must_be_the_signature_s(pkg: griffe.Module, name: str, text: str, wrong: bool) -> None:
    answer = {"parameters": [{"name": name, "description": text}]}

    assert kinds(answer, pkg["store.Store.append"]) == (["wrong_default"] if wrong else [])


def test_a_wrong_default_clause_is_dropped_and_the_rest_kept(pkg: griffe.Module) -> None:
    answer = {"parameters": [{"name": "limit", "description": "The most items kept. Defaults to 1."}]}

    fixed, _ = drop_prose(answer, pkg["store.Store.append"])

    assert fixed["parameters"][0]["description"] == "The most items kept."


def test_a_stated_default_is_checked_as_it_will_be_published() -> None:
    files = {"__init__.py": "", "text.py": 'def split(text, ws=" \\t"):\n    return text.split()\n'}
    with griffe.temporary_visited_package("wspkg", files) as package:
        target = package["text.split"]
        written_with_a_tab = {"parameters": [{"name": "ws", "description": "What to split on. Defaults to ' \t'."}]}
        escaped = {"parameters": [{"name": "ws", "description": "What to split on. Defaults to ' \\t'."}]}

        assert kinds(written_with_a_tab, target) == ["wrong_default"]  # the tab is published as a space: ' '
        assert kinds(escaped, target) == []
        fixed, _ = drop_prose(written_with_a_tab, target)
        assert fixed["parameters"][0]["description"] == "What to split on."


@pytest.mark.parametrize(
    ("path", "text", "wrong"),
    [
        ("store.Store.items", "A new list of the items.", True),
        ("store.Store.items", "An iterator over the items.", False),
        ("store.Store.count", "None when the store is closed, else the number of items.", False),
        ("store.Store.count", "A string with the count.", True),
        ("store.Store.is_empty", "True when the store holds nothing.", False),
        ("store.Store.is_empty", "A list of empty slots.", True),
        ("store.Store.load", "A new list of the items read.", True),  # the annotation names a project class
        ("store.Store.load", "A store holding the items read.", False),
    ],
)
def test_a_return_description_must_not_contradict_the_annotation(
    pkg: griffe.Module, path: str, text: str, wrong: bool
) -> None:
    assert kinds({"returns": {"description": text}}, pkg[path]) == (["return_contradiction"] if wrong else [])


def test_a_contradicting_return_sentence_is_dropped(pkg: griffe.Module) -> None:
    answer = {"returns": {"description": "A new list of the items. Each item is an int."}}

    fixed, _ = drop_prose(answer, pkg["store.Store.items"])

    assert fixed["returns"]["description"] == "Each item is an int."


def test_a_member_that_does_not_exist_is_reported_and_its_sentence_dropped(pkg: griffe.Module) -> None:
    answer = {"summary": "Add an item.", "description": "It calls `Store.flush` first. Items are kept in order."}
    method = pkg["store.Store.append"]

    assert kinds(answer, method) == ["unknown_member"]
    assert kinds({"summary": "Add an item.", "description": "It calls `Store.items` first."}, method) == []
    fixed, _ = drop_prose(answer, method)
    assert fixed["description"] == "Items are kept in order."


# Pipeline ----------------------------------------------------------------------------------------------------------


def build_core(tmp_path: Path, code: str, answer: Callable[[dict], dict | str]) -> tuple[griffe.Module, Any, int]:
    """Generate the docstrings of `pkg.core` (`code`) with the emulator answering `answer`; return the package,
    the report and the number of docstring requests (example requests not counted)."""
    source = tmp_path / "src" / "pkg"
    source.mkdir(parents=True)
    (source / "__init__.py").write_text('"""A package."""\n', encoding="utf-8")
    (source / "core.py").write_text(f'"""Core."""\n\n\n{code}', encoding="utf-8")
    pkg = griffe.load("pkg", search_paths=[str(tmp_path / "src")])
    with AzureEmulator(api_key="k", answer=answer) as emu:
        settings = Settings.from_options({"cache_dir": str(tmp_path / "cache"), "request_timeout": 10.0})
        session = BuildSession(settings, environ={"AZURE_OPENAI_ENDPOINT": emu.url, "AZURE_OPENAI_API_KEY": "k"})
        fill(session, pkg, discover(pkg, settings))
        report = session.finish()
        docstring_requests = sum(1 for request in emu.requests if not is_example_request(request.body))
    return pkg, report, docstring_requests


def test_a_misstated_default_and_a_dotted_path_are_dropped_without_asking_again(tmp_path: Path) -> None:
    def answer(body: dict) -> dict | str:
        if is_example_request(body):
            return fenced("")
        value = synthesize(request_schema(body))
        value["summary"] = "The pkg.core.scale function scales a value."
        value["parameters"] = [
            {"name": "value", "description": "The value to scale."},
            {"name": "factor", "description": "The factor to apply. Defaults to 1."},
        ]
        return value

    pkg, report, docstring_requests = build_core(tmp_path, "def scale(value, factor=None):\n    return value\n", answer)

    assert docstring_requests == 1  # a retry of the whole docstring costs more than dropping the wrong words
    outcome = report.outcomes["pkg.core.scale"]
    assert outcome.status == "generated"
    assert any("defaults to None in the signature, not 1" in repair for repair in outcome.repairs)
    docstring = pkg["core.scale"].docstring
    assert docstring is not None
    assert docstring.value.removeprefix(SUMMARY_MARK).startswith("Scales a value.")
    assert "pkg.core.scale" not in docstring.value
    assert "Defaults to 1" not in docstring.value
    assert "factor: The factor to apply." in docstring.value


@pytest.mark.parametrize(
    ("description", "summary", "repair"),
    [
        (
            "Each key and value becomes a cookie. Existing cookies stay.",
            "Each key and value becomes a cookie.",
            "the description's first sentence replaces it",
        ),
        ("", "Adds the cookie dict to the jar.", "kept: the summary only restates the name"),
    ],
)
def test_a_summary_still_restating_the_name_after_its_retry_does_not_fail_the_docstring(
    tmp_path: Path, description: str, summary: str, repair: str
) -> None:
    def answer(body: dict) -> dict | str:
        if is_example_request(body):
            return fenced("")
        value = synthesize(request_schema(body))
        value["summary"] = "Adds the cookie dict to the jar."  # every word is a word of the names
        value["description"] = description
        return value

    code = "def add_dict_to_jar(cookie_dict, jar):\n    return jar\n"
    pkg, report, docstring_requests = build_core(tmp_path, code, answer)

    assert docstring_requests == 2  # asked once again, as for any restating summary
    outcome = report.outcomes["pkg.core.add_dict_to_jar"]
    assert outcome.status == "generated", outcome.reason
    assert any(repair in text for text in outcome.repairs), outcome.repairs
    docstring = pkg["core.add_dict_to_jar"].docstring
    assert docstring is not None
    assert docstring.value.removeprefix(SUMMARY_MARK).startswith(summary)


@pytest.mark.parametrize(
    ("summary", "fixed"),
    [
        ("The `append` method of the `pkg.store.Store` class adds an item.", "Adds an item."),
        ("The method `append` adds an item to the store.", "Adds an item to the store."),
        ("The append method, in the Store class, adds an item.", "Adds an item."),
    ],
)
def test_the_name_a_summary_opens_with_goes_with_its_kind_and_owner(
    pkg: griffe.Module, summary: str, fixed: str
) -> None:
    method = pkg["store.Store.append"]

    answer, problems = drop_prose({"summary": summary}, method)

    assert problems and answer["summary"] == fixed
    assert kinds(answer, method) == []


def test_a_class_summary_that_opens_with_the_name_keeps_what_follows_is(pkg: griffe.Module) -> None:
    store = pkg["store.Store"]

    answer, problems = drop_prose({"summary": "The Store class is a container that keeps items in order."}, store)

    assert problems and answer["summary"] == "A container that keeps items in order."
    answer, _ = drop_prose({"summary": "`Store` is a subclass of `list` and is used to keep items."}, store)
    assert answer["summary"] == "A subclass of `list`, used to keep items."


def test_a_summary_left_with_a_bare_verb_gets_a_subject_again(pkg: griffe.Module) -> None:
    answer, problems = drop_prose(
        {"summary": "The `Store` class is deprecated, use lists instead."}, pkg["store.Store"]
    )

    assert problems and answer["summary"] == "This class is deprecated, use lists instead."
    assert kinds(answer, pkg["store.Store"]) == []


def test_a_summary_whose_first_sentence_names_a_missing_member_takes_the_description_s_first_sound_one(
    pkg: griffe.Module,
) -> None:
    method = pkg["store.Store.is_empty"]
    answer = {
        "summary": "Return whether `Store.flush` emptied the store. Otherwise, it returns False.",
        "description": "Check the items of the store. It never changes them.",
    }

    fixed, problems = drop_prose(answer, method)

    assert [p.kind for p in problems] == ["unknown_member"]
    assert fixed["summary"] == "Check the items of the store."  # not "Otherwise, it returns False."
    assert fixed["description"] == "It never changes them."
    kept, _ = drop_prose({"summary": "Return whether `Store.flush` ran. The store is checked too."}, method)
    assert kept["summary"] == "The store is checked too."  # a sentence that stands on its own stays


def test_a_description_sentence_repeating_one_sentence_of_a_longer_summary_is_dropped(pkg: griffe.Module) -> None:
    answer = {
        "summary": "The `Store` class is deprecated. See the changelog.",
        "description": "The Store class is deprecated. Lists replace it.",
    }

    fixed, _ = drop_prose(answer, pkg["store.Store"])

    assert fixed["summary"] == "This class is deprecated. See the changelog."
    assert fixed["description"] == "Lists replace it."


def test_without_a_sound_description_a_missing_member_in_the_summary_becomes_a_plain_word(pkg: griffe.Module) -> None:
    method = pkg["store.Store.is_empty"]
    answer = {"summary": "Return True if `pkg.flush_flag` is set. Otherwise, it returns False.", "description": ""}

    fixed, _ = drop_prose(answer, method)

    assert fixed["summary"] == "Return True if flush_flag is set. Otherwise, it returns False."
    assert kinds(fixed, method) == []


def test_a_continuation_is_never_promoted_to_summary_nor_left_after_the_sentence_it_continued(
    pkg: griffe.Module,
) -> None:
    method = pkg["store.Store.is_empty"]
    answer = {  # the real model's answer for attr's get_disabled, in this fixture's names
        "summary": "Return False if `pkg.flush_flag` is not empty.",
        "description": "It compares `pkg.flush_flag` with an empty list. Otherwise, it returns True.",
    }

    fixed, _ = drop_prose(answer, method)

    assert fixed["summary"] == "Return False if flush_flag is not empty."
    assert fixed["description"] == ""


@pytest.mark.parametrize(
    ("answer", "summary"),
    [
        (  # the real model's answers for pygments' Future.get, in this fixture's names (a sentence on the class is
            # not the method's summary)
            {
                "summary": "The `Store` class in `pkg.store` has a method `is_empty` that returns a bool.",
                "description": "The `Store` class keeps items. Check whether the store holds no item.",
            },
            "Check whether the store holds no item.",
        ),
        (
            {
                "summary": "The `Store` class in `pkg.store` has a method `is_empty`.",
                "returns": {"description": "True when the store holds no item."},
            },
            "Return True when the store holds no item.",
        ),
        (  # set 6's AlreadyRegisteredError.message: no sound sentence in the description, the summary's own clause
            {
                "summary": "The `pkg.store.Store` class has an `is_empty` method that tells whether nothing is stored.",
                "description": "The `is_empty` method is used for checks. It is fast.",
                "returns": {"description": "True when the store holds no item."},
            },
            "Tells whether nothing is stored.",
        ),
        (
            {
                "summary": "The `Store` class in `pkg.store` has a method `is_empty`.",
                "returns": {"description": "A flag telling whether the store is empty."},
            },
            "Return a flag telling whether the store is empty.",
        ),
    ],
)
def test_a_summary_naming_its_object_past_its_start_is_replaced_by_a_sound_sentence_of_another_field(
    pkg: griffe.Module, answer: dict[str, Any], summary: str
) -> None:
    method = pkg["store.Store.is_empty"]

    fixed, problems = drop_prose(answer, method)

    assert problems and fixed["summary"] == summary
    assert "summary_path" not in kinds(fixed, method) and "summary_restates_name" not in kinds(fixed, method)


def test_a_summary_naming_its_object_stays_when_no_other_field_has_a_sound_sentence(pkg: griffe.Module) -> None:
    method = pkg["store.Store.is_empty"]
    answer = {"summary": "The `Store` class has a method `is_empty`.", "description": "See `is_empty`."}

    fixed, _ = drop_prose(answer, method)

    assert fixed["description"] == "See `is_empty`."
    assert "is_empty" in fixed["summary"]


def test_a_summary_loses_the_module_it_says_the_object_is_in(pkg: griffe.Module) -> None:
    store = pkg["store.Store"]

    answer, problems = drop_prose(
        {"summary": "The `Store` class is a container in the `pkg.store` module. It keeps items in order."}, store
    )

    assert problems and answer["summary"] == "A container. It keeps items in order."


def test_a_description_retelling_the_code_keeps_its_first_two_sentences(pkg: griffe.Module) -> None:
    method = pkg["store.Store.append"]
    retold = (
        "It checks whether a limit is given. It then appends the item. If the mode is fast, it skips the check. "
        "If retries run out, it stops. Finally, it returns None."
    )
    answer = {"summary": "Add an item to the end of the store.", "description": retold}

    fixed, problems = drop_prose(answer, method)

    assert [problem.kind for problem in problems] == ["long_description"]
    assert fixed["description"] == "It checks whether a limit is given. It then appends the item."
    assert fixed["summary"] == answer["summary"]
    assert kinds(fixed, method) == []


def test_a_description_sentence_saying_only_what_and_where_the_object_is_is_dropped(pkg: griffe.Module) -> None:
    method = pkg["store.Store.items"]
    answer = {
        "summary": "Iterate over the stored items in insertion order.",
        "description": "The `items` method is a member of the `Store` class in the `pkg.store` module.",
    }
    useful = {**answer, "description": "The `items` method is a view of the store that never copies it."}

    fixed, problems = drop_prose(answer, method)

    assert [problem.kind for problem in problems] == ["long_description"] and fixed["description"] == ""
    assert kinds(useful, method) == []


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        # A library the code never imports: a guess.
        ("It uses the `Treeprocessor` class from the docutils library.", "unknown_member"),
        ("Uses the `json` module to read them.", "unknown_member"),
        ("It returns an iterator from the `collections.abc` module.", None),  # imported by the module
        ("Like everything in the Python standard library, it is lazy.", None),
        ("It lives in the `pkg.store` module, next to the helper.", None),  # the package itself
        # Only where the object belongs: the page says so.
        ("This method is part of the `Store` class.", "long_description"),
        ("The `items` method belongs to the `Store` class in the `pkg.store` module.", "long_description"),
        ("The `items` method is defined in the `pkg.store` module.", "long_description"),
        ("This method is part of the `Store` class, which keeps items in order.", None),  # says more
        ("The method is part of the public API.", None),
    ],
)
def test_a_description_sentence_naming_an_unimported_library_or_saying_only_where_the_object_is_is_dropped(
    pkg: griffe.Module, sentence: str, kind: str | None
) -> None:
    method = pkg["store.Store.items"]
    answer = {"summary": "Iterate over the stored items in insertion order.", "description": sentence}

    fixed, problems = drop_prose(answer, method)

    assert fixed["description"] == ("" if kind else sentence), problems
    assert [problem.kind for problem in problems] == ([kind] if kind else [])


@pytest.mark.parametrize(
    "summary",
    [
        "The `is_empty` method of the `Store` class. It tells whether anything is stored.",  # left: "Class. It ..."
        "`is_empty` is a method. It tells whether anything is stored.",  # left: "A method. It ..."
    ],
)
def test_a_summary_left_without_a_sentence_of_its_own_takes_another_field_s(pkg: griffe.Module, summary: str) -> None:
    method = pkg["store.Store.is_empty"]
    answer = {"summary": summary, "returns": {"description": "True when the store holds no item."}}

    fixed, _ = drop_prose(answer, method)

    assert fixed["summary"] == "Return True when the store holds no item."
