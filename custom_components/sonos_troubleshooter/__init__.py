"""Sonos Troubleshooter: tells which documented Sonos error a household has, why, and the fix."""

from homeassistant.const import EVENT_CORE_CONFIG_UPDATE, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import SonosTroubleshooterCoordinator
from .entity import async_follow_device_names, async_link_core_devices, household_device
from .issues import async_remove_issues, async_update_issues
from .power_control import PowerControl
from .runtime_data import SonosTroubleshooterConfigEntry, SonosTroubleshooterData
from .services import async_setup_services
from .store import HouseholdStore
from .topology_events import async_register_view
from .words import async_load_words

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.IMAGE, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the power_cycle action and the route of the players' topology events.

    The action is registered before any setup, so that automations using it validate.
    """
    async_setup_services(hass)
    async_register_view(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry) -> bool:
    """Start watching the household of the configured player."""
    store = HouseholdStore(hass, entry.entry_id)
    household, action_log = await store.async_load()
    coordinator = SonosTroubleshooterCoordinator(hass, entry, household, store)
    entry.async_on_unload(coordinator.topology_events.async_stop)
    await coordinator.async_config_entry_first_refresh()
    # Players hang off the household device, which must exist before they refer to it.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **household_device(coordinator)
    )
    power_control = PowerControl(hass, coordinator, action_log)
    entry.runtime_data = SonosTroubleshooterData(
        coordinator=coordinator, store=store, action_log=action_log, power_control=power_control
    )
    # A power cycle cut short by a restart left a plug off: switch it on once its
    # integration is up (at once when Home Assistant is already running).

    async def finish_interrupted(_: HomeAssistant) -> None:
        await power_control.async_finish_interrupted()

    entry.async_on_unload(async_at_started(hass, finish_interrupted))
    entry.async_on_unload(coordinator.async_add_listener(lambda: _async_follow(hass, coordinator)))
    # The cards' facts name a band or a link in Home Assistant's language: reword them when
    # the user changes it.

    async def reword(_: Event) -> None:
        await async_load_words(hass)
        async_update_issues(hass, coordinator)

    entry.async_on_unload(hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, reword))
    await async_load_words(hass)
    async_update_issues(hass, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


@callback
def _async_follow(hass: HomeAssistant, coordinator: SonosTroubleshooterCoordinator) -> None:
    """After each poll: repair issues follow the diagnosis, devices core Sonos and the rooms."""
    async_update_issues(hass, coordinator)
    async_link_core_devices(hass, coordinator)
    async_follow_device_names(hass, coordinator)


async def async_unload_entry(hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry) -> bool:
    """Stop polling and keep the diagnosis; its repair issues go until the next setup.

    Setup rebuilds them from the stored diagnosis, with their original start times. While
    Home Assistant stops they stay: the issue registry keeps their dismissal across restarts.
    """
    await entry.runtime_data.store.async_save()
    if not hass.is_stopping:
        async_remove_issues(hass, entry)
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry) -> None:
    """Remove the household's repair issues and stored state with the integration."""
    async_remove_issues(hass, entry)
    await HouseholdStore(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: SonosTroubleshooterConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a player the household no longer lists (never when unsure)."""
    coordinator = entry.runtime_data.coordinator
    uids = {identifier for domain, identifier in device.identifiers if domain == DOMAIN}
    household = coordinator.household
    if coordinator.household_id in uids or not all(household.has_left(uid) for uid in uids):
        return False
    for uid in uids:
        await coordinator.async_forget_player(uid)
    return True
