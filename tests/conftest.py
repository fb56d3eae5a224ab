"""Fixtures shared by the whole suite."""

from collections.abc import Iterator
from pathlib import Path
from unittest.mock import PropertyMock, patch

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import pytest_socket
from syrupy.assertion import SnapshotAssertion

from custom_components.sonos_troubleshooter import repairs
from custom_components.sonos_troubleshooter.const import (
    CONF_CLOUD_TARGETS,
    CONF_HOUSEHOLD_ID,
    CONF_REFERENCE_TARGETS,
    CONF_SCAN_INTERVAL,
    CONF_STATUS_URL,
    DOMAIN,
)
from custom_components.sonos_troubleshooter.watcher import Watcher
from sonos_emulator import Emulator
from tests.plugs import async_setup_plugs
from tests.repair_flow import Flow


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/sonos_troubleshooter in every test."""


@pytest.fixture(autouse=True)
def loopback_only() -> None:
    """Real sockets, but to loopback only: connect() anywhere outside 127.0.0.0/8 raises.

    pytest-homeassistant-custom-component allows 127.0.0.1 alone; emulated players live on
    127.0.0.2 and up, as real players each have their own address.
    """
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.0/8"], allow_unix_socket=True)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create entities that are disabled by default (diagnostic repeats) enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots as HA core takes them: registry ids and state times left out, in tests/snapshots/."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """An empty household and a healthy simulated internet, torn down after the test."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def household(emulator: Emulator) -> Emulator:
    """Three players: a soundbar on Wi-Fi, a wired amp and a portable on 5 GHz.

    The amp reports its cable as real ones do (home-assistant/core#168015): a Wi-Fi channel
    too, `EthLink="1"`; its cards are a wired player's.
    """
    emulator.household.add_player("Living Room", model_name="Sonos Arc", model_number="S19")
    emulator.household.add_player("Kitchen", model_name="Sonos Amp", model_number="S16", wired=True)
    emulator.household.add_player(
        "Roam", model_name="Sonos Roam", model_number="S27", portable=True, channel_freq=5220
    )
    return emulator


@pytest.fixture(autouse=True)
def short_probe_timeout() -> Iterator[None]:
    """Probes give up after half a second, so hung players cost tests little time."""
    with patch("custom_components.sonos_troubleshooter.coordinator.PROBE_TIMEOUT", 0.5):
        yield


@pytest.fixture(autouse=True)
def back_to_back_polls() -> Iterator[None]:
    """Tests poll back to back (in production polls begin at least 4 s apart)."""
    with patch("custom_components.sonos_troubleshooter.coordinator.POLL_GAP", 0):
        yield


@pytest.fixture(autouse=True)
def no_watcher(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests poll when they ask; the watcher's own tests (marked `watcher`) let it run."""
    if request.node.get_closest_marker("watcher"):
        yield
        return
    with patch.object(Watcher, "follow"):
        yield


@pytest.fixture
def cloud_dns(emulator: Emulator) -> Iterator[None]:
    """Cloud host names resolve through the emulator's resolver instead of the internet."""
    with patch(
        "custom_components.sonos_troubleshooter.sonos_health.cloud_client.resolve_host",
        emulator.cloud.resolver.resolve,
    ):
        yield


@pytest.fixture
def config_entry(household: Emulator) -> MockConfigEntry:
    """A config entry for the emulated household, probing the emulated cloud."""
    first = household.household.players[0]
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sonos household",
        unique_id=household.household.household_id,
        data={CONF_HOST: first.ip, CONF_HOUSEHOLD_ID: household.household.household_id},
        options={
            CONF_SCAN_INTERVAL: 10,
            CONF_CLOUD_TARGETS: household.cloud.cloud_targets,
            CONF_REFERENCE_TARGETS: household.cloud.reference_targets,
            CONF_STATUS_URL: household.cloud.status_page.url,
        },
    )


@pytest.fixture
async def setup_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry, cloud_dns: None
) -> MockConfigEntry:
    """The integration set up against the emulated household."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--browser` runs tests/test_browser.py (real HA and Chromium); .ci/run always does."""
    parser.addoption(
        "--browser", action="store_true", help="also run the browser test (needs --browser setup)"
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave the browser test out unless asked for (`scripts/setup --browser` installs Playwright)."""
    if collection_path.name == "test_browser.py" and not config.getoption("--browser"):
        return True
    return None


@pytest.fixture
def instant_checks() -> Iterator[None]:
    """Checks of a repair flow end with their poll; the minimum time on screen has its test."""
    with patch.object(repairs, "CHECK_SHOWN_FOR_SECONDS", 0):
        yield


@pytest.fixture
async def flow(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> Flow:
    """A repair flow client, with the repairs integration (and its HTTP API) set up."""
    assert await async_setup_component(hass, "repairs", {})
    return Flow(hass, await hass_client())


@pytest.fixture
async def plugs(hass: HomeAssistant) -> None:
    """Kitchen's plug, a power strip, a dead plug and the router's restart button (tests/plugs.py)."""
    await async_setup_plugs(hass)
