"""Which documented Sonos error a household has, decided from one poll and the previous state.

Pure and free of Home Assistant so that every rule can be tested as a table of polls.
The rules never cry wolf: an error is raised only after `FAILURES_TO_RAISE` consecutive
failed polls, or when a poll's control call fails at the end of a silence confirmed by
`CONFIRM_CHECKS` failed checks over `CONFIRM_SPAN`; it is cleared on the first good poll.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .timing import CONFIRM_CHECKS, CONFIRM_SPAN, FAILURES_TO_RAISE


class ErrorCode(StrEnum):
    """The documented Sonos error a player shows, if any, or that it cannot be watched."""

    OK = "ok"
    E1001 = "1001"  # the player cannot reach the network
    E1003 = "1003"  # the player is on the network but the Sonos cloud is unreachable
    # The player answers, but with HTTP 403 to every local control call: UPnP is switched off
    # in the Sonos app. Not a Sonos error code, yet no integration can control or watch it,
    # so "ok" would be untrue. When every player that answers says so, it is the household's
    # one switch (see `DiagnosisState.upnp_disabled_everywhere`).
    UPNP_DISABLED = "upnp_disabled"


class CloudCause(StrEnum):
    """Why the Sonos cloud is unreachable; the slugs are a public contract (translations, fixes)."""

    SONOS_OUTAGE = "sonos_outage"
    INTERNET_DOWN = "internet_down"
    DNS_FAILURE = "dns_failure"
    PORTS_BLOCKED = "ports_blocked"


EXPECTED_ABSENCES: frozenset[str] = frozenset(
    {"powered off", "sleeping", "switch to bluetooth", "upgrade"}
)
"""VanishedDevices reasons that mean the player left on purpose, so its silence is no error."""

MAYBE_AWAY = "maybe_away"
"""The absence of a portable silent while the topology cannot be read: it may be asleep."""

HOUSEHOLD_FINDINGS: tuple[str, ...] = (
    "ok",
    "player_unreachable",
    "all_players_unreachable",
    "upnp_disabled",
    *CloudCause,
)
"""What the household sensor can say, most important first (see `household_finding`)."""

TOPOLOGY_CARD_AFTER = timedelta(minutes=10)
"""How long the topology must stay unreadable (too large, no events) before a card says so:
the first event may take a poll or two, and a player restarting takes a minute or two."""

_STATUS_ALL_CLEAR = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerObservation:
    """What one poll saw of one player."""

    uid: str
    answered: bool
    vanished_reason: str | None = None
    """The household topology's VanishedDevices reason; None when not listed as vanished."""
    may_be_away: bool = False
    """A portable silent while the topology cannot be read, so no reason can be known."""
    upnp_disabled: bool = False
    """It answered HTTP 403: on the network, but refusing local control (UPnP off)."""
    answered_badly: bool = False
    """It answered, but not as a player does (an unreadable answer, another device at its
    address): on the network, yet no word on whether the household's UPnP is on."""
    missed_checks: int = 0
    """Checks failed in a row up to this poll's control call (included), between polls too."""
    missed_since: datetime | None = None
    """When the first of those checks was made; None when the last check was answered."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudObservation:
    """What one poll saw of the Sonos cloud, and of a neutral reference to tell causes apart."""

    names_resolved: bool
    cloud_connected: bool
    reference_connected: bool
    status_indicator: str | None
    """The Sonos status page's `status.indicator`; None when the page could not be fetched."""

    @property
    def ok(self) -> bool:
        """Whether the players can reach the cloud: every host resolved and accepted a connection."""
        return self.names_resolved and self.cloud_connected


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One poll of the whole household."""

    at: datetime
    players: tuple[PlayerObservation, ...]
    cloud: CloudObservation


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerState:
    """Diagnosis of one player, carried from poll to poll."""

    uid: str
    code: ErrorCode
    failures: int
    """Consecutive polls the player failed to answer for no expected reason."""
    failing_since: datetime | None
    """The first failed poll of the current streak; None while not failing."""
    since: datetime | None
    """When the current error began, so restarts and later polls keep the original time."""
    expected_absence: str | None
    """The normalized VanishedDevices reason while the player is away on purpose."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudState:
    """Diagnosis of the Sonos cloud, carried from poll to poll."""

    failures: int
    failing_since: datetime | None
    failing: bool
    """The cloud check failed on at least `FAILURES_TO_RAISE` consecutive polls."""
    cause: CloudCause | None
    """The most likely documented cause while failing."""
    since: datetime | None
    """The first failed poll of the streak while failing; None otherwise."""
    status_indicator: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosisState:
    """Diagnosis of the household; never mutated, each poll builds a new one."""

    players: Mapping[str, PlayerState]
    cloud: CloudState
    all_players_down: bool
    """Every player not away on purpose is in 1001: the network itself is likely down."""
    all_players_down_since: datetime | None
    upnp_disabled_everywhere: bool = False
    """Every player that answers refuses with HTTP 403, and at least one does: the household's
    one UPnP switch (Sonos app: Account > Privacy & Security > UPnP) is off. Players that are
    silent or answer badly say nothing either way. Decided afresh by each poll, so it is not
    stored: the stored player states give its start (`upnp_disabled_since`)."""

    @property
    def upnp_disabled_since(self) -> datetime | None:
        """When the first player still refusing began to refuse, while UPnP is off everywhere."""
        if not self.upnp_disabled_everywhere:
            return None
        return min(
            (
                player.since
                for player in self.players.values()
                if player.code is ErrorCode.UPNP_DISABLED and player.since is not None
            ),
            default=None,
        )

    @classmethod
    def initial(cls) -> DiagnosisState:
        """Return the state before the first poll: nothing known, nothing wrong."""
        return cls(
            players={},
            cloud=CloudState(
                failures=0,
                failing_since=None,
                failing=False,
                cause=None,
                since=None,
                status_indicator=None,
            ),
            all_players_down=False,
            all_players_down_since=None,
        )

    def player(self, uid: str) -> PlayerState | None:
        """Return the diagnosis of one player, None if it is not in the household."""
        return self.players.get(uid)


