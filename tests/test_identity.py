"""An address is not an identity, end to end: a gone player whose address another one took.

After an outage DHCP can give the address of a player that is gone to another Sonos player
(home-assistant/core issues 30298 and 107680). Any player answers the control call, so the
gone player must not read as answering: it shows 1001 in the usual time, the player that
took its address is followed there and stays ok, and no other player raises anything.
"""

import asyncio
from collections.abc import Iterator
from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import DOMAIN, INFO_REFRESH
from custom_components.sonos_troubleshooter.diagnostics import async_get_config_entry_diagnostics
from custom_components.sonos_troubleshooter.sonos_health.player_client import ProbeFailure
from sonos_emulator import Emulator, Fault, Player
from tests.helpers import poll, shown_cards, sped_up_watcher, state, until

DESCRIPTION = "GET /xml/device_description.xml"


@pytest.fixture
def household(household: Emulator) -> Emulator:
    """The three players of the shared household, and an Office whose address will change."""
    household.household.add_player("Office", model_name="Sonos Era 100", model_number="S39")
    return household


def descriptions(player: Player) -> int:
    """How many of the player's latest requests read its device description."""
    return sum(request == DESCRIPTION for request in player.requests)


def assert_taken(hass: HomeAssistant, entry: MockConfigEntry, kitchen: Player) -> None:
    """Kitchen (gone) in 1001 because Office answers at its address; Office fine there."""
    office = next(
        player
        for player in entry.runtime_data.coordinator.data.players.values()
        if player.room == "Office"
    )
    assert state(hass, "sensor.kitchen_error_code") == "1001"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "off"
    assert hass.states.get("sensor.kitchen_error_code").attributes["cause"] == "address_taken"
    seen = entry.runtime_data.coordinator.data.players[kitchen.uid]
    assert (seen.failure, seen.address_taken_by) == (ProbeFailure.ADDRESS_TAKEN, "Office")
    assert state(hass, "sensor.office_ip_address") == office.ip == kitchen.ip
    assert seen.ip == kitchen.ip
    assert state(hass, "sensor.office_error_code") == "ok"
    assert state(hass, "binary_sensor.office_network_connectivity") == "on"
    for name in ("living_room", "roam"):
        assert state(hass, f"sensor.{name}_error_code") == "ok"
    assert list(shown_cards(hass)) == [f"error_1001_{kitchen.uid}"]


async def test_gone_player_noticed_then_its_address_taken(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """As in a home: the player is gone a while before DHCP hands its address out again."""
    emulator = household.household
    kitchen = emulator.player("Kitchen")
    emulator.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry)  # a miss: whoever answers there next must say who it is
    emulator.move("Office", kitchen.ip)
    await poll(hass, setup_entry)  # the second poll since it went: 1001 as for any silence
    assert_taken(hass, setup_entry, kitchen)
    diagnostics = await async_get_config_entry_diagnostics(hass, setup_entry)
    shown = next(p for p in diagnostics["players"] if p["name"] == "Kitchen")
    assert (shown["failure"], shown["address_taken_by"]) == ("address_taken", "Office")
    assert shown["state"]["code"] == "1001"
    assert shown["info"]["model_name"] == "Sonos Amp"  # its own description, not Office's


