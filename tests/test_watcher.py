"""The watcher between polls: dropouts confirmed and cleared in seconds, expected absences quiet.

The watcher runs here (marker `watcher`) on a fast clock: checks every 0.3 s instead of 5 s,
re-checks 0.1 s apart, a silence confirmed over 0.3 s instead of 4 s (a dropout over 0.15 s
instead of 2 s), polls beginning at least 0.3 s apart instead of 4 s. The scan interval is
10 s, so every poll these tests see before it is one the watcher asked for.
"""

import asyncio
from collections.abc import Iterator
import itertools
import time
from unittest.mock import patch

import aiohttp
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter import watcher
from custom_components.sonos_troubleshooter.player_session import async_get_player_session
from custom_components.sonos_troubleshooter.sonos_health.player_client import PlayerInfo
from custom_components.sonos_troubleshooter.watcher import accepts_connection
from sonos_emulator import Connections, Emulator, Fault
from tests.helpers import WATCHER_CHECK_EVERY, poll, sped_up_watcher, state, uid, until

pytestmark = pytest.mark.watcher

CHECK_EVERY = WATCHER_CHECK_EVERY
GAP = 0.3  # at least between the starts of two polls


@pytest.fixture(autouse=True)
def fast_watch() -> Iterator[None]:
    """The watcher's clock, sped up about fifteen times."""
    with sped_up_watcher(GAP):
        yield


def polls_counted(entry: MockConfigEntry) -> list[float]:
    """Record when each poll starts from now on."""
    started: list[float] = []
    coordinator = entry.runtime_data.coordinator
    poll_once = coordinator._poll

    async def counted() -> object:
        started.append(time.monotonic())
        return await poll_once()

    patch.object(coordinator, "_poll", counted).start()
    return started


