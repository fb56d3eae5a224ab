"""Hands-on fixes: power cycles and router restarts performed from the repair cards.

The plugs, the router button and the frozen clock come from tests/plugs.py; the power_cycle
action is in test_services.py, choosing a plug in test_config_flow.py.
"""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import (
    CONF_POWER_SWITCHES,
    CONF_ROUTER_ENTITY,
    CONF_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
)
from custom_components.sonos_troubleshooter.sonos_health.power_rules import Outcome
from sonos_emulator import Emulator
from tests.helpers import all_off, cloud_card, set_options, state, switch_off, uid
from tests.plugs import (
    PLUG,
    ROUTER,
    STRIP,
    advance,
    kitchen_down_on_a_plug,
    last_action,
    pause,
    settle,
    settle_action,
    wire,
)
from tests.repair_flow import Flow

# No minimum time on screen: the waits under test are the documented ones.
pytestmark = pytest.mark.usefixtures("instant_checks")


async def test_power_cycle_from_the_card_with_the_documented_timing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plugs: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
) -> None:
    issue_id = await kitchen_down_on_a_plug(hass, setup_entry, household)
    # The default minute between timer polls: the test's 10 s would put one on the very
    # second the power returns, racing the speaker's start, and "not checked yet" below
    # would hold only when the poll's request lost that race.
    await set_options(hass, setup_entry, **{CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL})
    # The plug: power back on, the speaker starts and answers (its glitch cleared).
    switched = wire(
        hass,
        PLUG,
        lambda new: household.household.heal("Kitchen") if new == "on" else None,
    )

    result = await flow.start(issue_id)
    assert result["menu_options"] == ["start", "check"]  # nothing done yet
    result = await to_the_power_cycle(flow)
    assert result["menu_options"] == ["do_it", "check", "skip"]

    started = dt_util.utcnow()
    result = await flow.choose("do_it")
    assert result["type"] == "progress"
    assert result["progress_action"] == "power_cycle"
    assert result["description_placeholders"]["entity"] == PLUG
    assert result["description_placeholders"]["off_seconds"] == "30"
    await settle_action(hass, setup_entry, lambda record: record.switched_off is not None)
    assert switched == ["off"]

    await advance(hass, freezer, 29)
    assert switched == ["off"]  # the documented 30 seconds, not less
    await advance(hass, freezer, 1)
    await settle(hass, lambda: switched == ["off", "on"])
    assert state(hass, "sensor.kitchen_error_code") == "1001"  # not checked yet

    await advance(hass, freezer, 10)  # the first check after power returns
    await settle_action(hass, setup_entry, lambda record: record.outcome is not Outcome.RUNNING)
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


async def to_the_power_cycle(flow: Flow) -> dict[str, Any]:
    """Start the walk-through and skip to the power cycle (a wired Kitchen checks its cable first)."""
    result = await flow.choose("start")
    while result["step_id"] != "power_cycle_speaker":
        assert "do_it" not in result["menu_options"]  # nothing to do for the cable's steps
        result = await flow.choose("skip")
    return result


async def do_it(hass: HomeAssistant, flow: Flow, issue_id: str, step: str) -> dict[str, Any]:
    """Open the card, walk to `step` and press "Do it for me"; return the progress page."""
    result = await flow.start(issue_id)
    result = await flow.choose("start")
    while result["step_id"] != step:
        result = await flow.choose("skip")
    assert "do_it" in result["menu_options"]
    result = await flow.choose("do_it")
    await hass.async_block_till_done()
    return result


async def outcome(hass: HomeAssistant, flow: Flow) -> dict[str, Any]:
    """Wait for the action (or its refusal) to be told; return the page the dialog shows."""
    for _ in range(1000):
        result = await flow.reload()
        if result["type"] != "progress":
            return result
        await pause(hass)
    raise AssertionError("the action never ended")


