"""Table-driven tests of the link rules: confirmation, dropouts, reboots and the early warning.

Each scenario is a timeline of one player: the watcher's checks between polls and the polls,
seconds apart, folded through the pure household model as the coordinator folds them; after
each step the expected error code, counters and early warning are checked.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.sonos_troubleshooter.sonos_health.error_rules import (
    CONFIRM_CHECKS,
    CONFIRM_SPAN,
    CloudObservation,
    ErrorCode,
    silence_confirmed,
)
from custom_components.sonos_troubleshooter.sonos_health.household import Household, KnownPlayer
from custom_components.sonos_troubleshooter.sonos_health.link_rules import (
    HourTally,
    complete_share,
    confirmation_due,
    is_portable,
    tallied,
)
from custom_components.sonos_troubleshooter.sonos_health.player_client import (
    PlayerInfo,
    ProbeFailure,
    Topology,
    TopologyMember,
    VanishedPlayer,
)

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
UID = "RINCON_000000000001400"
CLOUD_OK = CloudObservation(
    names_resolved=True, cloud_connected=True, reference_connected=True, status_indicator="none"
)
OK = ErrorCode.OK
E1001 = ErrorCode.E1001


@dataclass(frozen=True)
class Expect:
    """What the player looks like after a step."""

    code: ErrorCode = OK
    missed: int = 0
    dropouts: int = 0
    reboots: int = 0
    unstable: bool = False
    due: bool = False
    """After a check: the watcher would poll at once rather than check again 2 s later."""


@dataclass(frozen=True)
class Step:
    """At `at` seconds: `check up|down` (the watcher) or `poll up|down|<vanished reason>`."""

    at: float
    event: str
    expect: Expect | None = None
    boot_seq: int | None = 42


def run(steps: list[Step], model: str = "Sonos Amp") -> None:
    player = KnownPlayer(uid=UID, name="Kitchen", ip="192.0.2.10", info=description(model))
    household = Household([player])
    for index, step in enumerate(steps):
        at = BASE + timedelta(seconds=step.at)
        kind, what = step.event.split(maxsplit=1)
        if kind == "check":
            household.checked(player, at, answered=what == "up")
        else:
            away = what not in ("up", "down")
            household.follow(
                Topology(
                    members=()
                    if away
                    else (
                        TopologyMember(
                            uid=UID,
                            name="Kitchen",
                            ip=player.ip,
                            channel_freq=2437,
                            boot_seq=step.boot_seq,
                        ),
                    ),
                    vanished=(
                        VanishedPlayer(uid=UID, name="Kitchen", reason=what, last_known_ip=None),
                    )
                    if away
                    else (),
                )
            )
            failure = None if what == "up" else ProbeFailure.NO_ANSWER
            household.observe(at, {UID: failure}, CLOUD_OK)
        want = step.expect
        if want is None:
            continue
        where = f"after step {index} ({step.at} s {step.event})"
        link = player.link
        if kind == "poll":
            assert household.diagnosis.players[UID].code is want.code, where
            assert link.missed == want.missed, where
            assert link.dropouts == want.dropouts, where
            assert link.reboots == want.reboots, where
            assert (link.unstable_since is not None) is want.unstable, where
        else:
            recheck = at + timedelta(seconds=2)
            assert confirmation_due(link, recheck) is want.due, where


def description(model: str) -> PlayerInfo:
    return PlayerInfo(
        uid=UID,
        name="Kitchen",
        model_name=model,
        model_number="S27",
        serial_number="00-11-22-33-44-55:E",
        mac_address="00:11:22:33:44:55",
        software_version="85.0-65020",
        display_version="17.5",
        hardware_version="1.0",
    )


def dropout(at: float) -> list[Step]:
    """A silence of two checks 2 s apart that ends before a poll sees it."""
    return [Step(at, "check down"), Step(at + 2, "check down"), Step(at + 4, "check up")]


SCENARIOS = [
    pytest.param(
        [
            Step(0, "poll up", Expect()),
            Step(5, "check down", Expect(due=False)),
            Step(7, "check down", Expect(due=True)),  # the next check, at 9 s, is the poll
            Step(9, "poll down", Expect(E1001, missed=3, dropouts=1)),
        ],
        id="a player that leaves: two failed checks and a failed poll over 4 s raise 1001",
    ),
    pytest.param(
        [
            Step(0, "poll up"),
            Step(5, "check down"),
            Step(6, "poll down", Expect(OK, missed=2, dropouts=0)),  # 1 s: not yet a dropout
            Step(66, "poll down", Expect(E1001, missed=3, dropouts=1)),  # the two-poll rule
        ],
        id="misses closer together than 4 s do not confirm; two failed polls still do",
    ),
    pytest.param(
        [
            Step(0, "poll up"),
            Step(5, "check down"),
            Step(6, "check down"),
            Step(7, "check down"),
            Step(8, "poll down", Expect(OK, missed=4, dropouts=1)),
            Step(10, "poll down", Expect(E1001, missed=5, dropouts=1)),
        ],
        id="many checks within 4 s are still one burst; the span decides",
    ),
    pytest.param(
        [
            Step(0, "poll up"),
            Step(3, "poll down", Expect(OK, missed=1)),  # hung: the control call times out
            Step(5, "check down", Expect(due=True)),  # a control call, failed too
            Step(8, "poll down", Expect(E1001, missed=3, dropouts=1)),
        ],
        id="a player that accepts connections but never answers: poll, control call, poll",
    ),
    pytest.param(
        [
            Step(0, "poll up"),
            *[
                Step(seconds, "check " + ("down" if seconds % 25 == 0 else "up"))
                for seconds in range(5, 121, 5)
            ],
            Step(121, "poll up", Expect(OK, missed=4)),
            Step(122, "check down"),
            Step(124, "check up"),
            Step(181, "poll up", Expect(OK, missed=5)),
        ],
        id="flapping: one lost check in five is never a dropout nor 1001",
    ),
    pytest.param(
        [
            Step(0, "poll up"),
            Step(5, "check down"),
            Step(7, "check down", Expect(due=True)),
            Step(9, "poll sleeping", Expect(OK)),
            Step(14, "check down", Expect(due=False)),  # excused: no poll at once
            Step(60, "poll sleeping", Expect(OK)),
            Step(65, "check up"),
            Step(120, "poll up", Expect(OK)),
        ],
        id="asleep: the silence the household explains counts nothing",
    ),
    *[
        pytest.param(
            [
                Step(0, "poll up"),
                Step(5, "check down"),
                Step(7, "check down"),
                Step(9, f"poll {reason}", Expect(OK)),
                Step(600, f"poll {reason}", Expect(OK)),
            ],
            id=f"expected absence {reason!r} never alarms nor counts",
        )
        for reason in ("powered off", "upgrade", "switch to bluetooth", "Sleeping")
    ],
    pytest.param(
        [*dropout(5), Step(60, "poll up", Expect(OK, missed=2, dropouts=1))],
        id="a silence that ends between polls still counts as a dropout",
    ),
    pytest.param(
        [
            Step(0, "poll down", Expect(OK, missed=1)),
            Step(0.1, "check down", Expect(due=False)),  # the re-check right after the poll
            Step(2.1, "check up"),
            Step(60, "poll up", Expect(OK, missed=2, dropouts=0)),
        ],
        id="a failed poll and the re-check right after it are one moment, not a dropout",
    ),
    pytest.param(
        [
            Step(0, "poll up", Expect(), boot_seq=42),
            Step(60, "poll up", Expect(reboots=1), boot_seq=43),
            Step(120, "poll up", Expect(reboots=1), boot_seq=43),
            Step(180, "poll up", Expect(reboots=1), boot_seq=None),  # not in the topology
            Step(240, "poll up", Expect(reboots=2), boot_seq=45),
            Step(300, "poll up", Expect(reboots=2), boot_seq=1),  # a factory reset starts over
            Step(360, "poll up", Expect(reboots=3), boot_seq=2),
        ],
        id="reboots count each rise of BootSeq, nothing else",
    ),
    pytest.param(
        [
            *dropout(0),
            Step(60, "poll up", Expect(missed=2, dropouts=1)),
            *dropout(600),
            Step(660, "poll up", Expect(missed=4, dropouts=2)),
            *dropout(1200),
            Step(1260, "poll up", Expect(missed=6, dropouts=3, unstable=True)),
            Step(1200 + 3599, "poll up", Expect(missed=6, dropouts=3, unstable=True)),
            Step(1200 + 3600, "poll up", Expect(missed=6, dropouts=3, unstable=False)),
        ],
        id="three dropouts in an hour warn; an hour without one closes the warning",
    ),
    pytest.param(
        [
            *dropout(0),
            Step(60, "poll up", Expect(missed=2, dropouts=1)),
            *dropout(1800),
            Step(1860, "poll up", Expect(missed=4, dropouts=2)),
            *dropout(3600),
            Step(3660, "poll up", Expect(missed=6, dropouts=3, unstable=False)),
            *dropout(4000),
            Step(4060, "poll up", Expect(missed=8, dropouts=4, unstable=True)),
        ],
        id="dropouts more than an hour apart do not add up",
    ),
    pytest.param(
        [
            *dropout(0),
            *dropout(600),
            *dropout(1200),
            Step(1260, "poll up", Expect(missed=6, dropouts=3, unstable=True)),
            Step(4800, "check down"),
            Step(4802, "check down"),
            Step(4804, "poll down", Expect(E1001, missed=9, dropouts=4, unstable=True)),
            Step(4800 + 3600, "poll down", Expect(E1001, missed=10, dropouts=4, unstable=True)),
            Step(4800 + 3660, "poll up", Expect(OK, missed=10, dropouts=4, unstable=False)),
        ],
        id="a silence going on keeps the warning open however long ago it began",
    ),
    pytest.param(
        [
            Step(0, "poll down", Expect(OK, missed=1)),
            Step(10, "poll down", Expect(E1001, missed=2, dropouts=1)),
            Step(20, "poll up"),
            Step(25, "poll down", Expect(OK, missed=3, dropouts=1)),
            Step(625, "poll down", Expect(E1001, missed=4, dropouts=2)),
        ],
        id="interval changes: two failed polls raise 1001 at 10 s or 600 s apart",
    ),
]


@pytest.mark.parametrize("steps", SCENARIOS)
def test_timeline(steps: list[Step]) -> None:
    run(steps)


# A portable's BootSeq rises each time it is switched on (ebaauw/homebridge-zp issue 172).
PORTABLE_SCENARIOS = [
    pytest.param(
        [
            Step(0, "poll up", Expect(), boot_seq=42),
            Step(5, "check down"),
            Step(60, "poll sleeping", Expect(OK), boot_seq=None),
            Step(3600, "poll sleeping", Expect(OK), boot_seq=None),
            Step(3605, "check up"),
            Step(3660, "poll up", Expect(OK, reboots=0), boot_seq=43),
            # Any rise: a portable's reboot cannot be told from it being switched on.
            Step(3720, "poll up", Expect(OK, reboots=0), boot_seq=44),
        ],
        id="a portable asleep and switched on: no reboot, no dropout",
    ),
    pytest.param(
        [
            Step(0, "poll up", boot_seq=42),
            *dropout(5),
            Step(60, "poll up", Expect(OK, missed=0, dropouts=0, reboots=0), boot_seq=43),
        ],
        id="a portable switched off and on between polls: its silence counts nothing",
    ),
    pytest.param(
        [
            Step(0, "poll up", boot_seq=42),
            *dropout(5),
            Step(60, "poll up", Expect(OK, missed=2, dropouts=1), boot_seq=42),
        ],
        id="a portable's dropout without a BootSeq rise counts at the next poll",
    ),
    pytest.param(
        [
            Step(0, "poll up", boot_seq=42),
            *dropout(5),
            *dropout(20),
            Step(60, "poll up", Expect(OK, missed=2, dropouts=1, reboots=0), boot_seq=43),
        ],
        id="two silences before a poll: only the last one ended with it switched on",
    ),
    pytest.param(
        [
            Step(0, "poll up", boot_seq=42),
            Step(5, "check down"),
            Step(7, "check down"),
            Step(9, "poll down", Expect(E1001, missed=0, dropouts=0)),  # counted at its end
            Step(69, "poll down", Expect(E1001, missed=0, dropouts=0), boot_seq=None),
            Step(100, "check up"),
            Step(129, "poll up", Expect(OK, missed=0, dropouts=0, reboots=0), boot_seq=43),
        ],
        id="a portable switched off unannounced: 1001 while silent, then nothing counts",
    ),
]


@pytest.mark.parametrize("steps", PORTABLE_SCENARIOS)
@pytest.mark.parametrize("model", ["Sonos Roam", "Sonos Move 2", "Sonos Roam SL"])
def test_portable_timeline(steps: list[Step], model: str) -> None:
    run(steps, model)


@pytest.mark.parametrize(
    ("reason", "reboots"),
    [
        ("powered off", 0),  # switched off and on: its owner did it
        ("sleeping", 0),
        ("upgrade", 1),  # an update restarts the player: that is a reboot
        ("switch to bluetooth", 1),  # back from Bluetooth without restarting: a rise is one
    ],
)
def test_a_rise_after_being_switched_off_is_no_reboot(reason: str, reboots: int) -> None:
    """Any model the household listed asleep or powered off (its model may be unknown yet)."""
    run(
        [
            Step(0, "poll up", boot_seq=42),
            Step(60, f"poll {reason}", Expect(OK), boot_seq=None),
            Step(65, "check up"),
            Step(120, "poll up", Expect(OK, reboots=reboots), boot_seq=43),
            Step(180, "poll up", Expect(OK, reboots=reboots + 1), boot_seq=44),
        ]
    )


@pytest.mark.parametrize(
    ("model", "portable"),
    [
        ("Sonos Roam", True),
        ("Sonos Roam 2", True),
        ("Sonos Roam SL", True),
        ("Sonos Move", True),
        ("Sonos Move 2", True),
        ("Sonos Era 100", False),
        ("Sonos Amp", False),
        ("Sonos Arc Ultra", False),
        ("", False),
    ],
)
def test_is_portable(model: str, portable: bool) -> None:
    assert is_portable(model) is portable


@pytest.mark.parametrize(
    ("checks", "seconds", "confirmed"),
    [
        (CONFIRM_CHECKS, CONFIRM_SPAN.total_seconds(), True),
        (CONFIRM_CHECKS, CONFIRM_SPAN.total_seconds() - 0.1, False),
        (CONFIRM_CHECKS - 1, 60, False),
        (10, 60, True),
    ],
)
def test_silence_confirmed(checks: int, seconds: float, confirmed: bool) -> None:
    assert silence_confirmed(checks, BASE, BASE + timedelta(seconds=seconds)) is confirmed
    assert silence_confirmed(checks, None, BASE) is False


def test_share_of_complete_polls_over_24_hours() -> None:
    tally: tuple[HourTally, ...] = ()
    assert complete_share(tally, BASE) is None
    for minute in range(60):  # an hour with a failed poll in four
        tally = tallied(tally, BASE + timedelta(minutes=minute), complete=minute % 4 != 0)
    assert complete_share(tally, BASE + timedelta(minutes=59)) == 75
    later = BASE + timedelta(hours=23, minutes=30)
    tally = tallied(tally, later, complete=True)
    assert len(tally) == 2
    assert complete_share(tally, later) == pytest.approx(100 * 46 / 61)
    a_day_later = BASE + timedelta(hours=24)
    assert complete_share(tally, a_day_later) == 100  # the first hour has left the window
    assert len(tallied(tally, a_day_later, complete=False)) == 2
