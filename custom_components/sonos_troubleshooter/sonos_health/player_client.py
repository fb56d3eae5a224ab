"""Talking to Sonos players: soco builds and reads the SOAP, aiohttp carries it, bounded.

Whatever answers at a player's address (a player with a firmware bug, one on a terrible Wi-Fi
link, another device that took the address, a misbehaving proxy) costs a bounded, small amount
of time and memory and no thread:

- each exchange (connect, send, headers, body) runs in the event loop under one total
  deadline (`asyncio.timeout`); at the deadline the task is cancelled and the socket closed;
- no answer is held past `MAX_BODY` bytes, after decompression (see `bounded_http`);
- XML with a DOCTYPE (entity tricks, external entities) or nested deeper than `MAX_DEPTH` is
  refused by a streaming pre-check before anything builds a tree from it;
- one exchange at a time per address (`InFlight`): a call to an address whose previous
  exchange has not ended waits for it within its own deadline, and gives up at once (as not
  answering) when that exchange is already past its deadline;
- each exchange on a connection of its own, opened for it and closed after it, never kept
  for the next (`new_session`): a player may close a connection after answering without
  saying so, and a later exchange sent on it would fail though the player is healthy.

soco keeps the part it is good at, without sending anything itself: its service classes build
the SOAP request (`build_command`) and unwrap the answer (`unwrap_arguments`, UPnP faults via
`handle_upnp_error`). Its conveniences (`get_speaker_info`, `uid`, `all_zones`) and its SCPD
fetching are not used, and its global configuration is left alone: HA core's sonos
integration shares it.
"""

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final
from urllib.parse import urlparse
import xml.etree.ElementTree as ET
from xml.parsers import expat

import aiohttp
import soco
from soco.exceptions import SoCoException, SoCoUPnPException
from soco.services import Service

from .bounded_http import REQUEST_HEADERS, RefusedAnswerError, read_capped

UPNP_DEVICE = "{urn:schemas-upnp-org:device-1-0}"
ZONE_PLAYER = "urn:schemas-upnp-org:device:ZonePlayer:1"
PORT = 1400
# Bytes, after decompression. A device description is about 5 kB. A ZoneGroupState member is
# about 700 bytes (1.2 kB with its own ZoneGroup), escaped once more inside the SOAP envelope
# (about +15 %): a 32-player household's answer is about 45 kB, one with satellites and
# VanishedDevices well under 100 kB. 256 kB leaves room for the largest real households and
# firmware that adds attributes, and is what a stuck or hostile device can make us hold.
MAX_BODY: Final = 256 * 1024
# Element depth: a SOAP answer with the ZoneGroupState in it is 5 deep, the ZoneGroupState
# itself 5 (ZoneGroupState > ZoneGroups > ZoneGroup > ZoneGroupMember > Satellite), a device
# description 6. Deeper is not a player talking.
MAX_DEPTH: Final = 32
MASTER_VOLUME = [("InstanceID", 0), ("Channel", "Master")]


class ProbeFailure(StrEnum):
    """Why a player could not be read; the values are translation keys and diagnostics."""

    NO_ANSWER = "no_answer"  # refused, unroutable, reset: nothing answers on the address
    TIMEOUT = "timeout"  # connected (or tried to) but no answer in time
    UPNP_DISABLED = "upnp_disabled"  # HTTP 403: the player's UPnP control is switched off
    INVALID_ANSWER = "invalid_answer"  # answered, but not with anything a player says
    NOT_SONOS = "not_sonos"  # some other device answers on port 1400
    # Another Sonos player answers at the address (its device description names another
    # UDN): DHCP gave the address of a player that is gone to another one. What answers
    # there is not this player, so it counts as not answering.
    ADDRESS_TAKEN = "address_taken"

    @property
    def player_answered(self) -> bool:
        """True when something answered: the player is on the network even if unhealthy."""
        return self not in (
            ProbeFailure.NO_ANSWER,
            ProbeFailure.TIMEOUT,
            ProbeFailure.ADDRESS_TAKEN,
        )


