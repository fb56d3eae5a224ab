"""The integration end to end: real HA, real soco, the emulated household over HTTP."""

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from datetime import timedelta
import gc
import logging
from pathlib import Path
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.sonos_troubleshooter.const import CONF_HOUSEHOLD_ID, DOMAIN
from custom_components.sonos_troubleshooter.coordinator import MIN_POLL_GAP
from sonos_emulator import CloudSimulation, DnsFailure, Emulator, Fault


async def poll(hass: HomeAssistant, entry: MockConfigEntry, times: int = 1) -> None:
    """Run the coordinator's poll now, as its timer would."""
    for _ in range(times):
        await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def test_setup_creates_devices_and_entities(
    entity_registry_enabled_by_default: None,
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    assert setup_entry.state is ConfigEntryState.LOADED
    assert state(hass, "sensor.living_room_error_code") == "ok"
    assert state(hass, "sensor.roam_error_code") == "ok"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "on"
    assert state(hass, "binary_sensor.sonos_household_sonos_cloud_connectivity") == "on"
    assert state(hass, "sensor.sonos_household_diagnosis") == "ok"
    assert state(hass, "sensor.roam_wi_fi_band") == "5_ghz"
    assert state(hass, "sensor.kitchen_wi_fi_band") == "wired"
    assert (
        state(hass, "sensor.living_room_ip_address") == household.household.player("Living Room").ip
    )
    assert state(hass, "sensor.living_room_model") == "Sonos Arc"
    arc_version = household.household.player("Living Room").display_version
    assert state(hass, "sensor.living_room_software_version") == arc_version

    devices = dr.async_get(hass)
    identifier = (DOMAIN, household.household.household_id)
    household_device = devices.async_get_device_by_identifier(identifier, setup_entry.entry_id)
    assert household_device is not None
    arc = household.household.player("Living Room")
    player_device = devices.async_get_device_by_identifier((DOMAIN, arc.uid), setup_entry.entry_id)
    assert player_device is not None
    assert player_device.via_device_id == household_device.id
    assert player_device.serial_number == arc.serial
    assert player_device.model == "Sonos Arc"


async def test_player_off_raises_1001_after_two_polls_and_clears(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.OFFLINE)

    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "off"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{kitchen.uid}")

    await poll(hass, setup_entry)
    sensor = hass.states.get("sensor.kitchen_error_code")
    assert sensor is not None
    assert sensor.state == "1001"
    assert sensor.attributes["severity"] == "moderate"
    assert sensor.attributes["since"]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{kitchen.uid}")
    assert issue is not None
    assert issue.translation_key == "error_1001"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["serial"] == kitchen.serial
    assert issue.translation_placeholders["address"] == kitchen.ip
    assert state(hass, "sensor.sonos_household_diagnosis") == "player_unreachable"

    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{kitchen.uid}")


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
        (Fault.HTTP_403, "upnp_disabled"),
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
    """Junk, hostile and refused answers: the player reached the network, nothing crashes."""
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


async def test_all_players_down_is_one_card(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    for player in household.household.players:
        household.household.set_fault(player.uid, Fault.OFFLINE)
    await poll(hass, setup_entry, 2)

    sensor = hass.states.get("sensor.kitchen_error_code")
    assert sensor is not None
    assert (sensor.state, sensor.attributes["cause"]) == ("1001", "all_players_unreachable")
    issues = ir.async_get(hass).issues
    assert [issue.translation_key for issue in issues.values()] == ["error_1001_all_players"]
    (issue,) = issues.values()
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["count"] == "3"
    assert state(hass, "sensor.sonos_household_diagnosis") == "all_players_unreachable"

    household.household.heal_all()
    await poll(hass, setup_entry)
    assert not ir.async_get(hass).issues
    assert state(hass, "sensor.kitchen_error_code") == "ok"


@pytest.mark.parametrize(
    ("break_cloud", "cause"),
    [
        (lambda cloud: cloud.status_page.set_status("major"), None),
        (
            lambda cloud: (cloud.set_cloud_reachable(False), cloud.status_page.set_status("major")),
            "sonos_outage",
        ),
        (lambda cloud: cloud.set_internet(False), "internet_down"),
        (lambda cloud: cloud.set_dns(DnsFailure.SERVFAIL), "dns_failure"),
        (lambda cloud: cloud.set_cloud_reachable(False), "ports_blocked"),
    ],
)
async def test_cloud_unreachable_raises_1003_with_its_cause(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    break_cloud: Callable[[CloudSimulation], object],
    cause: str | None,
) -> None:
    break_cloud(household.cloud)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry)
    assert state(hass, "sensor.living_room_error_code") == "ok"  # once is not enough
    await poll(hass, setup_entry)

    issue_id = f"error_1003_{household.household.household_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    if cause is None:  # an incident elsewhere while the cloud answers is no error
        assert issue is None
        assert state(hass, "sensor.living_room_error_code") == "ok"
        return
    sensor = hass.states.get("sensor.living_room_error_code")
    assert sensor is not None
    assert (sensor.state, sensor.attributes["cause"], sensor.attributes["severity"]) == (
        "1003",
        cause,
        "minor",
    )
    assert state(hass, "sensor.kitchen_error_code") == "1001"  # off the network stays 1001
    assert state(hass, "binary_sensor.sonos_household_sonos_cloud_connectivity") == "off"
    assert state(hass, "sensor.sonos_household_diagnosis") == "player_unreachable"
    assert issue is not None
    assert issue.translation_key == f"error_1003_{cause}"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["players"] == "Living Room, Roam"

    household.cloud.heal()
    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.living_room_error_code") == "ok"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


EVENT_ENTITIES = (
    "event.living_room_error_events",
    "event.kitchen_error_events",
    "event.roam_error_events",
)


def fired(hass: HomeAssistant) -> dict[str, tuple[str, dict[str, Any]]]:
    """The last event of each player's event entity: when, and its type and details."""
    states = {entity_id: hass.states.get(entity_id) for entity_id in EVENT_ENTITIES}
    return {
        entity_id: (current.state, dict(current.attributes))
        for entity_id, current in states.items()
        if current is not None
    }


def error_codes(hass: HomeAssistant) -> dict[str, tuple[str, str | None]]:
    """Each player's error code sensor: its code and since when."""
    codes = {}
    for name in ("living_room", "kitchen", "roam"):
        current = hass.states.get(f"sensor.{name}_error_code")
        assert current is not None
        codes[current.entity_id] = (current.state, current.attributes["since"])
    return codes


def shown_cards(hass: HomeAssistant) -> dict[str, dict[str, str] | None]:
    """The repair cards shown now (active issues of this integration): their placeholders."""
    return {
        issue_id: issue.translation_placeholders
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.active
    }


async def test_restart_mid_error_keeps_start_times(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    """A restart in the middle of a 1001 and a 1003: cards and sensors keep their start times."""
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    household.cloud.set_cloud_reachable(False)
    await poll(hass, setup_entry, 2)
    sensors = error_codes(hass)
    assert sensors["sensor.kitchen_error_code"][0] == "1001"
    assert sensors["sensor.roam_error_code"][0] == "1003"
    events = fired(hass)
    assert events["event.kitchen_error_events"][1]["event_type"] == "1001"
    assert events["event.roam_error_events"][1]["event_type"] == "1003"
    issues = ir.async_get(hass)
    cards = shown_cards(hass)
    assert len(cards) == 2
    cloud_card = f"error_1003_{household.household.household_id}"
    issues.async_ignore(DOMAIN, cloud_card, True)

    # Home Assistant stops: what is stored is written, then a new start reads it back. The
    # issue registry brings back only the dismissal of non-persistent issues: setup has to
    # rebuild the cards from the household's own storage.
    hass.set_state(CoreState.stopping)
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    assert set(shown_cards(hass)) == set(cards)  # kept while stopping, dismissal included
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    await ir.async_load(hass)
    assert not shown_cards(hass)
    freezer.tick(timedelta(minutes=5))  # start times shown to the minute must not move
    hass.set_state(CoreState.running)
    assert await hass.config_entries.async_setup(setup_entry.entry_id)
    await hass.async_block_till_done()
    await poll(hass, setup_entry)

    assert shown_cards(hass) == cards
    restored = issues.async_get_issue(DOMAIN, cloud_card)
    assert restored is not None
    assert restored.dismissed_version is not None
    assert error_codes(hass) == sensors
    # Nothing started again: no event entity fired a second 1001 or 1003.
    assert fired(hass) == events


async def test_error_that_cleared_while_stopped_is_removed(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry, 2)
    assert ir.async_get(hass).issues
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    household.household.heal("Kitchen")
    assert await hass.config_entries.async_setup(setup_entry.entry_id)
    await hass.async_block_till_done()
    assert not ir.async_get(hass).issues
    assert state(hass, "sensor.kitchen_error_code") == "ok"


async def test_new_player_appears_without_reload(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    household.household.add_player("Office", model_name="Sonos Era 100")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.office_error_code") == "ok"
    office = er.async_get(hass).async_get("sensor.office_model")
    assert office is not None  # repeats the device page, so disabled until the user wants it
    assert office.disabled_by is er.RegistryEntryDisabler.INTEGRATION


@pytest.fixture
async def delete_device(
    hass: HomeAssistant, setup_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> Callable[[str], Awaitable[bool]]:
    """Delete a device from its page, as the user does; tell whether the integration let it."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)

    async def delete(device_id: str) -> bool:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": setup_entry.entry_id,
                "device_id": device_id,
            }
        )
        return bool((await client.receive_json())["success"])

    return delete


def device_id(hass: HomeAssistant, entry: ConfigEntry, identifier: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, identifier), entry.entry_id)
    assert device is not None, identifier
    return device.id


async def test_removed_player_can_be_deleted(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    delete_device: Callable[[str], Awaitable[bool]],
) -> None:
    devices = dr.async_get(hass)
    kitchen = household.household.player("Kitchen")
    kitchen_device = device_id(hass, setup_entry, kitchen.uid)
    roam_device = device_id(hass, setup_entry, household.household.player("Roam").uid)
    household_device = device_id(hass, setup_entry, household.household.household_id)
    household.household.remove_player("Kitchen")
    household.household.sleep("Roam")
    await poll(hass, setup_entry)

    assert not await delete_device(household_device)
    assert not await delete_device(roam_device)  # asleep, still a member
    assert await delete_device(kitchen_device)
    await poll(hass, setup_entry)
    assert devices.async_get(kitchen_device) is None
    assert kitchen.uid not in setup_entry.runtime_data.coordinator.household.players
    assert state(hass, "sensor.roam_error_code") == "ok"


async def test_deleted_player_that_rejoins_is_back_without_reload(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    delete_device: Callable[[str], Awaitable[bool]],
) -> None:
    kitchen = household.household.player("Kitchen")
    household.household.remove_player("Kitchen")
    await poll(hass, setup_entry)
    assert await delete_device(device_id(hass, setup_entry, kitchen.uid))
    await hass.async_block_till_done()
    assert hass.states.get("sensor.kitchen_error_code") is None

    # Back before the next poll (plugged in again after a move), same player id.
    household.household.add_player("Kitchen", uid=kitchen.uid, model_name="Sonos Amp")
    await poll(hass, setup_entry)
    assert device_id(hass, setup_entry, kitchen.uid)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "on"
    assert hass.states.get("event.kitchen_error_events") is not None


async def test_players_are_kept_while_the_household_cannot_tell(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    delete_device: Callable[[str], Awaitable[bool]],
) -> None:
    """Without a topology (UPnP 501 from large households) no player can be deleted."""
    kitchen = household.household.player("Kitchen")
    household.household.zone_group_state_error = 501
    household.household.remove_player("Kitchen")
    assert await hass.config_entries.async_reload(setup_entry.entry_id)  # nothing read yet
    await hass.async_block_till_done()

    assert not await delete_device(device_id(hass, setup_entry, kitchen.uid))  # gone, or off?
    roam = household.household.player("Roam")
    assert not await delete_device(device_id(hass, setup_entry, roam.uid))  # answers, a member

    household.household.zone_group_state_error = None
    await poll(hass, setup_entry)
    assert await delete_device(device_id(hass, setup_entry, kitchen.uid))


async def test_unreachable_household_at_first_setup_retries(
    hass: HomeAssistant, config_entry: MockConfigEntry, household: Emulator, cloud_dns: None
) -> None:
    for player in household.household.players:
        household.household.set_fault(player.uid, Fault.OFFLINE)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_unload_removes_the_cards_and_setup_rebuilds_them(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """Disabling the entry takes its cards away; enabling it shows them with their start time."""
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry, 2)
    cards = shown_cards(hass)
    assert len(cards) == 1

    await hass.config_entries.async_set_disabled_by(setup_entry.entry_id, ConfigEntryDisabler.USER)
    await hass.async_block_till_done()
    assert setup_entry.state is ConfigEntryState.NOT_LOADED
    assert not ir.async_get(hass).issues

    await hass.config_entries.async_set_disabled_by(setup_entry.entry_id, None)
    await hass.async_block_till_done()
    assert setup_entry.state is ConfigEntryState.LOADED
    assert shown_cards(hass) == cards


async def test_remove_deletes_the_cards_and_the_stored_state(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    hass_storage: dict[str, Any],
) -> None:
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry, 2)
    key = f"{DOMAIN}.{setup_entry.entry_id}"
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    assert hass_storage[key]["data"]["players"]  # kept for the next setup
    await hass.config_entries.async_remove(setup_entry.entry_id)
    await hass.async_block_till_done()
    assert not ir.async_get(hass).issues
    assert key not in hass_storage


def sockets_to_players() -> set[int]:
    """Inodes of this process's open TCP sockets whose far end is a player's port 1400."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2].endswith(":0578"):  # remote port 1400
                inodes.add(int(fields[9]))
    open_sockets = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("socket:["):
                open_sockets.add(int(target[8:-1]))
    return inodes & open_sockets


async def test_reload_and_unload_leave_nothing_behind(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """No poll timer, task or connection to a player survives an unload.

    pytest-homeassistant-custom-component fails a test that leaves timers or threads behind
    at its end; this checks the moment of the unload itself.
    """
    household.household.set_fault("Kitchen", Fault.HANG)
    polling = hass.async_create_task(setup_entry.runtime_data.coordinator.async_refresh())
    await asyncio.sleep(0.2)
    assert sockets_to_players()  # the hung request's connection, at least
    await polling
    assert await hass.config_entries.async_reload(setup_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = setup_entry.runtime_data.coordinator
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    household.household.heal("Kitchen")
    await hass.async_block_till_done()
    gc.collect()
    assert coordinator._unsub_refresh is None  # no timer
    assert not [task for task in asyncio.all_tasks() if DOMAIN in repr(task)]
    assert not sockets_to_players()


async def test_disabled_entry_and_disabled_polling_stop_probing(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.player("Kitchen")

    async def requests_during_three_intervals() -> int:
        before = kitchen.request_count
        for _ in range(3):
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11), fire_all=True)
            await hass.async_block_till_done()
        return kitchen.request_count - before

    assert await requests_during_three_intervals() > 0  # the timer polls while enabled

    hass.config_entries.async_update_entry(setup_entry, pref_disable_polling=True)
    await hass.async_block_till_done()
    assert await requests_during_three_intervals() == 0

    await hass.config_entries.async_set_disabled_by(setup_entry.entry_id, ConfigEntryDisabler.USER)
    await hass.async_block_till_done()
    assert setup_entry.state is ConfigEntryState.NOT_LOADED
    assert await requests_during_three_intervals() == 0


def core_sonos_device(
    hass: HomeAssistant, *, identifiers: set[tuple[str, str]], mac: str | None = None
) -> dr.DeviceEntry:
    """Register a speaker the way HA core's Sonos integration does, under its own entry."""
    core_entry = MockConfigEntry(domain="sonos", title="Sonos")
    core_entry.add_to_hass(hass)
    return dr.async_get(hass).async_get_or_create(
        config_entry_id=core_entry.entry_id,
        identifiers=identifiers,
        connections={(dr.CONNECTION_NETWORK_MAC, mac)} if mac else set(),
        manufacturer="Sonos",
        name="Core speaker",
    )


async def test_player_device_links_to_core_sonos_device(
    hass: HomeAssistant, config_entry: MockConfigEntry, household: Emulator, cloud_dns: None
) -> None:
    arc = household.household.player("Living Room")
    core = core_sonos_device(hass, identifiers={("sonos", arc.uid)})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    devices = dr.async_get(hass)
    ours = devices.async_get_device_by_identifier((DOMAIN, arc.uid), config_entry.entry_id)
    assert ours is not None
    assert ours.id != core.id  # related, not merged
    assert ours.via_device_id == core.id
    kitchen = household.household.player("Kitchen")
    other = devices.async_get_device_by_identifier((DOMAIN, kitchen.uid), config_entry.entry_id)
    assert other is not None
    assert other.via_device_id == device_id(
        hass, config_entry, config_entry.data[CONF_HOUSEHOLD_ID]
    )


async def test_core_sonos_device_set_up_later_is_linked_by_mac(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.player("Kitchen")
    core = core_sonos_device(hass, identifiers={("sonos", "unrelated")}, mac=kitchen.mac.upper())
    devices = dr.async_get(hass)
    ours = devices.async_get_device_by_identifier((DOMAIN, kitchen.uid), setup_entry.entry_id)
    assert ours is not None
    assert ours.via_device_id == device_id(hass, setup_entry, setup_entry.data[CONF_HOUSEHOLD_ID])

    await poll(hass, setup_entry)
    ours = devices.async_get_device_by_identifier((DOMAIN, kitchen.uid), setup_entry.entry_id)
    assert ours is not None
    assert ours.via_device_id == core.id

    devices.async_remove_device(core.id)
    await poll(hass, setup_entry)
    ours = devices.async_get_device_by_identifier((DOMAIN, kitchen.uid), setup_entry.entry_id)
    assert ours is not None
    assert ours.via_device_id == device_id(hass, setup_entry, setup_entry.data[CONF_HOUSEHOLD_ID])
