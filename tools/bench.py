"""Measure Sonos Troubleshooter at household scale and print every figure against its target.

Started by `scripts/bench` (see docs/development/benchmark.md). A real Home Assistant (bootstrap, blocking-call
detection on, HA's own event loop and executor) in this process, the integration added through
its config and options flows, and 32 emulated players on 127.0.6.2-33 (--loopback) port 1400 with the
simulated cloud on 127.0.7.x: loopback only, nothing reaches the internet or a real speaker.
The emulator runs in a child process, so the memory figures are Home Assistant's and the
integration's alone, measured under jemalloc as Home Assistant's own images run (see JEMALLOC).

Phases: config entry setup (healthy, 8 hung); poll cycles (healthy, 8 hung); resident memory;
a soak of 100 warm-up and 1,000 measured cycles where every player misses isolated polls and,
eleven times, one really goes away; a household whose topology cannot be read at all (UPnP 501, no event);
then on the real clock, with the watcher between polls: outages on 8 players at once at
random moments of the poll cycle (they leave the network; then 8 accept connections but never
answer), detected and cleared at 10 s and 60 s intervals; and a flapping soak where every
player misses one check in five and four links lose single packets; then a second household of
26 players (a home theatre, a stereo pair, a Roam) past GetZoneGroupState's size limit, whose
topology comes from its events: outages at 10 s and a flapping soak again. The 32 players of
the main household are past that limit too, as real ones would be: their topology comes from
events all along. Then, in a Home Assistant of its own with the recorder on, the cost of a steady
household of 10 and of 32 players at 60 s and 10 s: CPU (loaded minus disabled), state changes,
recorder rows, `.storage` writes and registry updates per hour (`--only cost`, five windows of
`--cost-minutes`). Takes about forty minutes.
"""

import argparse
import asyncio
import collections
from collections.abc import Callable, Iterator
import contextlib
from contextlib import contextmanager
import cProfile
import ctypes
import ctypes.util
from dataclasses import dataclass, field
import functools
import gc
import io
import logging
import os
from pathlib import Path
import pstats
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from typing import Any
from unittest.mock import patch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from homeassistant import bootstrap, runner
from homeassistant.config_entries import SOURCE_USER, ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import CONF_HOST, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
    storage,
)
from homeassistant.util import slugify

from custom_components.sonos_troubleshooter import coordinator as coordinator_module, watcher
from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.coordinator import SonosTroubleshooterCoordinator
from custom_components.sonos_troubleshooter.image import household_map
from custom_components.sonos_troubleshooter.runtime_data import SonosTroubleshooterConfigEntry
from custom_components.sonos_troubleshooter.sonos_health import cloud_client
from custom_components.sonos_troubleshooter.sonos_health.household_map import draw
from custom_components.sonos_troubleshooter.sonos_health.timing import PROBE_TIMEOUT
from custom_components.sonos_troubleshooter.words import Words
from sonos_emulator import Fault
from sonos_emulator.model import make_uid
from sonos_emulator.process import EmulatorProcess, PlayerAddress
from tools.develop import write_http_settings

PLAYERS, HUNG = 32, 8
OUTAGES = 16  # players that go away in each detection run: 8 leave at once, then 8 hang
LEAVE_TARGET = 20.0  # seconds: a player that leaves the network shows 1001 within this
HANG_MARGIN = 15.0  # seconds: one that accepts connections but never answers, interval + this
CLEAR_TARGET = 10.0  # seconds: an error clears within this of the player's return
FLAP_SECONDS = 180  # the flapping soak's length, on the real clock at a 10 s interval
LARGE = 26  # players of the household past GetZoneGroupState's size limit
LARGE_FLAP_SECONDS = 120
LOSSY = 4  # players whose link loses single packets during the flapping soak
CONFIGURATION = """\
homeassistant:
  name: Sonos Troubleshooter bench
  internal_url: http://127.0.0.1:{port}
  time_zone: UTC
  unit_system: metric
logger:
  default: warning
"""
QUIET = 3600  # seconds: no timer poll while the bench drives the polls itself
WARM_UP = 100  # soak cycles before memory is first measured


@dataclass(slots=True)
class Figure:
    """One line of the report."""

    name: str
    measured: str
    target: str
    met: bool | None  # None: reported, no target


@dataclass(slots=True)
class Report:
    """The figures in the order measured, printed as they come and as a table at the end."""

    figures: list[Figure] = field(default_factory=list)

    def add(self, name: str, measured: str, target: str = "", met: bool | None = None) -> None:
        self.figures.append(Figure(name, measured, target, met))
        verdict = {True: "ok", False: "MISSED", None: ""}[met]
        print(f"  {name}: {measured}  {target}  {verdict}".rstrip(), flush=True)

    def table(self) -> str:
        rows = ["| figure | measured | target | |", "| --- | --- | --- | --- |"]
        rows += [
            f"| {f.name} | {f.measured} | {f.target} | "
            f"{ {True: 'met', False: '**missed**', None: ''}[f.met] } |"
            for f in self.figures
        ]
        return "\n".join(rows)


def resident_mb() -> float:
    """Resident memory of this process (Linux /proc), in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# Home Assistant's container images (and so Home Assistant OS) run it with jemalloc preloaded
# and these settings (home-assistant/core: rootfs/etc/services.d/home-assistant/run). Under
# glibc's malloc, the executor threads' arenas fragment and resident memory creeps up though no
# Python object outlives its poll; the bench measures with the allocator users run.
JEMALLOC = "libjemalloc.so.2"
HA_MALLOC_CONF = (
    "background_thread:true,metadata_thp:auto,dirty_decay_ms:20000,muzzy_decay_ms:20000"
)
MALLCTL_ARENAS_ALL = 4096  # jemalloc's "every arena" index in mallctl names


@functools.cache
def allocator() -> str:
    """Name the malloc this process runs with: jemalloc when preloaded, else glibc's."""
    maps = Path("/proc/self/maps").read_text()
    return "jemalloc" if "libjemalloc" in maps else "glibc"


def release_free_memory() -> None:
    """Hand freed heap pages back to the system, so resident memory counts live data only."""
    if allocator() == "jemalloc":
        purge = f"arena.{MALLCTL_ARENAS_ALL}.purge".encode()
        if ctypes.CDLL(None).mallctl(purge, None, None, None, 0):  # the preloaded library's
            raise RuntimeError("jemalloc refused to purge its arenas")
    else:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def settled_resident_mb() -> float:
    """Resident memory once garbage is collected and the allocator has returned free pages."""
    gc.collect()
    release_free_memory()
    return resident_mb()


def run_under_jemalloc() -> None:
    """Re-execute this benchmark with jemalloc preloaded, as HA's images run; return if absent."""
    if ctypes.util.find_library("jemalloc") is None:
        print(
            f"{JEMALLOC} is not installed (scripts/setup installs it in its root filesystem): "
            "measuring with glibc's malloc, whose per-thread arenas show as memory growth",
            flush=True,
        )
        return
    environment = {**os.environ, "LD_PRELOAD": JEMALLOC, "MALLOC_CONF": HA_MALLOC_CONF}
    os.execve(sys.executable, [sys.executable, *sys.argv], environment)  # noqa: S606


def python_heap_mb(snapshot: tracemalloc.Snapshot, *parts: str) -> float:
    """Live Python memory in the snapshot allocated from files whose path holds one of parts."""
    traces = snapshot.statistics("filename")
    return sum(s.size for s in traces if any(p in s.traceback[0].filename for p in parts)) / 2**20


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


