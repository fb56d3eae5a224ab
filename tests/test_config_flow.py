"""Config, discovery, reconfigure and options flows against the emulated household."""

from collections.abc import Iterator
from contextlib import AbstractContextManager
from ipaddress import ip_address
from unittest.mock import patch

from homeassistant.config_entries import (
    SOURCE_SSDP,
    SOURCE_USER,
    SOURCE_ZEROCONF,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import (
    CONF_CLOUD_TARGETS,
    CONF_HOUSEHOLD_ID,
    CONF_POWER_SWITCHES,
    CONF_REFERENCE_TARGETS,
    CONF_ROUTER_ENTITY,
    CONF_SCAN_INTERVAL,
    CONF_STATUS_URL,
    DOMAIN,
)
from sonos_emulator import Connections, Emulator, Fault
from tests.helpers import open_options, uid
from tests.plugs import PLUG


@pytest.fixture(autouse=True)
def no_setup(request: pytest.FixtureRequest) -> Iterator[None]:
    """Flows are tested on their own; entry setup is tested in test_init.

    A test asking for `setup_entry` gets the integration running (options that need its
    players).
    """
    if "setup_entry" in request.fixturenames:
        yield
        return
    with (
        patch("custom_components.sonos_troubleshooter.async_setup_entry", return_value=True),
        patch("custom_components.sonos_troubleshooter.async_unload_entry", return_value=True),
    ):
        yield


async def test_user_flow_learns_the_household(hass: HomeAssistant, household: Emulator) -> None:
    kitchen = household.household.player("Kitchen")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f" {kitchen.ip} "}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Sonos household"
    assert result["data"] == {
        CONF_HOST: kitchen.ip,
        CONF_HOUSEHOLD_ID: household.household.household_id,
    }
    assert result["result"].unique_id == household.household.household_id


@pytest.mark.parametrize(
    ("fault", "host", "error"),
    [
        (Fault.OFFLINE, None, {"base": "cannot_connect"}),
        (Fault.HANG, None, {"base": "cannot_connect"}),
        (Fault.HTTP_403, None, {"base": "upnp_disabled"}),
        (Fault.NOT_SONOS, None, {"base": "not_sonos"}),
        (Fault.JUNK, None, {"base": "invalid_answer"}),
        (Fault.NONE, "sonos.local", {CONF_HOST: "invalid_host"}),
    ],
)
async def test_user_flow_errors_then_recovers(
    hass: HomeAssistant,
    household: Emulator,
    fault: Fault,
    host: str | None,
    error: dict[str, str],
) -> None:
    kitchen = household.household.set_fault("Kitchen", fault)
    with patch_timeout():
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: host or kitchen.ip}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error

    household.household.heal("Kitchen")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: kitchen.ip}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_household_with_upnp_off_gets_the_clear_error(
    hass: HomeAssistant, household: Emulator
) -> None:
    """Recent firmware ships with the household's one UPnP switch off: say where it is."""
    kitchen = household.household.player("Kitchen")
    household.household.set_upnp(False)  # every player answers the real 403 page
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: kitchen.ip}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "upnp_disabled"}
    discovered = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(kitchen.ip)
    )
    assert (discovered["type"], discovered["reason"]) == (FlowResultType.ABORT, "upnp_disabled")
    texts = await async_get_translations(hass, "en", "config", [DOMAIN])
    for kind in ("error", "abort"):
        text = texts[f"component.{DOMAIN}.config.{kind}.upnp_disabled"]
        assert "Account > Privacy & Security > UPnP" in text
        assert "Settings > System > Network" not in text

    household.household.set_upnp(True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: kitchen.ip}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("connections", [Connections.CLOSES_SILENTLY, Connections.DROPS_IDLE])
async def test_user_flow_with_a_player_that_closes_connections_silently(
    hass: HomeAssistant, household: Emulator, connections: Connections
) -> None:
    """The flow reads the description, then asks the household id at once: both answered.

    The player closes each connection after its answer without saying so (legal); over a
    pooling session the second call went into the closed socket: "cannot connect".
    """
    household.household.set_connections(connections)
    kitchen = household.household.player("Kitchen")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: kitchen.ip}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert kitchen.connection_count == kitchen.request_count == 2


def patch_timeout() -> AbstractContextManager[object]:
    return patch("custom_components.sonos_troubleshooter.config_flow.PROBE_TIMEOUT", 0.5)


def existing_entry(hass: HomeAssistant, household: Emulator) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=household.household.household_id,
        data={CONF_HOST: "127.0.0.99", CONF_HOUSEHOLD_ID: household.household.household_id},
    )
    entry.add_to_hass(hass)
    return entry


