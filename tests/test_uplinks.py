"""How players reach the network, end to end in Home Assistant against the emulator.

A wired Amp reports its cable as a real 94.1 one does (home-assistant/core#168015: a Wi-Fi
channel too, `EthLink="1"`); a home theatre's rears report the soundbar's own link
(`WirelessMode="2" ConnectionType="6" ChannelFreq="5660"`, Oszkar/oto's capture). Neither
is shown as a Wi-Fi band, the Amp's card has the cable's steps, and the topology is never
asked of a satellite while another player can tell it (SoCo/SoCo#913).
"""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import requests

from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.sonos_health.error_catalog import (
    CABLE_STEPS,
    PlayerCard,
    steps_for,
)
from custom_components.sonos_troubleshooter.sonos_health.error_rules import ErrorCode
from sonos_emulator import Emulator, Fault
from tests.helpers import poll, state
from tests.repair_flow import Flow

pytestmark = pytest.mark.usefixtures("instant_checks")

ZONE_GROUP_STATE = "POST /ZoneGroupTopology/Control#GetZoneGroupState"


@pytest.fixture
def household(emulator: Emulator) -> Emulator:
    """Living Room: an Arc on Wi-Fi with a Sub and two rears; Office: a wired Amp; Kitchen."""
    emulator.household.add_home_theatre("Living Room")
    emulator.household.add_player("Office", model_name="Sonos Amp", model_number="S16", wired=True)
    emulator.household.add_player("Kitchen", model_name="Sonos One", channel_freq=5180)
    return emulator


def topology_of(ip: str) -> str:
    """The ZoneGroupState a player serves, as text (escaped inside the SOAP answer)."""
    answer = requests.post(
        f"http://{ip}:1400/ZoneGroupTopology/Control",
        data=(
            '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            '<u:GetZoneGroupState xmlns:u="urn:schemas-upnp-org:service:ZoneGroupTopology:1"/>'
            "</s:Body></s:Envelope>"
        ),
        headers={
            "SOAPACTION": '"urn:schemas-upnp-org:service:ZoneGroupTopology:1#GetZoneGroupState"'
        },
        timeout=2,
    )
    return answer.text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")


async def test_the_band_sensor_shows_wi_fi_only_for_wi_fi(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    office = household.household.player("Office")
    document = topology_of(office.ip)
    # What the players report: the Amp a 2.4 GHz channel beside its cable, the rears the
    # soundbar's 5 GHz link.
    assert 'WirelessMode="0" ConnectionType="1" ChannelFreq="2437"' in document
    assert 'WirelessMode="2" ConnectionType="6" ChannelFreq="5660"' in document
    assert state(hass, "sensor.office_wi_fi_band") == "wired"
    assert state(hass, "sensor.living_room_wi_fi_band") == "2_4_ghz"
    assert state(hass, "sensor.kitchen_wi_fi_band") == "5_ghz"
    for satellite in ("sub", "rear_left", "rear_right"):
        assert state(hass, f"sensor.living_room_{satellite}_wi_fi_band") == "main_unit"


async def test_a_wired_amp_gets_the_cable_steps_and_no_wi_fi(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    office = household.household.player("Office")
    household.household.set_fault("Office", Fault.OFFLINE)
    await poll(hass, setup_entry, times=2)
    error = hass.states.get("sensor.office_error_code")
    assert error is not None
    assert error.state == "1001"
    assert error.attributes["first_step"] == "check_link_lights"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{office.uid}")
    assert issue is not None
    assert issue.translation_key == PlayerCard.PLAYER_WIRED
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["link"] == "Ethernet"

    texts = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.{PlayerCard.PLAYER_WIRED}"
    title = texts[f"{prefix}.title"].format(**issue.translation_placeholders)
    assert title == "Office cannot reach the network over its cable (Sonos error 1001)"
    result = await flow.start(issue.issue_id)
    facts = result["description_placeholders"]
    overview = texts[f"{prefix}.fix_flow.step.init.description"].format(**facts)
    assert f"Office (Sonos Amp, address {office.ip}, on a network cable)" in overview
    assert "GHz" not in overview
    assert "Wi-Fi router" not in overview
    assert "closer to the router" not in overview

    steps = steps_for(ErrorCode.E1001, card=PlayerCard.PLAYER_WIRED)
    result = await flow.choose("start")
    seen = []
    while result["step_id"] != "escalate":
        seen.append(result["step_id"])
        page = texts[f"{prefix}.fix_flow.step.{result['step_id']}.description"]
        assert "GHz" not in page.format(**result["description_placeholders"])
        result = await flow.choose("skip")
    assert seen == list(steps)
    assert seen[: len(CABLE_STEPS)] == list(CABLE_STEPS)
    # Every documented step that fits a cable is kept, in the documented order.
    assert seen[len(CABLE_STEPS) :] == ["power_cycle_speaker", "restart_router", "factory_reset"]


async def test_a_rear_that_drops_alone_gets_no_band_and_no_2_4_ghz_step(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    rear = household.household.player("Living Room Rear Left")
    household.household.set_fault("Living Room Rear Left", Fault.OFFLINE)
    await poll(hass, setup_entry, times=2)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"error_1001_{rear.uid}")
    assert issue is not None
    assert issue.translation_key == PlayerCard.SATELLITE
    assert issue.translation_placeholders is not None
    texts = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.{PlayerCard.SATELLITE}"
    result = await flow.start(issue.issue_id)
    overview = texts[f"{prefix}.fix_flow.step.init.description"].format(
        **result["description_placeholders"]
    )
    assert "(Sonos Era 100, address" in overview
    assert "linked to Living Room, not to your Wi-Fi" in overview
    assert "GHz" not in overview  # neither its 5660 MHz link nor the 2.4 GHz step
    result = await flow.choose("start")
    seen = []
    while result["step_id"] != "escalate":
        seen.append(result["step_id"])
        result = await flow.choose("skip")
    assert seen == list(steps_for(ErrorCode.E1001, card=PlayerCard.SATELLITE))
    assert "enable_2_4_ghz" not in seen


async def test_the_topology_is_never_asked_of_a_satellite_while_another_player_answers(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """The soundbar answers slowly, so each poll asks the next source: never a satellite.

    Its satellites join the household right after it, so before they were left out they were
    the next sources in line. (The soundbar's own topology call waits behind its slow probe,
    one exchange per address, and the next source answers first.)
    """
    players = household.household
    soundbar = players.player("Living Room")
    assert setup_entry.data["host"] == soundbar.ip
    satellites = players.bonded(soundbar)
    players.set_fault("Living Room", Fault.SLOW, delay=0.3)  # within the 0.5 s timeout
    for player in players:
        player.requests.clear()
    await poll(hass, setup_entry, times=3)

    assert state(hass, "sensor.living_room_error_code") == "ok"  # slow, not silent
    coordinator = setup_entry.runtime_data.coordinator
    assert coordinator.household.topology_sources(soundbar.ip) == [
        soundbar.ip,
        players.player("Office").ip,
        players.player("Kitchen").ip,
    ]
    asked = [player.label for player in players if ZONE_GROUP_STATE in player.requests]
    assert set(asked) & {"Office", "Kitchen"}  # the hedge went on to another player
    assert not [player.label for player in satellites if ZONE_GROUP_STATE in player.requests]
