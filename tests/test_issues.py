"""Repair cards: raised when the diagnosis says so, with their facts, and removed when it clears.

The guided fixes behind the cards are in test_repairs.py.
"""

from collections.abc import Callable
from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.sonos_health.error_catalog import UNSTABLE_CARDS
from sonos_emulator import CloudSimulation, DnsFailure, Emulator, Fault
from tests.helpers import cloud_card, poll, shown_cards, state


async def test_player_off_raises_1001_after_two_polls_and_clears(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.OFFLINE)

    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "off"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{kitchen.uid}")

    await poll(hass, setup_entry)
    sensor = hass.states.get("sensor.kitchen_error_code")
    assert sensor is not None
    assert sensor.state == "1001"
    assert sensor.attributes["severity"] == "moderate"
    assert sensor.attributes["since"]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{kitchen.uid}")
    assert issue is not None
    assert issue.translation_key == "error_1001_wired"  # Kitchen is on a cable
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["serial"] == kitchen.serial
    assert issue.translation_placeholders["address"] == kitchen.ip
    assert state(hass, "sensor.sonos_household_diagnosis") == "player_unreachable"

    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{kitchen.uid}")


async def test_all_players_down_is_one_card(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    for player in household.household.players:
        household.household.set_fault(player.uid, Fault.OFFLINE)
    await poll(hass, setup_entry, 2)

    sensor = hass.states.get("sensor.kitchen_error_code")
    assert sensor is not None
    assert (sensor.state, sensor.attributes["cause"]) == ("1001", "all_players_unreachable")
    issues = ir.async_get(hass).issues
    assert [issue.translation_key for issue in issues.values()] == ["error_1001_all_players"]
    (issue,) = issues.values()
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["count"] == "3"
    assert state(hass, "sensor.sonos_household_diagnosis") == "all_players_unreachable"

    household.household.heal_all()
    await poll(hass, setup_entry)
    assert not ir.async_get(hass).issues
    assert state(hass, "sensor.kitchen_error_code") == "ok"


@pytest.mark.parametrize(
    ("break_cloud", "cause"),
    [
        (lambda cloud: cloud.status_page.set_status("major"), None),
        (lambda cloud: cloud.set_internet(False), "internet_down"),
        (lambda cloud: cloud.set_dns(DnsFailure.SERVFAIL), "dns_failure"),
        (lambda cloud: cloud.set_cloud_reachable(False), "ports_blocked"),
    ],
)
async def test_cloud_unreachable_raises_1003_with_its_cause(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    break_cloud: Callable[[CloudSimulation], object],
    cause: str | None,
) -> None:
    break_cloud(household.cloud)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry)
    assert state(hass, "sensor.living_room_error_code") == "ok"  # once is not enough
    await poll(hass, setup_entry)

    issue_id = f"error_1003_{household.household.household_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    if cause is None:  # an incident elsewhere while the cloud answers is no error
        assert issue is None
        assert state(hass, "sensor.living_room_error_code") == "ok"
        return
    sensor = hass.states.get("sensor.living_room_error_code")
    assert sensor is not None
    assert (sensor.state, sensor.attributes["cause"], sensor.attributes["severity"]) == (
        "1003",
        cause,
        "minor",
    )
    assert state(hass, "sensor.kitchen_error_code") == "1001"  # off the network stays 1001
    assert state(hass, "binary_sensor.sonos_household_sonos_cloud_connectivity") == "off"
    assert state(hass, "sensor.sonos_household_diagnosis") == "player_unreachable"
    assert issue is not None
    assert issue.translation_key == f"error_1003_{cause}"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["players"] == "Living Room, Roam"

    household.cloud.heal()
    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.living_room_error_code") == "ok"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_1003_escalates_after_24_hours(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    household.cloud.set_dns(DnsFailure.SERVFAIL)
    issue = await cloud_card(hass, setup_entry, household)
    issue_id = issue.issue_id
    assert issue.translation_key == "error_1003_dns_failure"
    assert issue.severity is ir.IssueSeverity.WARNING

    # Home Assistant's wall clock jumps ahead; freezing time would also stop the emulator.
    real_utcnow = dt_util.utcnow
    for hours, key, severity in (
        (23, "error_1003_dns_failure", ir.IssueSeverity.WARNING),
        (25, "error_1003_dns_failure_escalated", ir.IssueSeverity.ERROR),
    ):
        with patch.object(
            dt_util, "utcnow", lambda hours=hours: real_utcnow() + timedelta(hours=hours)
        ):
            await poll(hass, setup_entry)
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert (issue.translation_key, issue.severity) == (key, severity)


