"""A small client for a station-data HTTP service.

The network layer is a plain callable (a *transport*), so the client can run
against the real service through `urllib` or offline against fixtures.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

from weatherkit.exceptions import RateLimitError, StationNotFoundError, TransportError
from weatherkit.readings import Reading, parse_csv
from weatherkit.stats import Summary, summarize_readings

DEFAULT_BASE_URL: str = "https://api.weatherkit.example/v2"
"""Root URL of the public station-data service."""

DEFAULT_TIMEOUT = 10.0

# FAKE credential for the offline demo fixtures below. It is not a real GitHub token,
# grants access to nothing, and only exists so the fixture transport can check auth.
DEMO_TOKEN = "ghp_EXAMPLEfakeTokenNotReal0000000000000"

Transport = Callable[[str, Mapping[str, str], float], tuple[int, str]]

_DEMO_CSV = """\
station_id,timestamp,temperature_c,humidity,wind_speed_mps
KSEA,2024-01-05T06:00:00Z,-1.5,88,2.1
KSEA,2024-01-05T09:00:00Z,0.4,85,3.4
KSEA,2024-01-05T12:00:00Z,3.9,74,6.2
KSEA,2024-01-05T15:00:00Z,5.2,70,NA
KSEA,2024-01-05T18:00:00Z,2.8,79,4.0
KPDX,2024-01-05T06:00:00Z,-3.0,90,1.0
KPDX,2024-01-05T12:00:00Z,oops,81,2.0
KPDX,2024-01-05T18:00:00Z,1.2,83,1.5
"""


def _urllib_transport(url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", errors="replace")
    except urllib.error.URLError as error:
        raise TransportError(str(error.reason)) from error


def fixture_transport(csv_text: str = _DEMO_CSV, token: str = DEMO_TOKEN) -> Transport:
    lines_by_station: dict[str, list[str]] = {}
    for line in csv_text.splitlines()[1:]:
        lines_by_station.setdefault(line.split(",", 1)[0], []).append(line)

    def transport(url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, str]:
        if headers.get("Authorization") != f"Bearer {token}":
            return 401, "missing or invalid token"
        parts = urlsplit(url)
        match = re.search(r"/stations/([^/]+)/(latest|history)$", parts.path)
        if match is None:
            return 404, "no such endpoint"
        lines = lines_by_station.get(match.group(1))
        if lines is None:
            return 404, "no such station"
        if match.group(2) == "latest":
            return 200, lines[-1]
        limit = int(parse_qs(parts.query).get("limit", ["100"])[0])
        return 200, "\n".join(lines[-limit:])

    return transport


class StationClient:
    """Read observations from a station-data service.

    Args:
        base_url: Root URL of the service, without a trailing slash.
        token: API token, sent as a bearer token; most deployments reject anonymous requests.
        transport: Callable performing a GET request and returning `(status, body)`;
            defaults to one based on `urllib`.
        timeout: Seconds to wait for an answer, passed on to the transport.

    Examples:
        >>> client = StationClient(token=DEMO_TOKEN, transport=fixture_transport())
        >>> client.latest("KSEA").temperature_c
        2.8
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        token: str | None = None,
        transport: Transport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._transport = transport or _urllib_transport
        self._timeout = timeout

    def __repr__(self) -> str:
        # Never include the token itself.
        return f"{type(self).__name__}(base_url={self._base_url!r}, authenticated={self.authenticated})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def authenticated(self) -> bool:
        """Whether requests carry an API token."""
        return self._token is not None

    def _request(self, station_id: str, endpoint: str) -> str:
        headers = {"Accept": "text/csv", "User-Agent": "weatherkit"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        url = f"{self._base_url}/stations/{quote(station_id, safe='')}/{endpoint}"
        status, body = self._transport(url, headers, self._timeout)
        if status == 404:
            raise StationNotFoundError(station_id)
        if status == 429:
            raise RateLimitError(float(body or 1))
        if status >= 400:
            raise TransportError(body, status=status)
        return body

    def latest(self, station_id: str) -> Reading:
        """Fetch the most recent reading of a station.

        Args:
            station_id: Identifier of the station, e.g. `"KSEA"`.

        Returns:
            The newest reading the service holds for this station.

        Raises:
            StationNotFoundError: If the service knows no such station.
            RateLimitError: If the service asks the client to slow down.
            TransportError: If the request fails or the answer is empty.
        """
        readings = parse_csv(self._request(station_id, "latest"))
        if not readings:
            raise TransportError(f"empty answer for station {station_id!r}")
        return readings[-1]

    def history(self, station_id: str, limit=100) -> list[Reading]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        return parse_csv(self._request(station_id, f"history?limit={limit}"), skip_invalid=True)

    def daily_summary(self, station_id: str, field: str = "temperature_c") -> Summary:
        readings = self.history(station_id, limit=500)
        if not readings:
            raise TransportError(f"no history for station {station_id!r}")
        since = readings[-1].timestamp - timedelta(days=1)
        return summarize_readings((reading for reading in readings if reading.timestamp > since), field)
