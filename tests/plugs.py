"""Smart plugs, a router button and a frozen clock: the world the power actions act on.

The plug of Kitchen is a template switch over an input_boolean, the router's restart a
template button (both set up by the `plugs` fixture in conftest.py); `wire` connects them to
the emulated world (power back on: the player starts and answers; button pressed: the cloud
comes back), as a smart plug and a router would. Time is frozen and advanced by hand with
`advance`, so the documented waits are checked to the second.

Not a test module: tests/test_power_control.py and tests/test_services.py use it.
"""

from collections.abc import Callable
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sonos_troubleshooter.const import CONF_POWER_SWITCHES, DOMAIN
from custom_components.sonos_troubleshooter.sonos_health.power_rules import ActionRecord
from sonos_emulator import Emulator
from tests.helpers import set_options, state, switch_off, uid

PLUG = "switch.kitchen_plug"
STRIP = "switch.power_strip"
ROUTER = "button.router_restart"


def _template_switch(name: str, power: str, *, available: str = "true") -> dict[str, Any]:
    return {
        "name": name,
        "state": f"{{{{ is_state('{power}', 'on') }}}}",
        "availability": f"{{{{ {available} }}}}",
        "turn_on": {"action": "input_boolean.turn_on", "target": {"entity_id": power}},
        "turn_off": {"action": "input_boolean.turn_off", "target": {"entity_id": power}},
    }


async def async_setup_plugs(hass: HomeAssistant) -> None:
    """Kitchen's plug, a power strip, a dead plug and the router's restart button."""
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "kitchen_power": {"initial": True},
                "strip_power": {"initial": True},
                "dead_power": {"initial": True},
                "router_pressed": {"initial": False},
            }
        },
    )
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "switch": [
                        _template_switch("Kitchen plug", "input_boolean.kitchen_power"),
                        _template_switch("Power strip", "input_boolean.strip_power"),
                        _template_switch(
                            "Dead plug", "input_boolean.dead_power", available="false"
                        ),
                    ],
                    "button": [
                        {
                            "name": "Router restart",
                            "press": {
                                "action": "input_boolean.turn_on",
                                "target": {"entity_id": "input_boolean.router_pressed"},
                            },
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    assert state(hass, PLUG) == "on"
    assert state(hass, ROUTER) == "unknown"  # a button that was never pressed


def wire(hass: HomeAssistant, entity_id: str, on_change: Callable[[str], None]) -> list[str]:
    """Call on_change with each new state of entity_id; return the states seen, in order."""
    seen: list[str] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None:
            seen.append(new.state)
            on_change(new.state)

    async_track_state_change_event(hass, entity_id, changed)
    return seen


async def pause(hass: HomeAssistant) -> None:
    """Let the event loop run for a moment of real time (HA's own clock is frozen).

    Not async_block_till_done: an automation waiting for a power cycle is a task it would
    wait for, and the power cycle waits for the frozen clock.
    """
    await hass.async_add_executor_job(time.sleep, 0.005)


async def settle(hass: HomeAssistant, done: Callable[[], bool]) -> None:
    """Wait until `done()`: the action runs in the background, its polls in executor threads."""
    for _ in range(1000):
        if done():
            return
        await pause(hass)
    raise AssertionError("the action never got there")


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int) -> None:
    """Let `seconds` of frozen time pass, one second at a time, as the clock would.

    After each second, any poll it started (in executor threads, on the real clock) is let
    finish, so the action is waiting on its next timer before the clock moves on.
    """
    entries = hass.config_entries.async_loaded_entries(DOMAIN)
    for _ in range(seconds):
        freezer.tick(1)
        async_fire_time_changed(hass)
        for _ in range(3):
            await pause(hass)
        await settle(
            hass,
            lambda: (
                not any(entry.runtime_data.coordinator._poll_lock.locked() for entry in entries)
            ),
        )
        await pause(hass)


async def kitchen_down_on_a_plug(
    hass: HomeAssistant, entry: MockConfigEntry, emulator: Emulator, plug: str = PLUG
) -> str:
    """Choose Kitchen's plug, then let Kitchen fall silent until 1001; return the issue id."""
    await set_options(hass, entry, **{CONF_POWER_SWITCHES: {uid(emulator, "Kitchen"): plug}})
    return await switch_off(hass, entry, emulator)


def last_action(entry: MockConfigEntry) -> ActionRecord:
    """Return the household's latest action; there must be one."""
    actions: list[ActionRecord] = entry.runtime_data.action_log.records
    assert actions, "no action recorded"
    return actions[-1]


async def settle_action(
    hass: HomeAssistant, entry: MockConfigEntry, done: Callable[[ActionRecord], bool]
) -> None:
    """Wait until the household has an action and `done(latest action)`."""
    await settle(
        hass,
        lambda: (
            bool(entry.runtime_data.action_log.records)
            and done(entry.runtime_data.action_log.records[-1])
        ),
    )
