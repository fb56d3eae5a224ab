"""One poll of the household: every player, the topology and the cloud, then the diagnosis."""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import cloud
from .cloud import CloudReport
from .const import (
    CONF_CLOUD_TARGETS,
    CONF_HOUSEHOLD_ID,
    CONF_REFERENCE_TARGETS,
    CONF_SCAN_INTERVAL,
    CONF_STATUS_URL,
    DEFAULT_CLOUD_TARGETS,
    DEFAULT_REFERENCE_TARGETS,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_STATUS_URL,
    DOMAIN,
    INFO_REFRESH,
    LOGGER,
    PROBE_TIMEOUT,
)
from .diagnosis import (
    DiagnosisState,
    Observation,
    PlayerObservation,
    PlayerState,
    diagnose,
    from_dict,
    to_dict,
)
from .remedy import (
    RECORDS_KEPT,
    ActionRecord,
    Outcome,
    from_dict as action_from_dict,
    to_dict as action_to_dict,
)
from .sonos import (
    PlayerInfo,
    ProbeFailure,
    SonosError,
    Topology,
    answered,
    fetch_player_info,
    fetch_topology,
    ping,
)

if TYPE_CHECKING:
    from .remediation import Remediator

type SonosTroubleshooterConfigEntry = ConfigEntry[SonosTroubleshooterCoordinator]

STORAGE_VERSION = 1
# An executor thread stuck past soco's own timeout is abandoned after this much more.
EXECUTOR_GRACE = 1.0
# However long a poll took, the next one waits at least this long (see _keep_polls_on_the_beat).
MIN_POLL_GAP = timedelta(seconds=1)
# HA starts a timed poll up to this much after its due time (a random offset that spreads
# the polls of all integrations); it is taken off so no poll comes later than its interval.
HA_POLL_OFFSET = timedelta(seconds=0.5)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerSnapshot:
    """One player as the last poll saw it."""

    uid: str
    name: str
    ip: str
    info: PlayerInfo | None
    last_seen: datetime | None
    channel_freq: int | None
    wired: bool
    failure: ProbeFailure | None  # None: answered properly
    in_topology: bool
    vanished_reason: str | None
    state: PlayerState


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdSnapshot:
    """The result of one poll: what entities, repairs and diagnostics show."""

    household_id: str
    players: Mapping[str, PlayerSnapshot]
    cloud: CloudReport
    diagnosis: DiagnosisState
    topology_error: str | None
    updated_at: datetime = field(default_factory=dt_util.utcnow)