async def test_second_add_of_a_household_aborts(hass: HomeAssistant, household: Emulator) -> None:
    existing_entry(hass, household)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: household.household.player("Roam").ip}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def ssdp_info(ip: str) -> SsdpServiceInfo:
    return SsdpServiceInfo(
        ssdp_usn="uuid:RINCON_X::urn:schemas-upnp-org:device:ZonePlayer:1",
        ssdp_st="urn:schemas-upnp-org:device:ZonePlayer:1",
        ssdp_location=f"http://{ip}:1400/xml/device_description.xml",
        upnp={},
    )


def zeroconf_info(ip: str) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address(ip),
        ip_addresses=[ip_address(ip)],
        hostname="Sonos-48A6B8000001.local.",
        name="Sonos-48A6B8000001@Kitchen._sonos._tcp.local.",
        port=1443,
        type="_sonos._tcp.local.",
        properties={},
    )


@pytest.mark.parametrize(
    ("source", "make_info"), [(SOURCE_SSDP, ssdp_info), (SOURCE_ZEROCONF, zeroconf_info)]
)
async def test_discovery_asks_before_adding(
    hass: HomeAssistant, household: Emulator, source: str, make_info: object
) -> None:
    arc = household.household.player("Living Room")
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": source},
        data=make_info(arc.ip),  # type: ignore[operator]
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"] == {
        "name": "Living Room",
        "model": "Sonos Arc",
        "host": arc.ip,
    }

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == arc.ip


async def test_discovery_of_a_known_household_updates_its_address(
    hass: HomeAssistant, household: Emulator
) -> None:
    """An entry that could not reach its household is retried at once, at the new address."""
    entry = existing_entry(hass, household)
    entry.mock_state(hass, ConfigEntryState.SETUP_RETRY)
    roam = household.household.player("Roam")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=ssdp_info(roam.ip)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == roam.ip
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_discovery_of_every_player_leaves_a_working_entry_running(
    hass: HomeAssistant, household: Emulator
) -> None:
    """Each player of the household is discovered at startup: none of them reloads the entry."""
    entry = existing_entry(hass, household)
    assert await hass.config_entries.async_setup(entry.entry_id)
    changes: list[ConfigEntryState] = []
    entry.async_on_state_change(lambda: changes.append(entry.state))
    for player, (source, make_info) in zip(
        household.household.players,
        [(SOURCE_SSDP, ssdp_info), (SOURCE_ZEROCONF, zeroconf_info), (SOURCE_SSDP, ssdp_info)],
        strict=True,
    ):
        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": source},
            data=make_info(player.ip),  # type: ignore[operator]
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert changes == []
    assert entry.state is ConfigEntryState.LOADED
    # The poll reads the address each time it needs it (its last topology source).
    assert entry.data[CONF_HOST] == household.household.players[-1].ip


async def test_discovery_of_something_else_aborts(hass: HomeAssistant, household: Emulator) -> None:
    router = household.household.set_fault("Kitchen", Fault.NOT_SONOS)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=zeroconf_info(router.ip)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_sonos"


async def test_reconfigure(hass: HomeAssistant, household: Emulator) -> None:
    entry = existing_entry(hass, household)
    kitchen = household.household.player("Kitchen")
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "not-an-address"}
    )
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: kitchen.ip}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == kitchen.ip


async def test_reconfigure_refuses_another_household(
    hass: HomeAssistant, household: Emulator
) -> None:
    entry = existing_entry(hass, household)
    with Emulator("Sonos_Neighbour", "127.0.5.2", "127.0.6.1") as other:
        stranger = other.household.add_player("Neighbour")
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: stranger.ip}
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_household"


async def test_options_interval_only(hass: HomeAssistant, household: Emulator) -> None:
    entry = existing_entry(hass, household)
    result = await open_options(hass, entry, "settings")
    assert result["type"] is FlowResultType.FORM
    assert set(result["data_schema"].schema) == {CONF_SCAN_INTERVAL, "advanced"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 30.0, "advanced": {}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 30}


