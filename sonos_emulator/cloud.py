"""Loopback stand-ins for the internet side: cloud TCP endpoints, DNS, the status page.

The real Sonos cloud, public DNS and status.sonos.com cannot be reached here (and tests must
never try): these answer in their place on 127.0.x.y addresses with ephemeral ports.
"""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
from enum import StrEnum
import json
import socket

from aiohttp import web

from .loop import EmulatorLoop, close_runner, finish_accepts, quiet_runner
from .server import FILLER, JUNK, gzip_bomb


class TcpEndpoint:
    """A TCP service that accepts connections when up and refuses them when down."""

    def __init__(self, loop: EmulatorLoop, name: str, ip: str) -> None:
        self._loop = loop
        self.name = name
        self.ip = ip
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None

    @property
    def target(self) -> str:
        """The `host:port` string a user would configure for this endpoint."""
        return f"{self.name}:{self.port}"

    @property
    def up(self) -> bool:
        return self._server is not None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    async def _start(self) -> None:
        if self._server is None:
            # Keep the port across down/up so configured targets stay valid.
            self._server = await asyncio.start_server(
                self._accept, self.ip, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            await finish_accepts()
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def set_up(self, up: bool) -> None:
        self._loop.run(self._start() if up else self._stop())


class DnsFailure(StrEnum):
    """How the stand-in resolver fails, mirroring what getaddrinfo reports."""

    NONE = "none"
    NXDOMAIN = "nxdomain"  # gaierror EAI_NONAME: name does not exist
    SERVFAIL = "servfail"  # gaierror EAI_AGAIN: temporary failure in name resolution
    TIMEOUT = "timeout"  # never answers; the caller's timeout decides


class NameResolver:
    """Maps the cloud's host names to the loopback endpoints standing in for them.

    `resolve` has the shape of an async getaddrinfo reduced to addresses, so code under test
    takes it in place of the system resolver, the one thing that would leave the machine.
    """

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.failure = DnsFailure.NONE
        self.failing_names: dict[str, DnsFailure] = {}
        self.queries: deque[str] = deque(maxlen=64)  # the latest names asked for

    async def resolve(self, host: str) -> list[str]:
        self.queries.append(host)
        failure = self.failing_names.get(host, self.failure)
        if failure is DnsFailure.NONE and host not in self.records:
            failure = DnsFailure.NXDOMAIN
        match failure:
            case DnsFailure.NXDOMAIN:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            case DnsFailure.SERVFAIL:
                raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
            case DnsFailure.TIMEOUT:
                await asyncio.sleep(3600)
        return [self.records[host]]


class StatusFault(StrEnum):
    NONE = "none"
    OFFLINE = "offline"
    HANG = "hang"
    JUNK = "junk"
    HTTP_500 = "http_500"
    DRIP = "drip"  # HTTP 200 headers, then a byte a second, forever (chunked)
    ENDLESS = "endless"  # HTTP 200, a chunked body that never ends, fast
    GZIP_BOMB = "gzip_bomb"  # HTTP 200, gzip: 32 kB that expand to 32 MB
    DEEP_NESTING = "deep_nesting"  # HTTP 200, JSON arrays 100,000 deep (200 kB)


class StatusPage:
    """A hosted status page answering /api/v2/status.json like status.sonos.com."""

    def __init__(self, loop: EmulatorLoop, ip: str = "127.0.0.1") -> None:
        self._loop = loop
        self.ip = ip
        self.port = 0
        self.indicator = "none"
        self.description = "All Systems Operational"
        self.incidents: list[dict[str, str]] = []
        self.fault = StatusFault.NONE
        self.requests = 0
        self._released = asyncio.Event()  # set when a hang ends (fault change or close)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}/api/v2/status.json"

    def set_status(self, indicator: str, description: str | None = None) -> None:
        """E.g. ("major", "Partial outage"); `none` means all systems operational."""
        self.indicator = indicator
        self.description = description or (
            "All Systems Operational"
            if indicator == "none"
            else f"Sonos reports a {indicator} incident"
        )

    async def _status(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.fault is StatusFault.HANG:
            await self._released.wait()
        if self.fault is StatusFault.JUNK:
            return web.Response(body=JUNK, content_type="application/json")
        if self.fault is StatusFault.HTTP_500:
            return web.Response(status=500, text="Internal Server Error")
        if self.fault is StatusFault.GZIP_BOMB:
            return web.Response(
                body=gzip_bomb(),
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
        if self.fault is StatusFault.DEEP_NESTING:
            return web.Response(
                body=b"[" * 100_000 + b"]" * 100_000, content_type="application/json"
            )
        if self.fault in (StatusFault.DRIP, StatusFault.ENDLESS):
            return await self._stream(request, self.fault)
        page = {"id": "emulated", "name": "Sonos", "url": f"http://{self.ip}:{self.port}"}
        if request.path.endswith("/incidents/unresolved.json"):
            return web.json_response({"page": page, "incidents": self.incidents})
        return web.json_response(
            {
                "page": page,
                "status": {"indicator": self.indicator, "description": self.description},
            },
            dumps=json.dumps,
        )

    async def _stream(self, request: web.Request, fault: StatusFault) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            while self.fault is fault:
                if fault is StatusFault.DRIP:
                    await response.write(b" ")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._released.wait(), 1.0)
                else:
                    await response.write(FILLER)
        except ConnectionError:  # the client gave up and closed
            pass
        return response

    async def _start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/api/v2/status.json", self._status)
        app.router.add_get("/api/v2/incidents/unresolved.json", self._status)
        self._runner = quiet_runner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.ip, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            server = site._server
            assert isinstance(server, asyncio.Server)
            self.port = server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await close_runner(self._runner)
            self._runner = None

    async def _apply(self, fault: StatusFault) -> None:
        if fault is StatusFault.GZIP_BOMB:
            gzip_bomb()  # built (a quarter second, once) before a client waits for it
        self.fault = fault
        if fault not in (StatusFault.HANG, StatusFault.DRIP):
            self._released.set()
            self._released = asyncio.Event()
        await (self._stop() if fault is StatusFault.OFFLINE else self._start())

    def set_fault(self, fault: StatusFault | str) -> None:
        self._loop.run(self._apply(StatusFault(fault)))

    def close(self) -> None:
        self._loop.run(self._apply(StatusFault.OFFLINE))


# Default names: the documented Sonos API hosts, and neutral references to tell "the internet
# is down" from "Sonos is blocked". In the emulator they resolve to loopback endpoints.
CLOUD_NAMES = ("api.sonos.com", "api.ws.sonos.com")
REFERENCE_NAMES = ("one.one.one.one", "dns.google")


class CloudSimulation:
    """The internet as seen from the HA host: cloud and reference endpoints, DNS, status page."""

    def __init__(self, loop: EmulatorLoop, first_address: str = "127.0.1.1") -> None:
        self._loop = loop
        self.resolver = NameResolver()
        base = first_address.rsplit(".", 1)
        self.endpoints: dict[str, TcpEndpoint] = {}
        for offset, name in enumerate(CLOUD_NAMES + REFERENCE_NAMES):
            ip = f"{base[0]}.{int(base[1]) + offset}"
            endpoint = TcpEndpoint(loop, name, ip)
            endpoint.set_up(True)
            self.endpoints[name] = endpoint
            self.resolver.records[name] = ip
        self.status_page = StatusPage(loop)
        self.status_page.set_fault(StatusFault.NONE)

    @property
    def cloud_targets(self) -> list[str]:
        return [self.endpoints[name].target for name in CLOUD_NAMES]

    @property
    def reference_targets(self) -> list[str]:
        """Address literals, like the integration's defaults: they test the link, not DNS."""
        return [
            f"{self.endpoints[name].ip}:{self.endpoints[name].port}" for name in REFERENCE_NAMES
        ]

    @property
    def cloud_reachable(self) -> bool:
        """Tell whether every Sonos host accepts connections."""
        return all(self.endpoints[name].up for name in CLOUD_NAMES)

    def set_cloud_reachable(self, up: bool) -> None:
        """Sonos' hosts accept connections (True) or are blocked/down (False)."""
        for name in CLOUD_NAMES:
            self.endpoints[name].set_up(up)

    def set_internet(self, up: bool) -> None:
        """Every endpoint, Sonos or not, reachable or not (the ISP link)."""
        for endpoint in self.endpoints.values():
            endpoint.set_up(up)

    def set_dns(self, failure: DnsFailure | str) -> None:
        self.resolver.failure = DnsFailure(failure)

    def heal(self) -> None:
        self.set_internet(True)
        self.set_dns(DnsFailure.NONE)
        self.status_page.set_status("none")
        self.status_page.set_fault(StatusFault.NONE)

    def close(self) -> None:
        for endpoint in self.endpoints.values():
            endpoint.set_up(False)
        self.status_page.close()
