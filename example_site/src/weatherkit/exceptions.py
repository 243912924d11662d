"""Exceptions raised by weatherkit.

Every error the package raises on purpose derives from
[`WeatherKitError`][weatherkit.exceptions.WeatherKitError], so callers can catch
one class to handle them all.
"""

from __future__ import annotations


class WeatherKitError(Exception):
    """Base class for every error raised on purpose by weatherkit.

    Examples:
        >>> try:
        ...     raise StationNotFoundError("XYZ")
        ... except WeatherKitError as error:
        ...     print(error)
        unknown station: 'XYZ'
    """


class ParseError(WeatherKitError, ValueError):
    """A line of station data could not be turned into a reading.

    Args:
        message: What is wrong with the line.
        line_number: 1-based number of the offending line, when it is known.
    """

    def __init__(self, message: str, line_number: int | None = None) -> None:
        self.line_number = line_number
        prefix = f"line {line_number}: " if line_number is not None else ""
        super().__init__(prefix + message)


class UnitError(WeatherKitError, ValueError):
    pass


class StationNotFoundError(WeatherKitError, LookupError):
    """No station with the requested identifier exists.

    Args:
        station_id: The identifier that was looked up.
    """

    def __init__(self, station_id: str) -> None:
        self.station_id = station_id
        super().__init__(f"unknown station: {station_id!r}")


class TransportError(WeatherKitError):
    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message if status is None else f"HTTP {status}: {message}")


class RateLimitError(TransportError):
    """TODO"""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"rate limited, retry after {retry_after:g} s", status=429)
