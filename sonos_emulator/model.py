"""What an emulated Sonos household is: players, their faults, and the XML they serve.

Everything here is plain data and text rendering; `server.py` puts it on the wire.
The device descriptions mirror what real players (S2 firmware 16.x) return, trimmed to the
fields soco and the integration read; the topology's members carry every attribute real
ones do, at their length (see `_attributes`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
import uuid
from xml.sax.saxutils import escape, quoteattr

PORT = 1400


class Fault(StrEnum):
    """How a player misbehaves on the wire."""

    NONE = "none"
    OFFLINE = "offline"  # nothing listens on its address: connection refused
    HANG = "hang"  # accepts the connection, never answers
    JUNK = "junk"  # HTTP 200 with a body that is not XML
    HTTP_500 = "http_500"  # internal server error that is not a UPnP fault
    HTTP_403 = "http_403"  # UPnP disabled on the player (2025 firmware default on some systems)
    SLOW = "slow"  # answers correctly after `Player.delay` seconds
    LOSSY = "lossy"  # a link that drops single packets: one answer in five a resend late (1 s)
    NOT_SONOS = "not_sonos"  # some other UPnP device answers on port 1400
    XML_BOMB = "xml_bomb"  # HTTP 200, text/xml: nested entities that expand to gigabytes
    HUGE = "huge"  # HTTP 200, text/xml: a 3 MB body
    WRONG_TYPE = "wrong_type"  # HTTP 200, application/json instead of XML
    # Hostile or broken on the wire (what the integration must survive with bounded cost):
    DRIP = "drip"  # HTTP 200 headers, then the body one byte a second, forever (chunked)
    SILENT_BODY = "silent_body"  # HTTP 200 headers with a Content-Length, then silence
    ENDLESS_CHUNKED = "endless_chunked"  # HTTP 200, a chunked body that never ends, fast
    ENDLESS_LENGTH = "endless_length"  # HTTP 200, Content-Length 1 TB, bytes as fast as read
    GZIP_BOMB = "gzip_bomb"  # HTTP 200, Content-Encoding gzip: 32 kB that expand to 32 MB
    DEEP_NESTING = "deep_nesting"  # HTTP 200, well-formed XML 20,000 elements deep (140 kB)
    RESET = "reset"  # HTTP 200 headers and part of the body, then a TCP reset
    SLOW_ACCEPT = "slow_accept"  # the listen queue is full: connecting never completes


class Connections(StrEnum):
    """How the players' HTTP servers treat connections: legal servers differ.

    RFC 9112 section 9.6: a client's `Connection: close` obliges the server to close the
    connection after its answer, but saying so in the answer (`Connection: close`) is only a
    SHOULD; section 9.5: a server may close a connection at any time, an idle persistent one
    included, without a word. Embedded servers use both freedoms.
    """

    STANDARD = "standard"  # persistent unless the client says close; then echoes it and closes
    # Every answer HTTP/1.1 without a Connection header, and the socket closed after it: a
    # client's close honoured without saying so (and a client that did not ask closed too).
    CLOSES_SILENTLY = "closes_silently"
    # Never a Connection header either; the socket closed after the answer only when the
    # client asked, else kept open until it has been idle IDLE_DROP seconds, then closed
    # without a word (a client that sends on it just then finds it closed).
    DROPS_IDLE = "drops_idle"


IDLE_DROP = 0.5  # seconds a Connections.DROPS_IDLE server keeps an idle connection open

# Reasons a household gives in VanishedDevices; HA core treats these as expected absences.
REASON_POWERED_OFF = "powered off"
REASON_SLEEPING = "sleeping"
REASON_BLUETOOTH = "switch to bluetooth"
REASON_UPGRADE = "upgrade"


@dataclass
class Player:
    """One emulated player; mutate it through `SonosHousehold` so the wire follows."""

    uid: str
    name: str
    ip: str
    model_name: str = "Sonos One"
    model_number: str = "S18"
    software_version: str = "85.0-64110"
    display_version: str = "16.3"
    hardware_version: str = "1.20.1.6-1.1"
    serial: str = ""  # "00-11-22-33-44-55:A"; derived from the uid when empty
    # The radio channel it reports in MHz: a wired player reports one too, as real ones do
    # (2437 on the wired Amp of home-assistant/core#168015); None: it reports none.
    channel_freq: int | None = 2437
    wired: bool = False  # on a cable: EthLink="1" ConnectionType="1" (see `_network`)
    # The firmware generation whose documents it serves: 2 (S2), or 1 (S1: no EthLink, no
    # ConnectionType, and no VanishedDevices when every player is S1).
    swgen: int = 2
    portable: bool = False
    fault: Fault = Fault.NONE
    delay: float = 0.0  # seconds, for Fault.SLOW
    vanished_reason: str | None = None  # set while the household lists it in VanishedDevices
    vanished_at: datetime | None = None  # since when (its LastSeenUTC there)
    # Its place in its room, as the integration's `Role` values name it, and the main unit of
    # its bonded set (a home theatre's for a Sub or rear, the left speaker of a stereo pair).
    role: str = "player"
    main: str | None = None
    boot_seq: int = 42  # the topology's BootSeq: rises each time the player starts
    volume: int = 20
    # "GET /path" / "POST /path#Action", the latest 64 (a long benchmark must not grow it),
    # how many requests arrived in all, and over how many connections.
    requests: deque[str] = field(default_factory=lambda: deque(maxlen=64))
    request_count: int = 0
    connection_count: int = 0

    def __post_init__(self) -> None:
        if not self.serial:
            mac = self.uid.removeprefix("RINCON_")[:12]
            self.serial = "-".join(mac[i : i + 2] for i in range(0, 12, 2)) + ":E"

    @property
    def mac(self) -> str:
        """The MAC address, as soco derives it from the serial number."""
        return self.serial.split(":")[0]

    @property
    def location(self) -> str:
        return f"http://{self.ip}:{PORT}/xml/device_description.xml"

    @property
    def label(self) -> str:
        """What `scripts/simulate` calls it: the room, and the role where the room holds several."""
        word = ROLE_WORDS.get(self.role)
        return f"{self.name} {word}" if word else self.name

    @property
    def bridge(self) -> bool:
        """A BOOST or Bridge: SonosNet's network device, with no audio services."""
        return self.role == "network_device"

    @property
    def listening(self) -> bool:
        """True when something should accept connections on the player's address."""
        return self.fault is not Fault.OFFLINE and self.vanished_reason is None


