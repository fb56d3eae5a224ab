"""The household map: an image entity drawn from the last poll (household_map.py draws it).

Words come from the translations in Home Assistant's language: entity states where one says
it (a role, a band, an error code, a 1003 cause) and the `map_words` selector for the rest.
The drawing is redrawn after each poll and published only when it changed: the entity's
state (`image_last_updated`) moves then and only then.
"""

from typing import override

from homeassistant.components.image import ImageEntity
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import HouseholdSnapshot, PlayerSnapshot, SonosTroubleshooterCoordinator
from .entity import HouseholdEntity
from .runtime_data import SonosTroubleshooterConfigEntry
from .sonos_health.error_rules import ErrorCode, expected_absence
from .sonos_health.household_map import MapHousehold, MapPlayer, Mark, draw
from .sonos_health.player_client import Role
from .words import Words, async_load_words

PARALLEL_UPDATES = 0
# Within a room: the main unit first, then its satellites, then a pair's halves.
ROLE_ORDER = list(Role)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SonosTroubleshooterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the household's map."""
    async_add_entities([HouseholdMapImage(entry.runtime_data.coordinator)])


class HouseholdMapImage(HouseholdEntity, ImageEntity):
    """The household drawn: rooms, players, how each reaches the network, the cloud."""

    _attr_content_type = "image/svg+xml"

    def __init__(self, coordinator: SonosTroubleshooterCoordinator) -> None:
        """Describe the map; it is drawn once the words are loaded."""
        HouseholdEntity.__init__(
            self, coordinator, EntityDescription(key="map", translation_key="household_map")
        )
        ImageEntity.__init__(self, coordinator.hass)
        self._drawing = b""
        self._was_available = True

    @override
    async def async_added_to_hass(self) -> None:
        """Load the words in Home Assistant's language, then draw; again if it changes."""
        await super().async_added_to_hass()
        await async_load_words(self.hass)
        self._redraw()
        self.async_on_remove(
            self.hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, self._async_config_updated)
        )

    async def _async_config_updated(self, _: Event) -> None:
        """Redraw in the new words when the user changed Home Assistant's language."""
        await async_load_words(self.hass)
        if self._redraw():
            self.async_write_ha_state()

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Write the state only when the drawing (or the availability) changed."""
        available = self.available
        if self._redraw() or available != self._was_available:
            self._was_available = available
            self.async_write_ha_state()

    def _redraw(self) -> bool:
        """Draw the last poll; tell whether the drawing changed."""
        drawing = draw(household_map(self.coordinator.data, Words(self.hass))).encode()
        if drawing == self._drawing:
            return False
        self._drawing = drawing
        self._attr_image_last_updated = dt_util.utcnow()
        return True

    @override
    async def async_image(self) -> bytes | None:
        """Return the last drawing."""
        return self._drawing or None


def household_map(snapshot: HouseholdSnapshot, words: Words) -> MapHousehold:
    """Return what the map shows of a poll."""
    names = {uid: player.name for uid, player in snapshot.players.items()}
    cloud = snapshot.diagnosis.cloud
    failing = cloud.failing and cloud.cause is not None
    return MapHousehold(
        router=words.word("router"),
        cloud=words.word("cloud"),
        cloud_status=words.state("diagnosis", str(cloud.cause))
        if failing
        else words.word("cloud_ok"),
        cloud_mark=Mark.ERROR if failing else Mark.OK,
        players=tuple(_player(player, names, words) for player in snapshot.players.values()),
        banner=words.word("topology_unknown") if snapshot.topology_source == "unknown" else None,
    )


def _player(player: PlayerSnapshot, names: dict[str, str], words: Words) -> MapPlayer:
    main = names.get(player.main or "", "")
    if player.role is Role.PLAYER:
        label = player.info.model_name if player.info else player.name
    elif player.role is Role.NETWORK_DEVICE:
        label = words.word("network_device")
    else:
        label = words.state("role", str(player.role))
    status, mark = _status(player, main, words)
    return MapPlayer(
        label=label,
        room=player.room,
        link=words.link(player, main),
        status=status,
        mark=mark,
        order=ROLE_ORDER.index(player.role),
    )


def _status(player: PlayerSnapshot, main: str, words: Words) -> tuple[str, Mark]:
    """Return how the player stands in words, and its colour."""
    code = player.state.code
    if code is ErrorCode.E1001:
        if player.main_unit_down:
            return words.word("silent_with_main", main=main), Mark.ERROR
        return words.state("error_code", str(code)), Mark.ERROR
    if code is ErrorCode.UPNP_DISABLED:
        return words.state("error_code", str(code)), Mark.REFUSING
    # Away on purpose as the household lists it, or perhaps (a portable, topology unknown).
    absence = expected_absence(player.vanished_reason) or player.state.expected_absence
    if absence is not None:
        return words.word(absence.replace(" ", "_")), Mark.AWAY
    if player.warned:
        return words.word("unstable"), Mark.WARNING
    # 1003: the player is on the network, the cloud is out of reach (drawn at the edge too).
    return words.state("error_code", str(code)), Mark.ERROR if code is ErrorCode.E1003 else Mark.OK
