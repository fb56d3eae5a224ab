"""Diagnostics download, with serials, MACs, player ids and the household id redacted."""

from dataclasses import asdict
from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import SonosTroubleshooterConfigEntry
from .diagnosis import to_dict

# Player ids (RINCON_<MAC>01400) carry the MAC address, so they are redacted too.
TO_REDACT = {"household_id", "serial_number", "mac_address", "uid"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry
) -> dict[str, Any]:
    """Return the configuration, the last poll and the diagnosis state."""
    coordinator = entry.runtime_data
    snapshot = coordinator.data
    diagnosis = to_dict(snapshot.diagnosis)
    states = cast(dict[str, dict[str, Any]], diagnosis["players"])
    players = [
        {
            **asdict(player),
            "state": states[player.uid],
            "info": asdict(player.info) if player.info else None,
        }
        for player in snapshot.players.values()
    ]
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "players": players,
            "cloud": asdict(snapshot.cloud),
            "diagnosis": {
                "cloud": diagnosis["cloud"],
                "all_players_down": diagnosis["all_players_down"],
            },
            "topology_error": snapshot.topology_error,
            "updated_at": snapshot.updated_at.isoformat(),
        },
        TO_REDACT,
    )
