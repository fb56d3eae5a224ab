"""Words that change with the language come from the translations, not from code.

A card names how a player connects ("Wi-Fi 2.4 GHz"); in German that is "WLAN 2,4 GHz", with
the decimal comma HA core writes. The words follow Home Assistant's language, at once when the
user changes it.
"""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.sonos_health.error_catalog import PlayerCard
from sonos_emulator import Emulator, Fault
from tests.helpers import poll, uid

# How a 2.4 GHz player's link reads in each language, as a native reader writes it.
LINK_2_4 = {
    "en": "Wi-Fi 2.4 GHz",
    "de": "WLAN 2,4 GHz",
    "fr": "Wi-Fi 2,4\xa0GHz",
    "nl": "wifi 2,4 GHz",
    "es": "Wi-Fi 2,4 GHz",
    "it": "Wi-Fi 2,4 GHz",
}


def card_facts(hass: HomeAssistant, issue_id: str) -> dict[str, str]:
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    return issue.translation_placeholders


@pytest.mark.parametrize("language", list(LINK_2_4))
async def test_a_card_names_the_band_in_home_assistant_s_language(
    hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator, language: str
) -> None:
    household.household.set_fault("Living Room", Fault.OFFLINE)
    await poll(hass, setup_entry, times=2)
    issue_id = f"error_1001_{uid(household, 'Living Room')}"
    assert card_facts(hass, issue_id)["link"] == LINK_2_4["en"]

    # Changing the language rewords the open card at once, without waiting for a poll.
    await hass.config.async_update(language=language)
    await hass.async_block_till_done()
    facts = card_facts(hass, issue_id)
    assert facts["link"] == LINK_2_4[language]
    texts = await async_get_translations(hass, language, "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.{PlayerCard.PLAYER}.fix_flow.step"
    overview = texts[f"{prefix}.init.description"].format(**facts)
    assert f"{facts['address']}, {LINK_2_4[language]})" in overview
    assert "2.4" not in overview if language != "en" else "2,4" not in overview


async def test_the_early_warning_names_a_5_ghz_link_in_the_language(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Three dropouts of the Roam (on 5 GHz), as the watcher sees them between polls."""
    await hass.config.async_update(language="de")
    coordinator = setup_entry.runtime_data.coordinator
    roam = coordinator.household.players[uid(household, "Roam")]
    for _ in range(3):
        for answered in (False, False, True):  # two checks missed: a dropout, then back
            coordinator.household.checked(roam, dt_util.utcnow(), answered=answered)
            freezer.tick(timedelta(seconds=2))
        await poll(hass, setup_entry)
        freezer.tick(timedelta(minutes=10))
    assert card_facts(hass, f"unstable_{roam.uid}")["link"] == "WLAN 5 GHz"
