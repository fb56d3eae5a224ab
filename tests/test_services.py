"""The power_cycle action: called from automations, with its response and its refusals.

The plugs and the clock come from tests/plugs.py; the power cycle itself is tested in
test_power_control.py.
"""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import CONF_POWER_SWITCHES, DOMAIN
from custom_components.sonos_troubleshooter.sonos_health.power_rules import Outcome
from sonos_emulator import Emulator, Fault
from tests.helpers import device_id, set_options, state, uid
from tests.plugs import PLUG, STRIP, advance, last_action, settle, settle_action, wire

# As the power cycles from a card: no minimum time on screen for a check.
pytestmark = pytest.mark.usefixtures("instant_checks")


def device_of(hass: HomeAssistant, emulator: Emulator, name: str) -> str:
    """Return the id of a player's device (or the household's, by its id)."""
    identifier = emulator.household.household_id if name == "household" else uid(emulator, name)
    return device_id(hass, hass.config_entries.async_entries(DOMAIN)[0], identifier)


async def test_power_cycle_action_from_an_automation(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plugs: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    """A real automation: if a player is 1001, power-cycle it; then act on the response."""
    await set_options(hass, setup_entry, **{CONF_POWER_SWITCHES: {uid(household, "Kitchen"): PLUG}})
    switched = wire(
        hass, PLUG, lambda new: household.household.heal("Kitchen") if new == "on" else None
    )
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Power-cycle a silent Kitchen",
                "triggers": {
                    "trigger": "state",
                    "entity_id": "sensor.kitchen_error_code",
                    "to": "1001",
                },
                "actions": [
                    {
                        "action": f"{DOMAIN}.power_cycle",
                        "data": {
                            "device_id": device_of(hass, household, "Kitchen"),
                            "off_seconds": 10,
                        },
                        "response_variable": "result",
                    },
                    {"condition": "template", "value_template": "{{ result.actions[0].helped }}"},
                    {  # stands for "tell me it worked"
                        "action": "input_boolean.turn_on",
                        "target": {"entity_id": "input_boolean.router_pressed"},
                    },
                ],
            }
        },
    )
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    for _ in range(2):  # not poll(): it waits for the automation, which waits for the clock
        await setup_entry.runtime_data.coordinator.async_refresh()
    await settle(hass, lambda: switched == ["off"])
    await advance(hass, freezer, 10)  # the automation asked for 10 seconds
    await settle(hass, lambda: switched == ["off", "on"])
    await advance(hass, freezer, 10)
    await settle_action(hass, setup_entry, lambda record: record.outcome is Outcome.HELPED)
    await settle(hass, lambda: state(hass, "input_boolean.router_pressed") == "on")
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    record = last_action(setup_entry)
    assert record.switched_on is not None
    assert record.switched_off is not None
    assert record.switched_on - record.switched_off == timedelta(seconds=10)


async def test_power_cycle_action_response_and_refusals(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plugs: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    kitchen, living_room = uid(household, "Kitchen"), uid(household, "Living Room")
    await set_options(
        hass, setup_entry, **{CONF_POWER_SWITCHES: {kitchen: PLUG, living_room: STRIP}}
    )

    async def power_cycle(device_id: str, **data: Any) -> Any:
        return await hass.services.async_call(
            DOMAIN,
            "power_cycle",
            {"device_id": device_id, **data},
            blocking=True,
            return_response=True,
        )

    async def refused(device_id: str, key: str, **data: Any) -> str:
        with pytest.raises(ServiceValidationError) as caught:
            await power_cycle(device_id, **data)
        assert caught.value.translation_key == key
        return str(caught.value)

    assert "not_a_device" in await refused("not_a_device", "device_not_found")
    await refused(device_of(hass, household, "household"), "not_a_player")
    message = await refused(device_of(hass, household, "Roam"), "no_power_switch")
    assert message.startswith("No smart plug is chosen for Roam")  # translated
    # Written before 0.2.0 with `target: device_id:`: Home Assistant passes a target's keys
    # as data, so such a call still reaches the same rules.
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "power_cycle",
            {},
            target={"device_id": device_of(hass, household, "Roam")},
            blocking=True,
            return_response=True,
        )
    assert caught.value.translation_key == "no_power_switch"
    # Living Room answers: its power is never cut.
    assert "answers" in await refused(
        device_of(hass, household, "Living Room"), "refused_player_reachable"
    )
    assert state(hass, STRIP) == "on"
    with pytest.raises(probatio.Invalid):  # the documented 10 to 30 seconds
        await power_cycle(device_of(hass, household, "Kitchen"), off_seconds=5)

    household.household.set_fault("Kitchen", Fault.OFFLINE)
    switched = wire(hass, PLUG, lambda _: None)
    first = hass.async_create_task(power_cycle(device_of(hass, household, "Kitchen")))
    await settle(hass, lambda: switched == ["off"])
    await refused(device_of(hass, household, "Kitchen"), "refused_busy")  # one at a time
    await advance(hass, freezer, 30 + 120)
    await settle(hass, first.done)
    response = first.result()
    assert response["actions"][0]["outcome"] == "not_helped"
    assert response["actions"][0]["helped"] is False
    assert response["actions"][0]["entity_id"] == PLUG
    assert "subject" not in response["actions"][0]  # the player id carries its MAC address

    hass.services.async_remove("input_boolean", "turn_off")
    with pytest.raises(HomeAssistantError) as caught:
        await power_cycle(device_of(hass, household, "Kitchen"))
    assert caught.value.translation_key == "action_failed"

    await hass.config_entries.async_unload(setup_entry.entry_id)
    await refused(device_of(hass, household, "Kitchen"), "entry_not_loaded")
