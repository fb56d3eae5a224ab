"""Guided fixes driven as the frontend drives them: HTTP calls to the repairs flow API.

Which cards are raised, and when they go, is in test_issues.py.
"""

import asyncio
from collections.abc import Callable
from http import HTTPStatus
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter import repairs
from custom_components.sonos_troubleshooter.const import DOMAIN, STATUS_PAGE_URL
from custom_components.sonos_troubleshooter.repairs import async_create_fix_flow
from custom_components.sonos_troubleshooter.sonos_health.error_catalog import (
    CABLE_STEPS,
    ERROR_1001,
    ERROR_1003,
    PlayerCard,
    steps_for,
)
from custom_components.sonos_troubleshooter.sonos_health.error_rules import CloudCause, ErrorCode
from sonos_emulator import CloudSimulation, DnsFailure, Emulator, Fault
from tests.helpers import all_off, cloud_card, poll, state, switch_off
from tests.repair_flow import FIX, Flow

pytestmark = pytest.mark.usefixtures("instant_checks")

# Kitchen, the player these flows switch off, is on a cable: its card starts with the cable.
KITCHEN_STEPS = steps_for(ErrorCode.E1001, card=PlayerCard.PLAYER_WIRED)


def leave_card(hass: HomeAssistant, entry: MockConfigEntry, issue_id: str, uid: str) -> None:
    """Put a player's 1001 card in the registry as the integration would have left it."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.ERROR,
        translation_key="error_1001",
        data={"entry_id": entry.entry_id, "kind": "player", "uid": uid},
    )


async def test_1001_fixed_at_the_second_step(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    kitchen = household.household.player("Kitchen")
    issue_id = await switch_off(hass, setup_entry, household)

    result = await flow.start(issue_id)
    assert result["type"] == "menu"
    assert result["step_id"] == "init"
    assert result["menu_options"] == ["start", "check"]
    facts = result["description_placeholders"]
    assert facts["name"] == "Kitchen"
    assert facts["model"] == "Sonos Amp"
    assert facts["address"] == kitchen.ip
    assert facts["serial"] == kitchen.serial
    assert facts["link"] == "Ethernet"

    result = await flow.choose("start")
    assert result["step_id"] == KITCHEN_STEPS[0] == "check_link_lights"
    assert result["menu_options"] == ["check", "skip"]
    assert result["description_placeholders"]["step"] == "1"
    assert result["description_placeholders"]["steps"] == str(len(KITCHEN_STEPS))

    result = await flow.choose("check")  # still off: the verdict says so, in its own page
    assert result["step_id"] == "still_failing"
    assert result["description_placeholders"]["checked_at"]
    assert state(hass, "sensor.kitchen_error_code") == "1001"

    result = await flow.choose("next")
    assert result["step_id"] == KITCHEN_STEPS[1]
    assert result["description_placeholders"]["step"] == "2"

    household.household.heal("Kitchen")
    result = await flow.choose("check")
    assert result["type"] == "create_entry"
    assert result["description"] == "fixed"
    assert result["description_placeholders"]["name"] == "Kitchen"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert state(hass, "sensor.kitchen_error_code") == "ok"


async def test_1001_still_failing_after_every_step(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await switch_off(hass, setup_entry, household)
    await flow.start(issue_id)
    result = await flow.choose("start")
    seen = [result["step_id"]]
    for _ in KITCHEN_STEPS[1:]:
        assert await flow.reload() == result  # each page, reloaded, is the same page
        result = await flow.choose("skip")
        seen.append(result["step_id"])
    assert seen == list(KITCHEN_STEPS)  # every step of its card, in its order

    result = await flow.choose("skip")
    assert result["step_id"] == "escalate"
    assert (
        result["description_placeholders"]["serial"] == household.household.player("Kitchen").serial
    )
    result = await flow.choose("check")
    assert result["step_id"] == "still_failing"
    result = await flow.choose("next")
    assert result["step_id"] == "escalate"  # nothing after the last step but the advice
    result = await flow.choose("finish")
    assert result["type"] == "abort"
    assert result["reason"] == "still_failing"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)  # the card stays


async def test_check_from_the_overview_and_pages_that_reload(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await switch_off(hass, setup_entry, household)
    await flow.start(issue_id)
    result = await flow.choose("check")
    assert result["step_id"] == "still_failing"
    assert (await flow.reload())["step_id"] == "still_failing"  # a reload shows the same page
    result = await flow.choose("next")
    assert result["step_id"] == KITCHEN_STEPS[0]
    result = await flow.choose("skip")
    assert (await flow.reload())["step_id"] == KITCHEN_STEPS[1]
    for _ in KITCHEN_STEPS[1:]:
        result = await flow.choose("skip")
    assert (await flow.reload())["step_id"] == "escalate"


async def test_check_stays_on_screen_until_the_dialog_can_follow_it(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await switch_off(hass, setup_entry, household)
    await flow.start(issue_id)
    await flow.choose("start")
    polled = asyncio.Event()
    unsubscribe = setup_entry.runtime_data.coordinator.async_add_listener(polled.set)

    with patch.object(repairs, "CHECK_SHOWN_FOR_SECONDS", 3600):
        response = await flow.client.post(f"{FIX}/{flow.flow_id}", json={"next_step_id": "check"})
        assert (await response.json())["type"] == "progress"
        await asyncio.wait_for(polled.wait(), 10)  # the poll itself is quick
        assert (await flow.reload())["type"] == "progress"  # still shown: no lost event

    unsubscribe()
    response = await flow.client.delete(f"{FIX}/{flow.flow_id}")  # closing the dialog
    assert response.status == HTTPStatus.OK
    await hass.async_block_till_done()
    assert not [task for task in asyncio.all_tasks() if "_poll_now" in repr(task)]


async def test_problem_clearing_while_the_flow_is_open(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await switch_off(hass, setup_entry, household)
    await flow.start(issue_id)
    await flow.choose("start")

    household.household.heal("Kitchen")
    await poll(hass, setup_entry)  # the regular poll notices first and removes the card
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)

    result = await flow.choose("skip")
    assert result["type"] == "create_entry"
    assert result["description"] == "fixed"


async def test_flow_for_an_issue_that_has_cleared(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await switch_off(hass, setup_entry, household)
    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    response = await flow.client.post(FIX, json={"handler": DOMAIN, "issue_id": issue_id})
    assert response.status == HTTPStatus.BAD_REQUEST  # the card is gone: nothing to open

    # A card left over (the error cleared between the poll and the click) closes itself.
    leave_card(hass, setup_entry, issue_id, household.household.player("Kitchen").uid)
    result = await flow.start(issue_id)
    assert result["type"] == "create_entry"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


async def test_flow_while_the_integration_is_not_running(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await switch_off(hass, setup_entry, household)
    await flow.start(issue_id)
    await flow.choose("start")
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    result = await flow.choose("check")
    assert result["type"] == "abort"
    assert result["reason"] == "entry_not_loaded"

    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)  # back with the entry

    # A card left over while the entry is not running (a race with its unload) says why
    # nothing can be checked.
    leave_card(hass, setup_entry, issue_id, "RINCON_GONE")
    result = await flow.start(issue_id)
    assert result["type"] == "abort"
    assert result["reason"] == "entry_not_loaded"
    response = await flow.client.post(f"{FIX}/{flow.flow_id}", json={"next_step_id": "skip"})
    assert response.status == HTTPStatus.NOT_FOUND


async def test_all_players_down_starts_with_the_router(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    issue_id = await all_off(hass, setup_entry, household)
    result = await flow.start(issue_id)
    assert result["description_placeholders"]["count"] == "3"
    details = result["description_placeholders"]["details"].splitlines()
    assert details == [  # what support asks for, for each player, by name
        f"- **{p.name}**: {p.model_name}, {p.ip}, `{p.serial}`"
        for p in sorted(household.household.players, key=lambda p: p.name)
    ]
    result = await flow.choose("start")
    assert result["step_id"] == "restart_router"
    result = await flow.choose("check")
    assert result["step_id"] == "still_failing"

    household.household.heal_all()
    result = await flow.choose("check")
    assert result["type"] == "create_entry"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


async def test_1003_walkthrough_names_what_failed(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    household.cloud.set_cloud_reachable(False)
    issue = await cloud_card(hass, setup_entry, household)
    issue_id = issue.issue_id
    assert issue.translation_key == "error_1003_ports_blocked"
    assert issue.is_fixable

    result = await flow.start(issue_id)
    result = await flow.choose("start")
    assert result["step_id"] == "check_firewall"  # the measured cause's step first
    facts = result["description_placeholders"]
    assert facts["failed_targets"] == ", ".join(household.cloud.cloud_targets)
    assert facts["unresolved"] == "-"
    assert facts["reference"] == f"{len(household.cloud.reference_targets)}/2"
    seen = [result["step_id"]]
    for _ in ERROR_1003.steps[1:]:
        assert await flow.reload() == result  # each page, reloaded, is the same page
        result = await flow.choose("skip")
        seen.append(result["step_id"])
    # The cause's step, then the documented order.
    assert seen == ["check_firewall", *(s for s in ERROR_1003.steps if s != "check_firewall")]
    assert seen == list(steps_for(ErrorCode.E1003, CloudCause.PORTS_BLOCKED))

    result = await flow.choose("check")
    assert result["step_id"] == "still_failing"
    household.cloud.set_cloud_reachable(True)
    result = await flow.choose("check")
    assert result["type"] == "create_entry"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert state(hass, "sensor.kitchen_error_code") == "ok"


async def test_1001_pages_say_the_band_and_which_players_still_answer(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    household.household.set_fault("Roam", Fault.OFFLINE)  # switched off, not asleep
    await poll(hass, setup_entry, times=2)
    result = await flow.start(f"error_1001_{household.household.player('Roam').uid}")
    assert result["description_placeholders"]["link"] == "Wi-Fi 5 GHz"
    await flow.choose("start")
    result = await flow.choose("skip")
    assert result["step_id"] == "restart_router"
    assert result["description_placeholders"]["answering"] == "Kitchen, Living Room"

    household.household.set_fault("Kitchen", Fault.HANG)  # no answer: not named any more
    await poll(hass, setup_entry)
    result = await flow.reload()
    assert result["description_placeholders"]["answering"] == "Living Room"


@pytest.mark.parametrize(
    ("change", "cause", "first_step"),
    [
        (lambda cloud: cloud.set_dns(DnsFailure.SERVFAIL), "dns_failure", "restart_router"),
        (lambda cloud: cloud.set_internet(False), "internet_down", "restart_router"),
    ],
)
async def test_1003_flow_per_cause_says_what_was_measured(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
    change: Callable[[CloudSimulation], object],
    cause: str,
    first_step: str,
) -> None:
    change(household.cloud)
    issue = await cloud_card(hass, setup_entry, household)
    issue_id = issue.issue_id
    assert issue.translation_key == f"error_1003_{cause}"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["details"].count("\n- **") == 2  # three players
    for player in household.household.players:
        assert f"{player.ip}, `{player.serial}`" in issue.translation_placeholders["details"]

    result = await flow.start(issue_id)
    result = await flow.choose("start")
    seen = [result["step_id"]]
    facts = result["description_placeholders"]
    while (result := await flow.choose("skip"))["step_id"] != "escalate":
        seen.append(result["step_id"])
    assert seen == list(steps_for(ErrorCode.E1003, CloudCause(cause)))
    assert seen[0] == first_step
    assert facts["status_url"] == STATUS_PAGE_URL
    cloud_names = ", ".join(household.cloud.cloud_targets)
    match cause:
        case "dns_failure":
            assert facts["unresolved"] == cloud_names
            assert facts["failed_targets"] == "-"
            assert facts["reference"] == "2/2"  # the internet itself is fine
        case "internet_down":
            assert facts["reference"] == "0/2"


async def test_card_rendered_by_home_assistant_has_every_fact_and_step(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    """Format the translations HA loads with the flow's facts, as the frontend does."""
    issue_id = await switch_off(hass, setup_entry, household)
    translations = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.error_1001_wired"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    title = translations[f"{prefix}.title"].format(**issue.translation_placeholders)
    assert title == "Kitchen cannot reach the network over its cable (Sonos error 1001)"

    result = await flow.start(issue_id)
    overview = translations[f"{prefix}.fix_flow.step.init.description"].format(
        **result["description_placeholders"]
    )
    kitchen = household.household.player("Kitchen")
    assert "Kitchen" in overview
    assert kitchen.serial in overview
    assert kitchen.ip in overview
    assert "on a network cable" in overview
    assert "Wi-Fi" not in overview.replace("the Wi-Fi causes do not apply", "")
    for number in range(1, len(KITCHEN_STEPS) + 1):
        assert f"\n{number}. **" in overview
    result = await flow.choose("start")
    page = translations[f"{prefix}.fix_flow.step.{result['step_id']}.description"].format(
        **result["description_placeholders"]
    )
    assert (
        f"Kitchen (Sonos Amp) is connected by cable and was last seen at address {kitchen.ip}"
        in page
    )
    assert "{" not in page


