"""Repair issues follow the diagnosis: created when an error starts, deleted when it clears.

Issue ids: `error_1001_<player uid>` per player (one card for a home theatre whose main unit
fell with its satellites, on the main unit's id), `error_1001_all_<household>` when every player
is down at once (then there are no per-player cards), `error_1003_<household>` for the cloud,
`upnp_disabled_all_<household>` when every player that answers refuses local control (HTTP
403: the household's one UPnP switch is off), else `upnp_disabled_<player uid>` for a player
refusing on its own while others answer properly. Two more follow
HA core's Sonos integration rather than the speakers: `core_lost_<player uid>` when core shows
a speaker unavailable that answers us, `core_events_<household>` while core's own
`subscriptions_failed` issue is raised. The early warning `unstable_<player uid>` is for a
player whose link keeps dropping (see `link_rules.py`) while it is not in 1001. They are not
persistent: each start re-creates them from the stored diagnosis (the core cards from the
first poll), with the original start time, and deletes any whose error cleared while Home
Assistant was down. Every issue but the early warning is fixable: `repairs.py` walks the user
through the documented steps; the early warning is a card to read, which closes itself after
a quiet hour.
"""

from enum import StrEnum

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, SUPPORT_URL
from .coordinator import HouseholdSnapshot, SonosTroubleshooterCoordinator
from .repair_facts import (
    all_players_facts,
    cloud_facts,
    core_events_facts,
    core_lost_facts,
    player_facts,
    unstable_facts,
    upnp_household_facts,
    when,
)
from .runtime_data import SonosTroubleshooterConfigEntry
from .sonos_health.error_catalog import (
    ERROR_1001,
    ERROR_1003,
    UNSTABLE_CARDS,
    Severity,
    is_escalated,
)
from .sonos_health.error_rules import CloudCause, ErrorCode, topology_card_due
from .words import Words

SEVERITY = {Severity.MODERATE: ir.IssueSeverity.ERROR, Severity.MINOR: ir.IssueSeverity.WARNING}


class IssueKind(StrEnum):
    """What an issue is about; stored in the issue's data for its repair flow."""

    PLAYER = "player"
    ALL_PLAYERS = "all_players"
    CLOUD = "cloud"
    UPNP_DISABLED = "upnp_disabled"
    UPNP_HOUSEHOLD = "upnp_household"
    CORE_LOST = "core_lost"
    CORE_EVENTS = "core_events"
    UNSTABLE = "unstable"
    TOPOLOGY = "topology"

    @property
    def fixable(self) -> bool:
        """Cards with a guided fix; the rest are cards to read, which close by themselves."""
        return self not in (IssueKind.UNSTABLE, IssueKind.TOPOLOGY)


def _owned_issues(hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry) -> list[str]:
    """Return the ids of the issues this config entry created (their data names the entry)."""
    return [
        issue_id
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and (issue.data or {}).get("entry_id") == entry.entry_id
    ]


type WantedIssue = tuple[str, ir.IssueSeverity, dict[str, str], dict[str, str]]


