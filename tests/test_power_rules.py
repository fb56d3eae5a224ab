"""The rules that say when Home Assistant may perform a fix step: a table of scenarios."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.sonos_troubleshooter.power_rules import (
    Action,
    ActionRecord,
    Outcome,
    Refusal,
    from_dict,
    players_on_switch,
    power_cycle_refusal,
    router_restart_refusal,
    to_dict,
)

PLUGS = {"kitchen": "switch.kitchen_plug", "den": "switch.strip", "office": "switch.strip"}
AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("uid", "answering", "available", "expected"),
    [
        ("kitchen", set(), True, None),
        ("kitchen", {"den"}, True, None),  # others answering on other plugs: fine
        ("kitchen", {"kitchen"}, True, Refusal.PLAYER_REACHABLE),
        ("kitchen", set(), False, Refusal.ENTITY_UNAVAILABLE),
        ("garden", set(), True, Refusal.NOT_CONFIGURED),
        ("den", set(), True, None),  # both players on the strip are silent
        ("den", {"office"}, True, Refusal.SHARED_SWITCH),
        ("den", {"den", "office"}, True, Refusal.PLAYER_REACHABLE),
        ("den", {"office"}, False, Refusal.SHARED_SWITCH),  # reachability before state
    ],
)
def test_power_cycle_refusal(
    uid: str, answering: set[str], available: bool, expected: Refusal | None
) -> None:
    assert (
        power_cycle_refusal(
            uid=uid, switches=PLUGS, answering=answering, switch_available=available
        )
        is expected
    )


@pytest.mark.parametrize(
    ("entity", "available", "players", "internet", "expected"),
    [
        ("button.router_restart", True, True, True, None),
        ("button.router_restart", True, False, True, None),  # all players down: allowed
        ("button.router_restart", True, True, False, None),  # internet down: allowed
        ("button.router_restart", True, False, False, Refusal.NO_NETWORK_PATH),
        ("button.router_restart", True, False, None, None),  # no reference to judge by
        ("button.router_restart", False, True, True, Refusal.ENTITY_UNAVAILABLE),
        ("button.router_restart", False, False, False, Refusal.NO_NETWORK_PATH),
        (None, True, True, True, Refusal.NOT_CONFIGURED),
    ],
)
def test_router_restart_refusal(
    entity: str | None,
    available: bool,
    players: bool,
    internet: bool | None,
    expected: Refusal | None,
) -> None:
    assert (
        router_restart_refusal(
            entity_id=entity,
            entity_available=available,
            any_player_answers=players,
            internet_answers=internet,
        )
        is expected
    )


def test_players_on_switch() -> None:
    assert players_on_switch("den", PLUGS) == ["office"]
    assert players_on_switch("kitchen", PLUGS) == []


def test_record_round_trip_and_power_left_off() -> None:
    record = ActionRecord(
        action=Action.POWER_CYCLE,
        entity_id="switch.kitchen_plug",
        subject="kitchen",
        subject_name="Kitchen",
        started=AT,
        switched_off=AT + timedelta(seconds=1),
    )
    assert record.power_left_off
    assert from_dict(to_dict(record)) == record
    closed = record.finish(Outcome.INTERRUPTED, AT + timedelta(seconds=5))
    assert closed.outcome is Outcome.INTERRUPTED
    assert closed.finished == AT + timedelta(seconds=5)
    assert from_dict(to_dict(closed)) == closed
    assert not replace(record, switched_on=AT + timedelta(seconds=31)).power_left_off


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
        from_dict(broken)
