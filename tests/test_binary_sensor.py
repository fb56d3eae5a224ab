"""Connectivity: each player on the network, the household's path to the Sonos cloud."""

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
    pytest.mark.usefixtures("cloud_dns"),
]


async def test_binary_sensors(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    """Kitchen off the network and the Sonos cloud blocked: registry entries and states."""
    await setup_platform(hass, config_entry, Platform.BINARY_SENSOR)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    household.cloud.set_cloud_reachable(False)
    await poll(hass, config_entry)
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)
