"""Devices: each player's device links to HA core's Sonos device of the same speaker."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import CONF_HOUSEHOLD_ID, DOMAIN
from sonos_emulator import Emulator
from tests.helpers import device_id, poll


def core_sonos_device(
    hass: HomeAssistant, *, identifiers: set[tuple[str, str]], mac: str | None = None
) -> dr.DeviceEntry:
    """Register a speaker the way HA core's Sonos integration does, under its own entry."""
    core_entry = MockConfigEntry(domain="sonos", title="Sonos")
    core_entry.add_to_hass(hass)
    return dr.async_get(hass).async_get_or_create(
        config_entry_id=core_entry.entry_id,
        identifiers=identifiers,
        connections={(dr.CONNECTION_NETWORK_MAC, mac)} if mac else set(),
        manufacturer="Sonos",
        name="Core speaker",
    )


async def test_player_device_links_to_core_sonos_device(
    hass: HomeAssistant, config_entry: MockConfigEntry, household: Emulator, cloud_dns: None
) -> None:
    arc = household.household.player("Living Room")
    core = core_sonos_device(hass, identifiers={("sonos", arc.uid)})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    devices = dr.async_get(hass)
    ours = devices.async_get_device_by_identifier((DOMAIN, arc.uid), config_entry.entry_id)
    assert ours is not None
    assert ours.id != core.id  # related, not merged
    assert ours.via_device_id == core.id
    kitchen = household.household.player("Kitchen")
    other = devices.async_get_device_by_identifier((DOMAIN, kitchen.uid), config_entry.entry_id)
    assert other is not None
    assert other.via_device_id == device_id(
        hass, config_entry, config_entry.data[CONF_HOUSEHOLD_ID]
    )


async def test_core_sonos_device_set_up_later_is_linked_by_mac(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.player("Kitchen")
    core = core_sonos_device(hass, identifiers={("sonos", "unrelated")}, mac=kitchen.mac.upper())
    devices = dr.async_get(hass)
    ours = devices.async_get_device_by_identifier((DOMAIN, kitchen.uid), setup_entry.entry_id)
    assert ours is not None
    assert ours.via_device_id == device_id(hass, setup_entry, setup_entry.data[CONF_HOUSEHOLD_ID])

    await poll(hass, setup_entry)
    ours = devices.async_get_device_by_identifier((DOMAIN, kitchen.uid), setup_entry.entry_id)
    assert ours is not None
    assert ours.via_device_id == core.id

    devices.async_remove_device(core.id)
    await poll(hass, setup_entry)
    ours = devices.async_get_device_by_identifier((DOMAIN, kitchen.uid), setup_entry.entry_id)
    assert ours is not None
    assert ours.via_device_id == device_id(hass, setup_entry, setup_entry.data[CONF_HOUSEHOLD_ID])
