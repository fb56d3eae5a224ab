"""Real players' documents (tests/fixtures, each with its source in its README) read whole.

Through the parser and the household model, player by player: who it is, its room and
address, its place in its room, whether it is on a cable, the Wi-Fi band it shows, and
whether it is a satellite on its main unit's link. Pure: no emulator, no Home Assistant.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
import re
import xml.etree.ElementTree as ET

import pytest

from custom_components.sonos_troubleshooter.sonos_health.error_catalog import PlayerCard, steps_for
from custom_components.sonos_troubleshooter.sonos_health.error_rules import (
    CloudObservation,
    ErrorCode,
)
from custom_components.sonos_troubleshooter.sonos_health.household import Household
from custom_components.sonos_troubleshooter.sonos_health.player_client import (
    Role,
    Uplink,
    parse_topology,
    shown_band,
    uplink_of,
)
from sonos_emulator.model import Player, make_uid, zone_group_state

FIXTURES = Path(__file__).parents[1] / "fixtures"
AT = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
CLOUD_OK = CloudObservation(
    names_resolved=True, cloud_connected=True, reference_connected=True, status_indicator="none"
)


def document(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def household_of(name: str) -> Household:
    """The household model after it followed the document, every player answering."""
    household = Household()
    household.follow(parse_topology(document(name)))
    household.observe(AT, dict.fromkeys(household.players), CLOUD_OK)
    return household


@dataclass(frozen=True)
class Row:
    """One player as the product must see it."""

    uid: str
    room: str
    ip: str
    role: Role
    main: str | None
    wired: bool
    band: str | None  # the Wi-Fi band shown (sensor, cards); None: none is shown
    satellite: bool  # a home theatre's satellite, on its main unit's link
    card: PlayerCard  # its 1001 card when it drops alone


AMP, LIVING = "RINCON_542A1B0A116001400", "RINCON_F0F6C10B22E001400"
BAR, REAR_R, REAR_L, KITCHEN = (
    "RINCON_542A1B3C0D1E01400",
    "RINCON_38420B5A6B9D01400",
    "RINCON_38420B5A6B7C01400",
    "RINCON_7828CA4E5F6001400",
)
HT, HT_RR, HT_SUB, BATH, LAUNDRY = (
    "RINCON_949F3E1A2B3C01400",
    "RINCON_949F3E4D5E6F01400",
    "RINCON_949F3E7A8B9C01400",
    "RINCON_949F3E3C4D5E01400",
    "RINCON_949F3E5F6A7B01400",
)

TABLE = {
    # A 94.1 Amp on Ethernet still reports a 2.4 GHz channel: it is wired, no band is shown,
    # and its card is the cable's.
    "s2_94_wired_amp.xml": [
        Row(AMP, "Bedroom Sonos Amp", "192.168.20.21", Role.PLAYER, None, True, None, False, PlayerCard.PLAYER_WIRED),
        Row(LIVING, "Living Room", "192.168.20.23", Role.PLAYER, None, False, "2.4", False, PlayerCard.PLAYER),
    ],
    # The rear on the soundbar's link (5660 MHz) shows no band; the gone rear is still the
    # soundbar's, at its last address; Kitchen, grouped with the soundbar, is its own room.
    "s2_94_soundbar_grouped.xml": [
        Row(BAR, "Living Room", "192.168.30.10", Role.HOME_THEATRE, None, False, "2.4", False, PlayerCard.PLAYER),
        Row(REAR_R, "Living Room", "192.168.30.12", Role.REAR_RIGHT, BAR, False, None, True, PlayerCard.SATELLITE),
        Row(KITCHEN, "Kitchen", "192.168.30.20", Role.PLAYER, None, False, "5", False, PlayerCard.PLAYER),
        Row(REAR_L, "Living Room", "192.168.30.11", Role.REAR_LEFT, BAR, False, None, True, PlayerCard.SATELLITE),
    ],
    # 66.4: no EthLink, and satellites on the soundbar's 5 GHz link report WirelessMode="0"
    # like everyone: their role tells; the others are taken to be on the air (a guess).
    "s2_66_home_theatre.xml": [
        Row(HT, "Living Room", "192.168.40.21", Role.HOME_THEATRE, None, False, "2.4", False, PlayerCard.PLAYER),
        Row(HT_RR, "Living Room", "192.168.40.22", Role.REAR_RIGHT, HT, False, None, True, PlayerCard.SATELLITE),
        Row(HT_SUB, "Living Room", "192.168.40.23", Role.SUB, HT, False, None, True, PlayerCard.SATELLITE),
        Row(BATH, "Bathroom", "192.168.40.6", Role.PLAYER, None, False, "2.4", False, PlayerCard.PLAYER),
        Row(LAUNDRY, "Laundry", "192.168.40.7", Role.PLAYER, None, False, "2.4", False, PlayerCard.PLAYER),
    ],
    # S1 57.9: no EthLink, no ConnectionType, no VanishedDevices; SonosNet mode
    # (WirelessMode="0") cannot tell the cable from the air: on the air (a guess).
    "s1_57_household.xml": [
        Row("RINCON_000E58F1A20101400", "Keuken", "192.168.5.12", Role.PLAYER, None, False, "2.4", False, PlayerCard.PLAYER),
        Row("RINCON_000E58F1A20201400", "TV", "192.168.5.13", Role.PLAYER, None, False, "2.4", False, PlayerCard.PLAYER),
        Row("RINCON_000E58F1A20301400", "Eetkamer", "192.168.5.14", Role.PLAYER, None, False, "2.4", False, PlayerCard.PLAYER),
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", TABLE)
def test_every_player_of_a_real_document(name: str) -> None:
    household = household_of(name)
    seen = []
    for uid, player in household.players.items():
        link = household.uplink(uid)
        seen.append(
            Row(
                uid=uid,
                room=player.name,
                ip=player.ip,
                role=player.role,
                main=player.main,
                wired=link is Uplink.ETHERNET,
                band=shown_band(link, player.channel_freq),
                satellite=link is Uplink.MAIN_UNIT,
                card=household.card_of(uid, {}) or PlayerCard.PLAYER,
            )
        )
    assert seen == TABLE[name]


@pytest.mark.parametrize("name", TABLE)
def test_satellites_are_never_asked_for_the_topology(name: str) -> None:
    """SoCo/SoCo#913: satellites can answer with an outdated topology; ask the main unit."""
    household = household_of(name)
    satellites = {row.ip for row in TABLE[name] if row.satellite}
    for configured in (row.ip for row in TABLE[name]):
        sources = household.topology_sources(configured)
        assert sources
        assert not satellites & set(sources), configured


