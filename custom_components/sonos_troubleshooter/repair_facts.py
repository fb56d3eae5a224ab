"""The measured facts repair cards and guided fixes fill into their texts.

Every text lives in the translations; these functions only say which player, since when, at
which address, what failed and what Home Assistant did, formatted as the cards show them.
"""

from collections.abc import Iterable
from datetime import datetime

from homeassistant.util import dt as dt_util

from .const import STATUS_PAGE_URL, SUPPORT_URL
from .coordinator import HouseholdSnapshot, PlayerSnapshot
from .sonos_health.core_rules import CoreLoss, EventPath
from .sonos_health.error_rules import ErrorCode
from .sonos_health.player_client import answered
from .sonos_health.power_rules import ActionRecord
from .words import Words

# When an error began: a card may stay open for days.
DATE_AND_TIME = "%Y-%m-%d %H:%M"
# The moments of a check or an action on screen, seconds apart.
TIME_OF_DAY = "%H:%M:%S"
# A measured check on a card, the same in every language: passed, failed, not measurable.
CHECK_MARKS = {True: "✅", False: "❌", None: "❔"}


def when(moment: datetime | None, style: str = DATE_AND_TIME) -> str:
    """Format a moment in the local time zone, as the cards show it; "-" when there is none."""
    return dt_util.as_local(moment).strftime(style) if moment else "-"


def _model(player: PlayerSnapshot) -> str:
    return player.info.model_name if player.info else "Sonos"


def _serial(player: PlayerSnapshot) -> str:
    return player.info.serial_number if player.info else "-"


def names(players: Iterable[PlayerSnapshot]) -> str:
    """List players by name as a reader looks them up: alphabetically, whatever the case."""
    return ", ".join(sorted((p.name for p in players), key=str.casefold))


def _main_name(player: PlayerSnapshot, snapshot: HouseholdSnapshot) -> str:
    """Name the main unit a satellite plays through; a player that is its own names itself."""
    main = snapshot.players.get(player.main or "")
    return main.name if main else player.name


def player_facts(
    player: PlayerSnapshot, snapshot: HouseholdSnapshot, words: Words
) -> dict[str, str]:
    """Return what the cards and the guided fix say about one player in 1001.

    With its bonds: the room, the main unit and the rest of its set (a home theatre's card
    names the satellites silent with it; a satellite's, the main unit it plays through).
    How it connects is worded by the translations (`words`), like the map's.
    """
    fallen = [p for p in snapshot.players.values() if p.main_unit_down and p.main == player.uid]
    main = _main_name(player, snapshot)
    return {
        "name": player.name,
        "room": player.room,
        "main": main,
        "partners": ", ".join(player.bonded_with) or "-",
        "satellites": names(fallen) or "-",
        "details": player_details([player, *fallen]),
        "model": _model(player),
        "address": player.ip,
        "serial": _serial(player),
        "link": words.link(player, main),
        "since": when(player.state.since),
        "last_seen": when(player.last_seen),
        "support_url": SUPPORT_URL,
    }


def unstable_facts(
    player: PlayerSnapshot, snapshot: HouseholdSnapshot, words: Words
) -> dict[str, str]:
    """Return what the early-warning card says: how often and when the link dropped.

    A satellite's card names its room and the main unit it reaches the network through.
    """
    link = player.link
    main = _main_name(player, snapshot)
    return {
        "name": player.name,
        "room": player.room,
        "main": main,
        "model": _model(player),
        "address": player.ip,
        "link": words.link(player, main),
        "dropouts": str(len(link.recent_dropouts)),
        "last_dropout": when(link.last_dropout),
        "response_time": "-" if player.response_time is None else f"{player.response_time:.0f} ms",
        "missed": str(link.missed),
    }


