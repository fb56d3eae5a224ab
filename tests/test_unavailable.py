"""Unavailability: logged once when it begins and once when it ends; stale values not shown.

End to end: real HA, real soco, the emulated household over HTTP. A player is unavailable in
the log while in 1001 (the silence the diagnosis confirms), the cloud while in 1003.
"""

import logging

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from sonos_emulator import REASON_POWERED_OFF, Emulator, Fault
from tests.helpers import poll, state

LOGGER_NAME = "custom_components.sonos_troubleshooter"


@pytest.fixture(autouse=True)
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture the integration's info lines."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the integration's info lines since the last call, and forget them."""
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER_NAME and record.levelno == logging.INFO
    ]
    caplog.clear()
    return lines


async def test_a_silent_player_is_logged_once_when_it_is_1001_and_once_when_back(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    kitchen = household.household.player("Kitchen")
    assert logged(caplog) == []  # a healthy setup logs nothing
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"  # one missed poll is no outage
    assert logged(caplog) == []
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "1001"
    assert logged(caplog) == [
        f"Kitchen ({kitchen.ip}) is unavailable: Sonos error 1001, it does not answer (no_answer)"
    ]
    await poll(hass, setup_entry, times=3)
    assert logged(caplog) == []

    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert logged(caplog) == [
        f"Kitchen ({kitchen.ip}) is back: it answers again, Sonos error 1001 cleared (now ok)"
    ]
    await poll(hass, setup_entry, times=2)
    assert logged(caplog) == []


async def test_a_player_the_household_lists_away_ends_its_1001_in_the_log(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not "back": it is still silent, but the household says why (two topologies in a row)."""
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry, times=2)
    logged(caplog)
    household.household.vanish("Kitchen", REASON_POWERED_OFF)
    await poll(hass, setup_entry, times=2)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert logged(caplog) == [
        f"Kitchen ({kitchen.ip}) is away on purpose (powered off): Sonos error 1001 cleared"
    ]
    await poll(hass, setup_entry)
    assert logged(caplog) == []


async def test_the_cloud_is_logged_once_when_1003_begins_and_once_when_it_ends(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The players answer all along: no line of theirs, only the cloud's."""
    household.cloud.set_cloud_reachable(False)
    await poll(hass, setup_entry)
    assert logged(caplog) == []  # one failed check is no outage
    await poll(hass, setup_entry)
    assert state(hass, "sensor.living_room_error_code") == "1003"
    assert logged(caplog) == [
        "The Sonos cloud is unavailable: Sonos error 1003, cause ports_blocked"
    ]
    await poll(hass, setup_entry, times=3)
    assert logged(caplog) == []

    household.cloud.set_cloud_reachable(True)
    await poll(hass, setup_entry)
    assert state(hass, "sensor.living_room_error_code") == "ok"
    assert logged(caplog) == ["The Sonos cloud is back: Sonos error 1003 cleared"]
    await poll(hass, setup_entry, times=2)
    assert logged(caplog) == []


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the entry (its state is stored) and set it up again from what was stored."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_restart_mid_outage_logs_nothing_new_and_an_end_meanwhile_once(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stored diagnosis is what the first poll after a start is compared with.

    An outage that lasts across the restart was logged when it began; one that ended while
    Home Assistant was stopped is logged at the first poll, once.
    """
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    household.cloud.set_cloud_reachable(False)
    await poll(hass, setup_entry, times=2)
    assert len(logged(caplog)) == 2

    await restart(hass, setup_entry)
    await poll(hass, setup_entry, times=2)
    assert state(hass, "sensor.kitchen_error_code") == "1001"
    assert state(hass, "sensor.roam_error_code") == "1003"
    assert logged(caplog) == []

    household.household.heal("Kitchen")
    household.cloud.set_cloud_reachable(True)
    await restart(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert logged(caplog) == [
        f"Kitchen ({kitchen.ip}) is back: it answers again, Sonos error 1001 cleared (now ok)",
        "The Sonos cloud is back: Sonos error 1003 cleared",
    ]
    await poll(hass, setup_entry)
    assert logged(caplog) == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_silent_players_band_and_software_version_are_unavailable(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """What only the player tells goes stale while it is silent; the rest still reports."""
    kitchen = household.household.player("Kitchen")
    assert state(hass, "sensor.kitchen_wi_fi_band") == "wired"
    assert state(hass, "sensor.kitchen_software_version") == kitchen.display_version
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry)
    # One missed poll: no error yet, but no answer to read them from either.
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "off"
    assert state(hass, "sensor.kitchen_wi_fi_band") == "unavailable"
    await poll(hass, setup_entry)

    assert state(hass, "sensor.kitchen_error_code") == "1001"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "off"
    assert state(hass, "sensor.kitchen_wi_fi_band") == "unavailable"
    assert state(hass, "sensor.kitchen_software_version") == "unavailable"
    # The silence itself, what the household says and what cannot change stay shown.
    assert state(hass, "event.kitchen_error_events") != "unavailable"
    assert state(hass, "sensor.kitchen_model") == "Sonos Amp"
    assert state(hass, "sensor.kitchen_role") == "player"
    assert state(hass, "sensor.kitchen_ip_address") == kitchen.ip
    assert state(hass, "sensor.kitchen_last_seen") not in ("unavailable", "unknown")
    assert state(hass, "sensor.kitchen_missed_checks") == "2"
    assert state(hass, "sensor.kitchen_dropouts") != "unavailable"
    assert state(hass, "sensor.kitchen_reboots") == "0"
    assert state(hass, "sensor.kitchen_last_dropout") != "unavailable"
    assert state(hass, "sensor.kitchen_response_time") == "unknown"
    # The other players answer: theirs are shown.
    assert state(hass, "sensor.roam_wi_fi_band") == "5_ghz"

    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "on"
    assert state(hass, "sensor.kitchen_wi_fi_band") == "wired"
    assert state(hass, "sensor.kitchen_software_version") == kitchen.display_version
