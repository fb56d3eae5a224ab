"""Real-shaped households through the parser, the naming and the diagnosis.

Every document below is written for these tests after a public capture of a real system
(each says which); the players' ids and addresses are made up. Pure: no emulator, no Home
Assistant.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.sonos_troubleshooter.sonos_health.error_catalog import (
    ERROR_1001,
    PlayerCard,
    error_summary,
    steps_for,
)
from custom_components.sonos_troubleshooter.sonos_health.error_rules import (
    CloudObservation,
    ErrorCode,
)
from custom_components.sonos_troubleshooter.sonos_health.household import (
    DeviceName,
    Household,
    device_names,
)
from custom_components.sonos_troubleshooter.sonos_health.player_client import (
    ProbeFailure,
    Role,
    Topology,
    parse_topology,
)

AT = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
CLOUD_OK = CloudObservation(
    names_resolved=True, cloud_connected=True, reference_connected=True, status_indicator="none"
)


def location(ip: str) -> str:
    return f"http://{ip}:1400/xml/device_description.xml"


def member(tag: str, uid: str, ip: str, room: str, extra: str = "", children: str = "") -> str:
    """One ZoneGroupMember or Satellite with the attributes S2 firmware writes (trimmed)."""
    opening = (
        f'<{tag} UUID="{uid}" Location="{location(ip)}" ZoneName="{room}" Icon=""'
        f' Configuration="1" SoftwareVersion="94.1-76070" SWGen="2" BootSeq="38"'
        f' WirelessMode="1" ChannelFreq="2417" WifiEnabled="1" EthLink="0" {extra}'
    )
    return f"{opening}>{children}</{tag}>" if children else f"{opening}/>"


def state(groups: str, vanished: str = "") -> str:
    return (
        f"<ZoneGroupState><ZoneGroups>{groups}</ZoneGroups>"
        f"<VanishedDevices>{vanished}</VanishedDevices></ZoneGroupState>"
    )


def group(coordinator: str, *members: str) -> str:
    return f'<ZoneGroup Coordinator="{coordinator}" ID="{coordinator}:7">{"".join(members)}</ZoneGroup>'


HT_MAP = "RINCON_ARC:LF,RF;RINCON_SUB:SW;RINCON_LR:LR;RINCON_RR:RR"

# An Arc with a Sub and two rears, as in openhab/openhab-addons issue 9874 and
# home-assistant/core issue 57884: the satellites nested in the main unit's member.
HOME_THEATRE = state(
    group(
        "RINCON_ARC",
        member(
            "ZoneGroupMember",
            "RINCON_ARC",
            "10.0.0.10",
            "Living Room",
            f'HTSatChanMapSet="{HT_MAP}"',
            member(
                "Satellite",
                "RINCON_SUB",
                "10.0.0.11",
                "Living Room",
                f'Invisible="1" HTSatChanMapSet="{HT_MAP}"',
            )
            + member(
                "Satellite",
                "RINCON_LR",
                "10.0.0.12",
                "Living Room",
                'Invisible="1" HTSatChanMapSet="RINCON_ARC:LF,RF;RINCON_LR:LR"',
            )
            + member(
                "Satellite",
                "RINCON_RR",
                "10.0.0.13",
                "Living Room",
                'Invisible="1" HTSatChanMapSet="RINCON_ARC:LF,RF;RINCON_RR:RR"',
            ),
        ),
    )
)

# A soundbar whose rear left dropped off, grouped with Kitchen (the soundbar coordinates), as
# in a verbatim capture in the Rust client Oszkar/oto (a code-search hit, file not named): the rear is still
# in the main unit's map and listed in VanishedDevices with Reason UNKNOWN and newer
# attributes (ModelInfo, LastKnownIP, LastSeenUTC); the other rear's map lists only itself.
REAR_GONE_AND_GROUPED = state(
    group(
        "RINCON_ARC",
        member(
            "ZoneGroupMember",
            "RINCON_ARC",
            "10.0.0.10",
            "Living Room",
            'HTSatChanMapSet="RINCON_ARC:LF,RF;RINCON_LR:LR;RINCON_RR:RR"',
            member(
                "Satellite",
                "RINCON_RR",
                "10.0.0.13",
                "Living Room",
                'Invisible="1" HTSatChanMapSet="RINCON_ARC:LF,RF;RINCON_RR:RR"',
            ),
        ),
        member("ZoneGroupMember", "RINCON_KITCHEN", "10.0.0.20", "Kitchen"),
    ),
    '<Device UUID="RINCON_LR" ZoneName="Living Room" Reason="UNKNOWN" ModelInfo="S33"'
    ' Mac="38:42:0B:92:75:54" LastKnownIP="10.0.0.12" LastSeenUTC="2026-11-22T19:38:05Z"'
    ' MoreInfo="" HTSatChanMapSet="RINCON_ARC:LF,RF;RINCON_LR:LR" SWGen="2"/>',
)

# Two Play:1 as a stereo pair with a Sub, as in SoCo/SoCo pull request 870: three members of
# one room sharing a ChannelMapSet, all but the left one Invisible.
PAIR_MAP = "RINCON_L:LF,LF;RINCON_R:RF,RF;RINCON_PSUB:SW,SW"
STEREO_PAIR_WITH_SUB = state(
    group(
        "RINCON_L",
        member(
            "ZoneGroupMember", "RINCON_L", "10.0.0.30", "Bedroom", f'ChannelMapSet="{PAIR_MAP}"'
        ),
        member(
            "ZoneGroupMember",
            "RINCON_R",
            "10.0.0.31",
            "Bedroom",
            f'Invisible="1" ChannelMapSet="{PAIR_MAP}"',
        ),
        member(
            "ZoneGroupMember",
            "RINCON_PSUB",
            "10.0.0.32",
            "Bedroom",
            f'Invisible="1" ChannelMapSet="{PAIR_MAP}"',
        ),
    )
)

# An Amp driving a pair of ceiling speakers with two Era 300 as rears (height channels added,
# `LR,LTR`), the home theatre shape of the captures with an Amp as its main unit.
AMP_WITH_REARS = state(
    group(
        "RINCON_AMP",
        member(
            "ZoneGroupMember",
            "RINCON_AMP",
            "10.0.0.40",
            "Den",
            'HTSatChanMapSet="RINCON_AMP:LF,RF;RINCON_E1:LR,LTR;RINCON_E2:RR,RTR"',
            member("Satellite", "RINCON_E1", "10.0.0.41", "Den", 'Invisible="1"')
            + member("Satellite", "RINCON_E2", "10.0.0.42", "Den", 'Invisible="1"'),
        ),
    )
)

# A BOOST in a group of its own, Invisible like a satellite but IsZoneBridge (ebaauw/
# homebridge-zp issue 88: "BOOST", BR200), beside a Sub bonded to a single Era 100.
BOOST_AND_SUB_ON_A_SPEAKER = state(
    group(
        "RINCON_BOOST",
        member(
            "ZoneGroupMember",
            "RINCON_BOOST",
            "10.0.0.50",
            "BOOST",
            'Invisible="1" IsZoneBridge="1"',
        ),
    )
    + group(
        "RINCON_ERA",
        member(
            "ZoneGroupMember",
            "RINCON_ERA",
            "10.0.0.51",
            "Study",
            'ChannelMapSet="RINCON_ERA:LF,RF;RINCON_SSUB:SW,SW"',
        ),
        member(
            "ZoneGroupMember",
            "RINCON_SSUB",
            "10.0.0.52",
            "Study",
            'Invisible="1" ChannelMapSet="RINCON_ERA:LF,RF;RINCON_SSUB:SW,SW"',
        ),
    )
)

# S1 firmware: <ZoneGroups> at the root, a Bridge (SoCo/SoCo soco/core.py, the example of
# `_parse_zone_group_state`; philippe44/AirConnect issue 14 for the S1 layout) and an escaped
# room name.
S1_WITH_BRIDGE = (
    "<ZoneGroups>"
    + group(
        "RINCON_BRIDGE",
        member(
            "ZoneGroupMember",
            "RINCON_BRIDGE",
            "10.0.0.60",
            "BRIDGE",
            'Invisible="1" IsZoneBridge="1"',
        ),
    )
    + group(
        "RINCON_OFFICE", member("ZoneGroupMember", "RINCON_OFFICE", "10.0.0.61", "Office &amp; Den")
    )
    + "</ZoneGroups>"
)

type Row = tuple[str, str, Role, str | None]  # uid, room, role, main unit


@pytest.mark.parametrize(
    ("document", "present", "gone"),
    [
        pytest.param(
            HOME_THEATRE,
            [
                ("RINCON_ARC", "Living Room", Role.HOME_THEATRE, None),
                ("RINCON_SUB", "Living Room", Role.SUB, "RINCON_ARC"),
                ("RINCON_LR", "Living Room", Role.REAR_LEFT, "RINCON_ARC"),
                ("RINCON_RR", "Living Room", Role.REAR_RIGHT, "RINCON_ARC"),
            ],
            [],
            id="home theatre",
        ),
        pytest.param(
            REAR_GONE_AND_GROUPED,
            [
                ("RINCON_ARC", "Living Room", Role.HOME_THEATRE, None),
                ("RINCON_RR", "Living Room", Role.REAR_RIGHT, "RINCON_ARC"),
                ("RINCON_KITCHEN", "Kitchen", Role.PLAYER, None),
            ],
            [("RINCON_LR", "Living Room", Role.REAR_LEFT, "RINCON_ARC")],
            id="a rear gone (UNKNOWN), grouped with Kitchen",
        ),
        pytest.param(
            STEREO_PAIR_WITH_SUB,
            [
                ("RINCON_L", "Bedroom", Role.LEFT, None),
                ("RINCON_R", "Bedroom", Role.RIGHT, "RINCON_L"),
                ("RINCON_PSUB", "Bedroom", Role.SUB, "RINCON_L"),
            ],
            [],
            id="stereo pair with a Sub",
        ),
        pytest.param(
            AMP_WITH_REARS,
            [
                ("RINCON_AMP", "Den", Role.HOME_THEATRE, None),
                ("RINCON_E1", "Den", Role.REAR_LEFT, "RINCON_AMP"),
                ("RINCON_E2", "Den", Role.REAR_RIGHT, "RINCON_AMP"),
            ],
            [],
            id="Amp with Era 300 rears",
        ),
        pytest.param(
            BOOST_AND_SUB_ON_A_SPEAKER,
            [
                ("RINCON_BOOST", "BOOST", Role.NETWORK_DEVICE, None),
                # A speaker with a Sub plays both channels: named by its room.
                ("RINCON_ERA", "Study", Role.PLAYER, None),
                ("RINCON_SSUB", "Study", Role.SUB, "RINCON_ERA"),
            ],
            [],
            id="BOOST, and a Sub bonded to a speaker",
        ),
        pytest.param(
            S1_WITH_BRIDGE,
            [
                ("RINCON_BRIDGE", "BRIDGE", Role.NETWORK_DEVICE, None),
                ("RINCON_OFFICE", "Office & Den", Role.PLAYER, None),
            ],
            [],
            id="S1 document, Bridge, escaped name",
        ),
    ],
)
def test_parse_real_shapes(document: str, present: list[Row], gone: list[Row]) -> None:
    topology = parse_topology(document)
    assert [(m.uid, m.name, m.bond.role, m.bond.main) for m in topology.members] == present
    assert [(v.uid, v.name, v.bond.role, v.bond.main) for v in topology.vanished] == gone


def test_vanished_newer_attributes_and_unknown_reason() -> None:
    (rear,) = parse_topology(REAR_GONE_AND_GROUPED).vanished
    assert (rear.reason, rear.last_known_ip) == ("UNKNOWN", "10.0.0.12")


def test_a_channel_map_of_one_or_garbage_bonds_nothing() -> None:
    document = state(
        group(
            "RINCON_A",
            member(
                "ZoneGroupMember", "RINCON_A", "10.0.0.1", "A", 'HTSatChanMapSet="RINCON_A:LF,RF"'
            ),
            member(
                "ZoneGroupMember", "RINCON_B", "10.0.0.2", "B", 'ChannelMapSet=";:;RINCON_B;x:"'
            ),
            member(
                "ZoneGroupMember",
                "RINCON_C",
                "10.0.0.3",
                "C",
                'ChannelMapSet="RINCON_C:LF,LF;RINCON_D:XX"',
            ),
        )
    )
    assert [m.bond.role for m in parse_topology(document).members] == [
        Role.PLAYER,
        Role.PLAYER,
        Role.LEFT,
    ]


# --- names --------------------------------------------------------------------------------


def household(*documents: str) -> Household:
    model = Household()
    for document in documents:
        model.follow(parse_topology(document))
    return model


def names(model: Household) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        uid: (name.translation_key, name.placeholders) for uid, name in model.device_names().items()
    }


def test_names_users_recognise() -> None:
    model = household(HOME_THEATRE)
    model.follow(parse_topology(STEREO_PAIR_WITH_SUB))
    model.follow(parse_topology(BOOST_AND_SUB_ON_A_SPEAKER))
    assert names(model) == {
        "RINCON_ARC": ("player", {"room": "Living Room"}),
        "RINCON_SUB": ("sub", {"room": "Living Room"}),
        "RINCON_LR": ("rear_left", {"room": "Living Room"}),
        "RINCON_RR": ("rear_right", {"room": "Living Room"}),
        "RINCON_L": ("left", {"room": "Bedroom"}),
        "RINCON_R": ("right", {"room": "Bedroom"}),
        "RINCON_PSUB": ("sub", {"room": "Bedroom"}),
        "RINCON_BOOST": ("player", {"room": "BOOST"}),
        "RINCON_ERA": ("player", {"room": "Study"}),
        "RINCON_SSUB": ("sub", {"room": "Study"}),
    }
    rendered = {(key, tuple(values.items())) for key, values in names(model).values()}
    assert len(rendered) == len(model.players)  # no two devices share a name


def test_two_subs_and_two_rooms_of_one_name_are_numbered_in_joining_order() -> None:
    dual = HOME_THEATRE.replace("RINCON_RR:RR", "RINCON_RR:SW")
    model = household(dual)
    model.follow(parse_topology(S1_WITH_BRIDGE.replace("Office &amp; Den", "living room")))
    assert names(model)["RINCON_SUB"] == ("sub", {"room": "Living Room"})
    assert names(model)["RINCON_RR"] == ("sub_numbered", {"room": "Living Room", "number": "2"})
    assert names(model)["RINCON_OFFICE"] == (
        "player_numbered",
        {"room": "living room", "number": "2"},
    )
    assert device_names([]) == {}


def test_names_that_read_alike_are_numbered_whatever_makes_them_alike() -> None:
    """A room called "Living Room Sub" beside the Living Room's Sub reads the same in English."""
    words = {"player": "", "sub": " Sub", "rear_left": " rear left", "rear_right": " rear right"}

    def in_english(name: DeviceName) -> str:
        number = f" {name.number}" if name.number > 1 else ""
        return f"{name.room}{words[name.key]}{number}"

    room = member("ZoneGroupMember", "RINCON_ROOM", "10.0.0.40", "Living Room Sub")
    model = household(HOME_THEATRE, state(group("RINCON_ROOM", room)))
    worded = {uid: in_english(name) for uid, name in model.device_names(in_english).items()}
    assert worded["RINCON_SUB"] == "Living Room Sub"
    assert worded["RINCON_ROOM"] == "Living Room Sub 2"
    assert len(set(worded.values())) == len(worded)
    # Told apart by role and room alone, as without Home Assistant's texts, they differ.
    assert names(model)["RINCON_ROOM"] == ("player", {"room": "Living Room Sub"})