ROLE_WORDS = {
    "sub": "Sub",
    "rear_left": "Rear Left",
    "rear_right": "Rear Right",
    "left": "Left",
    "right": "Right",
}
# The channels each role takes in its set's channel map: a home theatre's (HTSatChanMapSet)
# and a stereo pair's (ChannelMapSet).
HOME_THEATRE_CHANNELS = {
    "home_theatre": "LF,RF",
    "sub": "SW",
    "rear_left": "LR",
    "rear_right": "RR",
}
PAIR_CHANNELS = {"left": "LF,LF", "right": "RF,RF", "sub": "SW,SW"}


def make_uid(index: int) -> str:
    """A stable, realistic player id: RINCON_ + 12 hex digits of MAC + 01400."""
    return f"RINCON_48A6B8{index:06X}01400"


def device_description(player: Player) -> str:
    """/xml/device_description.xml as a real player serves it."""
    services = "".join(
        f"<service><serviceType>urn:schemas-upnp-org:service:{name}:1</serviceType>"
        f"<serviceId>urn:upnp-org:serviceId:{name}</serviceId>"
        f"<controlURL>{prefix}/{name}/Control</controlURL>"
        f"<eventSubURL>{prefix}/{name}/Event</eventSubURL>"
        f"<SCPDURL>/xml/{name}1.xml</SCPDURL></service>"
        for prefix, name in (("", "DeviceProperties"), ("", "ZoneGroupTopology"))
    )
    renderer = (
        ""
        if player.bridge
        else "".join(
            f"<service><serviceType>urn:schemas-upnp-org:service:{name}:1</serviceType>"
            f"<serviceId>urn:upnp-org:serviceId:{name}</serviceId>"
            f"<controlURL>/MediaRenderer/{name}/Control</controlURL>"
            f"<eventSubURL>/MediaRenderer/{name}/Event</eventSubURL>"
            f"<SCPDURL>/xml/{name}1.xml</SCPDURL></service>"
            for name in ("RenderingControl", "AVTransport")
        )
    )
    return (
        '<?xml version="1.0" encoding="utf-8" ?>'
        '<root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion>"
        "<device>"
        "<deviceType>urn:schemas-upnp-org:device:ZonePlayer:1</deviceType>"
        f"<friendlyName>{escape(player.ip)} - {escape(player.model_name)}</friendlyName>"
        "<manufacturer>Sonos, Inc.</manufacturer>"
        "<manufacturerURL>http://www.sonos.com</manufacturerURL>"
        f"<modelNumber>{escape(player.model_number)}</modelNumber>"
        f"<modelDescription>Sonos {escape(player.model_name)}</modelDescription>"
        f"<modelName>{escape(player.model_name)}</modelName>"
        f"<softwareVersion>{escape(player.software_version)}</softwareVersion>"
        f"<swGen>2</swGen>"
        f"<hardwareVersion>{escape(player.hardware_version)}</hardwareVersion>"
        f"<serialNum>{escape(player.serial)}</serialNum>"
        f"<MACAddress>{escape(player.mac.replace('-', ':'))}</MACAddress>"
        f"<UDN>uuid:{escape(player.uid)}</UDN>"
        "<iconList><icon><id>0</id><mimetype>image/png</mimetype><width>48</width>"
        "<height>48</height><depth>24</depth><url>/img/icon-S18.png</url></icon></iconList>"
        f"<displayVersion>{escape(player.display_version)}</displayVersion>"
        f"<roomName>{escape(player.name)}</roomName>"
        f"<displayName>{escape(player.model_name)}</displayName>"
        f"<serviceList>{services}</serviceList>"
        + (
            ""
            if player.bridge
            else "<deviceList><device>"
            "<deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType>"
            f"<friendlyName>{escape(player.name)} - {escape(player.model_name)}</friendlyName>"
            f"<UDN>uuid:{escape(player.uid)}_MR</UDN>"
            f"<serviceList>{renderer}</serviceList>"
            "</device></deviceList>"
        )
        + "</device></root>"
    )


