"""Hands-on fixes: when Home Assistant may perform a documented step itself, and the record.

Two documented steps can be reached from Home Assistant: power-cycling a speaker through the
smart plug that feeds it, and restarting the router through its integration's restart button
or power switch. Cutting power is not undone by a click, so the rules that say no live here,
pure (no Home Assistant imports) and tested by a table. Timings are the documentation's.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

# Error 1001, step 1: "unplugging it, waiting 30 seconds, then plugging it back in". (The 1003
# page says 10 seconds, but in 1003 the players answer, and an answering player is never
# power-cycled.) An automation may choose within the documented 10 to 30 seconds.
POWER_OFF_SECONDS = 30
MIN_POWER_OFF_SECONDS = 10
# Not documented: a Sonos player takes about a minute to start and join its network. It is
# checked every RECHECK_SECONDS from the moment power returns, for up to this long.
SPEAKER_START_SECONDS = 120
# Restart the router: "unplugging it for 30 seconds, then reconnecting it and waiting 2
# minutes for it to fully start". A restart button does the unplugging itself.
ROUTER_OFF_SECONDS = 30
ROUTER_START_SECONDS = 120
RECHECK_SECONDS = 10
# Only the last few actions are kept (in the store and the diagnostics).
RECORDS_KEPT = 10


class Action(StrEnum):
    """A documented step Home Assistant can perform."""

    POWER_CYCLE = "power_cycle"
    ROUTER_RESTART = "router_restart"


class Refusal(StrEnum):
    """Why Home Assistant will not perform a step now (a translation key)."""

    BUSY = "busy"  # another action of the household is still running (Remediator checks it)
    NOT_CONFIGURED = "not_configured"  # no power switch or router entity in the options
    PLAYER_REACHABLE = "player_reachable"  # it answers: cutting its power would only harm
    SHARED_SWITCH = "shared_switch"  # the plug also feeds a player that answers
    ENTITY_UNAVAILABLE = "entity_unavailable"  # HA would skip the call without a word
    NO_NETWORK_PATH = "no_network_path"  # HA reaches nothing: the command cannot get out


class Outcome(StrEnum):
    """How an action ended."""

    RUNNING = "running"
    HELPED = "helped"  # the error it was for is gone
    NOT_HELPED = "not_helped"  # done as documented, the error is still there
    FAILED = "failed"  # the switch or button call failed
    INTERRUPTED = "interrupted"  # Home Assistant stopped mid-way; power was restored


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRecord:
    """What was done, when, and whether it helped."""

    action: Action
    entity_id: str
    subject: str  # the player's uid, or the household id for the router
    subject_name: str
    started: datetime
    switched_off: datetime | None = None  # a switch cut power
    switched_on: datetime | None = None  # power back, or the restart button pressed
    finished: datetime | None = None
    outcome: Outcome = Outcome.RUNNING
    error: str | None = None

    def finish(self, outcome: Outcome, at: datetime, error: str | None = None) -> ActionRecord:
        """Return the record closed with its outcome."""
        return replace(self, outcome=outcome, finished=at, error=error)

    @property
    def power_left_off(self) -> bool:
        """Tell whether the record stopped between cutting the power and restoring it."""
        return self.switched_off is not None and self.switched_on is None


def power_cycle_refusal(
    *,
    uid: str,
    switches: Mapping[str, str],
    answering: Collection[str],
    switch_available: bool,
) -> Refusal | None:
    """Tell why a player may not be power-cycled now, or None when it may.

    `switches` maps player uids to the switch feeding them; `answering` are the players that
    answered the poll made just before. A plug may feed several players (a power strip):
    cutting it would silence the others too, so every one of them must be silent.
    """
    switch = switches.get(uid)
    if switch is None:
        return Refusal.NOT_CONFIGURED
    if uid in answering:
        return Refusal.PLAYER_REACHABLE
    if any(other in answering for other in players_on_switch(uid, switches)):
        return Refusal.SHARED_SWITCH
    if not switch_available:
        return Refusal.ENTITY_UNAVAILABLE
    return None


def router_restart_refusal(
    *,
    entity_id: str | None,
    entity_available: bool,
    any_player_answers: bool,
    internet_answers: bool | None,
) -> Refusal | None:
    """Tell why the router may not be restarted now, or None when it may.

    When neither a player nor an internet reference host answers the poll made just before,
    Home Assistant's own host is cut off, and a restart command (sent over that same network
    to the router's integration) cannot arrive. `internet_answers` is None when no reference
    host is configured: then nothing says the host is cut off.
    """
    if entity_id is None:
        return Refusal.NOT_CONFIGURED
    if not any_player_answers and internet_answers is False:
        return Refusal.NO_NETWORK_PATH
    if not entity_available:
        return Refusal.ENTITY_UNAVAILABLE
    return None


def players_on_switch(uid: str, switches: Mapping[str, str]) -> list[str]:
    """Return the other players fed by the same switch as `uid`."""
    switch = switches.get(uid)
    return [other for other, entity in switches.items() if entity == switch and other != uid]


class ActionLog:
    """What Home Assistant did to fix things (power cycles, router restarts), oldest first.

    One record per action, known by its start; only the last RECORDS_KEPT are kept. Every
    change is reported to `on_change` (the store saves it).
    """

    def __init__(
        self, records: Iterable[ActionRecord] = (), on_change: Callable[[], None] = lambda: None
    ) -> None:
        """Start from the stored records."""
        self.records: list[ActionRecord] = list(records)[-RECORDS_KEPT:]
        self._on_change = on_change

    def record(self, record: ActionRecord) -> None:
        """Keep an action's latest state."""
        self.records = [
            *(kept for kept in self.records if kept.started != record.started),
            record,
        ][-RECORDS_KEPT:]
        self._on_change()

    def last_unhelpful(self, subject: str, since: datetime | None) -> ActionRecord | None:
        """Return the last action about the current error that ended without fixing it.

        For a player (or the household) since the error began at `since`; one that fixed
        things ended the error, so it belongs to an earlier one.
        """
        for record in reversed(self.records):
            if record.subject != subject or record.outcome in (Outcome.RUNNING, Outcome.HELPED):
                continue
            if since is None or record.started >= since:
                return record
        return None
