"""Diagnostics download: useful, with personal data redacted."""

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from sonos_emulator import Emulator, Fault


async def test_diagnostics_redact_personal_data(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    hass_client: ClientSessionGenerator,
) -> None:
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await setup_entry.runtime_data.coordinator.async_refresh()
    await setup_entry.runtime_data.coordinator.async_refresh()

    result = await get_diagnostics_for_config_entry(hass, hass_client, setup_entry)
    text = json.dumps(result)

    assert result["entry"]["data"]["household_id"] == "**REDACTED**"
    kitchen = next(player for player in result["players"] if player["name"] == "Kitchen")
    assert kitchen["state"]["code"] == "1001"
    assert kitchen["failure"] == "no_answer"
    assert kitchen["uid"] == "**REDACTED**"
    living_room = next(p for p in result["players"] if p["name"] == "Living Room")
    assert living_room["info"]["serial_number"] == "**REDACTED**"
    assert living_room["info"]["model_name"] == "Sonos Arc"
    assert result["cloud"]["status"]["indicator"] == "none"
    for player in household.household.players:
        assert player.serial not in text
        assert player.mac not in text
        assert player.uid not in text
    assert household.household.household_id not in text
