"""Hands-on fixes with real switch and button entities (template entities in HA's config).

The plug of Kitchen is a template switch over an input_boolean, the router's restart a
template button; a listener wires them to the emulated world (power back on: the player
starts and answers; button pressed: the cloud comes back), as a smart plug and a router
would. Time is frozen and advanced by hand, so the documented waits are checked to the second.
"""

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
import time
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.sonos_troubleshooter import repairs
from custom_components.sonos_troubleshooter.const import CONF_POWER_SWITCHES, DOMAIN
from custom_components.sonos_troubleshooter.remedy import Action, ActionRecord, Outcome
from tests.sonos_emulator import Emulator, Fault
from tests.test_init import poll, state

FIX = "/api/repairs/issues/fix"
PLUG = "switch.kitchen_plug"
STRIP = "switch.power_strip"
ROUTER = "button.router_restart"
NOTHING_YET = ActionRecord(
    action=Action.POWER_CYCLE, entity_id="", subject="", subject_name="", started=dt_util.utcnow()
)


def _template_switch(name: str, power: str, *, available: str = "true") -> dict[str, Any]:
    return {
        "name": name,
        "state": f"{{{{ is_state('{power}', 'on') }}}}",
        "availability": f"{{{{ {available} }}}}",
        "turn_on": {"action": "input_boolean.turn_on", "target": {"entity_id": power}},
        "turn_off": {"action": "input_boolean.turn_off", "target": {"entity_id": power}},
    }


@pytest.fixture
async def plugs(hass: HomeAssistant) -> None:
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


async def set_options(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    """Change the entry's options as the options flow does (the entry reloads)."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def settle(hass: HomeAssistant, done: Callable[[], bool]) -> None:
    """Wait until `done()`: the action runs in the background, its polls in executor threads.

    Waiting happens in an executor thread (real time), since HA's clock is frozen.
    """
    for _ in range(500):
        await hass.async_block_till_done()
        if done():
            return
        await hass.async_add_executor_job(time.sleep, 0.01)
    raise AssertionError("the action never got there")


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int) -> None:
    """Let `seconds` of frozen time pass, one second at a time, as the clock would."""
    for _ in range(seconds):
        freezer.tick(1)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


class Flow:
    """A repair flow driven over HTTP, as the repair dialog does."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.flow_id = ""

    async def start(self, issue_id: str) -> dict[str, Any]:
        response = await self.client.post(FIX, json={"handler": DOMAIN, "issue_id": issue_id})
        assert response.status == HTTPStatus.OK, await response.text()
        result: dict[str, Any] = await response.json()
        self.flow_id = result["flow_id"]
        return result

    async def choose(self, option: str) -> dict[str, Any]:
        response = await self.client.post(f"{FIX}/{self.flow_id}", json={"next_step_id": option})
        assert response.status == HTTPStatus.OK, await response.text()
        result: dict[str, Any] = await response.json()
        return result

    async def reload(self) -> dict[str, Any]:
        """Fetch the flow again, as the dialog does when progress is done."""
        response = await self.client.get(f"{FIX}/{self.flow_id}")
        assert response.status == HTTPStatus.OK, await response.text()
        result: dict[str, Any] = await response.json()
        return result


@pytest.fixture(autouse=True)
def instant_checks() -> Any:
    """No minimum time on screen: the waits under test are the documented ones."""
    with patch.object(repairs, "CHECK_SHOWN_FOR_SECONDS", 0):
        yield


@pytest.fixture
async def flow(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> Flow:
    assert await async_setup_component(hass, "repairs", {})
    return Flow(await hass_client())


async def kitchen_down(hass: HomeAssistant, entry: MockConfigEntry, emulator: Emulator) -> str:
    """Kitchen stops answering until it shows 1001; return its issue id."""
    emulator.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, entry, times=2)
    issue_id = f"error_1001_{emulator.household.player('Kitchen').uid}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    return issue_id


def last_action(entry: MockConfigEntry) -> ActionRecord:
    """Return the household's latest action (a dummy before the first)."""
    actions: list[ActionRecord] = entry.runtime_data.actions
    return actions[-1] if actions else NOTHING_YET


def uid(emulator: Emulator, name: str) -> str:
    return emulator.household.player(name).uid


async def test_power_cycle_from_the_card_with_the_documented_timing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plugs: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
) -> None:
    await set_options(hass, setup_entry, **{CONF_POWER_SWITCHES: {uid(household, "Kitchen"): PLUG}})
    issue_id = await kitchen_down(hass, setup_entry, household)
    # The plug: power back on, the speaker starts and answers (its glitch cleared).
    switched = wire(
        hass,
        PLUG,
        lambda new: household.household.heal("Kitchen") if new == "on" else None,
    )

    result = await flow.start(issue_id)
    assert result["menu_options"] == ["start", "check"]  # nothing done yet
    result = await flow.choose("start")
    assert result["step_id"] == "power_cycle_speaker"
    assert result["menu_options"] == ["do_it", "check", "skip"]

    started = dt_util.utcnow()
    result = await flow.choose("do_it")
    assert result["type"] == "progress"
    assert result["progress_action"] == "power_cycle"
    assert result["description_placeholders"]["entity"] == PLUG
    assert result["description_placeholders"]["off_seconds"] == "30"
    await settle(hass, lambda: last_action(setup_entry).switched_off is not None)
    assert switched == ["off"]

    await advance(hass, freezer, 29)
    assert switched == ["off"]  # the documented 30 seconds, not less
    await advance(hass, freezer, 1)
    await settle(hass, lambda: switched == ["off", "on"])
    assert state(hass, "sensor.kitchen_error_code") == "1001"  # not checked yet

    await advance(hass, freezer, 10)  # the first check after power returns
    await settle(hass, lambda: last_action(setup_entry).outcome is not Outcome.RUNNING)
    result = await flow.reload()
    assert result["type"] == "create_entry", result
    assert result["description"] == "fixed_power_cycle"
    facts = result["description_placeholders"]
    assert facts["entity"] == PLUG
    assert facts["name"] == "Kitchen"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert state(hass, "sensor.kitchen_error_code") == "ok"

    record = last_action(setup_entry)
    assert record.outcome is Outcome.HELPED
    assert record.switched_off == started
    assert record.switched_on == started + timedelta(seconds=30)
    assert record.finished == started + timedelta(seconds=40)


