"""What a household keeps across restarts: players and their links, diagnosis, tally, actions.

One JSON document per config entry (`.storage/sonos_troubleshooter.<entry id>`), written in one
style: times as ISO 8601, enums as their values. It is read back strictly, part by part: a
player or an action that cannot be trusted is skipped with a warning, a diagnosis that cannot be
continued from starts afresh; nothing unreadable breaks setup. Parts a later version added
(a player's `link`, the household's `polls`) are optional: a document written before them
loads with empty counters.
"""

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .sonos_health.error_rules import CloudCause, CloudState, DiagnosisState, ErrorCode, PlayerState
from .sonos_health.household import Household, KnownPlayer
from .sonos_health.link_rules import HourTally, Link
from .sonos_health.player_client import PlayerInfo, Role, Uplink
from .sonos_health.power_rules import Action, ActionLog, ActionRecord, Outcome

STORAGE_VERSION = 1
SAVE_DELAY = 1.0  # seconds: a poll and an action record a moment apart are written once
SAVE_GAP = 60.0  # seconds: a household that keeps changing is written at most once a minute
# What moves at every poll of a steady household (a player's last answer, when its description
# was last read, the poll tally) waits for a change that matters, for shutdown, or this long:
# a power cut loses at most this much of them, never an error, a counter or an action.
ROUTINE_SAVE_DELAY = 86400.0  # seconds
ROUTINE_PLAYER_FIELDS = ("last_seen", "info_read_at")


class HouseholdStore:
    """Loads a household's model and action log, and writes them when what they hold changed.

    A Raspberry Pi's SD card wears with every write: a steady household writes nothing. A
    change that matters (a player joined or moved, an error began or ended, a counter or the
    action log moved) is written within a second, at most once a minute; what only moves with
    time is written with it, on shutdown (Home Assistant's final write) and on unload.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use the store of one config entry."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")
        self._document: Callable[[], dict[str, Any]] = dict
        self._written: dict[str, Any] = {}  # the document as last read or written
        self._written_matters: dict[str, Any] = {}  # its part that matters (`_that_matters`)
        self._last_write: datetime | None = None
        self._pending: bool | None = None  # a write is scheduled: True for a change that matters

    async def async_load(self) -> tuple[Household, ActionLog]:
        """Rebuild what was stored (an empty household on a first setup); save it from now on."""
        stored = await self._store.async_load() or {}
        household = Household(
            _readable(stored.get("players"), player_from_dict, "player"),
            diagnosis_from_dict(stored.get("diagnosis")),
            tuple(_readable(stored.get("polls"), hour_from_dict, "poll tally")),
        )
        action_log = ActionLog(
            _readable(stored.get("actions"), action_from_dict, "action"),
            on_change=self.async_changed,
        )
        self._document = lambda: {
            "players": [player_to_dict(player) for player in household.players.values()],
            "diagnosis": diagnosis_to_dict(household.diagnosis),
            "polls": [hour_to_dict(item) for item in household.tally],
            "actions": [action_to_dict(record) for record in action_log.records],
        }
        self._remember(self._document())
        return household, action_log

    @callback
    def async_changed(self) -> None:
        """Schedule a write for what changed since the last one (after a poll, an action)."""
        document = self._document()
        if document == self._written:
            return
        if _that_matters(document) != self._written_matters:
            wait = (
                0.0
                if self._last_write is None
                else SAVE_GAP - (dt_util.utcnow() - self._last_write).total_seconds()
            )
            self._pending = True
            self._store.async_delay_save(self._write, max(SAVE_DELAY, wait))
        elif self._pending is None:
            self._pending = False
            self._store.async_delay_save(self._write, ROUTINE_SAVE_DELAY)

    @callback
    def _write(self) -> dict[str, Any]:
        """Return the document to write now, and remember it as written."""
        self._remember(self._document())
        self._last_write = dt_util.utcnow()
        self._pending = None
        return self._written

    def _remember(self, document: dict[str, Any]) -> None:
        """Keep the document as written, and its part that matters, to compare polls with."""
        self._written = document
        self._written_matters = _that_matters(document)

    async def async_save(self) -> None:
        """Write now what changed (before unload, or a player the user deleted)."""
        if self._document() != self._written:
            await self._store.async_save(self._write())

    async def async_remove(self) -> None:
        """Delete the stored document (the integration was removed)."""
        await self._store.async_remove()


def _that_matters(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return the document without what moves with time alone (see ROUTINE_SAVE_DELAY)."""
    return {
        **{key: value for key, value in document.items() if key != "polls"},
        "players": [
            {key: value for key, value in player.items() if key not in ROUTINE_PLAYER_FIELDS}
            for player in document.get("players", [])
        ],
    }


