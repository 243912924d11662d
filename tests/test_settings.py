"""Specification of `Settings.from_options`: every option validated by name, type and bounds."""

from __future__ import annotations

import dataclasses
import math
from typing import get_type_hints

import pytest

from mkdocs_ai_docstrings import Settings, SettingsError
from mkdocs_ai_docstrings._internal.settings import CONSTRAINTS, Between, OptionType, option_types

HINTS = get_type_hints(Settings)
NUMBER_OPTIONS = [name for name, hint in HINTS.items() if {int, float} & {hint, *getattr(hint, "__args__", ())}]
FLOAT_OPTIONS = [name for name, hint in HINTS.items() if float in {hint, *getattr(hint, "__args__", ())}]
BOOL_OPTIONS = [name for name, hint in HINTS.items() if hint is bool]
RANGES = {name: rule for name, rule in CONSTRAINTS.items() if isinstance(rule, Between)}


def error_of(**options: object) -> str:
    with pytest.raises(SettingsError) as error:
        Settings.from_options(options)
    return str(error.value)


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
        ("token_budget", "lots", "an integer or null"),
        ("rpm", "fast", "a number or null"),
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


# Ranges --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": 50}, "option 'temperature' must be between 0 and 2, got 50"),
        ({"temperature": -0.1}, "option 'temperature' must be between 0 and 2, got -0.1"),
        ({"request_timeout": math.nan}, "option 'request_timeout' must be a finite number, got nan"),
        ({"request_timeout": 0}, "option 'request_timeout' must be greater than 0 and at most 3600, got 0"),
        ({"cache_ttl_days": math.inf}, "option 'cache_ttl_days' must be a finite number or null, got inf"),
        ({"cache_ttl_days": 10**400}, "option 'cache_ttl_days' must be a finite number or null, got 1000000000"),
        ({"rpm": 0.001}, "option 'rpm' must be at least 1, got 0.001"),
        ({"rpm": 0}, "option 'rpm' must be at least 1, got 0"),
        (
            {"max_completion_tokens": 10**9},
            "option 'max_completion_tokens' must be between 1 and 128000, got 1000000000",
        ),
        ({"max_completion_tokens": 1e9}, "option 'max_completion_tokens' must be an integer, got 1000000000.0"),
        ({"max_input_tokens": 0}, "option 'max_input_tokens' must be between 1 and 1000000, got 0"),
        ({"concurrency": 65}, "option 'concurrency' must be between 1 and 64, got 65"),
        ({"max_attempts": 0}, "option 'max_attempts' must be between 1 and 20, got 0"),
        ({"token_budget": -1}, "option 'token_budget' must be at least 0, got -1"),
        (
            {"tpm": 1},
            "option 'tpm' must be at least max_input_tokens + max_completion_tokens = 3200, so that one request fits "
            "in a minute's quota (or lower those two options), got 1",
        ),
    ],
)
def test_out_of_range_values_get_one_message_naming_the_option_and_the_range(
    options: dict[str, object], message: str
) -> None:
    assert error_of(**options).startswith(message)


def test_every_number_option_has_a_declared_range() -> None:
    # A new numeric option needs one line in CONSTRAINTS; this names the one that lacks it.
    assert [name for name in NUMBER_OPTIONS if name not in RANGES] == []


def test_every_option_type_has_a_check() -> None:
    # A field annotated with a type the checks do not know fails here, not in a user's build.
    assert list(option_types()) == list(HINTS)
    for name, hint in HINTS.items():
        assert OptionType.of(hint).checks, name
    with pytest.raises(TypeError, match="no config option for the annotation"):
        OptionType.of(complex)


def test_a_huge_integer_is_rejected_and_shortened() -> None:
    message = error_of(max_completion_tokens=10**400)
    assert message.startswith("option 'max_completion_tokens' must be between 1 and 128000, got 1000")
    assert len(message) < 150


def test_every_constraint_belongs_to_an_option() -> None:
    assert set(CONSTRAINTS) <= set(HINTS)


@pytest.mark.parametrize("name", sorted(RANGES))
def test_both_ends_of_every_range_are_accepted_and_just_beyond_them_rejected(name: str) -> None:
    rule = RANGES[name]
    integer = HINTS[name] is int or int in getattr(HINTS[name], "__args__", ())
    step = 1 if integer else 0.001
    room = {"tpm": None} if name != "tpm" else {"max_input_tokens": 1, "max_completion_tokens": 1}
    if name == "tpm":
        rule = Between(2)  # the smallest tpm these token caps allow (see the tpm rule)
    assert rule.low is not None
    lowest = rule.low + step if rule.above else rule.low
    assert getattr(Settings.from_options({**room, name: lowest}), name) == lowest
    with pytest.raises(SettingsError, match=f"option '{name}'"):
        Settings.from_options({**room, name: lowest - step})
    if rule.high is not None:
        assert getattr(Settings.from_options({name: rule.high}), name) == rule.high
        with pytest.raises(SettingsError, match=f"option '{name}' must be .*{int(rule.high)}"):
            Settings.from_options({name: rule.high + step})


