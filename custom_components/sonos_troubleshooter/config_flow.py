"""Config, discovery, reconfigure and options flows for Sonos Troubleshooter."""

from typing import Any
from urllib.parse import urlparse

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, callback, split_entity_id
from homeassistant.data_entry_flow import section
from homeassistant.helpers import entity_registry as er, selector
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.util.network import is_ipv4_address
import probatio

from .const import (
    CONF_CLOUD_TARGETS,
    CONF_HOUSEHOLD_ID,
    CONF_POWER_SWITCHES,
    CONF_REFERENCE_TARGETS,
    CONF_ROUTER_ENTITY,
    CONF_SCAN_INTERVAL,
    CONF_STATUS_URL,
    DEFAULT_CLOUD_TARGETS,
    DEFAULT_REFERENCE_TARGETS,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_STATUS_URL,
    DOMAIN,
    MIN_SCAN_INTERVAL,
)
from .player_session import async_get_player_session
from .runtime_data import SonosTroubleshooterConfigEntry
from .sonos_health.cloud_client import parse_target
from .sonos_health.player_client import (
    PlayerInfo,
    ProbeFailure,
    SonosError,
    fetch_household_id,
    fetch_player_info,
)
from .sonos_health.timing import PROBE_TIMEOUT

# Form errors by failure; soco 0.31 addresses players by IPv4 literal only.
ERRORS = {
    ProbeFailure.NO_ANSWER: "cannot_connect",
    ProbeFailure.TIMEOUT: "cannot_connect",
    ProbeFailure.UPNP_DISABLED: "upnp_disabled",
    ProbeFailure.INVALID_ANSWER: "invalid_answer",
    ProbeFailure.NOT_SONOS: "not_sonos",
}
SECTION_ADVANCED = "advanced"
CONF_PLAYER = "player"
CONF_POWER_SWITCH = "power_switch"
TARGET_KEYS = (CONF_CLOUD_TARGETS, CONF_REFERENCE_TARGETS)
HOST_SCHEMA = probatio.Schema({probatio.Required(CONF_HOST): selector.TextSelector()})


async def read_player(hass: HomeAssistant, host: str) -> tuple[PlayerInfo, str]:
    """Return the player at `host` and its household id; raise SonosError if it is not one."""
    session = async_get_player_session(hass)
    info = await fetch_player_info(session, host, PROBE_TIMEOUT)
    household_id = await fetch_household_id(session, host, PROBE_TIMEOUT)
    return info, household_id


class SonosTroubleshooterConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a household by the address of any one of its players."""

    VERSION = 1

    def __init__(self) -> None:
        """Remember the discovered player between the discovery and confirm steps."""
        self._host = ""
        self._info: PlayerInfo | None = None

    async def _async_validate(self, host: str) -> tuple[dict[str, str], str | None]:
        """Read the player; return form errors, or none and the household id."""
        if not is_ipv4_address(host):
            return {CONF_HOST: "invalid_host"}, None
        try:
            self._info, household_id = await read_player(self.hass, host)
        except SonosError as error:
            return {"base": ERRORS[error.failure]}, None
        return {}, household_id

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the address of a player."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            errors, household_id = await self._async_validate(host)
            if household_id is not None:
                await self.async_set_unique_id(household_id)
                self._abort_if_unique_id_configured()
                return self._async_create(host, household_id)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(HOST_SCHEMA, user_input),
            errors=errors,
        )

    def _async_create(self, host: str, household_id: str) -> ConfigFlowResult:
        return self.async_create_entry(
            title="Sonos household",
            data={CONF_HOST: host, CONF_HOUSEHOLD_ID: household_id},
        )

    async def _async_discovered(self, host: str) -> ConfigFlowResult:
        errors, household_id = await self._async_validate(host)
        if household_id is None:
            return self.async_abort(reason=next(iter(errors.values())))
        await self.async_set_unique_id(household_id)
        # Every player of a household is discovered, so a reload per discovery would restart
        # a working entry once per player. The poll reads the host each time (as the last
        # address to ask for the topology), and Home Assistant retries an entry still
        # failing its setup at once.
        self._abort_if_unique_id_configured(updates={CONF_HOST: host}, reload_on_update=False)
        self._host = host
        assert self._info is not None
        self.context["title_placeholders"] = {"name": self._info.name}
        return await self.async_step_discovery_confirm()

    async def async_step_ssdp(self, discovery_info: SsdpServiceInfo) -> ConfigFlowResult:
        """Handle a player found by SSDP (ZonePlayer:1)."""
        return await self._async_discovered(
            urlparse(str(discovery_info.ssdp_location or "")).hostname or ""
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Handle a player found by zeroconf (_sonos._tcp.local.)."""
        return await self._async_discovered(str(discovery_info.ip_address))

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before watching a discovered household."""
        assert self._info is not None
        assert self.unique_id is not None
        if user_input is not None:
            return self._async_create(self._host, self.unique_id)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={
                "name": self._info.name,
                "model": self._info.model_name,
                "host": self._host,
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address used to find the household."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            errors, household_id = await self._async_validate(host)
            if household_id is not None:
                await self.async_set_unique_id(household_id)
                self._abort_if_unique_id_mismatch(reason="wrong_household")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_HOST: host})
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                HOST_SCHEMA, user_input or {CONF_HOST: entry.data[CONF_HOST]}
            ),
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: SonosTroubleshooterConfigEntry,
    ) -> SonosTroubleshooterOptionsFlow:
        """Return the options flow."""
        return SonosTroubleshooterOptionsFlow()


def _target_list(value: list[str]) -> list[str]:
    return [item.strip() for item in value if item.strip()]


class SonosTroubleshooterOptionsFlow(OptionsFlowWithReload):
    """Polling and probes; the plugs and the router Home Assistant may fix things with."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer each group of options."""
        return self.async_show_menu(
            step_id="init", menu_options=["settings", "power_switches", "router"]
        )

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Poll interval, and in a collapsed section what is probed to judge the cloud."""
        errors: dict[str, str] = {}
        if user_input is not None:
            advanced = user_input.get(SECTION_ADVANCED, {})
            options = {
                **self.config_entry.options,
                CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                **{key: _target_list(advanced[key]) for key in TARGET_KEYS if key in advanced},
            }
            if CONF_STATUS_URL in advanced:
                options[CONF_STATUS_URL] = advanced[CONF_STATUS_URL].strip()
            errors = _option_errors(options)
            if not errors:
                return self.async_create_entry(data=options)

        current = {
            CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL,
            CONF_CLOUD_TARGETS: list(DEFAULT_CLOUD_TARGETS),
            CONF_REFERENCE_TARGETS: list(DEFAULT_REFERENCE_TARGETS),
            CONF_STATUS_URL: DEFAULT_STATUS_URL,
            **self.config_entry.options,
        }
        if user_input is not None:
            current = {**current, **user_input, **user_input.get(SECTION_ADVANCED, {})}
        targets = selector.TextSelector(selector.TextSelectorConfig(multiple=True))
        schema = probatio.Schema(
            {
                probatio.Required(CONF_SCAN_INTERVAL): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=MIN_SCAN_INTERVAL,
                        max=3600,
                        step=1,
                        unit_of_measurement="s",
                        mode=selector.NumberSelectorMode.BOX,
                    )
                ),
                probatio.Required(SECTION_ADVANCED): section(
                    probatio.Schema(
                        {
                            probatio.Optional(CONF_CLOUD_TARGETS): targets,
                            probatio.Optional(CONF_REFERENCE_TARGETS): targets,
                            probatio.Optional(CONF_STATUS_URL): selector.TextSelector(
                                selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
                            ),
                        }
                    ),
                    {"collapsed": True},
                ),
            }
        )
        suggested = {
            CONF_SCAN_INTERVAL: current[CONF_SCAN_INTERVAL],
            SECTION_ADVANCED: {key: current[key] for key in (*TARGET_KEYS, CONF_STATUS_URL)},
        }
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_power_switches(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the smart plug that feeds a player, so its power cycle can be done for you."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        players = self.config_entry.runtime_data.coordinator.data.players  # named as devices
        switches: dict[str, str] = dict(self.config_entry.options.get(CONF_POWER_SWITCHES, {}))
        errors: dict[str, str] = {}
        if user_input is not None:
            uid = user_input[CONF_PLAYER]
            entity_id, error = _chosen_entity(
                self.hass, user_input.get(CONF_POWER_SWITCH, ""), ("switch",)
            )
            if error:
                errors[CONF_POWER_SWITCH] = error
            else:
                if entity_id:
                    switches[uid] = entity_id
                else:
                    switches.pop(uid, None)
                return self.async_create_entry(
                    data={**self.config_entry.options, CONF_POWER_SWITCHES: switches}
                )
        schema = probatio.Schema(
            {
                probatio.Required(CONF_PLAYER): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(value=uid, label=player.name)
                            for uid, player in sorted(
                                players.items(), key=lambda item: item[1].name
                            )
                        ],
                        mode=selector.SelectSelectorMode.DROPDOWN,
                    )
                ),
                probatio.Optional(CONF_POWER_SWITCH): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain="switch")
                ),
            }
        )
        assigned = [
            f"{players[uid].name}: {entity_id}"
            for uid, entity_id in switches.items()
            if uid in players
        ]
        return self.async_show_form(
            step_id="power_switches",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
            description_placeholders={"assigned": ", ".join(sorted(assigned)) or "-"},
        )

    async def async_step_router(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the router's restart button or power switch."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id, error = _chosen_entity(
                self.hass, user_input.get(CONF_ROUTER_ENTITY, ""), ("button", "switch")
            )
            if error:
                errors[CONF_ROUTER_ENTITY] = error
            else:
                options = {**self.config_entry.options, CONF_ROUTER_ENTITY: entity_id}
                if not entity_id:
                    del options[CONF_ROUTER_ENTITY]
                return self.async_create_entry(data=options)
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_ROUTER_ENTITY): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain=["button", "switch"])
                ),
            }
        )
        return self.async_show_form(
            step_id="router",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or dict(self.config_entry.options)
            ),
            errors=errors,
        )


def _chosen_entity(
    hass: HomeAssistant, value: str, domains: tuple[str, ...]
) -> tuple[str, str | None]:
    """Return the entity chosen and a form error when Home Assistant could not act with it.

    The selector checks the domain of an entity id, but also accepts an entity registry id
    unchecked (and a value can come from the API); empty means "none".
    """
    if not value:
        return "", None
    registry = er.async_get(hass)
    entity_id = er.async_resolve_entity_id(registry, value)
    if entity_id is None:
        return value, "entity_not_found"
    if split_entity_id(entity_id)[0] not in domains:
        return entity_id, "wrong_domain"
    if hass.states.get(entity_id) is None and registry.async_get(entity_id) is None:
        return entity_id, "entity_not_found"
    return entity_id, None


def _option_errors(options: dict[str, Any]) -> dict[str, str]:
    """Return form errors for options that cannot work (field -> translation key)."""
    errors: dict[str, str] = {}
    for key in TARGET_KEYS:
        try:
            for target in options.get(key, ()):
                parse_target(target)
        except ValueError:
            errors[key] = "invalid_target"
    if CONF_CLOUD_TARGETS in options and not options[CONF_CLOUD_TARGETS]:
        errors[CONF_CLOUD_TARGETS] = "no_targets"
    url = urlparse(str(options.get(CONF_STATUS_URL, DEFAULT_STATUS_URL)))
    if url.scheme not in ("http", "https") or not url.hostname:
        errors[CONF_STATUS_URL] = "invalid_url"
    return errors