def diagnose(previous: DiagnosisState, observation: Observation) -> DiagnosisState:
    """Fold one poll into the previous state and return the next one."""
    cloud = _diagnose_cloud(previous.cloud, observation.cloud, observation.at)
    players = {
        seen.uid: _diagnose_player(previous.player(seen.uid), seen, cloud, observation.at)
        for seen in observation.players
    }
    down = [state for state in players.values() if state.code is ErrorCode.E1001]
    all_down = bool(down) and all(
        state.code is ErrorCode.E1001 or state.expected_absence is not None
        for state in players.values()
    )
    if not all_down:
        down_since = None
    elif previous.all_players_down:
        down_since = previous.all_players_down_since
    else:
        down_since = min(filter(None, (state.since for state in down)))
    return DiagnosisState(
        players=players,
        cloud=cloud,
        all_players_down=all_down,
        all_players_down_since=down_since,
        upnp_disabled_everywhere=upnp_disabled_everywhere(observation.players),
    )


def upnp_disabled_everywhere(players: Iterable[PlayerObservation]) -> bool:
    """Tell whether a poll shows the household's UPnP switched off, rather than one player's.

    UPnP is one switch for the whole system in the Sonos app, and recent firmware ships with
    it off: then every player refuses with HTTP 403, and one card for the household says how
    to switch it on once. A player that answers properly proves the switch is on, so the
    others' refusals are their own (a player on other firmware, say), one card each.
    """
    refused = False
    for seen in players:
        if not seen.answered or seen.answered_badly:
            continue  # silent, or not speaking as a player: no word on the switch
        if not seen.upnp_disabled:
            return False
        refused = True
    return refused


