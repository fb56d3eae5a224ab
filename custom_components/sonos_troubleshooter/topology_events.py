"""The household's topology from its events, when no player can answer it.

Past about 16 kB of ZoneGroupState (20-odd players, less with home theatres and vanished
devices) players answer GetZoneGroupState with UPnP error 501 (SoCo/SoCo issue 935;
home-assistant/core issues 89128, 70194, 82513), yet still send the whole document in their
ZoneGroupTopology events: soco reads it from there too (soco/zonegroupstate.py). So, while the
answer fails, one player is subscribed to, and the latest event it sent is the topology.

The events come back to Home Assistant's own HTTP server: a `NOTIFY` route on a path with an
unguessable token (a new one each subscription), so no port of our own is opened. Players send
events over plain HTTP to an address they can reach: Home Assistant's internal URL when it is an
`http://` address literal (a user's Docker port mapping, for instance), else the address Home
Assistant reaches the player from and its HTTP port. When Home Assistant serves HTTPS only (its
own certificate), players cannot deliver, and nothing is subscribed.

Nothing here can hang or leak: every request to a player runs under the transport's deadline;
the first event is waited for `FIRST_EVENT_WAIT` seconds, after which the subscription is
cancelled (HA behind a proxy, TLS, a container without the port: events cannot arrive) and not
tried again for `RETRY_AFTER`; the subscription is renewed at half of what the player granted
and cancelled when the answer works again or the entry unloads; an event body is read within
`EVENT_READ_TIMEOUT` and `MAX_BODY` bytes.
"""

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
import ipaddress
import secrets
from typing import TYPE_CHECKING, Final, override

from aiohttp import web
from homeassistant.components import network
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import HomeAssistantView, request_handler_factory
from homeassistant.util.hass_dict import HassKey
from yarl import URL

from .const import DOMAIN, LOGGER
from .player_session import async_get_player_session
from .sonos_health.player_client import (
    MAX_BODY,
    SonosError,
    Topology,
    parse_topology_event,
    renew_subscription,
    subscribe_topology,
    unsubscribe,
)
from .sonos_health.timing import PROBE_TIMEOUT

if TYPE_CHECKING:
    from .runtime_data import SonosTroubleshooterConfigEntry

EVENTS_URL: Final = f"/api/{DOMAIN}/topology/{{token}}"
SUBSCRIPTION_SECONDS: Final = 1800
"""Asked of the player; renewed at half of what it grants (UPnP's minimum is 1800 s)."""
FIRST_EVENT_WAIT: Final = 2.0
"""Seconds a player gets to deliver its first event (HA core's Sonos waits as long)."""
RETRY_AFTER: Final = 600.0
"""Seconds before events that never arrived are tried again (the user may open the way)."""
EVENT_READ_TIMEOUT: Final = 5.0
"""Seconds an event's body may take to arrive: a player sends it at once."""

_VIEW: HassKey[TopologyEventView] = HassKey(f"{DOMAIN}_topology_events")


class EventsState(StrEnum):
    """Where the topology events stand; shown in diagnostics and the diagnosis sensor."""

    OFF = "off"  # not needed: a player answers GetZoneGroupState
    WAITING = "waiting"  # subscribed, the first event has not come yet
    LIVE = "live"  # subscribed, events arrive
    BLOCKED = "blocked"  # subscribed, but no event reached Home Assistant in time
    NO_CALLBACK = "no_callback"  # Home Assistant serves HTTPS only: players cannot deliver
    REFUSED = "refused"  # the player refused or failed the subscription


class TopologyEventView(HomeAssistantView):
    """Takes the players' NOTIFY requests for every household (one view per Home Assistant)."""

    url = EVENTS_URL
    name = f"api:{DOMAIN}:topology"
    requires_auth = False  # players cannot authenticate; the token in the path is the secret

    def __init__(self) -> None:
        """Start with no subscription to take events for."""
        self.listeners: dict[str, TopologyEvents] = {}

    @override
    def register(
        self, hass: HomeAssistant, app: web.Application, router: web.UrlDispatcher
    ) -> None:
        """Route NOTIFY, which HomeAssistantView does not know, to `notify`."""
        router.add_route("NOTIFY", self.url, request_handler_factory(hass, self, self.notify))

    async def notify(self, request: web.Request, token: str) -> web.Response:
        """Take one event: 412 for a token or SID not ours (as UPnP answers), 200 once read.

        A player may send its first event before its answer to SUBSCRIBE, with the SID, has
        reached us: while that answer is awaited, the token alone admits it.
        """
        listener = self.listeners.get(token)
        sid = request.headers.get("SID")
        if listener is None or sid is None or sid != (listener.sid or sid):
            return web.Response(status=412)
        if (request.content_length or 0) > MAX_BODY:
            return web.Response(status=413)
        body = bytearray()
        try:
            async with asyncio.timeout(EVENT_READ_TIMEOUT):
                while chunk := await request.content.readany():
                    body += chunk
                    if len(body) > MAX_BODY:
                        return web.Response(status=413)
        except TimeoutError:
            return web.Response(status=408)
        seq = request.headers.get("SEQ", "")
        listener.received(sid, int(seq) if seq.isdigit() else None, bytes(body))
        return web.Response(status=200)


