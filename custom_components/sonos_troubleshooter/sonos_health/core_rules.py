"""When Home Assistant core's Sonos integration has lost a speaker that still answers us.

Pure (no Home Assistant imports), so every case is a row in a table. Core marks a speaker
unavailable after 270 s without a sign of life and a failed ping; from then on its SSDP
discovery (every 60 s) and its events bring it back as soon as it is seen again. A speaker
that core still shows unavailable `CORE_LOST_AFTER` later, while our own probe gets proper
answers from it at the same time, has been lost by core, not by the network: the cases of
home-assistant/core#107680, #182845 and #88341 (new address, power cut, events blocked).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv4Interface, ip_address

CORE_LOST_AFTER = timedelta(minutes=5)
"""How long core's entities must stay unavailable: five of core's discovery rounds to find the
speaker again by itself, so a flap core heals on its own never raises a card."""

EVENT_PORTS = range(1400, 1500)
"""The ports soco's event listener (core's) tries in turn; the speakers must reach them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreView:
    """What core's Sonos integration shows of one speaker right now."""

    available: bool
    """At least one of the core device's enabled entities is not `unavailable`."""
    unavailable_since: datetime | None
    """While unavailable: when the last of its entities became so (their `last_changed`)."""
    address: str | None
    """The address core's device was set up at (its configuration URL); None if unknown."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreLoss:
    """A speaker core shows unavailable although it answers us: what the card says."""

    uid: str
    since: datetime
    """Since when core shows it unavailable."""
    address: str
    """The address the speaker answers us at."""
    core_address: str | None
    """The address core's device knows, when it differs from ours; else None."""


def follow_core(
    previous: Mapping[str, datetime],
    views: Mapping[str, CoreView | None],
    answering: Mapping[str, str],
    now: datetime,
) -> tuple[dict[str, datetime], dict[str, CoreLoss]]:
    """Fold one poll: return since when core shows each speaker unavailable, and the losses.

    `views` holds every watched speaker (None: core has no device for it, or no entity
    enabled: nothing to judge); `answering` the ones that answered our probe properly this
    poll, with their address. A speaker that does not answer us is not lost by core: it is
    silent (1001) or refuses control (UPnP off), and has its own card. The first time a
    streak is seen it starts at core's own `last_changed`, so a reload of this integration
    loses no time; later polls keep it, because a reload of core rewrites `last_changed`
    without having found the speaker.
    """
    since: dict[str, datetime] = {}
    lost: dict[str, CoreLoss] = {}
    for uid, view in views.items():
        if view is None or view.available:
            continue
        since[uid] = previous.get(uid) or view.unavailable_since or now
        address = answering.get(uid)
        if address is not None and now - since[uid] >= CORE_LOST_AFTER:
            lost[uid] = CoreLoss(
                uid=uid,
                since=since[uid],
                address=address,
                core_address=view.address if view.address not in (None, address) else None,
            )
    return since, lost


@dataclass(frozen=True, slots=True, kw_only=True)
class EventPath:
    """What Home Assistant can measure of the way speakers' events take to core's listener.

    Each check is True (fine), False (a problem) or None (could not be told).
    """

    listener: str
    """`host:port` core advertises to the speakers, as its `subscriptions_failed` issue says."""
    address_is_local: bool | None
    """The advertised address is one of this host's: else the speakers send to another host
    (a wrong `advertise_addr`, or a container's address behind NAT)."""
    port_in_range: bool | None
    """The port is in soco's 1400-1499 range, the one firewall advice names."""
    listener_open: bool | None
    """Home Assistant itself can connect to the listener: it is up and bound there."""
    speakers_outside: tuple[str, ...] | None
    """Speakers not in the network of the advertised address: their events must be routed
    (another VLAN or subnet, or Docker's bridge network). None when that network is unknown
    (the address is not one of this host's)."""


def read_listener(listener: str) -> tuple[IPv4Address, int] | None:
    """Return where speakers are told to send events, from core's `listener_address`.

    Core words it `ip:port`, or `ip:port (advertising as ip)` when `advertise_addr` is set;
    the speakers then use the advertised address with the same port.
    """
    bound, _, advertised = listener.partition(" (advertising as ")
    host, _, port = bound.rpartition(":")
    try:
        address = IPv4Address(advertised.rstrip(")").strip() or host)
    except ValueError:
        return None
    return (address, int(port)) if port.isdigit() else None


def event_path(
    listener: str,
    interfaces: Sequence[IPv4Interface],
    speakers: Iterable[str],
    listener_open: bool | None,
) -> EventPath:
    """Judge the event path from HA's side: the address, the port, the speakers' networks."""
    parsed = read_listener(listener)
    if parsed is None:
        return EventPath(
            listener=listener,
            address_is_local=None,
            port_in_range=None,
            listener_open=listener_open,
            speakers_outside=None,
        )
    address, port = parsed
    mine = [interface for interface in interfaces if interface.ip == address]
    outside: tuple[str, ...] | None = None
    if mine:
        network = mine[0].network
        outside = tuple(sorted(ip for ip in speakers if ip_address(ip) not in network))
    return EventPath(
        listener=f"{address}:{port}",
        address_is_local=bool(mine) if interfaces else None,
        port_in_range=port in EVENT_PORTS,
        listener_open=listener_open,
        speakers_outside=outside,
    )
