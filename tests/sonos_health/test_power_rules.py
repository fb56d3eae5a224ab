"""The rules that say when Home Assistant may perform a fix step: a table of scenarios."""

from datetime import UTC, datetime

import pytest

from custom_components.sonos_troubleshooter.sonos_health.power_rules import (
    Refusal,
    players_on_switch,
    power_cycle_refusal,
    router_restart_refusal,
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
