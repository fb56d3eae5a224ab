"""Helpers the test modules share: polling, reading states and registries, raising cards.

Not a test module: test modules import from here (and get fixtures from conftest.py), never
from each other.
"""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
import time
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter import coordinator, watcher
from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.sonos_health import error_rules, link_rules
from sonos_emulator import Emulator, Fault


async def setup_platform(
    hass: HomeAssistant, entry: MockConfigEntry, platform: Platform
) -> MockConfigEntry:
    """Set the integration up with one platform only, as snapshot_platform wants.

    The entry needs the `cloud_dns` fixture, as `setup_entry` does.
    """
    entry.add_to_hass(hass)
    with patch("custom_components.sonos_troubleshooter.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return entry


async def poll(hass: HomeAssistant, entry: MockConfigEntry, times: int = 1) -> None:
    """Run the coordinator's poll now, as its timer would."""
    for _ in range(times):
        await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


def state(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state; it must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def uid(emulator: Emulator, name: str) -> str:
    """Return the player id of an emulated player, by its name."""
    return emulator.household.player(name).uid


def device_id(hass: HomeAssistant, entry: ConfigEntry, identifier: str) -> str:
    """Return the id of this integration's device with the identifier (a uid or household id)."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, identifier), entry.entry_id)
    assert device is not None, identifier
    return device.id


def shown_cards(hass: HomeAssistant) -> dict[str, dict[str, str] | None]:
    """The repair cards shown now (active issues of this integration): their placeholders."""
    return {
        issue_id: issue.translation_placeholders
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.active
    }


async def switch_off(
    hass: HomeAssistant, entry: MockConfigEntry, emulator: Emulator, name: str = "Kitchen"
) -> str:
    """Switch a player (the wired Kitchen) off until it shows 1001; return its issue id."""
    emulator.household.set_fault(name, Fault.OFFLINE)
    await poll(hass, entry, times=2)
    issue_id = f"error_1001_{emulator.household.player(name).uid}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    return issue_id


async def all_off(hass: HomeAssistant, entry: MockConfigEntry, emulator: Emulator) -> str:
    """Switch every player off until the household's 1001 card shows; return its issue id."""
    for player in emulator.household.players:
        emulator.household.set_fault(player.name, Fault.OFFLINE)
    await poll(hass, entry, times=2)
    issue_id = f"error_1001_all_{emulator.household.household_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    return issue_id


async def cloud_card(
    hass: HomeAssistant, entry: MockConfigEntry, emulator: Emulator
) -> ir.IssueEntry:
    """Poll until the household's 1003 card shows (its cloud check failing); return it."""
    await poll(hass, entry, times=2)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"error_1003_{emulator.household.household_id}"
    )
    assert issue is not None
    return issue


async def open_options(hass: HomeAssistant, entry: MockConfigEntry, page: str) -> ConfigFlowResult:
    """Open the options and pick one group from its menu."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["settings", "power_switches", "router"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": page}
    )


async def set_options(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    """Change the entry's options as the options flow does (the entry reloads)."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


WATCHER_CHECK_EVERY = 0.3  # seconds between checks on the sped-up clock (5 s in production)


@contextmanager
def sped_up_watcher(poll_gap: float = 0.3) -> Iterator[None]:
    """The watcher's clock, sped up about fifteen times, with `poll_gap` between polls."""
    with (
        patch.object(watcher, "CHECK_EVERY", WATCHER_CHECK_EVERY),
        patch.object(watcher, "CHECK_JITTER", 0.05),
        patch.object(watcher, "RECHECK_AFTER", 0.1),
        patch.object(watcher, "CONNECT_TIMEOUT", 0.3),
        patch.object(watcher, "PROBE_TIMEOUT", 0.5),
        patch.object(coordinator, "POLL_GAP", poll_gap),
        patch.object(error_rules, "CONFIRM_SPAN", timedelta(seconds=0.3)),
        patch.object(link_rules, "CONFIRM_SPAN", timedelta(seconds=0.3)),
        patch.object(link_rules, "DROPOUT_SPAN", timedelta(seconds=0.15)),
    ):
        yield


async def until(hass: HomeAssistant, condition: Callable[[], bool], limit: float) -> float:
    """Wait until `condition` holds (at most `limit` seconds); return how long it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < limit, "not within the limit"
        await asyncio.sleep(0.02)
    await hass.async_block_till_done()
    return time.monotonic() - started
