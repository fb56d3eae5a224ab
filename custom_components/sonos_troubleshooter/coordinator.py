"""One poll of the household: every player, the topology and the cloud, then the diagnosis."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import ClientSession
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import event
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import core_sonos
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
)
from .core_sonos import CoreReport
from .device_names import async_device_names
from .player_session import async_get_player_session
from .sonos_health import cloud_client
from .sonos_health.cloud_client import CloudReport
from .sonos_health.error_catalog import PlayerCard
from .sonos_health.error_rules import (
    AvailabilityChanges,
    DiagnosisState,
    ErrorCode,
    PlayerState,
    availability_changes,
)
from .sonos_health.household import DeviceName, Household, KnownPlayer
from .sonos_health.link_rules import Link, complete_share
from .sonos_health.player_client import (
    PlayerInfo,
    ProbeFailure,
    Role,
    SonosError,
    Topology,
    Uplink,
    answered,
    fetch_player_info,
    fetch_topology,
    ping,
    ping_network_device,
)
from .sonos_health.reading_rules import Readings, read
from .sonos_health.timing import POLL_GAP, PROBE_TIMEOUT
from .store import HouseholdStore
from .topology import TOPOLOGY_HEDGE, TopologySearch
from .topology_events import EventsState, TopologyEvents
from .watcher import Watcher

if TYPE_CHECKING:
    from .runtime_data import SonosTroubleshooterConfigEntry

# However long a poll took, the next one waits at least this long (see _keep_polls_on_the_beat).
MIN_POLL_GAP = timedelta(seconds=1)
# HA starts a timed poll up to this much after its due time (the random spread its event helper
# gives every refresh cycle); it is taken off so no poll comes later than its interval.
HA_POLL_SPREAD = timedelta(microseconds=event.RANDOM_MICROSECOND_MAX)

type Probe = tuple[ProbeFailure | None, float | None]
"""How a player failed the poll's control call (None: it answered), and how long it took (ms)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerSnapshot:
    """One player as the last poll saw it."""

    uid: str
    name: str  # the device's name: room and role ("Living Room Sub"), or the user's own
    device_name: DeviceName
    room: str
    role: Role
    main: str | None  # the main unit of its bonded set (see `Bond.main`)
    bonded_with: tuple[str, ...]  # names of the other players of its set, main unit first
    card: PlayerCard | None  # its 1001 card; None when its main unit's card covers it
    main_unit_down: bool  # a satellite silent because its main unit is down
    ip: str
    info: PlayerInfo | None
    last_seen: datetime | None
    channel_freq: int | None
    uplink: Uplink  # a satellite's is its main unit (see `Household.uplink`)
    failure: ProbeFailure | None  # None: answered properly
    response_time: float | None
    """Milliseconds the poll's control call took; None when it was not answered properly."""
    readings: Readings
    """What its last-seen and response-time sensors show (they move when they tell something)."""
    in_topology: bool
    vanished_reason: str | None
    away_since: datetime | None
    """Since when the household lists it away on purpose (its `LastSeenUTC`), if it says."""
    address_taken_by: str | None
    """The player whose description answered at its address last (it is not there); None
    once its own does."""
    state: PlayerState
    link: Link
    warned: bool  # the early warning is shown for it (see `Household.warned`)


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdSnapshot:
    """The result of one poll: what entities, repairs and diagnostics show."""

    household_id: str
    players: Mapping[str, PlayerSnapshot]
    cloud: CloudReport
    diagnosis: DiagnosisState
    topology_error: str | None
    topology_source: str
    """How the poll read the topology: `answer`, `events`, or `unknown` (see topology.py)."""
    topology_events: EventsState
    topology_unreadable_since: datetime | None
    """Since when players answer but cannot tell the topology, nor their events reach us."""
    events_address: str | None
    """Where players send their events (host:port), as the card about them names it."""
    complete_share: float | None
    """Percentage of the polls of the last 24 hours every player answered (or was away)."""
    updated_at: datetime = field(default_factory=dt_util.utcnow)
    core: CoreReport = field(default_factory=CoreReport)


