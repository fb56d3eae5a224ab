"""The emulator in a child process, for measurements that must not count it.

The benchmark's resident-memory figures are those of the Home Assistant process; with the
players' HTTP servers in that process, their buffers and keep-alive connections would count
as the integration's. Here they live in a child started with `spawn` (no copy of HA's
threads or memory), driven over a pipe. Name resolution stays in the caller's process: it
stands in for the system resolver, which the code under test calls there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import multiprocessing
from multiprocessing.connection import Connection
import threading
from typing import Any, Self

from . import Emulator, Fault, NameResolver


@dataclass(frozen=True, slots=True)
class PlayerAddress:
    """What the caller needs to know of a player in the child."""

    name: str  # its label: the room, and the role where the room holds several
    uid: str
    ip: str


@dataclass(frozen=True, slots=True)
class CloudAddresses:
    """Where the child's simulated cloud answers."""

    cloud_targets: list[str]
    reference_targets: list[str]
    status_url: str
    records: dict[str, str]  # cloud name -> address, for the caller's resolver


def _serve(
    connection: Connection,
    household_id: str,
    first_player_address: str,
    first_cloud_address: str,
    players: list[tuple[str, dict[str, Any]]],
    *,
    events_reach_subscribers: bool,
) -> None:
    """Child process: build the household, then carry out requests until told to close."""
    with Emulator(household_id, first_player_address, first_cloud_address) as emulator:
        household = emulator.household
        for name, attributes in players:
            household.add_player(name, **attributes)
        household.events_reach_subscribers = events_reach_subscribers
        cloud = emulator.cloud
        connection.send(
            (
                [PlayerAddress(p.label, p.uid, p.ip) for p in household.players],
                CloudAddresses(
                    cloud.cloud_targets,
                    cloud.reference_targets,
                    cloud.status_page.url,
                    dict(cloud.resolver.records),
                ),
            )
        )
        requests: dict[str, Callable[..., object]] = {
            "set_fault": lambda name, fault: household.set_fault(name, Fault(fault)),
            "heal": household.heal,
            "zone_group_state_error": lambda code: setattr(
                household, "zone_group_state_error", code
            ),
            "events_reach_subscribers": lambda reach: setattr(
                household, "events_reach_subscribers", reach
            ),
        }
        while (request := connection.recv()) is not None:
            method, arguments = request
            try:
                requests[method](*arguments)
            except Exception as error:  # noqa: BLE001 - reported to the caller, who raises
                connection.send(f"{type(error).__name__}: {error}")
            else:
                connection.send(None)


class EmulatorProcess:
    """A household and its cloud in a child process; thread-safe, blocking control calls."""

    def __init__(
        self,
        players: list[tuple[str, dict[str, Any]]],
        *,
        household_id: str,
        first_player_address: str,
        first_cloud_address: str,
        events_reach_subscribers: bool = False,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child, household_id, first_player_address, first_cloud_address, players),
            kwargs={"events_reach_subscribers": events_reach_subscribers},
            name="sonos-emulator",
            daemon=True,
        )
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self.players: list[PlayerAddress]
        self.cloud: CloudAddresses
        self.players, self.cloud = self._connection.recv()
        self.resolver = NameResolver()
        self.resolver.records.update(self.cloud.records)

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def _request(self, method: str, *arguments: object) -> None:
        with self._lock:
            self._connection.send((method, arguments))
            error = self._connection.recv()
        if error is not None:
            raise RuntimeError(f"the emulator refused {method}{arguments}: {error}")

    def set_fault(self, name: str, fault: Fault) -> None:
        self._request("set_fault", name, str(fault))

    def heal(self, name: str) -> None:
        self._request("heal", name)

    def set_zone_group_state_error(self, code: int | None) -> None:
        """Make GetZoneGroupState answer this UPnP error (None: answer normally)."""
        self._request("zone_group_state_error", code)

    def set_events_reach_subscribers(self, reach: bool) -> None:
        """Let the players' events reach their subscribers, or lose them on the way."""
        self._request("events_reach_subscribers", reach)

    def close(self) -> None:
        with self._lock:
            self._connection.send(None)
        self._process.join(10)
        self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
