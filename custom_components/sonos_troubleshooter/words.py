"""Words that change with the language, for what the code words itself: the map, card facts.

A band ("2,4 GHz" in German), a role, how a player connects: such words come from the
translations, never from code. Entity states say most of them (a role, a band, an error code);
the `map_words` selector carries the rest. They are read in Home Assistant's language, the
one HA core also uses for text it builds on the server; a user whose profile picks another
language reads the card in theirs with these few words in the server's.
"""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import translation

from .const import DOMAIN
from .coordinator import PlayerSnapshot
from .sonos_health.player_client import Uplink, shown_band

CATEGORIES = ("entity", "selector")
BAND_STATES = {"2.4": "2_4_ghz", "5": "5_ghz"}


async def async_load_words(hass: HomeAssistant) -> None:
    """Load the translations the words come from, in Home Assistant's language."""
    for category in CATEGORIES:
        await translation.async_get_translations(hass, hass.config.language, category, [DOMAIN])


class Words:
    """The translations the code words things from, in Home Assistant's language."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Use the cached translations (see `async_load_words`); a missing one reads as its key."""
        self._texts: dict[str, str] = {}
        for category in CATEGORIES:
            self._texts |= translation.async_get_cached_translations(
                hass, hass.config.language, category, DOMAIN
            )

    def word(self, key: str, **placeholders: str) -> str:
        """Return one of the `map_words`."""
        template = self._texts.get(f"component.{DOMAIN}.selector.map_words.options.{key}", key)
        return template.format(**placeholders)

    def state(self, sensor: str, value: str) -> str:
        """Return how a sensor's state reads (a role, a band, an error code, a finding)."""
        return self._texts.get(f"component.{DOMAIN}.entity.sensor.{sensor}.state.{value}", value)

    def link(self, player: PlayerSnapshot, main: str) -> str:
        """Say how a player reaches the network: "Wi-Fi 2,4 GHz", "Ethernet", "through Beam"."""
        if player.uplink is Uplink.ETHERNET:
            return self.word("ethernet")
        if player.uplink is Uplink.MAIN_UNIT:
            return self.word("through_main", main=main)
        if band := shown_band(player.uplink, player.channel_freq):
            return self.word("wifi_band", band=self.state("wifi_band", BAND_STATES[band]))
        return self.word("wifi")