def foreign_device_description(ip: str) -> str:
    """What a non-Sonos UPnP device (here a router) answers on the same path."""
    return (
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>"
        f"<friendlyName>Router {escape(ip)}</friendlyName><manufacturer>Example Networks</manufacturer>"
        "<modelName>Gateway 9000</modelName><UDN>uuid:5e1f0a00-0000-0000-0000-000000000001</UDN>"
        "</device></root>"
    )


# A home theatre's satellite talks to its main unit over their own 5 GHz link; a 94.1 rear
# reports it on 5660 MHz (Oszkar/oto, native/crates/wire/src/adapter.rs, captured 2026-05-19).
SATELLITE_CHANNEL = 5660
# Models with an HDMI input, which report HdmiCecAvailable="1" (the Amp of #168015 does).
HDMI_MODELS = ("Sonos Amp", "Sonos Arc", "Sonos Arc Ultra", "Sonos Beam")


def _network(player: Player, *, satellite: bool) -> str:
    """The network attributes, as real firmware writes them for the way the player connects.

    - on Wi-Fi (S2 94.1): `WirelessMode="1" ConnectionType="5"`, `EthLink="0"` (the soundbar
      and Kitchen of the Oszkar/oto capture);
    - on a cable: `WirelessMode="0" ConnectionType="1"`, a `ChannelFreq` still there, radio on,
      `EthLink="1"` (the 94.1 Amp of home-assistant/core#168015);
    - a home theatre's satellite: `WirelessMode="2" ConnectionType="6"` on a 5 GHz channel of
      its link to the main unit (the rear of the Oszkar/oto capture);
    - S1 (57.9, svrooij/node-sonos-ts): no `ConnectionType` nor `EthLink`, but
      `WirelessLeafOnly` and `HasConfiguredSSID`; a player on SonosNet (here: wired) says
      `WirelessMode="0" HasConfiguredSSID="0"`, one on Wi-Fi `"1"` and `"1"`.
    """
    freq = player.channel_freq
    if satellite:
        freq = freq if freq is not None and 4900 <= freq < 5900 else SATELLITE_CHANNEL
    channel = "" if freq is None else f' ChannelFreq="{freq}"'
    if player.swgen == 1:
        mode = "0" if player.wired else "1"
        return (
            f' WirelessMode="{mode}" WirelessLeafOnly="0" HasConfiguredSSID="{mode}"{channel}'
            ' BehindWifiExtender="0" WifiEnabled="1"'
        )
    mode, connection = ("2", "6") if satellite else ("0", "1") if player.wired else ("1", "5")
    return (
        f' WirelessMode="{mode}" ConnectionType="{connection}"{channel}'
        f' BehindWifiExtender="0" WifiEnabled="1" EthLink="{int(player.wired and not satellite)}"'
    )


