"""Per player, an event when an error starts and when it clears, for automations.

The error-code sensor says what is wrong now; this entity says what just happened, so an
automation can react to "Kitchen went 1001" or "Kitchen is fine again" with a plain state
trigger on the event entity. Restarts do not fire anything: the first poll only sets the
baseline, and the diagnosis (with its errors) survives restarts.
"""

from typing import override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SonosTroubleshooterCoordinator
from .entity import PlayerEntity, add_player_entities
from .runtime_data import SonosTroubleshooterConfigEntry
from .sonos_health.error_catalog import error_summary
from .sonos_health.error_rules import ErrorCode
from .sonos_health.player_client import ProbeFailure

PARALLEL_UPDATES = 0

EVENT_CLEARED = "cleared"

ERROR_EVENTS = EventEntityDescription(
    key="error_events",
    translation_key="error_events",
    event_types=[*(str(code) for code in ErrorCode if code is not ErrorCode.OK), EVENT_CLEARED],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SonosTroubleshooterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one error event entity per player, now and for players that join later."""
    coordinator = entry.runtime_data.coordinator
    add_player_entities(
        coordinator,
        entry,
        async_add_entities,
        lambda uid: [PlayerErrorEvent(coordinator, uid, ERROR_EVENTS)],
    )


class PlayerErrorEvent(PlayerEntity, EventEntity):
    """Fires `1001`, `1003` or `upnp_disabled` when the player's error begins, `cleared` when it ends."""

    def __init__(
        self,
        coordinator: SonosTroubleshooterCoordinator,
        uid: str,
        description: EventEntityDescription,
    ) -> None:
        """Start from the player's current code: only later changes are events."""
        super().__init__(coordinator, uid, description)
        self._code = coordinator.data.players[uid].state.code

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        players = self.coordinator.data.players
        if self.uid in players and (code := players[self.uid].state.code) != self._code:
            previous, self._code = self._code, code
            if code is ErrorCode.OK:
                self._trigger_event(EVENT_CLEARED, {"code": str(previous)})
            else:
                player = players[self.uid]
                self._trigger_event(
                    str(code),
                    error_summary(
                        player.state,
                        self.coordinator.data.diagnosis,
                        address_taken=player.failure is ProbeFailure.ADDRESS_TAKEN,
                    ),
                )
        super()._handle_coordinator_update()
