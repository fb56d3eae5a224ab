"""Sensors: each player's error code and network facts, the household's diagnosis."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from sonos_emulator import Emulator, Fault
from tests.helpers import poll, setup_platform

pytestmark = [
    pytest.mark.freeze_time("2026-11-29 12:00:00+00:00"),
    pytest.mark.usefixtures("entity_registry_enabled_by_default", "cloud_dns"),
]


async def test_sensors(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry: MockConfigEntry,
) -> None:
    """Every sensor of a healthy household: registry entries and states."""
    await setup_platform(hass, config_entry, Platform.SENSOR)
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


async def test_sensors_of_a_household_in_trouble(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    """Kitchen off the network (1001), the others cut off from the Sonos cloud (1003)."""
    await setup_platform(hass, config_entry, Platform.SENSOR)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    household.cloud.set_cloud_reachable(False)
    await poll(hass, config_entry, times=2)
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)