def _more_info(player: Player) -> str:
    """MoreInfo: a portable's battery (a Move 2 in home-assistant/core#133231), else empty."""
    return "RawBattPct:100,BattPct:100,BattChg:CHARGING,BattTmp:12" if player.portable else ""


def _attributes(player: Player, *, satellite: bool = False, **extra: str) -> str:
    """A ZoneGroupMember's or Satellite's attributes, in the order and length of real ones.

    The attribute set of S2 94.1 (home-assistant/core#168015; Oszkar/oto's capture) and of
    S1 57.9 (svrooij/node-sonos-ts): about 650 bytes a member, as in real households, so a
    household reaches the size past which players answer 501 with as many players as a real
    one. `Invisible` and `IsZoneBridge` are written only when set, as real players do;
    bonded sets carry their channel map and an `ActiveZoneID`. `VirtualLineInSource` (a
    stream such as Spotify Connect playing) is left out: nothing plays here.
    """
    s1 = player.swgen == 1
    invisible = extra.pop("Invisible", "0")
    maps = "".join(f" {name}={quoteattr(value)}" for name, value in extra.items())
    if extra:  # a bonded set: one zone id for all its players
        maps += f' ActiveZoneID="{uuid.uuid5(uuid.NAMESPACE_URL, player.main or player.uid)}"'
    hdmi = int(player.model_name in HDMI_MODELS and not satellite)
    s2_only = "" if s1 else ' HeadphoneSwapActive="0"'
    ports = "" if s1 else ' SSLPort="1443" HHSSLPort="1843"'
    return (
        f"UUID={quoteattr(player.uid)} Location={quoteattr(player.location)}"
        f' ZoneName={quoteattr(player.name)} Icon="" Configuration="1"'
        + (' Invisible="1"' if invisible == "1" else "")
        + (' IsZoneBridge="1"' if player.bridge else "")
        + f' SoftwareVersion={quoteattr(player.software_version)} SWGen="{player.swgen}"'
        + (
            ' MinCompatibleVersion="56.0-00000" LegacyCompatibleVersion="36.0-00000"'
            if s1
            else ' MinCompatibleVersion="84.0-00000" LegacyCompatibleVersion="58.0-00000"'
        )
        + f'{maps} BootSeq="{player.boot_seq}" TVConfigurationError="0"'
        + f' HdmiCecAvailable="{hdmi}"{_network(player, satellite=satellite)}'
        + ' Orientation="0" RoomCalibrationState="4" SecureRegState="3"'
        + f' VoiceConfigState="0" MicEnabled="0"{s2_only} AirPlayEnabled="{int(not s1)}"'
        + f' IdleState="1" MoreInfo={quoteattr(_more_info(player))}{ports}'
    )


