"""One poll of the household: every player, the topology and the cloud, then the diagnosis."""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import create_eager_task

from . import cloud_client
from .cloud_client import CloudReport
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
from .error_rules import (
    DiagnosisState,
    Observation,
    PlayerObservation,
    PlayerState,
    diagnose,
    from_dict,
    to_dict,
)
from .player_client import (
    PlayerInfo,
    ProbeFailure,
    SonosError,
    Topology,
    answered,
    fetch_player_info,
    fetch_topology,
    ping,
)
from .power_rules import (
    RECORDS_KEPT,
    ActionRecord,
    Outcome,
    from_dict as action_from_dict,
    to_dict as action_to_dict,
)

if TYPE_CHECKING:
    from .power_control import Remediator

type SonosTroubleshooterConfigEntry = ConfigEntry[SonosTroubleshooterCoordinator]

STORAGE_VERSION = 1
# An executor thread stuck past soco's own timeout is abandoned after this much more.
EXECUTOR_GRACE = 1.0
# The next player is asked for the topology when the last one asked has not answered within
# this share of the probe timeout (a healthy player answers in a fraction of it).
TOPOLOGY_HEDGE = 0.25
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
        self._store = household_store(hass, entry.entry_id)

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
        """Stop watching a player that left the household (the user deleted its device).

        It leaves the snapshot at once, so the platforms know its entities are gone and
        add them again if the player rejoins, even before the next poll.
        """
        self.players.pop(uid, None)
        self.data = replace(
            self.data, players={key: item for key, item in self.data.players.items() if key != uid}
        )
        self.async_update_listeners()
        await self.async_save()

    def has_left(self, uid: str) -> bool:
        """Tell whether the topology of the last poll no longer lists the player.

        False when that poll could not read the topology (large households may answer 501):
        a player is let go only when the household says it left.
        """
        topology = self._topology
        return (
            topology is not None
            and all(member.uid != uid for member in topology.members)
            and all(item.uid != uid for item in topology.vanished)
        )

    # --- the poll -----------------------------------------------------------------------
    async def _in_executor[T](self, job: Callable[[float], T], deadline: float) -> T:
        """Run blocking soco/requests work with the time left until `deadline`.

        The job gets that time as its own timeout; the wait is bounded hard in case a
        thread is stuck past it.
        """
        left = deadline - self.hass.loop.time()
        if left <= 0:
            raise TimeoutError
        async with asyncio.timeout(left + EXECUTOR_GRACE):
            return await self.hass.async_add_executor_job(job, left)

    async def _probe(self, ip: str, deadline: float) -> ProbeFailure | None:
        try:
            await self._in_executor(lambda timeout: ping(ip, timeout), deadline)
        except SonosError as error:
            LOGGER.debug("Player at %s did not answer properly: %s", ip, error)
            return error.failure
        except TimeoutError:
            return ProbeFailure.TIMEOUT
        return None

    async def _read_topology(self, ip: str, deadline: float) -> Topology | str:
        try:
            return await self._in_executor(lambda timeout: fetch_topology(ip, timeout), deadline)
        except SonosError as error:
            return str(error)
        except TimeoutError:
            return str(ProbeFailure.TIMEOUT)

    async def _read_info(self, player: KnownPlayer, now: datetime, deadline: float) -> None:
        ip = player.ip
        try:
            info = await self._in_executor(lambda timeout: fetch_player_info(ip, timeout), deadline)
        except (SonosError, TimeoutError) as error:
            LOGGER.debug("Could not read the description of %s: %s", player.name, error)
            return
        if info.uid == player.uid:  # an address reused by another player is not this one
            player.info, player.info_read_at = info, now
            player.name = info.name or player.name

    async def _check(
        self, player: KnownPlayer, now: datetime, deadline: float
    ) -> ProbeFailure | None:
        """Probe a player, then re-read its description if it answered and that is due."""
        failure = await self._probe(player.ip, deadline)
        if failure is None and (
            player.info_read_at is None or now - player.info_read_at > INFO_REFRESH
        ):
            await self._read_info(player, now, deadline)
        return failure

    def _topology_sources(self, known: list[KnownPlayer]) -> list[str]:
        """Addresses to ask for the topology: players that answered last time, then the configured one."""
        answered_last = [
            player.ip
            for player in known
            if (state := self._diagnosis.player(player.uid))
            and state.failures == 0
            and player.last_seen is not None
        ]
        return list(dict.fromkeys([*answered_last[:3], self.config_entry.data[CONF_HOST]]))

    async def _check_cloud(self) -> CloudReport:
        options = self.config_entry.options
        return await cloud_client.check_cloud(
            async_get_clientsession(self.hass),
            cloud_client.resolve_host,
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
        # Everything at once, against one deadline: what can only start later (another
        # topology source, a player that moved) gets the time left, not a timeout of its
        # own, so a poll ends within about one timeout whatever hangs.
        deadline = self.hass.loop.time() + PROBE_TIMEOUT
        known = list(self.players.values())
        probe_results, report, (found, rechecked) = await asyncio.gather(
            asyncio.gather(*(self._check(player, now, deadline) for player in known)),
            self._check_cloud(),
            self._follow_topology(self._topology_sources(known), now, deadline),
        )
        failures: dict[str, ProbeFailure | None] = {
            player.uid: failure for player, failure in zip(known, probe_results, strict=True)
        }
        failures.update(rechecked)  # a player that moved answers at its new address
        topology = self._topology = found if isinstance(found, Topology) else None
        topology_error = found if isinstance(found, str) else None
        if topology is None and not self.players:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="household_unreachable",
                translation_placeholders={"host": self.config_entry.data[CONF_HOST]},
            )

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

    async def _follow_topology(
        self, sources: list[str], now: datetime, deadline: float
    ) -> tuple[Topology | str, dict[str, ProbeFailure | None]]:
        """Read the topology and follow it; return it (or why not) and the players it changed."""
        found = await self._find_topology(sources, deadline)
        if isinstance(found, str):
            LOGGER.debug("No player could tell the household topology: %s", found)
            return found, {}
        return found, await self._apply_topology(found, now, deadline)

    async def _find_topology(self, sources: list[str], deadline: float) -> Topology | str:
        """Ask one player after another, the next as soon as one fails or is slow to answer.

        Any player can tell; a hung one then costs a share of the timeout, not all of it.
        Households of about 20+ players may answer GetZoneGroupState with UPnP error 501;
        then no player can tell and the poll goes on with the players already known.
        """
        waiting = list(sources)
        asking: set[asyncio.Task[Topology | str]] = set()
        error = ""
        try:
            while waiting or asking:
                if waiting:
                    asking.add(create_eager_task(self._read_topology(waiting.pop(0), deadline)))
                done, asking = await asyncio.wait(
                    asking,
                    timeout=PROBE_TIMEOUT * TOPOLOGY_HEDGE if waiting else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in done:
                    if isinstance(result := task.result(), Topology):
                        return result
                    error = result
        finally:
            for task in asking:
                task.cancel()
        return error

    async def _apply_topology(
        self, topology: Topology, now: datetime, deadline: float
    ) -> dict[str, ProbeFailure | None]:
        """Follow address changes, add players that joined, and refresh names and Wi-Fi.

        Return what the players that joined, moved or vanished answered.
        """
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
        failures: dict[str, ProbeFailure | None] = {}
        for item in topology.vanished:
            if item.uid not in self.players and item.last_known_ip:
                self.players[item.uid] = KnownPlayer(
                    uid=item.uid, name=item.name, ip=item.last_known_ip
                )
                failures[item.uid] = ProbeFailure.NO_ANSWER
        # A player that joined or moved is asked right away, so a new address is never a failure.
        results = await asyncio.gather(*(self._check(player, now, deadline) for player in recheck))
        failures.update(zip((player.uid for player in recheck), results, strict=True))
        return failures


def household_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Return the store of a household's watched players, diagnosis and actions."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")


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