# --- transitions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    code: ErrorCode
    card: PlayerCard | None = PlayerCard.PLAYER


def poll(model: Household, n: int, silent: set[str], document: str | None = None) -> None:
    topology: Topology | None = parse_topology(document) if document else model.topology
    model.follow(topology)
    failures = {uid: ProbeFailure.NO_ANSWER if uid in silent else None for uid in model.players}
    model.observe(AT + timedelta(minutes=n), failures, CLOUD_OK)


def verdicts(model: Household) -> dict[str, Expect]:
    fallen = model.fallen_with_main()
    result = {}
    for uid in model.players:
        state = model.diagnosis.players[uid]
        result[uid] = Expect(
            state.code, model.card_of(uid, fallen) if state.code is ErrorCode.E1001 else None
        )
    return result


OK = Expect(ErrorCode.OK, None)


def test_a_sub_drops_alone_and_gets_its_own_card() -> None:
    model = household(HOME_THEATRE)
    for n in range(2):
        poll(model, n, {"RINCON_SUB"})
    assert verdicts(model) == {
        "RINCON_ARC": OK,
        "RINCON_SUB": Expect(ErrorCode.E1001, PlayerCard.SATELLITE),
        "RINCON_LR": OK,
        "RINCON_RR": OK,
    }
    assert model.fallen_with_main() == {}
    # A satellite's steps: power cycle and the soundbar's range first, every documented one
    # kept but the 2.4 GHz band: its link to the soundbar is its own, not the router's.
    steps = steps_for(ErrorCode.E1001, card=PlayerCard.SATELLITE)
    assert steps[:2] == ("power_cycle_speaker", "move_closer")
    assert sorted(steps) == sorted(set(ERROR_1001.steps) - {"enable_2_4_ghz"})