async def test_power_cycle_that_does_not_help_is_reported_and_kept_on_the_card(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plugs: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
) -> None:
    issue_id = await kitchen_down_on_a_plug(hass, setup_entry, household)
    switched = wire(hass, PLUG, lambda _: None)  # the speaker stays silent

    await do_it(hass, flow, issue_id, "power_cycle_speaker")
    await settle(hass, lambda: switched == ["off"])
    await advance(hass, freezer, 30)
    await settle(hass, lambda: switched == ["off", "on"])
    await advance(hass, freezer, 119)
    assert last_action(setup_entry).outcome is Outcome.RUNNING  # still giving it time
    await advance(hass, freezer, 1)  # 2 minutes after power returned: given up
    result = await outcome(hass, flow)
    assert result["step_id"] == "power_cycle_not_helped"
    assert result["menu_options"] == ["next", "check"]
    assert result["description_placeholders"]["entity"] == PLUG
    record = last_action(setup_entry)
    assert record.outcome is Outcome.NOT_HELPED
    assert record.finished is not None
    assert record.switched_on is not None
    assert record.finished - record.switched_on == timedelta(seconds=120)
    result = await flow.choose("next")
    assert result["step_id"] == "restart_router"
    assert result["menu_options"] == ["check", "skip"]  # no router entity: by hand only

    # Opened again later, the card offers what was done about it.
    result = await flow.start(issue_id)
    assert result["menu_options"] == ["start", "check", "last_action"]
    assert result["description_placeholders"]["last_action_at"] != "-"
    result = await flow.choose("last_action")
    assert result["step_id"] == "power_cycle_not_helped"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert state(hass, PLUG) == "on"


