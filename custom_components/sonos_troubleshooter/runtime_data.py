"""Everything a config entry owns while it is loaded, in one typed place (entry.runtime_data)."""

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .coordinator import SonosTroubleshooterCoordinator
from .power_control import PowerControl
from .sonos_health.power_rules import ActionLog
from .store import HouseholdStore


@dataclass(frozen=True, slots=True, kw_only=True)
class SonosTroubleshooterData:
    """The household's poll, what Home Assistant did to fix it, and what can do more."""

    coordinator: SonosTroubleshooterCoordinator
    store: HouseholdStore
    action_log: ActionLog
    power_control: PowerControl


# Every module annotates this entry. The coordinator, and the watcher and topology events it
# builds, sit below this module: they name it under `if TYPE_CHECKING:` (see
# tests/test_architecture.py).
type SonosTroubleshooterConfigEntry = ConfigEntry[SonosTroubleshooterData]
