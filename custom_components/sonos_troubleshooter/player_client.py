"""Talking to Sonos players: soco and requests, synchronous, always with a timeout.

Every function here blocks and must run in Home Assistant's executor. soco's own conveniences
(`get_speaker_info`, `uid`, `all_zones`) are avoided on purpose: they poll the topology with no
timeout, may subscribe to events, and cache answers per address for the whole process, which
HA core's sonos integration shares. Calling services with explicit arguments and a `timeout`
keeps every request bounded and leaves soco's global state alone.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlparse
import xml.etree.ElementTree as ET

import requests
import soco
from soco.cache import NullCache
from soco.exceptions import SoCoException

# soco keeps each answer in a cache that expires "after 0 seconds", i.e. once the clock has
# moved: two polls within one clock tick, or under a frozen clock, would be served the old
# answer, and a cached answer must never count as a player answering.
NO_CACHE = NullCache()
UPNP_DEVICE = "{urn:schemas-upnp-org:device-1-0}"
ZONE_PLAYER = "urn:schemas-upnp-org:device:ZonePlayer:1"
MAX_BODY = 2 * 1024 * 1024  # bytes; a device description is ~5 kB, a 32-player topology ~40 kB
MASTER_VOLUME = [("InstanceID", 0), ("Channel", "Master")]


class ProbeFailure(StrEnum):
    """Why a player could not be read; the values are translation keys and diagnostics."""

    NO_ANSWER = "no_answer"  # refused, unroutable, reset: nothing answers on the address
    TIMEOUT = "timeout"  # connected (or tried to) but no answer in time
    UPNP_DISABLED = "upnp_disabled"  # HTTP 403: the player's UPnP control is switched off
    INVALID_ANSWER = "invalid_answer"  # answered, but not with anything a player says
    NOT_SONOS = "not_sonos"  # some other device answers on port 1400

    @property
    def player_answered(self) -> bool:
        """True when something answered: the player is on the network even if unhealthy."""
        return self not in (ProbeFailure.NO_ANSWER, ProbeFailure.TIMEOUT)


def answered(failure: ProbeFailure | None) -> bool:
    """Tell whether a player answered a probe (properly, or at least it is on the network)."""
    return failure is None or failure.player_answered


class SonosError(Exception):
    """A player could not be read; `failure` says why."""

    def __init__(self, failure: ProbeFailure, detail: str) -> None:
        """Keep the failure kind apart from the human detail."""
        super().__init__(f"{failure}: {detail}")
        self.failure = failure
        self.detail = detail


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


@dataclass(frozen=True, slots=True, kw_only=True)
class TopologyMember:
    """A player the household lists as present, with Sonos' network hints."""

    uid: str
    name: str
    ip: str
    software_version: str | None
    channel_freq: int | None
    wired: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VanishedPlayer:
    """A player the household lists in VanishedDevices, with the reason it gives."""

    uid: str
    name: str
    reason: str
    last_known_ip: str | None


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


def _failure_from(error: Exception) -> SonosError:
    """Map what requests, soco and ElementTree raise to one of our failure kinds."""
    if isinstance(error, SonosError):
        return error
    if isinstance(error, requests.Timeout):
        return SonosError(ProbeFailure.TIMEOUT, "no answer in time")
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else None
        if status == 403:
            return SonosError(ProbeFailure.UPNP_DISABLED, "HTTP 403: UPnP is disabled")
        return SonosError(ProbeFailure.INVALID_ANSWER, f"HTTP {status}")
    if isinstance(error, requests.RequestException):
        return SonosError(ProbeFailure.NO_ANSWER, type(error).__name__)
    if isinstance(error, ET.ParseError):
        return SonosError(ProbeFailure.INVALID_ANSWER, f"not XML ({error})")
    return SonosError(ProbeFailure.INVALID_ANSWER, f"{type(error).__name__}: {error}")


def _get(url: str, timeout: float) -> bytes:
    """GET a document, refusing error statuses and bodies too large for what players send."""
    with requests.get(url, timeout=timeout, stream=True) as response:
        response.raise_for_status()
        body = response.raw.read(MAX_BODY + 1, decode_content=True)
    if len(body) > MAX_BODY:
        raise SonosError(ProbeFailure.INVALID_ANSWER, "answer larger than 2 MB")
    return bytes(body)