class SonosTroubleshooterCoordinator(DataUpdateCoordinator[HouseholdSnapshot]):
    """Polls the household and the cloud, and publishes what the household model makes of it."""

    config_entry: SonosTroubleshooterConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SonosTroubleshooterConfigEntry,
        household: Household,
        store: HouseholdStore,
    ) -> None:
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
        )
        self.household_id: str = entry.data[CONF_HOUSEHOLD_ID]
        self.household = household
        self._store = store
        # A guided fix's "check again" polls between timer polls; one poll at a time keeps
        # each observation whole (two interleaved polls could count one outage twice).
        self._poll_lock = asyncio.Lock()
        # Since when core Sonos shows each player unavailable (see core_rules.follow_core).
        self._core_unavailable_since: dict[str, datetime] = {}
        # Between polls each player is checked every few seconds; a silence it confirms, or
        # a silent player that answers again, gets a poll right then (see watcher.py).
        self._watcher = Watcher(hass, entry, household, self.async_poll_now)
        self._poll_wanted = False  # the watcher asked for a poll that has not begun yet
        self._last_poll_began = -POLL_GAP  # loop time
        # Where the topology comes from while no player can answer it (large households).
        self.topology_events = TopologyEvents(hass, entry)
        self._topology = TopologySearch(hass, entry, self.topology_events)
        # What each player's last-seen and response-time sensors show (see reading_rules).
        self._readings: dict[str, Readings] = {}

    @callback
    def async_poll_now(self) -> None:
        """Poll between timer polls, as soon as `POLL_GAP` allows; one for many asks.

        Asking again before that poll began adds none; once it began, it may have missed what
        the new ask is about, so another follows.
        """
        if not self._poll_wanted:
            self._poll_wanted = True
            self.config_entry.async_create_background_task(
                self.hass, self.async_refresh(), f"{DOMAIN} poll now"
            )

    async def async_forget_player(self, uid: str) -> None:
        """Stop watching a player that left the household (the user deleted its device).

        It leaves the snapshot at once, so the platforms know its entities are gone and
        add them again if the player rejoins, even before the next poll.
        """
        self.household.forget(uid)
        self.data = replace(
            self.data, players={key: item for key, item in self.data.players.items() if key != uid}
        )
        self.async_update_listeners()
        await self._store.async_save()

    # --- the poll -----------------------------------------------------------------------
    async def _exchange[T](
        self, call: Callable[[ClientSession, str, float], Awaitable[T]], ip: str, deadline: float
    ) -> T:
        """Make one call to the player at `ip` with the time left until `deadline`.

        The transport ends it by then, on a connection of its own that it closes (no thread
        is involved; the integration's player session, not HA's pooling one), and starts
        nothing while an earlier call to the same address is under way.
        """
        left = deadline - self.hass.loop.time()
        if left <= 0:
            raise SonosError(ProbeFailure.TIMEOUT, "no time left in this poll")
        return await call(async_get_player_session(self.hass), ip, left)

    async def _probe(self, player: KnownPlayer, deadline: float) -> Probe:
        """Ask the player for its volume; return how it failed, or how long it took (ms)."""
        ip = player.ip
        # A BOOST or Bridge plays nothing: asked for its volume it answers an error, which
        # would tell nothing of its network. It is asked what every Sonos device answers.
        probe = ping_network_device if player.role is Role.NETWORK_DEVICE else ping
        started = self.hass.loop.time()
        try:
            await self._exchange(probe, ip, deadline)
        except SonosError as error:
            LOGGER.debug("Player at %s did not answer properly: %s", ip, error)
            return error.failure, None
        return None, 1000 * (self.hass.loop.time() - started)

    async def _read_info(
        self, player: KnownPlayer, now: datetime, deadline: float
    ) -> ProbeFailure | None:
        """Read the description at the player's address: None when it names the player.

        ADDRESS_TAKEN when it names another player; otherwise why it could not be read.
        """
        try:
            info = await self._exchange(fetch_player_info, player.ip, deadline)
        except SonosError as error:
            LOGGER.debug("Could not read the description of %s: %s", player.name, error)
            return error.failure
        return self.household.identified(player, info, now)

    async def _check(self, player: KnownPlayer, now: datetime, deadline: float) -> Probe:
        """Probe a player; read its description first when it may not be who answers there.

        In doubt (identity_rules), the description comes before the control call: another
        player's means this one does not answer, silence there is its silence, and a refusal
        (UPnP off) is its verdict. Else the description is re-read after a proper answer when
        that is due (`INFO_REFRESH`).
        """
        doubted = self.household.identity_in_doubt(player)
        if doubted and (
            not answered(failure := await self._read_info(player, now, deadline))
            or failure is ProbeFailure.UPNP_DISABLED
        ):
            return failure, None
        failure, took = await self._probe(player, deadline)
        if (
            failure is None
            and not doubted
            and (player.info_read_at is None or now - player.info_read_at > INFO_REFRESH)
            and await self._read_info(player, now, deadline) is ProbeFailure.ADDRESS_TAKEN
        ):
            return ProbeFailure.ADDRESS_TAKEN, None
        return failure, took

    async def _check_identities(
        self, probes: Mapping[str, Probe], now: datetime, deadline: float
    ) -> dict[str, Probe]:
        """After the checks and the topology: what this poll learnt of who is at which address.

        Players the topology now lists beside another player at their address have their
        description read, if they answered (a silent one is in doubt already and is read at
        its next check). A player found at another's address in its own name, and followed
        there (see `Household.identified`), is checked there if it failed where it was.
        Return the verdicts that change.
        """
        household = self.household
        doubted = [
            player
            for player in household.doubt_shared_addresses()
            if answered(probes.get(player.uid, (None, None))[0])
        ]
        found = await asyncio.gather(
            *(self._read_info(player, now, deadline) for player in doubted)
        )
        changed: dict[str, Probe] = {
            player.uid: (failure, None)
            for player, failure in zip(doubted, found, strict=True)
            if failure is ProbeFailure.ADDRESS_TAKEN
        }
        verdicts = {uid: failure for uid, (failure, _) in {**probes, **changed}.items()}
        followed = {
            taker.uid: taker
            for player in household.players.values()
            if verdicts.get(player.uid) is ProbeFailure.ADDRESS_TAKEN
            and player.taken_by is not None
            and (taker := household.players.get(player.taken_by.uid)) is not None
            and taker.ip == player.ip
            and not answered(verdicts.get(taker.uid))
        }
        results = await asyncio.gather(
            *(self._check(taker, now, deadline) for taker in followed.values())
        )
        changed.update(zip(followed, results, strict=True))
        return changed

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
                await asyncio.sleep(self._last_poll_began + POLL_GAP - self.hass.loop.time())
                self._poll_wanted = False
                self._last_poll_began = self.hass.loop.time()
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
            self.interval - timedelta(seconds=took) - HA_POLL_SPREAD, MIN_POLL_GAP
        )

    async def _poll(self) -> HouseholdSnapshot:
        now = dt_util.utcnow()
        household = self.household
        # Everything at once, against one deadline: what can only start later (another
        # topology source, a player that moved) gets the time left, not a timeout of its
        # own, so a poll ends within about one timeout whatever hangs.
        deadline = self.hass.loop.time() + PROBE_TIMEOUT
        known = list(household.players.values())
        sources = household.topology_sources(self.config_entry.data[CONF_HOST])
        probe_results, report, (found, rechecked) = await asyncio.gather(
            asyncio.gather(*(self._check(player, now, deadline) for player in known)),
            self._check_cloud(),
            self._follow_topology(sources, now, deadline),
        )
        probes = dict(zip((player.uid for player in known), probe_results, strict=True))
        probes.update(rechecked)  # a player that moved answers at its new address
        probes.update(await self._check_identities(probes, now, deadline))
        failures = {uid: failure for uid, (failure, _) in probes.items()}
        if household.topology is None and not household.players:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="household_unreachable",
                translation_placeholders={"host": self.config_entry.data[CONF_HOST]},
            )
        previous = household.diagnosis
        diagnosis = household.observe(now, failures, report.observation)
        if changes := availability_changes(previous, diagnosis):
            self._log_availability(changes, failures)
        self._store.async_changed()
        self._readings = {
            uid: read(
                self._readings.get(uid, Readings()),
                player.last_seen,
                probes.get(uid, (None, None))[1],
                now,
            )
            for uid, player in household.players.items()
        }
        if not self.config_entry.pref_disable_polling:
            self._watcher.follow()
        self._core_unavailable_since, core = await core_sonos.async_observe_core(
            self.hass, household.players.values(), failures, self._core_unavailable_since, now
        )
        return self._snapshot(now, probes, report, diagnosis, found, core=core)

    def _log_availability(
        self, changes: AvailabilityChanges, failures: Mapping[str, ProbeFailure | None]
    ) -> None:
        """Log once, at info, each player or the cloud that became unavailable or came back.

        `availability_changes` decides when (1001 and 1003 beginning and ending, so nothing
        repeats poll after poll); this names the player as its device does, with its address.
        """
        household = self.household
        players = (*changes.silenced, *changes.answering, *changes.away)
        names = (
            async_device_names(self.hass, self.config_entry.entry_id, household)[1]
            if players
            else {}
        )
        for uid in changes.silenced:
            LOGGER.info(
                "%s (%s) is unavailable: Sonos error %s, it does not answer (%s)",
                names[uid],
                household.players[uid].ip,
                ErrorCode.E1001,
                failures.get(uid),
            )
        for uid in changes.answering:
            LOGGER.info(
                "%s (%s) is back: it answers again, Sonos error %s cleared (now %s)",
                names[uid],
                household.players[uid].ip,
                ErrorCode.E1001,
                household.diagnosis.players[uid].code,
            )
        for uid in changes.away:
            LOGGER.info(
                "%s (%s) is away on purpose (%s): Sonos error %s cleared",
                names[uid],
                household.players[uid].ip,
                household.diagnosis.players[uid].expected_absence,
                ErrorCode.E1001,
            )
        if changes.cloud_lost is not None:
            LOGGER.info(
                "The Sonos cloud is unavailable: Sonos error %s, cause %s",
                ErrorCode.E1003,
                changes.cloud_lost,
            )
        if changes.cloud_back:
            LOGGER.info("The Sonos cloud is back: Sonos error %s cleared", ErrorCode.E1003)

    def _snapshot(
        self,
        now: datetime,
        probes: Mapping[str, Probe],
        report: CloudReport,
        diagnosis: DiagnosisState,
        found: Topology | str,
        *,
        core: CoreReport,
    ) -> HouseholdSnapshot:
        household = self.household
        vanished = household.vanished_reasons()
        away_since = household.away_since()
        members = household.member_uids()
        device_names, names = async_device_names(self.hass, self.config_entry.entry_id, household)
        fallen = household.fallen_with_main()
        return HouseholdSnapshot(
            household_id=self.household_id,
            players={
                uid: PlayerSnapshot(
                    uid=uid,
                    name=names[uid],
                    device_name=device_names[uid],
                    room=player.name,
                    role=player.role,
                    main=player.main,
                    bonded_with=tuple(names[other.uid] for other in household.bonded_with(uid)),
                    card=household.card_of(uid, fallen),
                    main_unit_down=uid in fallen,
                    ip=player.ip,
                    info=player.info,
                    last_seen=player.last_seen,
                    channel_freq=player.channel_freq,
                    uplink=household.uplink(uid),
                    failure=probes.get(uid, (None, None))[0],
                    response_time=probes.get(uid, (None, None))[1],
                    readings=self._readings[uid],
                    in_topology=uid in members,
                    vanished_reason=vanished.get(uid),
                    away_since=away_since.get(uid),
                    address_taken_by=None
                    if (taker := player.taken_by) is None
                    else names.get(taker.uid, taker.name),
                    state=diagnosis.players[uid],
                    link=player.link,
                    warned=household.warned(uid),
                )
                for uid, player in household.players.items()
            },
            cloud=report,
            diagnosis=diagnosis,
            topology_error=found if isinstance(found, str) else None,
            topology_source=self._topology.source,
            topology_events=self.topology_events.state,
            topology_unreadable_since=self._topology.unreadable_since(now),
            events_address=self.topology_events.address,
            complete_share=complete_share(self.household.tally, now),
            updated_at=now,
            core=core,
        )

    async def _follow_topology(
        self, sources: list[str], now: datetime, deadline: float
    ) -> tuple[Topology | str, dict[str, Probe]]:
        """Read the topology and follow it; return it (or why not) and the players it changed.

        Players that joined or moved are asked right away, at their address in the topology.
        """
        found = await self._topology.async_find(
            lambda ip: self._exchange(fetch_topology, ip, deadline),
            sources,
            self.household.answering,
            deadline,
            hedge=PROBE_TIMEOUT * TOPOLOGY_HEDGE,
        )
        if isinstance(found, str):
            LOGGER.debug("No player could tell the household topology: %s", found)
            self.household.follow(None)
            if self.household.players:
                return found, {}
            # A first setup with no topology (a household too large to answer, whose events
            # do not arrive): watch the configured player, which answered the config flow.
            host = self.config_entry.data[CONF_HOST]
            try:
                info = await self._exchange(fetch_player_info, host, deadline)
            except SonosError:
                return found, {}
            player = self.household.adopt(info, host, now)
            return found, {player.uid: await self._check(player, now, deadline)}
        recheck, known = self.household.follow(found)
        results = await asyncio.gather(*(self._check(player, now, deadline) for player in recheck))
        probes: dict[str, Probe] = {uid: (failure, None) for uid, failure in known.items()}
        probes.update(zip((player.uid for player in recheck), results, strict=True))
        return found, probes
