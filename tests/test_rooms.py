"""Rooms of several players in Home Assistant: device names and roles, and their cards.

A home theatre (Arc, Sub, two rears), a stereo pair, a BOOST and a single speaker, emulated
as real households report them (sonos_emulator/model.py says after which captures).
"""

from collections.abc import Iterator

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.sonos_health.error_catalog import PlayerCard
from sonos_emulator import Emulator, Fault
from tests.helpers import poll, state
from tests.repair_flow import Flow

pytestmark = pytest.mark.usefixtures("instant_checks")


@pytest.fixture
def household(emulator: Emulator) -> Iterator[Emulator]:
    """Living Room: Arc, Sub, two rears; Dining Room: a stereo pair; a BOOST; Kitchen."""
    emulator.household.add_home_theatre("Living Room")
    emulator.household.add_stereo_pair("Dining Room")
    emulator.household.add_bridge()
    emulator.household.add_player("Kitchen", model_name="Sonos One")
    return emulator


def device_names(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """Return each player's device name by its uid."""
    return {
        uid: device.name or ""
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        for domain, uid in device.identifiers
        if domain == DOMAIN and uid.startswith("RINCON_")
    }


def uids(emulator: Emulator) -> dict[str, str]:
    return {player.label: player.uid for player in emulator.household.players}


def cards(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


async def test_devices_are_named_by_room_and_role(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    by_label = uids(household)
    names = device_names(hass, setup_entry)
    assert {label: names[uid] for label, uid in by_label.items()} == {
        "Living Room": "Living Room",
        "Living Room Sub": "Living Room Sub",
        "Living Room Rear Left": "Living Room rear left",
        "Living Room Rear Right": "Living Room rear right",
        "Dining Room Left": "Dining Room left",
        "Dining Room Right": "Dining Room right",
        "BOOST": "BOOST",
        "Kitchen": "Kitchen",
    }
    assert len(set(names.values())) == len(names)
    assert state(hass, "sensor.living_room_role") == "home_theatre"
    assert state(hass, "sensor.living_room_sub_role") == "sub"
    assert state(hass, "sensor.living_room_rear_left_role") == "rear_left"
    assert state(hass, "sensor.dining_room_right_role") == "right"
    assert state(hass, "sensor.boost_role") == "network_device"
    assert state(hass, "sensor.kitchen_role") == "player"
    role = hass.states.get("sensor.living_room_sub_role")
    assert role is not None
    assert role.attributes["room"] == "Living Room"
    assert role.attributes["bonded_with"] == [
        "Living Room",
        "Living Room rear left",
        "Living Room rear right",
    ]
    assert state(hass, "sensor.living_room_sub_error_code") == "ok"


async def test_a_room_named_like_a_role_is_numbered_not_confused(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """A room the user called "Living Room Sub", beside the Living Room's own Sub."""
    sub = household.household.player("Living Room Sub").uid
    room = household.household.add_player("Living Room Sub", model_name="Sonos One").uid
    await poll(hass, setup_entry)
    names = device_names(hass, setup_entry)
    assert names[sub] == "Living Room Sub"  # there first: keeps its name
    assert names[room] == "Living Room Sub 2"
    assert len(set(names.values())) == len(names)


async def test_role_words_in_home_assistants_language(
    hass: HomeAssistant, config_entry: MockConfigEntry, household: Emulator, cloud_dns: None
) -> None:
    hass.config.language = "de"
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    names = device_names(hass, config_entry)
    by_label = uids(household)
    assert names[by_label["Living Room Rear Left"]] == "Living Room hinten links"
    assert names[by_label["Dining Room Right"]] == "Dining Room rechts"


async def test_a_renamed_room_and_a_changed_role_follow_without_reload(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    registry = dr.async_get(hass)
    by_label = uids(household)
    rear = registry.async_get_device_by_identifier(
        (DOMAIN, by_label["Living Room Rear Left"]), setup_entry.entry_id
    )
    assert rear is not None
    registry.async_update_device(rear.id, name_by_user="Couch speaker")

    household.household.rename("Living Room", "Cinema")
    household.household.rename("Kitchen", "Pantry")  # a speaker moved to another room
    await poll(hass, setup_entry)

    names = device_names(hass, setup_entry)
    assert names[by_label["Living Room"]] == "Cinema"
    assert names[by_label["Living Room Sub"]] == "Cinema Sub"
    assert names[by_label["Kitchen"]] == "Pantry"
    renamed = registry.async_get(rear.id)
    assert renamed is not None
    assert renamed.name_by_user == "Couch speaker"  # the user's name stays
    # Entity ids were made from the first names, and stay.
    entities = er.async_get(hass)
    assert entities.async_get_entity_id(
        "sensor", DOMAIN, f"{by_label['Living Room Sub']}_error_code"
    ) == ("sensor.living_room_sub_error_code")
    assert state(hass, "sensor.kitchen_error_code") == "ok"
    role = hass.states.get("sensor.living_room_sub_role")
    assert role is not None
    assert role.attributes["room"] == "Cinema"


async def test_a_fallen_home_theatre_is_one_card_naming_the_main_unit(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    by_label = uids(household)
    household.household.set_fault("Living Room", Fault.OFFLINE)  # its satellites go with it
    await poll(hass, setup_entry, 2)

    theatre = [label for label in by_label if label.startswith("Living Room")]
    assert all(
        state(hass, f"sensor.{label.lower().replace(' ', '_')}_error_code") == "1001"
        for label in theatre
    )
    sub = hass.states.get("sensor.living_room_sub_error_code")
    assert sub is not None
    assert sub.attributes["cause"] == "main_unit_unreachable"
    shown = cards(hass)
    assert set(shown) == {f"error_1001_{by_label['Living Room']}"}
    card = shown[f"error_1001_{by_label['Living Room']}"]
    assert card.translation_key == PlayerCard.HOME_THEATRE
    assert card.translation_placeholders is not None
    assert card.translation_placeholders["name"] == "Living Room"
    assert card.translation_placeholders["satellites"] == (
        "Living Room rear left, Living Room rear right, Living Room Sub"
    )
    assert state(hass, "sensor.sonos_household_diagnosis") == "player_unreachable"

    household.household.heal("Living Room")
    await poll(hass, setup_entry)
    assert cards(hass) == {}
    assert state(hass, "sensor.living_room_sub_error_code") == "ok"


async def test_a_sub_alone_has_its_own_card_and_the_satellite_steps(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, flow: Flow
) -> None:
    sub = household.household.player("Living Room Sub")
    household.household.set_fault(sub.uid, Fault.OFFLINE)
    await poll(hass, setup_entry, 2)

    shown = cards(hass)
    assert set(shown) == {f"error_1001_{sub.uid}"}
    card = shown[f"error_1001_{sub.uid}"]
    assert card.translation_key == PlayerCard.SATELLITE
    assert card.translation_placeholders is not None
    assert card.translation_placeholders["name"] == "Living Room Sub"
    assert card.translation_placeholders["main"] == "Living Room"
    assert card.translation_placeholders["room"] == "Living Room"
    assert state(hass, "sensor.living_room_error_code") == "ok"

    result = await flow.start(f"error_1001_{sub.uid}")
    assert result["description_placeholders"]["name"] == "Living Room Sub"
    result = await flow.choose("start")
    assert result["step_id"] == "power_cycle_speaker"
    result = await flow.choose("skip")
    assert result["step_id"] == "move_closer"  # stay within reach of the soundbar


async def test_a_pair_partner_card_names_its_partner(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    right = household.household.player("Dining Room Right")
    household.household.set_fault(right.uid, Fault.OFFLINE)
    await poll(hass, setup_entry, 2)
    card = cards(hass)[f"error_1001_{right.uid}"]
    assert card.translation_key == PlayerCard.PAIR
    assert card.translation_placeholders is not None
    assert card.translation_placeholders["partners"] == "Dining Room left"

    household.household.heal(right.uid)
    await poll(hass, setup_entry)
    assert cards(hass) == {}


async def test_a_boost_is_probed_with_what_it_answers_and_never_1001_while_it_does(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    boost = household.household.player("BOOST")
    await poll(hass, setup_entry, 3)
    assert state(hass, "sensor.boost_error_code") == "ok"
    assert state(hass, "binary_sensor.boost_network_connectivity") == "on"
    assert not any("GetVolume" in request for request in boost.requests)
    model = hass.states.get("sensor.boost_role")
    assert model is not None
    assert model.state == "network_device"
    assert state(hass, "sensor.boost_wi_fi_band") == "wired"

    household.household.set_fault("BOOST", Fault.OFFLINE)
    await poll(hass, setup_entry, 2)
    card = cards(hass)[f"error_1001_{boost.uid}"]
    # A BOOST hangs on the router's cable: its card is the network device's on a cable (as
    # last reported; its band sensor is unavailable while it is silent).
    assert card.translation_key == PlayerCard.NETWORK_DEVICE_WIRED
    assert state(hass, "sensor.boost_error_code") == "1001"
    assert state(hass, "sensor.boost_wi_fi_band") == "unavailable"


async def test_every_player_down_with_sets_is_still_one_card(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    for player in household.household.players:
        household.household.set_fault(player.uid, Fault.OFFLINE)
    await poll(hass, setup_entry, 2)
    assert set(cards(hass)) == {f"error_1001_all_{household.household.household_id}"}
    sub = hass.states.get("sensor.living_room_sub_error_code")
    assert sub is not None
    assert sub.attributes["cause"] == "all_players_unreachable"
