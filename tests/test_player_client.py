"""Reading players with soco: typed results and one failure kind per way a player misbehaves."""

import pytest

from custom_components.sonos_troubleshooter.player_client import (
    ProbeFailure,
    SonosError,
    fetch_household_id,
    fetch_player_info,
    fetch_topology,
    parse_device_description,
    parse_topology,
    ping,
    wifi_band,
)
from sonos_emulator import REASON_SLEEPING, Emulator, Fault


def test_player_info_household_and_topology(emulator: Emulator) -> None:
    household = emulator.household
    arc = household.add_player("Living Room", model_name="Sonos Arc", model_number="S19")
    household.add_player("Roam", model_name="Sonos Roam", portable=True, channel_freq=5220)
    household.add_player("Amp", channel_freq=None)
    household.sleep("Roam")

    info = fetch_player_info(arc.ip, 2)
    topology = fetch_topology(arc.ip, 2)

    assert info.uid == arc.uid
    assert info.name == "Living Room"
    assert info.model_name == "Sonos Arc"
    assert info.serial_number == arc.serial
    assert info.mac_address == arc.mac.replace("-", ":")
    assert fetch_household_id(arc.ip, 2) == household.household_id
    assert [(m.name, m.ip, m.channel_freq, m.wired) for m in topology.members] == [
        ("Living Room", arc.ip, 2437, False),
        ("Amp", household.player("Amp").ip, None, True),
    ]
    assert [(v.name, v.reason) for v in topology.vanished] == [("Roam", REASON_SLEEPING)]
    ping(arc.ip, 1)


@pytest.mark.parametrize(
    ("fault", "failure"),
    [
        (Fault.OFFLINE, ProbeFailure.NO_ANSWER),
        (Fault.HANG, ProbeFailure.TIMEOUT),
        (Fault.JUNK, ProbeFailure.INVALID_ANSWER),
        (Fault.HTTP_500, ProbeFailure.INVALID_ANSWER),
        (Fault.HTTP_403, ProbeFailure.UPNP_DISABLED),
        (Fault.NOT_SONOS, ProbeFailure.NOT_SONOS),
    ],
)
def test_player_info_failures(emulator: Emulator, fault: Fault, failure: ProbeFailure) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", fault)
    with pytest.raises(SonosError) as raised:
        fetch_player_info(player.ip, 0.5)
    assert raised.value.failure is failure
    assert raised.value.failure.player_answered is (
        failure not in (ProbeFailure.NO_ANSWER, ProbeFailure.TIMEOUT)
    )


@pytest.mark.parametrize(
    ("fault", "failure"),
    [
        (Fault.OFFLINE, ProbeFailure.NO_ANSWER),
        (Fault.HANG, ProbeFailure.TIMEOUT),
        (Fault.JUNK, ProbeFailure.INVALID_ANSWER),
        (Fault.HTTP_500, ProbeFailure.INVALID_ANSWER),
        (Fault.HTTP_403, ProbeFailure.UPNP_DISABLED),
        (Fault.NOT_SONOS, ProbeFailure.INVALID_ANSWER),
    ],
)
def test_control_call_failures(emulator: Emulator, fault: Fault, failure: ProbeFailure) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", fault)
    for call in (ping, fetch_household_id, fetch_topology):
        with pytest.raises(SonosError) as raised:
            call(player.ip, 0.5)
        assert raised.value.failure is failure, call


def test_zone_group_state_upnp_error(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.zone_group_state_error = 501
    with pytest.raises(SonosError, match="501") as raised:
        fetch_topology(player.ip, 1)
    assert raised.value.failure is ProbeFailure.INVALID_ANSWER


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        (b"<root/>", ProbeFailure.NOT_SONOS),
        (
            (
                b'<root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>'
                b"urn:schemas-upnp-org:device:ZonePlayer:1</deviceType><UDN>uuid:x</UDN>"
                b"</device></root>"
            ),
            ProbeFailure.INVALID_ANSWER,
        ),
    ],
)
def test_device_description_refusals(body: bytes, failure: ProbeFailure) -> None:
    with pytest.raises(SonosError) as raised:
        parse_device_description(body)
    assert raised.value.failure is failure


def test_topology_without_zone_groups_wrapper_and_with_satellites() -> None:
    """Firmware before 10.1 has no ZoneGroups element; satellites are players too."""
    state = (
        '<ZoneGroupState><ZoneGroup Coordinator="RINCON_A"><ZoneGroupMember UUID="RINCON_A"'
        ' Location="http://10.0.0.5:1400/xml/device_description.xml" ZoneName="TV"'
        ' ChannelFreq="junk"><Satellite UUID="RINCON_S" Invisible="1" ZoneName="TV"'
        ' Location="http://10.0.0.6:1400/xml/device_description.xml"/></ZoneGroupMember>'
        '<ZoneGroupMember UUID="RINCON_NOLOC"/></ZoneGroup>'
        '<VanishedDevices><Device UUID="RINCON_V" ZoneName="Move" Reason="upgrade"/><Device/>'
        "</VanishedDevices></ZoneGroupState>"
    )
    topology = parse_topology(state)
    assert [(m.uid, m.ip, m.channel_freq) for m in topology.members] == [
        ("RINCON_A", "10.0.0.5", None),
        ("RINCON_S", "10.0.0.6", None),
    ]
    assert [(v.uid, v.reason, v.last_known_ip) for v in topology.vanished] == [
        ("RINCON_V", "upgrade", None)
    ]


@pytest.mark.parametrize(
    ("freq", "band"),
    [(2412, "2.4"), (2484, "2.4"), (5180, "5"), (5825, "5"), (None, None), (60000, None)],
)
def test_wifi_band(freq: int | None, band: str | None) -> None:
    assert wifi_band(freq) == band
