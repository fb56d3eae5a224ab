"""Cards about HA core's Sonos integration: a lost speaker that answers, events not arriving.

Core Sonos is present as it shows itself in Home Assistant (tests/core_sonos.py).
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
import json
from unittest.mock import patch

from homeassistant.config_entries import ConfigFlow
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_config_flow
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.sonos_troubleshooter import repairs
from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.repair_facts import when
from sonos_emulator import Emulator, Fault
from tests.core_sonos import CORE, CoreSonos
from tests.helpers import poll, shown_cards
from tests.repair_flow import Flow

# core_rules.CORE_LOST_AFTER is 5 minutes; when core's states say they changed is what counts.
LOST_AT = dt_util.utcnow() - timedelta(minutes=6)


@pytest.fixture(autouse=True)
def core_flow_handler() -> Iterator[None]:
    """A bare flow handler in place of core Sonos' own, which would import core Sonos."""
    with mock_config_flow(CORE, ConfigFlow):
        yield


@pytest.fixture
async def core(hass: HomeAssistant, household: Emulator) -> CoreSonos:
    """Core Sonos set up, knowing every emulated speaker, all available."""
    core = CoreSonos(hass)
    for player in household.household.players:
        core.add_speaker(player)
        core.show(player, "idle")
    await core.async_start()
    return core


async def kitchen_lost(
    hass: HomeAssistant, entry: MockConfigEntry, household: Emulator, core: CoreSonos
) -> str:
    """Core shows Kitchen unavailable past the threshold while it answers; return the issue id."""
    core.show(household.household.player("Kitchen"), STATE_UNAVAILABLE, since=LOST_AT)
    await poll(hass, entry)
    return f"core_lost_{household.household.player('Kitchen').uid}"


