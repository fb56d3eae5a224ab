"""Table tests of when core Sonos counts as having lost a speaker, and of the event path."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Interface

import pytest

from custom_components.sonos_troubleshooter.sonos_health.core_rules import (
    CORE_LOST_AFTER,
    CoreLoss,
    CoreView,
    EventPath,
    event_path,
    follow_core,
    read_listener,
)

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=60)
HERE = "192.168.1.23"
OLD = "192.168.1.99"


def at(poll: int) -> datetime:
    return BASE + poll * STEP


FINE = CoreView(available=True, unavailable_since=None, address=HERE)


def gone(since: int, address: str | None = HERE) -> CoreView:
    """Core shows the speaker unavailable since a poll (its entities' last_changed)."""
    return CoreView(available=False, unavailable_since=at(since), address=address)


@dataclass(frozen=True)
class Poll:
    view: CoreView | None
    answers: bool
    lost: bool
    core_address: str | None = None
    since: int | None = None  # expected start of the loss, a poll index


LOST_POLLS = int(CORE_LOST_AFTER / STEP)  # 5 polls of a minute

SCENARIOS = [
    pytest.param([Poll(FINE, True, False)] * 8, id="core fine: never"),
    pytest.param([Poll(None, True, False)] * 8, id="core absent (no device, no entity): never"),
    pytest.param(
        [Poll(gone(0), True, False)] * LOST_POLLS + [Poll(FINE, True, False)],
        id="lost briefly, under the threshold: never",
    ),
    pytest.param(
        [Poll(gone(0), True, False)] * LOST_POLLS
        + [Poll(gone(0), True, True, since=0)] * 2
        + [Poll(FINE, True, False)],
        id="lost past the threshold while our probe answers; recovers",
    ),
    pytest.param(
        [Poll(gone(0), False, False)] * (LOST_POLLS + 3),
        id="lost while our probe fails too: that is 1001, not this card",
    ),
    pytest.param(
        [Poll(gone(0), True, False)] * LOST_POLLS
        + [Poll(gone(0), False, False), Poll(gone(0), True, True, since=0)],
        id="our probe failing once hides the card; the streak is core's and keeps its start",
    ),
    pytest.param(
        [Poll(gone(0, OLD), True, False)] * LOST_POLLS
        + [Poll(gone(0, OLD), True, True, core_address=OLD, since=0)],
        id="speaker answers at another address than core's device knows",
    ),
    pytest.param(
        [Poll(gone(0, None), True, False)] * LOST_POLLS
        + [Poll(gone(0, None), True, True, since=0)],
        id="core's address unknown: no differing address claimed",
    ),
    pytest.param(
        [Poll(gone(0), True, False)] * 3
        + [Poll(gone(3), True, False)] * 2
        + [Poll(gone(4), True, True, since=0)],
        id="a reload of core rewrites last_changed without finding it: the streak keeps its start",
    ),
    pytest.param(
        [Poll(gone(-10), True, True, since=-10)],
        id="first seen long unavailable (our reload): core's own time counts",
    ),
]


@pytest.mark.parametrize("polls", SCENARIOS)
def test_scenario(polls: list[Poll]) -> None:
    since: dict[str, datetime] = {}
    for index, poll in enumerate(polls):
        answering = {"a": HERE} if poll.answers else {}
        since, lost = follow_core(since, {"a": poll.view}, answering, at(index))
        where = f"after poll {index}"
        if not poll.lost:
            assert lost == {}, where
            continue
        assert poll.since is not None
        assert lost == {
            "a": CoreLoss(
                uid="a", since=at(poll.since), address=HERE, core_address=poll.core_address
            )
        }, where


def test_no_time_from_core_starts_now() -> None:
    unknown = CoreView(available=False, unavailable_since=None, address=None)
    since, _ = follow_core({}, {"a": unknown}, {}, BASE)
    assert since == {"a": BASE}


HA = [IPv4Interface("192.168.1.10/24"), IPv4Interface("127.0.0.1/8")]
SPEAKERS = ["192.168.1.23", "192.168.1.24"]


@pytest.mark.parametrize(
    ("listener", "interfaces", "speakers", "expected"),
    [
        pytest.param(
            "192.168.1.10:1400",
            HA,
            SPEAKERS,
            EventPath(
                listener="192.168.1.10:1400",
                address_is_local=True,
                port_in_range=True,
                listener_open=True,
                speakers_outside=(),
            ),
            id="all fine from HA's side: something on the way blocks",
        ),
        pytest.param(
            "172.17.0.2:1400",
            [IPv4Interface("172.17.0.2/16")],
            SPEAKERS,
            EventPath(
                listener="172.17.0.2:1400",
                address_is_local=True,
                port_in_range=True,
                listener_open=True,
                speakers_outside=tuple(SPEAKERS),
            ),
            id="docker bridge: the speakers are outside the container's network",
        ),
        pytest.param(
            "192.168.1.10:1400 (advertising as 10.0.0.5)",
            HA,
            SPEAKERS,
            EventPath(
                listener="10.0.0.5:1400",
                address_is_local=False,
                port_in_range=True,
                listener_open=True,
                speakers_outside=None,
            ),
            id="advertised address is not this host's",
        ),
        pytest.param(
            "192.168.1.10:1600",
            HA,
            ["192.168.1.23", "192.168.20.5"],
            EventPath(
                listener="192.168.1.10:1600",
                address_is_local=True,
                port_in_range=False,
                listener_open=True,
                speakers_outside=("192.168.20.5",),
            ),
            id="port outside soco's range, a speaker on another VLAN",
        ),
        pytest.param(
            "192.168.1.10:1400",
            [],
            SPEAKERS,
            EventPath(
                listener="192.168.1.10:1400",
                address_is_local=None,
                port_in_range=True,
                listener_open=True,
                speakers_outside=None,
            ),
            id="no interface known: cannot tell",
        ),
        pytest.param(
            "-",
            HA,
            SPEAKERS,
            EventPath(
                listener="-",
                address_is_local=None,
                port_in_range=None,
                listener_open=True,
                speakers_outside=None,
            ),
            id="unreadable listener address",
        ),
    ],
)
def test_event_path(
    listener: str, interfaces: list[IPv4Interface], speakers: list[str], expected: EventPath
) -> None:
    assert event_path(listener, interfaces, speakers, listener_open=True) == expected


@pytest.mark.parametrize(
    ("listener", "expected"),
    [
        ("192.168.1.10:1400", ("192.168.1.10", 1400)),
        ("192.168.1.10:1401 (advertising as 10.0.0.5)", ("10.0.0.5", 1401)),
        ("[::1]:1400", None),
        ("192.168.1.10:port", None),
        ("somehost:1400", None),
    ],
)
def test_read_listener(listener: str, expected: tuple[str, int] | None) -> None:
    parsed = read_listener(listener)
    assert (None if parsed is None else (str(parsed[0]), parsed[1])) == expected