def test_the_wired_amp_gets_the_cable_steps_and_no_radio_step() -> None:
    steps = steps_for(ErrorCode.E1001, card=PlayerCard.PLAYER_WIRED)
    assert steps[:3] == ("check_link_lights", "check_switch", "check_cable")
    assert {"power_cycle_speaker", "restart_router", "factory_reset"} <= set(steps)
    assert not {"move_closer", "enable_2_4_ghz"} & set(steps)


def test_what_the_attributes_alone_say() -> None:
    """The rule on the attributes, before a role overrules it (66.4 satellites)."""
    said = {
        name: {
            member.get("UUID"): uplink_of(member.attrib)
            for member in ET.fromstring(document(name)).iter()  # noqa: S314 - our fixtures
            if member.tag in ("ZoneGroupMember", "Satellite")
        }
        for name in TABLE
    }
    assert said["s2_94_wired_amp.xml"] == {AMP: Uplink.ETHERNET, LIVING: Uplink.WIFI}
    assert said["s2_94_soundbar_grouped.xml"] == {
        BAR: Uplink.WIFI,
        REAR_R: Uplink.MAIN_UNIT,
        KITCHEN: Uplink.WIFI,
    }
    # WirelessMode="0" and no EthLink: SonosNet mode, on the air by guess (the role then
    # makes the satellites what they are).
    assert set(said["s2_66_home_theatre.xml"].values()) == {Uplink.WIFI}
    assert set(said["s1_57_household.xml"].values()) == {Uplink.WIFI}


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        # EthLink wins whatever else is said: the wired Amp of #168015.
        ({"EthLink": "1", "WirelessMode": "0", "ConnectionType": "1", "WifiEnabled": "1"}, Uplink.ETHERNET),
        ({"EthLink": "1", "ConnectionType": "5"}, Uplink.ETHERNET),
        ({"EthLink": "0", "WirelessMode": "1", "ConnectionType": "5"}, Uplink.WIFI),
        ({"EthLink": "0", "WirelessMode": "2", "ConnectionType": "6"}, Uplink.MAIN_UNIT),
        # A contradiction: no cable (EthLink="0") beside a cable's ConnectionType.
        ({"EthLink": "0", "ConnectionType": "1"}, Uplink.WIFI),
        ({"ConnectionType": "1"}, Uplink.ETHERNET),
        ({"ConnectionType": "9", "WirelessMode": "2"}, Uplink.MAIN_UNIT),  # unknown type
        ({"WirelessMode": "2"}, Uplink.MAIN_UNIT),
        # No EthLink, radio off: only a cable can carry it.
        ({"WirelessMode": "0", "WifiEnabled": "0"}, Uplink.ETHERNET),
        ({"EthLink": "0", "WifiEnabled": "0"}, Uplink.WIFI),  # says no cable: believed
        ({"WirelessMode": "1", "WifiEnabled": "1"}, Uplink.WIFI),
        ({"WirelessMode": "0", "WifiEnabled": "1"}, Uplink.WIFI),  # SonosNet: a guess
        ({}, Uplink.WIFI),
    ],
)  # fmt: skip
def test_uplink_rule(attributes: dict[str, str], expected: Uplink) -> None:
    assert uplink_of(attributes) is expected