def _diagnose_cloud(previous: CloudState, seen: CloudObservation, at: datetime) -> CloudState:
    """Advance the cloud's failure streak; clear it on the first good poll."""
    if seen.ok:
        return CloudState(
            failures=0,
            failing_since=None,
            failing=False,
            cause=None,
            since=None,
            status_indicator=seen.status_indicator,
        )
    failures = previous.failures + 1
    failing_since = previous.failing_since or at
    failing = failures >= FAILURES_TO_RAISE
    return CloudState(
        failures=failures,
        failing_since=failing_since,
        failing=failing,
        cause=_cloud_cause(seen) if failing else None,
        since=failing_since if failing else None,
        status_indicator=seen.status_indicator,
    )


def _cloud_cause(seen: CloudObservation) -> CloudCause:
    """Pick the most likely documented cause first: a declared outage explains everything."""
    indicator = seen.status_indicator
    if indicator is not None and indicator.strip().lower() != _STATUS_ALL_CLEAR:
        return CloudCause.SONOS_OUTAGE
    if not seen.reference_connected:
        return CloudCause.INTERNET_DOWN
    if not seen.names_resolved:
        return CloudCause.DNS_FAILURE
    return CloudCause.PORTS_BLOCKED


def _diagnose_player(
    previous: PlayerState | None, seen: PlayerObservation, cloud: CloudState, at: datetime
) -> PlayerState:
    """Advance one player's failure streak; an answer or an expected absence clears it.

    A 403 is raised at once: unlike silence it is no dropped packet but the player's own
    word, and it holds until UPnP is switched on again. It comes before 1003, which is
    inferred for players that can be watched.
    """
    if seen.answered and seen.upnp_disabled:
        still = previous is not None and previous.code is ErrorCode.UPNP_DISABLED
        return PlayerState(
            uid=seen.uid,
            code=ErrorCode.UPNP_DISABLED,
            failures=0,
            failing_since=None,
            since=previous.since if still and previous is not None else at,
            expected_absence=None,
        )
    if seen.answered:
        if cloud.failing:
            return PlayerState(
                uid=seen.uid,
                code=ErrorCode.E1003,
                failures=0,
                failing_since=None,
                since=cloud.since,
                expected_absence=None,
            )
        return _player_ok(seen.uid, expected_absence=None)
    absence = expected_absence(seen.vanished_reason)
    if absence is not None:
        return _player_ok(seen.uid, expected_absence=absence)
    # Unknown is not 1001 for a player that may be away on purpose; a 1001 raised while the
    # topology could be read stands, though (nothing new says the player left on purpose).
    if seen.may_be_away and (previous is None or previous.code is not ErrorCode.E1001):
        return _player_ok(seen.uid, expected_absence=MAYBE_AWAY)
    failures = (0 if previous is None else previous.failures) + 1
    failing_since = (
        (None if previous is None else previous.failing_since) or seen.missed_since or at
    )
    raised = failures >= FAILURES_TO_RAISE or silence_confirmed(
        seen.missed_checks, seen.missed_since, at
    )
    return PlayerState(
        uid=seen.uid,
        code=ErrorCode.E1001 if raised else ErrorCode.OK,
        failures=failures,
        failing_since=failing_since,
        since=failing_since if raised else None,
        expected_absence=None,
    )


def silence_confirmed(checks: int, since: datetime | None, at: datetime) -> bool:
    """Tell whether `checks` failed checks in a row, begun at `since`, confirm a silence at `at`.

    Several checks seconds apart rule out a lost packet (retransmitted within a second) and
    a busy moment of the player; a poll ends every confirmation with a failed control call.
    """
    return checks >= CONFIRM_CHECKS and since is not None and at - since >= CONFIRM_SPAN


def _player_ok(uid: str, *, expected_absence: str | None) -> PlayerState:
    """Build a player with no error and no failure streak."""
    return PlayerState(
        uid=uid,
        code=ErrorCode.OK,
        failures=0,
        failing_since=None,
        since=None,
        expected_absence=expected_absence,
    )