def _channel_map(main: Player, members: list[Player], channels: dict[str, str]) -> str:
    return ";".join(f"{player.uid}:{channels[player.role]}" for player in (main, *members))


# What an entry says when the emulator does not know since when (a player built vanished).
LAST_SEEN_UNKNOWN = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _vanished(
    player: Player, reason: str | None = None, since: datetime | None = None, **extra: str
) -> str:
    """A VanishedDevices entry with the attributes newer firmware gives (see the captures).

    LastSeenUTC is when it went (its own `vanished_at`, or `since`: its main unit's), in
    the captures' form "2026-11-22T08:00:00Z".
    """
    maps = "".join(f" {name}={quoteattr(value)}" for name, value in extra.items())
    seen = (player.vanished_at or since or LAST_SEEN_UNKNOWN).astimezone(UTC)
    return (
        f"<Device UUID={quoteattr(player.uid)} ZoneName={quoteattr(player.name)}"
        f" Reason={quoteattr(reason or player.vanished_reason or '')} ModelInfo={quoteattr(player.model_number)}"
        f" Mac={quoteattr(player.mac.replace('-', ':'))} LastKnownIP={quoteattr(player.ip)}"
        f' LastSeenUTC="{seen:%Y-%m-%dT%H:%M:%SZ}" MoreInfo=""{maps} SWGen="2"/>'
    )


def zone_group_state(players: list[Player]) -> str:
    """The ZoneGroupState document (firmware >= 10.1 layout): one group per room.

    Modelled on public captures of real households (read, not copied):
    - a home theatre: the main unit's ZoneGroupMember carries the set's HTSatChanMapSet and
      nests a `Satellite` (Invisible, its own address, a map of the main unit and itself) per
      Sub or rear; a satellite gone is still in the main unit's map and in VanishedDevices
      with Reason "UNKNOWN", ModelInfo, LastKnownIP and LastSeenUTC (a verbatim capture of
      an S2 Beam-class soundbar with two rears in the Rust client Oszkar/oto, 2026, found by
      a code search whose hit named no file; openhab/openhab-addons issue 9874, an Arc with two rears and a
      Sub; home-assistant/core issue 57884, a home theatre with a Sub);
    - a stereo pair: two ZoneGroupMembers of one room with the same ChannelMapSet
      (`LF,LF`, `RF,RF`), the right one Invisible; a Sub bonded to the pair takes `SW,SW`
      (SoCo/SoCo pull request 870, two Play:1 with a Sub; home-assistant/core issue 131381);
    - a BOOST or Bridge: a group of its own whose member is Invisible with IsZoneBridge="1"
      (SoCo/SoCo soco/core.py, the ZoneGroupState example of `_parse_zone_group_state`;
      ebaauw/homebridge-zp issues 88 and 90, a BOOST BR200 and a Bridge ZB100).
    Players listed with a `vanished_reason` go to VanishedDevices, as the household reports
    players that left (sleep, power-off, Bluetooth, upgrade, or UNKNOWN).
    """
    by_main: dict[str, list[Player]] = {}
    for player in players:
        if player.main is not None:
            by_main.setdefault(player.main, []).append(player)
    groups = []
    vanished = []
    for player in players:
        if player.main is not None:
            continue  # drawn with its main unit
        bonded = by_main.get(player.uid, [])
        if player.role == "home_theatre":
            ht_map = _channel_map(player, bonded, HOME_THEATRE_CHANNELS)
            present = [member for member in bonded if member.vanished_reason is None]
            satellites = "".join(
                f"<Satellite {_attributes(member, satellite=True, Invisible='1', HTSatChanMapSet=_channel_map(player, [member], HOME_THEATRE_CHANNELS))}/>"
                for member in present
            )
            vanished += [
                _vanished(member, HTSatChanMapSet=ht_map)
                for member in bonded
                if member.vanished_reason is not None
            ]
            members = [
                f"<ZoneGroupMember {_attributes(player, HTSatChanMapSet=ht_map)}>{satellites}</ZoneGroupMember>"
            ]
        elif player.role == "left":
            pair_map = _channel_map(player, bonded, PAIR_CHANNELS)
            members = [
                f"<ZoneGroupMember {_attributes(member, Invisible='0' if member is player else '1', ChannelMapSet=pair_map)}/>"
                for member in (player, *bonded)
                if member.vanished_reason is None
            ]
            vanished += [
                _vanished(member, ChannelMapSet=pair_map)
                for member in bonded
                if member.vanished_reason is not None
            ]
        else:
            invisible = "1" if player.bridge else "0"
            members = [f"<ZoneGroupMember {_attributes(player, Invisible=invisible)}/>"]
        if player.vanished_reason is not None:  # its set goes with it
            vanished += [
                _vanished(member, player.vanished_reason, player.vanished_at)
                for member in (player, *bonded)
                if member is player or member.vanished_reason is None
            ]
            continue
        groups.append(
            f"<ZoneGroup Coordinator={quoteattr(player.uid)} ID={quoteattr(player.uid + ':1')}>"
            + "".join(members)
            + "</ZoneGroup>"
        )
    # S1 firmware writes no VanishedDevices (svrooij/node-sonos-ts, a 57.9 household): a
    # player that left is only missing from the groups.
    s1 = bool(players) and all(player.swgen == 1 for player in players)
    return (
        "<ZoneGroupState><ZoneGroups>"
        + "".join(groups)
        + "</ZoneGroups>"
        + ("" if s1 else f"<VanishedDevices>{''.join(vanished)}</VanishedDevices>")
        + "</ZoneGroupState>"
    )


