"""The HTTP side of one emulated player: port 1400 on its own loopback address."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import functools
import random
import re
import socket
import struct
from typing import Protocol
import weakref
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape
import zlib

import aiohttp
from aiohttp import hdrs, web

from .loop import close_runner, quiet_runner
from .model import (
    IDLE_DROP,
    PORT,
    SERVICES,
    Connections,
    Fault,
    Player,
    device_description,
    foreign_device_description,
    service_description,
    soap_response,
    upnp_fault,
    zone_group_state,
)

INITIAL_EVENT_AFTER = 0.2  # seconds between granting a subscription and its first event
LOSSY_SHARE = 0.2  # Fault.LOSSY: the share of answers that come a resend late
LOSSY_RESEND = 1.0  # seconds: TCP's first retransmission on a LAN

XML = 'text/xml; charset="utf-8"'
_SOAP_ACTION = re.compile(r'"?urn:schemas-upnp-org:service:(\w+):1#(\w+)"?')
_CONTROL_PATH = re.compile(r"^(?:/MediaRenderer|/MediaServer)?/(\w+)/Control$")
_SCPD_PATH = re.compile(r"^/xml/(\w+)1\.xml$")
_EVENT_PATH = re.compile(r"^(?:/MediaRenderer|/MediaServer)?/(\w+)/Event$")
# What a player grants a subscriber that asks for no particular duration (UPnP's minimum is
# 1800 s; Sonos players grant what is asked, within a day).
DEFAULT_SUBSCRIPTION = 3600
MAX_SUBSCRIPTION = 86400
JUNK = b"\x00\x17<<<not xml at all>>>\xff garbage from a confused device"
# "Billion laughs": ten levels of ten references, 10^10 copies of "lol" if expanded.
XML_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 "lol">\n'
    + "".join(f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n' for n in range(1, 11))
    + "]>\n<root>&lol10;</root>"
).encode()
HUGE = b'<?xml version="1.0"?><root>' + b"0123456789abcdef" * (3 * 2**16) + b"</root>"
DEEP_NESTING = b'<?xml version="1.0"?>' + b"<a>" * 20_000 + b"</a>" * 20_000
FILLER = b"0123456789abcdef" * 4096  # 64 kB of an endless body
RESET_LENGTH = 100_000  # announced; 2,000 bytes are sent before the reset
# What a player answers with UPnP switched off (tests/fixtures/upnp_disabled_403.html): the
# status, headers and body of its web server's 403 page as captured from a Play:5 (`GET /`,
# djboris on Medium, 2017) and logged again from a Playbar in 2026 (simojenki/bonob#239). The
# description answers "Error 403" (simojenki/bonob#224) when UPnP is off in the app's privacy
# settings (jmt-gh/audiobookshelf-sonos#10). That every path and method gets this same page
# is inferred: the reports show one server, one page.
FORBIDDEN_PAGE = (
    b"<HTML><HEAD><TITLE>Error 403</TITLE></HEAD>"
    b"<BODY><H1>Error 403</H1><P>Forbidden</P></BODY></HTML>"
)
FORBIDDEN_HEADERS = {
    "Content-Type": "text/html",
    "Cache-Control": "no-cache",
    "Connection": "close",
}


@functools.cache
def gzip_bomb() -> bytes:
    """A gzip body of about 32 kB that expands to 32 MB of XML (built once, in 1 MB steps)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(b'<?xml version="1.0"?><root>')]
    block = b" " * 2**20
    parts.extend(compressor.compress(block) for _ in range(32))
    parts.append(compressor.compress(b"</root>") + compressor.flush())
    return b"".join(parts)


def _forbidden() -> web.Response:
    """The 403 page of a player with UPnP switched off (see `FORBIDDEN_PAGE`)."""
    return web.Response(status=403, body=FORBIDDEN_PAGE, headers=FORBIDDEN_HEADERS)


