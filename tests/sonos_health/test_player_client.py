"""Reading players: typed results, one failure kind per way a player misbehaves.

And bounded time and memory whatever answers at the address (aiohttp in the event loop,
soco's SOAP).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
import gzip
import time
import zlib

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
import pytest

from custom_components.sonos_troubleshooter.sonos_health import bounded_http, player_client
from custom_components.sonos_troubleshooter.sonos_health.player_client import (
    IN_FLIGHT,
    MAX_BODY,
    MAX_DEPTH,
    ProbeFailure,
    SonosError,
    Uplink,
    check_xml,
    fetch_household_id,
    fetch_player_info,
    fetch_topology,
    new_session,
    parse_device_description,
    parse_topology,
    ping,
    wifi_band,
)
from sonos_emulator import REASON_SLEEPING, Emulator, Fault

type Call = Callable[[aiohttp.ClientSession, str, float], Awaitable[object]]
CALLS: dict[str, Call] = {
    "ping": ping,
    "topology": fetch_topology,
    "description": fetch_player_info,
    "household_id": fetch_household_id,
}
DEADLINE = 0.6  # seconds each call gets in the fault tests
SLACK = 0.25  # what ending "by the deadline" may add (loop scheduling, socket close)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The transport's own kind of session: a connection per exchange, as in production."""
    async with new_session() as session:
        yield session


async def test_player_info_household_and_topology(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    household = emulator.household
    arc = household.add_player("Living Room", model_name="Sonos Arc", model_number="S19")
    household.add_player("Roam", model_name="Sonos Roam", portable=True, channel_freq=5220)
    household.add_player("Amp", wired=True)
    household.sleep("Roam")

    info = await fetch_player_info(session, arc.ip, 2)
    topology = await fetch_topology(session, arc.ip, 2)

    assert info.uid == arc.uid
    assert info.name == "Living Room"
    assert info.model_name == "Sonos Arc"
    assert info.serial_number == arc.serial
    assert info.mac_address == arc.mac.replace("-", ":")
    assert await fetch_household_id(session, arc.ip, 2) == household.household_id
    assert [(m.name, m.ip, m.channel_freq, m.uplink) for m in topology.members] == [
        ("Living Room", arc.ip, 2437, Uplink.WIFI),
        ("Amp", household.player("Amp").ip, 2437, Uplink.ETHERNET),  # a channel, and a cable
    ]
    assert [(v.name, v.reason) for v in topology.vanished] == [("Roam", REASON_SLEEPING)]
    await ping(session, arc.ip, 1)
    # soco builds the requests; nothing fetches a service description (SCPD) first.
    assert not any("/xml/" in line and "1.xml" in line for line in arc.requests)
    assert "POST /MediaRenderer/RenderingControl/Control#GetVolume" in arc.requests
    assert not IN_FLIGHT.busy(arc.ip)


@pytest.mark.parametrize(
    ("fault", "failure"),
    [
        (Fault.OFFLINE, ProbeFailure.NO_ANSWER),
        (Fault.HANG, ProbeFailure.TIMEOUT),
        (Fault.JUNK, ProbeFailure.INVALID_ANSWER),
        (Fault.HTTP_500, ProbeFailure.INVALID_ANSWER),
        (Fault.HTTP_403, ProbeFailure.UPNP_DISABLED),
        (Fault.NOT_SONOS, ProbeFailure.NOT_SONOS),
        (Fault.WRONG_TYPE, ProbeFailure.INVALID_ANSWER),
    ],
)
async def test_player_info_failures(
    emulator: Emulator, session: aiohttp.ClientSession, fault: Fault, failure: ProbeFailure
) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", fault)
    with pytest.raises(SonosError) as raised:
        await fetch_player_info(session, player.ip, 0.5)
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
        (Fault.WRONG_TYPE, ProbeFailure.INVALID_ANSWER),
    ],
)
async def test_control_call_failures(
    emulator: Emulator, session: aiohttp.ClientSession, fault: Fault, failure: ProbeFailure
) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", fault)
    for call in (ping, fetch_household_id, fetch_topology):
        with pytest.raises(SonosError) as raised:
            await call(session, player.ip, 0.5)
        assert raised.value.failure is failure, call


