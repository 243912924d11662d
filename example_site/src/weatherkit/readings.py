"""Parsing of raw station readings.

Stations upload one reading per line, as delimited text in the column order
given by [`FIELD_ORDER`][weatherkit.readings.FIELD_ORDER]. Empty cells, `NA`
and `-9999` mean "not measured".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

from weatherkit.exceptions import ParseError
from weatherkit.units import celsius_to_fahrenheit, heat_index, wind_chill

FIELD_ORDER: tuple[str, ...] = ("station_id", "timestamp", "temperature_c", "humidity", "wind_speed_mps")
"""Column order of a reading line, as written by station firmware 2.x and later."""

DEFAULT_DELIMITER = ","

_MISSING = frozenset({"", "NA", "-9999"})


@dataclass(frozen=True)
class Reading:
    """One observation reported by a weather station.

    Measurements a station could not take are `None`.

    Examples:
        >>> from datetime import datetime
        >>> reading = Reading("KSEA", datetime(2024, 1, 5, 12), -2.0, 80.0, 6.5)
        >>> reading.is_freezing
        True
    """

    station_id: str
    """Identifier of the reporting station, e.g. `"KSEA"`."""
    timestamp: datetime
    """When the observation was made, in the station's clock (UTC for firmware 2.x)."""
    temperature_c: float | None = None
    """Air temperature in degrees Celsius."""
    humidity: float | None = None
    wind_speed_mps: float | None = None

    @property
    def temperature_f(self) -> float | None:
        """Air temperature in degrees Fahrenheit, or `None` when it was not measured."""
        if self.temperature_c is None:
            return None
        return celsius_to_fahrenheit(self.temperature_c)

    @property
    def is_freezing(self) -> bool:
        return self.temperature_c is not None and self.temperature_c <= 0

    def feels_like(self) -> float | None:
        """Estimate the apparent temperature.

        Uses the wind chill in cold, windy weather and the heat index in hot,
        humid weather; otherwise the air temperature itself.

        Returns:
            The apparent temperature in degrees Celsius, or `None` when the air
                temperature was not measured.
        """
        if self.temperature_c is None:
            return None
        if self.temperature_c <= 10 and self.wind_speed_mps is not None:
            return wind_chill(self.temperature_c, self.wind_speed_mps)
        if self.humidity is not None:
            return heat_index(self.temperature_c, self.humidity)
        return self.temperature_c

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["timestamp"] = self.timestamp.isoformat()
        return data


def _parse_float(raw: str, field: str, line_number: int | None) -> float | None:
    if raw in _MISSING:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ParseError(f"{field} is not a number: {raw!r}", line_number) from None


def _parse_timestamp(raw: str, line_number: int | None) -> datetime:
    # Python 3.10's fromisoformat does not accept a trailing "Z".
    text = raw[:-1] + "+00:00" if raw.endswith("Z") else raw
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ParseError(f"timestamp is not ISO 8601: {raw!r}", line_number) from None


def parse_line(line: str, *, delimiter: str = DEFAULT_DELIMITER, line_number: int | None = None) -> Reading:
    """Parse one line of station data.

    Args:
        line: The raw line, with fields in [`FIELD_ORDER`][weatherkit.readings.FIELD_ORDER].
        delimiter: The character separating fields.
        line_number: Position of the line in its file, only used in error messages.

    Returns:
        The parsed reading.

    Raises:
        ParseError: If the line has the wrong number of fields, an empty station
            identifier, a malformed timestamp or number, or a humidity outside 0-100 %.

    Examples:
        >>> parse_line("KSEA,2024-01-05T12:00:00Z,4.5,NA,3.2").humidity is None
        True
    """
    fields = [field.strip() for field in line.split(delimiter)]
    if len(fields) != len(FIELD_ORDER):
        raise ParseError(f"expected {len(FIELD_ORDER)} fields, got {len(fields)}", line_number)
    station_id, raw_timestamp, raw_temperature, raw_humidity, raw_wind = fields
    if not station_id:
        raise ParseError("empty station identifier", line_number)
    humidity = _parse_float(raw_humidity, "humidity", line_number)
    if humidity is not None and not 0 <= humidity <= 100:
        raise ParseError(f"humidity out of range: {humidity}", line_number)
    return Reading(
        station_id=station_id,
        timestamp=_parse_timestamp(raw_timestamp, line_number),
        temperature_c=_parse_float(raw_temperature, "temperature_c", line_number),
        humidity=humidity,
        wind_speed_mps=_parse_float(raw_wind, "wind_speed_mps", line_number),
    )


def iter_readings(lines: Iterable[str], *, skip_invalid: bool = False) -> Iterator[Reading]:
    """Parse readings lazily from an iterable of lines, such as an open file.

    Blank lines, `#` comments and a header line starting with `station_id` are ignored.

    Args:
        lines: The lines to parse.
        skip_invalid: Drop lines that cannot be parsed instead of raising.

    Yields:
        One reading per data line, in input order.

    Raises:
        ParseError: If a line cannot be parsed and `skip_invalid` is false.
    """
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith(FIELD_ORDER[0]):
            continue
        try:
            yield parse_line(stripped, line_number=number)
        except ParseError:
            if not skip_invalid:
                raise


def parse_csv(text: str, *, skip_invalid: bool = False) -> list[Reading]:
    """Parse a whole comma-separated document of readings.

    Args:
        text: The document, one reading per line.
        skip_invalid: Drop lines that cannot be parsed instead of raising.

    Returns:
        The readings, in document order.

    Raises:
        ParseError: If a line cannot be parsed and `skip_invalid` is false.
    """
    return list(iter_readings(text.splitlines(), skip_invalid=skip_invalid))


def filter_by_station(readings, station_id):
    return [reading for reading in readings if reading.station_id == station_id]
