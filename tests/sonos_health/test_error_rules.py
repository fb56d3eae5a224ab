"""Table-driven tests of the pure diagnosis rules: each scenario is a sequence of polls."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.sonos_troubleshooter.sonos_health.error_rules import (
    EXPECTED_ABSENCES,
    MAYBE_AWAY,
    AvailabilityChanges,
    CloudCause,
    CloudObservation,
    CloudState,
    DiagnosisState,
    ErrorCode,
    Observation,
    PlayerObservation,
    PlayerState,
    availability_changes,
    diagnose,
    expected_absence,
    household_finding,
    topology_card_due,
)

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)

OK = ErrorCode.OK
E1001 = ErrorCode.E1001
E1003 = ErrorCode.E1003
UPNP_OFF = ErrorCode.UPNP_DISABLED

UP = "up"
DOWN = "down"
REFUSED = "403"
MAYBE = "maybe"
BAD = "junk"
"""Player tokens in a poll (REFUSED: answered HTTP 403, UPnP off; MAYBE: a portable silent
while the topology cannot be read; BAD: answered, but not as a player does); any other string
is a VanishedDevices reason of a silent player."""


def at(poll: int) -> datetime:
    """Return the time of the poll with this index."""
    return BASE + poll * STEP


def cloud(
    *,
    names: bool = True,
    connect: bool = True,
    reference: bool = True,
    indicator: str | None = "none",
) -> CloudObservation:
    return CloudObservation(
        names_resolved=names,
        cloud_connected=connect,
        reference_connected=reference,
        status_indicator=indicator,
    )


CLOUD_OK = cloud()
# Each is the textbook picture of one cause.
OUTAGE = cloud(connect=False, indicator="major")
INTERNET_DOWN = cloud(names=False, connect=False, reference=False, indicator=None)
DNS_FAILURE = cloud(names=False, connect=False)
PORTS_BLOCKED = cloud(connect=False)


@dataclass(frozen=True)
class Player:
    """Expected diagnosis of one player after a poll; `since` is a poll index."""

    code: ErrorCode = OK
    since: int | None = None
    failures: int = 0
    away: str | None = None


@dataclass(frozen=True)
class Cloud:
    """Expected diagnosis of the cloud after a poll; `since` is a poll index."""

    failures: int = 0
    cause: CloudCause | None = None
    since: int | None = None


@dataclass(frozen=True)
class Poll:
    """What one poll sees and what the diagnosis must be afterwards."""

    players: dict[str, str]
    expect: dict[str, Player]
    cloud: CloudObservation = CLOUD_OK
    expect_cloud: Cloud = field(default_factory=Cloud)
    all_down_since: int | None = None
    upnp_off_since: int | None = None
    """The household's UPnP switch is off (every player that answers refuses) since a poll."""


def fail(n: int) -> Player:
    """Return a player failing for the nth poll in a row, not yet raised."""
    return Player(failures=n)


def down(since: int, failures: int) -> Player:
    """Return a player in 1001 since a poll."""
    return Player(E1001, since=since, failures=failures)


def cloud_down(since: int) -> Player:
    """Return an answering player in 1003 since a poll."""
    return Player(E1003, since=since)


def away(reason: str) -> Player:
    """Return a player away on purpose."""
    return Player(away=reason)


ok = Player()
cloud_fail_once = Cloud(failures=1)


def failing(cause: CloudCause, since: int, failures: int) -> Cloud:
    """Return a failing cloud."""
    return Cloud(failures=failures, cause=cause, since=since)


def expected_absence_scenarios() -> list[object]:
    """Every expected absence, also in odd case and whitespace, never raises."""
    reasons = [*sorted(EXPECTED_ABSENCES), "  Sleeping ", "POWERED OFF", "Switch To Bluetooth\n"]
    return [
        pytest.param(
            [Poll({"a": reason}, {"a": away(reason.strip().lower())}) for _ in range(4)],
            id=f"expected absence {reason!r} never raises",
        )
        for reason in reasons
    ]


