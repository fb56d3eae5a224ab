"""Automations users write: real automations and the shipped blueprint, loaded in HA."""

import json
from pathlib import Path
import shutil

from homeassistant.components import automation
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_mock_service,
)
import yaml

from custom_components.sonos_troubleshooter.const import DOMAIN
from sonos_emulator import Emulator, Fault
from tests.helpers import poll

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINT = ROOT / "blueprints" / "automation" / DOMAIN / "notify_on_error.yaml"
STRINGS = json.loads((ROOT / "custom_components" / DOMAIN / "strings.json").read_text())


async def test_user_automations_on_the_sensor_and_the_event_run(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    on_sensor = async_capture_events(hass, "sensor_automation_ran")
    on_event = async_capture_events(hass, "event_automation_ran")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "alias": "Kitchen lost its network",
                    "triggers": {
                        "trigger": "state",
                        "entity_id": "sensor.kitchen_error_code",
                        "to": "1001",
                    },
                    "actions": {
                        "event": "sensor_automation_ran",
                        "event_data": {
                            "severity": "{{ trigger.to_state.attributes.severity }}",
                        },
                    },
                },
                {
                    "alias": "Any Sonos error event",
                    "triggers": {
                        "trigger": "state",
                        "entity_id": "event.kitchen_error_events",
                    },
                    "conditions": "{{ trigger.to_state.attributes.event_type != 'cleared' }}",
                    "actions": {
                        "event": "event_automation_ran",
                        "event_data": {
                            "code": "{{ trigger.to_state.attributes.event_type }}",
                            "first_step": "{{ trigger.to_state.attributes.first_step }}",
                        },
                    },
                },
            ]
        },
    )
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry, times=2)
    household.household.heal("Kitchen")
    await poll(hass, setup_entry)

    assert [event.data["severity"] for event in on_sensor] == ["moderate"]
    assert [(str(event.data["code"]), event.data["first_step"]) for event in on_event] == [
        ("1001", "power_cycle_speaker")
    ]


@pytest.fixture
def blueprint_installed(hass: HomeAssistant) -> Path:
    """Put the shipped blueprint where HA looks for it, as importing it would."""
    target = Path(hass.config.path("blueprints", "automation", DOMAIN, BLUEPRINT.name))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT, target)
    yield target
    shutil.rmtree(target.parent)


@pytest.mark.parametrize("notify_cleared", [False, True])
async def test_blueprint_notifies_with_cause_and_first_step(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    blueprint_installed: Path,
    notify_cleared: bool,
) -> None:
    sent = async_mock_service(hass, "notify", "family")
    failures: list[Event] = async_capture_events(hass, "system_log_event")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "use_blueprint": {
                    "path": f"{DOMAIN}/{BLUEPRINT.name}",
                    "input": {
                        "players": ["event.kitchen_error_events", "event.roam_error_events"],
                        "notify_service": "notify.family",
                        "notify_cleared": notify_cleared,
                    },
                }
            }
        },
    )
    await hass.async_block_till_done()
    assert hass.states.get("automation.automation_0").state == "on"

    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry, times=2)
    assert len(sent) == 1
    assert sent[0].data["title"] == "Sonos error 1001 on Kitchen"
    assert sent[0].data["message"] == (
        "Cannot reach the Wi-Fi network.\nFirst step: Power-cycle the speaker."
    )

    household.household.heal("Kitchen")
    household.cloud.set_cloud_reachable(False)
    await poll(hass, setup_entry, times=2)
    messages = [call.data["message"] for call in sent[1:]]
    if notify_cleared:
        assert messages[0] == "Error 1001 on Kitchen has cleared."
        messages = messages[1:]
    cloud_message = (
        "Cannot reach the Sonos cloud: Sonos traffic is blocked.\n"
        "First step: Check firewall, VPN and content filters."
    )
    assert messages == [cloud_message] * 2  # Kitchen and Roam are watched; Living Room is not
    assert not failures


def test_blueprint_words_follow_the_translations() -> None:
    variables = yaml.safe_load(BLUEPRINT.read_text().replace("!input", ""))["variables"]
    attributes = STRINGS["entity"]["sensor"]["error_code"]["state_attributes"]
    assert variables["step_titles"] == attributes["first_step"]["state"]
    assert set(variables["causes"]) == set(attributes["cause"]["state"])
