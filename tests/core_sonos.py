"""HA core's Sonos integration as it shows in Home Assistant, for the tests that compare with it.

Core Sonos itself runs in tests/test_core_sonos_real.py; what it does only after minutes (a
speaker unavailable for 5 of them) and what the emulator cannot make it do are played here.
What this integration reads of it is the registry and the state machine, so those are
written here exactly as core writes them (see core's `entity.py`,
`media_player.py`, `__init__.py` in the installed Home Assistant): the config entry, a device
per speaker (identifier `("sonos", uid)`, MAC and UPnP connections, configuration URL at the
speaker's address), entities with core's unique ids, states `unavailable` when core lost the
speaker, and its `subscriptions_failed` issue. A stand-in module takes core's place so that
reloading its entry runs `on_setup`, which plays core finding (or not) its speakers again.
Tests using it need a flow handler for the domain (`mock_config_flow`): core's own would
import core Sonos.
"""

from collections.abc import Callable
from datetime import datetime

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    mock_integration,
    mock_platform,
)

from sonos_emulator.model import Player

CORE = "sonos"


class CoreSonos:
    """Core's Sonos entry with its speakers; `on_setup` runs on every (re)load of the entry."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.setups = 0
        self.on_setup: Callable[[], None] = lambda: None

        async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
            self.setups += 1
            self.on_setup()
            return True

        async def unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
            return True

        mock_integration(
            hass,
            MockModule(CORE, async_setup_entry=setup_entry, async_unload_entry=unload_entry),
        )
        mock_platform(hass, f"{CORE}.config_flow", None)
        self.entry = MockConfigEntry(domain=CORE, title="Sonos")
        self.entry.add_to_hass(hass)

    async def async_start(self) -> None:
        """Set core's entry up (as Home Assistant does at start)."""
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()

    def add_speaker(self, player: Player, *, address: str | None = None) -> str:
        """Register a speaker as core does; return its media player's entity id."""
        device = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={(CORE, player.uid)},
            connections={
                (dr.CONNECTION_NETWORK_MAC, player.mac.lower()),
                (dr.CONNECTION_UPNP, f"uuid:{player.uid}"),
            },
            manufacturer="Sonos",
            name=player.name,
            configuration_url=f"http://{address or player.ip}:1400/support/review",
        )
        entities = er.async_get(self.hass)
        media_player = entities.async_get_or_create(
            "media_player", CORE, player.uid, config_entry=self.entry, device_id=device.id
        )
        entities.async_get_or_create(
            "switch",
            CORE,
            f"{player.uid}-cross_fade",
            config_entry=self.entry,
            device_id=device.id,
        )
        return media_player.entity_id

    def show(self, player: Player, state: str, *, since: datetime | None = None) -> None:
        """Write the speaker's entity states as core does (`unavailable` when it lost it).

        `since` backdates the change (the states' `last_changed`), as if it happened then.
        """
        entities = er.async_get(self.hass)
        for entity in entities.entities.values():
            if entity.platform == CORE and entity.unique_id.split("-")[0] == player.uid:
                value = (
                    state if entity.domain == "media_player" or state == STATE_UNAVAILABLE else "on"
                )
                self.hass.states.async_set(
                    entity.entity_id, value, timestamp=since.timestamp() if since else None
                )

    def raise_subscriptions_failed(self, device_ip: str, listener: str) -> None:
        """Raise core's issue as core does when the first event does not arrive in 2 s."""
        ir.async_create_issue(
            self.hass,
            CORE,
            "subscriptions_failed",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="subscriptions_failed",
            translation_placeholders={
                "device_ip": device_ip,
                "listener_address": listener,
                "sub_fail_url": "https://www.home-assistant.io/integrations/sonos/#network-requirements",
            },
        )

    def withdraw_subscriptions_failed(self) -> None:
        """Delete core's issue, as core does once an event arrives."""
        ir.async_delete_issue(self.hass, CORE, "subscriptions_failed")