async def test_choosing_a_plug_in_the_options(
    hass: HomeAssistant, plugs: None, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """The options flow lists the household's players and checks the plug chosen."""
    kitchen = uid(household, "Kitchen")
    options = hass.config_entries.options
    result = await options.async_init(setup_entry.entry_id)
    result = await options.async_configure(result["flow_id"], {"next_step_id": "power_switches"})
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"] == {"assigned": "-"}
    players = result["data_schema"].schema["player"].config["options"]
    assert [option["label"] for option in players] == ["Kitchen", "Living Room", "Roam"]

    hass.states.async_set("light.lamp", "on")
    with pytest.raises(InvalidData):  # the selector: a plug is a switch
        await options.async_configure(
            result["flow_id"], {"player": kitchen, "power_switch": "light.lamp"}
        )
    lamp = er.async_get(hass).async_get_or_create("light", "hue", "lamp")
    result = await options.async_configure(  # a registry id passes the selector unchecked
        result["flow_id"], {"player": kitchen, "power_switch": lamp.id}
    )
    assert result["errors"] == {"power_switch": "wrong_domain"}
    result = await options.async_configure(
        result["flow_id"], {"player": kitchen, "power_switch": "switch.gone"}
    )
    assert result["errors"] == {"power_switch": "entity_not_found"}
    result = await options.async_configure(
        result["flow_id"], {"player": kitchen, "power_switch": PLUG}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert setup_entry.options[CONF_POWER_SWITCHES] == {kitchen: PLUG}

    result = await options.async_init(setup_entry.entry_id)  # the entry reloaded
    result = await options.async_configure(result["flow_id"], {"next_step_id": "power_switches"})
    assert result["description_placeholders"] == {"assigned": f"Kitchen: {PLUG}"}
    result = await options.async_configure(result["flow_id"], {"player": kitchen})
    assert result["type"] is FlowResultType.CREATE_ENTRY  # left empty: the plug is removed
    await hass.async_block_till_done()
    assert setup_entry.options[CONF_POWER_SWITCHES] == {}