# Service descriptions (SCPD). soco fetches one when an action is called without explicit
# arguments, and needs every action's argumentList and every related state variable.
# service -> action -> (inputs, outputs); each argument is (name, state variable).
type Arguments = tuple[tuple[str, str], ...]
SERVICES: dict[str, dict[str, tuple[Arguments, Arguments]]] = {
    "DeviceProperties": {
        "GetHouseholdID": ((), (("CurrentHouseholdID", "HouseholdID"),)),
        "GetZoneAttributes": (
            (),
            (
                ("CurrentZoneName", "ZoneName"),
                ("CurrentIcon", "Icon"),
                ("CurrentConfiguration", "Configuration"),
            ),
        ),
        "GetZoneInfo": (
            (),
            (
                ("SerialNumber", "SerialNumber"),
                ("SoftwareVersion", "SoftwareVersion"),
                ("DisplaySoftwareVersion", "DisplaySoftwareVersion"),
                ("HardwareVersion", "HardwareVersion"),
                ("IPAddress", "IPAddress"),
                ("MACAddress", "MACAddress"),
                ("HTAudioIn", "HTAudioIn"),
            ),
        ),
    },
    "ZoneGroupTopology": {
        "GetZoneGroupState": ((), (("ZoneGroupState", "ZoneGroupState"),)),
    },
    "RenderingControl": {
        "GetVolume": (
            (("InstanceID", "A_ARG_TYPE_InstanceID"), ("Channel", "A_ARG_TYPE_Channel")),
            (("CurrentVolume", "Volume"),),
        ),
        "SetVolume": (
            (
                ("InstanceID", "A_ARG_TYPE_InstanceID"),
                ("Channel", "A_ARG_TYPE_Channel"),
                ("DesiredVolume", "Volume"),
            ),
            (),
        ),
    },
    "AVTransport": {
        "GetTransportInfo": (
            (("InstanceID", "A_ARG_TYPE_InstanceID"),),
            (
                ("CurrentTransportState", "TransportState"),
                ("CurrentTransportStatus", "TransportStatus"),
                ("CurrentSpeed", "TransportPlaySpeed"),
            ),
        ),
    },
}

# What HA core's Sonos integration also asks when it sets a speaker up (alarms, favorites,
# play mode, levels, switches, media), so `scripts/develop --core-sonos` runs it against the
# emulator: a quiet player with no alarm, favorite or music queued.
_INSTANCE = (("InstanceID", "A_ARG_TYPE_InstanceID"),)
_CHANNEL = (*_INSTANCE, ("Channel", "A_ARG_TYPE_Channel"))


