"""Repair issues follow the diagnosis: created when an error starts, deleted when it clears.

Issue ids: `error_1001_<player uid>` per player, `error_1001_all_<household>` when every player
is down at once (then there are no per-player cards), `error_1003_<household>` for the cloud.
They are not persistent: each start re-creates them from the stored diagnosis, with the
original start time, and deletes any whose error cleared while Home Assistant was down.
Every issue is fixable: `repairs.py` walks the user through the documented steps.
"""

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN, STATUS_PAGE_URL, SUPPORT_URL
from .coordinator import HouseholdSnapshot, PlayerSnapshot, SonosTroubleshooterCoordinator
from .error_catalog import ERROR_1001, ERROR_1003, Severity, is_escalated
from .error_rules import ErrorCode
from .player_client import answered, wifi_band

SEVERITY = {Severity.MODERATE: ir.IssueSeverity.ERROR, Severity.MINOR: ir.IssueSeverity.WARNING}


class IssueKind(StrEnum):
    """What an issue is about; stored in the issue's data for its repair flow."""

    PLAYER = "player"
    ALL_PLAYERS = "all_players"
    CLOUD = "cloud"


def when(moment: datetime | None) -> str:
    """Format a moment in the local time zone, as the cards show it."""
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


def player_facts(player: PlayerSnapshot) -> dict[str, str]:
    """Return what the cards and the guided fix say about one player in 1001."""
    info = player.info
    band = wifi_band(player.channel_freq)
    return {
        "name": player.name,
        "model": info.model_name if info else "Sonos",
        "address": player.ip,
        "serial": info.serial_number if info else "-",
        "band": f"{band} GHz" if band else ("Ethernet" if player.wired else "-"),
        "since": when(player.state.since),
        "last_seen": when(player.last_seen),
        "support_url": SUPPORT_URL,
    }


def player_details(players: Iterable[PlayerSnapshot]) -> str:
    """List players with model, address and serial number, which support asks for (markdown)."""
    lines = []
    for player in sorted(players, key=lambda p: p.name):
        facts = player_facts(player)
        lines.append(f"- **{player.name}**: {facts['model']}, {player.ip}, `{facts['serial']}`")
    return "\n".join(lines) or "-"


def answering_players(snapshot: HouseholdSnapshot, uid: str) -> str:
    """Name the other players that answer: one silent player among answering ones is its own."""
    others = (p for p in snapshot.players.values() if p.uid != uid and answered(p.failure))
    return ", ".join(sorted(p.name for p in others)) or "-"


def all_players_facts(snapshot: HouseholdSnapshot) -> dict[str, str]:
    """Return what the cards and the guided fix say when no player answers."""
    down = [p for p in snapshot.players.values() if p.state.code is ErrorCode.E1001]
    return {
        "players": ", ".join(sorted(p.name for p in down)) or "-",
        "details": player_details(down),
        "count": str(len(down)),
        "since": when(snapshot.diagnosis.all_players_down_since),
        "support_url": SUPPORT_URL,
    }


def cloud_facts(snapshot: HouseholdSnapshot) -> dict[str, str]:
    """Return what the cards and the guided fix say about the cloud: what failed, and how."""
    cloud = snapshot.diagnosis.cloud
    report = snapshot.cloud
    affected = [p for p in snapshot.players.values() if p.state.code is ErrorCode.E1003]
    unresolved = [r.target for r in report.cloud if not r.resolved]
    refused = [r.target for r in report.cloud if r.resolved and not r.connected]
    reachable = sum(r.connected for r in report.reference)
    return {
        "players": ", ".join(sorted(p.name for p in affected)) or "-",
        "details": player_details(affected),
        "since": when(cloud.since),
        "failed_targets": ", ".join(refused) or "-",
        "unresolved": ", ".join(unresolved) or "-",
        "reference": f"{reachable}/{len(report.reference)}",
        "status": report.status.description or report.status.indicator or "-",
        "status_url": STATUS_PAGE_URL,
        "support_url": SUPPORT_URL,
    }


def _owned_issues(hass: HomeAssistant, entry: ConfigEntry) -> list[str]:
    """Return the ids of the issues this config entry created (their data names the entry)."""
    return [
        issue_id
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and (issue.data or {}).get("entry_id") == entry.entry_id
    ]


type WantedIssue = tuple[str, ir.IssueSeverity, dict[str, str], dict[str, str]]


def wanted_issues(snapshot: HouseholdSnapshot) -> dict[str, WantedIssue]:
    """Return the issues the snapshot calls for.

    id -> (translation key, severity, title placeholders, data for the repair flow).
    """
    diagnosis = snapshot.diagnosis
    household = snapshot.household_id
    issues: dict[str, WantedIssue] = {}
    if diagnosis.all_players_down:
        issues[f"error_1001_all_{household}"] = (
            "error_1001_all_players",
            SEVERITY[ERROR_1001.severity],
            all_players_facts(snapshot),
            {"kind": IssueKind.ALL_PLAYERS},
        )
    else:
        for player in snapshot.players.values():
            if player.state.code is ErrorCode.E1001:
                issues[f"error_1001_{player.uid}"] = (
                    "error_1001",
                    SEVERITY[ERROR_1001.severity],
                    player_facts(player),
                    {"kind": IssueKind.PLAYER, "uid": player.uid},
                )
    cloud = diagnosis.cloud
    affected = any(p.state.code is ErrorCode.E1003 for p in snapshot.players.values())
    if cloud.failing and cloud.cause is not None and affected:
        escalated = is_escalated(cloud.since, snapshot.updated_at)
        issues[f"error_1003_{household}"] = (
            f"error_1003_{cloud.cause}{'_escalated' if escalated else ''}",
            # Past 24 hours the documented advice changes to "contact support".
            ir.IssueSeverity.ERROR if escalated else SEVERITY[ERROR_1003.severity],
            cloud_facts(snapshot),
            {"kind": IssueKind.CLOUD},
        )
    return issues


@callback
def async_update_issues(hass: HomeAssistant, coordinator: SonosTroubleshooterCoordinator) -> None:
    """Create the issues the last poll calls for and delete the ones that cleared."""
    wanted = wanted_issues(coordinator.data)
    entry = coordinator.config_entry
    for issue_id in _owned_issues(hass, entry):
        if issue_id not in wanted:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, (key, severity, placeholders, data) in wanted.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=True,
            is_persistent=False,
            severity=severity,
            translation_key=key,
            translation_placeholders=placeholders,
            learn_more_url=SUPPORT_URL,
            data={"entry_id": entry.entry_id, **data},
        )


@callback
def async_remove_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete every issue of the household (the integration was removed)."""
    for issue_id in _owned_issues(hass, entry):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
