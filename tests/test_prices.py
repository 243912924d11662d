"""Price lookup, overrides and cost estimates."""

from __future__ import annotations

import pytest

from mkdocs_ai_docstrings._internal.prices import DEFAULT_PRICES, Price, estimate_cost, format_cost, price_for

NOTES_TABLE = {
    "gpt-4o": Price(2.50, 1.25, 10.00),
    "gpt-4o-mini": Price(0.15, 0.075, 0.60),
    "gpt-4.1": Price(2.00, 0.50, 8.00),
    "gpt-4.1-mini": Price(0.40, 0.10, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.025, 0.40),
    "gpt-5": Price(1.25, 0.125, 10.00),
    "gpt-5-mini": Price(0.25, 0.025, 2.00),
    "gpt-5-nano": Price(0.05, 0.005, 0.40),
}


@pytest.mark.parametrize(("model", "price"), NOTES_TABLE.items())
def test_known_models_have_their_list_price(model: str, price: Price) -> None:
    assert price_for(model) == price


def test_every_default_price_is_sane() -> None:
    for model, price in DEFAULT_PRICES.items():
        assert 0 < price.cached_input <= price.input <= price.output, model


@pytest.mark.parametrize(
    ("model", "base"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
        ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"),
        ("GPT-4o-Mini", "gpt-4o-mini"),
    ],
)
def test_dated_and_differently_cased_names_match_their_base_model(model: str, base: str) -> None:
    assert price_for(model) == DEFAULT_PRICES[base]


def test_a_longer_name_does_not_take_a_shorter_models_price() -> None:
    assert price_for("gpt-4o-mini") != price_for("gpt-4o")
    assert price_for("gpt-4.1-mini-2025-04-14") == NOTES_TABLE["gpt-4.1-mini"]


def test_a_differently_priced_version_has_its_own_entry() -> None:
    assert price_for("gpt-4o-2024-05-13") == Price(5.00, 5.00, 15.00)


@pytest.mark.parametrize("model", ["my-deployment", "gpt-4.5-preview", "gpt-4omni", "llama-3.2-1b", ""])
def test_unknown_models_have_no_price(model: str) -> None:
    assert price_for(model) is None


class TestOverrides:
    def test_a_new_model_gets_its_override(self) -> None:
        overrides = {"my-model": {"input": 1.0, "output": 2.0, "cached_input": 0.5}}

        assert price_for("my-model", overrides) == Price(input=1.0, cached_input=0.5, output=2.0)

    def test_cached_input_defaults_to_input(self) -> None:
        assert price_for("my-model", {"my-model": {"input": 3, "output": 4}}) == Price(3.0, 3.0, 4.0)

    def test_an_override_replaces_the_built_in_price(self) -> None:
        overrides = {"gpt-4o": {"input": 2.75, "output": 11.0}}

        assert price_for("gpt-4o", overrides) == Price(2.75, 2.75, 11.0)
        assert price_for("gpt-4o-2024-11-20", overrides) == Price(2.75, 2.75, 11.0)

    def test_an_override_does_not_leak_to_a_longer_model_name(self) -> None:
        overrides = {"gpt-4o": {"input": 2.75, "output": 11.0}}

        assert price_for("gpt-4o-mini", overrides) == NOTES_TABLE["gpt-4o-mini"]

    @pytest.mark.parametrize(
        ("values", "named_key"),
        [
            ({"input": 1.0, "output": 2.0, "cached": 0.5}, "cached"),
            ({"input": -1.0, "output": 2.0}, "input"),
            ({"input": 1.0, "output": 2.0, "cached_input": -0.1}, "cached_input"),
            ({"input": 1.0, "output": "2"}, "output"),
            ({"input": True, "output": 2.0}, "input"),
            ({"input": float("nan"), "output": 2.0}, "input"),
            ({"output": 2.0}, "input"),
        ],
    )
    def test_invalid_overrides_name_the_model_and_the_key(self, values: dict, named_key: str) -> None:
        with pytest.raises(ValueError, match=rf"'{named_key}'.*'my-model'|'my-model'.*'{named_key}'"):
            price_for("other-model", {"my-model": values})

    def test_an_override_that_is_not_a_mapping_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="my-model"):
            price_for("my-model", {"my-model": 1.5})  # type: ignore[dict-item]


class TestCost:
    def test_cost_of_prompt_and_completion(self) -> None:
        price = Price(input=2.0, cached_input=0.5, output=8.0)

        cost = estimate_cost(price, prompt_tokens=1_000_000, completion_tokens=500_000)

        assert cost == pytest.approx(2.0 + 4.0)

    def test_cached_prompt_tokens_are_billed_at_the_cached_rate(self) -> None:
        price = Price(input=2.0, cached_input=0.5, output=8.0)

        cost = estimate_cost(price, prompt_tokens=1_000, completion_tokens=100, cached_prompt_tokens=600)

        assert cost == pytest.approx((400 * 2.0 + 600 * 0.5 + 100 * 8.0) / 1_000_000)

    def test_cached_tokens_never_exceed_the_prompt(self) -> None:
        price = Price(input=2.0, cached_input=0.5, output=8.0)

        cost = estimate_cost(price, prompt_tokens=100, completion_tokens=0, cached_prompt_tokens=1_000)

        assert cost == pytest.approx(100 * 0.5 / 1_000_000)

    def test_unknown_price_means_unknown_cost(self) -> None:
        assert estimate_cost(None, prompt_tokens=1_000, completion_tokens=100) is None

    def test_format_cost(self) -> None:
        assert format_cost(0.0123) == "$0.0123"
        assert format_cost(12.5) == "$12.5000"
        assert format_cost(None) == "unknown (set `prices` for this model)"

    def test_estimated_cost_of_a_typical_docstring_with_gpt_4o_mini(self) -> None:
        cost = estimate_cost(price_for("gpt-4o-mini-2024-07-18"), prompt_tokens=2_000, completion_tokens=300)

        assert format_cost(cost) == "$0.0005"