async def test_zone_group_state_upnp_error(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.zone_group_state_error = 501
    with pytest.raises(SonosError, match="501") as raised:
        await fetch_topology(session, player.ip, 1)
    assert raised.value.failure is ProbeFailure.INVALID_ANSWER


# --- hostile devices: every call ends by its deadline, and nothing big is held ------------
HOSTILE = [
    # (fault, failure): slow ones run into the deadline, big ones are refused at the cap
    (Fault.DRIP, ProbeFailure.TIMEOUT),
    (Fault.SILENT_BODY, ProbeFailure.TIMEOUT),
    (Fault.SLOW_ACCEPT, ProbeFailure.TIMEOUT),
    (Fault.ENDLESS_CHUNKED, ProbeFailure.INVALID_ANSWER),
    (Fault.ENDLESS_LENGTH, ProbeFailure.INVALID_ANSWER),
    (Fault.HUGE, ProbeFailure.INVALID_ANSWER),
    (Fault.GZIP_BOMB, ProbeFailure.INVALID_ANSWER),
    (Fault.XML_BOMB, ProbeFailure.INVALID_ANSWER),
    (Fault.DEEP_NESTING, ProbeFailure.INVALID_ANSWER),
    (Fault.RESET, ProbeFailure.NO_ANSWER),
]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(("fault", "failure"), HOSTILE)
async def test_hostile_device_costs_one_deadline(
    emulator: Emulator,
    session: aiohttp.ClientSession,
    call: str,
    fault: Fault,
    failure: ProbeFailure,
) -> None:
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", fault)
    started = time.monotonic()
    with pytest.raises(SonosError) as raised:
        await CALLS[call](session, player.ip, DEADLINE)
    took = time.monotonic() - started
    assert raised.value.failure is failure, raised.value
    assert took < DEADLINE + SLACK
    if failure is ProbeFailure.TIMEOUT:
        assert took >= DEADLINE - 0.05
    assert not IN_FLIGHT.busy(player.ip)
    # Its socket is closed: the player gets no further request, and a healthy one answers.
    emulator.household.heal("Kitchen")
    await ping(session, player.ip, 1)


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        (Fault.ENDLESS_CHUNKED, "larger than the cap"),
        (Fault.ENDLESS_LENGTH, "Content-Length '1000000000000' over the cap"),
        (Fault.HUGE, "over the cap"),
        (Fault.GZIP_BOMB, "gzip answer expands past the cap"),
        (Fault.XML_BOMB, "DOCTYPE"),
        (Fault.DEEP_NESTING, f"nested deeper than {MAX_DEPTH}"),
    ],
)
async def test_oversized_answers_refused_without_holding_them(
    emulator: Emulator, session: aiohttp.ClientSession, fault: Fault, why: str
) -> None:
    """Refused for the right reason; what was read on the way is at most the cap and a chunk."""
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", fault)
    held: list[int] = []
    feed = bounded_http._Decoder.feed

    def counting(decoder: bounded_http._Decoder, data: bytes, room: int) -> bytes:
        out = feed(decoder, data, room)
        held.append(MAX_BODY - room + len(out))
        return out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounded_http._Decoder, "feed", counting)
        with pytest.raises(SonosError, match=why):
            await fetch_topology(session, player.ip, 2)
    assert max(held, default=0) <= MAX_BODY


async def test_busy_address_gets_no_second_exchange(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    """One exchange at a time per address.

    A second call waits for the first, within its own deadline, and never opens a socket
    while the first is under way.
    """
    player = emulator.household.add_player("Kitchen")
    emulator.household.set_fault("Kitchen", Fault.DRIP)
    first = asyncio.create_task(ping(session, player.ip, 1.0))
    await asyncio.sleep(0.2)
    assert IN_FLIGHT.busy(player.ip)
    requests = player.request_count
    started = time.monotonic()
    with pytest.raises(SonosError) as second:
        await fetch_topology(session, player.ip, 0.3)
    assert second.value.failure is ProbeFailure.TIMEOUT
    assert time.monotonic() - started < 0.3 + SLACK
    assert player.request_count == requests
    # The second waits for the first and then goes ahead.
    third = asyncio.create_task(fetch_household_id(session, player.ip, 2))
    await asyncio.sleep(0.1)
    emulator.household.heal("Kitchen")
    with pytest.raises(SonosError):
        await first
    assert await third == emulator.household.household_id


async def test_stuck_exchange_refuses_at_once(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    """An exchange past its deadline that has not ended: the next call gives up at once."""
    player = emulator.household.add_player("Kitchen")
    loop = asyncio.get_running_loop()
    done = await IN_FLIGHT.claim(player.ip, loop.time())  # stands for a stuck exchange
    try:
        started = time.monotonic()
        with pytest.raises(SonosError, match="previous exchange has not ended") as raised:
            await ping(session, player.ip, 2)
        assert raised.value.failure is ProbeFailure.TIMEOUT
        assert time.monotonic() - started < 0.1
        assert player.request_count == 0
    finally:
        IN_FLIGHT.release(player.ip, done)
    await ping(session, player.ip, 1)


async def test_a_pooling_session_is_refused(emulator: Emulator) -> None:
    """The transport asks players over a session that pools nothing (HA's shared one pools)."""
    player = emulator.household.add_player("Kitchen")
    async with aiohttp.ClientSession() as pooling:
        for call in CALLS.values():
            with pytest.raises(ValueError, match="new_session"):
                await call(pooling, player.ip, 1)
    assert player.request_count == 0
    assert not IN_FLIGHT.busy(player.ip)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_answers_decoded_and_capped(encoding: str) -> None:
    def compress(data: bytes) -> bytes:
        if encoding == "gzip":
            return gzip.compress(data)
        if encoding == "deflate":
            return zlib.compress(data)
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return packer.compress(data) + packer.flush()

    name = encoding.removeprefix("raw-")
    small = compress(b"<root>fine</root>")
    decoder = bounded_http._Decoder(name)
    assert decoder.feed(small[:3], 100) + decoder.feed(small[3:], 100) == b"<root>fine</root>"
    decoder.finish()
    bomb = compress(b" " * (50 * MAX_BODY))
    assert len(bomb) < MAX_BODY // 4
    decoder = bounded_http._Decoder(name)
    with pytest.raises(bounded_http.RefusedAnswerError, match="expands past the cap"):
        decoder.feed(bomb, MAX_BODY)
    decoder = bounded_http._Decoder(name)
    decoder.feed(small[:-4], 100)
    with pytest.raises(bounded_http.RefusedAnswerError, match="truncated"):
        decoder.finish()
    with pytest.raises(bounded_http.RefusedAnswerError, match="bad"):
        bounded_http._Decoder("gzip").feed(b"not gzip at all", 100)


def test_content_encoding_names() -> None:
    def encoding(value: str) -> str:
        return bounded_http._encoding(CIMultiDictProxy(CIMultiDict({"Content-Encoding": value})))

    assert encoding("x-gzip") == "gzip"
    assert encoding(" Identity ") == "identity"
    with pytest.raises(bounded_http.RefusedAnswerError, match="br"):
        encoding("br")


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>', "DOCTYPE"),
        (b"<r>&undefined;</r>", "not XML"),
        (b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1), "nested deeper"),
        (b"<a>unclosed", "not XML"),
    ],
)
def test_xml_refusals(document: bytes, why: str) -> None:
    with pytest.raises(SonosError, match=why) as raised:
        check_xml(document)
    assert raised.value.failure is ProbeFailure.INVALID_ANSWER
    check_xml(b"<a>" * MAX_DEPTH + b"</a>" * MAX_DEPTH)


