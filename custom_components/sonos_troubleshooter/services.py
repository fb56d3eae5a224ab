"""The `power_cycle` action: the documented first fix for 1001, for automations.

The same rules as the repair flow's "Do it for me": a player that answers is never
power-cycled, nor one whose plug also feeds a player that answers. Misuse is refused with a
translated ServiceValidationError before anything is switched.

The players come as device ids in the `device_id` field, a device selector in services.yaml
(hassfest refuses a device filter on an action's target). A call still written with
`target: {device_id: ...}` arrives the same way: Home Assistant adds a target's keys to the data.
"""

import asyncio

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util.json import JsonObjectType
import probatio

from .const import DOMAIN
from .power_control import RefusedError, power_switches
from .runtime_data import SonosTroubleshooterConfigEntry
from .sonos_health.power_rules import (
    MIN_POWER_OFF_SECONDS,
    POWER_OFF_SECONDS,
    ActionRecord,
    Outcome,
)
from .store import action_to_dict

SERVICE_POWER_CYCLE = "power_cycle"
ATTR_OFF_SECONDS = "off_seconds"

POWER_CYCLE_SCHEMA = probatio.Schema(
    {
        probatio.Required(ATTR_DEVICE_ID): probatio.All(cv.ensure_list, [cv.string]),
        probatio.Optional(ATTR_OFF_SECONDS, default=POWER_OFF_SECONDS): probatio.All(
            probatio.Coerce(int),
            probatio.Range(min=MIN_POWER_OFF_SECONDS, max=POWER_OFF_SECONDS),
        ),
    }
)


def _player(hass: HomeAssistant, device_id: str) -> tuple[SonosTroubleshooterConfigEntry, str]:
    """Return the loaded entry watching the player of a device, and the player's uid."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="device_not_found",
            translation_placeholders={"device_id": device_id},
        )
    name = device.name_by_user or device.name or device_id
    uids = [identifier for domain, identifier in device.identifiers if domain == DOMAIN]
    for entry_id in device.config_entries:
        entry: SonosTroubleshooterConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            continue
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_not_loaded",
                translation_placeholders={"name": name},
            )
        for uid in uids:
            if uid in entry.runtime_data.coordinator.household.players:
                return entry, uid
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_player",
        translation_placeholders={"name": name},
    )


async def _power_cycle(call: ServiceCall) -> ServiceResponse:
    """Power-cycle each player targeted, one after the other, and say how each went."""
    hass = call.hass
    targets = [_player(hass, device_id) for device_id in call.data[ATTR_DEVICE_ID]]
    for entry, uid in targets:  # every static rule, before anything is switched
        if uid not in power_switches(entry.runtime_data.coordinator):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_power_switch",
                translation_placeholders={
                    "name": entry.runtime_data.coordinator.data.players[uid].name
                },
            )
    records: list[ActionRecord] = []
    for entry, uid in targets:
        power_control = entry.runtime_data.power_control
        try:
            task = power_control.start_power_cycle(uid, off_seconds=call.data[ATTR_OFF_SECONDS])
            # Shielded: an automation stopped meanwhile must not leave the plug off.
            record = await asyncio.shield(task)
        except RefusedError as refused:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=f"refused_{refused.refusal}",
                translation_placeholders=refused.placeholders,
            ) from refused
        if record.outcome is Outcome.FAILED:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="action_failed",
                translation_placeholders={
                    "name": record.subject_name,
                    "entity": record.entity_id,
                    "error": record.error or "-",
                },
            )
        records.append(record)
    return {"actions": [_response(record) for record in records]}


def _response(record: ActionRecord) -> JsonObjectType:
    data = action_to_dict(record)
    del data["subject"]  # the player's id carries its MAC address; its name says enough
    return {**data, "helped": record.outcome is Outcome.HELPED}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, whatever the number of households)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_POWER_CYCLE,
        _power_cycle,
        schema=POWER_CYCLE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