def expected_absence(reason: str | None) -> str | None:
    """Return the normalized reason if it is an expected absence; firmware varies in case."""
    if reason is None:
        return None
    normalized = reason.strip().lower()
    return normalized if normalized in EXPECTED_ABSENCES else None


def topology_card_due(unreadable_since: datetime | None, at: datetime) -> bool:
    """Tell whether the topology has been unreadable long enough to show its card."""
    return unreadable_since is not None and at - unreadable_since >= TOPOLOGY_CARD_AFTER


def fallen_with_main(state: DiagnosisState, links: Mapping[str, str]) -> dict[str, str]:
    """Return the satellites in 1001 because their main unit is: satellite -> main unit.

    A home theatre's Sub and rears reach the network through their main unit; when it is
    down they go silent with it, and their silence says nothing of their own. `links` maps
    each satellite to its main unit (see `Household.satellite_links`).
    """
    return {
        uid: main
        for uid, main in links.items()
        if (player := state.player(uid)) is not None
        and player.code is ErrorCode.E1001
        and (unit := state.player(main)) is not None
        and unit.code is ErrorCode.E1001
    }


def household_finding(state: DiagnosisState) -> str:
    """Return the household's most important finding: the network first, then the cloud.

    UPnP switched off for the household comes before a single player's 1001: until it is on,
    no player can be watched, so what the others do is unknown.
    """
    if state.all_players_down:
        return "all_players_unreachable"
    if state.upnp_disabled_everywhere:
        return "upnp_disabled"
    if any(player.code is ErrorCode.E1001 for player in state.players.values()):
        return "player_unreachable"
    if state.cloud.failing and state.cloud.cause is not None:
        return str(state.cloud.cause)
    return "ok"


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityChanges:
    """What became unavailable or available again from one diagnosis to the next (for the log).

    A player counts as unavailable while in 1001: the silence the diagnosis confirmed, not a
    single missed check or poll (one lost packet is no outage, and would log twice a minute
    on a flaky link); it is back when 1001 ends. The cloud, while failing (1003 begins).
    """

    silenced: tuple[str, ...] = ()
    """Players whose 1001 began."""
    answering: tuple[str, ...] = ()
    """Players whose 1001 ended because they answer again (properly, with 403, or junk)."""
    away: tuple[str, ...] = ()
    """Players whose 1001 ended because the household lists them away on purpose."""
    cloud_lost: CloudCause | None = None
    """The cause of a 1003 that began."""
    cloud_back: bool = False
    """The 1003 ended: the cloud answers again."""

    def __bool__(self) -> bool:
        """Tell whether anything changed."""
        return bool(
            self.silenced
            or self.answering
            or self.away
            or self.cloud_lost is not None
            or self.cloud_back
        )


def availability_changes(previous: DiagnosisState, current: DiagnosisState) -> AvailabilityChanges:
    """Return what became unavailable or available again between two diagnoses.

    Only changes count, so nothing repeats while a state lasts; after a restart `previous` is
    the stored diagnosis, so an outage that lasts across it is not new, while one that began
    or ended meanwhile is. A player the user deleted is no change.
    """
    silenced: list[str] = []
    answering: list[str] = []
    away: list[str] = []
    for uid, state in current.players.items():
        before = previous.player(uid)
        was_down = before is not None and before.code is ErrorCode.E1001
        if state.code is ErrorCode.E1001 and not was_down:
            silenced.append(uid)
        elif state.code is not ErrorCode.E1001 and was_down:
            (away if state.expected_absence is not None else answering).append(uid)
    return AvailabilityChanges(
        silenced=tuple(silenced),
        answering=tuple(answering),
        away=tuple(away),
        cloud_lost=current.cloud.cause
        if current.cloud.failing and not previous.cloud.failing
        else None,
        cloud_back=previous.cloud.failing and not current.cloud.failing,
    )
