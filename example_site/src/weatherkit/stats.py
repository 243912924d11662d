"""Descriptive statistics over series of measurements.

Functions accept plain numbers; [`summarize`][weatherkit.stats.summarize]
also accepts `None` for missing measurements and drops them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from weatherkit.readings import FIELD_ORDER, Reading


@dataclass(frozen=True)
class Summary:
    """Summary statistics of one measured quantity.

    Build it with [`summarize`][weatherkit.stats.summarize] rather than by hand.
    """

    count: int
    """Number of values that were summarized (missing values excluded)."""
    minimum: float
    maximum: float
    mean: float
    """Arithmetic mean of the values."""
    stddev: float


def _clean(values: Iterable[float | None]) -> list[float]:
    return [float(value) for value in values if value is not None and not math.isnan(value)]


def mean(values: Sequence[float]) -> float:
    """Compute the arithmetic mean.

    Args:
        values: The numbers to average.

    Returns:
        Their mean.

    Raises:
        ValueError: If `values` is empty.

    Examples:
        >>> mean([1.0, 2.0, 6.0])
        3.0
    """
    if not values:
        raise ValueError("mean of an empty sequence")
    return math.fsum(values) / len(values)


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of an empty sequence")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def stddev(values: Sequence[float], *, sample: bool = True) -> float:
    """Compute the standard deviation.

    Args:
        values: The numbers.
        sample: Use Bessel's correction (divide by `n - 1`), as is right for a sample;
            set to false for a whole population.

    Returns:
        The standard deviation; `0.0` for a single value.

    Raises:
        ValueError: If `values` is empty.
    """
    center = mean(values)
    if len(values) == 1:
        return 0.0
    divisor = len(values) - 1 if sample else len(values)
    return math.sqrt(math.fsum((value - center) ** 2 for value in values) / divisor)


def percentile(values: Sequence[float], q: float) -> float:
    """TODO"""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    if not values:
        raise ValueError("percentile of an empty sequence")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def rolling_mean(values: Iterable[float], window: int) -> Iterator[float]:
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    recent: deque[float] = deque(maxlen=window)
    for value in values:
        recent.append(value)
        if len(recent) == window:
            yield mean(recent)


def summarize(values: Iterable[float | None]) -> Summary:
    """Summarize a series of measurements, ignoring missing ones.

    Args:
        values: The measurements; `None` and NaN count as missing.

    Returns:
        Count, extremes, mean and sample standard deviation of the present values.

    Raises:
        ValueError: If no value is present.

    Examples:
        >>> summarize([1.0, None, 3.0]).mean
        2.0
    """
    present = _clean(values)
    if not present:
        raise ValueError("nothing to summarize: every value is missing")
    return Summary(
        count=len(present),
        minimum=min(present),
        maximum=max(present),
        mean=mean(present),
        stddev=stddev(present),
    )


def detect_outliers(values, threshold=3.0):
    if len(values) < 2:
        return []
    center = mean(values)
    spread = stddev(values)
    if spread == 0:
        return []
    return [index for index, value in enumerate(values) if abs(value - center) / spread > threshold]


def summarize_readings(readings: Iterable[Reading], field: str = "temperature_c") -> Summary:
    numeric_fields = FIELD_ORDER[2:]
    if field not in numeric_fields:
        raise ValueError(f"cannot summarize {field!r}; choose one of {', '.join(numeric_fields)}")
    return summarize(getattr(reading, field) for reading in readings)
