"""A household too large for GetZoneGroupState: the topology from its events, never a false alarm.

Real players answer GetZoneGroupState with UPnP error 501 past about 16 kB of document
(SoCo/SoCo issue 935; 22-23 speakers in home-assistant/core issues 89128, 70194, 82513) and
still send the whole document in their ZoneGroupTopology events. The emulator does both.
"""

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch
from xml.sax.saxutils import escape

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.sonos_troubleshooter import topology_events
from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.sonos_health import error_rules
from custom_components.sonos_troubleshooter.sonos_health.household import Household
from custom_components.sonos_troubleshooter.sonos_health.player_client import (
    MAX_BODY,
    Role,
    parse_topology_event,
)
from custom_components.sonos_troubleshooter.topology_events import EventsState
from sonos_emulator import REASON_SLEEPING, Emulator, Fault, Player
from sonos_emulator.household import ZONE_GROUP_STATE_LIMIT
from sonos_emulator.model import zone_group_state
from tests.helpers import poll, state

PLAYERS = 26
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def large_household(emulator: Emulator) -> Emulator:
    """26 players: a home theatre, a stereo pair, a Roam and 19 rooms of one speaker each."""
    household = emulator.household
    household.add_home_theatre("Living Room")
    household.add_stereo_pair("Office")
    household.add_player(
        "Roam", model_name="Sonos Roam", model_number="S27", portable=True, channel_freq=5220
    )
    for number in range(1, PLAYERS - 6):
        household.add_player(f"Room {number}", model_name="Sonos One", model_number="S18")
    household.events_reach_subscribers = True
    assert len(household.players) == PLAYERS
    assert len(zone_group_state(household.players).encode()) > ZONE_GROUP_STATE_LIMIT
    return emulator


@pytest.fixture
async def events_reach_home_assistant(
    hass: HomeAssistant, aiohttp_client: ClientSessionGenerator
) -> int:
    """Home Assistant's own HTTP server on loopback, its internal URL, as a user's would be."""
    assert await async_setup_component(hass, DOMAIN, {})  # routes the players' events
    client = await aiohttp_client(hass.http.app)
    port = client.server.port
    await async_process_ha_core_config(hass, {"internal_url": f"http://127.0.0.1:{port}"})
    return port


@pytest.fixture
def large_entry(large_household: Emulator) -> MockConfigEntry:
    """The config entry as the config flow makes it, for the Living Room's soundbar."""
    household = large_household.household
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sonos household",
        unique_id=household.household_id,
        data={CONF_HOST: household.players[0].ip, "household_id": household.household_id},
        options={
            "scan_interval": 10,
            "cloud_targets": large_household.cloud.cloud_targets,
            "reference_targets": large_household.cloud.reference_targets,
            "status_url": large_household.cloud.status_page.url,
        },
    )


@pytest.fixture(autouse=True)
def probe_timeout_for_a_large_household() -> Iterator[None]:
    """A poll gets 1.5 s (3 s in production): 26 players are set up at once, with the events."""
    with patch("custom_components.sonos_troubleshooter.coordinator.PROBE_TIMEOUT", 1.5):
        yield


@pytest.fixture
def quick_event_wait() -> Iterator[None]:
    """Tests give a first event 0.4 s, as they give a probe 0.5 s."""
    with patch.object(topology_events, "FIRST_EVENT_WAIT", 0.4):
        yield


def event_with(players: list[Player]) -> bytes:
    """A topology event as players send it, listing these players."""
    return (
        '<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property>'
        f"<ZoneGroupState>{escape(zone_group_state(players))}</ZoneGroupState>"
        "</e:property></e:propertyset>"
    ).encode()