def test_the_soundbar_drops_with_its_satellites_one_card_for_the_set() -> None:
    kitchen = state(group("RINCON_K", member("ZoneGroupMember", "RINCON_K", "10.0.0.9", "Kitchen")))
    model = household(kitchen, HOME_THEATRE)
    theatre = set(model.players) - {"RINCON_K"}
    for n in range(2):
        poll(model, n, theatre)
    fallen = model.fallen_with_main()
    assert fallen == dict.fromkeys(("RINCON_SUB", "RINCON_LR", "RINCON_RR"), "RINCON_ARC")
    assert verdicts(model) == {
        "RINCON_ARC": Expect(ErrorCode.E1001, PlayerCard.HOME_THEATRE),
        "RINCON_SUB": Expect(ErrorCode.E1001, None),
        "RINCON_LR": Expect(ErrorCode.E1001, None),
        "RINCON_RR": Expect(ErrorCode.E1001, None),
        "RINCON_K": OK,
    }
    assert not model.diagnosis.all_players_down  # Kitchen answers
    summary = error_summary(
        model.diagnosis.players["RINCON_SUB"], model.diagnosis, main_unit_down=True
    )
    assert summary["cause"] == "main_unit_unreachable"
    # The soundbar answers again, its Sub does not: the set's card goes, the Sub's comes.
    poll(model, 4, {"RINCON_SUB"})
    assert verdicts(model)["RINCON_ARC"] == OK
    assert verdicts(model)["RINCON_SUB"] == Expect(ErrorCode.E1001, PlayerCard.SATELLITE)


