"""An address is not an identity: when a player's description is read, and what it means.

Pure, as the rules are: the household model is fed checks, topologies and descriptions by
hand, as the coordinator and the watcher feed it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.sonos_troubleshooter.sonos_health.error_rules import (
    CloudObservation,
    ErrorCode,
)
from custom_components.sonos_troubleshooter.sonos_health.household import Household, KnownPlayer
from custom_components.sonos_troubleshooter.sonos_health.identity_rules import (
    follows_to,
    identity_verdict,
    listed_beside,
    newly_beside,
)
from custom_components.sonos_troubleshooter.sonos_health.player_client import (
    PlayerInfo,
    ProbeFailure,
    Topology,
    TopologyMember,
    answered,
)

AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
CLOUD_OK = CloudObservation(
    names_resolved=True, cloud_connected=True, reference_connected=True, status_indicator="none"
)
# The address the gone player had, and where the one that took it was before.
OLD, OTHER = "192.168.1.11", "192.168.1.12"
TAKEN = ProbeFailure.ADDRESS_TAKEN


def member(uid: str, ip: str) -> TopologyMember:
    return TopologyMember(uid=uid, name=uid.title(), ip=ip, channel_freq=2437)


def info(uid: str) -> PlayerInfo:
    return PlayerInfo(
        uid=uid,
        name=uid.title(),
        model_name="Sonos One",
        model_number="S18",
        serial_number="00-11-22-33-44-55:E",
        mac_address="00:11:22:33:44:55",
        software_version="85.0-65020",
        display_version="17.5",
        hardware_version="1.0",
    )


@pytest.mark.parametrize(
    ("uid", "ip", "members", "beside"),
    [
        ("a", OLD, [member("a", OLD), member("b", OTHER)], set()),
        ("a", OLD, [member("a", OLD), member("b", OLD)], {"b"}),
        ("a", OLD, [member("b", OLD)], {"b"}),  # the household dropped the gone one
        ("a", OLD, [member("b", OLD), member("c", OLD)], {"b", "c"}),
        ("a", OLD, [], set()),
    ],
)
def test_listed_beside(uid: str, ip: str, members: list[TopologyMember], beside: set[str]) -> None:
    assert listed_beside(uid, ip, members) == beside


@pytest.mark.parametrize(
    ("before", "now", "doubt"),
    [
        (set(), set(), False),
        (set(), {"b"}, True),  # another player appears at its address
        ({"b"}, {"b"}, False),  # still there (a stale entry): read once, not every poll
        ({"b"}, set(), False),  # gone again: nothing to doubt
        ({"b"}, {"b", "c"}, True),
        ({"b", "c"}, {"c"}, False),
    ],
)
def test_newly_beside(before: set[str], now: set[str], doubt: bool) -> None:
    assert newly_beside(frozenset(before), frozenset(now)) is doubt


@pytest.mark.parametrize(
    ("uid", "described", "verdict"),
    [("a", "a", None), ("a", "b", TAKEN)],
)
def test_identity_verdict(uid: str, described: str, verdict: ProbeFailure | None) -> None:
    assert identity_verdict(uid, described) is verdict
    assert answered(verdict) is (verdict is None)  # another player there is not an answer


@pytest.mark.parametrize(
    ("known_at", "listed", "follows"),
    [
        (OTHER, False, True),  # of the household, no topology places it: it is where it answered
        (OTHER, True, False),  # the topology says where it is
        (OLD, False, False),  # already watched there
        (None, False, False),  # not of the household (another household's player)
    ],
)
def test_follows_to(known_at: str | None, listed: bool, follows: bool) -> None:
    assert follows_to(OLD, known_at, listed_by_topology=listed) is follows


# --- the household model, step by step ---------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing the model is told about player a (at OLD) and b (at OTHER), and the outcome.

    `check a down|up`: a check of the watcher; `topology <uid>@<ip> ...`: a poll's topology
    (`topology none`: it could not be read); `describe a <uid>`: a description read at a's
    address names <uid>; `poll a:<failure>`: a poll's verdict of a (`ok` or a failure kind).
    """

    event: str
    doubted: bool | None = None  # a's identity in doubt afterwards
    verdict: ProbeFailure | None = None  # of a `describe` step
    newly: tuple[str, ...] | None = None  # of a `topology` step: players put in doubt
    b_at: str | None = None  # b's address afterwards
    code: ErrorCode | None = None  # of a `poll` step: a's code