def wanted_issues(snapshot: HouseholdSnapshot, words: Words) -> dict[str, WantedIssue]:
    """Return the issues the snapshot calls for, with facts worded in `words`.

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
            # A satellite down with its main unit is on the main unit's card (no card).
            if player.state.code is ErrorCode.E1001 and player.card is not None:
                issues[f"error_1001_{player.uid}"] = (
                    player.card,
                    SEVERITY[ERROR_1001.severity],
                    player_facts(player, snapshot, words),
                    {"kind": IssueKind.PLAYER, "uid": player.uid},
                )
            elif player.warned:
                issues[f"unstable_{player.uid}"] = (
                    UNSTABLE_CARDS[player.uplink],
                    ir.IssueSeverity.WARNING,
                    unstable_facts(player, snapshot, words),
                    {"kind": IssueKind.UNSTABLE, "uid": player.uid},
                )
    cloud = diagnosis.cloud
    affected = any(p.state.code is ErrorCode.E1003 for p in snapshot.players.values())
    escalated = is_escalated(cloud.since, snapshot.updated_at)
    # Repairs are for what the user can act on. While Sonos' own incident is Sonos' to fix,
    # the error code, the diagnosis sensor and the event entity say so, and no card asks the
    # user to wait; past 24 hours the documented advice is to contact Sonos Support: a card.
    theirs = cloud.cause is CloudCause.SONOS_OUTAGE and not escalated
    if cloud.failing and cloud.cause is not None and affected and not theirs:
        issues[f"error_1003_{household}"] = (
            f"error_1003_{cloud.cause}{'_escalated' if escalated else ''}",
            # Past 24 hours the documented advice changes to "contact support".
            ir.IssueSeverity.ERROR if escalated else SEVERITY[ERROR_1003.severity],
            cloud_facts(snapshot),
            {"kind": IssueKind.CLOUD},
        )
    # No integration can control or watch a refusing player: as serious as 1001.
    if diagnosis.upnp_disabled_everywhere:
        # One switch for the whole system: one card saying where it is, not one per player.
        issues[f"upnp_disabled_all_{household}"] = (
            "upnp_disabled_household",
            ir.IssueSeverity.ERROR,
            upnp_household_facts(snapshot),
            {"kind": IssueKind.UPNP_HOUSEHOLD},
        )
    else:
        for player in snapshot.players.values():
            if player.state.code is ErrorCode.UPNP_DISABLED:
                # Others answer properly, so the switch is on: this player's own problem.
                issues[f"upnp_disabled_{player.uid}"] = (
                    "upnp_disabled",
                    ir.IssueSeverity.ERROR,
                    player_facts(player, snapshot, words),
                    {"kind": IssueKind.UPNP_DISABLED, "uid": player.uid},
                )
    for uid, loss in snapshot.core.lost.items():
        # Core's loss, not the speaker's: the speaker plays; a warning, as core's own issues.
        issues[f"core_lost_{uid}"] = (
            "core_lost_moved" if loss.core_address else "core_lost",
            ir.IssueSeverity.WARNING,
            core_lost_facts(snapshot, loss),
            {"kind": IssueKind.CORE_LOST, "uid": uid},
        )
    if topology_card_due(snapshot.topology_unreadable_since, snapshot.updated_at):
        issues[f"topology_unknown_{household}"] = (
            "topology_unknown",
            ir.IssueSeverity.WARNING,  # nothing is down; what is watched is less
            {
                "address": snapshot.events_address or "-",
                "since": when(snapshot.topology_unreadable_since),
            },
            {"kind": IssueKind.TOPOLOGY},
        )
    if snapshot.core.events is not None:
        issues[f"core_events_{household}"] = (
            "core_events",
            ir.IssueSeverity.WARNING,
            core_events_facts(snapshot, snapshot.core.events),
            {"kind": IssueKind.CORE_EVENTS},
        )
    return issues


@callback
def async_update_issues(hass: HomeAssistant, coordinator: SonosTroubleshooterCoordinator) -> None:
    """Create the issues the last poll calls for and delete the ones that cleared."""
    wanted = wanted_issues(coordinator.data, Words(hass))
    entry = coordinator.config_entry
    for issue_id in _owned_issues(hass, entry):
        if issue_id not in wanted:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, (key, severity, placeholders, data) in wanted.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=IssueKind(data["kind"]).fixable,
            is_persistent=False,
            severity=severity,
            translation_key=key,
            translation_placeholders=placeholders,
            learn_more_url=SUPPORT_URL,
            data={"entry_id": entry.entry_id, **data},
        )


@callback
def async_remove_issues(hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry) -> None:
    """Delete every issue of the household (the integration was removed)."""
    for issue_id in _owned_issues(hass, entry):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