class LoopMonitor:
    """What the event loop spends its time on, with garbage collection apart.

    `worst_callback`: the most CPU time one loop callback (a task step, a timer) used, less the
    GC that ran inside it. While the bench polls, the loop runs nothing but the integration and
    HA's handling of its updates, so this is the longest stall the integration causes.
    `worst_wakeup`: how late a 1 ms timer woke up (GC apart); it also counts time the loop
    thread waited for the GIL while soco's executor threads and the emulator (in this process
    here, on the network in a home) ran.
    `worst_gc`: the longest cyclic-GC pause, which walks the whole process heap (HA included).
    """

    def __init__(self) -> None:
        self.reset()
        self._gc_wall = self._gc_cpu = 0.0
        self._gc_started = (0.0, 0.0)

    def reset(self) -> None:
        self.worst_callback = self.worst_wakeup = self.worst_gc = 0.0
        self.worst_handle = ""  # what ran in the longest callback

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        now = (time.perf_counter(), time.thread_time())
        if phase == "start":
            self._gc_started = now
            return
        wall, cpu = now[0] - self._gc_started[0], now[1] - self._gc_started[1]
        self._gc_wall += wall
        self._gc_cpu += cpu
        self.worst_gc = max(self.worst_gc, wall)

    async def _watch_wakeups(self) -> None:
        while True:
            before, gc_before = time.perf_counter(), self._gc_wall
            await asyncio.sleep(0.001)
            late = time.perf_counter() - before - 0.001 - (self._gc_wall - gc_before)
            self.worst_wakeup = max(self.worst_wakeup, late)

    @contextmanager
    def watching(self) -> Iterator[None]:
        run = asyncio.events.Handle._run  # noqa: SLF001 - timing every loop callback
        monitor = self

        def timed_run(handle: asyncio.Handle) -> None:
            started, gc_before = time.thread_time(), monitor._gc_cpu
            run(handle)
            took = time.thread_time() - started - (monitor._gc_cpu - gc_before)
            if took > monitor.worst_callback:
                owner = getattr(getattr(handle, "_callback", None), "__self__", None)
                what = owner.get_coro() if isinstance(owner, asyncio.Task) else handle
                monitor.worst_callback, monitor.worst_handle = took, repr(what)[:300]

        gc.callbacks.append(self._on_gc)
        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]  # noqa: SLF001
        task = asyncio.get_running_loop().create_task(self._watch_wakeups())
        try:
            yield
        finally:
            task.cancel()
            asyncio.events.Handle._run = run  # type: ignore[method-assign]  # noqa: SLF001
            gc.callbacks.remove(self._on_gc)


class BlockingCallLog(logging.Handler):
    """Collects HA's "Detected blocking call" reports (block_async_io, enabled by bootstrap)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "blocking call" in message.lower():
            self.reports.append(message)


def error_code_entity(name: str) -> str:
    """Return the entity id HA gives a player's error code sensor."""
    return f"sensor.{slugify(name)}_error_code"