async def test_a_sonos_outage_is_no_card_until_the_user_can_act(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """Sonos' own incident is 1003 everywhere but no card; past 24 hours, contact support."""
    household.cloud.set_cloud_reachable(False)
    household.cloud.status_page.set_status("major", "Partial outage of Sonos services")
    await poll(hass, setup_entry, 2)
    sensor = hass.states.get("sensor.living_room_error_code")
    assert sensor is not None
    assert (sensor.state, sensor.attributes["cause"]) == ("1003", "sonos_outage")
    assert state(hass, "sensor.sonos_household_diagnosis") == "sonos_outage"
    issue_id = f"error_1003_{household.household.household_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    real_utcnow = dt_util.utcnow
    with patch.object(dt_util, "utcnow", lambda: real_utcnow() + timedelta(hours=25)):
        await poll(hass, setup_entry)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert (issue.translation_key, issue.severity) == (
        "error_1003_sonos_outage_escalated",
        ir.IssueSeverity.ERROR,
    )
    assert issue.is_fixable


async def test_upnp_off_has_its_own_card_that_closes_itself(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.HTTP_403)
    await poll(hass, setup_entry)  # the player's own answer: no second poll needed
    sensor = hass.states.get("sensor.kitchen_error_code")
    assert sensor is not None
    assert sensor.state == "upnp_disabled"
    assert sensor.attributes["first_step"] == "enable_upnp"
    assert (sensor.attributes["cause"], sensor.attributes["severity"]) == (None, None)
    assert state(hass, "binary_sensor.kitchen_network_connectivity") == "on"  # it answered
    event = hass.states.get("event.kitchen_error_events")
    assert event is not None
    assert event.attributes["event_type"] == "upnp_disabled"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"upnp_disabled_{kitchen.uid}")
    assert issue is not None
    assert issue.translation_key == "upnp_disabled"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert (issue.translation_placeholders or {})["address"] == kitchen.ip
    assert state(hass, "sensor.living_room_error_code") == "ok"
    # The others answer properly, so the household's switch is on: Kitchen's own card only.
    assert list(shown_cards(hass)) == [f"upnp_disabled_{kitchen.uid}"]
    diagnosis = hass.states.get("sensor.sonos_household_diagnosis")
    assert diagnosis is not None
    assert diagnosis.state == "ok"
    assert diagnosis.attributes["refusing_players"] == ["Kitchen"]

    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    assert not ir.async_get(hass).issues
    event = hass.states.get("event.kitchen_error_events")
    assert event is not None
    assert (event.attributes["event_type"], event.attributes["code"]) == (
        "cleared",
        "upnp_disabled",
    )


