"""Diagnostics download: useful, with personal data redacted."""

import json
import re
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.sonos_troubleshooter.const import CONF_POWER_SWITCHES, DOMAIN
from sonos_emulator import Emulator, Fault
from tests.helpers import poll, uid


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


def without_ephemeral_ports(result: dict[str, Any], emulator: Emulator) -> dict[str, Any]:
    """The download with the emulated cloud's ports (chosen by the OS per run) as `<port>`."""
    ports = [endpoint.port for endpoint in emulator.cloud.endpoints.values()]
    ports.append(emulator.cloud.status_page.port)
    text = json.dumps(result)
    for port in ports:
        text = re.sub(rf":{port}\b", ":<port>", text)
    normalised: dict[str, Any] = json.loads(text)
    return normalised


@pytest.mark.freeze_time("2026-11-29 12:00:00+00:00")
async def test_diagnostics(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    cloud_dns: None,
    household: Emulator,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    snapshot: SnapshotAssertion,
) -> None:
    """The whole download, with plugs chosen and one power cycle done; Kitchen is in 1001."""
    kitchen = uid(household, "Kitchen")
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={
            **config_entry.options,
            CONF_POWER_SWITCHES: {kitchen: "switch.kitchen_plug", "RINCON_GONE": "switch.old"},
        },
    )
    hass_storage[f"{DOMAIN}.{config_entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{config_entry.entry_id}",
        "data": {
            "players": [],
            "diagnosis": {},
            "actions": [
                {
                    "action": "power_cycle",
                    "entity_id": "switch.kitchen_plug",
                    "subject": kitchen,
                    "subject_name": "Kitchen",
                    "started": "2026-11-29T11:00:00+00:00",
                    "switched_off": "2026-11-29T11:00:00+00:00",
                    "switched_on": "2026-11-29T11:00:30+00:00",
                    "finished": "2026-11-29T11:00:40+00:00",
                    "outcome": "helped",
                    "error": None,
                }
            ],
        },
    }
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, config_entry, times=2)

    result = await get_diagnostics_for_config_entry(hass, hass_client, config_entry)
    assert result["entry"]["options"][CONF_POWER_SWITCHES] == {
        "Kitchen": "switch.kitchen_plug",
        "(a player since deleted)": "switch.old",
    }
    assert result["actions"][0]["subject"] == "**REDACTED**"
    text = json.dumps(result)
    for player in household.household.players:
        assert player.uid not in text
    assert without_ephemeral_ports(result, household) == snapshot
