"""The players' session: a connection per exchange, closed with Home Assistant.

Why players are not asked over Home Assistant's shared session, and what the session of the
integration's own does instead (the transport's other tests, without Home Assistant, are in
tests/sonos_health/test_player_client.py).
"""

import asyncio

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
import soco

from custom_components.sonos_troubleshooter.player_session import async_get_player_session
from custom_components.sonos_troubleshooter.sonos_health.player_client import (
    MASTER_VOLUME,
    fetch_household_id,
    fetch_player_info,
    fetch_topology,
    ping,
)
from sonos_emulator import Connections, Emulator

# --- connections: each exchange its own, whatever the player does with them once done ----
# Servers that close the connection after an answer without saying so (RFC 9112 9.6 makes
# `Connection: close` in the answer a SHOULD).
SILENT_CLOSERS = [Connections.CLOSES_SILENTLY, Connections.DROPS_IDLE]


@pytest.mark.parametrize("connections", SILENT_CLOSERS)
async def test_a_pool_hands_the_next_post_a_connection_the_player_closed(
    hass: HomeAssistant, emulator: Emulator, connections: Connections
) -> None:
    """Why players are not asked over Home Assistant's shared session: it pools.

    What the transport did before its exchanges owned their connections. The player honours
    our `Connection: close` without echoing it; aiohttp goes by the answer alone, keeps the
    socket, and hands it to the next request, which finds it closed. It retries only
    idempotent methods, and control calls are POSTs: a healthy player missed every other
    call. Should aiohttp ever go by the request's `close` too, this fails, and the session
    of our own (`player_client.new_session`) may be reconsidered.
    """
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_connections(connections)
    shared = async_get_clientsession(hass)
    service = soco.SoCo(player.ip).renderingControl
    headers, envelope = service.build_command("GetVolume", MASTER_VOLUME)

    async def get_volume() -> None:
        async with shared.post(
            f"http://{player.ip}:1400{service.control_url}",
            headers={**headers, "Connection": "close"},
            data=envelope.encode(),
        ) as response:
            assert response.status == 200
            assert "Connection" not in response.headers
            await response.read()

    await get_volume()
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await get_volume()
    assert player.request_count == 1  # the second went into the closed socket, unheard


@pytest.mark.parametrize("connections", list(Connections))
async def test_back_to_back_calls_each_own_a_connection_and_never_miss(
    hass: HomeAssistant, emulator: Emulator, connections: Connections
) -> None:
    """Eight pings, then every call kind, each sent the moment the one before ended."""
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_connections(connections)
    session = async_get_player_session(hass)  # the config flow's, coordinator's and watcher's
    assert session is async_get_player_session(hass)
    for _ in range(8):
        await ping(session, player.ip, 1)
    for call in (fetch_player_info, fetch_household_id, fetch_topology, ping, fetch_player_info):
        await call(session, player.ip, 1)
    assert player.request_count == 13
    assert player.connection_count == 13
    # A player that keeps an idle connection open past a while gets no reused one either.
    if connections is Connections.DROPS_IDLE:
        await asyncio.sleep(0.3)
        await ping(session, player.ip, 1)
        assert player.connection_count == 14


async def test_player_session_closes_with_home_assistant(hass: HomeAssistant) -> None:
    session = async_get_player_session(hass)
    assert not session.closed
    await hass.async_stop()
    assert session.closed
