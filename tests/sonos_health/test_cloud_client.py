"""The cloud check against loopback stand-ins for the Sonos cloud, DNS and status page."""

import asyncio
from collections.abc import AsyncIterator
import socket
import time

import aiohttp
import pytest

from custom_components.sonos_troubleshooter.sonos_health.cloud_client import (
    check_cloud,
    check_target,
    fetch_status,
    parse_target,
    resolve_host,
)
from sonos_emulator import DnsFailure, Emulator, StatusFault


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def check(emulator: Emulator, session: aiohttp.ClientSession, time_limit: float = 1):
    return await check_cloud(
        session,
        emulator.cloud.resolver.resolve,
        cloud_targets=emulator.cloud.cloud_targets,
        reference_targets=emulator.cloud.reference_targets,
        status_url=emulator.cloud.status_page.url,
        time_limit=time_limit,
    )


async def test_healthy_cloud(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    report = await check(emulator, session)
    assert report.observation.ok
    assert report.observation.reference_connected
    assert report.observation.status_indicator == "none"
    assert report.status.description == "All Systems Operational"
    assert [result.connected for result in report.cloud] == [True, True]


async def test_ports_blocked(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.cloud.set_cloud_reachable(False)
    observation = (await check(emulator, session)).observation
    assert (observation.names_resolved, observation.cloud_connected) == (True, False)
    assert observation.reference_connected
    assert not observation.ok


async def test_internet_down(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.cloud.set_internet(False)
    emulator.cloud.status_page.set_fault(StatusFault.OFFLINE)
    report = await check(emulator, session)
    assert not report.observation.reference_connected
    assert report.observation.status_indicator is None
    assert report.status.error is not None
    assert "ConnectionRefused" in str(report.cloud[0].error)


@pytest.mark.parametrize("failure", [DnsFailure.NXDOMAIN, DnsFailure.SERVFAIL, DnsFailure.TIMEOUT])
async def test_dns_failures(
    emulator: Emulator, session: aiohttp.ClientSession, failure: DnsFailure
) -> None:
    emulator.cloud.set_dns(failure)
    report = await check(emulator, session, time_limit=0.3)
    assert not report.observation.names_resolved
    assert not report.cloud[0].connected
    expected = "timeout" if failure is DnsFailure.TIMEOUT else "gaierror"
    assert expected in str(report.cloud[0].error)


async def test_outage_indicator(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.cloud.status_page.set_status("major", "Music services degraded")
    status = await fetch_status(session, emulator.cloud.status_page.url, 1)
    assert (status.indicator, status.description) == ("major", "Music services degraded")


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (StatusFault.HANG, "timeout"),
        (StatusFault.JUNK, "JSONDecodeError"),
        (StatusFault.HTTP_500, "ClientResponseError"),
        (StatusFault.OFFLINE, "ClientConnectorError"),
    ],
)
async def test_status_page_failures(
    emulator: Emulator, session: aiohttp.ClientSession, fault: StatusFault, error: str
) -> None:
    emulator.cloud.status_page.set_fault(fault)
    status = await fetch_status(session, emulator.cloud.status_page.url, 0.3)
    assert status.indicator is None
    assert error in str(status.error)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (StatusFault.DRIP, "timeout"),
        (StatusFault.ENDLESS, "refused: answer larger than the cap"),
        (StatusFault.GZIP_BOMB, "refused: gzip answer expands past the cap"),
        (StatusFault.DEEP_NESTING, "refused: nested too deep"),
    ],
)
async def test_hostile_status_page_is_bounded(
    emulator: Emulator, session: aiohttp.ClientSession, fault: StatusFault, error: str
) -> None:
    """The whole exchange ends within the time limit, and no answer is held past the cap."""
    emulator.cloud.status_page.set_fault(fault)
    started = time.monotonic()
    status = await fetch_status(session, emulator.cloud.status_page.url, 0.5)
    assert time.monotonic() - started < 0.5 + 0.25
    assert status.indicator is None
    assert status.error == error
    emulator.cloud.heal()
    assert (await fetch_status(session, emulator.cloud.status_page.url, 1)).indicator == "none"


async def test_status_page_without_indicator(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    url = emulator.cloud.status_page.url.replace("status.json", "incidents/unresolved.json")
    assert (await fetch_status(session, url, 1)).error == "KeyError: 'status'"
    emulator.cloud.status_page.indicator = 3  # type: ignore[assignment]
    assert (await fetch_status(session, emulator.cloud.status_page.url, 1)).error == "no indicator"


async def test_ip_literal_targets_skip_dns(emulator: Emulator) -> None:
    endpoint = emulator.cloud.endpoints["api.sonos.com"]
    emulator.cloud.set_dns(DnsFailure.SERVFAIL)
    result = await check_target(
        f"{endpoint.ip}:{endpoint.port}", emulator.cloud.resolver.resolve, 1
    )
    assert (result.resolved, result.connected) == (True, True)


async def test_slow_dns_and_a_hung_connection_share_one_time_limit() -> None:
    """A name that takes most of the limit to resolve leaves the connection only the rest."""
    with socket.socket() as full:
        full.bind(("127.0.0.250", 0))
        full.listen(0)  # never accepted: once its queue is full, new connections hang
        port = full.getsockname()[1]
        queued = []
        for _ in range(2):
            waiting = socket.socket()
            waiting.setblocking(False)
            waiting.connect_ex(("127.0.0.250", port))
            queued.append(waiting)

        async def slow(host: str) -> list[str]:
            await asyncio.sleep(0.6)
            return ["127.0.0.250"]

        started = time.monotonic()
        result = await check_target(f"api.sonos.com:{port}", slow, 1.0)
        took = time.monotonic() - started
        for waiting in queued:
            waiting.close()
    assert (result.resolved, result.connected, result.error) == (True, False, "timeout")
    assert 0.9 < took < 1.3


async def test_resolver_returning_nothing() -> None:
    async def empty(host: str) -> list[str]:
        return []

    result = await check_target("api.sonos.com:443", empty, 1)
    assert (result.resolved, result.error) == (False, "no address")


async def test_system_resolver() -> None:
    assert "127.0.0.1" in await resolve_host("localhost")


def test_no_reference_targets_means_internet_assumed() -> None:
    from custom_components.sonos_troubleshooter.sonos_health.cloud_client import (
        CloudReport,
        StatusResult,
    )

    report = CloudReport(cloud=(), reference=(), status=StatusResult())
    assert report.observation.reference_connected


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("api.sonos.com:443", ("api.sonos.com", 443)),
        (" api.sonos.com:80 ", ("api.sonos.com", 80)),
        ("[2001:db8::1]:443", ("2001:db8::1", 443)),
        ("10.0.0.1:1400", ("10.0.0.1", 1400)),
    ],
)
def test_parse_target(text: str, parsed: tuple[str, int]) -> None:
    assert parse_target(text) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "api.sonos.com",
        ":443",
        "api.sonos.com:0",
        "api.sonos.com:65536",
        "a b:80",
        "x:http",
        "http://x/:80",
        "user@x:80",
    ],
)
def test_parse_target_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a host"):
        parse_target(text)