class Bench:
    """A real HA with the integration set up against an emulated household."""

    def __init__(self, hass: HomeAssistant, emulator: EmulatorProcess, household: str = "") -> None:
        self.hass = hass
        self.emulator = emulator
        self.household = household  # said in the figures of a household other than the main one
        self.entry: SonosTroubleshooterConfigEntry | None = None

    @property
    def coordinator(self) -> SonosTroubleshooterCoordinator:
        assert self.entry is not None
        assert self.entry.state is ConfigEntryState.LOADED
        return self.entry.runtime_data.coordinator

    async def world(self, change: Callable[..., object], *args: object) -> None:
        """Change the emulated world from a worker thread (it waits for the emulator)."""
        await self.hass.async_add_executor_job(change, *args)

    async def hang(self, players: list[PlayerAddress]) -> None:
        """Make the players accept connections and never answer."""
        for player in players:
            await self.world(self.emulator.set_fault, player.name, Fault.HANG)

    async def heal(self, players: list[PlayerAddress]) -> None:
        """Heal the players and poll until they answer again."""
        for player in players:
            await self.world(self.emulator.heal, player.name)
        await self.timed_polls(2)

    async def add_integration(self, scan_interval: int) -> None:
        """Add the integration as a user does: config flow, then options flow."""
        flows = self.hass.config_entries.flow
        result = await flows.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await flows.async_configure(
            result["flow_id"], {CONF_HOST: self.emulator.players[0].ip}
        )
        assert result["type"] == "create_entry", result
        self.entry = result["result"]
        await self.set_scan_interval(scan_interval)

    async def set_scan_interval(self, seconds: int) -> None:
        assert self.entry is not None
        cloud_sim = self.emulator.cloud
        options = self.hass.config_entries.options
        result = await options.async_init(self.entry.entry_id)
        result = await options.async_configure(result["flow_id"], {"next_step_id": "settings"})
        result = await options.async_configure(
            result["flow_id"],
            {
                "scan_interval": seconds,
                "advanced": {
                    "cloud_targets": cloud_sim.cloud_targets,
                    "reference_targets": cloud_sim.reference_targets,
                    "status_url": cloud_sim.status_url,
                },
            },
        )
        assert result["type"] == "create_entry", result
        await self.hass.async_block_till_done()
        assert self.coordinator.interval.total_seconds() == seconds

    @contextmanager
    def polls_by_hand(self) -> Iterator[None]:
        """Poll back to back, none asked by the watcher, while a phase drives the polls.

        Such a phase times each poll and changes the world between polls, tens of ms apart: a
        poll the watcher asked for in between would be waited for (counted into the next
        poll's time) or see a world meant for the next poll, and the 4 s between the starts of
        two polls would make each poll wait. The watcher's checks go on. The real-clock phases
        (outages, the flapping soak) run as Home Assistant does.
        """
        with (
            patch.object(self.coordinator._watcher, "_poll_now", lambda: None),  # noqa: SLF001
            patch.object(coordinator_module, "POLL_GAP", 0),
        ):
            yield

    async def timed_setup(self) -> float:
        assert self.entry is not None
        await self.hass.config_entries.async_unload(self.entry.entry_id)
        started = time.monotonic()
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        took = time.monotonic() - started
        await self.hass.async_block_till_done()
        return took

    async def timed_polls(self, count: int) -> list[float]:
        durations = []
        for _ in range(count):
            started = time.monotonic()
            await self.coordinator.async_refresh()
            durations.append(time.monotonic() - started)
        return durations

    def error_code(self, name: str) -> str:
        entity_id = error_code_entity(name)
        state = self.hass.states.get(entity_id)
        assert state is not None, entity_id
        return state.state

    async def wait_for(self, condition: Callable[[], bool], limit: float) -> float:
        """Wait (on the real clock) until the condition holds; return how long it took."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > limit:
                raise TimeoutError(f"not reached within {limit} s")
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def next_poll_done(self) -> None:
        done = asyncio.Event()
        unsubscribe = self.coordinator.async_add_listener(done.set)
        try:
            await done.wait()
        finally:
            unsubscribe()


async def measure_setup(bench: Bench, report: Report) -> None:
    healthy = [await bench.timed_setup() for _ in range(3)]
    report.add(
        f"setup, {PLAYERS} players",
        f"{statistics.median(healthy):.2f} s (median of 3)",
        "< 2 s",
        max(healthy) < 2,
    )
    hung = bench.emulator.players[:HUNG]
    await bench.hang(hung)
    with_hung = await bench.timed_setup()
    report.add(
        f"setup, {HUNG} of them hung",
        f"{with_hung:.2f} s",
        f"< timeout + 2 s = {PROBE_TIMEOUT + 2:.0f} s",
        with_hung < PROBE_TIMEOUT + 2,
    )
    await bench.heal(hung)


async def profile_polls(bench: Bench) -> None:
    """Print the functions 20 healthy polls spent the most time in (their own time)."""
    profiler = cProfile.Profile()
    profiler.enable()
    await bench.timed_polls(20)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue(), flush=True)


async def measure_polls(bench: Bench, report: Report, stalls: LoopMonitor) -> None:
    await bench.timed_polls(5)  # warm-up: connections, descriptions read
    stalls.reset()
    healthy = await bench.timed_polls(60)
    report.add(
        f"poll cycle, {PLAYERS} healthy players",
        f"median {ms(statistics.median(healthy))}, p95 "
        f"{ms(statistics.quantiles(healthy, n=20)[-1])}, max {ms(max(healthy))}",
        "median < 250 ms",
        statistics.median(healthy) < 0.25,
    )
    report.add(
        "longest event-loop callback while polling (CPU, GC apart)",
        ms(stalls.worst_callback),
        "< 20 ms",
        stalls.worst_callback < 0.02,
    )
    print(f"    it ran: {stalls.worst_handle}", flush=True)
    report.add("longest event-loop wake-up delay while polling (GC apart)", ms(stalls.worst_wakeup))
    report.add("longest GC pause while polling (whole process)", ms(stalls.worst_gc))
    hung = bench.emulator.players[:HUNG]
    await bench.hang(hung)
    with_hung = await bench.timed_polls(5)
    report.add(
        f"poll cycle, {HUNG} of {PLAYERS} hung",
        f"max {max(with_hung):.2f} s over 5",
        f"<= timeout + 1 s = {PROBE_TIMEOUT + 1:.0f} s",
        max(with_hung) <= PROBE_TIMEOUT + 1,
    )
    await bench.heal(hung)
    measure_map(bench, report)


def measure_map(bench: Bench, report: Report) -> None:
    """Draw the household map of the last poll as the image entity does, 100 times."""
    words = Words(bench.hass)  # the words the entity draws with, loaded at setup
    durations = []
    for _ in range(100):
        started = time.perf_counter()
        draw(household_map(bench.coordinator.data, words))
        durations.append(time.perf_counter() - started)
    players = len(bench.coordinator.data.players)
    report.add(
        f"drawing the household map, {players} players",
        f"median {1000 * statistics.median(durations):.2f} ms,"
        f" max {1000 * max(durations):.2f} ms (of 100)",
        "< 5 ms",
        max(durations) < 0.005,
    )


@dataclass(slots=True)
class Soak:
    """Every player misses isolated polls (one in five); now and then one really goes away."""

    rng: random.Random
    missed_last: set[str] = field(default_factory=set)
    away: dict[str, int] = field(default_factory=dict)  # name -> polls missed so far

    def plan(self, cycle: int, names: list[str]) -> set[str]:
        """Pick the players that do not answer this cycle."""
        if cycle % 100 == 50:  # a real outage: away for four polls
            self.away[self.rng.choice([n for n in names if n not in self.away])] = 0
        # Isolated misses: never two in a row, so one poll in five on average (p/(1+p), p=1/4).
        flaky = {
            name
            for name in names
            if name not in self.away and name not in self.missed_last and self.rng.random() < 0.25
        }
        self.missed_last = flaky
        return flaky | set(self.away)


async def measure_soak(bench: Bench, report: Report, cycles: int, *, trace_heap: bool) -> None:
    hass = bench.hass
    players = bench.emulator.players
    names = [player.name for player in players]
    by_entity = {error_code_entity(name): name for name in names}
    by_issue = {f"error_1001_{player.uid}": player.name for player in players}
    soak = Soak(random.Random(1001))  # noqa: S311 - a reproducible simulation
    false_alarms: list[str] = []  # a 1001 or a repair issue for a player that was not gone

    @callback  # in the event loop: a plain function would run in HA's executor
    def on_state(event: Event[Any]) -> None:
        name = by_entity.get(event.data["entity_id"])
        new, old = event.data["new_state"], event.data["old_state"]
        began = new is not None and new.state == "1001" and (old is None or old.state != "1001")
        if name is not None and began and name not in soak.away:
            false_alarms.append(f"1001 for {name}")

    @callback
    def on_issue(event: Event[Any]) -> None:
        if event.data["action"] != "create" or event.data["domain"] != DOMAIN:
            return
        if by_issue.get(event.data["issue_id"]) not in soak.away:
            false_alarms.append(f"repair issue {event.data['issue_id']}")

    unsubscribe = [
        hass.bus.async_listen("state_changed", on_state),
        hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, on_issue),
    ]
    outages = detected = 0
    down: set[str] = set()
    memory: dict[int, float] = {}
    threads: dict[int, int] = {}  # HA's executor starts threads as polls need them, up to 64
    heap: dict[int, tracemalloc.Snapshot] = {}
    settle_at, end_at = WARM_UP, WARM_UP + cycles  # memory is compared over `cycles`
    started = time.monotonic()
    for cycle in range(1, end_at + 1):
        missing = soak.plan(cycle, names)
        for name in missing - down:
            await bench.world(bench.emulator.set_fault, name, Fault.OFFLINE)
        for name in down - missing:
            await bench.world(bench.emulator.heal, name)
        down = missing
        await bench.coordinator.async_refresh()
        for name in list(soak.away):
            soak.away[name] += 1
            if soak.away[name] == 2:  # the second missed poll must show 1001
                outages += 1
                detected += bench.error_code(name) == "1001"
            if soak.away[name] == 4:
                del soak.away[name]
        if cycle % 100 == 0 or cycle == end_at:  # with --trace-heap, its tables count too
            memory[cycle] = settled_resident_mb()
            threads[cycle] = threading.active_count()
        if trace_heap and cycle == settle_at:  # from here on, every allocation that stays
            tracemalloc.start()
        if trace_heap and cycle in (2 * settle_at, end_at) and cycle not in heap:
            gc.collect()
            heap[cycle] = tracemalloc.take_snapshot()
    tracemalloc.stop()
    took = time.monotonic() - started
    for name in down:
        await bench.world(bench.emulator.heal, name)
    await bench.timed_polls(1)
    for stop in unsubscribe:
        stop()
    report.add(
        f"soak: {WARM_UP} + {cycles} cycles, each player missing 1 poll in 5",
        f"{len(false_alarms)} false alarms (1001 or repair issue)",
        "0",
        not false_alarms,
    )
    for alarm in false_alarms[:10]:
        print(f"    {alarm}", flush=True)
    report.add(
        "soak: players really gone (4 polls)",
        f"{detected} of {outages} detected at their 2nd missed poll",
        "all",
        detected == outages > 0,
    )
    report.add(
        f"resident memory over {cycles} soak cycles ({allocator()}; GC run, free pages returned)",
        f"{memory[settle_at]:.1f} MiB at cycle {settle_at}, "
        f"{memory[end_at]:.1f} MiB at cycle {end_at}",
        "no growth (< 2 MiB)",
        memory[end_at] - memory[settle_at] < 2,
    )
    print(
        "    resident memory (MiB) and threads by cycle: "
        + ", ".join(f"{c}: {m:.1f} ({threads[c]})" for c, m in sorted(memory.items())),
        flush=True,
    )
    if len(heap) == 2:
        early, late = min(heap), max(heap)
        for what, parts in (
            ("the integration and soco", ("sonos_troubleshooter", "/soco/")),
            ("the whole process", ("",)),
        ):
            grew = python_heap_mb(heap[late], *parts) - python_heap_mb(heap[early], *parts)
            report.add(
                f"live Python memory allocated by {what}, cycle {early} to {late}",
                f"{grew * 1024:+.0f} KiB",
                "no growth (< 256 KiB)" if what.startswith("the integration") else "",
                grew < 0.25 if what.startswith("the integration") else None,
            )
        for stat in heap[late].compare_to(heap[early], "lineno")[:8]:
            print(f"    grew: {stat}", flush=True)
    report.add("soak duration", f"{took:.0f} s ({ms(took / end_at)} per cycle)")


def spread(values: list[float]) -> str:
    """Worst and median of a sample, with its size."""
    return f"worst {max(values):.1f} s, median {statistics.median(values):.1f} s (n={len(values)})"


class ErrorCodes:
    """When each player's error code last changed, and to what (a state listener)."""

    def __init__(self, hass: HomeAssistant, names: list[str]) -> None:
        self.by_entity = {error_code_entity(name): name for name in names}
        self.changed: dict[str, tuple[str, float]] = {}
        self.alarms: list[str] = []
        self._unsubscribe = [
            hass.bus.async_listen("state_changed", self._on_state),
            hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, self._on_issue),
        ]

    @callback
    def _on_state(self, event: Event[Any]) -> None:
        name = self.by_entity.get(event.data["entity_id"])
        new = event.data["new_state"]
        if name is not None and new is not None:
            self.changed[name] = (new.state, time.monotonic())
            if new.state != "ok":
                self.alarms.append(f"{new.state} for {name}")

    @callback
    def _on_issue(self, event: Event[Any]) -> None:
        if event.data["action"] == "create" and event.data["domain"] == DOMAIN:
            self.alarms.append(f"repair issue {event.data['issue_id']}")

    async def reached(self, name: str, code: str, since: float, limit: float) -> float:
        """Wait until the player's code is `code` (changed after `since`); return the delay."""
        deadline = since + limit
        while True:
            state, at = self.changed.get(name, ("ok", 0.0))
            if state == code and at >= since:
                return at - since
            if time.monotonic() > deadline:
                return float("inf")
            await asyncio.sleep(0.05)

    def close(self) -> None:
        for stop in self._unsubscribe:
            stop()


