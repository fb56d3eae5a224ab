"""Each player's device name, and the name its device shows, in Home Assistant's language."""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, translation

from .const import DOMAIN
from .sonos_health.household import DeviceName, Household, by_role_and_room


@callback
def async_device_names(
    hass: HomeAssistant, entry_id: str, household: Household
) -> tuple[dict[str, DeviceName], dict[str, str]]:
    """Return each player's device name, and the name its device shows.

    Names are compared in the words users read, in Home Assistant's language, as device
    names are translated (without the texts, by role and room alone); a name the user
    gave the device wins. The texts are looked up once for all players.
    """
    texts = translation.async_get_cached_translations(hass, hass.config.language, "device", DOMAIN)

    def worded(name: DeviceName) -> str | None:
        template = texts.get(f"component.{DOMAIN}.device.{name.translation_key}.name")
        return template.format(**name.placeholders) if template else None

    names = household.device_names(lambda name: worded(name) or by_role_and_room(name))
    registry = dr.async_get(hass)
    shown: dict[str, str] = {}
    for uid, name in names.items():
        device = registry.async_get_device_by_identifier((DOMAIN, uid), entry_id)
        own = device.name_by_user if device is not None else None
        shown[uid] = own or worded(name) or name.room
    return names, shown
