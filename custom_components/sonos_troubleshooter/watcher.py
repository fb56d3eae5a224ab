"""Between polls: a check of every player every few seconds, and a poll at once when it matters.

A player that answered the last poll is checked with a TCP connection to its port 1400, opened
and closed at once: no request, nothing for the player to do, three packets each way. Once a
check or a poll failed, the player is checked with the poll's control call (`GetVolume`,
through the bounded transport) until it answers again: a player that accepts connections but
never answers is silent too. A silence is checked every `RECHECK_AFTER` seconds and, as soon
as the pure rule says a failed control call would confirm it, polled right then (the
coordinator's `async_poll_now`), which raises 1001. A player that failed the last poll and
answers a check again gets a poll right then too, which clears its error.

Expected absences (the household lists the player as asleep, off, upgrading or on Bluetooth)
never ask for a poll to confirm: they are checked at the normal pace until they answer.

An address is not an identity: any Sonos player accepts the connection and answers the
control call, so while it is in doubt that the device at a player's address is that player
(it missed a check since its description last named it: see identity_rules), the check reads
the device description instead (bounded as the control call is, so a device that accepts and
never answers is silent too). Another player's description there is a missed check, not an
answer. Once the player's 1001 is raised while another player holds its address, the
watcher leaves it to the polls (one description read each): the other player is not asked
every few seconds on its behalf.

Load: one connection per player every `CHECK_EVERY` seconds (jittered, so 32 players spread
out): 12 a minute per player, 384 a minute for 32 players; a silent player costs a request
(its description, or the control call) every `RECHECK_AFTER` seconds (one that is away on
purpose, every `CHECK_EVERY`).
"""

import asyncio
from collections.abc import Callable
import contextlib
from datetime import datetime
import random
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import LOGGER
from .player_session import async_get_player_session
from .sonos_health.error_rules import ErrorCode
from .sonos_health.household import Household, KnownPlayer
from .sonos_health.link_rules import confirmation_due
from .sonos_health.player_client import (
    IN_FLIGHT,
    PORT,
    SonosError,
    answered,
    fetch_player_info,
    ping,
)
from .sonos_health.timing import (
    CHECK_EVERY,
    CHECK_JITTER,
    CONNECT_TIMEOUT,
    PROBE_TIMEOUT,
    RECHECK_AFTER,
)

if TYPE_CHECKING:
    from .runtime_data import SonosTroubleshooterConfigEntry


async def accepts_connection(ip: str, time_limit: float) -> bool:
    """Tell whether the player at `ip` accepts a TCP connection to its port 1400 in time."""
    try:
        async with asyncio.timeout(time_limit):
            _, writer = await asyncio.open_connection(ip, PORT)
    except TimeoutError, OSError:
        return False
    writer.close()
    # A reset while closing does not matter: it accepted, which is all that was asked.
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class Watcher:
    """One check loop per watched player, tied to the config entry (cancelled on unload)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SonosTroubleshooterConfigEntry,
        household: Household,
        poll_now: Callable[[], None],
    ) -> None:
        """Watch the household's players; `poll_now` asks the coordinator for a poll at once."""
        self._hass = hass
        self._entry = entry
        self._household = household
        self._poll_now = poll_now
        self._watched: dict[str, asyncio.Task[None]] = {}
        self._nudged: dict[str, asyncio.Event] = {}
        self._random = random.Random()  # noqa: S311 - jitter, not secrets

    def follow(self) -> None:
        """After a poll: watch players that joined, check at once those that just fell silent.

        A player that failed this poll for the first time is checked right away (with a
        control call), so a player that accepts connections but never answers is confirmed
        seconds after the poll, not after its pause. Loops of players that left end by
        themselves.
        """
        for uid in self._household.players:
            nudge = self._nudged.setdefault(uid, asyncio.Event())
            task = self._watched.get(uid)
            if task is None or task.done():
                self._watched[uid] = self._entry.async_create_background_task(
                    self._hass, self._watch(uid, nudge), f"sonos_troubleshooter watch {uid}"
                )
            state = self._household.diagnosis.player(uid)
            if state is not None and state.failures == 1 and state.code is ErrorCode.OK:
                nudge.set()

    async def _watch(self, uid: str, nudge: asyncio.Event) -> None:
        # Spread the players' first checks over one period, as their later ones are.
        pause = self._random.uniform(0, CHECK_EVERY)
        while True:
            try:
                async with asyncio.timeout(pause):
                    await nudge.wait()
            except TimeoutError:
                pass
            nudge.clear()
            if (player := self._household.players.get(uid)) is None:
                self._nudged.pop(uid, None)
                return
            await self._check(player)
            pause = self._pause(player)

    def _pause(self, player: KnownPlayer) -> float:
        """Re-check a silence every few seconds: to confirm it, or to see its end at once.

        A player away on purpose is checked at the normal pace: it may sleep for hours.
        """
        if player.link.streak and not player.link.excused and not self._left_to_polls(player):
            return RECHECK_AFTER
        return CHECK_EVERY + self._random.uniform(-CHECK_JITTER, CHECK_JITTER)

    def _left_to_polls(self, player: KnownPlayer) -> bool:
        """Tell whether the player is in 1001 while another player answers at its address."""
        state = self._household.diagnosis.player(player.uid)
        return player.taken_by is not None and state is not None and state.code is ErrorCode.E1001

    async def _identify(self, player: KnownPlayer, at: datetime) -> bool:
        """Read the description at the player's address: whether the player answers there."""
        try:
            info = await fetch_player_info(
                async_get_player_session(self._hass), player.ip, PROBE_TIMEOUT
            )
        except SonosError as error:
            return answered(error.failure)
        return self._household.identified(player, info, at) is None

    async def _check(self, player: KnownPlayer) -> None:
        """Check one player once; ask for a poll when it confirms a silence or ends one."""
        if IN_FLIGHT.busy(player.ip) or self._left_to_polls(player):
            return  # a poll is asking it right now, or asks it each time: its answer will tell
        state = self._household.diagnosis.player(player.uid)
        failed_last_poll = state is not None and (
            state.failures > 0 or state.code is ErrorCode.E1001 or state.expected_absence
        )
        at = dt_util.utcnow()
        if self._household.identity_in_doubt(player) and not (
            state is not None and state.code is ErrorCode.UPNP_DISABLED
        ):  # a player refusing local control may refuse its description too: connect then
            heard = await self._identify(player, at)
        elif failed_last_poll or player.link.streak:
            try:
                await ping(async_get_player_session(self._hass), player.ip, PROBE_TIMEOUT)
            except SonosError as error:
                heard = answered(error.failure)
            else:
                heard = True
        else:
            heard = await accepts_connection(player.ip, CONNECT_TIMEOUT)
        if player.uid not in self._household.players:
            return  # forgotten meanwhile
        self._household.checked(player, at, answered=heard)
        if heard:
            if failed_last_poll:
                LOGGER.debug("%s answers again: polling now", player.name)
                self._poll_now()
            return
        if confirmation_due(player.link, dt_util.utcnow()) and (
            state is None or state.code is not ErrorCode.E1001
        ):
            LOGGER.debug("%s missed %d checks: polling now", player.name, player.link.streak)
            self._poll_now()