async def test_a_plug_that_also_feeds_an_answering_player_is_not_cut(
    hass: HomeAssistant, plugs: None, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    plugs_of = {uid(household, "Kitchen"): STRIP, uid(household, "Roam"): STRIP}
    await set_options(hass, setup_entry, **{CONF_POWER_SWITCHES: plugs_of})
    issue_id = await switch_off(hass, setup_entry, household)
    switched = wire(hass, STRIP, lambda _: None)

    await do_it(hass, flow, issue_id, "power_cycle_speaker")
    result = await outcome(hass, flow)
    assert result["step_id"] == "refused_shared_switch"
    assert result["description_placeholders"]["others"] == "Roam"
    assert result["description_placeholders"]["entity"] == STRIP
    assert switched == []
    assert setup_entry.runtime_data.action_log.records == []  # nothing done, nothing recorded


async def test_an_unavailable_plug_is_not_trusted(
    hass: HomeAssistant, plugs: None, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    dead = "switch.dead_plug"
    assert state(hass, dead) == "unavailable"
    issue_id = await kitchen_down_on_a_plug(hass, setup_entry, household, dead)

    await do_it(hass, flow, issue_id, "power_cycle_speaker")
    result = await outcome(hass, flow)
    assert result["step_id"] == "refused_entity_unavailable"
    assert result["description_placeholders"]["entity"] == dead
    assert state(hass, "input_boolean.dead_power") == "on"


async def test_player_back_before_the_click_is_fixed_not_cut(
    hass: HomeAssistant, plugs: None, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await kitchen_down_on_a_plug(hass, setup_entry, household)
    switched = wire(hass, PLUG, lambda _: None)
    result = await flow.start(issue_id)
    result = await to_the_power_cycle(flow)
    household.household.heal("Kitchen")  # back on its own while the page was open

    await flow.choose("do_it")
    result = await outcome(hass, flow)
    assert result["type"] == "create_entry"
    assert result["description"] == "fixed"
    assert switched == []


async def cloud_blocked(
    hass: HomeAssistant, entry: MockConfigEntry, emulator: Emulator, router: str
) -> str:
    """Choose the router's entity, block the Sonos cloud until 1003; return the issue id."""
    await set_options(hass, entry, **{CONF_ROUTER_ENTITY: router})
    emulator.cloud.set_cloud_reachable(False)
    return (await cloud_card(hass, entry, emulator)).issue_id


async def test_router_restart_button_from_the_1003_card(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plugs: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
) -> None:
    issue_id = await cloud_blocked(hass, setup_entry, household, ROUTER)
    # The router: pressed, it restarts and the Sonos cloud is reachable again.
    wire(hass, "input_boolean.router_pressed", lambda _: household.cloud.heal())

    result = await do_it(hass, flow, issue_id, "restart_router")
    assert result["progress_action"] == "router_restart"
    assert result["description_placeholders"]["start_seconds"] == "120"
    await settle_action(hass, setup_entry, lambda record: record.switched_on is not None)
    assert state(hass, "input_boolean.router_pressed") == "on"
    await advance(hass, freezer, 119)
    # The timer's own polls saw the cloud come back; the action judges only after the
    # documented 2 minutes the router needs to start.
    assert last_action(setup_entry).outcome is Outcome.RUNNING
    await advance(hass, freezer, 1)
    result = await outcome(hass, flow)
    assert result["type"] == "create_entry", result
    assert result["description"] == "fixed_router_restart"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    record = last_action(setup_entry)
    assert record.outcome is Outcome.HELPED
    assert record.switched_off is None  # a button: pressed, not switched


async def test_router_on_a_switch_is_cycled(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plugs: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
) -> None:
    issue_id = await cloud_blocked(hass, setup_entry, household, STRIP)
    switched = wire(hass, STRIP, lambda _: None)  # the cloud stays blocked

    await do_it(hass, flow, issue_id, "restart_router")
    await settle(hass, lambda: switched == ["off"])
    await advance(hass, freezer, 29)
    assert switched == ["off"]
    await advance(hass, freezer, 1)
    await settle(hass, lambda: switched == ["off", "on"])
    await advance(hass, freezer, 180)  # 2 minutes to start, then a minute of checks
    result = await outcome(hass, flow)
    assert result["step_id"] == "router_restart_not_helped"


async def test_router_restart_refused_when_home_assistant_is_cut_off(
    hass: HomeAssistant, plugs: None, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    await set_options(hass, setup_entry, **{CONF_ROUTER_ENTITY: ROUTER})
    household.cloud.set_internet(False)
    issue_id = await all_off(hass, setup_entry, household)

    await do_it(hass, flow, issue_id, "restart_router")
    result = await outcome(hass, flow)
    assert result["step_id"] == "refused_no_network_path"
    assert state(hass, "input_boolean.router_pressed") == "off"  # never pressed
    result = await flow.choose("next")
    assert result["type"] == "menu"


async def test_a_failing_plug_is_reported(
    hass: HomeAssistant, plugs: None, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await kitchen_down_on_a_plug(hass, setup_entry, household)
    hass.services.async_remove("input_boolean", "turn_off")  # the plug's integration broke

    await do_it(hass, flow, issue_id, "power_cycle_speaker")
    result = await outcome(hass, flow)
    assert result["step_id"] == "action_failed"
    assert "turn_off" in result["description_placeholders"]["error"]
    assert last_action(setup_entry).outcome is Outcome.FAILED
    assert state(hass, PLUG) == "on"


async def test_unloading_mid_cycle_switches_the_plug_back_on(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    plugs: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
) -> None:
    issue_id = await kitchen_down_on_a_plug(hass, setup_entry, household)
    switched = wire(hass, PLUG, lambda _: None)
    await do_it(hass, flow, issue_id, "power_cycle_speaker")
    await settle(hass, lambda: switched == ["off"])
    await advance(hass, freezer, 5)
    action_log = setup_entry.runtime_data.action_log

    await hass.config_entries.async_unload(setup_entry.entry_id)
    await hass.async_block_till_done()
    assert switched == ["off", "on"]  # never left without power
    record = action_log.records[-1]
    assert record.outcome is Outcome.INTERRUPTED
    assert record.switched_on is not None


async def test_restart_mid_cycle_switches_the_plug_back_on_at_start(
    hass: HomeAssistant,
    plugs: None,
    config_entry: MockConfigEntry,
    cloud_dns: None,
    household: Emulator,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant was killed with the plug off: the stored record says so."""
    kitchen = uid(household, "Kitchen")
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_POWER_SWITCHES: {kitchen: PLUG}}
    )
    started = dt_util.utcnow() - timedelta(seconds=12)
    hass_storage[f"{DOMAIN}.{config_entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{config_entry.entry_id}",
        "data": {
            "players": [],
            "diagnosis": {},
            "actions": [
                {
                    "action": "power_cycle",
                    "entity_id": PLUG,
                    "subject": kitchen,
                    "subject_name": "Kitchen",
                    "started": started.isoformat(),
                    "switched_off": started.isoformat(),
                    "switched_on": None,
                    "finished": None,
                    "outcome": "running",
                    "error": None,
                },
                {"action": "unreadable"},
            ],
        },
    }
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.kitchen_power"}, blocking=True
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert state(hass, PLUG) == "on"
    record = last_action(config_entry)
    assert record.outcome is Outcome.INTERRUPTED
    assert record.switched_on is not None
    assert len(config_entry.runtime_data.action_log.records) == 1  # the unreadable one is dropped
