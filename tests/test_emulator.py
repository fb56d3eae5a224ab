"""The emulator answers real soco 0.31.2 over HTTP as real players do, faults included."""

import asyncio
import contextlib
import http.server
import os
from pathlib import Path
import socket
import threading
import time
from typing import ClassVar
from unittest.mock import patch
from xml.sax.saxutils import unescape
import zlib

import pytest
import pytest_socket
import requests
import soco
from soco.exceptions import SoCoUPnPException, UnknownSoCoException

from custom_components.sonos_troubleshooter.sonos_health.player_client import Role, parse_topology
from sonos_emulator import (
    REASON_POWERED_OFF,
    REASON_SLEEPING,
    Connections,
    DnsFailure,
    Emulator,
    Fault,
    StatusFault,
    server,
)
from sonos_emulator.household import ZONE_GROUP_STATE_LIMIT
from sonos_emulator.model import IDLE_DROP, zone_group_state
from sonos_emulator.process import EmulatorProcess
from tools.develop import SCENARIOS, world

MASTER_VOLUME = [("InstanceID", 0), ("Channel", "Master")]


def ping(ip: str, timeout: float = 1) -> dict[str, str]:
    """The liveness call HA core's sonos integration makes."""
    return soco.SoCo(ip).renderingControl.GetVolume(MASTER_VOLUME, timeout=timeout)


def topology(ip: str) -> str:
    return soco.SoCo(ip).zoneGroupTopology.GetZoneGroupState([], timeout=2)["ZoneGroupState"]


def test_speaker_info_household_and_zones(emulator: Emulator) -> None:
    kitchen = emulator.household.add_player("Kitchen", model_name="Sonos Arc", model_number="S19")
    emulator.household.add_player("Patio", model_name="Sonos Move", portable=True)
    speaker = soco.SoCo(kitchen.ip)

    info = speaker.get_speaker_info(refresh=True, timeout=2)

    assert info["zone_name"] == "Kitchen"
    assert info["model_name"] == "Sonos Arc"
    assert info["model_number"] == "S19"
    assert info["serial_number"] == kitchen.serial
    assert info["mac_address"] == kitchen.mac
    assert info["software_version"] == kitchen.software_version
    assert info["uid"] == kitchen.uid
    assert speaker.household_id == emulator.household.household_id
    assert {zone.player_name for zone in speaker.all_zones} == {"Kitchen", "Patio"}
    assert kitchen.requests[0] == "GET /xml/device_description.xml"
    assert "POST /ZoneGroupTopology/Control#GetZoneGroupState" in kitchen.requests


def test_actions_without_arguments_fetch_the_service_description(emulator: Emulator) -> None:
    player = emulator.household.add_player("Den")
    speaker = soco.SoCo(player.ip)

    speaker.renderingControl.SetVolume(InstanceID=0, Channel="Master", DesiredVolume=35)

    assert "GET /xml/RenderingControl1.xml" in player.requests
    assert ping(player.ip) == {"CurrentVolume": "35"}
    assert speaker.avTransport.GetTransportInfo([("InstanceID", 0)])["CurrentTransportState"] == (
        "STOPPED"
    )
    zone_info = speaker.deviceProperties.GetZoneInfo([], timeout=2)
    assert zone_info["IPAddress"] == player.ip
    assert zone_info["SerialNumber"] == player.serial
    assert speaker.deviceProperties.GetZoneAttributes([], timeout=2)["CurrentZoneName"] == "Den"


def test_unknown_action_and_bad_arguments_are_upnp_faults(emulator: Emulator) -> None:
    player = emulator.household.add_player("Den")
    rendering = soco.SoCo(player.ip).renderingControl

    with pytest.raises(SoCoUPnPException) as unknown:
        rendering.send_command("SetBass", [("InstanceID", 0), ("DesiredBass", 3)], timeout=1)
    assert unknown.value.error_code == "401"
    with pytest.raises(SoCoUPnPException) as invalid:
        rendering.SetVolume([*MASTER_VOLUME, ("DesiredVolume", "loud")], timeout=1)
    assert invalid.value.error_code == "402"
    garbage = requests.post(
        f"http://{player.ip}:1400/MediaRenderer/RenderingControl/Control",
        data=b"<not-closed",
        headers={"SOAPACTION": '"urn:schemas-upnp-org:service:RenderingControl:1#GetVolume"'},
        timeout=1,
    )
    assert garbage.status_code == 500
    assert "<errorCode>402</errorCode>" in garbage.text
    assert requests.get(f"http://{player.ip}:1400/xml/Nothing1.xml", timeout=1).status_code == 404
    assert requests.put(f"http://{player.ip}:1400/", timeout=1).status_code == 405


