"""An emulated Sonos household and internet on loopback, shared by tests, demo and benchmarks.

    with Emulator() as emulator:
        kitchen = emulator.household.add_player("Kitchen")
        emulator.household.set_fault("Kitchen", Fault.HANG)
        emulator.cloud.set_dns(DnsFailure.SERVFAIL)

Players listen on 127.0.0.2, 127.0.0.3, ... port 1400, as real players do on a LAN (soco
0.31 cannot use another port). Cloud endpoints listen on 127.0.1.x with ephemeral ports.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from .cloud import CloudSimulation, DnsFailure, NameResolver, StatusFault, StatusPage, TcpEndpoint
from .household import SonosHousehold
from .loop import EmulatorLoop
from .model import (
    REASON_BLUETOOTH,
    REASON_POWERED_OFF,
    REASON_SLEEPING,
    REASON_UPGRADE,
    Connections,
    Fault,
    Player,
)

__all__ = [
    "REASON_BLUETOOTH",
    "REASON_POWERED_OFF",
    "REASON_SLEEPING",
    "REASON_UPGRADE",
    "CloudSimulation",
    "Connections",
    "DnsFailure",
    "Emulator",
    "Fault",
    "NameResolver",
    "Player",
    "SonosHousehold",
    "StatusFault",
    "StatusPage",
    "TcpEndpoint",
]


class Emulator:
    """A household plus the simulated internet, running on one background loop."""

    def __init__(
        self,
        household_id: str = "Sonos_EmuHousehold0000000001",
        first_player_address: str = "127.0.0.2",
        first_cloud_address: str = "127.0.1.1",
    ) -> None:
        self.loop = EmulatorLoop()
        self.loop.start()
        self.household = SonosHousehold(self.loop, household_id, first_player_address)
        self.cloud = CloudSimulation(self.loop, first_cloud_address)

    def close(self) -> None:
        self.household.close()
        self.cloud.close()
        self.loop.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