def run(steps: list[Step]) -> None:
    household = Household(
        [KnownPlayer(uid="a", name="A", ip=OLD), KnownPlayer(uid="b", name="B", ip=OTHER)]
    )
    a, b = household.players["a"], household.players["b"]
    now = AT
    for index, step in enumerate(steps):
        now += timedelta(seconds=10)
        where = f"step {index}: {step.event}"
        kind, *words = step.event.split()
        if kind == "check":
            household.checked(a, now, answered=words[1] == "up")
        elif kind == "topology":
            parsed = [word.split("@") for word in words if word != "none"]
            household.follow(
                None
                if words == ["none"]
                else Topology(members=tuple(member(uid, ip) for uid, ip in parsed), vanished=())
            )
            newly = [player.uid for player in household.doubt_shared_addresses()]
            if step.newly is not None:
                assert tuple(newly) == step.newly, where
        elif kind == "describe":
            verdict = household.identified(a, info(words[1]), now)
            assert verdict is step.verdict, where
        elif kind == "poll":
            uid, _, failure = words[0].partition(":")
            failures = {uid: None if failure == "ok" else ProbeFailure(failure)}
            household.observe(now, failures, CLOUD_OK)
            if step.code is not None:
                assert household.diagnosis.players["a"].code is step.code, where
        if step.doubted is not None:
            assert household.identity_in_doubt(a) is step.doubted, where
        if step.b_at is not None:
            assert b.ip == step.b_at, where


SCENARIOS = [
    pytest.param(
        [
            Step("check a up", doubted=True),  # started: in doubt until its description says
            Step("describe a a", doubted=False, verdict=None),
            Step("check a up", doubted=False),
        ],
        id="after a start every player is in doubt until its description names it once",
    ),
    pytest.param(
        [
            Step("describe a a", doubted=False),
            Step("check a down", doubted=True),  # gone a moment: the address may change hands
            Step("check a up", doubted=True),  # something answers: not proof it is a
            Step("describe a a", doubted=False),
        ],
        id="a missed check puts it in doubt, an answer alone does not end the doubt",
    ),
    pytest.param(
        [
            Step("describe a a"),
            Step("topology a@192.168.1.11 b@192.168.1.12", newly=(), doubted=False),
            Step(
                "topology a@192.168.1.11 b@192.168.1.11", newly=("a", "b"), doubted=True
            ),  # both: either may be the one that is there
            Step("describe a b", verdict=TAKEN, doubted=True),
            Step("topology a@192.168.1.11 b@192.168.1.11", newly=()),  # not again every poll
            Step("topology none", newly=()),  # nothing read: nothing changes
        ],
        id="another player listed at its address puts it in doubt once",
    ),
    pytest.param(
        [
            Step("describe a a"),
            Step("topology a@192.168.1.11 b@192.168.1.11"),
            Step("describe a b", verdict=TAKEN, b_at=OLD),  # the topology moved b there
            Step("poll a:address_taken", code=ErrorCode.OK),
            Step("describe a b", verdict=TAKEN),
            Step("poll a:address_taken", code=ErrorCode.E1001),
        ],
        id="another player's description: not answering, 1001 at the second poll",
    ),
    pytest.param(
        [
            Step("describe a a"),
            Step("topology none"),  # a large household answers 501
            Step("check a down"),
            Step("describe a b", verdict=TAKEN, b_at=OLD),  # b answered there in its own name
        ],
        id="without a topology the player found at the address is followed there",
    ),
    pytest.param(
        [
            Step("describe a a"),
            Step("topology a@192.168.1.11 b@192.168.1.12"),
            Step("check a down"),
            Step("describe a b", verdict=TAKEN, b_at=OTHER),  # the topology places b
        ],
        id="while the topology lists it, the topology says where the other player is",
    ),
    pytest.param(
        [
            Step("check a down"),
            Step("describe a c", verdict=TAKEN, b_at=OTHER),  # not of the household
            Step("poll a:address_taken"),
            Step("describe a a", verdict=None, doubted=False),  # a is back at its address
            Step("poll a:ok", code=ErrorCode.OK),
        ],
        id="a player of another household at the address; the player back clears it",
    ),
]


@pytest.mark.parametrize("steps", SCENARIOS)
def test_identity_timeline(steps: list[Step]) -> None:
    run(steps)


def test_the_player_whose_address_is_taken_names_the_taker() -> None:
    household = Household([KnownPlayer(uid="a", name="A", ip=OLD)])
    a = household.players["a"]
    household.identified(a, info("b"), AT)
    assert a.taken_by == info("b")
    assert (a.info, a.info_read_at, a.name) == (None, None, "A")  # not b's description
    household.identified(a, info("a"), AT)
    assert (a.taken_by, a.info) == (None, info("a"))