@callback
def async_register_view(hass: HomeAssistant) -> None:
    """Route the players' events for every household of this Home Assistant."""
    hass.data[_VIEW] = TopologyEventView()
    hass.http.register_view(hass.data[_VIEW])


@dataclass(slots=True)
class _Subscription:
    ip: str
    sid: str
    started: float  # loop time
    renewal: asyncio.TimerHandle | None = None


class TopologyEvents:
    """One household's subscription to its topology events, while they are needed."""

    def __init__(self, hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry) -> None:
        """Take events through the one view of this Home Assistant (`async_register_view`)."""
        self._hass = hass
        self._entry = entry
        self._token = ""
        self._subscription: _Subscription | None = None
        self._topology: Topology | None = None
        self._topology_sid = ""  # the SID and SEQ of the event the topology came with
        self._topology_seq = 0
        self._first_event = asyncio.Event()
        self._lock = asyncio.Lock()
        self._retry_at = 0.0  # loop time before which a blocked way back is not tried again
        self.state = EventsState.OFF
        self.address: str | None = None  # host:port the players are asked to send events to

    @property
    def sid(self) -> str | None:
        """The SID of the subscription under way."""
        return self._subscription.sid if self._subscription else None

    def received(self, sid: str, seq: int | None, body: bytes) -> None:
        """Keep the topology an event carries (events without one change nothing).

        Each event comes on a connection of its own, so two close together may arrive out of
        order: one with a lower SEQ than the last taken is older, and dropped.
        """
        if seq is not None and sid == self._topology_sid and seq < self._topology_seq:
            return
        try:
            topology = parse_topology_event(body)
        except SonosError as error:
            LOGGER.debug("Ignored a topology event that cannot be read: %s", error)
            return
        if topology is not None:
            self._topology = topology
            self._topology_sid, self._topology_seq = sid, seq or 0
            if sid == self.sid:
                self.state = EventsState.LIVE
                self._first_event.set()

    async def async_read(
        self, ip: str, trusted: Collection[str], deadline: float
    ) -> Topology | str:
        """Return the latest topology the household's events carried, or why there is none.

        A subscription to a player that is still `trusted` (it answered the last poll) is
        kept; otherwise `ip` (a player that just answered 501) is subscribed to, and its first
        event waited for within half the time left until `deadline` (it may come for the
        next poll).
        """
        async with self._lock:
            loop = self._hass.loop
            subscription = self._subscription
            if subscription is not None and subscription.ip not in trusted:
                await self._async_cancel()
                subscription = None
            if subscription is None:
                if loop.time() < self._retry_at:
                    return self._why_not()
                await self._async_subscribe(ip)
                if (subscription := self._subscription) is None:
                    return self._why_not()
            if self._topology is None:
                # Half the poll's time left at most: what starts after the topology (players
                # that moved or joined, identity checks) gets the other half.
                now = loop.time()
                until = min(now + (deadline - now) / 2, subscription.started + FIRST_EVENT_WAIT)
                waited = until - now
                try:
                    async with asyncio.timeout(max(waited, 0)):
                        await self._first_event.wait()
                except TimeoutError:
                    if loop.time() >= subscription.started + FIRST_EVENT_WAIT:
                        LOGGER.info(
                            "No topology event from %s reached Home Assistant in %.0f s; the"
                            " household's topology cannot be read (tried again in %.0f min)",
                            subscription.ip,
                            FIRST_EVENT_WAIT,
                            RETRY_AFTER / 60,
                        )
                        await self._async_cancel()
                        self._retry_at = loop.time() + RETRY_AFTER
                        self.state = EventsState.BLOCKED
                    return self._why_not()
            return self._topology or self._why_not()

    def _why_not(self) -> str:
        return f"topology events: {self.state}"

    async def _callback_url(self, ip: str) -> str | None:
        """Where the player at `ip` can send events; None when Home Assistant serves HTTPS only.

        Keeps the address (host:port) in `address`, for the card that names it.
        """
        path = EVENTS_URL.format(token=self._token)
        internal = self._hass.config.internal_url
        if internal is not None and (url := URL(internal)).scheme == "http" and url.host:
            try:
                ipaddress.ip_address(url.host)
            except ValueError:
                pass  # a name a player may not resolve (.local): the address is surer
            else:
                self.address = f"{url.host}:{url.port}"
                return str(url.with_path(path))
        api = self._hass.config.api
        if api is None:
            return None
        source = await network.async_get_source_ip(self._hass, target_ip=ip)
        self.address = f"{source}:{api.port}"
        return None if api.use_ssl else f"http://{self.address}{path}"

    async def _async_subscribe(self, ip: str) -> None:
        view = self._hass.data[_VIEW]
        self._token = secrets.token_urlsafe(24)
        if (callback := await self._callback_url(ip)) is None:
            self.state = EventsState.NO_CALLBACK
            return
        view.listeners[self._token] = self
        try:
            sid, granted = await subscribe_topology(
                async_get_player_session(self._hass),
                ip,
                callback,
                SUBSCRIPTION_SECONDS,
                PROBE_TIMEOUT,
            )
        except SonosError as error:
            LOGGER.debug("%s refused a topology subscription: %s", ip, error)
            view.listeners.pop(self._token, None)
            self.state = EventsState.REFUSED
            return
        LOGGER.debug("Subscribed to the topology events of %s (%s s)", ip, granted)
        self._subscription = _Subscription(ip, sid, self._hass.loop.time())
        self.state = EventsState.WAITING
        self._schedule_renewal(granted)
        self._take_early_event()

    def _take_early_event(self) -> None:
        """Count an event that came before the answer to SUBSCRIBE, once its SID is known."""
        if self._topology is not None and self._topology_sid == self.sid:
            self.state = EventsState.LIVE
            self._first_event.set()

    def _schedule_renewal(self, granted: int) -> None:
        if (subscription := self._subscription) is not None:
            if subscription.renewal is not None:
                subscription.renewal.cancel()
            subscription.renewal = self._hass.loop.call_later(
                granted / 2,
                lambda: self._entry.async_create_background_task(
                    self._hass, self._async_renew(subscription), f"{DOMAIN} renew topology events"
                ),
            )

    async def _async_renew(self, subscription: _Subscription) -> None:
        async with self._lock:
            if subscription is not self._subscription:
                return
            try:
                granted = await renew_subscription(
                    async_get_player_session(self._hass),
                    subscription.ip,
                    subscription.sid,
                    SUBSCRIPTION_SECONDS,
                    PROBE_TIMEOUT,
                )
            except SonosError as error:
                # Lapsed (the player restarted and forgot it) or the player is gone: the
                # next poll that needs events subscribes again, maybe to another player.
                LOGGER.debug(
                    "Renewing the topology events of %s failed: %s", subscription.ip, error
                )
                self._forget()
                return
            self._schedule_renewal(granted)

    def _forget(self) -> None:
        """Drop the subscription and what it carried, without telling the player."""
        if (subscription := self._subscription) is not None and subscription.renewal:
            subscription.renewal.cancel()
        self._hass.data[_VIEW].listeners.pop(self._token, None)
        self._subscription = None
        self._topology = None
        self._first_event.clear()
        self.state = EventsState.OFF

    async def _async_cancel(self) -> None:
        """Unsubscribe (within the transport's deadline), then drop the subscription."""
        subscription = self._subscription
        self._forget()
        if subscription is not None:
            try:
                await unsubscribe(
                    async_get_player_session(self._hass),
                    subscription.ip,
                    subscription.sid,
                    PROBE_TIMEOUT,
                )
            except SonosError as error:
                LOGGER.debug("Unsubscribing from %s failed: %s", subscription.ip, error)

    async def async_stop(self) -> None:
        """Cancel the subscription: the answer works again, or the entry unloads."""
        async with self._lock:
            await self._async_cancel()
            self._retry_at = 0.0
