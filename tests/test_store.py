"""The store: every part written in one style and read back exactly, or refused when broken."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
import json

import pytest

from custom_components.sonos_troubleshooter.sonos_health.error_rules import (
    CloudCause,
    CloudObservation,
    CloudState,
    DiagnosisState,
    ErrorCode,
    Observation,
    PlayerObservation,
    PlayerState,
    diagnose,
)
from custom_components.sonos_troubleshooter.sonos_health.household import KnownPlayer
from custom_components.sonos_troubleshooter.sonos_health.link_rules import HourTally, Link
from custom_components.sonos_troubleshooter.sonos_health.player_client import Role, Uplink
from custom_components.sonos_troubleshooter.sonos_health.power_rules import (
    Action,
    ActionRecord,
    Outcome,
)
from custom_components.sonos_troubleshooter.store import (
    action_from_dict,
    action_to_dict,
    diagnosis_from_dict,
    diagnosis_to_dict,
    hour_from_dict,
    hour_to_dict,
    link_from_dict,
    link_to_dict,
    player_from_dict,
    player_to_dict,
)

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AT_NIGHT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
OK = ErrorCode.OK
E1001 = ErrorCode.E1001
E1003 = ErrorCode.E1003


def at(poll: int) -> datetime:
    """Return the time of the poll with this index, 30 s apart."""
    return BASE + poll * timedelta(seconds=30)


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


OUTAGE = cloud(connect=False, indicator="major")
INTERNET_DOWN = cloud(names=False, connect=False, reference=False, indicator=None)
DNS_FAILURE = cloud(names=False, connect=False)


CEST = datetime(2026, 3, 1, 11, 0, 0, 123456, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
"""A time before BASE, in another zone and with microseconds, to prove the round trip exact."""


def failing_cloud_state() -> DiagnosisState:
    """Return a state with every kind of player and a failing cloud."""
    return DiagnosisState(
        players={
            "RINCON_A": PlayerState(
                uid="RINCON_A",
                code=E1003,
                failures=0,
                failing_since=None,
                since=BASE,
                expected_absence=None,
            ),
            "RINCON_B": PlayerState(
                uid="RINCON_B",
                code=E1001,
                failures=7,
                failing_since=CEST,
                since=CEST,
                expected_absence=None,
            ),
            "RINCON_C": PlayerState(
                uid="RINCON_C",
                code=OK,
                failures=0,
                failing_since=None,
                since=None,
                expected_absence="switch to bluetooth",
            ),
            "RINCON_D": PlayerState(
                uid="RINCON_D",
                code=OK,
                failures=1,
                failing_since=at(3),
                since=None,
                expected_absence=None,
            ),
        },
        cloud=CloudState(
            failures=3,
            failing_since=BASE,
            failing=True,
            cause=CloudCause.SONOS_OUTAGE,
            since=BASE,
            status_indicator="maintenance",
        ),
        all_players_down=False,
        all_players_down_since=None,
    )


def all_down_state() -> DiagnosisState:
    """Return a state with the whole household down and the internet with it."""
    return DiagnosisState(
        players={
            "RINCON_B": PlayerState(
                uid="RINCON_B",
                code=E1001,
                failures=7,
                failing_since=CEST,
                since=CEST,
                expected_absence=None,
            ),
            "RINCON_C": PlayerState(
                uid="RINCON_C",
                code=OK,
                failures=0,
                failing_since=None,
                since=None,
                expected_absence="sleeping",
            ),
        },
        cloud=CloudState(
            failures=1,
            failing_since=at(4),
            failing=False,
            cause=None,
            since=None,
            status_indicator=None,
        ),
        all_players_down=True,
        all_players_down_since=CEST,
    )


@pytest.mark.parametrize("make", [failing_cloud_state, all_down_state])
def test_round_trip_is_exact_through_json(make: Callable[[], DiagnosisState]) -> None:
    state = make()
    stored = json.loads(json.dumps(diagnosis_to_dict(state)))
    restored = diagnosis_from_dict(stored)
    assert restored == state
    assert restored != DiagnosisState.initial()
    player = restored.player("RINCON_B")
    assert player is not None
    assert player.since is not None
    assert player.since.utcoffset() == timedelta(hours=2)
    assert diagnosis_to_dict(restored) == stored


def test_to_dict_shape() -> None:
    data = diagnosis_to_dict(failing_cloud_state())
    assert data["cloud"] == {
        "failures": 3,
        "failing_since": "2026-03-01T12:00:00+00:00",
        "failing": True,
        "cause": "sonos_outage",
        "since": "2026-03-01T12:00:00+00:00",
        "status_indicator": "maintenance",
    }
    players = data["players"]
    assert isinstance(players, dict)
    assert list(players) == ["RINCON_A", "RINCON_B", "RINCON_C", "RINCON_D"]
    assert players["RINCON_A"] == {
        "code": "1003",
        "failures": 0,
        "failing_since": None,
        "since": "2026-03-01T12:00:00+00:00",
        "expected_absence": None,
    }
    assert players["RINCON_B"]["since"] == "2026-03-01T13:00:00.123456+02:00"
    assert data["all_players_down"] is False
    assert data["all_players_down_since"] is None
    assert (
        diagnosis_to_dict(all_down_state())["all_players_down_since"]
        == "2026-03-01T13:00:00.123456+02:00"
    )


def test_round_trip_of_initial_and_diagnosed_states() -> None:
    state = DiagnosisState.initial()
    assert diagnosis_from_dict(diagnosis_to_dict(state)) == state
    for index in range(3):
        state = diagnose(
            state,
            Observation(
                at=at(index),
                players=(
                    PlayerObservation(uid="a", answered=False),
                    PlayerObservation(uid="b", answered=False, vanished_reason="Sleeping"),
                ),
                cloud=OUTAGE,
            ),
        )
        assert diagnosis_from_dict(json.loads(json.dumps(diagnosis_to_dict(state)))) == state


def test_restored_state_continues_the_streaks() -> None:
    restored = diagnosis_from_dict(json.loads(json.dumps(diagnosis_to_dict(failing_cloud_state()))))
    state = diagnose(
        restored,
        Observation(
            at=at(10),
            players=(
                PlayerObservation(uid="RINCON_B", answered=False),
                PlayerObservation(uid="RINCON_D", answered=False),
            ),
            cloud=DNS_FAILURE,
        ),
    )
    assert state.player("RINCON_B") == PlayerState(
        uid="RINCON_B",
        code=E1001,
        failures=8,
        failing_since=CEST,
        since=CEST,
        expected_absence=None,
    )
    assert state.player("RINCON_D") == PlayerState(
        uid="RINCON_D",
        code=E1001,
        failures=2,
        failing_since=at(3),
        since=at(3),
        expected_absence=None,
    )
    assert state.cloud == CloudState(
        failures=4,
        failing_since=BASE,
        failing=True,
        cause=CloudCause.DNS_FAILURE,
        since=BASE,
        status_indicator="none",
    )
    assert state.all_players_down is True
    assert state.all_players_down_since == CEST


def test_restored_all_down_keeps_its_since() -> None:
    restored = diagnosis_from_dict(json.loads(json.dumps(diagnosis_to_dict(all_down_state()))))
    state = diagnose(
        restored,
        Observation(
            at=at(10),
            players=(
                PlayerObservation(uid="RINCON_B", answered=False),
                PlayerObservation(uid="RINCON_C", answered=False, vanished_reason="sleeping"),
            ),
            cloud=INTERNET_DOWN,
        ),
    )
    assert state.all_players_down is True
    assert state.all_players_down_since == CEST
    assert state.cloud.failing is True
    assert state.cloud.since == at(4)
    assert state.cloud.cause is CloudCause.INTERNET_DOWN


def _garbage() -> list[object]:
    """Return stored data that must all restore to the initial state."""
    good = diagnosis_to_dict(all_down_state())

    def replaced(path: tuple[str, ...], value: object) -> dict[str, object]:
        data = json.loads(json.dumps(good))
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return data  # type: ignore[no-any-return]

    def removed(path: tuple[str, ...]) -> dict[str, object]:
        data = json.loads(json.dumps(good))
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return data  # type: ignore[no-any-return]

    player = ("players", "RINCON_B")
    return [
        pytest.param(None, id="none"),
        pytest.param([], id="list"),
        pytest.param("state", id="string"),
        pytest.param(42, id="int"),
        pytest.param({}, id="empty mapping"),
        pytest.param({1: 2}, id="non-string keys"),
        pytest.param(removed(("cloud",)), id="missing cloud"),
        pytest.param(removed(("players",)), id="missing players"),
        pytest.param(removed(("all_players_down",)), id="missing all_players_down"),
        pytest.param(removed(("all_players_down_since",)), id="missing all_players_down_since"),
        pytest.param(removed(("cloud", "cause")), id="missing cloud cause"),
        pytest.param(removed(("cloud", "status_indicator")), id="missing status indicator"),
        pytest.param(removed((*player, "since")), id="missing player since"),
        pytest.param(removed((*player, "code")), id="missing player code"),
        pytest.param(removed((*player, "expected_absence")), id="missing expected absence"),
        pytest.param(replaced(("players",), []), id="players a list"),
        pytest.param(replaced(("cloud",), "down"), id="cloud a string"),
        pytest.param(replaced(player, None), id="player null"),
        pytest.param(replaced((*player, "code"), "1002"), id="unknown code"),
        pytest.param(replaced((*player, "code"), 1001), id="code an int"),
        pytest.param(replaced((*player, "code"), "E1001"), id="code a member name"),
        pytest.param(replaced((*player, "failures"), "7"), id="failures a string"),
        pytest.param(replaced((*player, "failures"), 7.0), id="failures a float"),
        pytest.param(replaced((*player, "failures"), True), id="failures a bool"),
        pytest.param(replaced((*player, "failures"), -1), id="failures negative"),
        pytest.param(replaced((*player, "since"), "yesterday"), id="bad date"),
        pytest.param(
            replaced((*player, "since"), "2026-02-30T00:00:00+00:00"), id="impossible date"
        ),
        pytest.param(replaced((*player, "since"), "2026-03-01T12:00:00"), id="naive date"),
        pytest.param(replaced((*player, "since"), 1772366400), id="date a number"),
        pytest.param(replaced((*player, "expected_absence"), 3), id="absence a number"),
        pytest.param(replaced(("cloud", "cause"), "gremlins"), id="unknown cause"),
        pytest.param(replaced(("cloud", "cause"), ["dns_failure"]), id="cause a list"),
        pytest.param(replaced(("cloud", "failing"), "true"), id="failing a string"),
        pytest.param(replaced(("cloud", "failing"), 1), id="failing an int"),
        pytest.param(
            replaced(("cloud", "status_indicator"), {"indicator": "none"}), id="indicator a dict"
        ),
        pytest.param(replaced(("all_players_down",), None), id="all down null"),
        pytest.param(
            replaced(("all_players_down_since",), "2026-13-01T00:00:00Z"), id="bad all down date"
        ),
        pytest.param(replaced(("all_players_down_since",), None), id="all down without since"),
        pytest.param(replaced(("cloud", "failing_since"), None), id="cloud streak without start"),
        pytest.param(replaced((*player, "failing_since"), None), id="player streak without start"),
        pytest.param(replaced((*player, "failures"), 0), id="player start without streak"),
    ]


@pytest.mark.parametrize("data", _garbage())
def test_from_dict_rejects_garbage(data: object) -> None:
    assert diagnosis_from_dict(data) == DiagnosisState.initial()


def test_record_round_trip_and_power_left_off() -> None:
    record = ActionRecord(
        action=Action.POWER_CYCLE,
        entity_id="switch.kitchen_plug",
        subject="kitchen",
        subject_name="Kitchen",
        started=AT_NIGHT,
        switched_off=AT_NIGHT + timedelta(seconds=1),
    )
    assert record.power_left_off
    assert action_from_dict(action_to_dict(record)) == record
    closed = record.finish(Outcome.INTERRUPTED, AT_NIGHT + timedelta(seconds=5))
    assert closed.outcome is Outcome.INTERRUPTED
    assert closed.finished == AT_NIGHT + timedelta(seconds=5)
    assert action_from_dict(action_to_dict(closed)) == closed
    assert not replace(record, switched_on=AT_NIGHT + timedelta(seconds=31)).power_left_off


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"action": "explode", "entity_id": "x", "subject": "s", "subject_name": "n"},
        {
            "action": "power_cycle",
            "entity_id": "x",
            "subject": "s",
            "subject_name": "n",
            "outcome": "helped",
        },  # no start
        {
            "action": "power_cycle",
            "entity_id": "x",
            "subject": "s",
            "subject_name": "n",
            "started": "yesterday",
            "outcome": "helped",
        },
    ],
)
def test_broken_records_are_refused(broken: dict[str, object]) -> None:
    with pytest.raises((KeyError, ValueError)):
        action_from_dict(broken)


def test_a_player_keeps_its_role_and_main_unit_and_an_older_store_reads_as_alone() -> None:
    sub = KnownPlayer(
        uid="RINCON_SUB", name="Living Room", ip="10.0.0.2", role=Role.SUB, main="RINCON_ARC"
    )
    stored = json.loads(json.dumps(player_to_dict(sub)))
    assert player_from_dict(stored) == sub
    del stored["role"], stored["main"]  # stored before bonded sets were known
    older = player_from_dict(stored)
    assert (older.role, older.main) == (Role.PLAYER, None)
    with pytest.raises(ValueError, match="conductor"):
        player_from_dict({**stored, "role": "conductor"})


def test_how_a_player_connects_is_kept_and_an_older_wired_flag_reads_as_such() -> None:
    amp = KnownPlayer(
        uid="RINCON_AMP", name="Office", ip="10.0.0.3", channel_freq=2437, uplink=Uplink.ETHERNET
    )
    stored = json.loads(json.dumps(player_to_dict(amp)))
    assert stored["uplink"] == "ethernet"
    assert player_from_dict(stored) == amp
    del stored["uplink"]  # stored before 0.3: a wired flag
    assert player_from_dict({**stored, "wired": True}).uplink is Uplink.ETHERNET
    assert player_from_dict({**stored, "wired": False}).uplink is Uplink.WIFI
    assert player_from_dict(stored).uplink is Uplink.WIFI
    with pytest.raises(ValueError, match="copper"):
        player_from_dict({**stored, "uplink": "copper"})


def test_link_and_tally_round_trip_through_json() -> None:
    """A player's link counters and the household's hourly tally survive a restart exactly."""
    link = Link(
        missed=7,
        dropouts=3,
        reboots=2,
        last_dropout=at(9),
        recent_dropouts=(at(3), at(6), at(9)),
        boot_seq=44,
        unstable_since=at(9),
        streak=2,  # the silence going on is not kept: a restart starts afresh
        streak_since=at(10),
        counted=2,
    )
    player = KnownPlayer(uid="RINCON_1", name="Kitchen", ip="192.0.2.1", link=link)
    stored = json.loads(json.dumps(player_to_dict(player)))
    assert player_from_dict(stored).link == replace(link, streak=0, streak_since=None, counted=0)
    hour = HourTally(hour=BASE, polls=60, complete=57)
    assert hour_from_dict(json.loads(json.dumps(hour_to_dict(hour)))) == hour


def test_documents_written_before_links_load_with_empty_counters() -> None:
    """A player stored by an earlier version (no `link`) loads; so does a document without `polls`."""
    stored = {"uid": "RINCON_1", "name": "Kitchen", "ip": "192.0.2.1"}
    assert player_from_dict(stored).link == Link()


@pytest.mark.parametrize(
    "broken",
    [
        {"hour": BASE.isoformat(), "polls": 1, "complete": 2},
        {"hour": None, "polls": 1, "complete": 1},
        {"hour": BASE.isoformat(), "polls": -1, "complete": 0},
    ],
)
def test_broken_tally_hours_are_refused(broken: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - UnreadableError is a ValueError
        hour_from_dict(broken)


def test_broken_link_is_refused() -> None:
    stored = link_to_dict(Link())
    with pytest.raises(ValueError):  # noqa: PT011
        link_from_dict({**stored, "recent_dropouts": "yesterday"})
    with pytest.raises(ValueError):  # noqa: PT011
        link_from_dict({**stored, "boot_seq": "42"})
