"""Checking the Sonos cloud from Home Assistant's side: names, connections, the status page.

Pure asyncio and aiohttp, no Home Assistant imports. Host names go through `resolve_host`
(the system resolver); tests put a loopback stand-in there, since DNS is the internet. Every
check ends within its time limit, whatever answers (the task is cancelled, the socket closed),
and the status page's answer is capped as the players' are (`bounded_http`).
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
import ipaddress
import json
import socket

import aiohttp

from .bounded_http import REQUEST_HEADERS, RefusedAnswerError, read_capped
from .error_rules import CloudObservation

type Resolver = Callable[[str], Awaitable[list[str]]]

MAX_STATUS_BODY = 256 * 1024  # bytes; the real status.json is about 1 kB


async def resolve_host(host: str) -> list[str]:
    """Resolve `host` with the system resolver, as the HA host (and its router) see it."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_target(target: str) -> tuple[str, int]:
    """Split `host:port` (IPv6 as `[addr]:port`); raise ValueError when it is not one."""
    host, separator, port_text = target.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"not a host:port target: {target!r}")
    if any(char.isspace() or char in "/@?#" for char in host):
        raise ValueError(f"not a host name: {host!r}")
    return host, int(port_text)


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetResult:
    """What happened when one `host:port` was tried."""

    target: str
    resolved: bool
    connected: bool
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusResult:
    """The Sonos status page's overall indicator, or why it could not be read."""

    indicator: str | None = None
    description: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudReport:
    """One cloud check: every cloud and reference target, and the status page."""

    cloud: tuple[TargetResult, ...]
    reference: tuple[TargetResult, ...]
    status: StatusResult

    @property
    def observation(self) -> CloudObservation:
        """Reduce the report to the facts the diagnosis uses."""
        return CloudObservation(
            names_resolved=all(result.resolved for result in self.cloud),
            cloud_connected=all(result.connected for result in self.cloud),
            # With no reference configured, "the internet is down" cannot be told apart.
            reference_connected=not self.reference
            or any(result.connected for result in self.reference),
            status_indicator=self.status.indicator,
        )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def check_target(target: str, resolve: Resolver, time_limit: float) -> TargetResult:
    """Resolve `target`'s host, then open (and close) a TCP connection to it.

    Both share `time_limit`: a slow answer from DNS leaves the connection the time left.
    """
    host, port = parse_target(target)
    deadline = asyncio.get_running_loop().time() + time_limit
    try:
        async with asyncio.timeout_at(deadline):
            addresses = [host] if _is_ip(host) else await resolve(host)
    except (OSError, TimeoutError) as error:
        return TargetResult(target=target, resolved=False, connected=False, error=_why(error))
    if not addresses:
        return TargetResult(target=target, resolved=False, connected=False, error="no address")
    try:
        async with asyncio.timeout_at(deadline):
            _, writer = await asyncio.open_connection(addresses[0], port)
            writer.close()
            await writer.wait_closed()
    except (OSError, TimeoutError) as error:
        return TargetResult(target=target, resolved=True, connected=False, error=_why(error))
    return TargetResult(target=target, resolved=True, connected=True)


def _why(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    return f"{type(error).__name__}: {error}"


async def fetch_status(session: aiohttp.ClientSession, url: str, time_limit: float) -> StatusResult:
    """Read `status.indicator` from a hosted status page's /api/v2/status.json.

    Bounded as the players are: `time_limit` for the whole exchange (connect, headers and
    body; the socket is closed at the end), and at most MAX_STATUS_BODY bytes held, after
    decompression.
    """
    try:
        async with asyncio.timeout(time_limit):
            response = await session.get(
                url, allow_redirects=False, headers=REQUEST_HEADERS, auto_decompress=False
            )
            try:
                response.raise_for_status()
                body = await read_capped(response, MAX_STATUS_BODY)
            finally:
                response.close()
        status = json.loads(body)["status"]
        indicator, description = status["indicator"], status.get("description")
    except RefusedAnswerError as error:
        return StatusResult(error=f"refused: {error}")
    except RecursionError:  # JSON nested deeper than the parser goes
        return StatusResult(error="refused: nested too deep")
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as error:
        return StatusResult(error=_why(error))
    if not isinstance(indicator, str):
        return StatusResult(error="no indicator")
    return StatusResult(
        indicator=indicator, description=description if isinstance(description, str) else None
    )


async def check_cloud(
    session: aiohttp.ClientSession,
    resolve: Resolver,
    *,
    cloud_targets: Sequence[str],
    reference_targets: Sequence[str],
    status_url: str,
    time_limit: float,
) -> CloudReport:
    """Try every target and the status page at once; ends within about `time_limit`."""
    cloud, reference, status = await asyncio.gather(
        asyncio.gather(*(check_target(target, resolve, time_limit) for target in cloud_targets)),
        asyncio.gather(
            *(check_target(target, resolve, time_limit) for target in reference_targets)
        ),
        fetch_status(session, status_url, time_limit),
    )
    return CloudReport(cloud=tuple(cloud), reference=tuple(reference), status=status)