def test_every_player_down_with_sets_is_still_one_card_for_all() -> None:
    model = household(HOME_THEATRE, STEREO_PAIR_WITH_SUB)
    for n in range(2):
        poll(model, n, set(model.players))
    assert model.diagnosis.all_players_down


def test_a_pair_partner_drops_and_comes_back() -> None:
    model = household(STEREO_PAIR_WITH_SUB)
    for n in range(2):
        poll(model, n, {"RINCON_R"})
    assert verdicts(model)["RINCON_R"] == Expect(ErrorCode.E1001, PlayerCard.PAIR)
    assert [p.uid for p in model.bonded_with("RINCON_R")] == ["RINCON_L", "RINCON_PSUB"]
    assert model.fallen_with_main() == {}  # halves of a pair reach the network each on its own
    poll(model, 2, set())
    assert verdicts(model)["RINCON_R"] == OK


def test_a_boost_is_a_network_device_with_its_own_card() -> None:
    model = household(BOOST_AND_SUB_ON_A_SPEAKER)
    for n in range(2):
        poll(model, n, {"RINCON_BOOST", "RINCON_SSUB"})
    assert verdicts(model)["RINCON_BOOST"] == Expect(ErrorCode.E1001, PlayerCard.NETWORK_DEVICE)
    assert verdicts(model)["RINCON_SSUB"] == Expect(ErrorCode.E1001, PlayerCard.PAIR)
    assert model.bonded_with("RINCON_BOOST") == []


