"""Setup, unload, reload and removal of the entry; restarts; deleting devices.

End to end: real HA, real soco, the emulated household over HTTP.
"""

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from datetime import timedelta
import gc
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.sonos_troubleshooter.const import DOMAIN
from sonos_emulator import Emulator, Fault
from tests.helpers import device_id, poll, shown_cards, state


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