def test_vanished_devices_carry_reasons(emulator: Emulator) -> None:
    household = emulator.household
    kitchen = household.add_player("Kitchen")
    household.add_player("Roam", model_name="Sonos Roam", portable=True, channel_freq=5180)
    household.add_player("Office")

    household.sleep("Roam")
    household.vanish("Office", REASON_POWERED_OFF)
    state = topology(kitchen.ip)

    assert 'ZoneName="Roam" Reason="sleeping"' in state
    assert 'ZoneName="Office" Reason="powered off"' in state
    assert state.count("<ZoneGroupMember") == 1
    with pytest.raises(requests.ConnectionError):
        ping(household.player("Roam").ip)

    household.heal("Roam")
    state = topology(kitchen.ip)
    assert 'ChannelFreq="5180"' in state
    assert REASON_SLEEPING not in state
    assert ping(household.player("Roam").ip) == {"CurrentVolume": "20"}


def test_a_wired_player_reports_its_cable_and_still_a_channel(emulator: Emulator) -> None:
    """As the 94.1 Amp on Ethernet of home-assistant/core#168015 does."""
    player = emulator.household.add_player("Amp", model_name="Sonos Amp", wired=True)
    assert (
        'HdmiCecAvailable="1" WirelessMode="0" ConnectionType="1" ChannelFreq="2437"'
        ' BehindWifiExtender="0" WifiEnabled="1" EthLink="1"'
    ) in topology(player.ip)


def test_address_change_keeps_uid(emulator: Emulator) -> None:
    household = emulator.household
    kitchen = household.add_player("Kitchen")
    other = household.add_player("Hall")
    old_ip = kitchen.ip

    household.move("Kitchen")

    assert kitchen.ip != old_ip
    assert f'UUID="{kitchen.uid}" Location="http://{kitchen.ip}:1400/' in topology(other.ip)
    with pytest.raises(requests.ConnectionError):
        ping(old_ip)
    # soco caches a uid per address for the whole process, so read the UDN off the wire.
    assert f"uuid:{kitchen.uid}<" in requests.get(kitchen.location, timeout=1).text
    household.move("Kitchen", "127.0.0.42")
    assert ping("127.0.0.42") == {"CurrentVolume": "20"}


def test_a_player_takes_the_address_of_one_that_is_gone(emulator: Emulator) -> None:
    """DHCP after an outage: the address of a player that is gone goes to another one."""
    household = emulator.household
    kitchen = household.add_player("Kitchen")
    hall = household.add_player("Hall")
    address = kitchen.ip

    household.take_address("Hall", "Kitchen")

    assert hall.ip == kitchen.ip == address  # one address, two players: one of them listens
    assert ping(address) == {"CurrentVolume": "20"}  # any player answers the control call
    assert f"uuid:{hall.uid}<" in requests.get(kitchen.location, timeout=1).text
    # The household still lists the gone player where it was, beside the one there now.
    state = topology(address)
    assert state.count(f'Location="http://{address}:1400/') == 2
    # Back on while its address is taken: it does not answer until it gets another one.
    household.heal("Kitchen")
    assert f"uuid:{hall.uid}<" in requests.get(kitchen.location, timeout=1).text
    household.move("Kitchen")
    assert kitchen.ip != address
    assert f"uuid:{kitchen.uid}<" in requests.get(kitchen.location, timeout=1).text
    # An address freed goes to the player waiting for it.
    household.move("Kitchen", address)
    assert not household.reachable(kitchen)
    household.set_fault("Hall", Fault.OFFLINE)
    assert f"uuid:{kitchen.uid}<" in requests.get(kitchen.location, timeout=1).text


def test_a_portable_switched_on_starts_again(emulator: Emulator) -> None:
    """Its BootSeq rises when it is switched on (ebaauw/homebridge-zp issue 172)."""
    household = emulator.household
    kitchen = household.add_player("Kitchen")
    roam = household.add_player("Roam", model_name="Sonos Roam", portable=True)
    household.vanish("Roam", REASON_POWERED_OFF)
    [gone] = parse_topology(topology(kitchen.ip)).vanished
    assert gone.last_seen is not None
    assert abs(time.time() - gone.last_seen.timestamp()) < 5

    household.switch_on("Roam")

    assert roam.boot_seq == 43
    assert 'BootSeq="43"' in topology(kitchen.ip)
    assert ping(roam.ip) == {"CurrentVolume": "20"}