def test_a_room_renamed_and_a_speaker_moved_keep_their_players() -> None:
    model = household(HOME_THEATRE, S1_WITH_BRIDGE)
    renamed = HOME_THEATRE.replace("Living Room", "Cinema")
    moved = S1_WITH_BRIDGE.replace("Office &amp; Den", "Kitchen")
    poll(model, 0, set(), renamed)
    poll(model, 1, set(), moved)
    assert names(model)["RINCON_SUB"] == ("sub", {"room": "Cinema"})
    assert names(model)["RINCON_OFFICE"] == ("player", {"room": "Kitchen"})
    assert set(model.players) == {
        "RINCON_ARC",
        "RINCON_SUB",
        "RINCON_LR",
        "RINCON_RR",
        "RINCON_BRIDGE",
        "RINCON_OFFICE",
    }


def test_a_pair_split_and_a_sub_removed_change_roles_without_new_players() -> None:
    model = household(STEREO_PAIR_WITH_SUB)
    split = state(
        group("RINCON_L", member("ZoneGroupMember", "RINCON_L", "10.0.0.30", "Bedroom"))
        + group("RINCON_R", member("ZoneGroupMember", "RINCON_R", "10.0.0.31", "Nursery"))
        + group("RINCON_PSUB", member("ZoneGroupMember", "RINCON_PSUB", "10.0.0.32", "Sub"))
    )
    poll(model, 0, set(), split)
    assert names(model) == {
        "RINCON_L": ("player", {"room": "Bedroom"}),
        "RINCON_R": ("player", {"room": "Nursery"}),
        "RINCON_PSUB": ("player", {"room": "Sub"}),
    }