@pytest.mark.parametrize(
    ("uplink", "freq", "band"),
    [
        (Uplink.WIFI, 2437, "2.4"),
        (Uplink.WIFI, 5220, "5"),
        (Uplink.WIFI, None, None),
        (Uplink.ETHERNET, 2437, None),  # a wired player's channel is no band of its own
        (Uplink.MAIN_UNIT, 5660, None),  # a satellite's link is not the user's Wi-Fi
    ],
)
def test_band_shown_only_on_wi_fi(uplink: Uplink, freq: int | None, band: str | None) -> None:
    assert shown_band(uplink, freq) == band


def test_every_zone_group_state_fixture_is_read() -> None:
    """Whatever fixture of a topology lands here is read whole, not only the ones above."""
    found = [
        path
        for path in sorted(FIXTURES.glob("*.xml"))
        if ET.fromstring(path.read_bytes()).tag == "ZoneGroupState"  # noqa: S314 - ours
    ]
    assert {path.name for path in found} >= set(TABLE)
    for path in found:
        topology = parse_topology(path.read_text(encoding="utf-8"))
        assert topology.members, path.name
        Household().follow(topology)


def attribute_names(element_source: str) -> list[str]:
    return re.findall(r" (\w+)=\"", element_source)


def members_of(state: str) -> dict[str, str]:
    """Each member's or satellite's opening tag, by its UUID."""
    return {
        re.search(r'UUID="([^"]+)"', tag).group(1): tag  # type: ignore[union-attr]
        for tag in re.findall(r"<(?:ZoneGroupMember|Satellite) [^>]*>", state)
    }


def test_the_emulator_writes_the_attributes_real_players_write() -> None:
    """The same names in the same order as the real members, at their length (~650 bytes).

    `VirtualLineInSource` is only there while a stream such as Spotify Connect plays; the
    emulator plays nothing.
    """
    real = {**members_of(document("s2_94_wired_amp.xml"))}
    real |= members_of(document("s2_94_soundbar_grouped.xml"))
    amp = Player(
        uid=make_uid(1), name="Bedroom", ip="192.168.20.21", model_name="Sonos Amp", wired=True
    )
    kitchen = Player(uid=make_uid(2), name="Kitchen", ip="192.168.30.20", channel_freq=5220)
    bar = Player(
        uid=make_uid(3),
        name="Living Room",
        ip="192.168.30.10",
        model_name="Sonos Arc",
        role="home_theatre",
    )
    rear = Player(
        uid=make_uid(4), name="Living Room", ip="192.168.30.12", role="rear_right", main=bar.uid
    )
    emulated = members_of(zone_group_state([amp, kitchen, bar, rear]))
    for ours, theirs in ((amp, AMP), (kitchen, KITCHEN), (bar, BAR), (rear, REAR_R)):
        wanted = [name for name in attribute_names(real[theirs]) if name != "VirtualLineInSource"]
        assert attribute_names(emulated[ours.uid]) == wanted, ours.name
        assert abs(len(emulated[ours.uid]) - len(real[theirs])) < 80, ours.name
    assert 'WirelessMode="0" ConnectionType="1" ChannelFreq="2437"' in emulated[amp.uid]
    assert 'EthLink="1"' in emulated[amp.uid]
    assert 'WirelessMode="2" ConnectionType="6" ChannelFreq="5660"' in emulated[rear.uid]


def test_the_emulator_writes_an_s1_document_as_real_s1_players_do() -> None:
    real = members_of(document("s1_57_household.xml"))["RINCON_000E58F1A20101400"]
    keuken = Player(uid=make_uid(1), name="Keuken", ip="192.168.5.12", swgen=1, wired=True)
    state = zone_group_state([keuken])
    assert attribute_names(members_of(state)[keuken.uid]) == attribute_names(real)
    assert "VanishedDevices" not in state
    assert "EthLink" not in state
    assert 'WirelessMode="0" WirelessLeafOnly="0" HasConfiguredSSID="0"' in state