SCENARIOS = [
    # A portable silent while the topology cannot be read may be asleep: never 1001 ...
    [
        Poll({"roam": UP}, {"roam": ok}),
        Poll({"roam": MAYBE}, {"roam": away(MAYBE_AWAY)}),
        Poll({"roam": MAYBE}, {"roam": away(MAYBE_AWAY)}),
        Poll({"roam": MAYBE}, {"roam": away(MAYBE_AWAY)}),
        Poll({"roam": UP}, {"roam": ok}),
    ],
    # ... but a 1001 raised while the topology could be read stands when it is lost.
    [
        Poll({"roam": DOWN, "kitchen": UP}, {"roam": fail(1), "kitchen": ok}),
        Poll({"roam": DOWN, "kitchen": UP}, {"roam": down(0, 2), "kitchen": ok}),
        Poll({"roam": MAYBE, "kitchen": UP}, {"roam": down(0, 3), "kitchen": ok}),
    ],
    # It counts as away for "every player down": the network is down for the others.
    [
        Poll({"kitchen": DOWN, "roam": MAYBE}, {"kitchen": fail(1), "roam": away(MAYBE_AWAY)}),
        Poll(
            {"kitchen": DOWN, "roam": MAYBE},
            {"kitchen": down(0, 2), "roam": away(MAYBE_AWAY)},
            all_down_since=0,
        ),
    ],
    # --- players: 1001 ---
    pytest.param([Poll({"a": DOWN}, {"a": fail(1)})], id="single failure raises nothing"),
    pytest.param(
        [
            Poll({"a": UP}, {"a": ok}),
            Poll({"a": DOWN}, {"a": fail(1)}),
            Poll({"a": DOWN}, {"a": down(1, 2)}, all_down_since=1),
            Poll({"a": DOWN}, {"a": down(1, 3)}, all_down_since=1),
        ],
        id="two failures raise 1001 from the first failure and since stays",
    ),
    pytest.param(
        [
            Poll({"a": DOWN}, {"a": fail(1)}),
            Poll({"a": DOWN}, {"a": down(0, 2)}, all_down_since=0),
            Poll({"a": UP}, {"a": ok}),
            Poll({"a": DOWN}, {"a": fail(1)}),
        ],
        id="one success clears 1001 and restarts the streak",
    ),
    pytest.param(
        [
            Poll({"a": DOWN, "b": UP}, {"a": fail(1), "b": ok}),
            Poll({"a": UP, "b": DOWN}, {"a": ok, "b": fail(1)}),
            Poll({"a": DOWN, "b": UP}, {"a": fail(1), "b": ok}),
            Poll({"a": UP, "b": DOWN}, {"a": ok, "b": fail(1)}),
            Poll({"a": DOWN, "b": UP}, {"a": fail(1), "b": ok}),
        ],
        id="flapping never raises",
    ),
    *expected_absence_scenarios(),
    pytest.param(
        [
            Poll({"a": DOWN}, {"a": fail(1)}),
            Poll({"a": "sleeping"}, {"a": away("sleeping")}),
            Poll({"a": DOWN}, {"a": fail(1)}),
        ],
        id="expected absence breaks a failure streak",
    ),
    pytest.param(
        [
            Poll({"a": DOWN}, {"a": fail(1)}),
            Poll({"a": DOWN}, {"a": down(0, 2)}, all_down_since=0),
            Poll({"a": "upgrade"}, {"a": away("upgrade")}),
        ],
        id="expected absence clears 1001",
    ),
    pytest.param(
        [
            Poll({"a": "sleeping"}, {"a": away("sleeping")}),
            Poll({"a": DOWN}, {"a": fail(1)}),
            Poll({"a": DOWN}, {"a": down(1, 2)}, all_down_since=1),
        ],
        id="silence after an expected absence raises from its first failure",
    ),
    pytest.param(
        [
            Poll({"a": "lost contact"}, {"a": fail(1)}),
            Poll({"a": "lost contact"}, {"a": down(0, 2)}, all_down_since=0),
        ],
        id="unknown vanished reason raises",
    ),
    pytest.param(
        [
            Poll({"a": ""}, {"a": fail(1)}),
            Poll({"a": "sleeping now"}, {"a": down(0, 2)}, all_down_since=0),
        ],
        id="empty or merely similar vanished reasons raise",
    ),
    # --- players: the whole household down ---
    pytest.param(
        [
            Poll({"a": DOWN, "b": DOWN}, {"a": fail(1), "b": fail(1)}),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(0, 2), "b": down(0, 2)}, all_down_since=0),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(0, 3), "b": down(0, 3)}, all_down_since=0),
            Poll({"a": UP, "b": DOWN}, {"a": ok, "b": down(0, 4)}),
        ],
        id="all players down until one answers",
    ),
    pytest.param(
        [
            Poll({"a": DOWN, "b": UP}, {"a": fail(1), "b": ok}),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(0, 2), "b": fail(1)}),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(0, 3), "b": down(1, 2)}, all_down_since=0),
            Poll({"a": UP, "b": DOWN}, {"a": ok, "b": down(1, 3)}),
            Poll({"a": DOWN, "b": DOWN}, {"a": fail(1), "b": down(1, 4)}),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(4, 2), "b": down(1, 5)}, all_down_since=1),
        ],
        id="all players down since the earliest 1001 and not while one is only failing",
    ),
    pytest.param(
        [
            Poll({"a": DOWN, "b": DOWN}, {"a": fail(1), "b": fail(1)}),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(0, 2), "b": down(0, 2)}, all_down_since=0),
            Poll({"a": UP, "b": DOWN}, {"a": ok, "b": down(0, 3)}),
            Poll({"a": DOWN, "b": DOWN}, {"a": fail(1), "b": down(0, 4)}),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(3, 2), "b": down(0, 5)}, all_down_since=0),
        ],
        id="all players down again restarts from the earliest 1001",
    ),
    pytest.param(
        [
            Poll({"a": DOWN, "b": "sleeping"}, {"a": fail(1), "b": away("sleeping")}),
            Poll(
                {"a": DOWN, "b": "sleeping"},
                {"a": down(0, 2), "b": away("sleeping")},
                all_down_since=0,
            ),
            Poll({"a": DOWN, "b": UP}, {"a": down(0, 3), "b": ok}),
        ],
        id="all players down ignores a sleeping player but not an answering one",
    ),
    pytest.param(
        [
            Poll(
                {"a": "sleeping", "b": "powered off"},
                {"a": away("sleeping"), "b": away("powered off")},
            ),
            Poll(
                {"a": "sleeping", "b": "powered off"},
                {"a": away("sleeping"), "b": away("powered off")},
            ),
        ],
        id="a household all away on purpose is not down",
    ),
    pytest.param(
        [
            Poll({"a": DOWN, "b": UP}, {"a": fail(1), "b": ok}),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(0, 2), "b": fail(1)}),
            Poll({"a": DOWN, "b": DOWN}, {"a": down(0, 3), "b": down(1, 2)}, all_down_since=0),
            Poll({"b": DOWN}, {"b": down(1, 3)}, all_down_since=0),
            Poll({"b": DOWN, "c": DOWN}, {"b": down(1, 4), "c": fail(1)}),
            Poll({"b": DOWN, "c": DOWN}, {"b": down(1, 5), "c": down(4, 2)}, all_down_since=1),
        ],
        id="all players down keeps its since when the earliest leaves, and follows joins",
    ),
    pytest.param(
        [Poll({}, {}), Poll({}, {}, cloud=PORTS_BLOCKED, expect_cloud=cloud_fail_once)],
        id="an empty household is never down",
    ),
    # --- players leaving and joining ---
    pytest.param(
        [
            Poll({"a": UP, "b": DOWN}, {"a": ok, "b": fail(1)}),
            Poll({"a": UP}, {"a": ok}),
            Poll({"a": UP, "b": DOWN}, {"a": ok, "b": fail(1)}),
            Poll({"a": UP, "b": DOWN}, {"a": ok, "b": down(2, 2)}),
            Poll({"a": UP}, {"a": ok}),
            Poll({"a": UP, "b": UP}, {"a": ok, "b": ok}),
        ],
        id="a player that leaves is dropped and starts fresh when it rejoins",
    ),
    # --- cloud: 1003 ---
    pytest.param(
        [
            Poll({"a": UP}, {"a": ok}, cloud=PORTS_BLOCKED, expect_cloud=cloud_fail_once),
            Poll({"a": UP}, {"a": ok}),
            Poll({"a": UP}, {"a": ok}, cloud=PORTS_BLOCKED, expect_cloud=cloud_fail_once),
            Poll({"a": UP}, {"a": ok}),
        ],
        id="cloud failing once or flapping raises nothing",
    ),
    pytest.param(
        [
            Poll(
                {"a": UP, "b": DOWN, "c": "sleeping"},
                {"a": ok, "b": fail(1), "c": away("sleeping")},
                cloud=PORTS_BLOCKED,
                expect_cloud=cloud_fail_once,
            ),
            Poll(
                {"a": UP, "b": DOWN, "c": "sleeping"},
                {"a": cloud_down(0), "b": down(0, 2), "c": away("sleeping")},
                cloud=PORTS_BLOCKED,
                expect_cloud=failing(CloudCause.PORTS_BLOCKED, 0, 2),
            ),
            Poll(
                {"a": UP, "b": DOWN, "c": "sleeping"},
                {"a": cloud_down(0), "b": down(0, 3), "c": away("sleeping")},
                cloud=PORTS_BLOCKED,
                expect_cloud=failing(CloudCause.PORTS_BLOCKED, 0, 3),
            ),
            Poll(
                {"a": UP, "b": DOWN, "c": "sleeping"},
                {"a": ok, "b": down(0, 4), "c": away("sleeping")},
            ),
        ],
        id="cloud failing twice raises 1003 on answering players only and clears at once",
    ),
    pytest.param(
        [
            Poll({"a": DOWN}, {"a": fail(1)}, cloud=OUTAGE, expect_cloud=cloud_fail_once),
            Poll(
                {"a": DOWN},
                {"a": down(0, 2)},
                cloud=OUTAGE,
                expect_cloud=failing(CloudCause.SONOS_OUTAGE, 0, 2),
                all_down_since=0,
            ),
            Poll(
                {"a": UP},
                {"a": cloud_down(0)},
                cloud=OUTAGE,
                expect_cloud=failing(CloudCause.SONOS_OUTAGE, 0, 3),
            ),
        ],
        id="no 1003 while all players are down; a player back from 1001 gets 1003",
    ),
    pytest.param(
        [
            Poll({"a": UP}, {"a": ok}, cloud=DNS_FAILURE, expect_cloud=cloud_fail_once),
            Poll(
                {"a": UP},
                {"a": cloud_down(0)},
                cloud=DNS_FAILURE,
                expect_cloud=failing(CloudCause.DNS_FAILURE, 0, 2),
            ),
            Poll(
                {"a": DOWN},
                {"a": fail(1)},
                cloud=DNS_FAILURE,
                expect_cloud=failing(CloudCause.DNS_FAILURE, 0, 3),
            ),
            Poll(
                {"a": DOWN},
                {"a": down(2, 2)},
                cloud=DNS_FAILURE,
                expect_cloud=failing(CloudCause.DNS_FAILURE, 0, 4),
                all_down_since=2,
            ),
        ],
        id="a 1003 player that stops answering goes through one grace poll to 1001",
    ),
    pytest.param(
        [
            Poll({"a": UP}, {"a": ok}, cloud=PORTS_BLOCKED, expect_cloud=cloud_fail_once),
            Poll(
                {"a": UP},
                {"a": cloud_down(0)},
                cloud=PORTS_BLOCKED,
                expect_cloud=failing(CloudCause.PORTS_BLOCKED, 0, 2),
            ),
            Poll(
                {"a": UP, "b": UP},
                {"a": cloud_down(0), "b": cloud_down(0)},
                cloud=PORTS_BLOCKED,
                expect_cloud=failing(CloudCause.PORTS_BLOCKED, 0, 3),
            ),
        ],
        id="a player joining while the cloud fails gets 1003 at once",
    ),
    # --- cloud: causes ---
    *[
        pytest.param(
            [
                Poll({"a": UP}, {"a": ok}, cloud=seen, expect_cloud=cloud_fail_once),
                Poll(
                    {"a": UP},
                    {"a": cloud_down(0)},
                    cloud=seen,
                    expect_cloud=failing(cause, 0, 2),
                ),
            ],
            id=f"cause {name}",
        )
        for name, seen, cause in [
            ("sonos outage", OUTAGE, CloudCause.SONOS_OUTAGE),
            ("internet down", INTERNET_DOWN, CloudCause.INTERNET_DOWN),
            ("dns failure", DNS_FAILURE, CloudCause.DNS_FAILURE),
            ("ports blocked", PORTS_BLOCKED, CloudCause.PORTS_BLOCKED),
            # Precedence: the most likely documented cause wins.
            (
                "outage beats internet down",
                cloud(names=False, connect=False, reference=False, indicator="minor"),
                CloudCause.SONOS_OUTAGE,
            ),
            (
                "outage beats dns",
                cloud(names=False, connect=False, indicator="critical"),
                CloudCause.SONOS_OUTAGE,
            ),
            (
                "internet down beats dns",
                cloud(names=False, connect=False, reference=False, indicator="none"),
                CloudCause.INTERNET_DOWN,
            ),
            (
                "internet down beats ports",
                cloud(connect=False, reference=False),
                CloudCause.INTERNET_DOWN,
            ),
            ("dns beats ports", cloud(names=False), CloudCause.DNS_FAILURE),
            # The status page.
            (
                "unknown indicator is an outage",
                cloud(connect=False, indicator="maintenance"),
                CloudCause.SONOS_OUTAGE,
            ),
            (
                "odd-case none indicator is no outage",
                cloud(connect=False, indicator=" None "),
                CloudCause.PORTS_BLOCKED,
            ),
            (
                "unreachable status page is no outage",
                cloud(connect=False, indicator=None),
                CloudCause.PORTS_BLOCKED,
            ),
            (
                "unreachable status page and reference",
                cloud(connect=False, reference=False, indicator=None),
                CloudCause.INTERNET_DOWN,
            ),
        ]
    ],
    pytest.param(
        [
            Poll({"a": UP}, {"a": ok}, cloud=DNS_FAILURE, expect_cloud=cloud_fail_once),
            Poll(
                {"a": UP},
                {"a": cloud_down(0)},
                cloud=DNS_FAILURE,
                expect_cloud=failing(CloudCause.DNS_FAILURE, 0, 2),
            ),
            Poll(
                {"a": UP},
                {"a": cloud_down(0)},
                cloud=INTERNET_DOWN,
                expect_cloud=failing(CloudCause.INTERNET_DOWN, 0, 3),
            ),
            Poll(
                {"a": UP},
                {"a": cloud_down(0)},
                cloud=OUTAGE,
                expect_cloud=failing(CloudCause.SONOS_OUTAGE, 0, 4),
            ),
            Poll({"a": UP}, {"a": ok}),
            Poll({"a": UP}, {"a": ok}, cloud=OUTAGE, expect_cloud=cloud_fail_once),
        ],
        id="cause changes while failing with since stable",
    ),
    pytest.param(
        [
            Poll(
                {"a": UP},
                {"a": ok},
                cloud=cloud(connect=True, names=False),
                expect_cloud=cloud_fail_once,
            ),
            Poll({"a": UP}, {"a": ok}, cloud=cloud(connect=True, indicator="major")),
            Poll(
                {"a": UP},
                {"a": ok},
                cloud=cloud(connect=False, names=True),
                expect_cloud=cloud_fail_once,
            ),
            Poll({"a": UP}, {"a": ok}, cloud=cloud(reference=False, indicator=None)),
        ],
        id="cloud is judged by resolution and connection only",
    ),
    # --- players: UPnP switched off (HTTP 403) ---
    pytest.param(
        [
            Poll({"a": UP}, {"a": ok}),
            Poll({"a": REFUSED}, {"a": Player(UPNP_OFF, since=1)}, upnp_off_since=1),
            Poll({"a": REFUSED}, {"a": Player(UPNP_OFF, since=1)}, upnp_off_since=1),
            Poll({"a": UP}, {"a": ok}),
        ],
        id="403 is upnp_disabled at once, keeps its start and clears on a proper answer",
    ),
    pytest.param(
        [
            Poll({"a": REFUSED, "b": UP}, {"a": Player(UPNP_OFF, since=0), "b": ok}),
            Poll(
                {"a": REFUSED, "b": UP},
                {"a": Player(UPNP_OFF, since=0), "b": ok},
                cloud=PORTS_BLOCKED,
                expect_cloud=cloud_fail_once,
            ),
            Poll(
                {"a": REFUSED, "b": UP},
                {"a": Player(UPNP_OFF, since=0), "b": cloud_down(1)},
                cloud=PORTS_BLOCKED,
                expect_cloud=failing(CloudCause.PORTS_BLOCKED, since=1, failures=2),
            ),
        ],
        id="a refusing player is upnp_disabled, not 1003: it cannot be watched",
    ),
    pytest.param(
        [
            Poll(
                {"a": REFUSED, "b": DOWN},
                {"a": Player(UPNP_OFF, since=0), "b": fail(1)},
                upnp_off_since=0,
            ),
            Poll(
                {"a": REFUSED, "b": DOWN},
                {"a": Player(UPNP_OFF, since=0), "b": down(0, 2)},
                upnp_off_since=0,
            ),
        ],
        id="a refusing player is on the network: one silent player is not all down",
    ),
    pytest.param(
        [
            Poll({"a": REFUSED}, {"a": Player(UPNP_OFF, since=0)}, upnp_off_since=0),
            Poll({"a": DOWN}, {"a": fail(1)}),
            Poll({"a": DOWN}, {"a": down(1, 2)}, all_down_since=1),
        ],
        id="a refusing player falling silent starts a 1001 streak",
    ),
    # --- the household: UPnP is one switch for the whole system ---
    pytest.param(
        [
            Poll({"a": UP, "b": UP}, {"a": ok, "b": ok}),
            Poll(
                {"a": REFUSED, "b": REFUSED},
                {"a": Player(UPNP_OFF, since=1), "b": Player(UPNP_OFF, since=1)},
                upnp_off_since=1,
            ),
            Poll(
                {"a": REFUSED, "b": REFUSED},
                {"a": Player(UPNP_OFF, since=1), "b": Player(UPNP_OFF, since=1)},
                upnp_off_since=1,
            ),
            Poll({"a": UP, "b": UP}, {"a": ok, "b": ok}),
        ],
        id="every player refusing is the household's switch, at once, until they answer",
    ),
    pytest.param(
        [Poll({"a": REFUSED}, {"a": Player(UPNP_OFF, since=0)}, upnp_off_since=0)],
        id="the only player refusing is the household's switch too",
    ),
    pytest.param(
        [
            Poll({"a": REFUSED, "b": UP}, {"a": Player(UPNP_OFF, since=0), "b": ok}),
            Poll({"a": REFUSED, "b": UP}, {"a": Player(UPNP_OFF, since=0), "b": ok}),
        ],
        id="a player answering properly proves the switch is on: the refusal is its own",
    ),
    pytest.param(
        [
            Poll({"a": REFUSED, "b": UP}, {"a": Player(UPNP_OFF, since=0), "b": ok}),
            Poll(
                {"a": REFUSED, "b": REFUSED},
                {"a": Player(UPNP_OFF, since=0), "b": Player(UPNP_OFF, since=1)},
                upnp_off_since=0,
            ),
            Poll(
                {"a": REFUSED, "b": UP},
                {"a": Player(UPNP_OFF, since=0), "b": ok},
            ),
        ],
        id="the household's refusal starts with the first player refusing; one answer ends it",
    ),
    pytest.param(
        [
            Poll(
                {"a": REFUSED, "b": DOWN, "c": "sleeping"},
                {"a": Player(UPNP_OFF, since=0), "b": fail(1), "c": away("sleeping")},
                upnp_off_since=0,
            ),
            Poll(
                {"a": REFUSED, "b": DOWN, "c": "sleeping"},
                {"a": Player(UPNP_OFF, since=0), "b": down(0, 2), "c": away("sleeping")},
                upnp_off_since=0,
            ),
        ],
        id="silent and sleeping players say nothing of the switch; the silent one is 1001",
    ),
    pytest.param(
        [
            Poll(
                {"a": REFUSED, "b": BAD},
                {"a": Player(UPNP_OFF, since=0), "b": ok},
                upnp_off_since=0,
            ),
        ],
        id="an answer that is not a player's (another device at its address) proves nothing",
    ),
    pytest.param(
        [
            Poll(
                {"a": REFUSED, "b": REFUSED},
                {"a": Player(UPNP_OFF, since=0), "b": Player(UPNP_OFF, since=0)},
                cloud=PORTS_BLOCKED,
                expect_cloud=cloud_fail_once,
                upnp_off_since=0,
            ),
            Poll(
                {"a": REFUSED, "b": REFUSED},
                {"a": Player(UPNP_OFF, since=0), "b": Player(UPNP_OFF, since=0)},
                cloud=PORTS_BLOCKED,
                expect_cloud=failing(CloudCause.PORTS_BLOCKED, since=0, failures=2),
                upnp_off_since=0,
            ),
        ],
        id="with the switch off no player is 1003, whatever the cloud does",
    ),
    pytest.param(
        [
            Poll({"a": BAD, "b": DOWN}, {"a": ok, "b": fail(1)}),
            Poll({"a": DOWN}, {"a": fail(1)}),
        ],
        id="no player refusing: never the household's switch",
    ),
]


