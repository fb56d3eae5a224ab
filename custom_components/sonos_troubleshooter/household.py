"""The household being watched: its players, the topology last read, and the diagnosis so far.

Pure (no Home Assistant imports): the coordinator does the talking and hands what it heard to
this model, which follows the topology (players that joined, moved or vanished) and folds each
poll into the diagnosis. The store persists it; entities read the coordinator's snapshots.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from .const import LOGGER
from .error_rules import CloudObservation, DiagnosisState, Observation, PlayerObservation, diagnose
from .player_client import PlayerInfo, ProbeFailure, Topology, answered

# The topology is asked of this many players that answered last time, then the configured one.
TOPOLOGY_SOURCES = 3


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
    wired: bool = False


class Household:
    """The watched players and their diagnosis, following what the household reports."""

    def __init__(
        self, players: Iterable[KnownPlayer] = (), diagnosis: DiagnosisState | None = None
    ) -> None:
        """Start from what was stored (nothing on a first setup)."""
        self.players: dict[str, KnownPlayer] = {player.uid: player for player in players}
        self.diagnosis = diagnosis or DiagnosisState.initial()
        # The topology of the last poll; None when no player could tell it (e.g. UPnP 501).
        self.topology: Topology | None = None

    def topology_sources(self, configured_host: str) -> list[str]:
        """Addresses to ask for the topology: players that answered last time, then the configured one."""
        answered_last = [
            player.ip
            for player in self.players.values()
            if (state := self.diagnosis.player(player.uid))
            and state.failures == 0
            and player.last_seen is not None
        ]
        return list(dict.fromkeys([*answered_last[:TOPOLOGY_SOURCES], configured_host]))

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
            player.channel_freq, player.wired = member.channel_freq, member.wired
        known: dict[str, ProbeFailure | None] = {}
        for item in topology.vanished:
            if item.uid not in self.players and item.last_known_ip:
                self.players[item.uid] = KnownPlayer(
                    uid=item.uid, name=item.name, ip=item.last_known_ip
                )
                known[item.uid] = ProbeFailure.NO_ANSWER
        return recheck, known

    def learn_info(self, player: KnownPlayer, info: PlayerInfo, at: datetime) -> None:
        """Keep a player's device description; one from another player at its address is not its own."""
        if info.uid == player.uid:
            player.info, player.info_read_at = info, at
            player.name = info.name or player.name

    def observe(
        self, at: datetime, failures: Mapping[str, ProbeFailure | None], cloud: CloudObservation
    ) -> DiagnosisState:
        """Fold one poll (what each player answered, what the cloud check saw) into the diagnosis."""
        vanished = self.vanished_reasons()
        observations = []
        for player in self.players.values():
            failure = failures.get(player.uid)
            player_answered = answered(failure)
            if player_answered:
                player.last_seen = at
            observations.append(
                PlayerObservation(
                    uid=player.uid,
                    answered=player_answered,
                    vanished_reason=vanished.get(player.uid),
                    upnp_disabled=failure is ProbeFailure.UPNP_DISABLED,
                )
            )
        self.diagnosis = diagnose(
            self.diagnosis, Observation(at=at, players=tuple(observations), cloud=cloud)
        )
        return self.diagnosis

    def vanished_reasons(self) -> dict[str, str]:
        """Return the reason the last topology gives for each player it lists as gone."""
        topology = self.topology
        return {item.uid: item.reason for item in topology.vanished} if topology else {}

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