async def measure_watch(bench: Bench, report: Report, interval: int) -> None:
    """Outages on many players, each at a random moment of the poll cycle.

    First half of them leave the network (nothing accepts their connections), then the other
    half accept connections and never answer (hung): apart, so that no poll asked for one
    kind catches the other early. All of a kind fall silent within one interval after a poll,
    each comes back a few seconds after its 1001. Times run from the moment the change is
    sent to the emulator to the error code's state change: taken once the emulator said it
    applied it, a clear that came faster than that word (a hung request the heal released
    answers at once) would be missed and waited for forever.
    """
    await bench.set_scan_interval(interval)
    await bench.timed_polls(1)
    names = [player.name for player in bench.emulator.players[-OUTAGES:]]
    codes = ErrorCodes(bench.hass, names)
    rng = random.Random(interval)  # noqa: S311 - a reproducible simulation
    hang_target = interval + HANG_MARGIN
    detected: dict[Fault, list[float]] = {Fault.OFFLINE: [], Fault.HANG: []}
    cleared: list[float] = []

    async def outage(name: str, fault: Fault) -> None:
        await asyncio.sleep(rng.uniform(0, interval))
        sent = time.monotonic()
        await bench.world(bench.emulator.set_fault, name, fault)
        limit = LEAVE_TARGET if fault is Fault.OFFLINE else hang_target
        detected[fault].append(await codes.reached(name, "1001", sent, limit + 30))
        await asyncio.sleep(rng.uniform(0.5, 5))
        sent = time.monotonic()
        await bench.world(bench.emulator.heal, name)
        cleared.append(await codes.reached(name, "ok", sent, CLEAR_TARGET + 30))

    half = OUTAGES // 2
    # Each group starts right after a poll: the one above, then the one that cleared the last
    # of the group before (a poll restarts the timer's interval).
    for fault, group in ((Fault.OFFLINE, names[:half]), (Fault.HANG, names[half:])):
        await asyncio.gather(*(outage(name, fault) for name in group))
    codes.close()
    leave, hang = detected[Fault.OFFLINE], detected[Fault.HANG]
    where = f"interval {interval} s{bench.household}"
    report.add(
        f"time to 1001, a player that leaves the network ({where})",
        spread(leave),
        f"worst <= {LEAVE_TARGET:.0f} s (core Sonos: about 300 s)",
        max(leave) <= LEAVE_TARGET,
    )
    report.add(
        f"time to 1001, a player that accepts connections, never answers ({where})",
        spread(hang),
        f"worst <= interval + {HANG_MARGIN:.0f} s = {hang_target:.0f} s",
        max(hang) <= hang_target,
    )
    report.add(
        f"time to clear a player that came back ({where})",
        spread(cleared),
        f"worst <= {CLEAR_TARGET:.0f} s",
        max(cleared) <= CLEAR_TARGET,
    )


async def measure_flapping(bench: Bench, report: Report, seconds: int = FLAP_SECONDS) -> None:
    """Every player misses one check in five, four links lose single packets: no alarm.

    Each player drops off for 1 s at random, on average every 25 s (a check every 5 s: one in
    five), never twice within 12 s: at most one check in a row misses, as on a flaky link. A
    poll that falls into a drop sees one failure too. The links of four players also answer
    one request in five a TCP resend (1 s) late. Any 1001 or repair card is a false alarm.
    """
    await bench.set_scan_interval(10)
    names = [player.name for player in bench.emulator.players]
    codes = ErrorCodes(bench.hass, names)
    rng = random.Random(25)  # noqa: S311 - a reproducible simulation
    connects = controls = descriptions = asked = 0
    accepts, ping, describe, poll_now = (
        watcher.accepts_connection,
        watcher.ping,
        watcher.fetch_player_info,
        bench.coordinator._watcher._poll_now,  # noqa: SLF001
    )

    async def counted_accepts(*args: Any) -> bool:
        nonlocal connects
        connects += 1
        return await accepts(*args)

    async def counted_ping(*args: Any) -> None:
        nonlocal controls
        controls += 1
        await ping(*args)

    async def counted_describe(*args: Any) -> Any:
        # After a miss a check reads the description until it names the player again.
        nonlocal descriptions
        descriptions += 1
        return await describe(*args)

    def counted_poll_now() -> None:
        nonlocal asked
        asked += 1
        poll_now()

    lossy = names[:LOSSY]
    for name in lossy:
        await bench.world(bench.emulator.set_fault, name, Fault.LOSSY)
    ends = time.monotonic() + seconds
    lasted: dict[str, list[float]] = collections.defaultdict(list)  # the drops as applied

    async def flap(name: str) -> None:
        while (gap := rng.uniform(12, 38)) < ends - time.monotonic() - 2:
            await asyncio.sleep(gap)
            fault = Fault.LOSSY if name in lossy else Fault.NONE
            started = time.monotonic()
            await bench.world(bench.emulator.set_fault, name, Fault.OFFLINE)
            await asyncio.sleep(1)
            await bench.world(bench.emulator.set_fault, name, fault)
            lasted[name].append(time.monotonic() - started)

    with (
        patch.object(watcher, "accepts_connection", counted_accepts),
        patch.object(watcher, "ping", counted_ping),
        patch.object(watcher, "fetch_player_info", counted_describe),
        patch.object(bench.coordinator._watcher, "_poll_now", counted_poll_now),  # noqa: SLF001
    ):
        started = time.monotonic()
        await asyncio.gather(*(flap(name) for name in names))
        await asyncio.sleep(max(0.0, ends - time.monotonic()))
        minutes = (time.monotonic() - started) / 60
    for name in lossy:
        await bench.world(bench.emulator.heal, name)
    codes.close()
    drops = [length for lengths in lasted.values() for length in lengths]
    count = len(names)
    report.add(
        f"flapping soak: {seconds} s, {count} players missing 1 check in 5 "
        f"({len(drops)} drops of 1 s, at most {max(drops):.1f} s as applied), {LOSSY} lossy links"
        f"{bench.household}",
        f"{len(codes.alarms)} false alarms (1001 or repair card)",
        "0",
        not codes.alarms,
    )
    for alarm in codes.alarms[:10]:
        name = alarm.rpartition(" for ")[2]
        print(f"    {alarm}; its drops lasted {lasted.get(name, [])}", flush=True)
    report.add(
        f"network load between polls, {count} players (flapping soak){bench.household}",
        f"{connects / minutes:.0f} connections a minute, {controls / minutes:.0f} control calls,"
        f" {descriptions / minutes:.0f} description reads,"
        f" {asked / minutes:.1f} polls asked by the watcher",
        f"<= {count * 60 / (watcher.CHECK_EVERY - watcher.CHECK_JITTER):.0f} connections",
        connects / minutes <= count * 60 / (watcher.CHECK_EVERY - watcher.CHECK_JITTER),
    )


