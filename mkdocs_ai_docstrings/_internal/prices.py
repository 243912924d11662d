"""Model prices (USD per 1M tokens) and cost estimates; the built-in table can be overridden per model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    """A model's price, in USD per 1M tokens."""

    input: float
    """Uncached prompt tokens."""
    cached_input: float
    """Prompt tokens served from the prompt cache."""
    output: float
    """Completion tokens (reasoning tokens included)."""


DEFAULT_PRICES: Mapping[str, Price] = {
    # OpenAI list prices (Azure Global Standard usually matches).
    "gpt-4o": Price(2.50, 1.25, 10.00),
    "gpt-4o-2024-05-13": Price(5.00, 5.00, 15.00),
    "gpt-4o-mini": Price(0.15, 0.075, 0.60),
    "gpt-4.1": Price(2.00, 0.50, 8.00),
    "gpt-4.1-mini": Price(0.40, 0.10, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.025, 0.40),
    "gpt-5": Price(1.25, 0.125, 10.00),
    "gpt-5-mini": Price(0.25, 0.025, 2.00),
    "gpt-5-nano": Price(0.05, 0.005, 0.40),
    "gpt-5-pro": Price(15.00, 15.00, 120.00),
    "o1": Price(15.00, 7.50, 60.00),
    "o1-mini": Price(1.10, 0.55, 4.40),
    "o1-pro": Price(150.00, 150.00, 600.00),
    "o3-mini": Price(1.10, 0.55, 4.40),
    "o4-mini": Price(1.10, 0.275, 4.40),
    # Legacy models, without prompt caching.
    "gpt-4": Price(30.00, 30.00, 60.00),
    "gpt-4-32k": Price(60.00, 60.00, 120.00),
    "gpt-4-turbo": Price(10.00, 10.00, 30.00),
    "gpt-3.5-turbo": Price(0.50, 0.50, 1.50),
    "gpt-3.5-turbo-16k": Price(3.00, 3.00, 4.00),
    "gpt-35-turbo": Price(0.50, 0.50, 1.50),
    "gpt-35-turbo-16k": Price(3.00, 3.00, 4.00),
}
"""Built-in prices by model name; dated versions (`gpt-4o-mini-2024-07-18`) match their base name."""

BATCH_PRICE_FACTOR = 0.5
"""Share of the live price a Batch API request costs (Azure Global Batch and OpenAI's Batch API: 50% off)."""

_PRICE_KEYS = frozenset({"input", "cached_input", "output"})
_REQUIRED_KEYS = ("input", "output")


def price_for(model: str, overrides: Mapping[str, Mapping[str, float]] | None = None) -> Price | None:
    """Return the price of a model, or `None` when it is unknown.

    Overrides replace built-in entries of the same name. The lookup (case-insensitive) takes the exact name, else
    the longest known name followed by `-` in `model`, so `gpt-4o-mini-2024-07-18` gets `gpt-4o-mini`'s price.

    Args:
        model: Model name.
        overrides: Prices by model, USD per 1M tokens: `{model: {"input", "output", "cached_input"}}`
            (`cached_input` defaults to `input`).

    Raises:
        ValueError: An override has an unknown or missing key, or a value that is not a non-negative number.
    """
    table = {name.lower(): price for name, price in DEFAULT_PRICES.items()}
    try:
        table.update({name.lower(): price for name, price in validate_prices(overrides or {}).items()})
    except ValueError as error:
        raise ValueError(f"prices: {error}") from None
    wanted = model.strip().lower()
    if wanted in table:
        return table[wanted]
    prefixes = [name for name in table if wanted.startswith(name + "-")]
    return table[max(prefixes, key=len)] if prefixes else None


def validate_prices(overrides: object) -> dict[str, Price]:
    """Parse price overrides `{model: {input, cached_input?, output}}`, or raise `ValueError` saying what is wrong.

    Model names are non-empty strings; each entry has `input` and `output`, optionally `cached_input` (default:
    `input`), each a finite non-negative number; other keys are rejected.
    """
    if not isinstance(overrides, Mapping):
        raise ValueError(f"expected a mapping of model names to prices, got {type(overrides).__name__}")
    parsed = {}
    for model, values in overrides.items():
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"model names must be non-empty strings, got {model!r}")
        parsed[model] = _parse_override(model, values)
    return parsed


def _parse_override(model: str, values: Mapping[str, float]) -> Price:
    if not isinstance(values, Mapping):
        raise ValueError(f"the entry for model {model!r} must be a mapping of input/output/cached_input")
    for key in values:
        if key not in _PRICE_KEYS:
            raise ValueError(f"unknown key {key!r} for model {model!r} (allowed: input, cached_input, output)")
    for key in _REQUIRED_KEYS:
        if key not in values:
            raise ValueError(f"missing key {key!r} for model {model!r}")
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value) or value < 0:
            raise ValueError(
                f"{key!r} for model {model!r} must be a finite non-negative number of USD per 1M tokens, got {value!r}"
            )
    return Price(
        input=float(values["input"]),
        cached_input=float(values.get("cached_input", values["input"])),
        output=float(values["output"]),
    )


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def estimate_cost(
    price: Price | None, *, prompt_tokens: int, completion_tokens: int, cached_prompt_tokens: int = 0
) -> float | None:
    """Estimate the cost in USD of some usage; `None` when the price is unknown.

    `cached_prompt_tokens` are part of `prompt_tokens` (as in the API's `usage`) and billed at the cached rate.
    """
    if price is None:
        return None
    prompt = max(prompt_tokens, 0)
    cached = min(max(cached_prompt_tokens, 0), prompt)
    completion = max(completion_tokens, 0)
    return ((prompt - cached) * price.input + cached * price.cached_input + completion * price.output) / 1_000_000


def format_cost(cost: float | None) -> str:
    """Format a cost for logs and reports: `$0.0123`, or say how to make it known."""
    if cost is None:
        return "unknown (set `prices` for this model)"
    return f"${cost:.4f}"


def batch_price(price: Price | None, factor: float = BATCH_PRICE_FACTOR) -> Price | None:
    """The price of a model's Batch API requests: its live price times `factor` (`None` when unknown)."""
    if price is None:
        return None
    return Price(input=price.input * factor, cached_input=price.cached_input * factor, output=price.output * factor)
