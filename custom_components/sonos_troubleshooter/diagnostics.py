"""Diagnostics download, with serials, MACs, player ids and the household id redacted."""

from dataclasses import asdict
from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_POWER_SWITCHES
from .coordinator import HouseholdSnapshot, SonosTroubleshooterCoordinator
from .runtime_data import SonosTroubleshooterConfigEntry
from .store import action_to_dict, diagnosis_to_dict, link_to_dict

# Player ids (RINCON_<MAC>01400) carry the MAC address, so they are redacted too, also as
# the subject of an action and as the main unit of a bonded set.
TO_REDACT = {"household_id", "serial_number", "mac_address", "uid", "main", "subject"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry
) -> dict[str, Any]:
    """Return the configuration, the last poll, the diagnosis state and the actions taken."""
    coordinator = entry.runtime_data.coordinator
    snapshot = coordinator.data
    diagnosis = diagnosis_to_dict(snapshot.diagnosis)
    states = cast(dict[str, dict[str, Any]], diagnosis["players"])
    players = [
        {
            **asdict(player),
            "state": states[player.uid],
            "info": asdict(player.info) if player.info else None,
            # The counters as stored, and the silence going on (checks missed in a row).
            "link": {**link_to_dict(player.link), "missed_in_a_row": player.link.streak},
        }
        for player in snapshot.players.values()
    ]
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": _options(coordinator)},
            "players": players,
            "cloud": asdict(snapshot.cloud),
            "diagnosis": {
                "cloud": diagnosis["cloud"],
                "all_players_down": diagnosis["all_players_down"],
                "upnp_disabled_everywhere": snapshot.diagnosis.upnp_disabled_everywhere,
            },
            # How the topology was read: answered, from events (a household too large to
            # answer), or unknown; and where the events stand.
            "topology": {
                "source": snapshot.topology_source,
                "events": snapshot.topology_events,
                "error": snapshot.topology_error,
            },
            # What HA core's Sonos integration showed, compared with what the players answered.
            "core_sonos": _core_sonos(snapshot),
            # What Home Assistant did to fix things: power cycles and router restarts.
            "actions": [action_to_dict(record) for record in entry.runtime_data.action_log.records],
            "updated_at": snapshot.updated_at.isoformat(),
        },
        TO_REDACT,
    )


def _core_sonos(snapshot: HouseholdSnapshot) -> dict[str, Any]:
    """Return core's view of each player beside our address for it, the losses, the events."""
    core = snapshot.core
    return {
        "players": [
            {
                "name": player.name,
                "address": player.ip,
                "answered_properly": player.failure is None,
                "core": asdict(view) if (view := core.views.get(player.uid)) else None,
                "lost_by_core": asdict(loss) if (loss := core.lost.get(player.uid)) else None,
            }
            for player in snapshot.players.values()
        ],
        "event_path": asdict(core.events) if core.events else None,
    }


def _options(coordinator: SonosTroubleshooterCoordinator) -> dict[str, Any]:
    """Return the options, the plugs named by player (their keys are player ids)."""
    options = dict(coordinator.config_entry.options)
    if CONF_POWER_SWITCHES in options:
        players = coordinator.data.players  # named as their devices (rooms repeat in sets)
        options[CONF_POWER_SWITCHES] = {
            (players[uid].name if uid in players else "(a player since deleted)"): entity_id
            for uid, entity_id in options[CONF_POWER_SWITCHES].items()
        }
    return options