async def measure_no_topology(bench: Bench, report: Report) -> None:
    """No way to read the topology: GetZoneGroupState answers 501 and no event arrives.

    Every player is still probed directly, a player that leaves still shows 1001, and no
    other player raises anything.
    """
    emulator = bench.emulator
    await bench.world(emulator.set_zone_group_state_error, 501)
    await bench.world(emulator.set_events_reach_subscribers, False)
    await bench.coordinator.topology_events.async_stop()  # the next poll subscribes anew
    try:
        await bench.timed_polls(2)
        name = emulator.players[1].name
        await bench.world(emulator.set_fault, name, Fault.OFFLINE)
        await bench.timed_polls(2)
        probed_ok = sum(bench.error_code(p.name) == "ok" for p in emulator.players)
        detected = bench.error_code(name) == "1001"
        data = bench.coordinator.data
        report.add(
            "no topology (UPnP 501, no event reaches Home Assistant)",
            f"topology {data.topology_source}, players probed directly: "
            f"{probed_ok + detected} of {len(emulator.players)}, "
            f"1001 detected: {'yes' if detected else 'no'}",
            "every player still watched, no false alarm",
            data.topology_source == "unknown"
            and detected
            and probed_ok == len(emulator.players) - 1,
        )
        await bench.world(emulator.heal, name)
    finally:
        await bench.world(emulator.set_zone_group_state_error, None)
        await bench.world(emulator.set_events_reach_subscribers, True)
    await bench.timed_polls(2)


def large_household() -> list[tuple[str, dict[str, Any]]]:
    """26 players as a real large home has them: a home theatre, a stereo pair, a Roam.

    Their ids are their own (players of two households never share one), apart from the
    main household's, which the emulator numbers from 1.
    """
    main, left = make_uid(101), make_uid(105)
    players: list[tuple[str, dict[str, Any]]] = [
        ("Living Room", {"role": "home_theatre", "model_name": "Sonos Arc"}),
        ("Living Room", {"role": "sub", "main": main, "model_name": "Sonos Sub"}),
        ("Living Room", {"role": "rear_left", "main": main, "model_name": "Sonos Era 100"}),
        ("Living Room", {"role": "rear_right", "main": main, "model_name": "Sonos Era 100"}),
        ("Office", {"role": "left", "model_name": "Sonos Era 100"}),
        ("Office", {"role": "right", "main": left, "model_name": "Sonos Era 100"}),
        ("Roam", {"model_name": "Sonos Roam", "portable": True, "channel_freq": 5220}),
        *(  # named apart from the main household's rooms, so their entity ids are too
            (
                f"Study {number:02d}",
                {"channel_freq": (2437, 5180, 2437)[number % 3], "wired": number % 3 == 2},
            )
            for number in range(1, LARGE - 6)
        ),
    ]
    return [
        (name, {"uid": make_uid(101 + index), **attributes})
        for index, (name, attributes) in enumerate(players)
    ]


async def measure_large(bench: Bench, report: Report, loopback: int) -> None:
    """Measure a household past GetZoneGroupState's size limit: topology from events, no alarm.

    Detection on the real clock at a 10 s interval and a flapping soak, as for the main
    household, against the same targets. The main household is unloaded meanwhile, so that
    its watcher's checks are not counted, nor compete.
    """
    assert bench.entry is not None
    await bench.hass.config_entries.async_unload(bench.entry.entry_id)
    with (
        EmulatorProcess(
            large_household(),
            household_id="Sonos_BenchLargeHousehold001",
            first_player_address=f"127.0.{loopback}.2",
            first_cloud_address=f"127.0.{loopback + 1}.1",
            events_reach_subscribers=True,
        ) as emulator,
        patch.object(cloud_client, "resolve_host", emulator.resolver.resolve),
    ):
        # Its cloud is its emulator's: the Sonos names resolve there while it is measured.
        large = Bench(bench.hass, emulator, f", {LARGE} players past the size limit")
        await large.add_integration(QUIET)
        data = large.coordinator.data
        report.add(
            f"set up, {LARGE} players whose GetZoneGroupState answers 501",
            f"{len(data.players)} players watched, topology from {data.topology_source}",
            f"all {LARGE}, from events",
            len(data.players) == LARGE and data.topology_source == "events",
        )
        await measure_watch(large, report, 10)
        await measure_flapping(large, report, LARGE_FLAP_SECONDS)
        assert large.entry is not None
        await bench.hass.config_entries.async_remove(large.entry.entry_id)
    await bench.hass.config_entries.async_setup(bench.entry.entry_id)