async def test_options_advanced_section(hass: HomeAssistant, household: Emulator) -> None:
    entry = existing_entry(hass, household)
    result = await open_options(hass, entry, "settings")
    good = {
        CONF_CLOUD_TARGETS: ["api.sonos.com:443", " ", "[2001:db8::1]:80"],
        CONF_REFERENCE_TARGETS: ["1.1.1.1:443"],
        CONF_STATUS_URL: " https://status.example.com/api/v2/status.json",
    }

    async def submit(advanced: dict[str, object]) -> ConfigFlowResult:
        return await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: 15, "advanced": advanced}
        )

    result = await submit(
        {**good, CONF_CLOUD_TARGETS: ["api.sonos.com"], CONF_STATUS_URL: "ftp://x/"}
    )
    assert result["errors"] == {
        CONF_CLOUD_TARGETS: "invalid_target",
        CONF_STATUS_URL: "invalid_url",
    }
    result = await submit({**good, CONF_CLOUD_TARGETS: [], CONF_REFERENCE_TARGETS: ["x"]})
    assert result["errors"] == {
        CONF_CLOUD_TARGETS: "no_targets",
        CONF_REFERENCE_TARGETS: "invalid_target",
    }
    result = await submit(good)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_SCAN_INTERVAL: 15,
        CONF_CLOUD_TARGETS: ["api.sonos.com:443", "[2001:db8::1]:80"],
        CONF_REFERENCE_TARGETS: ["1.1.1.1:443"],
        CONF_STATUS_URL: "https://status.example.com/api/v2/status.json",
    }


async def test_options_interval_below_minimum_is_refused(
    hass: HomeAssistant, household: Emulator
) -> None:
    entry = existing_entry(hass, household)
    result = await open_options(hass, entry, "settings")
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: 5, "advanced": {}}
        )
    assert entry.options == {}


async def test_options_power_switch_needs_the_household_running(
    hass: HomeAssistant, household: Emulator
) -> None:
    entry = existing_entry(hass, household)  # not loaded: its players are not known
    result = await open_options(hass, entry, "power_switches")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


@pytest.fixture
def switches(hass: HomeAssistant) -> None:
    """Two switches and a light, as other integrations would provide them."""
    hass.states.async_set("switch.kitchen_plug", "on")
    hass.states.async_set("switch.fritz_box_power", "on")
    hass.states.async_set("light.lamp", "on")
    entity_registry = er.async_get(hass)
    entity_registry.async_get_or_create(
        "button", "fritz", "reboot", suggested_object_id="fritz_box_reboot"
    )
    entity_registry.async_get_or_create("light", "hue", "lamp", suggested_object_id="lamp")


async def test_options_router(hass: HomeAssistant, household: Emulator, switches: None) -> None:
    entry = existing_entry(hass, household)
    result = await open_options(hass, entry, "router")
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"router_entity": "button.gone"}
    )
    assert result["errors"] == {"router_entity": "entity_not_found"}
    bogus = "0123456789abcdef0123456789abcdef"  # a registry id nobody has
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"router_entity": bogus}
    )
    assert result["errors"] == {"router_entity": "entity_not_found"}
    # Registered but not set up yet (the router's integration still starting): accepted.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"router_entity": "button.fritz_box_reboot"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_ROUTER_ENTITY: "button.fritz_box_reboot"}

    result = await open_options(hass, entry, "router")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"router_entity": "switch.fritz_box_power"}
    )
    assert entry.options == {CONF_ROUTER_ENTITY: "switch.fritz_box_power"}
    result = await open_options(hass, entry, "router")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {}


async def test_choosing_a_plug_in_the_options(
    hass: HomeAssistant, plugs: None, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """The options flow lists the household's players and checks the plug chosen."""
    kitchen = uid(household, "Kitchen")
    options = hass.config_entries.options
    result = await open_options(hass, setup_entry, "power_switches")
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"] == {"assigned": "-"}
    players = result["data_schema"].schema["player"].config["options"]
    assert [option["label"] for option in players] == ["Kitchen", "Living Room", "Roam"]

    hass.states.async_set("light.lamp", "on")
    with pytest.raises(InvalidData):  # the selector: a plug is a switch
        await options.async_configure(
            result["flow_id"], {"player": kitchen, "power_switch": "light.lamp"}
        )
    lamp = er.async_get(hass).async_get_or_create("light", "hue", "lamp")
    result = await options.async_configure(  # a registry id passes the selector unchecked
        result["flow_id"], {"player": kitchen, "power_switch": lamp.id}
    )
    assert result["errors"] == {"power_switch": "wrong_domain"}
    result = await options.async_configure(
        result["flow_id"], {"player": kitchen, "power_switch": "switch.gone"}
    )
    assert result["errors"] == {"power_switch": "entity_not_found"}
    result = await options.async_configure(
        result["flow_id"], {"player": kitchen, "power_switch": PLUG}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert setup_entry.options[CONF_POWER_SWITCHES] == {kitchen: PLUG}

    result = await open_options(hass, setup_entry, "power_switches")  # the entry reloaded
    assert result["description_placeholders"] == {"assigned": f"Kitchen: {PLUG}"}
    result = await options.async_configure(result["flow_id"], {"player": kitchen})
    assert result["type"] is FlowResultType.CREATE_ENTRY  # left empty: the plug is removed
    await hass.async_block_till_done()
    assert setup_entry.options[CONF_POWER_SWITCHES] == {}
