"""The household map: the drawing of each household shape, and a redraw only on a change.

End to end: real HA draws the emulated household after real polls over HTTP; the image is
read as the frontend reads it (the image component's own access path).
"""

from collections.abc import Callable
from unittest.mock import patch

from homeassistant.components.image import async_get_image
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.sonos_troubleshooter import topology_events
from custom_components.sonos_troubleshooter.sonos_health.household_map import (
    MapHousehold,
    MapPlayer,
    Mark,
    draw,
)
from sonos_emulator import Emulator, Fault
from tests.helpers import poll, state

MAP = "image.sonos_household_map"


@pytest.fixture
def household(emulator: Emulator) -> Emulator:
    """A home theatre, a stereo pair, a BOOST, a wired Amp and a Roam on 5 GHz.

    Instead of conftest's household: its `config_entry`, `cloud_dns` and `setup_entry` set
    this one up.
    """
    household = emulator.household
    household.add_home_theatre("Living Room")
    household.add_stereo_pair("Office")
    household.add_bridge()
    household.add_player("Kitchen", model_name="Sonos Amp", model_number="S16", wired=True)
    household.add_player(
        "Roam", model_name="Sonos Roam", model_number="S27", portable=True, channel_freq=5220
    )
    return emulator


async def drawing(hass: HomeAssistant) -> str:
    image = await async_get_image(hass, MAP)
    assert image.content_type == "image/svg+xml"
    return image.content.decode()


def theatre_down(home: Emulator) -> None:
    household = home.household
    main = household.player("Living Room")
    for player in [main, *household.bonded(main)]:
        household.set_fault(player.uid, Fault.OFFLINE)


def topology_unknown(home: Emulator) -> None:
    home.household.zone_group_state_error = 501  # and no event comes back


SCENARIOS: dict[str, Callable[[Emulator], object]] = {
    "healthy": lambda home: None,
    "home_theatre_down": theatre_down,
    "roam_asleep": lambda home: home.household.sleep("Roam"),
    "cloud_1003": lambda home: home.cloud.set_cloud_reachable(False),
    "kitchen_1001": lambda home: home.household.set_fault("Kitchen", Fault.OFFLINE),
    "topology_unknown": topology_unknown,
    "kitchen_upnp_off": lambda home: home.household.set_fault("Kitchen", Fault.HTTP_403),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_the_household_as_drawn(
    hass: HomeAssistant,
    household: Emulator,
    setup_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
    scenario: str,
) -> None:
    SCENARIOS[scenario](household)
    with patch.object(topology_events, "FIRST_EVENT_WAIT", 0.1):
        await poll(hass, setup_entry, 2)
    assert await drawing(hass) == snapshot


async def test_a_poll_that_changes_nothing_does_not_redraw(
    hass: HomeAssistant, household: Emulator, setup_entry: MockConfigEntry
) -> None:
    drawn = state(hass, MAP)
    before = await drawing(hass)
    await poll(hass, setup_entry, 3)
    assert state(hass, MAP) == drawn
    assert await drawing(hass) == before

    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry, 2)
    assert state(hass, MAP) != drawn
    assert "1001" in await drawing(hass)


def test_names_are_escaped_and_cut_and_32_players_fit() -> None:
    players = tuple(
        MapPlayer(
            label="Sonos Era 100",
            room=f"Room {number:02d} <& a very long name indeed>" if number == 0 else f"R{number}",
            link="Wi-Fi 5 GHz",
            status="OK",
            mark=Mark.OK,
            order=0,
        )
        for number in range(32)
    )
    svg = draw(
        MapHousehold(
            router="Router",
            cloud="Sonos cloud",
            cloud_status="reachable",
            cloud_mark=Mark.OK,
            players=players,
        )
    )
    assert "Room 00 &lt;&amp; a very long name indee…" in svg
    assert "<&" not in svg
    assert svg.count('<rect class="card" ') == 32 + 2  # the rooms, the router and the cloud
    # Four columns of eight rooms: the drawing stays under 1,000 px high.
    height = int(svg.split('height="', 1)[1].split('"', 1)[0])
    assert height < 1000


@pytest.mark.usefixtures("setup_entry")
async def test_the_map_speaks_home_assistants_language(hass: HomeAssistant) -> None:
    """Changed in the settings, the language redraws the map in its words (phrasebooks)."""
    assert "Sonos cloud" in await drawing(hass)
    drawn = state(hass, MAP)

    await hass.config.async_update(language="de")
    await hass.async_block_till_done()
    german = await drawing(hass)
    for words in ("Sonos-Cloud", "erreichbar", "über Living Room", "Ethernet"):
        assert words in german
    assert state(hass, MAP) != drawn
