"""An emulated Sonos household: players on loopback that soco talks to over real HTTP.

Control methods are synchronous and thread-safe (they run on the emulator loop and wait),
so tests, the demo and benchmarks drive the household from anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
import ipaddress

from .loop import EmulatorLoop
from .model import (
    CORE_SONOS_ANSWERS,
    CORE_SONOS_SERVICES,
    REASON_SLEEPING,
    Connections,
    Fault,
    Player,
    make_uid,
    zone_group_state,
)
from .server import PlayerServer

# Real players answer GetZoneGroupState with UPnP error 501 once the document grows past about
# 16 kB: one of 16,313 bytes was answered and one of 16,403 refused (SoCo/SoCo issue 935);
# reported with 17 Amps (svrooij/node-sonos-ts issue 198) and 22-23 speakers
# (home-assistant/core issues 89128, 70194, 82513). The exact limit between the two sizes is
# not published: 16 KiB, a buffer size, is our guess.
ZONE_GROUP_STATE_LIMIT = 16 * 1024


class SonosHousehold:
    """A household of players, each on its own loopback address, port 1400."""

    def __init__(
        self,
        loop: EmulatorLoop,
        household_id: str = "Sonos_EmuHousehold0000000001",
        first_address: str = "127.0.0.2",
    ) -> None:
        self._loop = loop
        self.household_id = household_id
        self._next_address = ipaddress.IPv4Address(first_address)
        self._next_index = 1
        self._servers: dict[str, PlayerServer] = {}  # by uid, in join order
        self.closing = False
        # When set, GetZoneGroupState answers this UPnP error whatever the document's size.
        self.zone_group_state_error: int | None = None
        # False: no event reaches a subscriber (a firewall or another VLAN on the way back);
        # True: a new ZoneGroupTopology subscription gets its initial event, and every change
        # of the topology an event of its own, as on a good network.
        self.events_reach_subscribers = False
        self._topology_sent = ""  # the ZoneGroupState of the last topology events
        # UPnP is one switch for the whole system in the Sonos app (Account > Privacy &
        # Security > UPnP): off, every player answers HTTP 403 (see `set_upnp`).
        self.upnp_enabled = True
        # How every player's HTTP server treats connections (`set_connections`).
        self.connections = Connections.STANDARD

    # --- what players answer ---------------------------------------------------------
    def answer(
        self, player: Player, service: str, action: str, arguments: dict[str, str]
    ) -> dict[str, str] | int:
        """The output arguments of an action, or a UPnP error code."""
        if player.bridge and service in ("RenderingControl", "AVTransport"):
            return 401  # a BOOST or Bridge plays nothing: it has no audio services
        match service, action:
            case "DeviceProperties", "GetHouseholdID":
                return {"CurrentHouseholdID": self.household_id}
            case "DeviceProperties", "GetZoneAttributes":
                return {
                    "CurrentZoneName": player.name,
                    "CurrentIcon": "",
                    "CurrentConfiguration": "1",
                }
            case "DeviceProperties", "GetZoneInfo":
                return {
                    "SerialNumber": player.serial,
                    "SoftwareVersion": player.software_version,
                    "DisplaySoftwareVersion": player.display_version,
                    "HardwareVersion": player.hardware_version,
                    "IPAddress": player.ip,
                    "MACAddress": player.mac.replace("-", ":"),
                    "HTAudioIn": "0",  # a soundbar's input format: nothing plays
                }
            case "ZoneGroupTopology", "GetZoneGroupState":
                if self.zone_group_state_error is not None:
                    return self.zone_group_state_error
                state = zone_group_state(self.players)
                if len(state.encode()) > ZONE_GROUP_STATE_LIMIT:
                    return 501  # the events still carry it (see `topology_changed`)
                return {"ZoneGroupState": state}
            case "RenderingControl", "GetVolume":
                return {"CurrentVolume": str(player.volume)}
            case "RenderingControl", "SetVolume":
                if not arguments.get("DesiredVolume", "").isdigit():
                    return 402
                player.volume = min(100, int(arguments["DesiredVolume"]))
                return {}
            case "AVTransport", "GetTransportInfo":
                return {
                    "CurrentTransportState": "STOPPED",
                    "CurrentTransportStatus": "OK",
                    "CurrentSpeed": "1",
                }
        if action in CORE_SONOS_SERVICES.get(service, {}):
            return {
                name: value.replace("{uid}", player.uid)
                for name, value in CORE_SONOS_ANSWERS[action].items()
            }
        return 401

    # --- membership ----------------------------------------------------------------------
    @property
    def players(self) -> list[Player]:
        return [server.player for server in self._servers.values()]

    def __iter__(self) -> Iterator[Player]:
        return iter(self.players)

    def player(self, name_or_uid: str) -> Player:
        """Find a player by its label ("Living Room", "Living Room Sub") or its uid."""
        for player in self.players:
            if name_or_uid in (player.label, player.uid):
                return player
        raise KeyError(name_or_uid)

    def bonded(self, main: Player) -> list[Player]:
        """The players bonded to a main unit (its satellites, the rest of its pair)."""
        return [player for player in self.players if player.main == main.uid]

    def reachable(self, player: Player) -> bool:
        """Whether the player answers: a satellite reaches the network through its main unit.

        An address holds one listener: a player whose address another player listens on
        (DHCP gave it away while the player was off) does not answer until it gets one.
        """
        if not player.listening:
            return False
        if any(
            uid != player.uid and server.bound_ip == player.ip
            for uid, server in self._servers.items()
        ):
            return False
        main = self._servers.get(player.main or "")
        if main is None or main.player.role != "home_theatre":
            return True
        return self.reachable(main.player)

    def allocate_address(self) -> str:
        address = str(self._next_address)
        self._next_address += 1
        return address

    def add_player(self, name: str, **attributes: object) -> Player:
        """A player joins the household and starts answering on a fresh address."""
        index = self._next_index
        self._next_index += 1
        player = Player(
            uid=str(attributes.pop("uid", make_uid(index))),
            name=name,
            ip=str(attributes.pop("ip", None) or self.allocate_address()),
            **attributes,  # type: ignore[arg-type]
        )
        server = PlayerServer(self, player)
        self._servers[player.uid] = server
        self._loop.run(server.sync())
        self.topology_changed()
        return player

    def add_home_theatre(
        self,
        room: str,
        model_name: str = "Sonos Arc",
        model_number: str = "S19",
        satellites: tuple[tuple[str, str, str], ...] = (
            ("sub", "Sonos Sub", "S23"),
            ("rear_left", "Sonos Era 100", "S39"),
            ("rear_right", "Sonos Era 100", "S39"),
        ),
        **attributes: object,
    ) -> list[Player]:
        """A home theatre joins: a main unit (soundbar or Amp) and its satellites, one room."""
        main = self.add_player(
            room,
            model_name=model_name,
            model_number=model_number,
            role="home_theatre",
            **attributes,
        )
        return [main] + [
            self.add_player(room, model_name=model, model_number=number, role=role, main=main.uid)
            for role, model, number in satellites
        ]

    def add_stereo_pair(
        self,
        room: str,
        model_name: str = "Sonos Era 100",
        model_number: str = "S39",
        *,
        sub: bool = False,
        **attributes: object,
    ) -> list[Player]:
        """A stereo pair joins (with a Sub bonded to it, if asked): one room, two speakers."""
        left = self.add_player(
            room, model_name=model_name, model_number=model_number, role="left", **attributes
        )
        others = [("right", model_name, model_number)] + [("sub", "Sonos Sub", "S23")] * sub
        return [left] + [
            self.add_player(
                room,
                model_name=model,
                model_number=number,
                role=role,
                main=left.uid,
                **attributes,
            )
            for role, model, number in others
        ]

    def add_bridge(
        self, name: str = "BOOST", model_name: str = "Sonos Boost", model_number: str = "BR200"
    ) -> Player:
        """A BOOST (or, with its model, a Bridge) joins: SonosNet's network device, wired."""
        return self.add_player(
            name,
            model_name=model_name,
            model_number=model_number,
            role="network_device",
            wired=True,
        )

    def rename(self, name_or_uid: str, room: str) -> Player:
        """The room is renamed in the Sonos app, or the player moved to another room.

        A bonded set is renamed whole: its players are one room.
        """
        player = self.player(name_or_uid)
        for member in (player, *self.bonded(player)):
            member.name = room
        return self._update(player)

    def remove_player(self, name_or_uid: str) -> None:
        """The player leaves the household: gone from the topology, nothing answers."""
        server = self._servers.pop(self.player(name_or_uid).uid)
        self._loop.run(server.stop())
        self.topology_changed()

    # --- faults and life events ------------------------------------------------------
    def _update(self, player: Player, **changes: object) -> Player:
        changed = [player, *self.bonded(player)]
        addresses = {member.ip for member in changed}
        for attribute, value in changes.items():
            setattr(player, attribute, value)
        # Its satellites answer only while it does: they follow it.
        for member in changed:
            self._loop.run(self._servers[member.uid].sync())
        # A player waiting for an address this change freed (or took) listens (or stops).
        addresses |= {member.ip for member in changed}
        for server in list(self._servers.values()):
            if server.player not in changed and server.player.ip in addresses:
                self._loop.run(server.sync())
        self.topology_changed()
        return player

    def topology_changed(self) -> None:
        """Send every topology subscriber an event when the ZoneGroupState changed.

        As players do: after the initial event, one per change, carrying the whole document
        (also past the size at which GetZoneGroupState answers 501: soco falls back to these
        events, soco/zonegroupstate.py). Faults that change nothing in it send nothing.
        """
        state = zone_group_state(self.players)
        if state == self._topology_sent:
            return
        self._topology_sent = state
        if self.events_reach_subscribers:
            for server in self._servers.values():
                self._loop.run(server.send_topology_events(state))

    def set_fault(self, name_or_uid: str, fault: Fault | str, delay: float = 0.0) -> Player:
        return self._update(self.player(name_or_uid), fault=Fault(fault), delay=delay)

    def heal(self, name_or_uid: str) -> Player:
        """Back to healthy: no fault, awake, answering."""
        return self._update(
            self.player(name_or_uid),
            fault=Fault.NONE,
            delay=0.0,
            vanished_reason=None,
            vanished_at=None,
        )

    def heal_all(self) -> None:
        for player in self.players:
            self.heal(player.uid)
        self.zone_group_state_error = None
        self.upnp_enabled = True
        self.set_connections(Connections.STANDARD)

    def set_upnp(self, enabled: bool) -> None:
        """Switch UPnP on or off for every player at once, as the Sonos app's one setting does.

        Off, every player that would answer answers HTTP 403 instead, to everything; a
        player's own `Fault.HTTP_403` (a player that refuses alone) stays its own.
        """
        self.upnp_enabled = enabled

    def set_connections(self, connections: Connections | str) -> None:
        """Every player's server treats connections this way from now on.

        Going to or from `DROPS_IDLE` starts the players' listeners again (the idle timeout
        is the listener's): open connections are closed and event subscriptions forgotten.
        """
        self.connections = Connections(connections)
        for server in self._servers.values():
            self._loop.run(server.sync())

    def vanish(self, name_or_uid: str, reason: str) -> Player:
        """The player goes away gracefully and the household lists why in VanishedDevices.

        Its entry's LastSeenUTC is this moment, to the second.
        """
        return self._update(
            self.player(name_or_uid),
            vanished_reason=reason,
            vanished_at=datetime.now(UTC).replace(microsecond=0),
        )

    def sleep(self, name_or_uid: str) -> Player:
        """A portable (Move, Roam) goes to sleep on battery."""
        return self.vanish(name_or_uid, REASON_SLEEPING)

    def switch_on(self, name_or_uid: str) -> Player:
        """A portable (Move, Roam) asleep or switched off is switched on.

        It answers again, and its BootSeq rises as if it had rebooted (ebaauw/homebridge-zp
        issue 172).
        """
        player = self.player(name_or_uid)
        return self._update(
            player,
            fault=Fault.NONE,
            delay=0.0,
            vanished_reason=None,
            vanished_at=None,
            boot_seq=player.boot_seq + 1,
        )

    def reboot(self, name_or_uid: str) -> Player:
        """The player starts again (a power glitch, a crash): its BootSeq rises."""
        player = self.player(name_or_uid)
        return self._update(player, boot_seq=player.boot_seq + 1)

    def move(self, name_or_uid: str, new_ip: str | None = None) -> Player:
        """The player gets a new address (DHCP after a router restart): same UID, new Location.

        `new_ip` may be another player's: while that one listens there, this one does not
        answer (see `reachable`); once it stops, this one takes the address.
        """
        return self._update(self.player(name_or_uid), ip=new_ip or self.allocate_address())

    def take_address(self, name_or_uid: str, gone: str) -> Player:
        """After an outage DHCP gives the address of a player that is gone to another one.

        `gone` is switched off (nothing of it answers; the household still lists it at its
        address until it drops it) and `name_or_uid` answers at its address from now on, with
        its own description: home-assistant/core issues 30298 and 107680.
        """
        left = self.set_fault(gone, Fault.OFFLINE)
        return self.move(name_or_uid, left.ip)

    # --- lifecycle -----------------------------------------------------------------------
    async def _stop_all(self) -> None:
        self.closing = True
        for server in self._servers.values():
            await server.stop()

    def close(self) -> None:
        self._loop.run(self._stop_all())
