"""Specification of `Settings.from_options`: every option validated by name, type and bounds."""

from __future__ import annotations

import dataclasses

import pytest

from mkdocs_ai_docstrings import Settings, SettingsError


def test_no_options_give_the_documented_defaults() -> None:
    settings = Settings.from_options()
    assert settings == Settings()
    assert settings.enabled is True
    assert settings.provider == "azure"
    assert settings.max_completion_tokens == 700
    assert settings.cache_dir == ".cache/ai-docstrings"
    assert settings.include == ()
    assert settings.improve is False


def test_every_dataclass_field_is_an_accepted_option_name() -> None:
    defaults = Settings()
    options = {field.name: getattr(defaults, field.name) for field in dataclasses.fields(Settings)}
    assert Settings.from_options(options) == defaults


def test_an_unknown_option_is_rejected_by_name_and_the_known_ones_are_listed() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_options({"max_tokens": 10, "cocurrency": 2})
    message = str(error.value)
    assert "'cocurrency'" in message
    assert "'max_tokens'" in message
    assert "max_completion_tokens" in message  # the known names help spot the typo


def test_settings_error_is_a_value_error() -> None:
    assert issubclass(SettingsError, ValueError)


def test_keyword_overrides_win_over_the_mapping() -> None:
    settings = Settings.from_options({"concurrency": 2, "dry_run": False}, dry_run=True)
    assert settings.concurrency == 2
    assert settings.dry_run is True


def test_the_result_is_frozen() -> None:
    settings = Settings.from_options()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.concurrency = 9  # type: ignore[misc]


# Types ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected_words"),
    [
        ("enabled", "yes", "true or false"),
        ("enabled", 1, "true or false"),
        ("concurrency", 2.5, "integer"),
        ("concurrency", "4", "integer"),
        ("concurrency", True, "integer"),
        ("temperature", "0.2", "number"),
        ("temperature", False, "number"),
        ("cache_dir", 12, "string"),
        ("provider", "anthropic", "must be one of"),
        ("output_mode", "xml", "must be one of"),
        ("include", 3, "list of strings"),
        ("exclude", ["ok", 3], "list of strings"),
        ("prices", ["gpt-4o"], "mapping"),
        ("token_budget", "lots", "wrong type"),
        ("cache_dir", None, "must not be empty"),
    ],
)
def test_a_value_of_the_wrong_type_is_rejected_naming_the_option(name: str, value: object, expected_words: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_options({name: value})
    assert f"'{name}'" in str(error.value)
    assert expected_words in str(error.value)


def test_literal_errors_list_the_allowed_values() -> None:
    with pytest.raises(SettingsError, match="'azure', 'openai'"):
        Settings.from_options({"provider": "bedrock"})


def test_integers_are_accepted_where_numbers_are_expected_and_become_floats() -> None:
    settings = Settings.from_options({"temperature": 1, "request_timeout": 5, "cache_ttl_days": 7})
    assert settings.temperature == 1.0 and isinstance(settings.temperature, float)
    assert isinstance(settings.request_timeout, float)
    assert settings.cache_ttl_days == 7.0 and isinstance(settings.cache_ttl_days, float)


def test_optional_options_accept_none_and_their_inner_type() -> None:
    settings = Settings.from_options({"token_budget": None, "rpm": 60, "endpoint": None, "deployment": "dep"})
    assert settings.token_budget is None
    assert settings.rpm == 60.0
    assert settings.endpoint is None
    assert settings.deployment == "dep"
    assert Settings.from_options({"token_budget": 5000}).token_budget == 5000


def test_lists_become_tuples_and_a_single_string_a_one_item_tuple() -> None:
    settings = Settings.from_options({"include": ["pkg.api.*", "pkg.core.*"], "exclude": "pkg._*", "packages": []})
    assert settings.include == ("pkg.api.*", "pkg.core.*")
    assert settings.exclude == ("pkg._*",)
    assert settings.packages == ()
    assert all(isinstance(value, tuple) for value in (settings.include, settings.exclude, settings.packages))


def test_settings_built_from_lists_are_hashable() -> None:
    settings = Settings.from_options({"include": ["a.*"], "exclude": ["b.*"]})
    assert hash(settings.include) == hash(("a.*",))


def test_prices_mapping_is_copied_into_a_plain_dict() -> None:
    prices = {"my-model": {"input": 1.0, "output": 2.0}}
    settings = Settings.from_options({"prices": prices})
    assert settings.prices == prices
    assert isinstance(settings.prices, dict)
    assert settings.prices is not prices


# Bounds --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["max_completion_tokens", "max_input_tokens", "concurrency", "max_attempts"])
def test_counts_that_must_be_positive_reject_zero(name: str) -> None:
    with pytest.raises(SettingsError, match=f"'{name}' must be at least 1"):
        Settings.from_options({name: 0})
    assert getattr(Settings.from_options({name: 1}), name) == 1


@pytest.mark.parametrize("name", ["token_budget", "rpm", "tpm", "cache_ttl_days"])
def test_limits_reject_negative_values_but_accept_zero(name: str) -> None:
    with pytest.raises(SettingsError, match=f"'{name}' must not be negative"):
        Settings.from_options({name: -1})
    assert getattr(Settings.from_options({name: 0}), name) == 0


@pytest.mark.parametrize("timeout", [0, -1.5])
def test_request_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(SettingsError, match="'request_timeout'"):
        Settings.from_options({"request_timeout": timeout})


@pytest.mark.parametrize("name", ["min_docstring_length", "style_examples", "build_retry_cap"])
def test_counts_that_may_be_zero_reject_negative_values(name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_options({name: -1})
    assert getattr(Settings.from_options({name: 0}), name) == 0
