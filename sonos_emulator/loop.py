"""The emulator's own asyncio loop, in a thread of its own.

Players must keep answering (or hanging) whatever Home Assistant's event loop is doing, and
soco calls them from executor threads: a separate loop is what a separate host would be.
Control calls from any other thread are marshalled onto it and wait for the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import threading
import time
from typing import Any

from aiohttp import web


class _RealTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on the real clock, even while a test freezes time.

    Tests freeze Home Assistant's clock to check documented waits to the second; speakers do
    not stop with it. The clock is bound here, at import, before any test freezes time
    (freezegun replaces module attributes, not this class's).
    """

    _clock = staticmethod(time.monotonic)

    def time(self) -> float:
        return self._clock()


async def finish_accepts() -> None:
    """Let connections already accepted become transports before a server closes.

    A connection the loop has accepted takes a few iterations to become a transport; a server
    closed in between leaves that transport open, and its garbage collection raises later, in
    some other test (CPython gh-109564). Clients here have connected before a test takes a
    server down, so a few iterations are all the accepts still under way need.
    """
    for _ in range(5):
        await asyncio.sleep(0)


def quiet_runner(app: web.Application, keepalive_timeout: float | None = None) -> web.AppRunner:
    """An aiohttp runner for an emulated server: no access log, no signal handlers.

    A request whose client gave up (soco's timeout) is cancelled rather than left hanging,
    and hung requests are cut after a short grace period when the server goes away. With
    `keepalive_timeout`, a connection idle that long is closed (aiohttp's default otherwise).
    """
    idle: dict[str, Any] = (
        {} if keepalive_timeout is None else {"keepalive_timeout": keepalive_timeout}
    )
    return web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=0.2,
        handler_cancellation=True,
        access_log=None,
        **idle,
    )


async def close_runner(runner: web.AppRunner) -> None:
    """Close an emulated server once the connections it accepted are transports."""
    await finish_accepts()
    await runner.cleanup()


class EmulatorLoop:
    """Runs coroutines on a private event loop in a daemon thread."""

    def __init__(self) -> None:
        self._loop = _RealTimeLoop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="sonos-emulator", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def run[T](self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run `coro` on the emulator loop and return its result (blocking the caller)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("EmulatorLoop.run called from the emulator loop itself")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
