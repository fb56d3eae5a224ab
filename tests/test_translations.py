"""Every language is complete, keeps every placeholder, and renders whole repair cards."""

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.components import sonos
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.sonos_health.error_catalog import PlayerCard, steps_for
from custom_components.sonos_troubleshooter.sonos_health.error_rules import ErrorCode
from sonos_emulator import Emulator
from tests.helpers import switch_off
from tests.repair_flow import Flow
from tools import build_strings

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "custom_components" / DOMAIN / "translations"
PHRASES = ROOT / "phrasebooks"
LANGUAGES = ("de", "es", "fr", "it", "nl")  # besides English; docs/configuration.md lists them
PLACEHOLDER = re.compile(r"\{\w+\}|\[\[\w+\]\]")
HTML_TAG = re.compile(r"<[a-zA-Z/]")  # any tag opening, closed or not
QUOTED_PLACEHOLDER = re.compile(r"['\"]\{\w+\}['\"]")
TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")  # hassfest's


def load(path: Path) -> dict[str, Any]:
    tree: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return tree


def leaves(tree: dict[str, Any], path: str = "") -> dict[str, str]:
    """Flatten a translation tree to {"a.b.c": text}."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= leaves(value, f"{path}{key}.")
        else:
            flat[f"{path}{key}"] = value
    return flat


def differences(english: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """What a translation misses, adds, or does to placeholders, compared with English."""
    source, target = leaves(english), leaves(other)
    found = [f"missing: {key}" for key in source.keys() - target.keys()]
    found += [f"not in English: {key}" for key in target.keys() - source.keys()]
    for key in source.keys() & target.keys():
        wanted, got = (
            sorted(PLACEHOLDER.findall(source[key])),
            sorted(PLACEHOLDER.findall(target[key])),
        )
        if wanted != got:
            found.append(f"placeholders of {key}: {got}, English has {wanted}")
    return sorted(found)


def test_the_shipped_languages() -> None:
    shipped = {path.stem for path in TRANSLATIONS.glob("*.json")}
    assert shipped == {"en", *LANGUAGES}
    assert build_strings.languages() == ["en", *sorted(LANGUAGES)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_has_every_key_and_placeholder(language: str) -> None:
    english = load(TRANSLATIONS / "en.json")
    assert differences(english, load(TRANSLATIONS / f"{language}.json")) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_phrase_book_has_every_phrase_and_slot(language: str) -> None:
    english = load(PHRASES / "en.json")
    assert differences(english, load(PHRASES / f"{language}.json")) == []


def test_differences_finds_what_a_translator_can_get_wrong() -> None:
    english = {"a": "Hello {name}", "b": {"c": "Step [[title]]"}}
    broken = {"a": "Hallo {naam}", "b": {"d": "x"}}
    assert differences(english, broken) == [
        "missing: b.c",
        "not in English: b.d",
        "placeholders of a: ['{naam}'], English has ['{name}']",
    ]


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_translation_is_built_from_its_phrase_book(language: str) -> None:
    committed = (TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")
    assert committed == build_strings.rendered(language), (
        "run: scripts/exec python tools/build_strings.py"
    )


def test_english_follows_hassfest_schema() -> None:
    """Keys hassfest accepts; each repair issue has a title and either text or a fix flow."""
    english = load(TRANSLATIONS / "en.json")
    assert english == load(TRANSLATIONS.parent / "strings.json")
    for key in leaves({k: v for k, v in english.items() if k != "issues"}):
        for part in key.split("."):
            assert TRANSLATION_KEY.match(part) or part.isdigit(), key
    for issue_id, issue in english["issues"].items():
        assert issue["title"], issue_id
        # Every error's card is fixable; the early warnings and the unreadable topology are
        # cards to read.
        readable = issue_id.startswith("unstable_connection") or issue_id == "topology_unknown"
        assert set(issue) == {"title", "description" if readable else "fix_flow"}, issue_id


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_texts_follow_hassfest_rules(language: str) -> None:
    """No HTML, raw URLs, quoted placeholders or stray whitespace (links are placeholders)."""
    for key, text in leaves(load(TRANSLATIONS / f"{language}.json")).items():
        assert text, key
        assert text == text.strip(), key
        assert not HTML_TAG.search(text), key
        assert "http://" not in text, key
        assert "https://" not in text, key
        assert not QUOTED_PLACEHOLDER.search(text), key


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("name", "card"), [("Living Room", "error_1001"), ("Kitchen", "error_1001_wired")]
)
async def test_repair_card_in_each_language(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    household: Emulator,
    flow: Flow,
    language: str,
    name: str,
    card: str,
) -> None:
    """Render the 1001 card and its step pages through HA's translation loader.

    Of a player on Wi-Fi, and of the wired Kitchen, whose card words some steps its own way.
    """
    issue_id = await switch_off(hass, setup_entry, household, name)
    player = household.household.player(name)
    translations = await async_get_translations(hass, language, "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.{card}"
    book = load(PHRASES / f"{language}.json")
    wired = PlayerCard(card).wired
    steps = {**book["steps"]["1001"], **(book["wired_1001"]["steps"] if wired else {})}
    steps = {
        step: str(build_strings.with_paths(text, book["paths"])) for step, text in steps.items()
    }
    documented = steps_for(ErrorCode.E1001, card=PlayerCard(card))
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == card
    assert issue.translation_placeholders is not None
    title = translations[f"{prefix}.title"].format(**issue.translation_placeholders)
    assert name in title
    assert (
        "Wi-Fi" not in title
        if wired
        else title != f"{name} cannot reach the Wi-Fi network (Sonos error 1001)"
    )

    result = await flow.start(issue_id)
    overview = translations[f"{prefix}.fix_flow.step.init.description"].format(
        **result["description_placeholders"]
    )
    assert name in overview
    assert player.serial in overview
    for step in documented:
        assert steps[step] in overview, step

    result = await flow.choose("start")
    for step in documented:
        assert result["step_id"] == step
        page = translations[f"{prefix}.fix_flow.step.{step}.description"].format(
            **result["description_placeholders"]
        )
        assert steps[step] in page
        assert "{" not in page
        result = await flow.choose("skip")
    assert result["step_id"] == "escalate"
    escalation = translations[f"{prefix}.fix_flow.step.escalate.description"].format(
        **result["description_placeholders"]
    )
    assert f"`{player.serial}`" in escalation


# " > " between menu names; not between `yaml:` keys in backticks.
MENU_STEP = re.compile(r"(?<!`) > (?!`)")
CORE_SONOS = Path(sonos.__file__).parent / "translations"


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_every_path_is_one_the_phrase_book_lists(language: str) -> None:
    """Where a setting is (the app's UPnP switch, a factory reset, HA's pages) is written once.

    A wrong path once reached the setup form in every language while the cards had the right
    one. Texts now name a path by key; one written out by hand cannot come back.
    """
    phrases = build_strings.phrase_book(language)
    paths = phrases.pop("paths")
    assert paths.keys() == build_strings.phrase_book("en")["paths"].keys()
    texts = json.dumps(phrases, ensure_ascii=False)
    assert not MENU_STEP.findall(texts), "a path written out: add it to `paths`"
    assert set(build_strings.PATH.findall(texts)) == set(paths)  # none unknown, none unused
    # The plug's place in the options ends with the options menu's own label.
    menu = phrases["static"]["options"]["step"]["init"]["menu_options"]
    assert paths["ha_plug_options"].endswith(f" > {menu['power_switches']}")

    shipped = leaves(load(TRANSLATIONS / f"{language}.json"))
    longest_first = sorted(paths.values(), key=len, reverse=True)
    for key, text in shipped.items():
        rest = text
        for path in longest_first:
            rest = rest.replace(path, "")
        assert not MENU_STEP.findall(rest), key
    for key in ("config.error.upnp_disabled", "config.abort.upnp_disabled"):
        assert paths["sonos_upnp"] in shipped[key], key


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_the_upnp_switch_is_where_ha_core_s_sonos_integration_says(language: str) -> None:
    """The only localized wording of the app's menus we found public is HA core's own card.

    A user with both integrations reads one path. (Sonos' support article in English says
    Account > Privacy & Security; the localized app's labels are not published where we
    could check them: see docs.)
    """
    path = build_strings.phrase_book(language)["paths"]["sonos_upnp"]
    core = load(CORE_SONOS / f"{language}.json")["issues"]["upnp_disabled"]["description"]
    core = core.replace(" → ", " > ")
    assert (path.replace(" & ", " and ") if language == "en" else path) in core


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_the_1001_causes_name_the_5_ghz_band(language: str) -> None:
    """The documented cause is a 5 GHz band the speaker does not support, not any band.

    In the causes of every 1001 card and in the unstable-connection card (which quotes the
    two causes a connection that comes and goes fits).
    """
    phrases = build_strings.phrase_book(language)
    five = re.compile(r"5[\s-]?GHz")
    assert five.search(phrases["causes_1001"]), language
    assert five.search(phrases["unstable_connection"]["description"]), language


# HA core's entity names stay short enough for a tile card and a list row.
ENTITY_NAME_LIMIT = 40
# Words English capitalises inside a sentence-case name: names and acronyms.
PROPER_NOUNS = {"Sonos", "Wi-Fi", "UPnP", "Sub", "HA", "Home", "Assistant", "{room}", "{number}"}


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_entity_names_are_short(language: str) -> None:
    entities = load(TRANSLATIONS / f"{language}.json")["entity"]
    names = {
        f"{platform}.{key}": entity["name"]
        for platform, described in entities.items()
        for key, entity in described.items()
    }
    assert {key: name for key, name in names.items() if len(name) > ENTITY_NAME_LIMIT} == {}


def test_english_names_are_in_sentence_case() -> None:
    """HA writes "Wi-Fi band", "Living Room rear left": only the first word and names capitalised."""
    tree = load(TRANSLATIONS / "en.json")
    names = [
        entity["name"] for described in tree["entity"].values() for entity in described.values()
    ]
    names += [device["name"] for device in tree["device"].values()]
    title_case = [
        name
        for name in names
        if any(word[0].isupper() and word not in PROPER_NOUNS for word in name.split()[1:])
    ]
    assert title_case == []


def glossary_breaches(phrases: dict[str, Any]) -> list[str]:
    """Where a phrase book strays from its glossary: a term it never uses, a word it avoids.

    Words match at their start ("Meldung" is not found in "Anmeldung"), whatever the case.
    """
    glossary = phrases["glossary"]
    text = "\n".join(leaves({k: v for k, v in phrases.items() if k != "glossary"}).values())
    breaches = []
    for term, words in glossary.items():
        if not re.search(rf"(?<!\w){re.escape(words['use'])}", text, re.IGNORECASE):
            breaches.append(f"{term}: never says {words['use']!r}")
        breaches.extend(
            f"{term}: says {avoided!r}"
            for avoided in filter(None, words["avoid"].split("|"))
            if re.search(rf"(?<!\w){re.escape(avoided)}", text, re.IGNORECASE)
        )
    return breaches


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_each_phrase_book_keeps_to_its_glossary(language: str) -> None:
    """One word per thing in each language: the card, the speaker, a power cycle, a dropout..."""
    phrases = build_strings.phrase_book(language)
    assert phrases["glossary"].keys() == build_strings.phrase_book("en")["glossary"].keys()
    assert glossary_breaches(phrases) == []


def test_glossary_breaches_finds_a_second_word_and_a_missing_one() -> None:
    phrases = {
        "glossary": {"card": {"use": "Karte", "avoid": "Meldung"}},
        "a": "Diese Meldung ist geschlossen; die Anmeldung bleibt.",
    }
    assert glossary_breaches(phrases) == ["card: never says 'Karte'", "card: says 'Meldung'"]
    phrases["a"] = "Diese Karte ist geschlossen; die Anmeldung bleibt."
    assert glossary_breaches(phrases) == []
