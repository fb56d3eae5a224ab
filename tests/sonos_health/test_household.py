"""The household model on its own: following the topology and folding polls into the diagnosis.

Pure, as the module is: topologies are built by hand, no player or Home Assistant involved.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from custom_components.sonos_troubleshooter.sonos_health.error_rules import (
    MAYBE_AWAY,
    CloudObservation,
    ErrorCode,
)
from custom_components.sonos_troubleshooter.sonos_health.household import (
    TOPOLOGY_SOURCES,
    Household,
    KnownPlayer,
)
from custom_components.sonos_troubleshooter.sonos_health.player_client import (
    PlayerInfo,
    ProbeFailure,
    Topology,
    TopologyMember,
    Uplink,
    VanishedPlayer,
    parse_topology,
)

AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CLOUD_OK = CloudObservation(
    names_resolved=True, cloud_connected=True, reference_connected=True, status_indicator="none"
)
CONFIGURED = "192.168.1.10"


def member(
    uid: str, ip: str, name: str = "", *, channel_freq: int | None = 2437, wired: bool = False
) -> TopologyMember:
    return TopologyMember(
        uid=uid,
        name=name or uid.title(),
        ip=ip,
        channel_freq=channel_freq,
        uplink=Uplink.ETHERNET if wired else Uplink.WIFI,
    )


def vanished(
    uid: str, reason: str = "powered off", ip: str | None = "192.168.1.99"
) -> VanishedPlayer:
    return VanishedPlayer(uid=uid, name=uid.title(), reason=reason, last_known_ip=ip)


def topology(*members: TopologyMember, gone: tuple[VanishedPlayer, ...] = ()) -> Topology:
    return Topology(members=members, vanished=gone)


def info(uid: str, name: str = "Kitchen") -> PlayerInfo:
    return PlayerInfo(
        uid=uid,
        name=name,
        model_name="Sonos Amp",
        model_number="S16",
        serial_number="00-11-22-33-44-55:E",
        mac_address="00:11:22:33:44:55",
        software_version="85.0-65020",
        display_version="17.5",
        hardware_version="1.0",
    )


def watching(*uids: str) -> Household:
    """A household that already watches these players, each at .1x by its position."""
    return Household(
        KnownPlayer(uid=uid, name=uid.title(), ip=f"192.168.1.{11 + index}")
        for index, uid in enumerate(uids)
    )


def test_first_topology_adds_every_member_to_probe_at_once() -> None:
    household = Household()
    recheck, known = household.follow(
        topology(member("kitchen", "192.168.1.11"), member("roam", "192.168.1.12", wired=True))
    )
    assert [player.uid for player in recheck] == ["kitchen", "roam"]
    assert known == {}
    assert set(household.players) == {"kitchen", "roam"}
    roam = household.players["roam"]
    assert (roam.name, roam.ip, roam.wired) == ("Roam", "192.168.1.12", True)


def test_a_player_that_moved_is_followed_and_probed_at_its_new_address() -> None:
    household = watching("kitchen", "roam")
    recheck, known = household.follow(
        topology(member("kitchen", "192.168.1.50"), member("roam", "192.168.1.12"))
    )
    assert [(player.uid, player.ip) for player in recheck] == [("kitchen", "192.168.1.50")]
    assert household.players["kitchen"].ip == "192.168.1.50"
    assert known == {}


def test_names_and_wifi_follow_the_topology_an_empty_name_keeps_the_old_one() -> None:
    household = watching("kitchen")
    household.follow(topology(member("kitchen", "192.168.1.11", "Cuisine", channel_freq=5220)))
    kitchen = household.players["kitchen"]
    assert (kitchen.name, kitchen.channel_freq, kitchen.wired) == ("Cuisine", 5220, False)
    household.follow(
        topology(
            TopologyMember(
                uid="kitchen",
                name="",
                ip="192.168.1.11",
                channel_freq=None,
                uplink=Uplink.ETHERNET,
            )
        )
    )
    assert (kitchen.name, kitchen.channel_freq, kitchen.wired) == ("Cuisine", None, True)


def test_a_vanished_player_first_seen_is_watched_and_has_not_answered() -> None:
    household = watching("kitchen", "office")
    recheck, known = household.follow(
        topology(
            member("kitchen", "192.168.1.11"),
            gone=(
                vanished("roam", "sleeping", "192.168.1.20"),
                vanished("office"),  # already watched: its verdict comes from its probe
                vanished("move", ip=None),  # no address to watch it at
            ),
        )
    )
    assert recheck == []
    assert known == {"roam": ProbeFailure.NO_ANSWER}
    assert set(household.players) == {"kitchen", "office", "roam"}
    assert household.players["roam"].ip == "192.168.1.20"
    assert household.players["office"].ip == "192.168.1.12"  # its last known address is not used
    assert household.vanished_reasons() == {
        "roam": "sleeping",
        "office": "powered off",
        "move": "powered off",
    }


def test_has_left_only_when_the_topology_says_so() -> None:
    household = watching("kitchen", "roam", "office")
    assert not household.has_left("office")  # no topology read yet: unsure, so kept
    household.follow(topology(member("kitchen", "192.168.1.11"), gone=(vanished("roam"),)))
    assert not household.has_left("kitchen")  # a member
    assert not household.has_left("roam")  # vanished is still part of the household
    assert household.has_left("office")
    assert household.member_uids() == {"kitchen"}

    household.follow(None)  # this poll could not read the topology (e.g. UPnP 501)
    assert not household.has_left("office")
    assert household.member_uids() == set()
    assert household.vanished_reasons() == {"roam": "powered off"}  # the last one known

    household.forget("office")
    household.forget("office")  # twice is harmless
    assert set(household.players) == {"kitchen", "roam"}


def test_topology_sources_are_players_that_answered_then_the_configured_host() -> None:
    household = watching("a", "b", "c", "d", "e")
    assert household.topology_sources(CONFIGURED) == [CONFIGURED]  # nothing answered yet

    household.observe(AT, {"b": ProbeFailure.TIMEOUT}, CLOUD_OK)
    sources = household.topology_sources(CONFIGURED)
    # Answered last time: a, c, d, e; at most TOPOLOGY_SOURCES of them, then the configured one.
    assert sources == ["192.168.1.11", "192.168.1.13", "192.168.1.14", CONFIGURED]
    assert len(sources) == TOPOLOGY_SOURCES + 1
    # The configured host is asked once, even when it is one of the players.
    assert household.topology_sources("192.168.1.11") == [
        "192.168.1.11",
        "192.168.1.13",
        "192.168.1.14",
    ]


def test_satellites_are_never_topology_sources_while_another_player_can_be_asked() -> None:
    """Satellites can answer with an outdated topology: soco asks the main unit (SoCo#913)."""
    household = Household()
    bond = "RINCON_ARC:LF,RF;RINCON_SUB:SW;RINCON_RL:LR"
    household.follow(
        parse_topology(
            "<ZoneGroupState><ZoneGroups><ZoneGroup Coordinator='RINCON_ARC'>"
            f"<ZoneGroupMember UUID='RINCON_ARC' Location='{location('10.0.0.10')}'"
            f" HTSatChanMapSet='{bond}'>"
            f"<Satellite UUID='RINCON_SUB' Location='{location('10.0.0.11')}' HTSatChanMapSet='{bond}'/>"
            f"<Satellite UUID='RINCON_RL' Location='{location('10.0.0.12')}' HTSatChanMapSet='{bond}'/>"
            "</ZoneGroupMember></ZoneGroup><ZoneGroup Coordinator='RINCON_K'>"
            f"<ZoneGroupMember UUID='RINCON_K' Location='{location('10.0.0.20')}'/>"
            "</ZoneGroup></ZoneGroups></ZoneGroupState>"
        )
    )
    household.observe(AT, dict.fromkeys(household.players), CLOUD_OK)
    # Before, the soundbar's satellites were the next in line (players in topology order).
    assert household.topology_sources("10.0.0.10") == ["10.0.0.10", "10.0.0.20"]
    # The user entered a satellite's address: the players that answered are asked instead.
    assert household.topology_sources("10.0.0.11") == ["10.0.0.10", "10.0.0.20"]
    # Nobody else answered last time (the soundbar is down, and with it its satellites):
    # the entered address is all there is.
    household.observe(
        AT, {"RINCON_ARC": ProbeFailure.NO_ANSWER, "RINCON_K": ProbeFailure.NO_ANSWER}, CLOUD_OK
    )
    assert household.topology_sources("10.0.0.11") == ["10.0.0.11"]
    assert household.uplink("RINCON_SUB") is Uplink.MAIN_UNIT
    assert household.uplink("RINCON_ARC") is Uplink.WIFI


def location(ip: str) -> str:
    return f"http://{ip}:1400/xml/device_description.xml"


def test_observe_marks_who_answered_and_folds_the_poll_into_the_diagnosis() -> None:
    household = watching("kitchen", "roam", "office")
    household.follow(
        topology(
            member("kitchen", "192.168.1.11"),
            member("office", "192.168.1.13"),
            gone=(vanished("roam", "sleeping"),),
        )
    )
    failures = {
        "kitchen": ProbeFailure.INVALID_ANSWER,  # answered badly: still on the network
        "roam": ProbeFailure.NO_ANSWER,
        "office": ProbeFailure.TIMEOUT,
    }
    first = household.observe(AT, failures, CLOUD_OK)
    assert household.diagnosis is first
    assert household.players["kitchen"].last_seen == AT
    assert household.players["roam"].last_seen is None
    assert household.players["office"].last_seen is None
    later = AT + timedelta(seconds=10)
    diagnosis = household.observe(later, failures, CLOUD_OK)
    codes = {uid: state.code for uid, state in diagnosis.players.items()}
    assert codes == {"kitchen": ErrorCode.OK, "roam": ErrorCode.OK, "office": ErrorCode.E1001}
    assert diagnosis.players["roam"].expected_absence == "sleeping"
    assert diagnosis.players["office"].since == AT
    assert household.players["kitchen"].last_seen == later


def test_observe_counts_a_player_missing_from_the_results_as_answered() -> None:
    """Only the failures are told; a player with no entry answered properly."""
    household = watching("kitchen")
    household.observe(AT, {}, CLOUD_OK)
    assert household.players["kitchen"].last_seen == AT


def test_learn_info_keeps_only_the_players_own_description() -> None:
    household = watching("kitchen")
    kitchen = household.players["kitchen"]
    household.learn_info(
        kitchen, info("someone_else", "Office"), AT
    )  # another player at its address
    assert (kitchen.info, kitchen.info_read_at, kitchen.name) == (None, None, "Kitchen")
    household.learn_info(kitchen, info("kitchen", "Cuisine"), AT)
    assert kitchen.info == info("kitchen", "Cuisine")
    assert (kitchen.info_read_at, kitchen.name) == (AT, "Cuisine")
    household.learn_info(kitchen, info("kitchen", ""), AT)  # no name given: the old one stays
    assert kitchen.name == "Cuisine"


def roam_info() -> PlayerInfo:
    return replace(info("roam", "Roam"), model_name="Sonos Roam", model_number="S27")


def test_last_reasons_stand_while_no_topology_can_be_read_until_the_player_answers() -> None:
    household = watching("kitchen", "bedroom")
    household.follow(
        topology(
            member("kitchen", "192.168.1.11"),
            gone=(vanished("bedroom", "powered off"),),
        )
    )
    household.observe(AT, {"kitchen": None, "bedroom": ProbeFailure.NO_ANSWER}, CLOUD_OK)

    household.follow(None)  # the topology cannot be read any more
    assert household.vanished_reasons() == {"bedroom": "powered off"}
    assert household.is_away("bedroom")
    household.observe(AT, {"kitchen": None, "bedroom": None}, CLOUD_OK)  # back on
    assert household.vanished_reasons() == {}
    assert not household.is_away("bedroom")

    household.follow(topology(member("kitchen", "192.168.1.11")))
    assert household.vanished_reasons() == {}


def test_a_portable_may_be_away_only_while_the_topology_cannot_be_read() -> None:
    household = watching("roam", "kitchen")
    household.learn_info(household.players["roam"], roam_info(), AT)
    household.learn_info(household.players["kitchen"], info("kitchen"), AT)

    household.follow(None)
    # Nobody answers: the household is down, the portable's silence is no sign either way.
    state = household.observe(
        AT, {"roam": ProbeFailure.NO_ANSWER, "kitchen": ProbeFailure.NO_ANSWER}, CLOUD_OK
    )
    assert not household.may_be_away("roam")
    roam = state.player("roam")
    assert roam is not None
    assert (roam.code, roam.expected_absence) == (ErrorCode.OK, None)

    state = household.observe(AT, {"roam": ProbeFailure.NO_ANSWER, "kitchen": None}, CLOUD_OK)
    assert household.may_be_away("roam")
    assert household.is_away("roam")
    assert not household.may_be_away("kitchen")
    roam = state.player("roam")
    assert roam is not None
    assert (roam.code, roam.expected_absence) == (ErrorCode.OK, MAYBE_AWAY)

    household.follow(topology(member("kitchen", "192.168.1.11")))
    assert not household.may_be_away("roam")


def test_adopt_watches_the_configured_player_from_its_description() -> None:
    household = Household()
    player = household.adopt(info("kitchen"), CONFIGURED, AT)
    assert household.players == {"kitchen": player}
    assert (player.ip, player.name, player.info_read_at) == (CONFIGURED, "Kitchen", AT)
    assert household.adopt(info("kitchen"), CONFIGURED, AT) is player


def test_one_topology_listing_a_player_in_1001_as_asleep_does_not_undo_the_verdict() -> None:
    household = watching("kitchen", "move")
    members = (member("kitchen", "192.168.1.11"),)
    silent = {"kitchen": None, "move": ProbeFailure.NO_ANSWER}
    for _ in range(2):
        household.follow(topology(*members))
        state = household.observe(AT, silent, CLOUD_OK)
    assert state.players["move"].code is ErrorCode.E1001

    household.follow(topology(*members, gone=(vanished("move", "sleeping"),)))  # one says so
    state = household.observe(AT, silent, CLOUD_OK)
    assert state.players["move"].code is ErrorCode.E1001
    household.follow(topology(*members, gone=(vanished("move", "sleeping"),)))  # again: believed
    state = household.observe(AT, silent, CLOUD_OK)
    assert (state.players["move"].code, state.players["move"].expected_absence) == (
        ErrorCode.OK,
        "sleeping",
    )


def test_a_player_not_in_1001_is_excused_by_the_first_topology_that_says_so() -> None:
    household = watching("kitchen", "move")
    household.follow(
        topology(member("kitchen", "192.168.1.11"), gone=(vanished("move", "sleeping"),))
    )
    state = household.observe(AT, {"kitchen": None, "move": ProbeFailure.NO_ANSWER}, CLOUD_OK)
    assert state.players["move"].expected_absence == "sleeping"