async def test_upnp_off_for_the_household_is_one_card_that_closes_itself(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """UPnP is one switch in the Sonos app: every player refusing is one card, not three."""
    household_id = household.household.household_id
    issue_id = f"upnp_disabled_all_{household_id}"
    household.household.set_upnp(False)  # as the Sonos app does, for every player at once
    await poll(hass, setup_entry)  # the players' own answer: no second poll needed

    assert list(shown_cards(hass)) == [issue_id]  # no card per player
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "upnp_disabled_household"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.is_fixable
    facts = issue.translation_placeholders or {}
    assert (facts["count"], facts["players"]) == ("3", "Kitchen, Living Room, Roam")
    assert facts["since"] != "-"
    for player in ("kitchen", "living_room", "roam"):
        sensor = hass.states.get(f"sensor.{player}_error_code")
        assert sensor is not None
        assert (sensor.state, sensor.attributes["first_step"]) == ("upnp_disabled", "enable_upnp")
        assert state(hass, f"binary_sensor.{player}_network_connectivity") == "on"  # answered
    diagnosis = hass.states.get("sensor.sonos_household_diagnosis")
    assert diagnosis is not None
    assert diagnosis.state == "upnp_disabled"
    assert diagnosis.attributes["refusing_players"] == ["Kitchen", "Living Room", "Roam"]
    assert diagnosis.attributes["unreachable_players"] == []
    texts = await async_get_translations(hass, "en", "entity", [DOMAIN])
    assert texts[f"component.{DOMAIN}.entity.sensor.diagnosis.state.upnp_disabled"] == (
        "UPnP is switched off (Sonos app)"
    )

    await poll(hass, setup_entry)
    assert shown_cards(hass) == {issue_id: facts}  # still one, with its first start

    household.household.set_upnp(True)  # switched on in the app: closes by itself
    await poll(hass, setup_entry)
    assert not shown_cards(hass)
    assert state(hass, "sensor.sonos_household_diagnosis") == "ok"
    assert state(hass, "sensor.kitchen_error_code") == "ok"


async def test_upnp_off_for_the_household_beside_a_silent_player(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """A silent player says nothing of the switch: the household's card, and its own 1001."""
    kitchen = household.household.player("Kitchen")
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    household.household.set_upnp(False)
    await poll(hass, setup_entry, 2)

    household_card = f"upnp_disabled_all_{household.household.household_id}"
    assert sorted(shown_cards(hass)) == sorted([household_card, f"error_1001_{kitchen.uid}"])
    assert (shown_cards(hass)[household_card] or {})["players"] == "Living Room, Roam"
    assert state(hass, "sensor.kitchen_error_code") == "1001"
    assert state(hass, "sensor.sonos_household_diagnosis") == "upnp_disabled"

    # UPnP back on while Kitchen stays off: its 1001 card alone.
    household.household.set_upnp(True)
    await poll(hass, setup_entry)
    assert list(shown_cards(hass)) == [f"error_1001_{kitchen.uid}"]
    assert state(hass, "sensor.sonos_household_diagnosis") == "player_unreachable"


async def test_early_warning_opens_after_three_dropouts_in_an_hour_and_closes_when_quiet(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Silences the watcher saw between polls, as the link rules count them (test_link_rules)."""
    coordinator = setup_entry.runtime_data.coordinator
    kitchen = coordinator.household.players[household.household.player("Kitchen").uid]
    issue_id = f"unstable_{kitchen.uid}"

    async def dropout() -> None:
        for answered in (False, False, True):  # two checks missed: a dropout, then back
            coordinator.household.checked(kitchen, dt_util.utcnow(), answered=answered)
            freezer.tick(timedelta(seconds=2))
        await poll(hass, setup_entry)
        freezer.tick(timedelta(minutes=10))

    await dropout()
    await dropout()
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)  # two are not a pattern
    last = dt_util.utcnow()
    await dropout()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "unstable_connection_wired"  # Kitchen is on a cable
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable  # a card to read: it closes itself
    assert issue.translation_placeholders is not None
    facts = issue.translation_placeholders
    assert facts["dropouts"] == "3"
    assert facts["missed"] == "6"
    assert facts["name"] == "Kitchen"
    assert facts["last_dropout"] == dt_util.as_local(last).strftime("%Y-%m-%d %H:%M")
    assert facts["response_time"].endswith(" ms")
    assert state(hass, "sensor.kitchen_error_code") == "ok"  # a warning, never an error
    assert state(hass, "sensor.kitchen_dropouts") == "3"
    for language in ("en", "de", "es", "fr", "it", "nl"):  # every placeholder is filled
        texts = await async_get_translations(hass, language, "issues", [DOMAIN])
        for card in UNSTABLE_CARDS.values():
            prefix = f"component.{DOMAIN}.issues.{card}"
            assert "Kitchen" in texts[f"{prefix}.title"].format(**facts)
            assert "**3" in texts[f"{prefix}.description"].format(**facts)

    # In 1001 the error's card replaces the warning; back, the warning shows again.
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry)
    freezer.tick(timedelta(seconds=10))
    await poll(hass, setup_entry)  # a dropout too: the silence lasted 10 s
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{kitchen.uid}")
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    household.household.heal("Kitchen")
    await poll(hass, setup_entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)

    # An hour without a dropout closes it.
    freezer.tick(timedelta(minutes=59))
    await poll(hass, setup_entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    freezer.tick(timedelta(minutes=1))
    await poll(hass, setup_entry)
    assert not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
