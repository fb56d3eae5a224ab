"""Sensors: each player's error code, network facts and link history, the household's diagnosis."""

from dataclasses import replace
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import ATTR_STATE_CLASS, SensorStateClass
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from sonos_emulator import REASON_POWERED_OFF, Emulator, Fault
from tests.helpers import poll, setup_platform, state

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
    steady_response_times(config_entry)
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


def steady_response_times(entry: MockConfigEntry) -> None:
    """Replace the measured response times (a few ms, never the same twice) by 12.5 ms."""
    coordinator = entry.runtime_data.coordinator
    players = coordinator.data.players
    coordinator.async_set_updated_data(
        replace(
            coordinator.data,
            players={
                uid: replace(player, response_time=player.response_time and 12.5)
                for uid, player in players.items()
            },
        )
    )


async def test_sensors_of_a_household_in_trouble(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry: MockConfigEntry,
    household: Emulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Kitchen off the network (1001), the others cut off from the Sonos cloud (1003)."""
    await setup_platform(hass, config_entry, Platform.SENSOR)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    household.cloud.set_cloud_reachable(False)
    await poll(hass, config_entry)
    freezer.tick(timedelta(seconds=10))  # a silence over 10 s: a dropout too
    await poll(hass, config_entry)
    steady_response_times(config_entry)
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


@pytest.mark.parametrize(
    ("entity_id", "state_class", "unit"),
    [
        ("sensor.kitchen_response_time", SensorStateClass.MEASUREMENT, "ms"),
        ("sensor.kitchen_missed_checks", SensorStateClass.TOTAL_INCREASING, None),
        ("sensor.kitchen_dropouts", SensorStateClass.TOTAL_INCREASING, None),
        ("sensor.kitchen_reboots", SensorStateClass.TOTAL_INCREASING, None),
        ("sensor.sonos_household_complete_polls", SensorStateClass.MEASUREMENT, "%"),
    ],
)
async def test_history_sensors_have_state_classes_for_long_term_statistics(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    config_entry: MockConfigEntry,
    entity_id: str,
    state_class: SensorStateClass,
    unit: str | None,
) -> None:
    """With a state class HA keeps long-term statistics; diagnostic where HA puts link facts."""
    await setup_platform(hass, config_entry, Platform.SENSOR)
    current = hass.states.get(entity_id)
    assert current is not None
    assert current.attributes[ATTR_STATE_CLASS] == state_class
    assert current.attributes.get(ATTR_UNIT_OF_MEASUREMENT) == unit
    entry = entity_registry.async_get(entity_id)
    assert entry is not None
    assert (entry.entity_category is not None) is entity_id.startswith("sensor.kitchen")


async def test_a_portable_switched_on_is_no_reboot(
    hass: HomeAssistant, config_entry: MockConfigEntry, household: Emulator
) -> None:
    """A Roam's BootSeq rises when it is switched on (ebaauw/homebridge-zp issue 172).

    While it is away the household says since when (LastSeenUTC), which diagnostics show.
    """
    await setup_platform(hass, config_entry, Platform.SENSOR)
    roam = household.household.vanish("Roam", REASON_POWERED_OFF)
    await poll(hass, config_entry, 2)
    seen = config_entry.runtime_data.coordinator.data.players[roam.uid]
    assert seen.away_since == roam.vanished_at
    assert state(hass, "sensor.roam_error_code") == "ok"
    household.household.switch_on("Roam")
    await poll(hass, config_entry, 2)
    assert config_entry.runtime_data.coordinator.data.players[roam.uid].away_since is None
    assert state(hass, "sensor.roam_reboots") == "0"
    assert state(hass, "sensor.roam_dropouts") == "0"
    assert state(hass, "sensor.roam_missed_checks") == "0"
    household.household.reboot("Kitchen")  # the same rise of a player that is not portable
    await poll(hass, config_entry)
    assert state(hass, "sensor.kitchen_reboots") == "1"


async def test_reboots_count_from_boot_seq_and_dropouts_from_silences(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    household: Emulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """BootSeq rising in the topology is a reboot; a silence of two checks or more a dropout."""
    await setup_platform(hass, config_entry, Platform.SENSOR)
    assert state(hass, "sensor.kitchen_reboots") == "0"
    household.household.reboot("Kitchen")
    await poll(hass, config_entry)
    assert state(hass, "sensor.kitchen_reboots") == "1"
    await poll(hass, config_entry)  # the same BootSeq again: no new reboot
    assert state(hass, "sensor.kitchen_reboots") == "1"
    assert state(hass, "sensor.living_room_reboots") == "0"
    assert state(hass, "sensor.kitchen_dropouts") == "0"
    assert state(hass, "sensor.kitchen_last_dropout") == "unknown"
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, config_entry)
    freezer.tick(timedelta(seconds=10))
    await poll(hass, config_entry)
    assert state(hass, "sensor.kitchen_dropouts") == "1"
    assert state(hass, "sensor.kitchen_missed_checks") == "2"
    assert state(hass, "sensor.kitchen_last_dropout") == "2026-11-29T12:00:00+00:00"
    assert state(hass, "sensor.kitchen_response_time") == "unknown"
    household.household.heal("Kitchen")
    await poll(hass, config_entry, times=2)
    assert state(hass, "sensor.kitchen_dropouts") == "1"
    assert float(state(hass, "sensor.kitchen_response_time")) >= 0  # the clock is frozen here
    # Seven polls (setup's included), Kitchen missed two of them.
    share = float(state(hass, "sensor.sonos_household_complete_polls"))
    assert share == round(100 * 5 / 7, 1)  # rounded as shown: see test_reading_rules