def error_code(hass: HomeAssistant, room: str) -> str:
    return state(hass, f"sensor.{room.lower().replace(' ', '_')}_error_code")


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant")
async def test_sets_up_with_every_player_from_the_topology_events(
    hass: HomeAssistant, large_household: Emulator, large_entry: MockConfigEntry
) -> None:
    """The answer is 501, the events carry the household: every player is watched, all ok."""
    await setup(hass, large_entry)

    coordinator = large_entry.runtime_data.coordinator
    assert len(coordinator.data.players) == PLAYERS
    assert coordinator.data.topology_source == "events"
    assert coordinator.data.topology_events is EventsState.LIVE
    assert coordinator.data.topology_error is None
    assert {player.state.code for player in coordinator.data.players.values()} == {"ok"}
    assert state(hass, "sensor.sonos_household_diagnosis") == "ok"


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant")
async def test_sleeping_roam_raises_nothing_and_a_player_switched_off_raises_1001(
    hass: HomeAssistant, large_household: Emulator, large_entry: MockConfigEntry
) -> None:
    """The events say who is asleep: no false alarm, and 1001 after the usual two polls."""
    await setup(hass, large_entry)
    household = large_household.household

    household.sleep("Roam")
    household.set_fault("Room 3", Fault.OFFLINE)
    await poll(hass, large_entry)
    assert error_code(hass, "Room 3") == "ok"  # one missed poll is no error yet
    await poll(hass, large_entry, 3)

    assert error_code(hass, "Roam") == "ok"
    assert error_code(hass, "Room 3") == "1001"
    snapshot = large_entry.runtime_data.coordinator.data
    assert snapshot.topology_source == "events"
    assert snapshot.players[household.player("Roam").uid].vanished_reason == REASON_SLEEPING


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant")
async def test_player_at_a_new_address_is_followed(
    hass: HomeAssistant, large_household: Emulator, large_entry: MockConfigEntry
) -> None:
    """The event after a move carries the new Location: followed, no error."""
    await setup(hass, large_entry)
    moved = large_household.household.move("Room 5")

    await poll(hass, large_entry, 3)

    assert state(hass, "sensor.room_5_ip_address") == moved.ip
    assert error_code(hass, "Room 5") == "ok"


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant")
async def test_subscription_is_renewed_and_cancelled_on_unload(
    hass: HomeAssistant, large_household: Emulator, large_entry: MockConfigEntry
) -> None:
    """UPnP's rules: renewed before it lapses, cancelled when the entry unloads."""
    await setup(hass, large_entry)
    subscribed = large_household.household.players[0]
    events = large_entry.runtime_data.coordinator.topology_events
    assert events.sid is not None

    renewals = [r for r in subscribed.requests if r.startswith("SUBSCRIBE")]
    await events._async_renew(events._subscription)  # what its timer does at half the grant
    assert [r for r in subscribed.requests if r.startswith("SUBSCRIBE")] == [
        *renewals,
        "SUBSCRIBE /ZoneGroupTopology/Event",
    ]
    assert events.state is EventsState.LIVE

    assert await hass.config_entries.async_unload(large_entry.entry_id)
    assert subscribed.requests[-1] == "UNSUBSCRIBE /ZoneGroupTopology/Event"
    assert events.sid is None


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant", "quick_event_wait")
async def test_no_event_arrives_sets_up_with_the_configured_player(
    hass: HomeAssistant, large_household: Emulator, large_entry: MockConfigEntry
) -> None:
    """Events blocked on the way back: set up all the same, the topology said unknown."""
    household = large_household.household
    household.events_reach_subscribers = False
    configured = household.players[0]

    await setup(hass, large_entry)

    coordinator = large_entry.runtime_data.coordinator
    assert list(coordinator.data.players) == [configured.uid]
    assert coordinator.data.topology_source == "unknown"
    assert coordinator.data.topology_events is EventsState.BLOCKED
    assert "501" in (coordinator.data.topology_error or "")
    assert configured.requests[-1] == "POST /MediaRenderer/RenderingControl/Control#GetVolume"
    assert "UNSUBSCRIBE /ZoneGroupTopology/Event" in configured.requests  # not left behind
    await poll(hass, large_entry, 2)  # no new subscription before ten minutes have passed
    subscribes = [r for r in configured.requests if r == "SUBSCRIBE /ZoneGroupTopology/Event"]
    assert len(subscribes) == 1
    assert error_code(hass, "Living Room") == "ok"
    diagnosis = hass.states.get("sensor.sonos_household_diagnosis")
    assert diagnosis is not None
    assert (diagnosis.state, diagnosis.attributes["topology"]) == ("ok", "unknown")


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant", "quick_event_wait")
async def test_topology_lost_keeps_sound_reasons_and_1001_for_players_that_cannot_be_away(
    hass: HomeAssistant, large_household: Emulator, large_entry: MockConfigEntry
) -> None:
    """Unknown never becomes 1001 for a player that may be away; it does for the rest."""
    household = large_household.household
    await setup(hass, large_entry)
    household.vanish("Room 2", "powered off")
    household.sleep("Roam")
    await poll(hass, large_entry)
    events = large_entry.runtime_data.coordinator.topology_events
    subscribed = next(p for p in household.players if p.ip == events._subscription.ip)

    # The way back closes, and the player whose events we read goes: no way works.
    household.events_reach_subscribers = False
    household.set_fault(subscribed.uid, Fault.OFFLINE)
    household.set_fault("Room 1", Fault.OFFLINE)
    await poll(hass, large_entry, 3)

    snapshot = large_entry.runtime_data.coordinator.data
    assert snapshot.topology_source == "unknown"
    assert snapshot.topology_events is EventsState.BLOCKED
    assert error_code(hass, "Roam") == "ok"  # asleep when last seen, a portable anyway
    assert error_code(hass, "Room 2") == "ok"  # switched off, as the household last said
    assert error_code(hass, "Room 1") == "1001"  # a player that cannot be away
    assert error_code(hass, subscribed.name) == "1001"


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant", "quick_event_wait")
async def test_portable_silent_with_no_topology_is_not_1001_but_a_reason_once_answered_is_gone(
    hass: HomeAssistant, large_household: Emulator, large_entry: MockConfigEntry
) -> None:
    """A Roam may sleep unseen; a player that answered since its reason has none left."""
    household = large_household.household
    await setup(hass, large_entry)
    household.vanish("Room 2", "powered off")
    await poll(hass, large_entry)
    household.heal("Room 2")  # back on: answers, and its old reason is no longer sound
    await poll(hass, large_entry)

    household.events_reach_subscribers = False
    events = large_entry.runtime_data.coordinator.topology_events
    await events.async_stop()  # the way back closed: the next subscription gets nothing
    household.set_fault("Roam", Fault.OFFLINE)  # asleep, but nobody can say so
    household.set_fault("Room 2", Fault.OFFLINE)
    await poll(hass, large_entry, 3)

    assert large_entry.runtime_data.coordinator.data.topology_source == "unknown"
    assert error_code(hass, "Roam") == "ok"
    assert error_code(hass, "Room 2") == "1001"


