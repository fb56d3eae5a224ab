"""Translations stay generated from the catalog, valid, and complete for the code."""

import json
from pathlib import Path
import re

import pytest

from custom_components.sonos_troubleshooter.event import ERROR_EVENTS
from custom_components.sonos_troubleshooter.sensor import WIFI_BANDS
from custom_components.sonos_troubleshooter.sonos_health.error_catalog import (
    CABLE_STEPS,
    ERROR_1001,
    ERROR_1003,
    FIRST_STEP,
    FIRST_STEP_ALL_PLAYERS_DOWN,
    RADIO_STEPS,
    PlayerCard,
    ordered_steps,
    steps_for,
)
from custom_components.sonos_troubleshooter.sonos_health.error_rules import (
    HOUSEHOLD_FINDINGS,
    CloudCause,
    ErrorCode,
)
from custom_components.sonos_troubleshooter.sonos_health.player_client import Role

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / "sonos_troubleshooter"
STRINGS = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))

# A phrase only each step's text contains, to check the order of the steps on each card.
STEP_MARKERS = {
    "power_cycle_speaker": "Power-cycle the",
    "restart_router": r"Restart your (home |Wi-Fi )?router",
    "factory_reset": "Factory-reset",
    "move_closer": "closer to the router",
    "enable_2_4_ghz": "2.4 GHz band is enabled",
    "check_status_page": "Sonos status page",
    "sign_in_again": "Sign out of your Sonos account",
    "check_firewall": "firewall rules",
    "try_hotspot": "mobile hotspot",
    "check_link_lights": r"\*\*Look at the lights of the network ports",
    "check_switch": r"\*\*Check the switch or router port",
    "check_cable": r"\*\*Check the network cable",
}


def steps_in(description: str) -> list[str]:
    found = []
    for line in description.splitlines():
        if not re.match(r"\d+\. ", line):
            continue
        (step,) = [key for key, marker in STEP_MARKERS.items() if re.search(marker, line)]
        found.append(step)
    return found


CARDS = [
    *[(card.value, steps_for(ErrorCode.E1001, card=card)) for card in PlayerCard],
    ("error_1001_all_players", ordered_steps(ERROR_1001, FIRST_STEP_ALL_PLAYERS_DOWN)),
    *[
        (f"error_1003_{cause}{suffix}", ordered_steps(ERROR_1003, FIRST_STEP[cause]))
        for cause in CloudCause
        for suffix in ("", "_escalated")
        # A Sonos outage has its card only past 24 hours (issues.py).
        if (cause, suffix) != (CloudCause.SONOS_OUTAGE, "")
    ],
]


def documented_steps_that_apply(issue: str) -> list[str]:
    """Every documented step a card must carry: all of them, but the radio's for a cable.

    A player on a cable checks its cable first, and moving closer to the router or its
    2.4 GHz band mean nothing to it; a satellite's link to its soundbar is not on the
    router's bands.
    """
    if "1003" in issue:
        return list(ERROR_1003.steps)
    if issue.endswith("_wired"):
        return [*CABLE_STEPS, *(step for step in ERROR_1001.steps if step not in RADIO_STEPS)]
    if issue == PlayerCard.SATELLITE:
        return [step for step in ERROR_1001.steps if step != "enable_2_4_ghz"]
    return list(ERROR_1001.steps)


def test_cards_on_a_cable_or_a_satellite_say_no_wi_fi_band() -> None:
    """A core reviewer wants no Wi-Fi advice for a cable; nor a satellite's link as a band."""
    for card in PlayerCard:
        if not (card.wired or card is PlayerCard.SATELLITE):
            continue
        flow = STRINGS["issues"][card]["fix_flow"]
        texts = [STRINGS["issues"][card]["title"], *leaf_texts(flow)]
        assert not [text for text in texts if "{link}" in text or "2.4 GHz" in text], card
        if card.wired:
            assert not [text for text in texts if "Wi-Fi router" in text], card
            assert "on a network cable" in flow["step"]["init"]["description"]
    for key in ("unstable_connection_wired", "unstable_connection_satellite"):
        description = STRINGS["issues"][key]["description"]
        assert "{link}" not in description
        assert "2.4 GHz" not in description
        assert "closer to the router" not in description


def leaf_texts(tree: dict[str, object]) -> list[str]:
    found: list[str] = []
    for value in tree.values():
        if isinstance(value, dict):
            found += leaf_texts(value)
        else:
            found.append(str(value))
    return found


@pytest.mark.parametrize(("issue", "steps"), CARDS)
def test_repair_cards_carry_every_documented_step_in_order(
    issue: str, steps: tuple[str, ...]
) -> None:
    flow = STRINGS["issues"][issue]["fix_flow"]
    overview = flow["step"]["init"]["description"]
    assert steps_in(overview) == list(steps)
    assert sorted(steps) == sorted(documented_steps_that_apply(issue))
    assert "Sonos Support]({support_url})" in overview
    assert "Sonos Support]({support_url})" in flow["step"]["escalate"]["description"]
    for step in steps:  # a guided page per step, with its documented reason
        page = flow["step"][step]
        assert re.search(STEP_MARKERS[step], page["description"]), (issue, step)
        assert set(page["menu_options"]) == {"do_it", "check", "skip"}
    # Home Assistant can power-cycle a player in 1001 (a player in 1003 answers, and an
    # answering player is never power-cycled) and restart the router for any error.
    one_player = issue in set(PlayerCard)
    actions = ["power_cycle", "router_restart"] if one_player else ["router_restart"]
    assert set(flow["abort"]) == {"still_failing", "entry_not_loaded"}
    assert set(flow["create_entry"]) == {"fixed", *(f"fixed_{action}" for action in actions)}
    assert set(flow["progress"]) == {"check", *actions}
    for action in actions:
        assert set(flow["step"][f"{action}_not_helped"]["menu_options"]) == {"next", "check"}


def test_escalated_cards_say_so() -> None:
    for cause in CloudCause:
        card = STRINGS["issues"][f"error_1003_{cause}_escalated"]
        assert "24 hours" in card["title"]
        assert "more than 24 hours" in card["fix_flow"]["step"]["init"]["description"]


def test_every_state_the_code_can_report_is_translated() -> None:
    sensors = STRINGS["entity"]["sensor"]
    assert set(sensors["error_code"]["state"]) == {str(code) for code in ErrorCode}
    assert set(sensors["diagnosis"]["state"]) == set(HOUSEHOLD_FINDINGS)
    assert set(sensors["wifi_band"]["state"]) == set(WIFI_BANDS)
    assert set(sensors["role"]["state"]) == {str(role) for role in Role}
    icons = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))
    assert set(icons["entity"]["sensor"]) == set(sensors)
    assert set(icons["entity"]["binary_sensor"]) == set(STRINGS["entity"]["binary_sensor"])
    event = STRINGS["entity"]["event"]["error_events"]
    assert set(event["state_attributes"]["event_type"]["state"]) == set(
        ERROR_EVENTS.event_types or []
    )
    assert set(icons["entity"]["event"]) == set(STRINGS["entity"]["event"])