def test_players_join_and_leave(emulator: Emulator) -> None:
    household = emulator.household
    kitchen = household.add_player("Kitchen")
    bedroom = household.add_player("Bedroom")
    assert topology(kitchen.ip).count("<ZoneGroupMember") == 2

    household.remove_player("Bedroom")
    household.add_player("Bath")

    assert "Bedroom" not in topology(kitchen.ip)
    assert 'ZoneName="Bath"' in topology(kitchen.ip)
    with pytest.raises(requests.ConnectionError):
        ping(bedroom.ip)
    with pytest.raises(KeyError):
        household.player("Bedroom")
    assert [player.name for player in household] == ["Kitchen", "Bath"]


def test_offline_player_refuses_connections(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.OFFLINE)
    with pytest.raises(requests.ConnectionError):
        ping(player.ip)
    emulator.household.heal("Kitchen")
    assert ping(player.ip) == {"CurrentVolume": "20"}


def test_hung_player_times_out_without_delaying_others(emulator: Emulator) -> None:
    household = emulator.household
    hung = household.add_player("Kitchen")
    healthy = household.add_player("Hall")
    household.set_fault("Kitchen", "hang")

    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        ping(hung.ip, timeout=0.5)
    assert 0.4 < time.monotonic() - started < 2

    started = time.monotonic()
    assert ping(healthy.ip) == {"CurrentVolume": "20"}
    assert time.monotonic() - started < 0.5
    household.heal("Kitchen")
    assert ping(hung.ip) == {"CurrentVolume": "20"}


def test_slow_player_answers_after_its_delay(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.SLOW, delay=0.6)

    with pytest.raises(requests.ReadTimeout):
        ping(player.ip, timeout=0.2)
    started = time.monotonic()
    assert ping(player.ip, timeout=3) == {"CurrentVolume": "20"}
    assert 0.5 < time.monotonic() - started < 2


def test_lossy_player_answers_a_resend_late(emulator: Emulator) -> None:
    """One answer in five (here: every one) comes as late as a lost packet's resend."""
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.LOSSY)
    with patch.object(server, "LOSSY_SHARE", 1.0), patch.object(server, "LOSSY_RESEND", 0.3):
        started = time.monotonic()
        assert ping(player.ip, timeout=3) == {"CurrentVolume": "20"}
        assert 0.3 <= time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.JUNK, SyntaxError),  # xml.etree's ParseError
        (Fault.HTTP_500, UnknownSoCoException),
        (Fault.HTTP_403, requests.HTTPError),
    ],
)
def test_bad_answers(emulator: Emulator, fault: Fault, error: type[Exception]) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", fault)
    with pytest.raises(error):
        ping(player.ip)
    # get_speaker_info parses whatever body comes back, whatever the status: junk fails to
    # parse, while the 403 page is well-formed (upper-case HTML) and yields no description.
    if fault is Fault.HTTP_403:
        assert soco.SoCo(player.ip).get_speaker_info(refresh=True, timeout=1) is None
        return
    with pytest.raises(SyntaxError):
        soco.SoCo(player.ip).get_speaker_info(refresh=True, timeout=1)


FORBIDDEN_PAGE = Path(__file__).parent / "fixtures" / "upnp_disabled_403.html"


def assert_forbidden_page(answer: requests.Response) -> None:
    """The 403 page players send with UPnP off: status, headers and body as captured."""
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "text/html"
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.headers["Connection"] == "close"
    # The file ends with a newline; the captures show none after </HTML>.
    assert answer.content == FORBIDDEN_PAGE.read_bytes().rstrip(b"\n")


def test_upnp_disabled_answers_403(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.HTTP_403)
    with pytest.raises(requests.HTTPError) as raised:
        ping(player.ip)
    assert raised.value.response is not None
    assert_forbidden_page(raised.value.response)
    assert_forbidden_page(requests.get(player.location, timeout=1))


def test_upnp_switched_off_for_the_household(emulator: Emulator) -> None:
    """One switch in the Sonos app: every player refuses, and answers again once it is on."""
    kitchen = emulator.household.add_player("Kitchen")
    den = emulator.household.add_player("Den")
    emulator.household.set_upnp(False)
    for player in (kitchen, den):
        assert_forbidden_page(requests.get(player.location, timeout=1))
        with pytest.raises(requests.HTTPError) as raised:
            ping(player.ip)
        assert raised.value.response is not None
        assert_forbidden_page(raised.value.response)
        with pytest.raises(requests.HTTPError):
            topology(player.ip)
    emulator.household.set_upnp(True)
    assert ping(kitchen.ip) == {"CurrentVolume": "20"}
    assert "Den" in topology(kitchen.ip)

    # A player's own fault stays its own: switched back on, it still refuses alone.
    emulator.household.set_fault("Den", Fault.HTTP_403)
    emulator.household.set_upnp(False)
    emulator.household.set_upnp(True)
    assert ping(kitchen.ip) == {"CurrentVolume": "20"}
    with pytest.raises(requests.HTTPError):
        ping(den.ip)
    emulator.household.set_upnp(False)
    emulator.household.heal_all()  # "healthy": UPnP on, no fault
    assert emulator.household.upnp_enabled
    assert ping(den.ip) == {"CurrentVolume": "20"}


