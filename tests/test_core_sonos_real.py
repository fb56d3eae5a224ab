"""HA core's own Sonos integration, running for real beside this one, on the emulated household.

Core is set up as its documentation says for networks discovery does not reach (`hosts:`) and
talks to the emulated players with its own soco, over real HTTP. Only SSDP is stood in for:
it multicasts, which tests never do. The emulator grants event subscriptions but never sends
an event, as a network that blocks the way back to Home Assistant does, so core raises its
`subscriptions_failed` issue as it would in such a home. What real core does only after
minutes (a speaker unavailable for 5 of them) is played by tests/core_sonos.py instead.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from unittest.mock import AsyncMock, patch

from homeassistant.components import network
from homeassistant.components.sonos import ssdp as core_ssdp
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    mock_integration,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import soco
from soco import events_asyncio

from custom_components.sonos_troubleshooter import repairs
from sonos_emulator import Emulator
from tests.core_sonos import CORE
from tests.helpers import poll, shown_cards
from tests.repair_flow import Flow

# Home Assistant's network, as the emulated household sees it: loopback (the test harness
# says 10.10.10.10, an address nothing here has).
LOOPBACK = [
    {
        "auto": True,
        "default": True,
        "enabled": True,
        "index": 1,
        "ipv4": [{"address": "127.0.0.1", "network_prefix": 8}],
        "ipv6": [],
        "name": "lo",
    }
]


@pytest.fixture
def loopback_network() -> Iterator[None]:
    with patch.object(network, "async_get_adapters", AsyncMock(return_value=LOOPBACK)):
        yield


@pytest.fixture
async def core(hass: HomeAssistant, household: Emulator) -> AsyncIterator[ConfigEntry]:
    """Core Sonos set up with every emulated player's address; its entry, once it is loaded."""
    mock_integration(hass, MockModule("ssdp"))  # core's dependency; it multicasts
    hosts = [player.ip for player in household.household.players]
    with patch.object(core_ssdp, "async_register_callback", AsyncMock(return_value=lambda: None)):
        assert await async_setup_component(hass, CORE, {CORE: {"media_player": {"hosts": hosts}}})
        await hass.async_block_till_done()
        (entry,) = hass.config_entries.async_entries(CORE)
        yield entry
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    # soco stops its event listener 5 s after the last subscription ends; now, here, and it
    # keeps each household's topology for every SoCo object: not for the next test.
    listener = events_asyncio.event_listener
    if listener._stop_grace_task is not None:
        listener._stop_grace_task.cancel()
        await asyncio.gather(listener._stop_grace_task, return_exceptions=True)
    await listener.async_stop()
    soco.SoCo.zone_group_states.clear()


async def subscriptions_failed(hass: HomeAssistant) -> ir.IssueEntry:
    """Wait for core's issue: it gives the first event 2 s (real time) once it has subscribed."""
    for _ in range(300):
        if issue := ir.async_get(hass).async_get_issue(CORE, "subscriptions_failed"):
            return issue
        await asyncio.sleep(0.1)
    raise AssertionError("core never gave up waiting for events")


async def test_core_finds_the_players_and_no_card_says_it_lost_one(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    core: ConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    await subscriptions_failed(hass)  # by then core has set every speaker up
    await poll(hass, setup_entry)
    result = await get_diagnostics_for_config_entry(hass, hass_client, setup_entry)
    compared = {player["name"]: player for player in result["core_sonos"]["players"]}
    assert set(compared) == {player.name for player in household.household.players}
    for player in household.household.players:
        seen = compared[player.name]
        assert seen["core"]["available"] is True, player.name  # core's own entity state
        assert seen["core"]["address"] == player.ip  # from core's device configuration URL
        assert seen["lost_by_core"] is None
    assert not any(card.startswith("core_lost") for card in shown_cards(hass))


async def test_events_card_from_core_own_issue_and_its_reload(
    hass: HomeAssistant,
    loopback_network: None,
    setup_entry: MockConfigEntry,
    household: Emulator,
    core: ConfigEntry,
    flow: Flow,
    instant_checks: None,
) -> None:
    issue = await subscriptions_failed(hass)
    listener = (issue.translation_placeholders or {})["listener_address"]
    await poll(hass, setup_entry)
    card = f"core_events_{household.household.household_id}"
    facts = shown_cards(hass)[card] or {}
    assert facts["listener"] == listener  # core's words, read back
    assert facts["address_is_local"] == "✅"  # soco listens on the address it routes from
    assert facts["port_in_range"] == "✅"
    assert facts["listener_open"] == "✅"  # up while core's subscriptions last
    assert facts["same_network"] == "✅"
    assert facts["players"] == str(len(household.household.players))

    # The guided fix reloads core for real; its events still cannot arrive, so the card stays.
    with patch.object(repairs, "CORE_RECOVERY_WAIT", 3):
        await flow.start(card)
        result = await flow.choose("reload")
        assert result["progress_action"] == "reload"
        await hass.async_block_till_done(wait_background_tasks=True)
    result = await flow.reload()
    assert result["step_id"] == "still_lost"
    assert core.state is ConfigEntryState.LOADED  # reloaded, set up again
    assert card in shown_cards(hass)

    # The way back opened (the firewall rule the card names): the next reload is the cure.
    # Core withdraws its issue at its first event; the wait ends then, not after the minute.
    household.household.events_reach_subscribers = True
    result = await flow.choose("reload")
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await flow.reload()
    assert (result["type"], result["description"]) == ("create_entry", "fixed_reload")
    assert not ir.async_get(hass).async_get_issue(CORE, "subscriptions_failed")
    assert card not in shown_cards(hass)
