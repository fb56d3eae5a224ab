# soco/core.py: SoCo(ip) builds the services of the player at that IPv4 address, with no
# network (an address that is no IPv4 literal raises ValueError). A metaclass hands back the
# same object for the same address.

from .services import DeviceProperties, RenderingControl, ZoneGroupTopology

class _ArgsSingleton(type): ...

class SoCo(metaclass=_ArgsSingleton):
    deviceProperties: DeviceProperties
    renderingControl: RenderingControl
    zoneGroupTopology: ZoneGroupTopology
    def __init__(self, ip_address: str) -> None: ...
