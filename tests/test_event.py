"""The error event entity: fires when an error starts and when it clears, never on a restart."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from sonos_emulator import Emulator, Fault
from tests.helpers import poll, setup_platform


@pytest.mark.freeze_time("2026-11-29 12:00:00+00:00")
@pytest.mark.usefixtures("cloud_dns")
async def test_event_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    """Each player's event entity, Kitchen's after its 1001 began: registry entries and states."""
    await setup_platform(hass, config_entry, Platform.EVENT)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, config_entry, times=2)
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


async def test_event_entity_fires_on_start_and_clear_only(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    entity_id = "event.kitchen_error_events"
    initial = hass.states.get(entity_id)
    assert initial is not None
    assert initial.attributes["event_types"] == ["1001", "1003", "upnp_disabled", "cleared"]
    assert initial.state == "unknown"  # nothing has happened yet

    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry)
    assert hass.states.get(entity_id).state == "unknown"  # one failed poll is not an error
    await poll(hass, setup_entry)
    fired = hass.states.get(entity_id)
    assert fired.attributes["event_type"] == "1001"
    assert fired.attributes["severity"] == "moderate"
    assert fired.attributes["first_step"] == "power_cycle_speaker"
    assert fired.attributes["since"]

    await poll(hass, setup_entry)  # still 1001: no new event
    assert hass.states.get(entity_id).state == fired.state

    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    cleared = hass.states.get(entity_id)
    assert cleared.attributes["event_type"] == "cleared"
    assert cleared.attributes["code"] == "1001"


async def test_1003_event_carries_the_cause(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    household.cloud.set_internet(False)
    await poll(hass, setup_entry, times=2)
    fired = hass.states.get("event.roam_error_events")
    assert fired.attributes["event_type"] == "1003"
    assert fired.attributes["cause"] == "internet_down"
    assert fired.attributes["severity"] == "minor"
    assert fired.attributes["first_step"] == "restart_router"


async def test_restart_mid_error_fires_nothing(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry, times=2)
    before = hass.states.get("event.kitchen_error_events").state
    assert await hass.config_entries.async_reload(setup_entry.entry_id)
    await hass.async_block_till_done()
    await poll(hass, setup_entry)
    assert hass.states.get("event.kitchen_error_events").state == before