def _outputs(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, f"A_ARG_TYPE_{name}") for name in names)


CORE_SONOS_SERVICES: dict[str, dict[str, tuple[Arguments, Arguments]]] = {
    "AlarmClock": {
        "ListAlarms": ((), _outputs("CurrentAlarmList", "CurrentAlarmListVersion")),
    },
    "ContentDirectory": {
        "Browse": (
            (
                ("ObjectID", "A_ARG_TYPE_ObjectID"),
                ("BrowseFlag", "A_ARG_TYPE_BrowseFlag"),
                ("Filter", "A_ARG_TYPE_Filter"),
                ("StartingIndex", "A_ARG_TYPE_Index"),
                ("RequestedCount", "A_ARG_TYPE_Count"),
                ("SortCriteria", "A_ARG_TYPE_SortCriteria"),
            ),
            _outputs("Result", "NumberReturned", "TotalMatches", "UpdateID"),
        ),
    },
    "AVTransport": {
        "GetTransportSettings": (_INSTANCE, _outputs("PlayMode", "RecQualityMode")),
        "GetCrossfadeMode": (_INSTANCE, _outputs("CrossfadeMode")),
        "GetPositionInfo": (
            _INSTANCE,
            _outputs(
                "Track",
                "TrackDuration",
                "TrackMetaData",
                "TrackURI",
                "RelTime",
                "AbsTime",
                "RelCount",
                "AbsCount",
            ),
        ),
        "GetMediaInfo": (
            _INSTANCE,
            _outputs(
                "NrTracks",
                "MediaDuration",
                "CurrentURI",
                "CurrentURIMetaData",
                "NextURI",
                "NextURIMetaData",
                "PlayMedium",
                "RecordMedium",
                "WriteStatus",
            ),
        ),
        "GetRemainingSleepTimerDuration": (
            _INSTANCE,
            _outputs("RemainingSleepTimerDuration", "CurrentSleepTimerGeneration"),
        ),
    },
    "RenderingControl": {
        "GetMute": (_CHANNEL, _outputs("CurrentMute")),
        "GetBass": (_INSTANCE, _outputs("CurrentBass")),
        "GetTreble": (_INSTANCE, _outputs("CurrentTreble")),
        "GetLoudness": (_CHANNEL, _outputs("CurrentLoudness")),
        "GetEQ": ((*_INSTANCE, ("EQType", "A_ARG_TYPE_EQType")), _outputs("CurrentValue")),
        "GetOutputFixed": (_INSTANCE, _outputs("CurrentFixed")),
        "GetSupportsOutputFixed": (_INSTANCE, _outputs("CurrentSupportsFixed")),
        "GetRoomCalibrationStatus": (
            _INSTANCE,
            _outputs("RoomCalibrationEnabled", "RoomCalibrationAvailable"),
        ),
    },
    "DeviceProperties": {
        "GetLEDState": ((), _outputs("CurrentLEDState")),
        "GetButtonLockState": ((), _outputs("CurrentButtonLockState")),
    },
}
for _service, _actions in CORE_SONOS_SERVICES.items():
    SERVICES[_service] = SERVICES.get(_service, {}) | _actions

