"""Unit conversion for temperature, wind speed and pressure.

Readings are stored in SI-ish units (degrees Celsius, metres per second,
hectopascals); the helpers here convert to and from what people display.
"""

from __future__ import annotations

from enum import Enum

from weatherkit.exceptions import UnitError

ABSOLUTE_ZERO_C: float = -273.15
"""Absolute zero in degrees Celsius; no temperature can be lower."""

KNOTS_PER_MPS = 1.943844
HPA_PER_INHG = 33.8638866667


class TemperatureUnit(str, Enum):
    """Units a temperature can be expressed in.

    The value of each member is the symbol used in data files and on screen.
    """

    CELSIUS = "C"
    FAHRENHEIT = "F"
    KELVIN = "K"

    @classmethod
    def from_symbol(cls, symbol: str) -> TemperatureUnit:
        """Look a unit up by its symbol, ignoring case and a leading degree sign.

        Args:
            symbol: A symbol such as `"C"`, `"°F"` or `"k"`.

        Returns:
            The matching unit.

        Raises:
            UnitError: If the symbol names no known temperature unit.

        Examples:
            >>> TemperatureUnit.from_symbol("°f")
            <TemperatureUnit.FAHRENHEIT: 'F'>
        """
        cleaned = symbol.strip().lstrip("°").upper()
        for unit in cls:
            if unit.value == cleaned:
                return unit
        raise UnitError(f"unknown temperature unit: {symbol!r}")


class SpeedUnit(Enum):
    METERS_PER_SECOND = "m/s"
    KILOMETERS_PER_HOUR = "km/h"
    KNOTS = "kn"


_MPS_FACTORS = {
    SpeedUnit.METERS_PER_SECOND: 1.0,
    SpeedUnit.KILOMETERS_PER_HOUR: 3.6,
    SpeedUnit.KNOTS: KNOTS_PER_MPS,
}


def _as_temperature_unit(unit: TemperatureUnit | str) -> TemperatureUnit:
    return unit if isinstance(unit, TemperatureUnit) else TemperatureUnit.from_symbol(unit)


def _to_celsius(value: float, unit: TemperatureUnit) -> float:
    if unit is TemperatureUnit.CELSIUS:
        return value
    if unit is TemperatureUnit.FAHRENHEIT:
        return fahrenheit_to_celsius(value)
    return value + ABSOLUTE_ZERO_C


def _from_celsius(value: float, unit: TemperatureUnit) -> float:
    if unit is TemperatureUnit.CELSIUS:
        return value
    if unit is TemperatureUnit.FAHRENHEIT:
        return celsius_to_fahrenheit(value)
    return value - ABSOLUTE_ZERO_C


def convert_temperature(
    value: float,
    source: TemperatureUnit | str,
    target: TemperatureUnit | str,
) -> float:
    """Convert a temperature between Celsius, Fahrenheit and Kelvin.

    Args:
        value: The temperature, expressed in `source` units.
        source: Unit of `value`, as a member or a symbol.
        target: Unit to convert to, as a member or a symbol.

    Returns:
        The temperature expressed in `target` units.

    Raises:
        UnitError: If a symbol is unknown, or if the temperature is below absolute zero.

    Examples:
        >>> convert_temperature(100, "C", "F")
        212.0
        >>> round(convert_temperature(0, TemperatureUnit.KELVIN, "C"), 2)
        -273.15
    """
    celsius = _to_celsius(value, _as_temperature_unit(source))
    if celsius < ABSOLUTE_ZERO_C:
        raise UnitError(f"{value} {source} is below absolute zero")
    return _from_celsius(celsius, _as_temperature_unit(target))


def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert degrees Celsius to degrees Fahrenheit.

    Args:
        celsius: Temperature in degrees Celsius.

    Returns:
        Temperature in degrees Fahrenheit.
    """
    return celsius * 9 / 5 + 32


def fahrenheit_to_celsius(fahrenheit):
    return (fahrenheit - 32) * 5 / 9


def convert_speed(value: float, source: SpeedUnit, target: SpeedUnit) -> float:
    if value < 0:
        raise UnitError(f"speed cannot be negative: {value}")
    return value / _MPS_FACTORS[source] * _MPS_FACTORS[target]


def inhg_to_hpa(inches: float) -> float:
    """TODO"""
    return inches * HPA_PER_INHG


def wind_chill(temperature_c: float, wind_speed_mps: float) -> float:
    """Compute the wind-chill temperature (North American formula, 2001).

    The formula only applies at or below 10 °C with wind above 4.8 km/h;
    outside that range the air temperature is returned unchanged.

    Args:
        temperature_c: Air temperature in degrees Celsius.
        wind_speed_mps: Wind speed at 10 m, in metres per second.

    Returns:
        The temperature it feels like, in degrees Celsius.

    Raises:
        UnitError: If the wind speed is negative.
    """
    wind_kmh = convert_speed(wind_speed_mps, SpeedUnit.METERS_PER_SECOND, SpeedUnit.KILOMETERS_PER_HOUR)
    if temperature_c > 10 or wind_kmh <= 4.8:
        return temperature_c
    factor = wind_kmh**0.16
    return 13.12 + 0.6215 * temperature_c - 11.37 * factor + 0.3965 * temperature_c * factor


def heat_index(temperature_c: float, humidity: float) -> float:
    if not 0 <= humidity <= 100:
        raise UnitError(f"relative humidity must be within 0-100 %, got {humidity}")
    t = celsius_to_fahrenheit(temperature_c)
    if t < 80 or humidity < 40:
        return temperature_c
    rh = humidity
    index_f = (
        -42.379
        + 2.04901523 * t
        + 10.14333127 * rh
        - 0.22475541 * t * rh
        - 0.00683783 * t * t
        - 0.05481717 * rh * rh
        + 0.00122874 * t * t * rh
        + 0.00085282 * t * rh * rh
        - 0.00000199 * t * t * rh * rh
    )
    return fahrenheit_to_celsius(index_f)
