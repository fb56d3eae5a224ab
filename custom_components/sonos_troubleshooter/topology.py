"""The topology search: which player tells the household's topology this poll, and how.

Any player can tell; it is asked of one player after another, the next as soon as one fails or
is slow to answer, so a hung one costs a share of the timeout, not all of it. Households of
about 20+ players answer GetZoneGroupState with UPnP error 501; then the topology comes from
their events (`topology_events.py`), and when those cannot reach Home Assistant either, the
poll goes on with the players already known.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.util.async_ import create_eager_task

from .const import DOMAIN
from .sonos_health.player_client import TOPOLOGY_TOO_LARGE, SonosError, Topology, UPnPFaultError
from .topology_events import EventsState, TopologyEvents

if TYPE_CHECKING:
    from .runtime_data import SonosTroubleshooterConfigEntry

# The next player is asked for the topology when the last one asked has not answered within
# this share of the probe timeout (a healthy player answers in a fraction of it).
TOPOLOGY_HEDGE = 0.25


class TopologySearch:
    """Finds the topology each poll, and follows since when it cannot be read at all."""

    def __init__(
        self, hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry, events: TopologyEvents
    ) -> None:
        """Search for one household, its events as the way out past the size players answer."""
        self._hass = hass
        self._entry = entry
        self._events = events
        self.source = "unknown"
        """How the last poll read the topology: `answer`, `events`, or `unknown`."""
        self._unreadable_since: datetime | None = None

    async def async_find(
        self,
        ask: Callable[[str], Awaitable[Topology]],
        sources: list[str],
        answering: Callable[[], list[str]],
        deadline: float,
        *,
        hedge: float,
    ) -> Topology | str:
        """Ask the `sources` in turn, the next after `hedge` seconds; return it, or why not.

        `ask` reads the topology from the player at an address; `answering` names the players
        that answered the last poll, whose events are trusted.
        """
        self.source = "unknown"
        waiting = list(sources)
        asking: set[asyncio.Task[Topology | str]] = set()
        error = ""
        try:
            while waiting or asking:
                if waiting:
                    read = self._read(ask, waiting.pop(0), answering, deadline)
                    asking.add(create_eager_task(read))
                done, asking = await asyncio.wait(
                    asking,
                    timeout=hedge if waiting else None,
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

    async def _read(
        self,
        ask: Callable[[str], Awaitable[Topology]],
        ip: str,
        answering: Callable[[], list[str]],
        deadline: float,
    ) -> Topology | str:
        """Ask the player at `ip` for the topology; past the size it can answer, read its events.

        Events are read from a player that answered the last poll: a silent one's last
        event may be stale.
        """
        try:
            topology = await ask(ip)
        except UPnPFaultError as error:
            if error.code != TOPOLOGY_TOO_LARGE:
                return str(error)
            found = await self._events.async_read(ip, answering(), deadline)
            if isinstance(found, str):
                return f"{error}; {found}"
            self.source = "events"
            return found
        except SonosError as error:
            return str(error)
        self.source = "answer"
        if self._events.sid is not None:  # not needed any more
            self._entry.async_create_background_task(
                self._hass, self._events.async_stop(), f"{DOMAIN} stop topology events"
            )
        return topology

    def unreadable_since(self, now: datetime) -> datetime | None:
        """Follow since when the players answer 501 and their events cannot reach us."""
        unreadable = self.source == "unknown" and self._events.state in (
            EventsState.BLOCKED,
            EventsState.NO_CALLBACK,
            EventsState.REFUSED,
        )
        if not unreadable:
            self._unreadable_since = None
        elif self._unreadable_since is None:
            self._unreadable_since = now
        return self._unreadable_since
