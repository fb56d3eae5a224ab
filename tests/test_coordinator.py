"""The poll: timeouts, hung and misbehaving players, following the topology, the beat."""

import asyncio
from datetime import timedelta
import logging
import threading
import time
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sonos_troubleshooter.coordinator import MIN_POLL_GAP
from custom_components.sonos_troubleshooter.sonos_health.player_client import IN_FLIGHT
from sonos_emulator import Connections, Emulator, Fault
from tests.helpers import poll, state


async def test_hung_player_raises_1001_without_delaying_the_poll(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    household.household.set_fault("Living Room", Fault.HANG)
    started = time.monotonic()
    await poll(hass, setup_entry, 2)
    # Two polls, each bounded by one probe timeout (0.5 s here) plus the topology fallback.
    assert time.monotonic() - started < 4
    assert state(hass, "sensor.living_room_error_code") == "1001"
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "binary_sensor.living_room_network_connectivity") == "off"
    # The next poll starts one interval after this one started: the timeout is not added on.
    coordinator = setup_entry.runtime_data.coordinator
    waited_out = coordinator.interval - coordinator.update_interval
    assert timedelta(seconds=0.5) <= waited_out < timedelta(seconds=4)


async def test_stuck_player_gets_no_second_exchange(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """A player whose exchange has not ended (past its deadline) is not asked again.

    Each poll counts it as not answering (a timeout), so the usual rules give 1001 at the
    second poll; it is asked again once the exchange under way has ended.
    """
    living_room = household.household.player("Living Room")
    coordinator = setup_entry.runtime_data.coordinator
    loop = asyncio.get_running_loop()
    stuck = await IN_FLIGHT.claim(living_room.ip, loop.time())  # stands for a stuck exchange
    requests = living_room.request_count
    try:
        await poll(hass, setup_entry)
        assert coordinator.data.players[living_room.uid].failure == "timeout"
        assert state(hass, "sensor.living_room_error_code") == "ok"  # one miss is not 1001
        await poll(hass, setup_entry)
        assert state(hass, "sensor.living_room_error_code") == "1001"
        assert state(hass, "sensor.kitchen_error_code") == "ok"
        assert living_room.request_count == requests  # no probe, topology or description
    finally:
        IN_FLIGHT.release(living_room.ip, stuck)
    await poll(hass, setup_entry)
    assert living_room.request_count > requests
    assert state(hass, "sensor.living_room_error_code") == "ok"


@pytest.mark.parametrize(
    ("fault", "failure", "code"),
    [
        (Fault.DRIP, "timeout", "1001"),
        (Fault.SLOW_ACCEPT, "timeout", "1001"),
        (Fault.ENDLESS_CHUNKED, "invalid_answer", "ok"),  # it answers: on the network
        (Fault.GZIP_BOMB, "invalid_answer", "ok"),
    ],
)
async def test_hostile_player_costs_a_poll_one_timeout_and_no_thread(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    fault: Fault,
    failure: str,
    code: str,
) -> None:
    """Whatever answers at a player's address, a poll ends within its timeout (0.5 s here)."""
    household.household.set_fault("Kitchen", fault)
    coordinator = setup_entry.runtime_data.coordinator
    threads = threading.active_count()
    for _ in range(2):
        started = time.monotonic()
        await coordinator.async_refresh()
        assert time.monotonic() - started < 0.5 + 0.3
    await hass.async_block_till_done()
    kitchen = household.household.player("Kitchen")
    assert coordinator.data.players[kitchen.uid].failure == failure
    assert state(hass, "sensor.kitchen_error_code") == code
    assert state(hass, "sensor.living_room_error_code") == "ok"
    assert threading.active_count() <= threads  # no executor thread was needed
    assert not IN_FLIGHT.busy(kitchen.ip)


async def test_poll_ends_within_one_timeout_when_a_moved_player_and_the_source_hang(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """The player last asked for the topology hangs, and so does one that moved meanwhile.

    Another player tells the topology, and the moved one is asked at its new address, all
    within the one probe timeout of the poll.
    """
    timeout = 1.0
    household.household.set_fault("Living Room", Fault.HANG)  # the topology source so far
    kitchen = household.household.move("Kitchen")
    household.household.set_fault("Kitchen", Fault.HANG)
    with patch("custom_components.sonos_troubleshooter.coordinator.PROBE_TIMEOUT", timeout):
        started = time.monotonic()
        await setup_entry.runtime_data.coordinator.async_refresh()
        took = time.monotonic() - started
    await hass.async_block_till_done()
    assert 0.9 * timeout < took < 1.5 * timeout
    player = setup_entry.runtime_data.coordinator.data.players[kitchen.uid]
    assert (player.ip, player.failure) == (kitchen.ip, "timeout")  # asked where it is now


async def test_polls_keep_a_minimum_gap_when_a_poll_takes_the_whole_interval(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    coordinator = setup_entry.runtime_data.coordinator
    coordinator._keep_polls_on_the_beat(coordinator.interval.total_seconds() + 5)
    assert coordinator.update_interval == MIN_POLL_GAP


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault.JUNK, "invalid_answer"),
        (Fault.HTTP_500, "invalid_answer"),
        (Fault.XML_BOMB, "invalid_answer"),
        (Fault.HUGE, "invalid_answer"),
        (Fault.WRONG_TYPE, "invalid_answer"),
    ],
)
async def test_player_answering_badly_is_on_the_network(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    fault: Fault,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Junk and hostile answers: the player reached the network, nothing crashes.

    A refused answer (HTTP 403, UPnP off) has its own card: test_issues.py.
    """
    household.household.set_fault("Kitchen", fault)
    caplog.set_level(logging.DEBUG, logger="custom_components.sonos_troubleshooter")
    await poll(hass, setup_entry, 3)
    assert setup_entry.state is ConfigEntryState.LOADED
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "on"
    assert state(hass, "sensor.living_room_error_code") == "ok"
    assert not ir.async_get(hass).issues
    kitchen = household.household.player("Kitchen").ip
    assert f"Player at {kitchen} did not answer properly: {reason}" in caplog.text


@pytest.mark.parametrize("connections", [Connections.CLOSES_SILENTLY, Connections.DROPS_IDLE])
async def test_polls_back_to_back_never_miss_players_that_close_connections_silently(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    household: Emulator,
    cloud_dns: None,
    connections: Connections,
) -> None:
    """Every player closes each connection after its answer without saying so (legal).

    Setup reads every description; each poll asks the source player for the topology and
    every player for its volume, the source twice back to back. Over a pooling session the
    second call to a player went into the socket it had closed: a miss of a healthy player.
    """
    household.household.set_connections(connections)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = config_entry.runtime_data.coordinator
    for _ in range(5):
        await poll(hass, config_entry)
        assert {player.failure for player in coordinator.data.players.values()} == {None}
    assert [player.link.missed for player in coordinator.data.players.values()] == [0, 0, 0]
    assert not ir.async_get(hass).issues
    for player in household.household:
        assert player.request_count >= 6
        assert player.connection_count == player.request_count  # each exchange its own


async def test_sleeping_portable_is_not_an_error(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    household.household.sleep("Roam")
    await poll(hass, setup_entry, 3)
    assert state(hass, "sensor.roam_error_code") == "ok"
    assert state(hass, "binary_sensor.roam_network_connectivity") == "off"
    assert not ir.async_get(hass).issues


async def test_player_that_moves_is_followed(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.move("Kitchen")
    await poll(hass, setup_entry, 2)
    assert state(hass, "sensor.kitchen_ip_address") == kitchen.ip
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "on"


async def test_new_player_appears_without_reload(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    household.household.add_player("Office", model_name="Sonos Era 100")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.office_error_code") == "ok"
    office = er.async_get(hass).async_get("sensor.office_model")
    assert office is not None  # repeats the device page, so disabled until the user wants it
    assert office.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_disabled_entry_and_disabled_polling_stop_probing(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.player("Kitchen")

    async def requests_during_three_intervals() -> int:
        before = kitchen.request_count
        for _ in range(3):
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11), fire_all=True)
            # The timer's poll is a background task, its exchanges no executor jobs.
            await hass.async_block_till_done(wait_background_tasks=True)
        return kitchen.request_count - before

    assert await requests_during_three_intervals() > 0  # the timer polls while enabled

    # As the UI does (config_entries/update): the entry is reloaded when the option changes;
    # without it, the refresh HA scheduled before the change would still fire once.
    hass.config_entries.async_update_entry(setup_entry, pref_disable_polling=True)
    assert await hass.config_entries.async_reload(setup_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await requests_during_three_intervals() == 0

    await hass.config_entries.async_set_disabled_by(setup_entry.entry_id, ConfigEntryDisabler.USER)
    await hass.async_block_till_done()
    assert setup_entry.state is ConfigEntryState.NOT_LOADED
    assert await requests_during_three_intervals() == 0