async def test_a_player_that_leaves_shows_1001_within_seconds(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """Checks miss, re-checks confirm, a poll at once raises 1001: no timer poll needed."""
    polls = polls_counted(setup_entry)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    took = await until(hass, lambda: state(hass, "sensor.kitchen_error_code") == "1001", 3)
    # At most one period to the first miss, the span of the confirmation, the poll.
    assert took < CHECK_EVERY + 0.05 + 0.3 + 0.1 + 0.5
    assert len(polls) == 1  # the one the confirmation asked for
    player = setup_entry.runtime_data.coordinator.data.players[uid(household, "Kitchen")]
    assert player.link.dropouts == 1
    assert player.link.missed >= 3
    assert state(hass, "sensor.living_room_error_code") == "ok"
    # Back: the next check answers, and a poll at once clears the error.
    household.household.heal("Kitchen")
    took = await until(hass, lambda: state(hass, "sensor.kitchen_error_code") == "ok", 3)
    assert took < 0.1 + GAP + 0.5  # a re-check, the gap after the last poll, the poll
    assert len(polls) == 2


async def test_a_player_that_accepts_but_never_answers_is_confirmed_after_one_poll(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """Connects succeed; the failed poll makes the watcher use control calls, then poll."""
    household.household.set_fault("Kitchen", Fault.HANG)
    await asyncio.sleep(3 * CHECK_EVERY)
    assert state(hass, "sensor.kitchen_error_code") == "ok"  # connects alone see nothing
    polls = polls_counted(setup_entry)
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"  # one failed poll
    took = await until(hass, lambda: state(hass, "sensor.kitchen_error_code") == "1001", 3)
    # A control call right after the poll (0.5 s timeout here), then the confirming poll.
    assert took < 0.5 + 0.1 + 0.5 + 0.5
    assert len(polls) == 2
    household.household.heal("Kitchen")
    await until(hass, lambda: state(hass, "sensor.kitchen_error_code") == "ok", 3)


@pytest.mark.parametrize("connections", [Connections.CLOSES_SILENTLY, Connections.DROPS_IDLE])
async def test_control_calls_between_polls_never_miss_players_that_close_silently(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    connections: Connections,
) -> None:
    """The watcher's calls go over the same session as the polls'.

    Kitchen hangs through a poll, so the watcher asks it right after (its description first:
    after a silence, who answers at its address is in doubt), and again until it answers;
    healed, its call answers and a poll at once clears it. Every
    player closes each connection after its answer without saying so (legal): a call the
    player answers is never a miss, however close behind another it comes.
    """
    sessions: list[aiohttp.ClientSession] = []
    real_ping, real_read = watcher.ping, watcher.fetch_player_info

    async def ping(session: aiohttp.ClientSession, ip: str, time_limit: float) -> None:
        sessions.append(session)
        await real_ping(session, ip, time_limit)

    async def read(session: aiohttp.ClientSession, ip: str, time_limit: float) -> PlayerInfo:
        sessions.append(session)
        return await real_read(session, ip, time_limit)

    household.household.set_connections(connections)
    household.household.set_fault("Kitchen", Fault.HANG)
    with patch.object(watcher, "ping", ping), patch.object(watcher, "fetch_player_info", read):
        await poll(hass, setup_entry)  # Kitchen fails: the watcher calls it from now on
        await until(hass, lambda: len(sessions) > 0, 1)
        household.household.heal("Kitchen")
        polled = setup_entry.runtime_data.coordinator
        kitchen = uid(household, "Kitchen")
        await until(hass, lambda: polled.data.players[kitchen].failure is None, 3)
        await asyncio.sleep(5 * CHECK_EVERY)
    assert {id(session) for session in sessions} == {id(async_get_player_session(hass))}
    players = polled.data.players
    assert players[kitchen].link.streak == 0
    assert [player.link.missed for key, player in players.items() if key != kitchen] == [0, 0]
    assert state(hass, "sensor.kitchen_error_code") == "ok"


async def test_expected_absence_asks_for_no_poll_and_never_alarms(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """A portable asleep is checked at the normal pace; its silence is never confirmed."""
    household.household.sleep("Roam")
    await poll(hass, setup_entry)  # the household now lists it as sleeping
    polls = polls_counted(setup_entry)
    await asyncio.sleep(8 * CHECK_EVERY)
    assert polls == []
    assert state(hass, "sensor.roam_error_code") == "ok"
    player = setup_entry.runtime_data.coordinator.data.players[uid(household, "Roam")]
    assert (player.link.missed, player.link.dropouts) == (0, 0)
    # Awake again: the next check answers and a poll at once shows it back.
    household.household.heal("Roam")
    await until(hass, lambda: state(hass, "binary_sensor.roam_network_connectivity") == "on", 3)
    assert len(polls) == 1


async def test_healthy_players_cost_connections_not_requests(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """Between polls a healthy player only accepts connections: no request, no poll."""
    kitchen = household.household.player("Kitchen")
    requests = kitchen.request_count
    polls = polls_counted(setup_entry)
    await asyncio.sleep(5 * CHECK_EVERY)
    assert kitchen.request_count == requests
    assert polls == []
    assert await accepts_connection(kitchen.ip, 0.5)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    assert not await accepts_connection(kitchen.ip, 0.5)
    household.household.set_fault("Kitchen", Fault.SLOW_ACCEPT)
    assert not await accepts_connection(kitchen.ip, 0.2)


async def test_unload_stops_the_watcher(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    def watching() -> list[asyncio.Task[object]]:
        return [
            task
            for task in asyncio.all_tasks()
            if task.get_name().startswith("sonos_troubleshooter watch") and not task.done()
        ]

    assert len(watching()) == len(household.household.players)
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    assert setup_entry.state is ConfigEntryState.NOT_LOADED
    assert watching() == []


async def test_no_watcher_while_polling_is_disabled(
    hass: HomeAssistant, config_entry: MockConfigEntry, cloud_dns: None, household: Emulator
) -> None:
    """The system option "Enable polling for changes" off stops all probing, checks included."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, pref_disable_polling=True)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await asyncio.sleep(5 * CHECK_EVERY)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert not [
        task for task in asyncio.all_tasks() if task.get_name().startswith("sonos_troubleshooter")
    ]


async def test_a_forgotten_player_is_no_longer_watched(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """A player the user deleted leaves the watcher too; should it rejoin, it is watched again."""
    kitchen = uid(household, "Kitchen")

    def watching_kitchen() -> bool:
        return any(
            task.get_name() == f"sonos_troubleshooter watch {kitchen}" and not task.done()
            for task in asyncio.all_tasks()
        )

    assert watching_kitchen()
    await setup_entry.runtime_data.coordinator.async_forget_player(kitchen)
    await until(hass, lambda: not watching_kitchen(), 3)
    await poll(hass, setup_entry)  # still in the topology: it rejoins at once
    assert watching_kitchen()


async def test_polls_keep_their_distance(hass: HomeAssistant, setup_entry: MockConfigEntry) -> None:
    """Two polls a moment apart would count one short dropout as two failed polls: 1001."""
    coordinator = setup_entry.runtime_data.coordinator
    polls = polls_counted(setup_entry)
    for _ in range(3):  # asked three times before it began: one poll
        coordinator.async_poll_now()
    await until(hass, lambda: len(polls) == 1, 3)
    coordinator.async_poll_now()  # asked once it began: another one, the gap after
    await coordinator.async_refresh()  # a guided fix's check: after the gap too
    await until(hass, lambda: len(polls) == 3, 3)
    await asyncio.sleep(GAP)
    assert len(polls) == 3
    assert min(later - earlier for earlier, later in itertools.pairwise(polls)) >= GAP - 0.01