def answered(failure: ProbeFailure | None) -> bool:
    """Tell whether a player answered a probe (properly, or at least it is on the network)."""
    return failure is None or failure.player_answered


class SonosError(Exception):
    """A player could not be read; `failure` says why (the message, for logs, says more)."""

    def __init__(self, failure: ProbeFailure, detail: str) -> None:
        """Keep the failure kind apart from the human detail."""
        super().__init__(f"{failure}: {detail}")
        self.failure = failure


class UPnPFaultError(SonosError):
    """The player answered with a UPnP fault: it is there, but refused or failed the action."""

    def __init__(self, code: str, detail: str) -> None:
        """Keep the fault's UPnP error code (e.g. "501": action failed)."""
        super().__init__(ProbeFailure.INVALID_ANSWER, detail)
        self.code = code


# GetZoneGroupState's fault when the household's document is too large to answer (past about
# 16 kB; SoCo/SoCo issue 935): the player is fine, and still sends the document in events.
TOPOLOGY_TOO_LARGE: Final = "501"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerInfo:
    """What a player's device description says about it."""

    uid: str
    name: str
    model_name: str
    model_number: str
    serial_number: str
    mac_address: str
    software_version: str
    display_version: str
    hardware_version: str


class Role(StrEnum):
    """What a player is in its room, as the Sonos app tells it; the values are translation keys.

    One room can hold several players: a home theatre's main unit (a soundbar or an Amp) with
    its satellites (Sub, rear left, rear right), a stereo pair (left, right, maybe a Sub), and
    a BOOST or Bridge is no speaker at all but a network device that carries SonosNet.
    """

    PLAYER = "player"  # the only player of its room
    HOME_THEATRE = "home_theatre"  # the main unit of a home theatre, satellites bonded to it
    SUB = "sub"
    REAR_LEFT = "rear_left"
    REAR_RIGHT = "rear_right"
    LEFT = "left"  # of a stereo pair
    RIGHT = "right"
    NETWORK_DEVICE = "network_device"  # a BOOST or Bridge (IsZoneBridge)

    @property
    def satellite(self) -> bool:
        """Sub and rears: bonded to a main unit, which they play through."""
        return self in (Role.SUB, Role.REAR_LEFT, Role.REAR_RIGHT)