def test_simulate_switches_upnp_for_the_whole_household(emulator: Emulator) -> None:
    """`scripts/simulate upnp-off-all`, `upnp-on-all` and `healthy`, as the demo applies them."""
    kitchen = emulator.household.add_player("Kitchen")
    SCENARIOS["upnp-off-all"].apply(emulator, "")
    assert world(emulator)["upnp_enabled"] is False
    assert_forbidden_page(requests.get(kitchen.location, timeout=1))
    SCENARIOS["upnp-on-all"].apply(emulator, "")
    assert world(emulator)["upnp_enabled"] is True
    assert ping(kitchen.ip) == {"CurrentVolume": "20"}
    SCENARIOS["upnp-off-all"].apply(emulator, "")
    SCENARIOS["healthy"].apply(emulator, "")
    assert ping(kitchen.ip) == {"CurrentVolume": "20"}
    assert not SCENARIOS["upnp-off-all"].needs_player
    assert SCENARIOS["upnp-off"].needs_player  # one player refusing alone


def test_host_that_is_not_a_sonos_player(emulator: Emulator) -> None:
    player = emulator.household.add_player("Router")
    emulator.household.set_fault("Router", Fault.NOT_SONOS)
    description = requests.get(f"http://{player.ip}:1400/xml/device_description.xml", timeout=1)
    assert "InternetGatewayDevice" in description.text
    assert "ZonePlayer" not in description.text
    with pytest.raises(requests.HTTPError):
        ping(player.ip)


