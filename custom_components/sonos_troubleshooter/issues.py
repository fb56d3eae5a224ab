"""Repair issues follow the diagnosis: created when an error starts, deleted when it clears.

Issue ids: `error_1001_<player uid>` per player, `error_1001_all_<household>` when every player
is down at once (then there are no per-player cards), `error_1003_<household>` for the cloud.
They are not persistent: each start re-creates them from the stored diagnosis, with the
original start time, and deletes any whose error cleared while Home Assistant was down.
"""

from datetime import datetime

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .catalog import ERROR_1001, ERROR_1003, Severity
from .const import DOMAIN, STATUS_PAGE_URL, SUPPORT_URL
from .coordinator import HouseholdSnapshot, SonosTroubleshooterCoordinator
from .diagnosis import ErrorCode
from .sonos import wifi_band

SEVERITY = {Severity.MODERATE: ir.IssueSeverity.ERROR, Severity.MINOR: ir.IssueSeverity.WARNING}


def _when(moment: datetime | None) -> str:
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M") if moment else "?"


def _owned_issues(hass: HomeAssistant, entry: ConfigEntry) -> list[str]:
    """Return the ids of the issues this config entry created (their data names the entry)."""
    return [
        issue_id
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and (issue.data or {}).get("entry_id") == entry.entry_id
    ]


def wanted_issues(snapshot: HouseholdSnapshot) -> dict[str, tuple[str, Severity, dict[str, str]]]:
    """Return the issues the snapshot calls for: id -> (translation key, severity, placeholders)."""
    diagnosis = snapshot.diagnosis
    household = snapshot.household_id
    issues: dict[str, tuple[str, Severity, dict[str, str]]] = {}
    down = [p for p in snapshot.players.values() if p.state.code is ErrorCode.E1001]
    if diagnosis.all_players_down:
        issues[f"error_1001_all_{household}"] = (
            "error_1001_all_players",
            ERROR_1001.severity,
            {
                "players": ", ".join(sorted(p.name for p in down)),
                "count": str(len(down)),
                "since": _when(diagnosis.all_players_down_since),
                "support_url": SUPPORT_URL,
            },
        )
    else:
        for player in down:
            info = player.info
            band = wifi_band(player.channel_freq)
            issues[f"error_1001_{player.uid}"] = (
                "error_1001",
                ERROR_1001.severity,
                {
                    "name": player.name,
                    "model": info.model_name if info else "Sonos",
                    "address": player.ip,
                    "serial": info.serial_number if info else "?",
                    "band": f"{band} GHz" if band else "?",
                    "since": _when(player.state.since),
                    "support_url": SUPPORT_URL,
                },
            )
    cloud = diagnosis.cloud
    affected = [p for p in snapshot.players.values() if p.state.code is ErrorCode.E1003]
    if cloud.failing and cloud.cause is not None and affected:
        failed = [r.target for r in snapshot.cloud.cloud if not r.connected]
        issues[f"error_1003_{household}"] = (
            f"error_1003_{cloud.cause}",
            ERROR_1003.severity,
            {
                "players": ", ".join(sorted(p.name for p in affected)),
                "since": _when(cloud.since),
                "failed_targets": ", ".join(failed) or "-",
                "status": snapshot.cloud.status.description or cloud.status_indicator or "?",
                "status_url": STATUS_PAGE_URL,
                "support_url": SUPPORT_URL,
            },
        )
    return issues


@callback
def async_update_issues(hass: HomeAssistant, coordinator: SonosTroubleshooterCoordinator) -> None:
    """Create the issues the last poll calls for and delete the ones that cleared."""
    snapshot = coordinator.data
    wanted = wanted_issues(snapshot)
    entry = coordinator.config_entry
    for issue_id in _owned_issues(hass, entry):
        if issue_id not in wanted:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, (key, severity, placeholders) in wanted.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=SEVERITY[severity],
            translation_key=key,
            translation_placeholders=placeholders,
            learn_more_url=SUPPORT_URL,
            data={"entry_id": entry.entry_id},
        )


@callback
def async_remove_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete every issue of the household (the integration was removed)."""
    for issue_id in _owned_issues(hass, entry):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