class Canary:
    """Another integration's executor job, every 100 ms: how long each waits for a thread.

    The wait is from the submission to the job starting in a worker thread. A job under way
    while the bench itself measures memory (a full GC, which holds the GIL, every 10 polls)
    is not counted: that pause is the bench's, not the integration's.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.latencies: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._measuring = 0  # bumped as the bench's measurements begin and end

    @contextmanager
    def aside(self) -> Iterator[None]:
        """Leave out the jobs under way while the bench measures."""
        self._measuring += 1
        try:
            yield
        finally:
            self._measuring += 1

    async def _run(self) -> None:
        def job(submitted: float) -> float:
            waited = time.monotonic() - submitted
            time.sleep(0.001)
            return waited

        while True:
            epoch = self._measuring
            waited = await self.hass.async_add_executor_job(job, time.monotonic())
            if epoch == self._measuring and epoch % 2 == 0:
                self.latencies.append(waited)
            await asyncio.sleep(0.1)

    def start(self) -> None:
        self._task = self.hass.async_create_background_task(self._run(), "bench canary")

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def measure_hostile(bench: Bench, report: Report, stalls: LoopMonitor, polls: int) -> None:
    """30 healthy players, one dripping and one flooding device, for `polls` polls."""
    hass = bench.hass
    players = bench.emulator.players
    drip, flood = players[-2], players[-1]
    healthy = [player.name for player in players[:-2]]
    # The healthy reference: as many polls of the whole healthy household, then its memory.
    stalls.reset()
    with bench.polls_by_hand():
        await bench.timed_polls(polls)
    healthy_callback, healthy_handle = stalls.worst_callback, stalls.worst_handle
    healthy_mb = settled_resident_mb()
    threads_at_start = threading.active_count()
    print(f"    threads at the start: {[t.name for t in threading.enumerate()]}", flush=True)
    false_alarms: list[str] = []
    by_entity = {error_code_entity(name): name for name in healthy}
    by_issue = {f"error_1001_{player.uid}": player.name for player in players[:-2]}

    @callback  # in the event loop: a plain function would run in HA's executor
    def on_state(event: Event[Any]) -> None:
        name = by_entity.get(event.data["entity_id"])
        new = event.data["new_state"]
        if name is not None and new is not None and new.state != "ok":
            false_alarms.append(f"{new.state} for {name}")

    @callback
    def on_issue(event: Event[Any]) -> None:
        if event.data["action"] == "create" and event.data["issue_id"] in by_issue:
            false_alarms.append(f"repair issue {event.data['issue_id']}")

    unsubscribe = [
        hass.bus.async_listen("state_changed", on_state),
        hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, on_issue),
    ]
    canary = Canary(hass)
    canary.start()
    await bench.world(bench.emulator.set_fault, drip.name, Fault.DRIP)
    await bench.world(bench.emulator.set_fault, flood.name, Fault.ENDLESS_CHUNKED)
    durations: list[float] = []
    samples: dict[int, tuple[float, int]] = {}  # poll -> (resident MiB, threads)
    stalls.reset()
    with bench.polls_by_hand():  # the hand-driven polls are timed
        for number in range(1, polls + 1):
            durations.extend(await bench.timed_polls(1))
            if number % 10 == 0:
                worst = stalls.worst_callback  # the bench's own GC and purge do not count
                with canary.aside():
                    samples[number] = (settled_resident_mb(), threading.active_count())
                await asyncio.sleep(0)
                stalls.worst_callback = worst
        worst_callback = stalls.worst_callback
        print(
            f"    longest callback while polling: healthy {ms(healthy_callback)} ({healthy_handle}),"
            f" hostile {ms(worst_callback)} ({stalls.worst_handle})",
            flush=True,
        )
    drip_code, flood_code = bench.error_code(drip.name), bench.error_code(flood.name)
    await canary.stop()
    for stop in unsubscribe:
        stop()
    print(
        "    resident memory (MiB) and threads by poll: "
        f"healthy run {healthy_mb:.1f} ({threads_at_start}); "
        + ", ".join(f"{n}: {m:.1f} ({t})" for n, (m, t) in sorted(samples.items())),
        flush=True,
    )
    most_threads = max(t for _, t in samples.values())
    names = collections.Counter(
        re.sub(r"[_-]?\d+(?:_\d+)?$", "", thread.name) for thread in threading.enumerate()
    )
    print(f"    threads at the end, by name: {dict(names)}", flush=True)
    report.add(
        f"hostile: threads over {polls} polls (1 dripping, 1 flooding, 30 healthy)",
        f"{threads_at_start} at the start, at most {most_threads}",
        f"flat (<= start + 4 = {threads_at_start + 4})",
        most_threads <= threads_at_start + 4,
    )
    most_mb = max(m for m, _ in samples.values())
    report.add(
        f"hostile: resident memory over {polls} polls ({allocator()}; GC run, pages returned)",
        f"healthy run {healthy_mb:.1f} MiB, hostile at most {most_mb:.1f} MiB "
        f"({most_mb - healthy_mb:+.1f})",
        "<= healthy + 20 MiB",
        most_mb - healthy_mb <= 20,
    )
    report.add(
        "hostile: poll cycle",
        f"median {statistics.median(durations):.2f} s, max {max(durations):.2f} s",
        f"every poll <= timeout + 1 s = {PROBE_TIMEOUT + 1:.0f} s",
        max(durations) <= PROBE_TIMEOUT + 1,
    )
    report.add(  # reported beside the healthy run's; the full bench's polling phase has the target
        "hostile: longest event-loop callback while polling (CPU, GC apart)",
        f"{ms(worst_callback)} (healthy run: {ms(healthy_callback)})",
    )
    report.add(
        "hostile: false alarms for the 30 healthy players",
        f"{len(false_alarms)}" + (f" ({', '.join(false_alarms[:3])})" if false_alarms else ""),
        "0",
        not false_alarms,
    )
    report.add(
        "hostile: the devices' error codes at the end",
        f"dripping {drip_code}, flooding {flood_code} (it answers, junk: on the network)",
        "dripping 1001",
        drip_code == "1001",
    )
    worst = max(canary.latencies)
    report.add(
        "hostile: another integration's executor job (1 ms, every 100 ms), wait for a thread",
        f"{len(canary.latencies)} ran, median "
        f"{statistics.median(canary.latencies) * 1000:.2f} ms, max {worst * 1000:.1f} ms",
        "every one ran, max < 100 ms",
        worst < 0.1,
    )
    # Detection with the real timer: the dripping device falls silent right after a poll.
    for name in (drip.name, flood.name):
        await bench.world(bench.emulator.heal, name)
    await bench.timed_polls(2)
    interval = 10
    await bench.set_scan_interval(interval)
    await bench.next_poll_done()
    await bench.world(bench.emulator.set_fault, drip.name, Fault.DRIP)
    limit = interval + HANG_MARGIN  # it accepts connections and never answers in full
    detect = await bench.wait_for(lambda: bench.error_code(drip.name) == "1001", limit + 10)
    report.add(
        f"hostile: time to 1001 for a dripping device (interval {interval} s)",
        f"{detect:.1f} s",
        f"<= interval + {HANG_MARGIN:.0f} s = {limit:.0f} s",
        detect <= limit,
    )
    await bench.world(bench.emulator.heal, drip.name)
    await bench.set_scan_interval(QUIET)
    await bench.timed_polls(2)


async def start_home_assistant(
    config_dir: Path, port: int, *, recorder: bool = False
) -> HomeAssistant:
    """Start a real Home Assistant on `config_dir`, its HTTP server on 127.0.0.1:`port`."""
    # Where the players send their topology events (households past the size limit).
    configuration = CONFIGURATION.format(port=port) + ("recorder:\n" if recorder else "")
    (config_dir / "configuration.yaml").write_text(configuration)
    # HA's default integrations include the frontend, hence an HTTP server: loopback only.
    write_http_settings(config_dir, port)
    runtime = runner.RuntimeConfig(config_dir=str(config_dir), skip_pip=True)
    hass = await bootstrap.async_setup_hass(runtime)
    # HA's bootstrap sends uncaught exceptions to its logger, which the benchmark silences: a
    # broken phase would end with exit status 1 and no word. Python's own hooks print them.
    sys.excepthook, threading.excepthook = sys.__excepthook__, threading.__excepthook__
    assert hass is not None, "Home Assistant did not start"
    await hass.async_start()
    await hass.async_block_till_done()
    return hass


# --- the cost on a small host (its own Home Assistant, with the recorder on) ----------------

COST_HOUSEHOLDS = (10, 32)
COST_INTERVALS = (60, 10)  # the default interval and the shortest one allowed
STATES_TARGET = 10.0  # state changes per player-hour in a steady household
COST_WARM_UP = 20.0  # seconds after a setup or reload: its first poll and its first write
METER_CHECK = 40.0  # seconds a player is gone for the meter's control (its 1001 and card)


@dataclass(slots=True)
class CostWindow:
    """What a steady household cost Home Assistant over one window of the real clock."""

    hours: float
    cpu: float  # seconds of the whole process (every thread: loop, executor, recorder)
    states: int  # state changes of the entry's entities
    our_writes: int  # writes of the household's own file
    other_writes: int  # every other .storage file (HA's registries included)
    issues: int  # issue registry updates of this integration
    registries: int  # device or entity registry updates of the entry
    rows: int  # recorder rows of the entry's entities
    polls: int  # polls the entry made in the window


class CostMeter:
    """Counts, over a window, everything a config entry makes Home Assistant write."""

    def __init__(self, hass: HomeAssistant, database: Path) -> None:
        self.hass = hass
        self.database = database
        self.writes: list[str] = []  # .storage keys, one per write
        self._entry_id: str | None = None
        self._counts: collections.Counter[str] = collections.Counter()
        write_data = storage.Store._async_write_data  # noqa: SLF001 - counted, then done

        async def counting(store: storage.Store[Any], data: dict[str, Any]) -> None:
            self.writes.append(store.key)
            await write_data(store, data)

        self._patch = patch.object(storage.Store, "_async_write_data", counting)
        self._patch.start()
        bus = hass.bus
        bus.async_listen(EVENT_STATE_CHANGED, self._state_changed)
        bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, self._issue)
        bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, self._device)
        bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._entity)

    def close(self) -> None:
        self._patch.stop()

    def _entities(self) -> set[str]:
        if self._entry_id is None:
            return set()
        registry = er.async_get(self.hass)
        return {e.entity_id for e in er.async_entries_for_config_entry(registry, self._entry_id)}

    @callback
    def _state_changed(self, event: Event[Any]) -> None:
        if event.data["entity_id"] in self._watched:
            self._counts["states"] += 1

    @callback
    def _issue(self, event: Event[Any]) -> None:
        if event.data["domain"] == DOMAIN:
            self._counts["issues"] += 1

    @callback
    def _device(self, event: Event[Any]) -> None:
        device = dr.async_get(self.hass).async_get(event.data["device_id"])
        if device is None or device.config_entry_id == self._entry_id:
            self._counts["registries"] += 1

    @callback
    def _entity(self, event: Event[Any]) -> None:
        if event.data["entity_id"] in self._watched:
            self._counts["registries"] += 1

    async def window(
        self, entry: SonosTroubleshooterConfigEntry | None, seconds: float
    ) -> CostWindow:
        """Measure `seconds` of the real clock (None: with no entry loaded, the baseline)."""
        entry_id = None if entry is None else entry.entry_id
        polls = 0

        @callback
        def polled() -> None:
            nonlocal polls
            polls += 1

        stop_counting = (
            entry.runtime_data.coordinator.async_add_listener(polled) if entry else lambda: None
        )
        self._entry_id = entry_id
        self._watched = self._entities()
        self._counts.clear()
        self.writes.clear()
        cpu, began, began_at = time.process_time(), time.monotonic(), time.time()
        await asyncio.sleep(seconds)
        cpu, hours = time.process_time() - cpu, (time.monotonic() - began) / 3600
        ended_at = time.time()
        stop_counting()
        ours = f"{DOMAIN}.{entry_id}"
        return CostWindow(
            hours=hours,
            cpu=cpu,
            states=self._counts["states"],
            our_writes=self.writes.count(ours),
            other_writes=sum(key != ours for key in self.writes),
            issues=self._counts["issues"],
            registries=self._counts["registries"],
            rows=await self._rows(began_at, ended_at),
            polls=polls,
        )

    async def _rows(self, since: float, until: float) -> int:
        """Count the recorder's state rows of the watched entities within the window."""
        from homeassistant.components.recorder import get_instance  # noqa: PLC0415

        await get_instance(self.hass).async_block_till_done()
        watched = sorted(self._watched)
        if not watched:
            return 0

        def count() -> int:
            marks = ",".join("?" * len(watched))
            with contextlib.closing(
                sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
            ) as db:
                row = db.execute(
                    "SELECT COUNT(*) FROM states JOIN states_meta USING (metadata_id)"  # noqa: S608 - only ? marks are formatted in
                    f" WHERE states_meta.entity_id IN ({marks}) AND last_updated_ts >= ? AND last_updated_ts < ?",
                    (*watched, since, until),
                ).fetchone()
            return int(row[0])

        return await self.hass.async_add_executor_job(count)


