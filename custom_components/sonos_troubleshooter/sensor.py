"""Sensors: each player's error code, network facts and link history; the household's diagnosis.

The link sensors carry state classes, so Home Assistant keeps their long-term statistics and
draws them in History and on dashboards: response time as a measurement, missed checks,
dropouts and reboots as totals that only rise. A steady household writes no state: each value
moves when what it says changed; last seen and response time as `reading_rules` decides.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import HouseholdSnapshot, PlayerSnapshot, SonosTroubleshooterCoordinator
from .entity import HouseholdEntity, PlayerEntity, add_player_entities
from .runtime_data import SonosTroubleshooterConfigEntry
from .sonos_health.error_catalog import PlayerCard, error_summary
from .sonos_health.error_rules import HOUSEHOLD_FINDINGS, ErrorCode, household_finding
from .sonos_health.player_client import ProbeFailure, Role, Uplink, shown_band

# Coordinator-driven: no entity polls on its own.
PARALLEL_UPDATES = 0

WIFI_BANDS = ["2_4_ghz", "5_ghz", "wired", "main_unit"]


def _band(player: PlayerSnapshot) -> str | None:
    """Return the band of a player on Wi-Fi, and how the others reach the network instead.

    A wired player and a satellite report a channel too (the satellite's is its link to the
    soundbar): neither is shown as a Wi-Fi band.
    """
    if player.uplink is Uplink.ETHERNET:
        return "wired"
    if player.uplink is Uplink.MAIN_UNIT:
        return "main_unit"
    band = shown_band(player.uplink, player.channel_freq)
    return {"2.4": "2_4_ghz", "5": "5_ghz"}.get(band or "")


def _answered_properly(player: PlayerSnapshot) -> bool:
    """Tell whether the player answered the last poll as a player does (see `available_fn`)."""
    return player.failure is None


@dataclass(frozen=True, kw_only=True)
class PlayerSensorDescription(SensorEntityDescription):
    """A player sensor: how to read its value (and attributes) from the snapshot."""

    value_fn: Callable[[PlayerSnapshot], StateType | datetime]
    attributes_fn: Callable[[PlayerSnapshot, HouseholdSnapshot], Mapping[str, Any]] | None = None
    available_fn: Callable[[PlayerSnapshot], bool] = lambda _: True
    """Whether the value is current. Most player sensors report the silence itself (error
    code, last seen, missed checks...) or what the household still says (role, address), so
    they stay available; a value only the player tells, refreshed only when it answers, is
    unavailable while it does not answer properly rather than shown stale as if current."""


@dataclass(frozen=True, kw_only=True)
class HouseholdSensorDescription(SensorEntityDescription):
    """A household sensor: how to read its value from the snapshot."""

    value_fn: Callable[[HouseholdSnapshot], StateType]


PLAYER_SENSORS: tuple[PlayerSensorDescription, ...] = (
    PlayerSensorDescription(
        key="error_code",
        translation_key="error_code",
        device_class=SensorDeviceClass.ENUM,
        options=[str(code) for code in ErrorCode],
        value_fn=lambda player: str(player.state.code),
        attributes_fn=lambda player, household: error_summary(
            player.state,
            household.diagnosis,
            card=player.card or PlayerCard.PLAYER,
            main_unit_down=player.main_unit_down,
            address_taken=player.failure is ProbeFailure.ADDRESS_TAKEN,
        ),
    ),
    PlayerSensorDescription(
        key="role",
        translation_key="role",
        device_class=SensorDeviceClass.ENUM,
        options=[str(role) for role in Role],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda player: str(player.role),
        attributes_fn=lambda player, _: {
            "room": player.room,
            "bonded_with": list(player.bonded_with),
        },
    ),
    PlayerSensorDescription(
        key="address",
        translation_key="address",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda player: player.ip,
    ),
    PlayerSensorDescription(
        key="model",
        translation_key="model",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # the device page shows it already
        # Available while the player is silent: a player's model never changes (its id is
        # its hardware's), so the last one read is still true.
        value_fn=lambda player: player.info.model_name if player.info else None,
    ),
    PlayerSensorDescription(
        key="software_version",
        translation_key="software_version",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # the device page shows it already
        value_fn=lambda player: player.info.display_version if player.info else None,
        # Read from the player itself; a silent one may be updating: unknown until it answers.
        available_fn=_answered_properly,
    ),
    PlayerSensorDescription(
        key="wifi_band",
        translation_key="wifi_band",
        device_class=SensorDeviceClass.ENUM,
        options=WIFI_BANDS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_band,
        # How the player last reported its link (in the topology); kept while it is gone,
        # when it may well have changed (another band, a cable): unknown until it answers.
        available_fn=_answered_properly,
    ),
    PlayerSensorDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda player: player.readings.last_seen,
    ),
    PlayerSensorDescription(
        key="response_time",
        translation_key="response_time",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda player: player.readings.response.shown,
    ),
    PlayerSensorDescription(
        key="missed_checks",
        translation_key="missed_checks",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda player: player.link.missed,
    ),
    PlayerSensorDescription(
        key="dropouts",
        translation_key="dropouts",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda player: player.link.dropouts,
    ),
    PlayerSensorDescription(
        key="reboots",
        translation_key="reboots",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda player: player.link.reboots,
    ),
    PlayerSensorDescription(
        key="last_dropout",
        translation_key="last_dropout",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda player: player.link.last_dropout,
    ),
)

HOUSEHOLD_SENSORS: tuple[HouseholdSensorDescription, ...] = (
    HouseholdSensorDescription(
        key="complete_polls",
        translation_key="complete_polls",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        # Rounded as shown: an incomplete poll within the last day would otherwise move the
        # share by a few millionths at every poll for a day, a recorder row each time.
        value_fn=lambda household: (
            None if household.complete_share is None else round(household.complete_share, 1)
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SonosTroubleshooterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the household's sensor and every player's sensors."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        [
            HouseholdDiagnosisSensor(coordinator),
            *(HouseholdSensor(coordinator, description) for description in HOUSEHOLD_SENSORS),
        ]
    )
    add_player_entities(
        coordinator,
        entry,
        async_add_entities,
        lambda uid: [PlayerSensor(coordinator, uid, description) for description in PLAYER_SENSORS],
    )


class PlayerSensor(PlayerEntity, SensorEntity):
    """A sensor of one player."""

    entity_description: PlayerSensorDescription

    @property
    @override
    def available(self) -> bool:
        """Stay available while watched, unless the value is only current when it answers."""
        return super().available and self.entity_description.available_fn(self.player)

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """Return the value from the last poll."""
        return self.entity_description.value_fn(self.player)

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return the attributes automations read (error code: cause, since, severity)."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.player, self.coordinator.data)


class HouseholdSensor(HouseholdEntity, SensorEntity):
    """A sensor of the household."""

    entity_description: HouseholdSensorDescription

    @property
    @override
    def native_value(self) -> StateType:
        """Return the value from the last poll."""
        return self.entity_description.value_fn(self.coordinator.data)


class HouseholdDiagnosisSensor(HouseholdEntity, SensorEntity):
    """The household's current finding, with the 1003 cause when the cloud is the problem."""

    def __init__(self, coordinator: SonosTroubleshooterCoordinator) -> None:
        """Describe the diagnosis sensor."""
        super().__init__(
            coordinator,
            SensorEntityDescription(
                key="diagnosis",
                translation_key="diagnosis",
                device_class=SensorDeviceClass.ENUM,
                options=list(HOUSEHOLD_FINDINGS),
            ),
        )

    @property
    @override
    def native_value(self) -> str:
        """Return the most important finding of the last poll."""
        return household_finding(self.coordinator.data.diagnosis)

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Return what the finding rests on."""
        data = self.coordinator.data
        cloud = data.diagnosis.cloud
        return {
            "cloud_failing_since": cloud.since.isoformat() if cloud.since else None,
            "status_indicator": cloud.status_indicator,
            "unreachable_players": sorted(
                player.name
                for player in data.players.values()
                if player.state.code is ErrorCode.E1001
            ),
            # `unknown`: no player can tell which players are away on purpose; a portable's
            # silence then raises nothing (see the README's real-world behaviours).
            "topology": data.topology_source,
            "refusing_players": sorted(
                player.name
                for player in data.players.values()
                if player.state.code is ErrorCode.UPNP_DISABLED
            ),
        }
