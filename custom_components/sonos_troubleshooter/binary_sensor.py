"""Connectivity: each player on the network, the household's path to the Sonos cloud."""

from typing import override

from homeassistant.components.binary_sensor import BinarySensorEntity, BinarySensorEntityDescription
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SonosTroubleshooterCoordinator
from .entity import HouseholdEntity, PlayerEntity, add_player_entities
from .runtime_data import SonosTroubleshooterConfigEntry
from .sonos_health.player_client import answered

PARALLEL_UPDATES = 0

PLAYER_CONNECTIVITY = BinarySensorEntityDescription(
    key="connectivity",
    translation_key="connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)
CLOUD_CONNECTIVITY = BinarySensorEntityDescription(
    key="cloud",
    translation_key="cloud",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SonosTroubleshooterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the cloud connectivity sensor and one connectivity sensor per player."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities([CloudConnectivitySensor(coordinator, CLOUD_CONNECTIVITY)])
    add_player_entities(
        coordinator,
        entry,
        async_add_entities,
        lambda uid: [PlayerConnectivitySensor(coordinator, uid, PLAYER_CONNECTIVITY)],
    )


class PlayerConnectivitySensor(PlayerEntity, BinarySensorEntity):
    """On while the player answers on the network (last poll)."""

    @property
    @override
    def is_on(self) -> bool:
        """Return whether the player answered the last poll."""
        return answered(self.player.failure)


class CloudConnectivitySensor(HouseholdEntity, BinarySensorEntity):
    """On while every Sonos cloud target resolves and accepts a connection (last poll)."""

    coordinator: SonosTroubleshooterCoordinator

    @property
    @override
    def is_on(self) -> bool:
        """Return whether the last cloud check succeeded."""
        return self.coordinator.data.cloud.observation.ok