@pytest.mark.usefixtures("cloud_dns")
async def test_events_come_back_to_where_players_can_send_them(
    hass: HomeAssistant, events_reach_home_assistant: int, large_household: Emulator
) -> None:
    """An http:// internal URL given as an address; else HA's address toward the player."""
    entry = MockConfigEntry(domain=DOMAIN)
    events = topology_events.TopologyEvents(hass, entry)
    path = "/api/sonos_troubleshooter/topology/"

    assert await events._callback_url("127.0.0.2") == (
        f"http://127.0.0.1:{events_reach_home_assistant}{path}"
    )
    # The test harness answers every source address look-up with 10.10.10.10.
    for internal in ("http://homeassistant.local:8123", "https://192.0.2.1:8123"):
        await async_process_ha_core_config(hass, {"internal_url": internal})
        assert await events._callback_url("127.0.0.2") == f"http://10.10.10.10:8123{path}"

    assert hass.config.api is not None
    hass.config.api.use_ssl = True  # HTTPS only: players send events over plain HTTP
    assert await events._callback_url("127.0.0.2") is None
    found = await events.async_read("127.0.0.2", [], hass.loop.time() + 1)
    assert (found, events.state) == ("topology events: no_callback", EventsState.NO_CALLBACK)
    assert not [r for r in large_household.household.players[0].requests if "SUBSCRIBE" in r]


