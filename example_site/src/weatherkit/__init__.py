"""weatherkit: parse, convert and summarize weather-station data.

The most used names are importable from the package itself:

```python
from weatherkit import StationClient, parse_csv, summarize
```
"""

from __future__ import annotations

from weatherkit.client import DEFAULT_BASE_URL, StationClient, fixture_transport
from weatherkit.exceptions import (
    ParseError,
    RateLimitError,
    StationNotFoundError,
    TransportError,
    UnitError,
    WeatherKitError,
)
from weatherkit.readings import Reading, iter_readings, parse_csv, parse_line
from weatherkit.stations import Station, StationRegistry, haversine_km
from weatherkit.stats import Summary, mean, median, stddev, summarize
from weatherkit.units import SpeedUnit, TemperatureUnit, convert_speed, convert_temperature

__version__ = "0.3.0"

__all__ = [
    "DEFAULT_BASE_URL",
    "ParseError",
    "RateLimitError",
    "Reading",
    "SpeedUnit",
    "Station",
    "StationClient",
    "StationNotFoundError",
    "StationRegistry",
    "Summary",
    "TemperatureUnit",
    "TransportError",
    "UnitError",
    "WeatherKitError",
    "convert_speed",
    "convert_temperature",
    "fixture_transport",
    "haversine_km",
    "iter_readings",
    "mean",
    "median",
    "parse_csv",
    "parse_line",
    "stddev",
    "summarize",
]