@pytest.mark.parametrize("polls", SCENARIOS)
def test_scenario(polls: list[Poll]) -> None:
    state = DiagnosisState.initial()
    for index, poll in enumerate(polls):
        observation = Observation(
            at=at(index),
            players=tuple(
                PlayerObservation(
                    uid=uid,
                    answered=token in (UP, REFUSED, BAD),
                    vanished_reason=None if token in (UP, DOWN, REFUSED, BAD, MAYBE) else token,
                    may_be_away=token == MAYBE,
                    upnp_disabled=token == REFUSED,
                    answered_badly=token == BAD,
                )
                for uid, token in poll.players.items()
            ),
            cloud=poll.cloud,
        )
        state = diagnose(state, observation)
        where = f"after poll {index}"

        assert set(state.players) == set(poll.expect), where
        for uid, want in poll.expect.items():
            got = state.player(uid)
            assert got is not None, where
            assert got.uid == uid, where
            assert got.code is want.code, f"{uid} {where}"
            assert got.since == (None if want.since is None else at(want.since)), f"{uid} {where}"
            assert got.failures == want.failures, f"{uid} {where}"
            assert got.expected_absence == want.away, f"{uid} {where}"
            if want.failures:
                assert got.failing_since is not None, f"{uid} {where}"
                assert got.failing_since == at(index - want.failures + 1), f"{uid} {where}"
            else:
                assert got.failing_since is None, f"{uid} {where}"

        want_cloud = poll.expect_cloud
        assert state.cloud.failures == want_cloud.failures, where
        assert state.cloud.failing is (want_cloud.cause is not None), where
        assert state.cloud.cause is want_cloud.cause, where
        assert state.cloud.since == (None if want_cloud.since is None else at(want_cloud.since)), (
            where
        )
        assert state.cloud.failing_since == (
            at(index - want_cloud.failures + 1) if want_cloud.failures else None
        ), where
        assert state.cloud.status_indicator == poll.cloud.status_indicator, where

        assert state.all_players_down is (poll.all_down_since is not None), where
        assert state.all_players_down_since == (
            None if poll.all_down_since is None else at(poll.all_down_since)
        ), where
        assert state.upnp_disabled_everywhere is (poll.upnp_off_since is not None), where
        assert state.upnp_disabled_since == (
            None if poll.upnp_off_since is None else at(poll.upnp_off_since)
        ), where


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        # The reasons Sonos players give in VanishedDevices for leaving on purpose.
        ("powered off", "powered off"),
        ("Sleeping", "sleeping"),  # firmware varies in case
        (" switch to bluetooth ", "switch to bluetooth"),
        ("upgrade", "upgrade"),
        ("network", None),  # any other reason is an outage, not an absence
        ("", None),
        (None, None),
    ],
)
def test_only_documented_reasons_are_expected_absences(
    reason: str | None, expected: str | None
) -> None:
    assert expected_absence(reason) == expected