def cost_household(players: int) -> list[tuple[str, dict[str, Any]]]:
    """Return a household like the main one: Wi-Fi at 2.4 and 5 GHz, a third wired."""
    return [
        (
            f"Room {number + 1:02d}",
            {"channel_freq": (2437, 5180, 2437)[number % 3], "wired": number % 3 == 2},
        )
        for number in range(players)
    ]


def report_cost(
    report: Report, label: str, players: int, loaded: CostWindow, baseline: CostWindow
) -> None:
    cpu = loaded.cpu / loaded.hours - baseline.cpu / baseline.hours  # seconds per hour
    per_hour = 1 / loaded.hours
    states = loaded.states * per_hour / players
    report.add(
        f"CPU per hour, {label}, loaded minus disabled",
        f"{cpu:.1f} s ({100 * cpu / 3600:.2f} % of a core)",
    )
    report.add(
        f"state changes per player-hour, {label}",
        f"{states:.1f} (over {loaded.polls} polls)",
        f"<= {STATES_TARGET:.0f}",
        states <= STATES_TARGET,
    )
    writes = loaded.our_writes * per_hour
    report.add(
        f".storage writes per hour, {label}",
        f"{writes:.0f} of the household's file ({loaded.other_writes * per_hour:.0f} of others)",
        "0",
        loaded.our_writes == 0,
    )
    report.add(
        f"issue, device and entity registry updates per hour, {label}",
        f"{loaded.issues * per_hour:.0f} issue, {loaded.registries * per_hour:.0f} device or entity",
        "0",
        loaded.issues == loaded.registries == 0,
    )
    report.add(
        f"recorder rows per hour, {label}",
        f"{loaded.rows * per_hour:.0f} ({loaded.rows * per_hour / players:.1f} per player)",
    )


async def measure_meter(bench: Bench, meter: CostMeter, report: Report) -> None:
    """Check the meter: a player that leaves the network must show in every count."""
    assert bench.entry is not None
    name = bench.emulator.players[-1].name
    await bench.world(bench.emulator.set_fault, name, Fault.OFFLINE)
    gone = await meter.window(bench.entry, METER_CHECK)
    await bench.world(bench.emulator.heal, name)
    await asyncio.sleep(COST_WARM_UP)
    report.add(
        f"the meter's control: a player leaves for {METER_CHECK:.0f} s"
        f" ({len(bench.emulator.players)} players at 10 s)",
        f"{gone.states} state changes, {gone.issues} issue updates, {gone.our_writes} writes of"
        f" the household's file, {gone.rows} recorder rows",
        "each counted (> 0)",
        min(gone.states, gone.issues, gone.our_writes, gone.rows) > 0,
    )


async def measure_cost(args: argparse.Namespace, config_dir: Path, report: Report) -> None:
    """Measure a steady household of 10, then 32 players, at 60 s and 10 s, against HA alone.

    Each window is `--cost-minutes` of the real clock; the figures are per hour of it.
    """
    hass = await start_home_assistant(config_dir, args.http_port, recorder=True)
    meter = CostMeter(hass, config_dir / "home-assistant_v2.db")
    seconds = 60 * args.cost_minutes
    try:
        print(f"Baseline: Home Assistant without the integration ({args.cost_minutes} min)")
        await asyncio.sleep(COST_WARM_UP)
        baseline = await meter.window(None, seconds)
        report.add(
            "CPU per hour of Home Assistant alone (recorder on)",
            f"{baseline.cpu / baseline.hours:.1f} s",
        )
        for number, players in enumerate(COST_HOUSEHOLDS):
            emulator = EmulatorProcess(
                cost_household(players),
                household_id=f"Sonos_CostHousehold{players:09d}",
                first_player_address=f"127.0.{args.loopback + 2 * number}.2",
                first_cloud_address=f"127.0.{args.loopback + 2 * number + 1}.1",
                events_reach_subscribers=True,
            )
            resolver = patch.object(cloud_client, "resolve_host", emulator.resolver.resolve)
            resolver.start()
            try:
                bench = Bench(hass, emulator)
                for interval in COST_INTERVALS:
                    print(f"{players} players at {interval} s ({args.cost_minutes} min)")
                    if bench.entry is None:
                        await bench.add_integration(interval)
                    else:
                        await bench.set_scan_interval(interval)
                    await asyncio.sleep(COST_WARM_UP)
                    assert bench.entry is not None
                    loaded = await meter.window(bench.entry, seconds)
                    label = f"{players} players at {interval} s"
                    report_cost(report, label, players, loaded, baseline)
                await measure_meter(bench, meter, report)
                assert bench.entry is not None
                await hass.config_entries.async_set_disabled_by(
                    bench.entry.entry_id, ConfigEntryDisabler.USER
                )
            finally:
                resolver.stop()
                emulator.close()
    finally:
        meter.close()
        await hass.async_stop()


