"""Base entities: one device per player and one for the household."""

from collections.abc import Callable
from typing import override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import (
    PlayerSnapshot,
    SonosTroubleshooterConfigEntry,
    SonosTroubleshooterCoordinator,
)


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
            name=player.name,
            model=info.model_name if info else None,
            model_id=info.model_number if info else None,
            sw_version=info.display_version if info else None,
            hw_version=info.hardware_version if info else None,
            serial_number=info.serial_number if info else None,
            connections={(CONNECTION_NETWORK_MAC, info.mac_address.lower())} if info else set(),
            configuration_url=f"http://{player.ip}:1400/support/review",
            via_device_id=coordinator.household_device_id,
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
        new = set(coordinator.data.players) - added
        added.update(new)
        if new:
            async_add_entities([entity for uid in sorted(new) for entity in build(uid)])

    add_new_players()
    entry.async_on_unload(coordinator.async_add_listener(add_new_players))