def player_details(players: Iterable[PlayerSnapshot]) -> str:
    """List players with model, address and serial number, which support asks for (markdown)."""
    lines = [
        f"- **{player.name}**: {_model(player)}, {player.ip}, `{_serial(player)}`"
        for player in sorted(players, key=lambda p: p.name.casefold())
    ]
    return "\n".join(lines) or "-"


def answering_players(snapshot: HouseholdSnapshot, uid: str) -> str:
    """Name the other players that answer: one silent player among answering ones is its own."""
    others = (p for p in snapshot.players.values() if p.uid != uid and answered(p.failure))
    return names(others) or "-"


def _players_facts(
    snapshot: HouseholdSnapshot, code: ErrorCode, since: datetime | None
) -> dict[str, str]:
    """Return what a household card says of the players with `code`: who, how many, since."""
    players = [p for p in snapshot.players.values() if p.state.code is code]
    return {
        "players": names(players) or "-",
        "details": player_details(players),
        "count": str(len(players)),
        "since": when(since),
        "support_url": SUPPORT_URL,
    }


def all_players_facts(snapshot: HouseholdSnapshot) -> dict[str, str]:
    """Return what the cards and the guided fix say when no player answers."""
    return _players_facts(snapshot, ErrorCode.E1001, snapshot.diagnosis.all_players_down_since)


def upnp_household_facts(snapshot: HouseholdSnapshot) -> dict[str, str]:
    """Return what the household's UPnP card and its guided fix say: who refuses, since when."""
    return _players_facts(snapshot, ErrorCode.UPNP_DISABLED, snapshot.diagnosis.upnp_disabled_since)


def cloud_facts(snapshot: HouseholdSnapshot) -> dict[str, str]:
    """Return what the cards and the guided fix say about the cloud: what failed, and how."""
    cloud = snapshot.diagnosis.cloud
    report = snapshot.cloud
    affected = [p for p in snapshot.players.values() if p.state.code is ErrorCode.E1003]
    unresolved = [r.target for r in report.cloud if not r.resolved]
    refused = [r.target for r in report.cloud if r.resolved and not r.connected]
    reachable = sum(r.connected for r in report.reference)
    return {
        "players": names(affected) or "-",
        "details": player_details(affected),
        "since": when(cloud.since),
        "failed_targets": ", ".join(refused) or "-",
        "unresolved": ", ".join(unresolved) or "-",
        "reference": f"{reachable}/{len(report.reference)}",
        "status": report.status.description or report.status.indicator or "-",
        "status_url": STATUS_PAGE_URL,
        "support_url": SUPPORT_URL,
    }


def core_lost_facts(snapshot: HouseholdSnapshot, loss: CoreLoss) -> dict[str, str]:
    """Return what the card says when core Sonos shows a speaker unavailable that answers us."""
    player = snapshot.players[loss.uid]
    return {
        "name": player.name,
        "address": loss.address,
        "core_address": loss.core_address or loss.address,
        "since": when(loss.since),
        "events": CHECK_MARKS[snapshot.core.events is None],
    }


def core_events_facts(snapshot: HouseholdSnapshot, path: EventPath) -> dict[str, str]:
    """Return what the card says about the way events take to core's listener, as measured."""
    outside = path.speakers_outside
    return {
        "listener": path.listener,
        "address_is_local": CHECK_MARKS[path.address_is_local],
        "port_in_range": CHECK_MARKS[path.port_in_range],
        "listener_open": CHECK_MARKS[path.listener_open],
        "same_network": CHECK_MARKS[None if outside is None else not outside],
        "outside": ", ".join(outside or ()) or "-",
        "players": str(len(snapshot.players)),
    }


def action_facts(record: ActionRecord) -> dict[str, str]:
    """Return what a report page says about an action."""
    return {
        "entity": record.entity_id,
        "started_at": when(record.started),
        "off_at": when(record.switched_off, TIME_OF_DAY),
        "on_at": when(record.switched_on, TIME_OF_DAY),
        "finished_at": when(record.finished, TIME_OF_DAY),
        "error": record.error or "-",
    }