class SonosTroubleshooterCoordinator(DataUpdateCoordinator[HouseholdSnapshot]):
    """Polls the household and the cloud and keeps the diagnosis from poll to poll."""

    config_entry: SonosTroubleshooterConfigEntry

    def __init__(self, hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry) -> None:
        """Set up the poll at the interval the user chose."""
        self.interval = timedelta(
            seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=self.interval,
            always_update=False,
        )
        self.household_id: str = entry.data[CONF_HOUSEHOLD_ID]
        self.players: dict[str, KnownPlayer] = {}
        self.household_device_id = ""  # set at setup, once the household device is registered
        self.remediator: Remediator  # set at setup: performs the fix steps it can reach
        # What Home Assistant did to fix things (power cycles, router restarts), oldest first.
        self.actions: list[ActionRecord] = []
        self._diagnosis = DiagnosisState.initial()
        self._topology: Topology | None = None
        # A guided fix's "check again" polls between timer polls; one poll at a time keeps
        # each observation whole (two interleaved polls could count one outage twice).
        self._poll_lock = asyncio.Lock()
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}"
        )

    # --- persistence ------------------------------------------------------------------
    async def _async_setup(self) -> None:
        """Restore the watched players and the diagnosis (with its start times)."""
        stored = await self._store.async_load() or {}
        for raw in stored.get("players", []):
            try:
                player = _player_from_dict(raw)
            except KeyError, TypeError, ValueError:
                LOGGER.warning("Ignoring an unreadable stored player: %s", raw)
                continue
            self.players[player.uid] = player
        self._diagnosis = from_dict(stored.get("diagnosis", {}))
        for raw in stored.get("actions", []):
            try:
                self.actions.append(action_from_dict(raw))
            except KeyError, TypeError, ValueError:
                LOGGER.warning("Ignoring an unreadable stored action: %s", raw)

    def _stored(self) -> dict[str, Any]:
        return {
            "players": [_player_to_dict(player) for player in self.players.values()],
            "diagnosis": to_dict(self._diagnosis),
            "actions": [action_to_dict(record) for record in self.actions],
        }

    def record_action(self, record: ActionRecord) -> None:
        """Keep an action's latest state (one record per action, known by its start)."""
        self.actions = [
            *(kept for kept in self.actions if kept.started != record.started),
            record,
        ][-RECORDS_KEPT:]
        self._store.async_delay_save(self._stored, 1)

    def last_action(self, subject: str, since: datetime | None) -> ActionRecord | None:
        """Return the last action about the current error that ended without fixing it.

        For a player (or the household) since the error began at `since`; one that fixed
        things ended the error, so it belongs to an earlier one.
        """
        for record in reversed(self.actions):
            if record.subject != subject or record.outcome in (Outcome.RUNNING, Outcome.HELPED):
                continue
            if since is None or record.started >= since:
                return record
        return None

    async def async_save(self) -> None:
        """Write the watched players and the diagnosis now (before unload or restart)."""
        await self._store.async_save(self._stored())

    async def async_forget_player(self, uid: str) -> None:
        """Stop watching a player that left the household (the user deleted its device)."""
        self.players.pop(uid, None)
        await self.async_save()

    def is_member(self, uid: str) -> bool:
        """Tell whether the household's topology still lists the player (present or vanished)."""
        topology = self._topology
        if topology is None:
            return False
        return any(member.uid == uid for member in topology.members) or any(
            item.uid == uid for item in topology.vanished
        )

    # --- the poll -----------------------------------------------------------------------
    async def _in_executor[T](self, job: Callable[[], T]) -> T:
        """Run blocking soco/requests work with a hard upper bound on the wait."""
        async with asyncio.timeout(PROBE_TIMEOUT + EXECUTOR_GRACE):
            return await self.hass.async_add_executor_job(job)

    async def _probe(self, ip: str) -> ProbeFailure | None:
        try:
            await self._in_executor(lambda: ping(ip, PROBE_TIMEOUT))
        except SonosError as error:
            LOGGER.debug("Player at %s did not answer properly: %s", ip, error)
            return error.failure
        except TimeoutError:
            return ProbeFailure.TIMEOUT
        return None

    async def _read_topology(self, ip: str) -> Topology | str:
        try:
            return await self._in_executor(lambda: fetch_topology(ip, PROBE_TIMEOUT))
        except SonosError as error:
            return str(error)
        except TimeoutError:
            return str(ProbeFailure.TIMEOUT)

    async def _read_info(self, player: KnownPlayer, now: datetime) -> None:
        try:
            info = await self._in_executor(lambda: fetch_player_info(player.ip, PROBE_TIMEOUT))
        except (SonosError, TimeoutError) as error:
            LOGGER.debug("Could not read the description of %s: %s", player.name, error)
            return
        if info.uid == player.uid:  # an address reused by another player is not this one
            player.info, player.info_read_at = info, now
            player.name = info.name or player.name

    def _topology_sources(self, answering: set[str], tried: str) -> list[str]:
        """Addresses to ask for the topology next: players that answered, then the configured one.

        `tried` was asked already this poll; asking it again could cost another timeout.
        """
        ips = [player.ip for player in self.players.values() if player.uid in answering]
        host = self.config_entry.data[CONF_HOST]
        return [ip for ip in dict.fromkeys([*ips[:2], host]) if ip != tried]

    async def _check_cloud(self) -> CloudReport:
        options = self.config_entry.options
        return await cloud.check_cloud(
            async_get_clientsession(self.hass),
            cloud.resolve_host,
            cloud_targets=options.get(CONF_CLOUD_TARGETS, DEFAULT_CLOUD_TARGETS),
            reference_targets=options.get(CONF_REFERENCE_TARGETS, DEFAULT_REFERENCE_TARGETS),
            status_url=options.get(CONF_STATUS_URL, DEFAULT_STATUS_URL),
            time_limit=PROBE_TIMEOUT,
        )

    async def _async_update_data(self) -> HouseholdSnapshot:
        started = self.hass.loop.time()
        try:
            async with self._poll_lock:
                return await self._poll()
        finally:
            self._keep_polls_on_the_beat(self.hass.loop.time() - started)

    def _keep_polls_on_the_beat(self, took: float) -> None:
        """Start the next poll one interval after this one started, not after it ended.

        HA counts the interval from the end of a poll, so a poll that waited out a hung
        player's timeout would push every later poll back: a silent player would then show
        1001 after two intervals and two timeouts instead of two intervals and one.
        """
        self.update_interval = max(
            self.interval - timedelta(seconds=took) - HA_POLL_OFFSET, MIN_POLL_GAP
        )

    async def _poll(self) -> HouseholdSnapshot:
        now = dt_util.utcnow()
        known = list(self.players.values())
        # Everything at once, so one hung player or a dead cloud costs one timeout, not N.
        first_source = self._last_topology_source(known)
        probe_results, report, first_topology = await asyncio.gather(
            asyncio.gather(*(self._probe(player.ip) for player in known)),
            self._check_cloud(),
            self._read_topology(first_source),
        )
        failures: dict[str, ProbeFailure | None] = {
            player.uid: failure for player, failure in zip(known, probe_results, strict=True)
        }
        topology, topology_error = await self._settle_topology(
            first_topology, first_source, failures
        )
        if topology is not None:
            await self._apply_topology(topology, failures)
        elif not self.players:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="household_unreachable",
                translation_placeholders={"host": self.config_entry.data[CONF_HOST]},
            )

        stale = [
            player
            for player in self.players.values()
            if failures.get(player.uid) is None
            and (player.info_read_at is None or now - player.info_read_at > INFO_REFRESH)
        ]
        await asyncio.gather(*(self._read_info(player, now) for player in stale))

        vanished = {item.uid: item.reason for item in topology.vanished} if topology else {}
        members = {item.uid for item in topology.members} if topology else set()
        observations = []
        for player in self.players.values():
            failure = failures.get(player.uid)
            if answered(failure):
                player.last_seen = now
            observations.append(
                PlayerObservation(
                    uid=player.uid,
                    answered=answered(failure),
                    vanished_reason=vanished.get(player.uid),
                )
            )
        self._diagnosis = diagnose(
            self._diagnosis,
            Observation(at=now, players=tuple(observations), cloud=report.observation),
        )
        self._store.async_delay_save(self._stored, 1)
        return HouseholdSnapshot(
            household_id=self.household_id,
            players={
                uid: PlayerSnapshot(
                    uid=uid,
                    name=player.name,
                    ip=player.ip,
                    info=player.info,
                    last_seen=player.last_seen,
                    channel_freq=player.channel_freq,
                    wired=player.wired,
                    failure=failures.get(uid),
                    in_topology=uid in members,
                    vanished_reason=vanished.get(uid),
                    state=self._diagnosis.players[uid],
                )
                for uid, player in self.players.items()
            },
            cloud=report,
            diagnosis=self._diagnosis,
            topology_error=topology_error,
            updated_at=now,
        )

    def _last_topology_source(self, known: list[KnownPlayer]) -> str:
        """Ask the player that answered last time; the configured address when none did."""
        for player in known:
            state = self._diagnosis.player(player.uid)
            if state and state.failures == 0 and player.last_seen is not None:
                return player.ip
        return str(self.config_entry.data[CONF_HOST])

    async def _settle_topology(
        self, first: Topology | str, first_source: str, failures: Mapping[str, ProbeFailure | None]
    ) -> tuple[Topology | None, str | None]:
        """Fall back to other players that answered when the first one could not tell.

        Households of about 20+ players may answer GetZoneGroupState with UPnP error 501;
        then no player can tell and the poll goes on with the players already known.
        """
        if isinstance(first, Topology):
            self._topology = first
            return first, None
        error = first
        answering = {uid for uid, failure in failures.items() if failure is None}
        for ip in self._topology_sources(answering, first_source):
            result = await self._read_topology(ip)
            if isinstance(result, Topology):
                self._topology = result
                return result, None
            error = result
        LOGGER.debug("No player could tell the household topology: %s", error)
        return None, error

    async def _apply_topology(
        self, topology: Topology, failures: dict[str, ProbeFailure | None]
    ) -> None:
        """Follow address changes, add players that joined, and refresh names and Wi-Fi."""
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
        for item in topology.vanished:
            if item.uid not in self.players and item.last_known_ip:
                self.players[item.uid] = KnownPlayer(
                    uid=item.uid, name=item.name, ip=item.last_known_ip
                )
                failures[item.uid] = ProbeFailure.NO_ANSWER
        # A player that joined or moved is asked right away, so a new address is never a failure.
        results = await asyncio.gather(*(self._probe(player.ip) for player in recheck))
        failures.update(zip((player.uid for player in recheck), results, strict=True))


def _player_to_dict(player: KnownPlayer) -> dict[str, Any]:
    data = asdict(player)
    for key in ("info_read_at", "last_seen"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _player_from_dict(data: Mapping[str, Any]) -> KnownPlayer:
    return KnownPlayer(
        uid=str(data["uid"]),
        name=str(data["name"]),
        ip=str(data["ip"]),
        info=PlayerInfo(**data["info"]) if data.get("info") else None,
        last_seen=dt_util.parse_datetime(data["last_seen"]) if data.get("last_seen") else None,
        channel_freq=data.get("channel_freq"),
        wired=bool(data.get("wired")),
    )