@pytest.mark.usefixtures("cloud_dns")
async def test_event_route_takes_only_our_subscriptions_events_and_bounded(
    hass: HomeAssistant,
    events_reach_home_assistant: int,
    large_household: Emulator,
    large_entry: MockConfigEntry,
) -> None:
    """412 for a token or SID not ours, 413 past the cap, junk read as nothing."""
    await setup(hass, large_entry)
    events = large_entry.runtime_data.coordinator.topology_events
    base = f"http://127.0.0.1:{events_reach_home_assistant}/api/sonos_troubleshooter/topology/"
    session = async_get_clientsession(hass)
    event = {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": events.sid or ""}
    known = events._topology

    async def notify(url: str, body: bytes, **headers: str) -> int:
        async with session.request("NOTIFY", url, data=body, headers=headers) as response:
            return response.status

    assert await notify(base + "guessed", b"<x/>", **event) == 412
    assert await notify(base + events._token, b"<x/>", **{**event, "SID": "uuid:other"}) == 412
    oversized = b"<e:propertyset/>" + b" " * MAX_BODY
    assert await notify(base + events._token, oversized, **event) == 413
    for junk in (b"not xml", b'<?xml version="1.0"?><!DOCTYPE x []><x/>', b"<other/>"):
        assert await notify(base + events._token, junk, **event) == 200
    other_variable = (
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property>'
        b"<ZoneGroupName>Kitchen</ZoneGroupName></e:property></e:propertyset>"
    )
    assert await notify(base + events._token, other_variable, **event) == 200
    assert events._topology is known  # nothing above changed the topology
    assert events.state is EventsState.LIVE

    # An event older than the last one taken (they come on connections of their own) is dropped.
    players = large_household.household.players
    newer = {**event, "SEQ": "7"}
    assert await notify(base + events._token, event_with(players[:1]), **newer) == 200
    latest = events._topology
    assert latest is not known
    assert len(latest.members) == 1
    older = {**event, "SEQ": "6"}
    assert await notify(base + events._token, event_with(players), **older) == 200
    assert events._topology is latest


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant", "quick_event_wait")
async def test_first_event_before_the_answer_to_subscribe_counts(
    hass: HomeAssistant, large_household: Emulator
) -> None:
    """A player may send its first event before its SUBSCRIBE answer (and SID) reaches us."""
    household = large_household.household
    household.events_reach_subscribers = False  # only the event sent by hand below
    first = household.players[0]
    events = topology_events.TopologyEvents(hass, MockConfigEntry(domain=DOMAIN))
    body = event_with(household.players)
    events.received(f"uuid:{first.uid}_sub0000000001", 0, body)  # the SID the player grants
    assert events.state is EventsState.OFF

    found = await events.async_read(first.ip, [], hass.loop.time() + 1)

    assert not isinstance(found, str)
    assert len(found.members) == len(household.players)
    assert events.state is EventsState.LIVE
    await events.async_stop()


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant", "quick_event_wait")
async def test_a_topology_unreadable_for_a_while_gets_a_card_that_closes_itself(
    hass: HomeAssistant,
    large_household: Emulator,
    large_entry: MockConfigEntry,
    events_reach_home_assistant: int,
) -> None:
    """A card to read, naming where events must arrive; gone once they do (10 min: 1 s here)."""
    household = large_household.household
    household.events_reach_subscribers = False
    issue_id = f"topology_unknown_{household.household_id}"
    with (
        patch.object(topology_events, "RETRY_AFTER", 0),
        patch.object(error_rules, "TOPOLOGY_CARD_AFTER", timedelta(seconds=1)),
    ):
        await setup(hass, large_entry)
        await poll(hass, large_entry)
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None  # not yet

        await asyncio.sleep(1)
        await poll(hass, large_entry)
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert (issue.severity, issue.is_fixable) == (ir.IssueSeverity.WARNING, False)
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["address"] == (
            f"127.0.0.1:{events_reach_home_assistant}"
        )

        household.events_reach_subscribers = True  # the user opened the way back
        await poll(hass, large_entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert len(large_entry.runtime_data.coordinator.data.players) == PLAYERS


def test_a_real_sized_large_household_is_past_the_limit_and_read_from_an_event() -> None:
    """23 speakers as home-assistant/core#82513 reports, members as a 94.1 capture writes them."""
    state = (FIXTURES / "s2_94_large_household.xml").read_text(encoding="utf-8").strip()
    assert len(state.encode()) > 16_403  # SoCo/SoCo#935: a document this size was refused

    topology = parse_topology_event(
        '<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property>'
        f"<ZoneGroupState>{escape(state)}</ZoneGroupState></e:property></e:propertyset>".encode()
    )

    assert topology is not None
    assert len(topology.members) == 22
    assert [(item.name, item.reason) for item in topology.vanished] == [("Roam", "sleeping")]
    household = Household()
    household.follow(topology)
    roles = Counter(player.role for player in household.players.values())
    assert roles == {
        Role.PLAYER: 17,  # 16 rooms and the Roam, asleep
        Role.HOME_THEATRE: 1,
        Role.SUB: 1,
        Role.REAR_LEFT: 1,
        Role.REAR_RIGHT: 1,
        Role.LEFT: 1,
        Role.RIGHT: 1,
    }
    assert household.is_away(topology.vanished[0].uid)


@pytest.mark.usefixtures("cloud_dns", "events_reach_home_assistant")
async def test_the_answer_again_once_the_household_shrinks_and_events_are_cancelled(
    hass: HomeAssistant, large_household: Emulator, large_entry: MockConfigEntry
) -> None:
    """The limit comes and goes with the document's size: events only while they are needed."""
    household = large_household.household
    await setup(hass, large_entry)
    subscribed = household.players[0]
    while len(zone_group_state(household.players).encode()) > ZONE_GROUP_STATE_LIMIT:
        household.remove_player(household.players[-1].uid)

    await poll(hass, large_entry)
    # The subscription is cancelled in a background task, which the poll does not wait for.
    await hass.async_block_till_done(wait_background_tasks=True)

    coordinator = large_entry.runtime_data.coordinator
    assert coordinator.data.topology_source == "answer"
    assert coordinator.topology_events.sid is None
    assert "UNSUBSCRIBE /ZoneGroupTopology/Event" in subscribed.requests