@pytest.mark.parametrize("dropped", [False, True], ids=["still listed", "dropped by the household"])
async def test_address_taken_at_once_shows_1001_in_two_polls(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, dropped: bool
) -> None:
    """No check saw it go: the topology listing Office at its address is the reason to ask.

    The household may still list the gone player at its address for a while, or drop it.
    """
    emulator = household.household
    kitchen = emulator.player("Kitchen")
    if dropped:
        address = kitchen.ip
        emulator.remove_player("Kitchen")
        emulator.move("Office", address)
    else:
        emulator.take_address("Office", "Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"  # one failed poll is not 1001
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "off"
    await poll(hass, setup_entry)
    assert_taken(hass, setup_entry, kitchen)


async def test_without_topology_the_player_is_followed_by_its_description(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """A large household answers 501: Office is found where it answers in its own name."""
    emulator = household.household
    kitchen = emulator.player("Kitchen")
    emulator.zone_group_state_error = 501
    emulator.set_fault("Kitchen", Fault.OFFLINE)  # an outage: both go
    emulator.set_fault("Office", Fault.OFFLINE)
    await poll(hass, setup_entry)
    emulator.move("Office", kitchen.ip)  # Office back at Kitchen's address
    emulator.heal("Office")
    await poll(hass, setup_entry)
    assert_taken(hass, setup_entry, kitchen)


async def test_the_hourly_description_read_finds_a_taken_address(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """No missed check, no topology (501): the hourly re-read of the description tells."""
    emulator = household.household
    kitchen = emulator.player("Kitchen")
    emulator.zone_group_state_error = 501
    emulator.take_address("Office", "Kitchen")
    watched = setup_entry.runtime_data.coordinator.household.players[kitchen.uid]
    assert watched.info_read_at is not None
    watched.info_read_at -= INFO_REFRESH + timedelta(minutes=1)
    await poll(hass, setup_entry, 2)
    assert_taken(hass, setup_entry, kitchen)


async def test_the_gone_player_back_at_a_new_address_is_fine(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    emulator = household.household
    emulator.take_address("Office", "Kitchen")
    await poll(hass, setup_entry, 2)
    assert state(hass, "sensor.kitchen_error_code") == "1001"
    kitchen = emulator.move("Kitchen")
    emulator.heal("Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "sensor.kitchen_ip_address") == kitchen.ip
    seen = setup_entry.runtime_data.coordinator.data.players[kitchen.uid]
    assert (seen.failure, seen.address_taken_by) == (None, None)
    assert state(hass, "sensor.office_error_code") == "ok"
    assert not shown_cards(hass)


async def test_identity_costs_a_healthy_household_nothing(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """Descriptions are read at setup (once each) and when there is doubt, not every poll."""
    players = household.household.players
    before = {player.uid: descriptions(player) for player in players}
    await poll(hass, setup_entry, 5)
    assert {player.uid: descriptions(player) for player in players} == before
    # A gone player whose address another holds costs one description read per poll.
    household.household.take_address("Office", "Kitchen")
    await poll(hass, setup_entry, 2)
    office = household.household.player("Office")
    read = descriptions(office)
    await poll(hass, setup_entry, 3)
    assert descriptions(office) == read + 3
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{office.uid}") is None


# --- with the watcher between polls ---------------------------------------------------------


@pytest.fixture
def fast_watch() -> Iterator[None]:
    """The watcher's clock, sped up about fifteen times (as in tests/test_watcher.py)."""
    with sped_up_watcher():
        yield


@pytest.mark.watcher
@pytest.mark.usefixtures("fast_watch")
async def test_the_watcher_does_not_take_the_other_player_for_the_gone_one(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """Kitchen is confirmed gone; Office then answers at its address: Kitchen stays 1001.

    Before, the watcher's control call to the address was answered (by Office) and a poll
    at once cleared Kitchen's 1001.
    """
    emulator = household.household
    kitchen = emulator.player("Kitchen")
    emulator.set_fault("Kitchen", Fault.OFFLINE)
    await until(hass, lambda: state(hass, "sensor.kitchen_error_code") == "1001", 3)
    emulator.move("Office", kitchen.ip)
    # Office's silence where it was asks for a poll, whose topology follows it.
    await until(hass, lambda: state(hass, "sensor.office_ip_address") == kitchen.ip, 3)
    await asyncio.sleep(1.5)  # five checks' worth of the watcher
    assert_taken(hass, setup_entry, kitchen)


@pytest.mark.watcher
@pytest.mark.usefixtures("fast_watch")
async def test_the_watcher_confirms_a_taken_address_then_leaves_it_to_the_polls(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """The address changes hands at once: 1001 within seconds, then no reads between polls."""
    emulator = household.household
    kitchen = emulator.player("Kitchen")
    emulator.take_address("Office", "Kitchen")
    took = await until(hass, lambda: state(hass, "sensor.kitchen_error_code") == "1001", 5)
    assert took < 3
    await hass.async_block_till_done()
    assert_taken(hass, setup_entry, kitchen)
    office = emulator.player("Office")
    await asyncio.sleep(0.6)  # a check under way when 1001 was raised ends (0.5 s timeout)
    read = descriptions(office)
    await asyncio.sleep(1.5)  # no timer poll within (the interval is 10 s)
    assert descriptions(office) == read