def test_large_household_zone_group_state_error(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.zone_group_state_error = 501
    with pytest.raises(SoCoUPnPException) as raised:
        topology(player.ip)
    assert raised.value.error_code == "501"
    emulator.household.heal_all()
    assert "Kitchen" in topology(player.ip)


def test_zone_group_state_past_the_size_limit_answers_501_and_comes_and_goes(
    emulator: Emulator,
) -> None:
    """As real players (SoCo issue 935): 501 past about 16 kB; a player leaving can undo it."""
    household = emulator.household
    first = household.add_player("Room 0")
    while len(zone_group_state(household.players).encode()) <= ZONE_GROUP_STATE_LIMIT:
        last = household.add_player(f"Room {len(household.players)}")
    with pytest.raises(SoCoUPnPException) as raised:
        topology(first.ip)
    assert raised.value.error_code == "501"

    household.remove_player(last.uid)
    assert f"Room {len(household.players) - 1}" in topology(first.ip)


def _raw_exchange(ip: str, timeout: float = 2) -> socket.socket:
    """A GetVolume POST on a raw socket, its answer left to read."""
    envelope = (
        b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<s:Body/></s:Envelope>"
    )
    sock = socket.create_connection((ip, 1400), timeout=timeout)
    sock.sendall(
        b"POST /MediaRenderer/RenderingControl/Control HTTP/1.1\r\nHost: x\r\n"
        b'SOAPACTION: "urn:schemas-upnp-org:service:RenderingControl:1#GetVolume"\r\n'
        b"Content-Length: " + str(len(envelope)).encode() + b"\r\n\r\n" + envelope
    )
    return sock


def _read_headers(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _get_description(sock: socket.socket, *, close: bool) -> bytes:
    """GET the device description on `sock` (asking to close or not); return its headers."""
    sock.sendall(
        b"GET /xml/device_description.xml HTTP/1.1\r\nHost: x\r\n"
        + (b"Connection: close\r\n" if close else b"")
        + b"\r\n"
    )
    head, body = _read_headers(sock)
    length = int(head.partition(b"Content-Length: ")[2].partition(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 200 OK")
    return head


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Tell whether the other end closes `sock` within `seconds`, sending nothing first."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


@pytest.mark.parametrize(
    ("connections", "header"),
    [
        (Connections.STANDARD, b"Connection: close"),
        (Connections.CLOSES_SILENTLY, None),
        (Connections.DROPS_IDLE, None),
    ],
)
def test_a_client_asking_to_close_is_closed_on(
    emulator: Emulator, connections: Connections, header: bytes | None
) -> None:
    """Every server closes after answering a `Connection: close`; not every one says so."""
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_connections(connections)
    with socket.create_connection((player.ip, 1400), timeout=2) as sock:
        head = _get_description(sock, close=True)
        assert (b"\r\nConnection:" in head) is (header is not None)
        assert header is None or header in head
        assert _closed_within(sock, 0.2)


def test_a_client_keeping_the_connection_open(emulator: Emulator) -> None:
    """Standard keeps it; closes_silently closes it at once; drops_idle once idle 0.5 s."""
    player = emulator.household.add_player("Kitchen")
    with socket.create_connection((player.ip, 1400), timeout=2) as sock:
        assert b"\r\nConnection:" not in _get_description(sock, close=False)
        assert not _closed_within(sock, IDLE_DROP + 0.3)
        _get_description(sock, close=False)  # the same connection serves the next request

    emulator.household.set_connections(Connections.CLOSES_SILENTLY)
    with socket.create_connection((player.ip, 1400), timeout=2) as sock:
        assert b"\r\nConnection:" not in _get_description(sock, close=False)
        assert _closed_within(sock, 0.2)

    emulator.household.set_connections(Connections.DROPS_IDLE)
    with socket.create_connection((player.ip, 1400), timeout=2) as sock:
        assert b"\r\nConnection:" not in _get_description(sock, close=False)
        assert not _closed_within(sock, IDLE_DROP - 0.2)
        _get_description(sock, close=False)  # kept open while in use
        started = time.monotonic()
        assert _closed_within(sock, IDLE_DROP + 0.5)
        assert IDLE_DROP - 0.1 <= time.monotonic() - started < IDLE_DROP + 0.3
    assert player.request_count == 5
    assert player.connection_count == 3

    emulator.household.heal_all()
    assert emulator.household.connections is Connections.STANDARD
    assert ping(player.ip) == {"CurrentVolume": "20"}


def test_dripping_and_silent_bodies(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.DRIP)
    with _raw_exchange(player.ip) as sock:
        head, rest = _read_headers(sock)
        assert b"200 OK" in head
        assert b"Transfer-Encoding: chunked" in head
        started = time.monotonic()
        received = len(rest)
        while time.monotonic() - started < 2.2:
            with contextlib.suppress(TimeoutError):
                sock.settimeout(0.3)
                received += len(sock.recv(100))
        # A byte a second, each in a chunk of its own ("1\r\n<\r\n" is 6 bytes on the wire).
        assert 6 * 2 <= received <= 6 * 4

    emulator.household.set_fault("Kitchen", Fault.SILENT_BODY)
    with _raw_exchange(player.ip) as sock:
        head, rest = _read_headers(sock)
        assert b"Content-Length: 1000" in head
        assert rest == b""
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(100)
    emulator.household.heal("Kitchen")
    assert ping(player.ip) == {"CurrentVolume": "20"}


@pytest.mark.parametrize("fault", [Fault.ENDLESS_CHUNKED, Fault.ENDLESS_LENGTH])
def test_endless_bodies(emulator: Emulator, fault: Fault) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", fault)
    with requests.get(f"http://{player.ip}:1400/x", stream=True, timeout=2) as response:
        if fault is Fault.ENDLESS_LENGTH:
            assert response.headers["Content-Length"] == str(10**12)
        else:
            assert response.headers["Transfer-Encoding"] == "chunked"
        read = 0
        for chunk in response.iter_content(2**16):
            read += len(chunk)
            if read > 4 * 2**20:
                break
    assert read > 4 * 2**20  # and it would go on


def test_gzip_bomb_and_deep_nesting(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.GZIP_BOMB)
    response = requests.get(
        player.location, stream=True, timeout=2, headers={"Accept-Encoding": "identity"}
    )
    assert response.headers["Content-Encoding"] == "gzip"
    compressed = response.raw.read(decode_content=False)
    assert len(compressed) < 64 * 1024
    expanded = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(compressed)
    assert len(expanded) > 32 * 2**20
    assert expanded.startswith(b'<?xml version="1.0"?><root>')

    emulator.household.set_fault("Kitchen", Fault.DEEP_NESTING)
    body = requests.get(player.location, timeout=2).content
    assert body.count(b"<a>") == 20_000
    assert len(body) < 256 * 1024


def test_reset_mid_body(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.RESET)
    with _raw_exchange(player.ip) as sock:
        head, rest = _read_headers(sock)
        assert b"Content-Length: 100000" in head
        received = len(rest)

        def read_to_the_end() -> None:
            nonlocal received
            while chunk := sock.recv(4096):
                received += len(chunk)

        with pytest.raises(ConnectionResetError):
            read_to_the_end()
        assert received < 100_000


def test_slow_accept(emulator: Emulator) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.SLOW_ACCEPT)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        socket.create_connection((player.ip, 1400), timeout=0.4)
    assert time.monotonic() - started >= 0.35
    emulator.household.heal("Kitchen")
    assert ping(player.ip) == {"CurrentVolume": "20"}


def test_cloud_endpoints_up_and_down(emulator: Emulator) -> None:
    cloud = emulator.cloud
    endpoint = cloud.endpoints["api.sonos.com"]
    assert cloud.cloud_targets[0] == f"api.sonos.com:{endpoint.port}"
    assert len(cloud.reference_targets) == 2

    with socket.create_connection((endpoint.ip, endpoint.port), timeout=1):
        pass
    port = endpoint.port
    cloud.set_cloud_reachable(False)
    assert not endpoint.up
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((endpoint.ip, port), timeout=1)
    reference = cloud.endpoints["dns.google"]
    with socket.create_connection((reference.ip, reference.port), timeout=1):
        pass

    cloud.set_internet(False)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((reference.ip, reference.port), timeout=1)
    cloud.heal()
    assert endpoint.port == port
    with socket.create_connection((endpoint.ip, endpoint.port), timeout=1):
        pass
    deadline = time.monotonic() + 2  # the emulator's loop counts the accept a moment later
    while endpoint.connections < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert endpoint.connections >= 1


async def test_name_resolver_failures(emulator: Emulator) -> None:
    resolver = emulator.cloud.resolver
    assert await resolver.resolve("api.sonos.com") == [emulator.cloud.endpoints["api.sonos.com"].ip]
    with pytest.raises(socket.gaierror) as unknown:
        await resolver.resolve("example.invalid")
    assert unknown.value.errno == socket.EAI_NONAME

    emulator.cloud.set_dns(DnsFailure.SERVFAIL)
    with pytest.raises(socket.gaierror) as servfail:
        await resolver.resolve("api.sonos.com")
    assert servfail.value.errno == socket.EAI_AGAIN

    emulator.cloud.set_dns("timeout")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await resolver.resolve("api.sonos.com")

    emulator.cloud.set_dns(DnsFailure.NONE)
    resolver.failing_names["api.ws.sonos.com"] = DnsFailure.NXDOMAIN
    assert await resolver.resolve("api.sonos.com")
    with pytest.raises(socket.gaierror):
        await resolver.resolve("api.ws.sonos.com")
    assert resolver.queries[-1] == "api.ws.sonos.com"


def test_status_page(emulator: Emulator) -> None:
    page = emulator.cloud.status_page
    assert requests.get(page.url, timeout=1).json()["status"] == {
        "indicator": "none",
        "description": "All Systems Operational",
    }
    page.set_status("major")
    page.incidents = [{"name": "Music services degraded", "status": "investigating"}]
    assert requests.get(page.url, timeout=1).json()["status"]["indicator"] == "major"
    incidents = page.url.replace("status.json", "incidents/unresolved.json")
    assert requests.get(incidents, timeout=1).json()["incidents"][0]["status"] == "investigating"

    page.set_fault(StatusFault.HANG)
    with pytest.raises(requests.ReadTimeout):
        requests.get(page.url, timeout=0.3)
    page.set_fault(StatusFault.JUNK)
    with pytest.raises(requests.JSONDecodeError):
        requests.get(page.url, timeout=1).json()
    page.set_fault(StatusFault.HTTP_500)
    assert requests.get(page.url, timeout=1).status_code == 500
    page.set_fault(StatusFault.OFFLINE)
    with pytest.raises(requests.ConnectionError):
        requests.get(page.url, timeout=1)
    emulator.cloud.heal()
    assert requests.get(page.url, timeout=1).json()["status"]["indicator"] == "none"
    assert page.requests >= 5


def test_two_emulators_side_by_side() -> None:
    """Separate address ranges let a benchmark or demo run beside the test suite."""
    with Emulator("Sonos_Other", "127.0.3.2", "127.0.4.1") as other:
        player = other.household.add_player("Lab")
        assert player.ip == "127.0.3.2"
        assert soco.SoCo(player.ip).household_id == "Sonos_Other"
        assert other.cloud.endpoints["api.sonos.com"].ip == "127.0.4.1"


async def test_emulator_in_a_child_process() -> None:
    """The benchmark's emulator: another process serves the players, this one drives it."""
    with EmulatorProcess(
        [("Lab", {"model_name": "Sonos Era 100"}), ("Loft", {})],
        household_id="Sonos_Child",
        first_player_address="127.0.0.240",
        first_cloud_address="127.0.1.240",
    ) as child:
        assert child.pid != os.getpid()
        assert [(p.name, p.ip) for p in child.players] == [
            ("Lab", "127.0.0.240"),
            ("Loft", "127.0.0.241"),
        ]
        assert soco.SoCo("127.0.0.240").household_id == "Sonos_Child"
        child.set_fault("Lab", Fault.OFFLINE)
        with pytest.raises(requests.ConnectionError):
            ping("127.0.0.240")
        child.heal("Lab")
        assert ping("127.0.0.240") == {"CurrentVolume": "20"}
        child.set_zone_group_state_error(501)
        with pytest.raises(SoCoUPnPException):
            topology("127.0.0.241")
        with pytest.raises(RuntimeError, match="KeyError: 'Attic'"):
            child.heal("Attic")
        address = (await child.resolver.resolve("api.sonos.com"))[0]
        assert address == "127.0.1.240"
        with socket.create_connection((address, int(child.cloud.cloud_targets[0].split(":")[1]))):
            pass
    with pytest.raises(requests.ConnectionError):  # closed with the child
        ping("127.0.0.240")


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_nothing_leaves_loopback() -> None:
    """The suite's guard: a connection to any non-loopback address is refused before sending."""
    with pytest.raises(pytest_socket.SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)  # TEST-NET-1, never routed
    with pytest.raises(pytest_socket.SocketConnectBlockedError):
        requests.get("http://198.51.100.7:1400/xml/device_description.xml", timeout=0.1)
    with pytest.raises(RuntimeError, match="DNS resolution disabled"):
        socket.getaddrinfo("api.sonos.com", 443)


def test_emulator_loop_refuses_reentry(emulator: Emulator) -> None:
    async def reenter() -> None:
        emulator.loop.run(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="emulator loop itself"):
        emulator.loop.run(reenter())


def test_bonded_sets_as_the_integration_reads_them(emulator: Emulator) -> None:
    household = emulator.household
    arc, sub, rear_left, rear_right = household.add_home_theatre("Living Room")
    left, right = household.add_stereo_pair("Dining Room")
    boost = household.add_bridge()

    speaker = soco.SoCo(arc.ip)
    topology = parse_topology(speaker.zoneGroupTopology.GetZoneGroupState([])["ZoneGroupState"])
    assert {m.uid: (m.name, m.bond.role, m.bond.main) for m in topology.members} == {
        arc.uid: ("Living Room", Role.HOME_THEATRE, None),
        sub.uid: ("Living Room", Role.SUB, arc.uid),
        rear_left.uid: ("Living Room", Role.REAR_LEFT, arc.uid),
        rear_right.uid: ("Living Room", Role.REAR_RIGHT, arc.uid),
        left.uid: ("Dining Room", Role.LEFT, None),
        right.uid: ("Dining Room", Role.RIGHT, left.uid),
        boost.uid: ("BOOST", Role.NETWORK_DEVICE, None),
    }
    assert household.player("Living Room Rear Left") is rear_left


def test_satellites_go_with_their_main_unit_and_a_boost_plays_nothing(emulator: Emulator) -> None:
    household = emulator.household
    arc, sub, *_ = household.add_home_theatre("Living Room")
    _left, right = household.add_stereo_pair("Dining Room")
    boost = household.add_bridge()

    household.set_fault("Living Room", Fault.OFFLINE)
    with pytest.raises(requests.ConnectionError):
        ping(sub.ip)
    household.set_fault("Dining Room Left", Fault.OFFLINE)
    ping(right.ip)  # a pair's halves are on the network each on its own
    household.heal("Living Room")
    ping(sub.ip)

    with pytest.raises(SoCoUPnPException) as refused:
        ping(boost.ip)
    assert refused.value.error_code == "401"
    assert soco.SoCo(boost.ip).deviceProperties.GetHouseholdID([])["CurrentHouseholdID"]

    household.vanish("Living Room Sub", "UNKNOWN")
    topology = parse_topology(
        soco.SoCo(arc.ip).zoneGroupTopology.GetZoneGroupState([])["ZoneGroupState"]
    )
    (gone,) = topology.vanished
    assert (gone.uid, gone.reason, gone.bond.role, gone.bond.main) == (
        sub.uid,
        "UNKNOWN",
        Role.SUB,
        arc.uid,
    )
    household.rename("Living Room", "Cinema")
    assert household.player("Cinema Rear Left").name == "Cinema"


def test_event_subscriptions_are_granted_renewed_and_cancelled(emulator: Emulator) -> None:
    """UPnP eventing as a player does it (HA core's Sonos subscribes)."""
    player = emulator.household.add_player("Den")
    url = f"http://{player.ip}:1400/MediaRenderer/RenderingControl/Event"
    subscribe = {"CALLBACK": "<http://127.0.0.1:1401>", "NT": "upnp:event"}

    granted = requests.request(
        "SUBSCRIBE", url, headers={**subscribe, "TIMEOUT": "Second-1200"}, timeout=1
    )
    assert granted.status_code == 200
    assert granted.headers["TIMEOUT"] == "Second-1200"
    sid = granted.headers["SID"]
    assert sid.startswith(f"uuid:{player.uid}_sub")
    renewed = requests.request("SUBSCRIBE", url, headers={"SID": sid}, timeout=1)
    assert (renewed.status_code, renewed.headers["SID"]) == (200, sid)
    assert renewed.headers["TIMEOUT"] == "Second-3600"
    for headers in ({"NT": "upnp:event"}, {"SID": "uuid:unknown"}):
        assert requests.request("SUBSCRIBE", url, headers=headers, timeout=1).status_code == 412
    assert requests.request("UNSUBSCRIBE", url, headers={"SID": sid}, timeout=1).status_code == 200
    assert requests.request("UNSUBSCRIBE", url, headers={"SID": sid}, timeout=1).status_code == 412
    nowhere = f"http://{player.ip}:1400/Nothing"
    assert requests.request("SUBSCRIBE", nowhere, headers=subscribe, timeout=1).status_code == 404

    emulator.household.set_fault("Den", Fault.HTTP_403)  # UPnP off refuses eventing too
    assert requests.request("SUBSCRIBE", url, headers=subscribe, timeout=1).status_code == 403


class _Subscriber(http.server.BaseHTTPRequestHandler):
    """Takes NOTIFY requests, as a subscriber's event listener does; keeps what came."""

    received: ClassVar[list[tuple[dict[str, str], str]]] = []

    def do_NOTIFY(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        """Quiet."""


def test_initial_topology_event_only_when_events_reach_subscribers(emulator: Emulator) -> None:
    """A blocked way back is the default; open, a topology subscriber gets its first event."""
    player = emulator.household.add_player("Den")
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Subscriber)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    _Subscriber.received.clear()
    subscribe = {"CALLBACK": f"<http://127.0.0.1:{listener.server_port}/>", "NT": "upnp:event"}
    topology = f"http://{player.ip}:1400/ZoneGroupTopology/Event"
    rendering = f"http://{player.ip}:1400/MediaRenderer/RenderingControl/Event"
    try:
        requests.request("SUBSCRIBE", topology, headers=subscribe, timeout=1)
        time.sleep(0.5)
        assert _Subscriber.received == []  # the default: events never come back

        emulator.household.events_reach_subscribers = True
        requests.request("SUBSCRIBE", rendering, headers=subscribe, timeout=1)
        sid = requests.request("SUBSCRIBE", topology, headers=subscribe, timeout=1).headers["SID"]
        deadline = time.monotonic() + 2
        while not _Subscriber.received and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # room for an event that should not come
        ((headers, body),) = _Subscriber.received
        assert (headers["SID"], headers["SEQ"], headers["NTS"]) == (sid, "0", "upnp:propchange")
        state = body.partition("<ZoneGroupState>")[2].partition("</ZoneGroupState>")[0]
        members = parse_topology(unescape(state)).members
        assert [member.uid for member in members] == [player.uid]

        # One event per change of the topology, none for what does not change it.
        _Subscriber.received.clear()
        emulator.household.set_fault("Den", Fault.SLOW, 0.01)
        emulator.household.rename("Den", "Study")
        kitchen = emulator.household.add_player("Kitchen")
        deadline = time.monotonic() + 2
        while len(_Subscriber.received) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        ours = [event for event in _Subscriber.received if event[0]["SID"] == sid]
        assert sorted(headers["SEQ"] for headers, _ in ours) == ["1", "2"]
        assert len(_Subscriber.received) == 4  # the first subscription gets them too
        last = max(ours, key=lambda event: event[0]["SEQ"])[1]
        state = last.partition("<ZoneGroupState>")[2].partition("</ZoneGroupState>")[0]
        assert {(m.uid, m.name) for m in parse_topology(unescape(state)).members} == {
            (player.uid, "Study"),
            (kitchen.uid, "Kitchen"),
        }
    finally:
        listener.shutdown()
        listener.server_close()


def test_answers_what_core_sonos_asks_when_it_sets_a_speaker_up(emulator: Emulator) -> None:
    """`scripts/develop --core-sonos`: alarms, favorites, play mode, levels, switches, media."""
    player = emulator.household.add_player("Den", model_name="Sonos Arc", model_number="S19")
    speaker = soco.SoCo(player.ip)

    assert speaker.alarmClock.ListAlarms()["CurrentAlarmListVersion"] == f"{player.uid}:1"
    assert len(speaker.music_library.get_sonos_favorites()) == 0
    assert speaker.play_mode == "NORMAL"
    assert (speaker.mute, speaker.bass, speaker.treble, speaker.loudness) == (False, 0, 0, True)
    assert speaker.soundbar_audio_input_format_code == 0
    assert speaker.status_light is True
    assert speaker.get_current_transport_info()["current_transport_state"] == "STOPPED"
    assert speaker.get_current_track_info()["playlist_position"] == "0"