# Their answers, the same for every player but its id (GetEQ: every EQ type off or level 0).
EMPTY_DIDL = (
    '<DIDL-Lite xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/"'
    ' xmlns:r="urn:schemas-rinconnetworks-com:metadata-1-0/"'
    ' xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/"></DIDL-Lite>'
)
CORE_SONOS_ANSWERS: dict[str, dict[str, str]] = {
    "ListAlarms": {"CurrentAlarmList": "<Alarms></Alarms>", "CurrentAlarmListVersion": "{uid}:1"},
    "Browse": {"Result": EMPTY_DIDL, "NumberReturned": "0", "TotalMatches": "0", "UpdateID": "1"},
    "GetTransportSettings": {"PlayMode": "NORMAL", "RecQualityMode": "NOT_IMPLEMENTED"},
    "GetCrossfadeMode": {"CrossfadeMode": "0"},
    "GetPositionInfo": {
        "Track": "0",
        "TrackDuration": "NOT_IMPLEMENTED",
        "TrackMetaData": "",
        "TrackURI": "",
        "RelTime": "NOT_IMPLEMENTED",
        "AbsTime": "NOT_IMPLEMENTED",
        "RelCount": "2147483647",
        "AbsCount": "2147483647",
    },
    "GetMediaInfo": {
        "NrTracks": "0",
        "MediaDuration": "NOT_IMPLEMENTED",
        "CurrentURI": "",
        "CurrentURIMetaData": "",
        "NextURI": "",
        "NextURIMetaData": "",
        "PlayMedium": "NONE",
        "RecordMedium": "NOT_IMPLEMENTED",
        "WriteStatus": "NOT_IMPLEMENTED",
    },
    "GetRemainingSleepTimerDuration": {
        "RemainingSleepTimerDuration": "",
        "CurrentSleepTimerGeneration": "0",
    },
    "GetMute": {"CurrentMute": "0"},
    "GetBass": {"CurrentBass": "0"},
    "GetTreble": {"CurrentTreble": "0"},
    "GetLoudness": {"CurrentLoudness": "1"},
    "GetEQ": {"CurrentValue": "0"},
    "GetOutputFixed": {"CurrentFixed": "0"},
    "GetSupportsOutputFixed": {"CurrentSupportsFixed": "0"},
    "GetRoomCalibrationStatus": {"RoomCalibrationEnabled": "0", "RoomCalibrationAvailable": "0"},
    "GetLEDState": {"CurrentLEDState": "On"},
    "GetButtonLockState": {"CurrentButtonLockState": "Off"},
}

_STATE_VARIABLE_TYPES = {"A_ARG_TYPE_InstanceID": "ui4", "Volume": "ui2"}
_ALLOWED_VALUES = {"A_ARG_TYPE_Channel": ("Master", "LF", "RF")}


def service_description(service: str) -> str:
    """The SCPD document of one service, built from `SERVICES`."""
    actions = []
    variables: dict[str, None] = {}
    for action, (inputs, outputs) in SERVICES[service].items():
        arguments = [
            f"<argument><name>{name}</name><direction>{direction}</direction>"
            f"<relatedStateVariable>{variable}</relatedStateVariable></argument>"
            for direction, args in (("in", inputs), ("out", outputs))
            for name, variable in args
        ]
        variables.update(dict.fromkeys(variable for _, variable in inputs + outputs))
        actions.append(
            f"<action><name>{action}</name><argumentList>{''.join(arguments)}</argumentList></action>"
        )
    state_table = []
    for variable in variables:
        allowed = "".join(
            f"<allowedValue>{value}</allowedValue>" for value in _ALLOWED_VALUES.get(variable, ())
        )
        state_table.append(
            f'<stateVariable sendEvents="no"><name>{variable}</name>'
            f"<dataType>{_STATE_VARIABLE_TYPES.get(variable, 'string')}</dataType>"
            + (f"<allowedValueList>{allowed}</allowedValueList>" if allowed else "")
            + "</stateVariable>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8" ?>'
        '<scpd xmlns="urn:schemas-upnp-org:service-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion>"
        f"<actionList>{''.join(actions)}</actionList>"
        f"<serviceStateTable>{''.join(state_table)}</serviceStateTable></scpd>"
    )


def soap_response(service: str, action: str, values: dict[str, str]) -> str:
    body = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in values.items())
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{action}Response xmlns:u="urn:schemas-upnp-org:service:{service}:1">{body}'
        f"</u:{action}Response></s:Body></s:Envelope>"
    )


def upnp_fault(code: int) -> str:
    """The SOAP fault a player returns with HTTP 500 (401 invalid action, 501 action failed)."""
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><s:Fault>'
        "<faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
        f'<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>{code}</errorCode>'
        "</UPnPError></detail></s:Fault></s:Body></s:Envelope>"
    )
