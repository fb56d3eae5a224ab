"""Base entities: one device per player and one for the household."""

from collections.abc import Callable
from typing import override

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import PlayerSnapshot, SonosTroubleshooterCoordinator
from .core_sonos import core_device
from .runtime_data import SonosTroubleshooterConfigEntry


class SonosTroubleshooterEntity(CoordinatorEntity[SonosTroubleshooterCoordinator]):
    """An entity fed by the household coordinator."""

    _attr_has_entity_name = True


def household_device(coordinator: SonosTroubleshooterCoordinator) -> DeviceInfo:
    """Return the household's device: the cloud side and the household-wide diagnosis."""
    return DeviceInfo(
        identifiers={(DOMAIN, coordinator.household_id)},
        manufacturer="Sonos",
        model="Household",
        name="Sonos household",
    )


def player_via_device_id(
    hass: HomeAssistant, coordinator: SonosTroubleshooterCoordinator, player: PlayerSnapshot
) -> str:
    """Return the core Sonos device of the speaker when there is one, else the household's.

    Since 2026.8 devices are no longer merged across integrations, so the player's device
    points at the core one as its `via_device` instead: the device page then links to it.
    The household device is registered at setup, before any player refers to it.
    """
    household = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, coordinator.household_id), coordinator.config_entry.entry_id
    )
    assert household is not None
    core = core_device(hass, player)
    return core.id if core else household.id


@callback
def async_link_core_devices(
    hass: HomeAssistant, coordinator: SonosTroubleshooterCoordinator
) -> None:
    """Point each player's device at the core Sonos device once that exists (or no longer)."""
    registry = dr.async_get(hass)
    entry_id = coordinator.config_entry.entry_id
    for uid, player in coordinator.data.players.items():
        device = registry.async_get_device_by_identifier((DOMAIN, uid), entry_id)
        if device is None:
            continue  # its entities are not added yet; they register it with the right link
        via = player_via_device_id(hass, coordinator, player)
        if device.via_device_id != via:
            registry.async_update_device(device.id, via_device_id=via)


@callback
def async_follow_device_names(
    hass: HomeAssistant, coordinator: SonosTroubleshooterCoordinator
) -> None:
    """Rename a player's device when its room or role changes in the Sonos app.

    Only the integration's name changes; a name the user gave the device stays, and so do
    its entity ids (they were made from the name once and are the user's now).
    """
    registry = dr.async_get(hass)
    entry_id = coordinator.config_entry.entry_id
    for uid, player in coordinator.data.players.items():
        device = registry.async_get_device_by_identifier((DOMAIN, uid), entry_id)
        if device is None:
            continue  # its entities are not added yet; they register it with its name
        if not device.name_by_user and device.name != player.name:
            registry.async_update_device(device.id, name=player.name)


class HouseholdEntity(SonosTroubleshooterEntity):
    """An entity of the household device."""

    def __init__(
        self, coordinator: SonosTroubleshooterCoordinator, description: EntityDescription
    ) -> None:
        """Attach to the household device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.household_id}_{description.key}"
        self._attr_device_info = household_device(coordinator)


class PlayerEntity(SonosTroubleshooterEntity):
    """An entity of one player's device (its own device: HA 2026.8+ merges none)."""

    def __init__(
        self,
        coordinator: SonosTroubleshooterCoordinator,
        uid: str,
        description: EntityDescription,
    ) -> None:
        """Attach to the player's device, described from the last poll."""
        super().__init__(coordinator)
        self.uid = uid
        self.entity_description = description
        self._attr_unique_id = f"{uid}_{description.key}"
        player = coordinator.data.players[uid]
        info = player.info
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, uid)},
            manufacturer="Sonos",
            translation_key=player.device_name.translation_key,
            translation_placeholders=player.device_name.placeholders,
            model=info.model_name if info else None,
            model_id=info.model_number if info else None,
            sw_version=info.display_version if info else None,
            hw_version=info.hardware_version if info else None,
            serial_number=info.serial_number if info else None,
            connections={(CONNECTION_NETWORK_MAC, info.mac_address.lower())} if info else set(),
            configuration_url=f"http://{player.ip}:1400/support/review",
            via_device_id=player_via_device_id(coordinator.hass, coordinator, player),
        )

    @property
    def player(self) -> PlayerSnapshot:
        """Return the player as the last poll saw it."""
        return self.coordinator.data.players[self.uid]

    @property
    @override
    def available(self) -> bool:
        """Stay available while the player is watched; its state says what is wrong."""
        return super().available and self.uid in self.coordinator.data.players


def add_player_entities(
    coordinator: SonosTroubleshooterCoordinator,
    entry: SonosTroubleshooterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[str], list[PlayerEntity]],
) -> None:
    """Add entities for every player now, and for players that join later, without a reload."""
    added: set[str] = set()

    @callback
    def add_new_players() -> None:
        players = coordinator.data.players
        # A player the user deleted has left the snapshot: should it rejoin, it is new again.
        added.intersection_update(players)
        new = set(players) - added
        added.update(new)
        if new:
            async_add_entities([entity for uid in sorted(new) for entity in build(uid)])

    add_new_players()
    entry.async_on_unload(coordinator.async_add_listener(add_new_players))