@pytest.mark.parametrize(
    ("names", "connect", "expected"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_cloud_observation_ok(names: bool, connect: bool, expected: bool) -> None:
    assert cloud(names=names, connect=connect, reference=False, indicator="major").ok is expected


def test_initial_state() -> None:
    state = DiagnosisState.initial()
    assert state.players == {}
    assert state.player("a") is None
    assert state.cloud == CloudState(
        failures=0,
        failing_since=None,
        failing=False,
        cause=None,
        since=None,
        status_indicator=None,
    )
    assert state.all_players_down is False
    assert state.all_players_down_since is None
    assert state.upnp_disabled_everywhere is False
    assert state.upnp_disabled_since is None


def test_answering_player_listed_as_vanished_is_ok() -> None:
    state = diagnose(
        DiagnosisState.initial(),
        Observation(
            at=BASE,
            players=(PlayerObservation(uid="a", answered=True, vanished_reason="sleeping"),),
            cloud=CLOUD_OK,
        ),
    )
    assert state.player("a") == PlayerState(
        uid="a",
        code=OK,
        failures=0,
        failing_since=None,
        since=None,
        expected_absence=None,
    )


def test_diagnose_leaves_previous_state_alone() -> None:
    previous = DiagnosisState.initial()
    observation = Observation(
        at=BASE, players=(PlayerObservation(uid="a", answered=False),), cloud=PORTS_BLOCKED
    )
    first = diagnose(previous, observation)
    assert previous == DiagnosisState.initial()
    assert diagnose(previous, observation) == first


@pytest.mark.parametrize(
    ("checks", "seconds", "code"),
    [
        pytest.param(3, 4, E1001, id="three failed checks over 4 s: 1001 at the first failed poll"),
        pytest.param(3, 3, OK, id="three failed checks over 3 s: a burst, not yet"),
        pytest.param(2, 60, OK, id="two failed checks: not yet, however long"),
        pytest.param(1, 0, OK, id="the poll's own failure alone: the two-poll rule"),
    ],
)
def test_confirmed_silence_raises_1001_between_polls(
    checks: int, seconds: int, code: ErrorCode
) -> None:
    """The watcher's checks confirm a silence; the poll's failed control call ends it."""
    began = at(1) - timedelta(seconds=seconds)
    state = diagnose(
        DiagnosisState.initial(),
        Observation(
            at=at(1),
            players=(
                PlayerObservation(
                    uid="a", answered=False, missed_checks=checks, missed_since=began
                ),
            ),
            cloud=CLOUD_OK,
        ),
    )
    player = state.players["a"]
    assert player.code is code
    assert player.failures == 1
    assert player.failing_since == began  # the silence began with the first failed check
    assert player.since == (began if code is E1001 else None)
    asleep = diagnose(
        DiagnosisState.initial(),
        Observation(
            at=at(1),
            players=(
                PlayerObservation(
                    uid="a",
                    answered=False,
                    vanished_reason="sleeping",
                    missed_checks=checks,
                    missed_since=began,
                ),
            ),
            cloud=CLOUD_OK,
        ),
    )
    assert asleep.players["a"].code is OK  # an expected absence is never confirmed


def test_the_topology_card_comes_after_ten_minutes_unreadable() -> None:
    start = at(0)
    assert not topology_card_due(None, start)
    assert not topology_card_due(start, start + timedelta(minutes=10) - timedelta(seconds=1))
    assert topology_card_due(start, start + timedelta(minutes=10))


def observed(players: dict[str, str], cloud_seen: CloudObservation, index: int) -> Observation:
    """Return poll `index` as the diagnosis sees it (tokens as in the scenarios)."""
    return Observation(
        at=at(index),
        players=tuple(
            PlayerObservation(
                uid=uid,
                answered=token in (UP, REFUSED, BAD),
                vanished_reason=None if token in (UP, DOWN, REFUSED, BAD) else token,
                upnp_disabled=token == REFUSED,
                answered_badly=token == BAD,
            )
            for uid, token in players.items()
        ),
        cloud=cloud_seen,
    )


def finding_after(*polls: dict[str, str], cloud_seen: CloudObservation = CLOUD_OK) -> str:
    """Return the household's finding after these polls (tokens as in the scenarios)."""
    state = DiagnosisState.initial()
    for index, players in enumerate(polls):
        state = diagnose(state, observed(players, cloud_seen, index))
    return household_finding(state)


@pytest.mark.parametrize(
    ("polls", "cloud_seen", "finding"),
    [
        pytest.param([{"a": UP, "b": UP}], CLOUD_OK, "ok", id="all well"),
        pytest.param([{"a": DOWN, "b": UP}] * 2, CLOUD_OK, "player_unreachable", id="one 1001"),
        pytest.param(
            [{"a": DOWN, "b": DOWN}] * 2, CLOUD_OK, "all_players_unreachable", id="all 1001"
        ),
        pytest.param(
            [{"a": REFUSED, "b": REFUSED}], CLOUD_OK, "upnp_disabled", id="the switch is off"
        ),
        pytest.param(
            [{"a": REFUSED, "b": DOWN}] * 2,
            CLOUD_OK,
            "upnp_disabled",
            id="the switch off comes before a silent player's 1001: nothing can be watched",
        ),
        pytest.param(
            [{"a": REFUSED, "b": REFUSED}] * 2,
            PORTS_BLOCKED,
            "upnp_disabled",
            id="the switch off comes before the cloud",
        ),
        pytest.param(
            [{"a": REFUSED, "b": UP}],
            CLOUD_OK,
            "ok",
            id="one player refusing alone is its own card, not the household's finding",
        ),
        pytest.param([{"a": UP}] * 2, PORTS_BLOCKED, "ports_blocked", id="the cloud"),
    ],
)
def test_household_finding(
    polls: list[dict[str, str]], cloud_seen: CloudObservation, finding: str
) -> None:
    assert finding_after(*polls, cloud_seen=cloud_seen) == finding


def changes_by_poll(
    *polls: tuple[dict[str, str], CloudObservation],
    start: DiagnosisState | None = None,
    first: int = 0,
) -> list[AvailabilityChanges]:
    """Return what each poll made unavailable or available again (tokens as in the scenarios).

    The polls follow `start` (a fresh diagnosis by default), the first at poll index `first`.
    """
    state = start or DiagnosisState.initial()
    found = []
    for index, (players, cloud_seen) in enumerate(polls):
        previous, state = state, diagnose(state, observed(players, cloud_seen, first + index))
        found.append(availability_changes(previous, state))
    return found


NOTHING = AvailabilityChanges()


def test_availability_changes_once_when_1001_begins_and_once_when_it_ends() -> None:
    """A missed poll is nothing; 1001 is one change, its polls none, its end one."""
    assert changes_by_poll(
        ({"a": UP, "b": DOWN}, CLOUD_OK),
        ({"a": UP, "b": DOWN}, CLOUD_OK),
        ({"a": UP, "b": DOWN}, CLOUD_OK),
        ({"a": UP, "b": BAD}, CLOUD_OK),
        ({"a": UP, "b": DOWN}, CLOUD_OK),
        ({"a": UP, "b": DOWN}, CLOUD_OK),
        ({"a": UP, "b": "sleeping"}, CLOUD_OK),  # a reason the household gives (see
        ({"a": UP, "b": "sleeping"}, CLOUD_OK),  # `Household._reason_for` for when to believe it)
    ) == [
        NOTHING,
        AvailabilityChanges(silenced=("b",)),
        NOTHING,
        AvailabilityChanges(answering=("b",)),  # junk is an answer: on the network
        NOTHING,
        AvailabilityChanges(silenced=("b",)),
        AvailabilityChanges(away=("b",)),  # still silent: not back, but no longer 1001
        NOTHING,
    ]
    assert not NOTHING
    assert AvailabilityChanges(away=("b",))


def test_availability_changes_of_the_cloud_with_its_cause() -> None:
    assert changes_by_poll(
        ({"a": UP}, DNS_FAILURE),
        ({"a": UP}, DNS_FAILURE),
        ({"a": UP}, INTERNET_DOWN),  # another cause, the same outage
        ({"a": UP}, CLOUD_OK),
        ({"a": UP}, CLOUD_OK),
    ) == [
        NOTHING,
        AvailabilityChanges(cloud_lost=CloudCause.DNS_FAILURE),
        NOTHING,
        AvailabilityChanges(cloud_back=True),
        NOTHING,
    ]


def test_availability_changes_against_a_stored_diagnosis() -> None:
    """After a restart the stored diagnosis is the previous one: a lasting outage is not new."""
    stored = DiagnosisState.initial()
    for index in range(2):
        stored = diagnose(
            stored,
            Observation(
                at=at(index),
                players=(PlayerObservation(uid="a", answered=False),),
                cloud=PORTS_BLOCKED,
            ),
        )
    assert stored.players["a"].code is E1001
    assert stored.cloud.failing
    assert changes_by_poll(({"a": DOWN}, PORTS_BLOCKED), start=stored, first=2) == [NOTHING]
    assert changes_by_poll(({"a": UP}, CLOUD_OK), start=stored, first=2) == [
        AvailabilityChanges(answering=("a",), cloud_back=True)
    ]