def _readable[T](raw: object, parse: Callable[[Mapping[str, object]], T], kind: str) -> list[T]:
    """Parse every item of a stored list, skipping (and reporting) those that are unreadable."""
    items = []
    for item in raw if isinstance(raw, list) else []:
        try:
            items.append(parse(_mapping(item)))
        except KeyError, ValueError:
            LOGGER.warning("Ignoring an unreadable stored %s: %s", kind, item)
    return items


# --- players ----------------------------------------------------------------------------


def player_to_dict(player: KnownPlayer) -> dict[str, object]:
    """Return a watched player as stored."""
    info = player.info
    return {
        "uid": player.uid,
        "name": player.name,
        "ip": player.ip,
        "info": None if info is None else {f.name: getattr(info, f.name) for f in fields(info)},
        "info_read_at": _iso(player.info_read_at),
        "last_seen": _iso(player.last_seen),
        "channel_freq": player.channel_freq,
        "uplink": player.uplink.value,
        "role": player.role.value,
        "main": player.main,
        "link": link_to_dict(player.link),
    }


def player_from_dict(data: Mapping[str, object]) -> KnownPlayer:
    """Rebuild a stored player; raise ValueError or KeyError when it cannot be trusted."""
    info = data.get("info")
    freq = data.get("channel_freq")
    link = data.get("link")
    return KnownPlayer(
        uid=_text(data["uid"]),
        name=_text(data["name"]),
        ip=_text(data["ip"]),
        info=None if info is None else _player_info(_mapping(info)),
        info_read_at=_time(data.get("info_read_at")),
        last_seen=_time(data.get("last_seen")),
        channel_freq=None if freq is None else _count(freq),
        uplink=_uplink(data),
        # Stored before bonded sets were known: a player on its own until the next topology.
        role=Role(_text(data.get("role", Role.PLAYER))),
        main=None if (main := data.get("main")) is None else _text(main),
        link=Link() if link is None else link_from_dict(_mapping(link)),
    )


def _uplink(data: Mapping[str, object]) -> Uplink:
    """Return how a stored player reaches the network; stored before 0.3 as a wired flag."""
    if (value := data.get("uplink")) is not None:
        return Uplink(_text(value))
    return Uplink.ETHERNET if _flag(data.get("wired", False)) else Uplink.WIFI


def _player_info(data: Mapping[str, object]) -> PlayerInfo:
    return PlayerInfo(**{f.name: _text(data[f.name]) for f in fields(PlayerInfo)})


# --- links and the poll tally ---------------------------------------------------------------


def link_to_dict(link: Link) -> dict[str, object]:
    """Return a player's link counters as stored; the silence going on is not kept."""
    return {
        "missed": link.missed,
        "dropouts": link.dropouts,
        "reboots": link.reboots,
        "last_dropout": _iso(link.last_dropout),
        "recent_dropouts": [_iso(moment) for moment in link.recent_dropouts],
        "boot_seq": link.boot_seq,
        "unstable_since": _iso(link.unstable_since),
    }


def link_from_dict(data: Mapping[str, object]) -> Link:
    """Rebuild stored link counters; raise ValueError or KeyError when they are broken."""
    recent = data["recent_dropouts"]
    boot_seq = data["boot_seq"]
    if not isinstance(recent, list):
        raise UnreadableError("not a list")
    return Link(
        missed=_count(data["missed"]),
        dropouts=_count(data["dropouts"]),
        reboots=_count(data["reboots"]),
        last_dropout=_time(data["last_dropout"]),
        recent_dropouts=tuple(filter(None, (_time(moment) for moment in recent))),
        boot_seq=None if boot_seq is None else _count(boot_seq),
        unstable_since=_time(data["unstable_since"]),
    )


def hour_to_dict(item: HourTally) -> dict[str, object]:
    """Return one hour of the poll tally as stored."""
    return {"hour": _iso(item.hour), "polls": item.polls, "complete": item.complete}


def hour_from_dict(data: Mapping[str, object]) -> HourTally:
    """Rebuild one hour of the poll tally; raise ValueError or KeyError when it is broken."""
    hour = _time(data["hour"])
    polls, complete = _count(data["polls"]), _count(data["complete"])
    if hour is None or complete > polls:
        raise UnreadableError("an impossible hour")
    return HourTally(hour=hour, polls=polls, complete=complete)


# --- the diagnosis ------------------------------------------------------------------------


