"""What Home Assistant core's Sonos integration shows: its devices, entities and repair issues.

Read only: nothing here changes core Sonos (its reload is the user's click in a repair flow).
Since 2026.8 devices are not merged across integrations, so a speaker has a core device of
its own, found by the speaker's id (core's identifier) or its MAC address (core's connection).
"""

import asyncio
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Interface
from typing import Protocol
from urllib.parse import urlparse

from homeassistant.components import network
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC

from .const import SONOS_CORE_DOMAIN
from .sonos_health.core_rules import (
    CoreLoss,
    CoreView,
    EventPath,
    event_path,
    follow_core,
    read_listener,
)
from .sonos_health.household import KnownPlayer
from .sonos_health.player_client import PlayerInfo, ProbeFailure

# Core's repair issue when the speakers' events do not reach Home Assistant; it then polls.
SUBSCRIPTIONS_FAILED = "subscriptions_failed"
# Connecting to core's event listener from Home Assistant itself takes microseconds when it
# is up; this only bounds a firewall that drops instead of refusing.
LISTENER_TIMEOUT = 1.0


class Speaker(Protocol):
    """A speaker as the household knows it or a poll saw it: its id and its description."""

    @property
    def uid(self) -> str: ...  # noqa: D102

    @property
    def info(self) -> PlayerInfo | None: ...  # noqa: D102


@callback
def core_device(hass: HomeAssistant, speaker: Speaker) -> dr.DeviceEntry | None:
    """Return the device core Sonos keeps for the speaker, found by its id or MAC address.

    The MAC address comes from the speaker's description; before that is read, the id alone.
    """
    mac = speaker.info.mac_address.lower() if speaker.info else None
    registry = dr.async_get(hass)
    for entry in hass.config_entries.async_entries(SONOS_CORE_DOMAIN):
        device = registry.async_get_device_by_identifier(
            (SONOS_CORE_DOMAIN, speaker.uid), entry.entry_id
        )
        if device is None and mac:
            device = registry.async_get_device_by_connection(
                (CONNECTION_NETWORK_MAC, mac), entry.entry_id
            )
        if device is not None:
            return device
    return None


@callback
def core_view(hass: HomeAssistant, device: dr.DeviceEntry | None) -> CoreView | None:
    """Return whether core shows the speaker available, since when not, and at which address.

    Judged on the device's enabled core entities (media player, switches, sensors): core
    marks them all unavailable together. None when there is no device or no such entity.
    """
    if device is None:
        return None
    entities = [
        entity
        for entity in er.async_entries_for_device(er.async_get(hass), device.id)
        if entity.platform == SONOS_CORE_DOMAIN and entity.disabled_by is None
    ]
    if not entities:
        return None
    states = [hass.states.get(entity.entity_id) for entity in entities]
    available = any(state is not None and state.state != STATE_UNAVAILABLE for state in states)
    changed = [state.last_changed for state in states if state is not None]
    return CoreView(
        available=available,
        unavailable_since=None if available or not changed else max(changed),
        address=urlparse(device.configuration_url or "").hostname,
    )


@callback
def core_entry_id(hass: HomeAssistant, device_id: str | None) -> str | None:
    """Return the core Sonos config entry a device belongs to (the one to reload)."""
    device = dr.async_get(hass).async_get(device_id) if device_id else None
    for entry in hass.config_entries.async_entries(SONOS_CORE_DOMAIN):
        if device is None or entry.entry_id in device.config_entries:
            return entry.entry_id
    return None


@callback
def subscriptions_failed(hass: HomeAssistant) -> str | None:
    """Return the listener address core's `subscriptions_failed` issue names, if it is raised.

    Also when the user dismissed core's card: events are still not arriving.
    """
    issue = ir.async_get(hass).async_get_issue(SONOS_CORE_DOMAIN, SUBSCRIPTIONS_FAILED)
    if issue is None:
        return None
    return (issue.translation_placeholders or {}).get("listener_address", "-")


async def async_event_path(
    hass: HomeAssistant, listener: str, speakers: Iterable[str]
) -> EventPath:
    """Measure what Home Assistant can of the way events take: its addresses, the listener."""
    interfaces = [
        IPv4Interface(f"{address['address']}/{address['network_prefix']}")
        for adapter in await network.async_get_adapters(hass)
        for address in adapter["ipv4"]
    ]
    return event_path(listener, interfaces, speakers, await _listener_open(listener))


async def _listener_open(listener: str) -> bool | None:
    """Tell whether core's event listener accepts a connection from this host.

    A refusal tells nothing (None): soco stops core's listener whenever its last subscription
    ends, which is what failed subscriptions do, until core subscribes again. A connection
    neither opened nor refused in time is dropped on the way: a firewall on this very host.
    """
    parsed = read_listener(listener)
    if parsed is None:
        return None
    address, port = parsed
    try:
        async with asyncio.timeout(LISTENER_TIMEOUT):
            _, writer = await asyncio.open_connection(str(address), port)
    except ConnectionRefusedError:
        return None
    except OSError, TimeoutError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreReport:
    """What HA core's Sonos integration showed of the household in the same poll."""

    views: Mapping[str, CoreView | None] = field(default_factory=dict)
    """Per player: core's view of it (None: core has no device for it, or is not installed)."""
    lost: Mapping[str, CoreLoss] = field(default_factory=dict)
    """Players core shows unavailable for a while although they answer us."""
    events: EventPath | None = None
    """The event path as measured while core's `subscriptions_failed` issue is raised."""


async def async_observe_core(
    hass: HomeAssistant,
    players: Collection[KnownPlayer],
    failures: Mapping[str, ProbeFailure | None],
    unavailable_since: Mapping[str, datetime],
    now: datetime,
) -> tuple[dict[str, datetime], CoreReport]:
    """Compare what core Sonos shows with what a poll heard (read-only, no requests).

    Only a proper answer counts as answering: a 403 is a player neither can control. Return
    since when core shows each player unavailable (see core_rules.follow_core), and the report.
    """
    views = {player.uid: core_view(hass, core_device(hass, player)) for player in players}
    answering = {p.uid: p.ip for p in players if p.uid in failures and failures[p.uid] is None}
    unavailable_since, lost = follow_core(unavailable_since, views, answering, now)
    listener = subscriptions_failed(hass)
    events = (
        None
        if listener is None
        else await async_event_path(hass, listener, (p.ip for p in players))
    )
    return unavailable_since, CoreReport(views=views, lost=lost, events=events)