async def run(args: argparse.Namespace, config_dir: Path) -> Report:
    report = Report()
    blocking = BlockingCallLog()
    logging.getLogger().addHandler(blocking)
    emulator = EmulatorProcess(
        [
            (
                f"Room {number + 1:02d}",
                {
                    "channel_freq": (2437, 5180, 2437)[number % 3],
                    "wired": number % 3 == 2,
                    "portable": False,
                },
            )
            for number in range(PLAYERS)
        ],
        household_id="Sonos_BenchHousehold00000001",
        first_player_address=f"127.0.{args.loopback}.2",
        first_cloud_address=f"127.0.{args.loopback + 1}.1",
        # 32 real players are past GetZoneGroupState's size limit: the topology is read
        # from their events, which reach HA's HTTP server at its internal URL.
        events_reach_subscribers=True,
    )
    try:
        # DNS is the internet: the Sonos cloud names resolve in the simulation instead.
        resolver = patch.object(cloud_client, "resolve_host", emulator.resolver.resolve)
        resolver.start()
        hass = await start_home_assistant(config_dir, args.http_port)
        gc.collect()
        baseline = resident_mb()
        bench = Bench(hass, emulator)
        stalls = LoopMonitor()
        with stalls.watching():
            print("Setting up", flush=True)
            await bench.add_integration(QUIET)
            if args.only is None:
                await measure_setup(bench, report)
                print("Polling", flush=True)
                with bench.polls_by_hand():
                    await measure_polls(bench, report, stalls)
                gc.collect()
                added = resident_mb() - baseline
                report.add(
                    f"resident memory added by the integration, {PLAYERS} players",
                    f"{added:.1f} MiB",
                    "< 15 MiB",
                    added < 15,
                )
                print(f"Soak ({WARM_UP} warm-up + {args.cycles} cycles)", flush=True)
                with bench.polls_by_hand():
                    await measure_soak(bench, report, args.cycles, trace_heap=args.trace_heap)
                    print("No topology", flush=True)
                    await measure_no_topology(bench, report)
                for interval in args.intervals:
                    print(f"Outages on the real clock, interval {interval} s", flush=True)
                    await measure_watch(bench, report, interval)
                print(f"Flapping soak ({FLAP_SECONDS} s)", flush=True)
                await measure_flapping(bench, report)
                await bench.set_scan_interval(QUIET)
                print(f"A household of {LARGE} players past the size limit", flush=True)
                await measure_large(bench, report, args.loopback + 2)
            elif args.only == "large":
                await measure_large(bench, report, args.loopback + 2)
            elif args.only == "polls":
                with bench.polls_by_hand():
                    await measure_polls(bench, report, stalls)
                    if args.profile:
                        await profile_polls(bench)
            elif args.only == "watch":
                for interval in args.intervals:
                    print(f"Outages on the real clock, interval {interval} s", flush=True)
                    await measure_watch(bench, report, interval)
                print(f"Flapping soak ({FLAP_SECONDS} s)", flush=True)
                await measure_flapping(bench, report)
                await bench.set_scan_interval(QUIET)
            else:
                await bench.timed_polls(5)  # warm-up: connections, descriptions read
            if args.only not in ("watch", "polls", "large"):
                print(f"Hostile devices ({args.hostile_polls} polls)", flush=True)
                await measure_hostile(bench, report, stalls, args.hostile_polls)
        report.add(
            "blocking calls HA reported in the event loop",
            str(len(blocking.reports)),
            "0",
            not blocking.reports,
        )
        for message in blocking.reports:
            print(f"    {message}", flush=True)
        report.add(
            "longest event-loop callback over the whole run (CPU, GC apart)",
            ms(stalls.worst_callback),
        )
        await hass.async_stop()
    finally:
        patch.stopall()
        emulator.close()
        logging.getLogger().removeHandler(blocking)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cycles",
        type=int,
        default=1000,
        help="soak cycles measured, after 100 of warm-up (default 1000)",
    )
    parser.add_argument(
        "--http-port", type=int, default=18125, help="HA's HTTP port, on 127.0.0.1 (18125)"
    )
    parser.add_argument(
        "--intervals",
        type=int,
        nargs="*",
        default=[10, 60],
        help="scan intervals to measure detection with (default 10 60)",
    )
    parser.add_argument(
        "--trace-heap",
        action="store_true",
        help="also trace Python allocations over the soak (slower; shows where memory grows)",
    )
    parser.add_argument(
        "--loopback",
        type=int,
        default=6,
        help="players on 127.0.N.2 and up, the cloud on 127.0.N+1.x (default 6: beside the "
        "tests' 0-1, the demo's 2-3 and the browser test's 4-5)",
    )
    parser.add_argument(
        "--hostile-polls",
        type=int,
        default=100,
        help="polls with a dripping and a flooding device among 30 healthy (default 100, about "
        "5 minutes: each poll waits out the dripping device's timeout)",
    )
    parser.add_argument(
        "--only",
        choices=["hostile", "watch", "polls", "large", "cost"],
        help="run only this scenario (after setting up the integration): the hostile devices,"
        " the watcher's (outages on the real clock and the flapping soak), the healthy and"
        " hung polls, the household of 26 players past GetZoneGroupState's size limit, or the"
        " cost of a steady household on a small host (its own Home Assistant, recorder on)",
    )
    parser.add_argument(
        "--cost-minutes",
        type=float,
        default=3,
        help="minutes of the real clock each cost window measures (default 3; five windows)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="with --only polls: then 20 more polls under cProfile, and where their time went"
        " (profiled polls are slower; they are not the figures above)",
    )
    parser.add_argument(
        "--allocator",
        choices=["jemalloc", "glibc"],
        default="jemalloc",
        help="malloc to measure with: jemalloc as HA's container images (default), or glibc's",
    )
    args = parser.parse_args()
    if args.allocator == "jemalloc" and allocator() != "jemalloc":
        run_under_jemalloc()  # returns only when jemalloc is missing
    print(f"Memory allocator: {allocator()}", flush=True)
    loop = runner.create_event_loop()
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="sonos-bench-") as config_dir:
        if args.only == "cost":
            report = Report()
            loop.run_until_complete(measure_cost(args, Path(config_dir), report))
        else:
            report = loop.run_until_complete(run(args, Path(config_dir)))
    loop.close()
    print(f"\n{report.table()}")
    print(f"\nthreads alive at the end: {threading.active_count()}")
    met = all(f.met is not False for f in report.figures)
    if args.only is None:
        # The cost is measured in a Home Assistant of its own, with the recorder on.
        print("\nThe cost of a steady household", flush=True)
        cost = [
            sys.executable,
            __file__,
            "--only",
            "cost",
            "--cost-minutes",
            str(args.cost_minutes),
        ]
        cost += ["--loopback", str(args.loopback), "--http-port", str(args.http_port)]
        cost += ["--allocator", args.allocator]
        met = subprocess.run(cost, check=False).returncode == 0 and met  # noqa: S603
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
