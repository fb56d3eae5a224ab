"""The household being watched: its players, the topology last read, and the diagnosis so far.

Pure (no Home Assistant imports): the coordinator does the talking and hands what it heard to
this model, which follows the topology (players that joined, moved or vanished) and folds each
poll into the diagnosis. The store persists it; entities read the coordinator's snapshots.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
import logging

from .error_catalog import PlayerCard
from .error_rules import (
    CloudObservation,
    DiagnosisState,
    ErrorCode,
    Observation,
    PlayerObservation,
    diagnose,
    expected_absence,
    fallen_with_main,
)
from .identity_rules import follows_to, identity_verdict, listed_beside, newly_beside
from .link_rules import SWITCHED_OFF, HourTally, Link, checked, is_portable, polled, tallied
from .player_client import Bond, PlayerInfo, ProbeFailure, Role, Topology, Uplink, answered

# The topology is asked of this many players that answered last time, then the configured one.
TOPOLOGY_SOURCES = 3

# A library logs under its own name, a child of the integration's logger.
LOGGER = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class KnownPlayer:
    """A household member being watched; kept across restarts until the user deletes it."""

    uid: str
    name: str
    ip: str
    info: PlayerInfo | None = None
    info_read_at: datetime | None = None
    last_seen: datetime | None = None
    channel_freq: int | None = None
    uplink: Uplink = Uplink.WIFI  # as its own attributes say (see `Household.uplink`)
    role: Role = Role.PLAYER
    main: str | None = None  # the main unit of its bonded set (see `Bond.main`)
    link: Link = field(default_factory=Link)
    # Whether the device at its address is this player (see identity_rules); not stored:
    # after a restart every player is in doubt until its description names it once.
    identity_doubted: bool = True
    """It missed a check (or HA started) since its description last named it at its address."""
    listed_beside: frozenset[str] = frozenset()
    """The other players the last topology listed at its address."""
    taken_by: PlayerInfo | None = None
    """The description read at its address when it named another player; None once it names
    this one again."""

    @property
    def portable(self) -> bool:
        """A Roam or a Move: it sleeps and is switched off and on by its owner."""
        return self.info is not None and is_portable(self.info.model_name)

    @property
    def wired(self) -> bool:
        """True for a player on a cable."""
        return self.uplink is Uplink.ETHERNET

    def rebond(self, bond: Bond) -> None:
        """Follow a role the household reports (a Sub added, a pair split, a room regrouped)."""
        self.role, self.main = bond.role, bond.main


# The device name of each role (translation keys of `device.<key>.name`): a main unit, a
# player on its own and a BOOST or Bridge are named by their room, as the Sonos app shows them.
NAME_KEYS: dict[Role, str] = {
    Role.SUB: "sub",
    Role.REAR_LEFT: "rear_left",
    Role.REAR_RIGHT: "rear_right",
    Role.LEFT: "left",
    Role.RIGHT: "right",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceName:
    """How a player's device is named: its room and role word, numbered when that is not enough."""

    key: str
    room: str
    number: int = 1

    @property
    def translation_key(self) -> str:
        """The key of `device.<key>.name` in the translations."""
        return self.key if self.number == 1 else f"{self.key}_numbered"

    @property
    def placeholders(self) -> dict[str, str]:
        """What the translated name is filled with."""
        numbered = {"number": str(self.number)} if self.number > 1 else {}
        return {"room": self.room, **numbered}


def by_role_and_room(name: DeviceName) -> str:
    """Tell names apart without their wording: by role, room and number."""
    return f"{name.key}\n{name.room}\n{name.number}"


def device_names(
    players: Iterable[KnownPlayer], render: Callable[[DeviceName], str] = by_role_and_room
) -> dict[str, DeviceName]:
    """Name every player by its room and role, so that no two names read the same.

    `render` words a name as the user reads it (the coordinator's, in HA's language). Two
    players whose names would read alike (two Subs in one room, rooms given the same name, a
    room called "Living Room Sub" beside a Living Room with a Sub) are numbered in the order
    they joined: the first keeps the plain name, so a player added later renames nobody.
    """
    names: dict[str, DeviceName] = {}
    shown: set[str] = set()
    for player in players:
        name = DeviceName(key=NAME_KEYS.get(player.role, "player"), room=player.name)
        while (worded := render(name).casefold()) in shown:
            name = replace(name, number=name.number + 1)
        shown.add(worded)
        names[player.uid] = name
    return names