async def test_flow_kinds_and_step_handlers(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    flow = await async_create_fix_flow(
        hass, "error_1003_x", {"entry_id": setup_entry.entry_id, "kind": "cloud"}
    )
    assert type(flow).__name__ == "CloudFixFlow"
    for step in (*ERROR_1001.steps, *CABLE_STEPS, *ERROR_1003.steps):  # every page reloads
        assert hasattr(flow, f"async_step_{step}")
    assert not hasattr(flow, "async_step_unplug_everything")

    player_flow = await async_create_fix_flow(
        hass, "error_1001_gone", {"entry_id": setup_entry.entry_id, "kind": "player", "uid": "gone"}
    )
    # A player deleted while its flow is open is named by its id and counts as fixed.
    snapshot = setup_entry.runtime_data.coordinator.data
    assert player_flow._facts(snapshot) == {"name": "gone", "address": "-"}
    assert not player_flow._is_failing(snapshot)


@pytest.mark.parametrize("data", [None, {"kind": "unstable"}, {"kind": "topology"}, {"kind": "x"}])
async def test_an_issue_without_a_guided_fix_gets_no_flow(
    hass: HomeAssistant, data: dict[str, str] | None
) -> None:
    """A card to read, or an unknown kind, is an error: never the cloud's steps."""
    with pytest.raises(ValueError, match="No repair flow for issue some_issue"):
        await async_create_fix_flow(hass, "some_issue", data)


async def test_upnp_flow_shows_the_app_setting_and_closes_once_it_is_on(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.HTTP_403)
    await poll(hass, setup_entry)
    issue_id = f"upnp_disabled_{kitchen.uid}"
    translations = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.upnp_disabled"

    result = await flow.start(issue_id)
    assert result["menu_options"] == ["start", "check"]
    overview = translations[f"{prefix}.fix_flow.step.init.description"].format(
        **result["description_placeholders"]
    )
    assert "HTTP 403" in overview
    assert kitchen.ip in overview
    assert "Account > Privacy & Security > UPnP" in overview
    result = await flow.choose("start")
    assert result["step_id"] == "enable_upnp"
    assert result["menu_options"] == ["check", "skip"]  # nothing Home Assistant can do itself
    result = await flow.choose("check")
    assert result["step_id"] == "still_failing"

    household.household.heal("Kitchen")  # UPnP switched on in the app
    result = await flow.choose("check")
    assert (result["type"], result["description"]) == ("create_entry", "fixed")
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


# The Sonos app's one place for the setting, in each language's words (the phrase books).
UPNP_PATHS = {
    "en": "Account > Privacy & Security > UPnP",
    "de": "Konto > Datenschutz und Sicherheit > UPnP",
    "es": "Cuenta > Privacidad y seguridad > UPnP",
    "fr": "Compte > Confidentialité et sécurité > UPnP",
    "it": "Account > Privacy e sicurezza > UPnP",
    "nl": "Account > Privacy en veiligheid > UPnP",
}


async def test_upnp_household_flow_says_where_the_one_switch_is_and_closes_once_on(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    """One card, one step (the app setting, once for the system), a check that closes it."""
    household.household.set_upnp(False)
    await poll(hass, setup_entry)
    issue_id = f"upnp_disabled_all_{household.household.household_id}"
    prefix = f"component.{DOMAIN}.issues.upnp_disabled_household"

    result = await flow.start(issue_id)
    assert (result["step_id"], result["menu_options"]) == ("init", ["start", "check"])
    facts = result["description_placeholders"]
    for language, path in UPNP_PATHS.items():
        texts = await async_get_translations(hass, language, "issues", [DOMAIN])
        title = texts[f"{prefix}.title"]
        overview = texts[f"{prefix}.fix_flow.step.init.description"].format(**facts)
        assert "{" not in title
        assert path in overview, language
        assert "HTTP 403" in overview, language
        for player in household.household.players:  # serial numbers for support, at the end
            assert player.serial in overview, (language, player.name)
    english = await async_get_translations(hass, "en", "issues", [DOMAIN])
    assert english[f"{prefix}.title"] == "UPnP is switched off for your Sonos system"

    result = await flow.choose("start")
    assert (result["step_id"], result["menu_options"]) == ("enable_upnp", ["check", "skip"])
    page = english[f"{prefix}.fix_flow.step.enable_upnp.description"].format(
        **result["description_placeholders"]
    )
    assert "once for the whole system" in page
    assert "Kitchen, Living Room, Roam" in page
    result = await flow.choose("check")
    assert result["step_id"] == "still_failing"
    still = english[f"{prefix}.fix_flow.step.still_failing.description"].format(
        **result["description_placeholders"]
    )
    assert "still refuses with HTTP 403 (Kitchen, Living Room, Roam)" in still
    result = await flow.choose("next")
    assert result["step_id"] == "escalate"
    escalation = english[f"{prefix}.fix_flow.step.escalate.description"].format(
        **result["description_placeholders"]
    )
    assert household.household.player("Kitchen").serial in escalation

    household.household.set_upnp(True)  # switched on in the app
    result = await flow.choose("check")
    assert (result["type"], result["description"]) == ("create_entry", "fixed")
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert state(hass, "sensor.sonos_household_diagnosis") == "ok"


async def test_upnp_household_flow_ends_when_players_answer_before_a_check(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    """A dialog left open never shows a switch that is on again; one refusing alone is own."""
    household.household.set_upnp(False)
    await poll(hass, setup_entry)
    result = await flow.start(f"upnp_disabled_all_{household.household.household_id}")
    household.household.set_upnp(True)
    household.household.set_fault("Kitchen", Fault.HTTP_403)  # Kitchen did not take it
    await poll(hass, setup_entry)
    result = await flow.choose("start")
    assert (result["type"], result["description"]) == ("create_entry", "fixed")
    kitchen = household.household.player("Kitchen")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"upnp_disabled_{kitchen.uid}")
    assert issue is not None
    assert issue.translation_key == "upnp_disabled"

    result = await flow.start(f"upnp_disabled_{kitchen.uid}")
    facts = result["description_placeholders"]
    assert facts["answering"] == "Living Room, Roam"  # why it is Kitchen's own problem
    texts = await async_get_translations(hass, "en", "issues", [DOMAIN])
    overview = texts[f"component.{DOMAIN}.issues.upnp_disabled.fix_flow.step.init.description"]
    overview = overview.format(**facts)
    assert "while other players of the household answer properly (Living Room, Roam)" in overview
