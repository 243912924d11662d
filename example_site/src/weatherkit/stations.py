"""Known weather stations and geographic look-ups."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from weatherkit.exceptions import StationNotFoundError

EARTH_RADIUS_KM: float = 6371.0088
"""Mean radius of the Earth (IUGG), used for great-circle distances."""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Compute the great-circle distance between two points.

    Args:
        lat1: Latitude of the first point, in decimal degrees.
        lon1: Longitude of the first point, in decimal degrees.
        lat2: Latitude of the second point, in decimal degrees.
        lon2: Longitude of the second point, in decimal degrees.

    Returns:
        The distance in kilometres, along the surface of a spherical Earth.

    Examples:
        >>> round(haversine_km(47.45, -122.31, 45.59, -122.60))
        208
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Station:
    """A weather station at a fixed location.

    Raises:
        ValueError: If the latitude or longitude is out of range.
    """

    station_id: str
    name: str
    latitude: float
    """Latitude in decimal degrees, positive north of the equator."""
    longitude: float
    """Longitude in decimal degrees, positive east of Greenwich."""

    def __post_init__(self) -> None:
        if not -90 <= self.latitude <= 90:
            raise ValueError(f"latitude out of range: {self.latitude}")
        if not -180 <= self.longitude <= 180:
            raise ValueError(f"longitude out of range: {self.longitude}")

    @property
    def coordinates(self) -> tuple[float, float]:
        """The `(latitude, longitude)` pair, in decimal degrees."""
        return (self.latitude, self.longitude)

    def distance_to(self, latitude: float, longitude: float) -> float:
        return haversine_km(self.latitude, self.longitude, latitude, longitude)


class StationRegistry:
    def __init__(self, stations: Iterable[Station] = ()) -> None:
        self._stations: dict[str, Station] = {}
        for station in stations:
            self.add(station)

    def __len__(self) -> int:
        return len(self._stations)

    def add(self, station: Station) -> None:
        """Register a station.

        Args:
            station: The station to add.

        Raises:
            ValueError: If a station with the same identifier is already registered.
        """
        key = station.station_id.upper()
        if key in self._stations:
            raise ValueError(f"duplicate station identifier: {station.station_id!r}")
        self._stations[key] = station

    def get(self, station_id: str) -> Station:
        """Find a station by identifier.

        Args:
            station_id: The identifier, matched case-insensitively.

        Returns:
            The registered station.

        Raises:
            StationNotFoundError: If no station has this identifier.
        """
        try:
            return self._stations[station_id.upper()]
        except KeyError:
            raise StationNotFoundError(station_id) from None

    def nearest(self, latitude: float, longitude: float) -> Station:
        if not self._stations:
            raise StationNotFoundError(f"<nearest to {latitude}, {longitude}>")
        return min(self._stations.values(), key=lambda station: station.distance_to(latitude, longitude))


DEMO_STATIONS = (
    Station("KSEA", "Seattle-Tacoma International Airport", 47.4447, -122.3136),
    Station("KPDX", "Portland International Airport", 45.5958, -122.6093),
    Station("KBOI", "Boise Air Terminal", 43.5644, -116.2228),
)