@pytest.mark.parametrize("name", FLOAT_OPTIONS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_rejected_for_every_number(name: str, value: float) -> None:
    assert f"option '{name}' must be a finite number" in error_of(**{name: value})


@pytest.mark.parametrize("name", BOOL_OPTIONS)
@pytest.mark.parametrize("value", ["true", 1, None])
def test_booleans_must_be_booleans(name: str, value: object) -> None:
    assert f"option '{name}' must" in error_of(**{name: value})


def test_tpm_must_let_one_worst_case_request_through_in_a_minute() -> None:
    assert Settings.from_options({"tpm": 3200}).tpm == 3200
    assert "= 3200" in error_of(tpm=3199)
    small = Settings.from_options({"tpm": 1000, "max_input_tokens": 600, "max_completion_tokens": 400})
    assert small.tpm == 1000
    assert "= 1001" in error_of(tpm=1000, max_input_tokens=601, max_completion_tokens=400)


# Strings, paths, patterns, prices ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["/tmp/x.json", "../../x.json", "reports/../../x.json", "C:\\x.json", "", "out/"])
def test_report_file_must_stay_inside_its_folder(value: str) -> None:
    assert error_of(report_file=value).startswith(
        "option 'report_file' must be a relative path inside the site directory (standalone: the cache folder): got "
    )


def test_report_file_may_name_a_subfolder() -> None:
    assert Settings.from_options({"report_file": "reports/ai.json"}).report_file == "reports/ai.json"


@pytest.mark.parametrize(("name", "value"), [("include", [""]), ("exclude", ["pkg.*", " "]), ("packages", ["my-pkg"])])
def test_patterns_and_package_names_are_checked(name: str, value: list[str]) -> None:
    assert error_of(**{name: value}).startswith(f"option '{name}' must be a list of")


def test_a_key_pasted_into_api_key_env_is_rejected_without_being_shown() -> None:
    message = error_of(api_key_env="sk-proj-abc123=secret")
    assert message.startswith("option 'api_key_env' must be the name of an environment variable")
    assert "abc123" not in message
    assert Settings.from_options({"api_key_env": "MY_AZURE_KEY"}).api_key_env == "MY_AZURE_KEY"


@pytest.mark.parametrize("value", ["my-resource.openai.azure.com", "ftp://host", "https://", "https://user:hunter2@["])
def test_endpoints_must_be_http_urls_and_are_not_echoed(value: str) -> None:
    message = error_of(endpoint=value)
    assert message.startswith("option 'endpoint' must be an http(s) URL")
    assert "hunter2" not in message
    assert Settings.from_options({"endpoint": "https://r.openai.azure.com/"}).endpoint == "https://r.openai.azure.com/"


@pytest.mark.parametrize(
    ("prices", "words"),
    [
        ({"m": {"input": 1.0}}, "missing key 'output' for model 'm'"),
        (
            {"m": {"inptu": 1.0, "output": 1.0}},
            "unknown key 'inptu' for model 'm' (allowed: input, cached_input, output)",
        ),
        ({"m": {"input": math.inf, "output": 1.0}}, "'input' for model 'm' must be a finite non-negative number"),
        ({"m": {"input": 1.0, "output": 10**400}}, "'output' for model 'm' must be a finite non-negative number"),
        ({"m": 5}, "the entry for model 'm' must be a mapping"),
        ({3: {"input": 1.0, "output": 1.0}}, "model names must be non-empty strings, got 3"),
    ],
)
def test_malformed_prices_give_one_message_naming_the_model_and_key(prices: object, words: str) -> None:
    message = error_of(prices=prices)
    assert message.startswith("option 'prices' must be {model: {input, cached_input?, output}} in USD per 1M tokens: ")
    assert words in message


@pytest.mark.parametrize("name", ["cache_dir", "deployment", "model", "api_version", "user_prompt_file"])
def test_names_and_paths_must_not_be_blank(name: str) -> None:
    assert error_of(**{name: "  "}).startswith(f"option '{name}' must be a")


def test_long_values_are_shortened_in_messages() -> None:
    message = error_of(concurrency="x" * 500)
    assert len(message) < 200


def test_values_are_checked_by_mkdocs_config_options() -> None:
    from mkdocs.config.base import BaseConfigOption

    for name, option in option_types().items():
        assert all(isinstance(check, BaseConfigOption) for check in option.checks), name
    assert option_types()["lock_file"].expected == "true or false or a string"
    assert option_types()["token_budget"].expected == "an integer or null"