async def test_no_card_before_core_had_time_to_find_it_itself(
    hass: HomeAssistant, core: CoreSonos, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.player("Kitchen")
    core.show(kitchen, STATE_UNAVAILABLE, since=dt_util.utcnow() - timedelta(minutes=4))
    await poll(hass, setup_entry, 2)
    assert not shown_cards(hass)


async def test_lost_while_answering_raises_the_card(
    hass: HomeAssistant,
    core: CoreSonos,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    issue_id = await kitchen_lost(hass, setup_entry, household, core)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "core_lost"
    assert issue.severity is ir.IssueSeverity.WARNING
    kitchen = household.household.player("Kitchen")
    placeholders = issue.translation_placeholders or {}
    assert placeholders["name"] == "Kitchen"
    assert placeholders["address"] == placeholders["core_address"] == kitchen.ip
    assert placeholders["events"] == "✅"
    assert placeholders["since"] == when(LOST_AT)
    assert core.setups == 1, "core Sonos is never touched without the user's click"

    core.show(kitchen, "idle")  # core found it again by itself
    await poll(hass, setup_entry)
    assert not shown_cards(hass)


async def test_lost_at_its_old_address(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    core = CoreSonos(hass)
    kitchen = household.household.player("Kitchen")
    core.add_speaker(kitchen, address="127.0.0.250")
    await core.async_start()
    issue_id = await kitchen_lost(hass, setup_entry, household, core)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "core_lost_moved"
    placeholders = issue.translation_placeholders or {}
    assert (placeholders["address"], placeholders["core_address"]) == (kitchen.ip, "127.0.0.250")


async def test_no_card_while_core_is_fine_or_absent(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    await poll(hass, setup_entry)
    assert not shown_cards(hass)  # core Sonos not installed: nothing of this appears
    assert set(setup_entry.runtime_data.coordinator.data.core.views.values()) == {None}

    core = CoreSonos(hass)
    for player in household.household.players:
        core.add_speaker(player)
        core.show(player, "idle", since=LOST_AT)
    await core.async_start()
    await poll(hass, setup_entry, 2)
    assert not shown_cards(hass)


async def test_silent_speaker_is_1001_not_lost_by_core(
    hass: HomeAssistant,
    core: CoreSonos,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    core.show(kitchen, STATE_UNAVAILABLE, since=LOST_AT)
    await poll(hass, setup_entry, 2)
    assert list(shown_cards(hass)) == [f"error_1001_{kitchen.uid}"]


async def test_fix_flow_reloads_core_and_closes_the_card(
    hass: HomeAssistant,
    core: CoreSonos,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
    instant_checks: None,
) -> None:
    issue_id = await kitchen_lost(hass, setup_entry, household, core)
    kitchen = household.household.player("Kitchen")
    result = await flow.start(issue_id)
    assert result["step_id"] == "init"
    assert result["menu_options"] == ["reload", "check"]
    assert core.setups == 1

    core.on_setup = lambda: core.show(kitchen, "idle")  # the reload finds it
    result = await flow.choose("reload")
    assert result["type"] == "progress"
    assert result["progress_action"] == "reload"
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload and its wait
    result = await flow.reload()
    assert result["type"] == "create_entry"
    assert result["description"] == "fixed_reload"
    assert core.setups == 2
    assert not shown_cards(hass)


async def test_reload_that_does_not_help_explains_the_next_causes(
    hass: HomeAssistant,
    core: CoreSonos,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
    instant_checks: None,
) -> None:
    issue_id = await kitchen_lost(hass, setup_entry, household, core)
    kitchen = household.household.player("Kitchen")
    core.on_setup = lambda: core.show(kitchen, STATE_UNAVAILABLE)  # core rewrites its states
    await flow.start(issue_id)
    with patch.object(repairs, "CORE_RECOVERY_WAIT", 0.05):
        await flow.choose("reload")
        await hass.async_block_till_done(wait_background_tasks=True)  # the reload and its wait
        result = await flow.reload()
    assert result["step_id"] == "still_lost"
    assert result["menu_options"] == ["reload", "check", "finish"]  # after a fix: again
    assert result["description_placeholders"]["address"] == kitchen.ip
    assert issue_id in shown_cards(hass), "a reload rewrites core's states, not the streak"

    result = await flow.choose("check")
    assert result["step_id"] == "still_failing"
    assert result["menu_options"] == ["reload", "check", "finish"]
    result = await flow.choose("finish")
    assert (result["type"], result["reason"]) == ("abort", "still_failing")

    core.show(kitchen, "idle")
    await flow.start(issue_id)
    result = await flow.choose("check")
    assert (result["type"], result["description"]) == ("create_entry", "fixed")


@pytest.fixture
async def listener() -> AsyncIterator[str]:
    """A TCP listener on loopback standing in for core's event listener."""
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_events_card_follows_core_subscriptions_failed(
    hass: HomeAssistant,
    core: CoreSonos,
    setup_entry: MockConfigEntry,
    household: Emulator,
    listener: str,
    flow: Flow,
    instant_checks: None,
) -> None:
    kitchen = household.household.player("Kitchen")
    core.raise_subscriptions_failed(kitchen.ip, listener)
    await poll(hass, setup_entry)
    issue_id = f"core_events_{household.household.household_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "core_events"
    placeholders = issue.translation_placeholders or {}
    assert placeholders["listener"] == listener
    assert placeholders["listener_open"] == "✅"
    assert placeholders["port_in_range"] == "❌"  # a random port, not soco's 1400-1499
    assert placeholders["players"] == "3"
    diagnostics_path = setup_entry.runtime_data.coordinator.data.core.events
    assert diagnostics_path is not None
    assert diagnostics_path.listener == listener

    core.on_setup = core.withdraw_subscriptions_failed  # the events arrive after the reload
    await flow.start(issue_id)
    await flow.choose("reload")
    await hass.async_block_till_done(wait_background_tasks=True)  # the reload and its wait
    result = await flow.reload()
    assert (result["type"], result["description"]) == ("create_entry", "fixed_reload")
    assert not shown_cards(hass)


async def test_events_card_closes_with_core_issue_and_tells_a_closed_listener_from_a_drop(
    hass: HomeAssistant, core: CoreSonos, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    card = f"core_events_{household.household.household_id}"
    # Nothing listens: soco closes core's listener between subscriptions, so that says nothing.
    core.raise_subscriptions_failed("127.0.0.9", "127.0.0.1:9 (advertising as 127.0.0.1)")
    await poll(hass, setup_entry)
    assert (shown_cards(hass)[card] or {})["listener_open"] == "❔"

    # Connections that neither open nor get refused (here a listen queue that is full) are
    # dropped on the way: a firewall on Home Assistant's own host.
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.SLOW_ACCEPT)
    core.raise_subscriptions_failed("127.0.0.9", f"{kitchen.ip}:1400")
    await poll(hass, setup_entry)
    assert (shown_cards(hass)[card] or {})["listener_open"] == "❌"

    household.household.heal("Kitchen")
    core.withdraw_subscriptions_failed()
    await poll(hass, setup_entry)
    assert not shown_cards(hass)


async def test_cards_render_with_every_placeholder(
    hass: HomeAssistant,
    core: CoreSonos,
    setup_entry: MockConfigEntry,
    household: Emulator,
    listener: str,
    flow: Flow,
) -> None:
    """Format the translations HA loads with the cards' and flows' facts, as the frontend does."""
    core.raise_subscriptions_failed(household.household.player("Kitchen").ip, listener)
    issue_id = await kitchen_lost(hass, setup_entry, household, core)
    translations = await async_get_translations(hass, "en", "issues", [DOMAIN])
    for card in (issue_id, f"core_events_{household.household.household_id}"):
        issue = ir.async_get(hass).async_get_issue(DOMAIN, card)
        assert issue is not None
        prefix = f"component.{DOMAIN}.issues.{issue.translation_key}"
        assert "{" not in translations[f"{prefix}.title"].format(**issue.translation_placeholders)
        result = await flow.start(card)
        facts = result["description_placeholders"]
        for page in ("init", "still_lost", "still_failing"):
            text = translations[f"{prefix}.fix_flow.step.{page}.description"].format(**facts)
            assert "{" not in text, (card, page)
        for progress in ("reload", "check"):
            assert "{" not in translations[f"{prefix}.fix_flow.progress.{progress}"].format(**facts)


async def test_diagnostics_show_what_was_compared(
    hass: HomeAssistant,
    core: CoreSonos,
    setup_entry: MockConfigEntry,
    household: Emulator,
    listener: str,
    hass_client: ClientSessionGenerator,
) -> None:
    kitchen = household.household.player("Kitchen")
    core.raise_subscriptions_failed(kitchen.ip, listener)
    await kitchen_lost(hass, setup_entry, household, core)
    result = await get_diagnostics_for_config_entry(hass, hass_client, setup_entry)
    compared = {player["name"]: player for player in result["core_sonos"]["players"]}
    assert compared["Kitchen"]["address"] == kitchen.ip
    assert compared["Kitchen"]["answered_properly"] is True
    assert compared["Kitchen"]["core"]["available"] is False
    assert compared["Kitchen"]["core"]["address"] == kitchen.ip
    assert compared["Kitchen"]["lost_by_core"]["uid"] == "**REDACTED**"
    assert compared["Living Room"]["core"]["available"] is True
    assert compared["Living Room"]["lost_by_core"] is None
    assert result["core_sonos"]["event_path"]["listener"] == listener
    assert kitchen.uid not in json.dumps(result)