# A player's channels in its set's map name its role. A home theatre's map (HTSatChanMapSet)
# gives the main unit `LF,RF`, a Sub `SW`, rears `LR`/`RR` (Era 300 rears add height
# channels: `LR,LTR`), so its first channel tells. A ChannelMapSet gives a stereo pair
# `LF,LF` and `RF,RF`, a Sub bonded to it `SW,SW`, and a single speaker with a Sub `LF,RF`:
# that one plays both channels and is named by its room, so all its channels tell.
HOME_THEATRE_CHANNELS = {
    "LF": Role.HOME_THEATRE,
    "SW": Role.SUB,
    "LR": Role.REAR_LEFT,
    "RR": Role.REAR_RIGHT,
}
PAIR_CHANNELS = {
    "LF,LF": Role.LEFT,
    "RF,RF": Role.RIGHT,
    "SW,SW": Role.SUB,
    "SW": Role.SUB,
    "LF,RF": Role.PLAYER,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Bond:
    """A player's place in its room: its role, and the main unit of its bonded set if any."""

    role: Role = Role.PLAYER
    main: str | None = None
    """The set's main unit: a home theatre's for its satellites, the left speaker for the
    rest of a stereo pair; None for a main unit itself and a player on its own."""


class Uplink(StrEnum):
    """How a player reaches the network; the values are stored and in diagnostics."""

    WIFI = "wifi"  # a radio to the user's network: Wi-Fi, or SonosNet between players
    ETHERNET = "ethernet"  # a cable
    MAIN_UNIT = "main_unit"  # a home theatre satellite's own link to its soundbar or Amp


# ConnectionType (S2 firmware of 2025 and later) as real players report it.
CONNECTION_TYPES = {
    "1": Uplink.ETHERNET,  # the wired Amp of home-assistant/core#168015, with EthLink="1"
    "5": Uplink.WIFI,  # the soundbar and Kitchen of the Oszkar/oto capture, on Wi-Fi
    "6": Uplink.MAIN_UNIT,  # that soundbar's rear, WirelessMode="2", on 5660 MHz
}


def uplink_of(attributes: Mapping[str, str]) -> Uplink:
    """Decide how a player reaches the network from its topology attributes.

    Sonos documents none of these attributes; the rule follows public captures of real
    players, and a player's role can overrule it (a home theatre's satellite always talks
    through its main unit: see `Household.uplink`):

    1. `EthLink="1"` is a cable, whatever else the player says: a 94.1 Amp on Ethernet reports
       `WirelessMode="0" ConnectionType="1" ChannelFreq="2437" WifiEnabled="1" EthLink="1"`
       (home-assistant/core#168015), so its Wi-Fi channel and its radio being on mean nothing.
    2. `ConnectionType` where firmware writes it: 1 a cable, 5 Wi-Fi, 6 a satellite's link to
       its main unit (WirelessMode="2" ChannelFreq="5660" on a rear, Oszkar/oto's capture of
       a 94.1 soundbar). `EthLink="0"` beside `ConnectionType="1"` would contradict it: no cable.
    3. `WirelessMode="2"`: a satellite's link (the same capture).
    4. `WifiEnabled="0"` in a document without `EthLink` (S1 firmware, S2 up to about 66.4):
       the radio is off, so only a cable can carry it. Inferred, not seen in a capture.
    5. Anything else is a radio. `WirelessMode="1"` is Wi-Fi to the router (Move 2 and Wi-Fi
       pairs in S2 81.1 captures). `WirelessMode="0"` without `EthLink` (every player of the
       S1 57.9 document in svrooij/node-sonos-ts and of the S2 66.4 one in
       home-assistant/core#57884) is SonosNet mode, which the player on the cable and the ones
       meshing over the air share: which one a player is cannot be read. **A guess**: on the
       air, the more likely (a SonosNet household has one or two players on a cable, the rest
       mesh), and the one whose steps (power cycle, router restart) a wired player can also use.
    """
    ethernet_link = attributes.get("EthLink")
    if ethernet_link == "1":
        return Uplink.ETHERNET
    connection = CONNECTION_TYPES.get(attributes.get("ConnectionType", ""))
    if connection is not None and not (connection is Uplink.ETHERNET and ethernet_link == "0"):
        return connection
    if attributes.get("WirelessMode") == "2":
        return Uplink.MAIN_UNIT
    if ethernet_link is None and attributes.get("WifiEnabled") == "0":
        return Uplink.ETHERNET
    return Uplink.WIFI


@dataclass(frozen=True, slots=True, kw_only=True)
class TopologyMember:
    """A player the household lists as present, with Sonos' network hints."""

    uid: str
    name: str  # the room (ZoneName), shared by every player of a bonded set
    ip: str
    channel_freq: int | None
    """The radio channel it reports, in MHz: on a cable or a satellite's link, not the band of
    the user's Wi-Fi (see `shown_band`)."""
    uplink: Uplink = Uplink.WIFI
    bond: Bond = Bond()
    boot_seq: int | None = None
    """Rises each time the player starts (a power glitch, a crash, an update)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VanishedPlayer:
    """A player the household lists in VanishedDevices, with the reason it gives."""

    uid: str
    name: str
    reason: str
    last_known_ip: str | None
    bond: Bond = Bond()
    last_seen: datetime | None = None
    """When the household last saw it (`LastSeenUTC`); None when absent or unreadable."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Topology:
    """The household as one player sees it (ZoneGroupState)."""

    members: tuple[TopologyMember, ...]
    vanished: tuple[VanishedPlayer, ...]


def wifi_band(channel_freq: int | None) -> str | None:
    """2.4 or 5 GHz from a ChannelFreq in MHz (2412-2484 or 5170-5895); None when unknown."""
    if channel_freq is None:
        return None
    if 2400 <= channel_freq < 2500:
        return "2.4"
    if 4900 <= channel_freq < 5900:
        return "5"
    return None


def shown_band(link: Uplink, channel_freq: int | None) -> str | None:
    """Return the Wi-Fi band to show for a player: only one on the air has one.

    A wired player still reports a channel (2437 on the wired Amp of #168015), and a
    satellite reports its private link to the soundbar (5660): neither is the user's Wi-Fi.
    """
    return wifi_band(channel_freq) if link is Uplink.WIFI else None


# --- XML: checked by a streaming parser before anything builds a tree --------------------
class _RefusedError(Exception):
    """Raised from an expat handler to stop at the first thing a player never sends."""


def check_xml(document: bytes | str) -> None:
    """Refuse a document with a DOCTYPE, nested deeper than MAX_DEPTH, or not well-formed.

    Entity expansion (billion laughs, quadratic blowup) and external entities all need a
    DOCTYPE; expat reports its start before reading a single declaration in it. No player
    document has one. The check builds nothing, so it costs a pass over at most MAX_BODY.
    """
    parser = expat.ParserCreate()
    depth = 0

    def start(_name: str, _attributes: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise _RefusedError(f"nested deeper than {MAX_DEPTH} elements")

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*_: object) -> None:
        raise _RefusedError("a DOCTYPE (entity declarations are refused)")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        parser.Parse(document, True)
    except _RefusedError as error:
        raise SonosError(ProbeFailure.INVALID_ANSWER, str(error)) from error
    except expat.ExpatError as error:
        raise SonosError(ProbeFailure.INVALID_ANSWER, f"not XML ({error})") from error


def parse_device_description(body: bytes) -> PlayerInfo:
    """Read a device description; refuse anything that is not a Sonos ZonePlayer."""
    check_xml(body)
    root = ET.fromstring(body)  # noqa: S314 - checked above: no DOCTYPE, bounded depth
    device = root.find(f"{UPNP_DEVICE}device")
    if device is None or device.findtext(f"{UPNP_DEVICE}deviceType") != ZONE_PLAYER:
        raise SonosError(ProbeFailure.NOT_SONOS, "the device is not a Sonos ZonePlayer")

    def text(tag: str) -> str:
        return (device.findtext(f"{UPNP_DEVICE}{tag}") or "").strip()

    udn = text("UDN").removeprefix("uuid:")
    serial = text("serialNum")
    if not udn.startswith("RINCON_"):
        raise SonosError(ProbeFailure.INVALID_ANSWER, "no player id in the device description")
    return PlayerInfo(
        uid=udn,
        name=text("roomName"),
        model_name=text("modelName"),
        model_number=text("modelNumber"),
        serial_number=serial,
        mac_address=serial.split(":")[0].replace("-", ":"),
        software_version=text("softwareVersion"),
        display_version=text("displayVersion"),
        hardware_version=text("hardwareVersion"),
    )


def _channel_maps(elements: Iterable[ET.Element]) -> dict[str, Bond]:
    """Read every channel map of the document into each listed player's bond.

    Each map is repeated, sometimes partly, on the members of its set (a satellite's own map
    may list only the main unit and itself), and a satellite that dropped off is still in its
    main unit's map, so every element's maps are read, the VanishedDevices' included.
    """
    bonds: dict[str, Bond] = {}
    for element in elements:
        for attribute, roles, first_only in (
            ("HTSatChanMapSet", HOME_THEATRE_CHANNELS, True),
            ("ChannelMapSet", PAIR_CHANNELS, False),
        ):
            channels = {
                uid: codes.split(",")[0] if first_only else codes
                for uid, _, codes in (
                    entry.partition(":") for entry in element.get(attribute, "").split(";")
                )
                if uid and codes
            }
            if len(channels) < 2:  # a map of one player bonds nothing
                continue
            main = next((uid for uid, code in channels.items() if code.startswith("LF")), None)
            for uid, code in channels.items():
                if (role := roles.get(code)) is not None:
                    bonds[uid] = Bond(role=role, main=None if uid == main else main)
    return bonds


def _bond(element: ET.Element, bonds: Mapping[str, Bond]) -> Bond:
    """Return a player's bond: a BOOST or Bridge is a network device even where Invisible."""
    if element.get("IsZoneBridge") == "1":
        return Bond(role=Role.NETWORK_DEVICE)
    return bonds.get(element.get("UUID", ""), Bond())


def _utc(text: str | None) -> datetime | None:
    """Read a `LastSeenUTC` ("2026-11-22T08:00:00Z"); None when absent or not a moment."""
    try:
        moment = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_topology(state: str) -> Topology:
    """Read a ZoneGroupState document (with or without the ZoneGroups wrapper).

    Names are the rooms (ZoneName, its entities unescaped); bonded sets come from the
    channel maps, not from the groups: a group is rooms playing together for a while, which
    changes nothing about which player is which.
    """
    check_xml(state)
    root = ET.fromstring(state)  # noqa: S314 - checked above: no DOCTYPE, bounded depth
    groups = root.find("ZoneGroups")
    elements = [
        element
        for member in (groups if groups is not None else root).iter("ZoneGroupMember")
        for element in (member, *member.iter("Satellite"))
    ]
    devices = list(root.iter("Device"))
    bonds = _channel_maps([*elements, *devices])
    members: dict[str, TopologyMember] = {}
    # Satellites (surrounds, Sub) are players of their own that can drop off the network too.
    for element in elements:
        uid = element.get("UUID")
        host = urlparse(element.get("Location", "")).hostname
        if not uid or not host:
            continue
        freq = element.get("ChannelFreq", "")
        boot_seq = element.get("BootSeq", "")
        members[uid] = TopologyMember(
            uid=uid,
            name=element.get("ZoneName", ""),
            ip=host,
            channel_freq=int(freq) if freq.isdigit() else None,
            uplink=uplink_of(element.attrib),
            bond=_bond(element, bonds),
            boot_seq=int(boot_seq) if boot_seq.isdigit() else None,
        )
    vanished = tuple(
        VanishedPlayer(
            uid=device.get("UUID", ""),
            name=device.get("ZoneName", ""),
            reason=device.get("Reason", ""),
            last_known_ip=device.get("LastKnownIP"),
            bond=_bond(device, bonds),
            last_seen=_utc(device.get("LastSeenUTC")),
        )
        for device in devices
        if device.get("UUID")
    )
    return Topology(members=tuple(members.values()), vanished=vanished)


# --- the wire: one bounded exchange at a time per address -------------------------------
def new_session(headers: Mapping[str, str] | None = None) -> aiohttp.ClientSession:
    """Return a session whose every exchange owns its connection: opened, used once, closed.

    Why not a pooling session (Home Assistant's shared one included): aiohttp keeps a
    connection for the next request unless the *answer* says `Connection: close`; that our
    request says so does not count (RFC 9112 section 9.6 forbids a client that sent `close`
    to send more on that connection). The same section obliges a server that receives
    `close` to close after its answer but makes saying so only a SHOULD, and section 9.5
    lets a server close an idle connection at any time. Embedded HTTP servers do both. The
    pool then hands the next exchange a socket the player has closed, and it fails with
    ServerDisconnectedError or a reset; aiohttp retries that only for idempotent methods,
    and the control calls are POSTs: a healthy player would count a miss. aiohttp offers no
    per-request way out of its pool, but a connector with `force_close` pools nothing.

    `limit=0`: no cap of the connector's own for calls to wait on within their deadline;
    `IN_FLIGHT` already allows one connection per address. No cookies are kept: a player
    sets none, and a device that does makes us hold nothing.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True, limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
        headers=headers,
    )


def owns_connections(session: aiohttp.ClientSession) -> bool:
    """Tell whether `session` gives each exchange a connection of its own (`new_session`)."""
    return session.connector is not None and session.connector.force_close


class InFlight:
    """The exchanges under way, by address: at most one each.

    Process-wide (the config flow and every household share it), as the address is. A call
    to a busy address waits for the exchange under way to end, within its own deadline; one
    whose exchange under way is already past its deadline (it should have ended: stuck) gives
    up at once, without opening a socket.
    """

    def __init__(self) -> None:
        """Start with nothing under way."""
        self._by_address: dict[str, tuple[float, asyncio.Future[None]]] = {}

    def busy(self, address: str) -> bool:
        """Tell whether an exchange with `address` is under way."""
        return address in self._by_address

    async def claim(self, address: str, deadline: float) -> asyncio.Future[None]:
        """Wait until `address` is free, then hold it until the returned future is resolved."""
        loop = asyncio.get_running_loop()
        while (held := self._by_address.get(address)) is not None:
            held_deadline, done = held
            if held_deadline <= loop.time() or done.get_loop() is not loop:
                raise SonosError(ProbeFailure.TIMEOUT, "the previous exchange has not ended")
            await asyncio.wait([done])  # a cancelled wait leaves the holder's future alone
        done = loop.create_future()
        self._by_address[address] = (deadline, done)
        return done

    def release(self, address: str, done: asyncio.Future[None]) -> None:
        """End the exchange that `claim` started."""
        if self._by_address.get(address, (0.0, None))[1] is done:
            del self._by_address[address]
        if not done.done():
            done.set_result(None)


IN_FLIGHT: Final = InFlight()


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    charset: str | None
    body: bytes
    headers: Mapping[str, str]

    def text(self) -> str:
        try:
            return self.body.decode(self.charset or "utf-8")
        except (LookupError, UnicodeDecodeError) as error:
            raise SonosError(ProbeFailure.INVALID_ANSWER, f"undecodable ({error})") from error


async def _exchange(
    session: aiohttp.ClientSession,
    ip: str,
    method: str,
    path: str,
    time_limit: float,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> _Answer:
    """One request and its whole answer, within `time_limit` seconds in all and MAX_BODY bytes.

    On a connection of its own, closed when it ends: `session` comes from `new_session`
    (a session that pools connections is refused with ValueError, before anything is sent).
    """
    if not owns_connections(session):
        raise ValueError("players are asked over a session from new_session(), which pools nothing")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + time_limit
    try:
        async with asyncio.timeout_at(deadline):
            done = await IN_FLIGHT.claim(ip, deadline)
            try:
                response = await session.request(
                    method,
                    f"http://{ip}:{PORT}{path}",
                    headers={**REQUEST_HEADERS, "Connection": "close", **(headers or {})},
                    data=data,
                    allow_redirects=False,
                    auto_decompress=False,
                )
                try:
                    return _Answer(
                        response.status,
                        response.charset,
                        await read_capped(response, MAX_BODY),
                        response.headers,
                    )
                finally:
                    response.close()  # the socket is closed, whatever state the answer is in
            finally:
                IN_FLIGHT.release(ip, done)
    except TimeoutError as error:
        raise SonosError(ProbeFailure.TIMEOUT, "no answer in time") from error
    except RefusedAnswerError as error:
        raise SonosError(ProbeFailure.INVALID_ANSWER, str(error)) from error
    except (aiohttp.ClientError, OSError) as error:
        raise SonosError(ProbeFailure.NO_ANSWER, type(error).__name__) from error


def _speaker(ip: str) -> soco.SoCo:
    """Return soco's object for `ip` (no network); its services build and read the SOAP."""
    try:
        return soco.SoCo(ip)
    except ValueError as error:  # soco 0.31 addresses players by IPv4 literal only
        raise SonosError(ProbeFailure.NO_ANSWER, f"not an IPv4 address: {ip!r}") from error


async def _soap(
    session: aiohttp.ClientSession,
    ip: str,
    service: Service,
    action: str,
    arguments: list[tuple[str, object]],
    *,
    time_limit: float,
) -> dict[str, str]:
    """Send one UPnP action built by soco; return its output arguments as soco reads them."""
    headers, envelope = service.build_command(action, arguments)
    answer = await _exchange(
        session,
        ip,
        "POST",
        service.control_url,
        time_limit,
        headers=headers,
        data=envelope.encode(),
    )
    if answer.status == 403:
        raise SonosError(ProbeFailure.UPNP_DISABLED, "HTTP 403: UPnP is disabled")
    if answer.status not in (200, 500):
        raise SonosError(ProbeFailure.INVALID_ANSWER, f"HTTP {answer.status}")
    try:
        check_xml(answer.body)
    except SonosError as error:
        raise SonosError(ProbeFailure.INVALID_ANSWER, f"HTTP {answer.status}, {error}") from error
    text = answer.text()
    try:
        if answer.status == 500:
            service.handle_upnp_error(text)  # raises: a UPnP fault, or an unreadable one
        result = service.unwrap_arguments(text)
    except SoCoUPnPException as error:
        raise UPnPFaultError(error.error_code, str(error)) from error
    except SoCoException as error:
        raise SonosError(ProbeFailure.INVALID_ANSWER, str(error)) from error
    except (ET.ParseError, AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        # Well-formed XML that is not a SOAP envelope trips soco's unwrapping (e.g. a
        # TypeError on a missing Body): a bad answer from the player, not a crash of ours.
        raise SonosError(ProbeFailure.INVALID_ANSWER, f"not a SOAP answer ({error!r})") from error
    return result


def _output(result: dict[str, str], name: str, missing: str) -> str:
    """Return an output argument of a UPnP answer; a bad answer when it is absent or empty."""
    if not (value := result.get(name)):
        raise SonosError(ProbeFailure.INVALID_ANSWER, missing)
    return str(value)


async def fetch_player_info(
    session: aiohttp.ClientSession, ip: str, time_limit: float
) -> PlayerInfo:
    """Read the device description of the player at `ip`."""
    _speaker(ip)  # the same addresses as the control calls: IPv4 literals
    answer = await _exchange(session, ip, "GET", "/xml/device_description.xml", time_limit)
    if answer.status == 403:
        raise SonosError(ProbeFailure.UPNP_DISABLED, "HTTP 403: UPnP is disabled")
    if answer.status == 404:
        raise SonosError(ProbeFailure.NOT_SONOS, "no Sonos device description")
    if answer.status != 200:
        raise SonosError(ProbeFailure.INVALID_ANSWER, f"HTTP {answer.status}")
    return parse_device_description(answer.body)


async def ping(session: aiohttp.ClientSession, ip: str, time_limit: float) -> None:
    """Check the player answers, with the cheap call HA core also uses (master volume)."""
    await _soap(
        session,
        ip,
        _speaker(ip).renderingControl,
        "GetVolume",
        MASTER_VOLUME,
        time_limit=time_limit,
    )


async def ping_network_device(session: aiohttp.ClientSession, ip: str, time_limit: float) -> None:
    """Check a BOOST or Bridge answers, with a call it has (it plays nothing).

    It has no RenderingControl: GetVolume fails with UPnP error 401. Like every Sonos
    device it answers DeviceProperties.
    """
    await fetch_household_id(session, ip, time_limit)


async def fetch_household_id(session: aiohttp.ClientSession, ip: str, time_limit: float) -> str:
    """Return the id all players of a household share (the config entry's unique id)."""
    result = await _soap(
        session, ip, _speaker(ip).deviceProperties, "GetHouseholdID", [], time_limit=time_limit
    )
    return _output(result, "CurrentHouseholdID", "no household id")


async def fetch_topology(session: aiohttp.ClientSession, ip: str, time_limit: float) -> Topology:
    """Return the household's members and vanished players, as the player at `ip` sees them."""
    result = await _soap(
        session, ip, _speaker(ip).zoneGroupTopology, "GetZoneGroupState", [], time_limit=time_limit
    )
    return parse_topology(_output(result, "ZoneGroupState", "empty ZoneGroupState"))


# --- topology events (UPnP eventing, GENA) ------------------------------------------------
TOPOLOGY_EVENTS_PATH: Final = "/ZoneGroupTopology/Event"
EVENT_NAMESPACE: Final = "{urn:schemas-upnp-org:event-1-0}"


def _granted_seconds(answer: _Answer) -> int:
    """Return how long a subscription was granted for (its TIMEOUT header, "Second-N")."""
    granted = answer.headers.get("TIMEOUT", "").strip().removeprefix("Second-")
    if not granted.isdigit() or int(granted) == 0:
        raise SonosError(ProbeFailure.INVALID_ANSWER, f"HTTP {answer.status}, no TIMEOUT")
    return int(granted)


async def _event_request(
    session: aiohttp.ClientSession,
    ip: str,
    method: str,
    headers: dict[str, str],
    time_limit: float,
) -> _Answer:
    answer = await _exchange(session, ip, method, TOPOLOGY_EVENTS_PATH, time_limit, headers=headers)
    if answer.status == 403:
        raise SonosError(ProbeFailure.UPNP_DISABLED, "HTTP 403: UPnP is disabled")
    if answer.status != 200:
        raise SonosError(ProbeFailure.INVALID_ANSWER, f"{method}: HTTP {answer.status}")
    return answer


async def subscribe_topology(
    session: aiohttp.ClientSession, ip: str, callback: str, seconds: int, time_limit: float
) -> tuple[str, int]:
    """Subscribe `callback` to the player's topology events; return the SID and granted seconds."""
    answer = await _event_request(
        session,
        ip,
        "SUBSCRIBE",
        {"CALLBACK": f"<{callback}>", "NT": "upnp:event", "TIMEOUT": f"Second-{seconds}"},
        time_limit,
    )
    if not (sid := answer.headers.get("SID", "").strip()):
        raise SonosError(ProbeFailure.INVALID_ANSWER, "SUBSCRIBE: no SID")
    return sid, _granted_seconds(answer)


async def renew_subscription(
    session: aiohttp.ClientSession, ip: str, sid: str, seconds: int, time_limit: float
) -> int:
    """Renew a subscription before it lapses; return the seconds granted."""
    answer = await _event_request(
        session, ip, "SUBSCRIBE", {"SID": sid, "TIMEOUT": f"Second-{seconds}"}, time_limit
    )
    return _granted_seconds(answer)


async def unsubscribe(session: aiohttp.ClientSession, ip: str, sid: str, time_limit: float) -> None:
    """Cancel a subscription, so the player stops sending and forgets the callback."""
    await _event_request(session, ip, "UNSUBSCRIBE", {"SID": sid}, time_limit)


def parse_topology_event(body: bytes) -> Topology | None:
    """Read the ZoneGroupState an event carries; None when it carries other variables only.

    A player's first event carries every variable of the service; later ones only those that
    changed (a group renamed, a software update offered), so not every event has one.
    """
    check_xml(body)
    root = ET.fromstring(body)  # noqa: S314 - checked above: no DOCTYPE, bounded depth
    if root.tag != f"{EVENT_NAMESPACE}propertyset":
        raise SonosError(ProbeFailure.INVALID_ANSWER, "not a UPnP event")
    state = root.findtext(f"{EVENT_NAMESPACE}property/ZoneGroupState")
    return parse_topology(state) if state else None