class Household:
    """The watched players and their diagnosis, following what the household reports."""

    def __init__(
        self,
        players: Iterable[KnownPlayer] = (),
        diagnosis: DiagnosisState | None = None,
        tally: tuple[HourTally, ...] = (),
    ) -> None:
        """Start from what was stored (nothing on a first setup)."""
        self.players: dict[str, KnownPlayer] = {player.uid: player for player in players}
        self.diagnosis = diagnosis or DiagnosisState.initial()
        # Polls by the hour, and how many every player answered (the household's share).
        self.tally = tally
        # The topology of the last poll; None when no player could tell it (e.g. UPnP 501
        # and no event reaching Home Assistant).
        self.topology: Topology | None = None
        # The reasons the last topology read gave for players it listed as gone, kept while
        # the topology cannot be read and dropped for each player that answers again.
        self._last_reasons: dict[str, str] = {}
        # Some player answered the last poll: the household is there to tell who is away.
        self._someone_answered = False
        # How many topologies in a row have listed each player as gone (see `_reason_for`).
        self._reason_streaks: dict[str, int] = {}

    def answering(self) -> list[str]:
        """Return the addresses of the players that answered the last poll."""
        return [
            player.ip
            for player in self.players.values()
            if (state := self.diagnosis.player(player.uid))
            and state.failures == 0
            and player.last_seen is not None
        ]

    def topology_sources(self, configured_host: str) -> list[str]:
        """Addresses to ask for the topology: players that answered last time, then the configured one.

        Never a home theatre's satellite while another can be asked: satellites can answer
        with an outdated topology, which is why soco asks their main unit (SoCo/SoCo#913).
        Only when the configured address is a satellite's and nobody else answered last
        time is it asked (its main unit is then silent, and so, most likely, is it).
        """
        satellites = {self.players[uid].ip for uid in self.satellite_links()}
        answered_last = [ip for ip in self.answering() if ip not in satellites]
        sources = list(dict.fromkeys([*answered_last[:TOPOLOGY_SOURCES], configured_host]))
        return [ip for ip in sources if ip not in satellites] or sources

    def follow(
        self, topology: Topology | None
    ) -> tuple[list[KnownPlayer], dict[str, ProbeFailure | None]]:
        """Keep the topology; follow address changes, players that joined, names and Wi-Fi.

        Return the players to probe right away (they joined or moved: a new address is never
        a failure) and the verdicts already known (a vanished player first seen here has not
        answered).
        """
        self.topology = topology
        if topology is None:
            return [], {}
        self._last_reasons = {item.uid: item.reason for item in topology.vanished}
        self._reason_streaks = {
            uid: self._reason_streaks.get(uid, 0) + 1 for uid in self._last_reasons
        }
        recheck: list[KnownPlayer] = []
        for member in topology.members:
            player = self.players.get(member.uid)
            if player is None:
                player = self.players[member.uid] = KnownPlayer(
                    uid=member.uid, name=member.name, ip=member.ip
                )
                recheck.append(player)
            elif player.ip != member.ip:
                LOGGER.info("%s moved from %s to %s", player.name, player.ip, member.ip)
                player.ip = member.ip
                recheck.append(player)
            player.name = member.name or player.name
            player.channel_freq, player.uplink = member.channel_freq, member.uplink
            player.rebond(member.bond)
        known: dict[str, ProbeFailure | None] = {}
        for item in topology.vanished:
            if (player := self.players.get(item.uid)) is None and item.last_known_ip:
                player = self.players[item.uid] = KnownPlayer(
                    uid=item.uid, name=item.name, ip=item.last_known_ip
                )
                known[item.uid] = ProbeFailure.NO_ANSWER
            if player is not None:
                player.rebond(item.bond)
        return recheck, known

    def adopt(self, info: PlayerInfo, ip: str, at: datetime) -> KnownPlayer:
        """Watch the player at `ip` from its description alone (the topology cannot be read)."""
        player = self.players.get(info.uid)
        if player is None:
            player = self.players[info.uid] = KnownPlayer(uid=info.uid, name=info.name, ip=ip)
        self.learn_info(player, info, at)
        return player

    def learn_info(self, player: KnownPlayer, info: PlayerInfo, at: datetime) -> None:
        """Keep a player's device description; one from another player at its address is not its own."""
        if info.uid == player.uid:
            player.info, player.info_read_at = info, at
            player.name = info.name or player.name

    # --- whether the device at a player's address is that player (identity_rules) ------
    def identity_in_doubt(self, player: KnownPlayer) -> bool:
        """Tell whether the player's description must be read before it counts as answering."""
        return player.identity_doubted

    def doubt_shared_addresses(self) -> list[KnownPlayer]:
        """Doubt players the topology now lists beside another player at their address.

        Return the players newly put in doubt; nothing changes while no topology was read.
        """
        topology = self.topology
        if topology is None:
            return []
        doubted = []
        for player in self.players.values():
            beside = listed_beside(player.uid, player.ip, topology.members)
            if newly_beside(player.listed_beside, beside):
                player.identity_doubted = True
                doubted.append(player)
            player.listed_beside = beside
        return doubted

    def identified(
        self, player: KnownPlayer, info: PlayerInfo, at: datetime
    ) -> ProbeFailure | None:
        """Fold a device description read at the player's address, by whose it is.

        Its own: the player is who answers there (no more doubt), and its description is
        kept. Another player's: this one does not answer (ADDRESS_TAKEN) and stays in doubt;
        that other player, when of the household and not placed by the topology, is
        followed to the address.
        """
        verdict = identity_verdict(player.uid, info.uid)
        if verdict is None:
            self.learn_info(player, info, at)
            player.identity_doubted, player.taken_by = False, None
            return None
        if player.taken_by is None or player.taken_by.uid != info.uid:
            LOGGER.info("%s's address %s answers as %s", player.name, player.ip, info.uid)
        player.identity_doubted, player.taken_by = True, info
        other = self.players.get(info.uid)
        if other is not None and follows_to(
            player.ip, other.ip, listed_by_topology=info.uid in self.member_uids()
        ):
            LOGGER.info("%s answers at %s: followed there from %s", other.name, player.ip, other.ip)
            other.ip = player.ip
        return verdict

    def is_away(self, uid: str) -> bool:
        """Tell whether the player is away on purpose (asleep, ...), or may be, unseen."""
        return expected_absence(self.vanished_reasons().get(uid)) is not None or self.may_be_away(
            uid
        )

    def may_be_away(self, uid: str) -> bool:
        """Tell whether a player may be away on purpose with no topology to say so.

        A portable (Roam, Move) sleeps on battery or is switched off as its owner likes; while
        the topology cannot be read although players answer, its silence is no sign of a
        fault. When no player answers at all, its silence is the household's.
        """
        player = self.players.get(uid)
        return (
            self.topology is None
            and self._someone_answered
            and player is not None
            and player.portable
        )

    def checked(self, player: KnownPlayer, at: datetime, *, answered: bool) -> None:
        """Fold one check of the watcher between polls into the player's link.

        A missed check puts in doubt that the device at its address is the player (another
        may get the address while it is gone): its description is read at the next check.
        """
        absence = expected_absence(self.vanished_reasons().get(player.uid))
        player.link = checked(
            player.link,
            at,
            answered=answered,
            away=absence is not None,
            switched_off=absence in SWITCHED_OFF,
            portable=player.portable,
        )
        if not answered:
            player.identity_doubted = True

    def observe(
        self, at: datetime, failures: Mapping[str, ProbeFailure | None], cloud: CloudObservation
    ) -> DiagnosisState:
        """Fold one poll (what each player answered, what the cloud check saw) into the diagnosis.

        The poll's control call is the last check of each player's link, so a silence the
        watcher already noticed is confirmed (or ended) by it.
        """
        vanished = self.vanished_reasons()
        self._someone_answered = any(
            answered(failures.get(player.uid)) for player in self.players.values()
        )
        observations = []
        for player in self.players.values():
            failure = failures.get(player.uid)
            player_answered = answered(failure)
            if player_answered:
                player.last_seen = at
                self._last_reasons.pop(player.uid, None)  # a reason no longer sound
            self.checked(player, at, answered=player_answered)
            observations.append(
                PlayerObservation(
                    uid=player.uid,
                    answered=player_answered,
                    vanished_reason=self._reason_for(player.uid, vanished),
                    may_be_away=self.may_be_away(player.uid),
                    upnp_disabled=failure is ProbeFailure.UPNP_DISABLED,
                    # Anything but a proper answer or a 403 (junk, another device...).
                    answered_badly=player_answered
                    and failure not in (None, ProbeFailure.UPNP_DISABLED),
                    missed_checks=player.link.streak,
                    missed_since=player.link.streak_since,
                )
            )
        self.diagnosis = diagnose(
            self.diagnosis, Observation(at=at, players=tuple(observations), cloud=cloud)
        )
        boot_seqs = (
            {member.uid: member.boot_seq for member in self.topology.members}
            if self.topology
            else {}
        )
        for player in self.players.values():
            player.link = polled(
                player.link, at, boot_seq=boot_seqs.get(player.uid), portable=player.portable
            )
        self.tally = tallied(
            self.tally,
            at,
            complete=all(
                seen.answered
                or seen.may_be_away
                or expected_absence(seen.vanished_reason) is not None
                for seen in observations
            ),
        )
        return self.diagnosis

    def _reason_for(self, uid: str, vanished: Mapping[str, str]) -> str | None:
        """Return the reason the household gives for a silent player, if it is to be believed.

        Players can briefly report different topologies (scottwaters/Choragus#46): one
        listing a player in 1001 as asleep does not undo the verdict; two in a row do.
        """
        reason = vanished.get(uid)
        state = self.diagnosis.player(uid)
        if reason is not None and state is not None and state.code is ErrorCode.E1001:
            return reason if self._reason_streaks.get(uid, 0) >= 2 else None
        return reason

    def device_names(
        self, render: Callable[[DeviceName], str] = by_role_and_room
    ) -> dict[str, DeviceName]:
        """Return every player's device name (see `device_names`)."""
        return device_names(self.players.values(), render)

    def satellite_links(self) -> dict[str, str]:
        """Return each home theatre satellite's main unit, which it reaches the network through.

        A stereo pair's halves (and a Sub bonded to a pair) are on the network each on its
        own, so only a home theatre's satellites are linked.
        """
        return {
            player.uid: player.main
            for player in self.players.values()
            if player.role.satellite
            and player.main is not None
            and (main := self.players.get(player.main)) is not None
            and main.role is Role.HOME_THEATRE
        }

    def bonded_with(self, uid: str) -> list[KnownPlayer]:
        """Return the other players of a player's bonded set, its main unit first."""
        main = self.players[uid].main or uid
        return sorted(
            (
                other
                for other in self.players.values()
                if other.uid != uid and main in (other.uid, other.main)
            ),
            key=lambda other: other.uid != main,
        )

    def fallen_with_main(self) -> dict[str, str]:
        """Return the satellites silent because their main unit is down: satellite -> main."""
        return fallen_with_main(self.diagnosis, self.satellite_links())

    def uplink(self, uid: str) -> Uplink:
        """Return how a player reaches the network, its role first.

        A home theatre's satellite talks through its main unit whatever its attributes say:
        S2 firmware of 2021 reports a rear's private link as `WirelessMode="0"` with a 5 GHz
        channel (home-assistant/core#57884), 94.1 as `WirelessMode="2" ConnectionType="6"`.
        """
        if uid in self.satellite_links():
            return Uplink.MAIN_UNIT
        return self.players[uid].uplink

    def card_of(self, uid: str, fallen: Mapping[str, str]) -> PlayerCard | None:
        """Return which 1001 card a player gets; None when its main unit's card covers it.

        `fallen` is `fallen_with_main()`: a main unit down with its satellites gets one card
        for the set, naming it first; a satellite down alone gets its own. A player on a
        cable gets the cable's variant of its card (see `PlayerCard.on_cable`).
        """
        player = self.players[uid]
        if uid in fallen:
            return None
        if uid in self.satellite_links():
            return PlayerCard.SATELLITE
        if player.role is Role.NETWORK_DEVICE:
            card = PlayerCard.NETWORK_DEVICE
        elif uid in fallen.values():
            card = PlayerCard.HOME_THEATRE
        elif player.role in (Role.LEFT, Role.RIGHT) or (
            player.role is Role.SUB and player.main is not None
        ):
            card = PlayerCard.PAIR
        else:
            card = PlayerCard.PLAYER
        return card.on_cable() if player.wired else card

    def warned(self, uid: str) -> bool:
        """Tell whether a player gets the early warning ("unstable connection") now.

        Not while it is in 1001 (that card says more), nor for a home theatre's satellite
        whose main unit is warned too: it reaches the network through it, so one card for
        the main unit covers the set.
        """
        player, state = self.players[uid], self.diagnosis.player(uid)
        if player.link.unstable_since is None or (state and state.code is ErrorCode.E1001):
            return False
        main = self.satellite_links().get(uid)
        return main is None or self.players[main].link.unstable_since is None

    def vanished_reasons(self) -> dict[str, str]:
        """Return the reason the household gives for each player it lists as gone.

        From the last poll's topology; while none can be read, the last topology's reasons
        for the players that have not answered since (a player asleep then is still asleep
        until it answers; one that answered and fell silent again has no known reason).
        """
        topology = self.topology
        if topology is None:
            return dict(self._last_reasons)
        return {item.uid: item.reason for item in topology.vanished}

    def away_since(self) -> dict[str, datetime]:
        """Return since when each player away on purpose is gone, as the household says.

        Its `LastSeenUTC`; players whose entry has none (older firmware) are left out.
        """
        topology = self.topology
        return {
            item.uid: item.last_seen
            for item in (topology.vanished if topology else ())
            if item.last_seen is not None and expected_absence(item.reason) is not None
        }

    def member_uids(self) -> set[str]:
        """Return the players the last topology lists as present."""
        topology = self.topology
        return {member.uid for member in topology.members} if topology else set()

    def has_left(self, uid: str) -> bool:
        """Tell whether the topology of the last poll no longer lists the player.

        False when that poll could not read the topology (large households may answer 501):
        a player is let go only when the household says it left.
        """
        topology = self.topology
        return (
            topology is not None
            and all(member.uid != uid for member in topology.members)
            and all(item.uid != uid for item in topology.vanished)
        )

    def forget(self, uid: str) -> None:
        """Stop watching a player that left the household (the user deleted its device)."""
        self.players.pop(uid, None)