def _stalled_listener(ip: str) -> tuple[socket.socket, socket.socket]:
    """Return a socket on ip:1400 that never accepts, and the connection filling its queue.

    Its one-place queue is taken by a connection of our own: the kernel then drops every
    other client's SYN, so connecting never completes.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((ip, PORT))
    listener.listen(0)
    filler = socket.create_connection((ip, PORT), timeout=1)
    return listener, filler


@dataclass(slots=True)
class Subscription:
    """An event subscription a player granted: where to send, what, until when."""

    callback: str
    service: str
    expires: float  # loop time
    seq: int = 0  # the SEQ of the next event

    def next_seq(self) -> str:
        seq, self.seq = self.seq, self.seq + 1
        return str(seq)


class Household(Protocol):
    """What a player's server asks of the household it belongs to (household.SonosHousehold).

    The household builds the servers; naming it here by what it offers, not by its module,
    keeps the import one way.
    """

    closing: bool
    connections: Connections
    upnp_enabled: bool
    events_reach_subscribers: bool

    @property
    def players(self) -> list[Player]: ...

    def reachable(self, player: Player) -> bool: ...

    def answer(
        self, player: Player, service: str, action: str, arguments: dict[str, str]
    ) -> dict[str, str] | int: ...


class PlayerServer:
    """Serves one player's UPnP endpoints, applying its current fault to every request."""

    def __init__(self, household: Household, player: Player) -> None:
        self._household = household
        self.player = player
        self._runner: web.AppRunner | None = None
        self._bound_ip: str | None = None
        self._idle_drop: float | None = None  # the listener's idle timeout, if it drops idle
        self._stalled: tuple[socket.socket, socket.socket] | None = None  # for SLOW_ACCEPT
        self._changed = asyncio.Event()  # set (and replaced) whenever the player changes
        # Event subscriptions granted, by SID. Events are sent only while the household's
        # `events_reach_subscribers` says the way back is open.
        self.subscriptions: dict[str, Subscription] = {}
        self._next_sid = 1
        self._sending: set[asyncio.Task[None]] = set()
        # The connections requests came over, to count each once (gone once closed).
        self._connections: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    @property
    def bound_ip(self) -> str | None:
        return self._bound_ip

    async def sync(self) -> None:
        """Listen when the player should be reachable at its address; stop otherwise."""
        self._notify()
        if self.player.fault is Fault.GZIP_BOMB:
            gzip_bomb()  # built (a quarter second, once) before a client waits for it
        reachable = self._household.reachable(self.player)
        want = self.player.ip if reachable and not self._household.closing else None
        stalled = want is not None and self.player.fault is Fault.SLOW_ACCEPT
        drops_idle = self._household.connections is Connections.DROPS_IDLE
        idle_drop = IDLE_DROP if drops_idle and not stalled else None
        if (
            want == self._bound_ip
            and stalled == (self._stalled is not None)
            and idle_drop == self._idle_drop
        ):
            return
        await self.stop()
        if want is None:
            return
        if stalled:
            self._stalled = _stalled_listener(want)
            self._bound_ip = want
            return
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_response_prepare.append(self._connection_handling)
        self._runner = quiet_runner(app, keepalive_timeout=idle_drop)
        await self._runner.setup()
        await web.TCPSite(self._runner, want, PORT, reuse_address=True).start()
        self._bound_ip = want
        self._idle_drop = idle_drop

    async def stop(self) -> None:
        self._notify()
        if self._runner is not None:
            await close_runner(self._runner)
        if self._stalled is not None:
            for sock in self._stalled:
                sock.close()
        self._runner = None
        self._stalled = None
        self._bound_ip = None
        self._idle_drop = None
        self.subscriptions.clear()  # a player that stops listening forgets its subscribers

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_while(
        self, condition: Callable[[], bool], seconds: float | None = None
    ) -> None:
        """Wait while `condition` holds (re-checked on every change), at most `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while condition() and not self._household.closing:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def _connection_handling(
        self, _request: web.Request, response: web.StreamResponse
    ) -> None:
        """Leave out the `Connection` header where the household's servers say nothing.

        Called with the headers prepared (aiohttp has put `Connection: close` on the answer
        to a client that asked to close), before they are sent. Whether the socket stays
        open is aiohttp's choice from the request (as RFC 9112 wants), except with
        CLOSES_SILENTLY, which closes it after every answer.
        """
        connections = self._household.connections
        if connections is Connections.STANDARD:
            return
        response.headers.popall(hdrs.CONNECTION, None)
        if connections is Connections.CLOSES_SILENTLY:
            response.force_close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        player = self.player
        action = request.headers.get("SOAPACTION", "")
        action_name = action.strip().strip('"').rpartition("#")[2]
        player.request_count += 1
        if (transport := request.transport) is not None and transport not in self._connections:
            self._connections.add(transport)
            player.connection_count += 1
        player.requests.append(
            f"{request.method} {request.path}" + (f"#{action_name}" if action else "")
        )
        body = await request.read()  # the client sends it at once, before any fault applies
        if player.fault is Fault.HANG:
            await self._wait_while(lambda: player.fault is Fault.HANG)
        if player.fault is Fault.SLOW:
            await self._wait_while(lambda: player.fault is Fault.SLOW, player.delay)
        # A lost segment costs TCP a resend (about a second on a LAN): loopback loses nothing,
        # so the emulator adds the delay a lost packet would (the kernel still does the connect).
        if player.fault is Fault.LOSSY and random.random() < LOSSY_SHARE:  # noqa: S311
            await asyncio.sleep(LOSSY_RESEND)
        match player.fault:
            case Fault.JUNK:
                return web.Response(body=JUNK, content_type="text/xml")
            case Fault.HTTP_500:
                return web.Response(
                    status=500, text="500 Internal Server Error", content_type="text/plain"
                )
            case Fault.XML_BOMB:
                return web.Response(body=XML_BOMB, content_type="text/xml")
            case Fault.HUGE:
                return web.Response(body=HUGE, content_type="text/xml")
            case Fault.WRONG_TYPE:
                return web.json_response({"volume": 12})
            case (
                Fault.DRIP
                | Fault.SILENT_BODY
                | Fault.ENDLESS_CHUNKED
                | Fault.ENDLESS_LENGTH
                | Fault.GZIP_BOMB
                | Fault.DEEP_NESTING
                | Fault.RESET
            ):
                return await self._hostile(request, player.fault)
            case Fault.HTTP_403:
                return _forbidden()
            case Fault.NOT_SONOS:
                if request.path == "/xml/device_description.xml":
                    return web.Response(
                        text=foreign_device_description(player.ip), content_type="text/xml"
                    )
                return web.Response(status=404, text="Not Found")
        if not self._household.upnp_enabled:  # the household's one switch, off
            return _forbidden()
        if request.method == "GET":
            return self._get(request.path)
        if request.method == "POST":
            return self._post(request.path, action, body)
        if request.method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return self._subscription(request)
        return web.Response(status=405)

    async def _hostile(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        """Answers that cost a client whatever it lets them: time, memory, a broken socket."""
        if fault is Fault.GZIP_BOMB:
            return web.Response(
                body=gzip_bomb(), headers={"Content-Type": XML, "Content-Encoding": "gzip"}
            )
        if fault is Fault.DEEP_NESTING:
            return web.Response(body=DEEP_NESTING, headers={"Content-Type": XML})
        response = web.StreamResponse(headers={"Content-Type": XML})
        if fault is Fault.SILENT_BODY:
            response.content_length = 1000
        elif fault is Fault.ENDLESS_LENGTH:
            response.content_length = 10**12
        elif fault is Fault.RESET:
            response.content_length = RESET_LENGTH
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        player = self.player

        def still() -> bool:
            return player.fault is fault

        try:
            match fault:
                case Fault.DRIP:
                    prefix = b'<?xml version="1.0"?><s:Envelope><s:Body>'
                    sent = 0
                    while still() and not self._household.closing:
                        await response.write(prefix[sent % len(prefix) : sent % len(prefix) + 1])
                        sent += 1
                        await self._wait_while(still, 1.0)
                case Fault.ENDLESS_CHUNKED | Fault.ENDLESS_LENGTH:
                    await response.write(b'<?xml version="1.0"?><root>')
                    while still() and not self._household.closing:
                        await response.write(FILLER)  # waits while the client does not read
                case Fault.RESET:
                    await response.write(b'<?xml version="1.0"?><root>' + b"x" * 2000)
                    transport = request.transport
                    if transport is not None:
                        sock = transport.get_extra_info("socket")
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        transport.abort()  # SO_LINGER 0: the close sends RST, not FIN
        except ConnectionError:  # the client gave up and closed: what it should do
            return response
        await self._wait_while(still)  # silence (or a dead connection) until healed or cut
        return response

    def _get(self, path: str) -> web.Response:
        if path == "/xml/device_description.xml":
            return web.Response(text=device_description(self.player), headers={"Content-Type": XML})
        if (match := _SCPD_PATH.match(path)) and match.group(1) in SERVICES:
            return web.Response(
                text=service_description(match.group(1)), headers={"Content-Type": XML}
            )
        return web.Response(status=404, text="Not Found")

    def _subscription(self, request: web.Request) -> web.Response:
        """UPnP eventing (GENA): grant, renew or cancel a subscription to a service's events.

        As a player does: a new subscription needs `CALLBACK` and `NT: upnp:event`, a renewal
        or a cancellation a known `SID`; anything else is 412 Precondition Failed.
        """
        if not (event_path := _EVENT_PATH.match(request.path)):
            return web.Response(status=404, text="Not Found")
        service = event_path.group(1)
        sid = request.headers.get("SID")
        if request.method == "UNSUBSCRIBE":
            if sid is None or self.subscriptions.pop(sid, None) is None:
                return web.Response(status=412, text="Precondition Failed")
            return web.Response(status=200)
        loop = asyncio.get_running_loop()
        requested = request.headers.get("TIMEOUT", "").removeprefix("Second-")
        seconds = (min(int(requested), MAX_SUBSCRIPTION) if requested.isdigit() else 0) or (
            DEFAULT_SUBSCRIPTION
        )
        if sid is None:
            callback = request.headers.get("CALLBACK", "")
            if request.headers.get("NT") != "upnp:event" or not callback.startswith("<"):
                return web.Response(status=412, text="Precondition Failed")
            sid = f"uuid:{self.player.uid}_sub{self._next_sid:010d}"
            self._next_sid += 1
            self.subscriptions[sid] = Subscription(
                callback.strip("<>"), service, loop.time() + seconds
            )
            if self._household.events_reach_subscribers and service == "ZoneGroupTopology":
                self._send_later(
                    sid, lambda: zone_group_state(self._household.players), INITIAL_EVENT_AFTER
                )
        elif (granted := self.subscriptions.get(sid)) is None or granted.expires < loop.time():
            self.subscriptions.pop(sid, None)  # a subscription not renewed in time has lapsed
            return web.Response(status=412, text="Precondition Failed")
        else:
            granted.expires = loop.time() + seconds
        return web.Response(
            status=200,
            headers={
                "SID": sid,
                "TIMEOUT": f"Second-{seconds}",
                "Server": "Linux UPnP/1.0 Sonos/85.0-64200 (ZPS1)",
            },
        )

    async def send_topology_events(self, state: str) -> None:
        """Send each live topology subscriber an event with `state` (without waiting for it)."""
        if self._bound_ip is None or self.player.fault not in (Fault.NONE, Fault.SLOW, Fault.LOSSY):
            return  # a player that does not answer sends nothing either
        now = asyncio.get_running_loop().time()
        for sid, subscription in list(self.subscriptions.items()):
            if subscription.service == "ZoneGroupTopology" and subscription.expires >= now:
                self._send_later(sid, lambda: state, 0.0)

    def _send_later(self, sid: str, state: Callable[[], str], delay: float) -> None:
        sending = asyncio.get_running_loop().create_task(self._send_event(sid, state, delay))
        self._sending.add(sending)
        sending.add_done_callback(self._sending.discard)

    async def _send_event(self, sid: str, state: Callable[[], str], delay: float) -> None:
        """NOTIFY a subscriber of the topology, as a player does after SUBSCRIBE and each change.

        The first event comes a moment after the SUBSCRIBE answer (the subscriber files the SID
        once it has that); it is what HA core's Sonos waits for (2 s) before it calls the
        subscription failed. Each is given 2 s; a subscriber that does not take it loses it.
        """
        await asyncio.sleep(delay)
        if (subscription := self.subscriptions.get(sid)) is None:
            return
        body = (
            '<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
            f"<e:property><ZoneGroupState>{escape(state())}</ZoneGroupState></e:property>"
            "</e:propertyset>"
        )
        headers = {
            "Content-Type": 'text/xml; charset="utf-8"',
            "NT": "upnp:event",
            "NTS": "upnp:propchange",
            "SID": sid,
            "SEQ": subscription.next_seq(),
        }
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
                session.request("NOTIFY", subscription.callback, data=body, headers=headers),
            ):
                pass

    def _post(self, path: str, soap_action: str, body: bytes) -> web.Response:
        control = _CONTROL_PATH.match(path)
        action_match = _SOAP_ACTION.fullmatch(soap_action.strip())
        if not control or not action_match or control.group(1) != action_match.group(1):
            return web.Response(status=500, text=upnp_fault(401), headers={"Content-Type": XML})
        service, action = action_match.groups()
        if action not in SERVICES.get(service, {}):
            return web.Response(status=500, text=upnp_fault(401), headers={"Content-Type": XML})
        try:
            arguments = _soap_arguments(body)
        except ET.ParseError:
            return web.Response(status=500, text=upnp_fault(402), headers={"Content-Type": XML})
        result = self._household.answer(self.player, service, action, arguments)
        if isinstance(result, int):
            return web.Response(status=500, text=upnp_fault(result), headers={"Content-Type": XML})
        return web.Response(
            text=soap_response(service, action, result), headers={"Content-Type": XML}
        )


def _soap_arguments(body: bytes) -> dict[str, str]:
    """The arguments of a SOAP request: children of the action element in the Body."""
    envelope = ET.fromstring(body)
    body_element = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    if body_element is None or len(body_element) == 0:
        return {}
    return {child.tag.split("}")[-1]: child.text or "" for child in body_element[0]}