def parse_device_description(body: bytes) -> PlayerInfo:
    """Read a device description; refuse anything that is not a Sonos ZonePlayer."""
    root = ET.fromstring(body)  # noqa: S314 - expat refuses entity expansion bombs
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


def parse_topology(state: str) -> Topology:
    """Read a ZoneGroupState document (with or without the ZoneGroups wrapper)."""
    root = ET.fromstring(state)  # noqa: S314 - expat refuses entity expansion bombs
    groups = root.find("ZoneGroups")
    members: dict[str, TopologyMember] = {}
    # Satellites (surrounds, Sub) are players of their own that can drop off the network too.
    for member in (groups if groups is not None else root).iter("ZoneGroupMember"):
        for element in (member, *member.iter("Satellite")):
            uid = element.get("UUID")
            host = urlparse(element.get("Location", "")).hostname
            if not uid or not host:
                continue
            freq = element.get("ChannelFreq", "")
            members[uid] = TopologyMember(
                uid=uid,
                name=element.get("ZoneName", ""),
                ip=host,
                software_version=element.get("SoftwareVersion"),
                channel_freq=int(freq) if freq.isdigit() else None,
                wired=element.get("EthLink") == "1",
            )
    vanished = tuple(
        VanishedPlayer(
            uid=device.get("UUID", ""),
            name=device.get("ZoneName", ""),
            reason=device.get("Reason", ""),
            last_known_ip=device.get("LastKnownIP"),
        )
        for device in root.iter("Device")
        if device.get("UUID")
    )
    return Topology(members=tuple(members.values()), vanished=vanished)


def fetch_player_info(ip: str, timeout: float) -> PlayerInfo:
    """Read the device description of the player at `ip`."""
    try:
        return parse_device_description(
            _get(f"http://{ip}:1400/xml/device_description.xml", timeout)
        )
    except requests.HTTPError as error:
        if error.response is not None and error.response.status_code == 404:
            raise SonosError(ProbeFailure.NOT_SONOS, "no Sonos device description") from error
        raise _failure_from(error) from error
    except (requests.RequestException, ET.ParseError) as error:
        raise _failure_from(error) from error


def _call[T](call: Callable[[], T]) -> T:
    """Run one soco call, turning whatever it raises into a SonosError."""
    try:
        return call()
    except (requests.RequestException, SoCoException, ET.ParseError, ValueError) as error:
        raise _failure_from(error) from error
    except (AttributeError, IndexError, KeyError, TypeError) as error:
        # Well-formed XML that is not a SOAP envelope trips soco's unwrapping (e.g. a
        # TypeError on a missing Body): a bad answer from the player, not a crash of ours.
        raise SonosError(ProbeFailure.INVALID_ANSWER, f"not a SOAP answer ({error!r})") from error


def _output(result: object, name: str, missing: str) -> str:
    """Return an output argument of a UPnP answer; a bad answer when it is absent or empty."""
    value = result.get(name) if isinstance(result, dict) else None
    if not value:
        raise SonosError(ProbeFailure.INVALID_ANSWER, missing)
    return str(value)


def ping(ip: str, timeout: float) -> None:
    """Check the player answers, with the cheap call HA core also uses (master volume)."""
    speaker = soco.SoCo(ip)
    _call(
        lambda: speaker.renderingControl.GetVolume(MASTER_VOLUME, timeout=timeout, cache=NO_CACHE)
    )


def fetch_household_id(ip: str, timeout: float) -> str:
    """Return the id all players of a household share (the config entry's unique id)."""
    speaker = soco.SoCo(ip)
    result = _call(
        lambda: speaker.deviceProperties.GetHouseholdID([], timeout=timeout, cache=NO_CACHE)
    )
    return _output(result, "CurrentHouseholdID", "no household id")


def fetch_topology(ip: str, timeout: float) -> Topology:
    """Return the household's members and vanished players, as the player at `ip` sees them."""
    speaker = soco.SoCo(ip)
    result = _call(
        lambda: speaker.zoneGroupTopology.GetZoneGroupState([], timeout=timeout, cache=NO_CACHE)
    )
    state = _output(result, "ZoneGroupState", "empty ZoneGroupState")
    if len(state) > MAX_BODY:
        raise SonosError(ProbeFailure.INVALID_ANSWER, "ZoneGroupState larger than 2 MB")
    try:
        return parse_topology(state)
    except ET.ParseError as error:
        raise _failure_from(error) from error