def test_groups_forming_and_breaking_change_no_name_and_no_verdict() -> None:
    alone = state(
        group(
            "RINCON_ARC",
            member(
                "ZoneGroupMember",
                "RINCON_ARC",
                "10.0.0.10",
                "Living Room",
                f'HTSatChanMapSet="{HT_MAP}"',
            ),
        )
        + group(
            "RINCON_KITCHEN", member("ZoneGroupMember", "RINCON_KITCHEN", "10.0.0.20", "Kitchen")
        )
    )
    together = alone.replace(
        '</ZoneGroup><ZoneGroup Coordinator="RINCON_KITCHEN" ID="RINCON_KITCHEN:7">', ""
    )
    kitchen_leads = together.replace('Coordinator="RINCON_ARC"', 'Coordinator="RINCON_KITCHEN"')
    model = household(alone)
    before = names(model)
    for n, document in enumerate((together, kitchen_leads, alone)):
        poll(model, n, set(), document)
        assert names(model) == before
        assert all(verdict == OK for verdict in verdicts(model).values())


def test_a_shaky_soundbar_warns_once_for_its_set() -> None:
    """Its satellites drop with it: the early warning is the soundbar's, not four cards."""
    model = household(HOME_THEATRE)
    for n in range(3):  # three dropouts within an hour, of the soundbar and its satellites
        poll(model, 10 * n, set(model.players))
        poll(model, 10 * n + 1, set(model.players))  # a silence over a minute: a dropout
        poll(model, 10 * n + 2, set())
    assert all(player.link.unstable_since for player in model.players.values())
    assert {uid for uid in model.players if model.warned(uid)} == {"RINCON_ARC"}
    # The Sub alone keeps dropping: now it is its own warning.
    for n in range(5, 8):
        poll(model, 10 * n, {"RINCON_SUB"})
        poll(model, 10 * n + 1, {"RINCON_SUB"})
        poll(model, 10 * n + 2, set())
    poll(model, 85, set())  # the soundbar's last dropout began over an hour ago
    assert {uid for uid in model.players if model.warned(uid)} == {"RINCON_SUB"}