def diagnosis_to_dict(state: DiagnosisState) -> dict[str, object]:
    """Return the diagnosis as stored (and shown in diagnostics)."""
    cloud = state.cloud
    return {
        "players": {
            uid: {
                "code": player.code.value,
                "failures": player.failures,
                "failing_since": _iso(player.failing_since),
                "since": _iso(player.since),
                "expected_absence": player.expected_absence,
            }
            for uid, player in state.players.items()
        },
        "cloud": {
            "failures": cloud.failures,
            "failing_since": _iso(cloud.failing_since),
            "failing": cloud.failing,
            "cause": None if cloud.cause is None else cloud.cause.value,
            "since": _iso(cloud.since),
            "status_indicator": cloud.status_indicator,
        },
        "all_players_down": state.all_players_down,
        "all_players_down_since": _iso(state.all_players_down_since),
    }


def diagnosis_from_dict(data: object) -> DiagnosisState:
    """Rebuild a stored diagnosis; anything unreadable starts afresh rather than break setup."""
    try:
        return _diagnosis(_mapping(data))
    except KeyError, ValueError:
        return DiagnosisState.initial()


def _diagnosis(data: Mapping[str, object]) -> DiagnosisState:
    """Parse `diagnosis_to_dict` output, checking the invariants `diagnose` relies on."""
    players = {}
    for key, raw in _mapping(data["players"]).items():
        uid, player = _text(key), _mapping(raw)
        players[uid] = PlayerState(
            uid=uid,
            code=ErrorCode(_text(player["code"])),
            failures=_count(player["failures"]),
            failing_since=_time(player["failing_since"]),
            since=_time(player["since"]),
            expected_absence=_optional_text(player["expected_absence"]),
        )
    raw_cloud = _mapping(data["cloud"])
    cause = _optional_text(raw_cloud["cause"])
    cloud = CloudState(
        failures=_count(raw_cloud["failures"]),
        failing_since=_time(raw_cloud["failing_since"]),
        failing=_flag(raw_cloud["failing"]),
        cause=None if cause is None else CloudCause(cause),
        since=_time(raw_cloud["since"]),
        status_indicator=_optional_text(raw_cloud["status_indicator"]),
    )
    state = DiagnosisState(
        players=players,
        cloud=cloud,
        all_players_down=_flag(data["all_players_down"]),
        all_players_down_since=_time(data["all_players_down_since"]),
    )
    streaks = [(p.failures, p.failing_since) for p in players.values()]
    streaks.append((cloud.failures, cloud.failing_since))
    if any((failures == 0) != (start is None) for failures, start in streaks) or (
        state.all_players_down != (state.all_players_down_since is not None)
    ):
        raise UnreadableError("inconsistent failure streak")
    return state


# --- the action log -------------------------------------------------------------------------


def action_to_dict(record: ActionRecord) -> dict[str, str | None]:
    """Return an action record as stored (and shown in diagnostics)."""
    return {
        "action": record.action.value,
        "entity_id": record.entity_id,
        "subject": record.subject,
        "subject_name": record.subject_name,
        "started": _iso(record.started),
        "switched_off": _iso(record.switched_off),
        "switched_on": _iso(record.switched_on),
        "finished": _iso(record.finished),
        "outcome": record.outcome.value,
        "error": record.error,
    }


def action_from_dict(data: Mapping[str, object]) -> ActionRecord:
    """Rebuild a stored action record; raise ValueError or KeyError when it is broken."""
    started = _time(data["started"])
    if started is None:
        raise UnreadableError("a record without a start")
    return ActionRecord(
        action=Action(_text(data["action"])),
        entity_id=_text(data["entity_id"]),
        subject=_text(data["subject"]),
        subject_name=_text(data["subject_name"]),
        started=started,
        switched_off=_time(data.get("switched_off")),
        switched_on=_time(data.get("switched_on")),
        finished=_time(data.get("finished")),
        outcome=Outcome(_text(data["outcome"])),
        error=_optional_text(data.get("error")),
    )


# --- one reading style for every part ------------------------------------------------------


class UnreadableError(ValueError):
    """A stored part is not what this version wrote; it is skipped or started afresh."""


def _iso(moment: datetime | None) -> str | None:
    """Return a datetime as an ISO 8601 string, which round-trips exactly."""
    return None if moment is None else moment.isoformat()


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise UnreadableError("not a mapping")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise UnreadableError("not a string")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _count(value: object) -> int:
    """Return the value if it is a non-negative integer (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnreadableError("not a count")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise UnreadableError("not a bool")
    return value


def _time(value: object) -> datetime | None:
    """Parse an aware ISO 8601 datetime; naive ones could not be compared with poll times."""
    if value is None:
        return None
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise UnreadableError("naive datetime")
    return moment