def test_topology_refuses_an_entity_bomb_inside_the_envelope() -> None:
    """The ZoneGroupState is a document of its own inside the SOAP answer: checked too."""
    with pytest.raises(SonosError, match="DOCTYPE"):
        parse_topology('<!DOCTYPE z [<!ENTITY a "aaaa">]><ZoneGroupState>&a;</ZoneGroupState>')


async def test_not_an_ipv4_address(session: aiohttp.ClientSession) -> None:
    """Players are addressed (soco 0.31) players by IPv4 literal only: a hostname is never asked."""
    for call in CALLS.values():
        with pytest.raises(SonosError, match="not an IPv4 address") as raised:
            await call(session, "sonos.example", 1)
        assert raised.value.failure is ProbeFailure.NO_ANSWER


async def test_other_statuses_and_charsets(
    emulator: Emulator, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    player = emulator.household.add_player("Kitchen")
    answer = player_client._Answer(302, None, b"", {})

    async def redirect(*_: object, **__: object) -> player_client._Answer:
        return answer

    monkeypatch.setattr(player_client, "_exchange", redirect)
    with pytest.raises(SonosError, match="HTTP 302"):
        await fetch_player_info(session, player.ip, 1)
    with pytest.raises(SonosError, match="HTTP 302"):
        await ping(session, player.ip, 1)
    answer = player_client._Answer(200, "no-such-charset", b"<r/>", {})
    with pytest.raises(SonosError, match="undecodable"):
        await ping(session, player.ip, 1)
    answer = player_client._Answer(200, None, b"<r/>", {})
    with pytest.raises(SonosError, match="not a SOAP answer"):
        await ping(session, player.ip, 1)


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
    ("attribute", "last_seen"),
    [
        (' LastSeenUTC="2026-11-22T08:00:00Z"', datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        (' LastSeenUTC="2026-11-22T09:00:00+01:00"', datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        (' LastSeenUTC="2026-11-22T08:00:00"', datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        (' LastSeenUTC=" 2026-11-22T08:00:00Z "', datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        ("", None),  # older firmware has none
        (' LastSeenUTC=""', None),
        (' LastSeenUTC="yesterday"', None),
        (' LastSeenUTC="2026-13-45T99:00:00Z"', None),
        (' LastSeenUTC="0"', None),
    ],
)
def test_vanished_last_seen(attribute: str, last_seen: datetime | None) -> None:
    """`LastSeenUTC` of a VanishedDevices entry: read when it is a moment, else left out."""
    state = (
        "<ZoneGroupState><ZoneGroups/><VanishedDevices>"
        f'<Device UUID="RINCON_V" ZoneName="Roam" Reason="sleeping"{attribute}/>'
        "</VanishedDevices></ZoneGroupState>"
    )
    [gone] = parse_topology(state).vanished
    assert gone.last_seen == last_seen
    assert gone.reason == "sleeping"


@pytest.mark.parametrize(
    ("freq", "band"),
    [(2412, "2.4"), (2484, "2.4"), (5180, "5"), (5825, "5"), (None, None), (60000, None)],
)
def test_wifi_band(freq: int | None, band: str | None) -> None:
    assert wifi_band(freq) == band
