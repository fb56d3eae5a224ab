"""What hassfest, HACS and the Marketplace check before they list the integration."""

import json
from pathlib import Path
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant import const as ha_const
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, selector, service as service_helper
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component
from packaging.requirements import Requirement
from PIL import Image
import probatio
import pytest
import soco
import yaml

from custom_components.sonos_troubleshooter.const import DOMAIN
from tools import draw_brand

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / DOMAIN
MANIFEST = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
HACS = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))

# The manifest keys hassfest accepts for a custom integration.
MANIFEST_KEYS = {
    "domain",
    "name",
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "documentation",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
# The hacs.json keys HACS and HA's Marketplace read (anything else fails their validation).
HACS_KEYS = {
    "name",
    "homeassistant",
    "hacs",
    "content_in_root",
    "filename",
    "hide_default_branch",
    "persistent_directory",
    "zip_release",
}
BRAND_FILES = {
    "icon.png": (256, 256),
    "icon@2x.png": (512, 512),
    "dark_icon.png": (256, 256),
    "dark_icon@2x.png": (512, 512),
    "logo.png": (None, 128),
    "logo@2x.png": (None, 256),
    "dark_logo.png": (None, 128),
    "dark_logo@2x.png": (None, 256),
}


def test_manifest_keys_in_hassfest_order() -> None:
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert set(keys) <= MANIFEST_KEYS, set(keys) - MANIFEST_KEYS
    assert MANIFEST["domain"] == DOMAIN == INTEGRATION.name


def test_manifest_has_what_a_custom_integration_needs() -> None:
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["integration_type"] == "hub"
    assert MANIFEST["iot_class"] == "local_polling"
    for key in ("documentation", "issue_tracker"):
        assert MANIFEST[key].startswith("https://"), key
    assert MANIFEST["codeowners"]
    assert all(owner.startswith("@") for owner in MANIFEST["codeowners"])
    version = AwesomeVersion(MANIFEST["version"])
    assert version.strategy in {AwesomeVersionStrategy.SEMVER, AwesomeVersionStrategy.CALVER}
    assert "soco" in MANIFEST["loggers"]


async def test_soco_range_includes_the_version_home_assistant_pins(hass: HomeAssistant) -> None:
    """Demanding another soco than core's sonos would make HA reinstall it at every start."""
    (requirement,) = (Requirement(line) for line in MANIFEST["requirements"])
    assert requirement.name == "soco"
    sonos = await async_get_integration(hass, "sonos")
    (pinned,) = (
        Requirement(line).specifier
        for line in sonos.requirements
        if Requirement(line).name == "soco"
    )
    (core_version,) = (spec.version for spec in pinned)
    assert requirement.specifier.contains(core_version)
    assert requirement.specifier.contains(soco.__version__)  # what the tests run with


async def test_discovery_matches_core_sonos(hass: HomeAssistant) -> None:
    sonos = await async_get_integration(hass, "sonos")
    assert MANIFEST["ssdp"] == sonos.manifest["ssdp"]
    assert MANIFEST["zeroconf"] == sonos.manifest["zeroconf"]


def test_hacs_json() -> None:
    assert set(HACS) <= HACS_KEYS, set(HACS) - HACS_KEYS
    assert HACS["name"] == MANIFEST["name"]
    # The oldest Home Assistant the tests run on is the one they run on.
    assert HACS["homeassistant"] == ha_const.__version__


def test_licence_is_osi_approved() -> None:
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")


@pytest.mark.parametrize(("name", "size"), BRAND_FILES.items())
def test_brand_image(name: str, size: tuple[int | None, int]) -> None:
    with Image.open(INTEGRATION / "brand" / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        width, height = size
        assert image.height == height
        assert image.width == (width or image.width)
        assert image.width >= image.height
        assert image.getpixel((0, 0))[3] == 0  # transparent background


def test_brand_images_are_drawn_by_the_script() -> None:
    drawn = draw_brand.images()
    assert set(drawn) == set(BRAND_FILES)
    for name, image in drawn.items():
        with Image.open(INTEGRATION / "brand" / name) as committed:
            assert committed.tobytes() == image.tobytes(), (
                f"{name}: run scripts/exec python tools/draw_brand.py"
            )


async def test_actions_are_registered_at_setup_and_described(hass: HomeAssistant) -> None:
    """Register the action without a household, each field named and described.

    action-setup: automations using it validate before any household is set up; hassfest:
    services.yaml and the translations describe the same fields.
    """
    assert await async_setup_component(hass, DOMAIN, {})
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text(encoding="utf-8"))
    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    assert set(services) == set(hass.services.async_services_for_domain(DOMAIN))
    assert set(services) == set(strings["services"])
    for action, description in services.items():
        texts = strings["services"][action]
        assert texts["name"].strip()
        assert texts["description"].strip()
        assert set(description.get("fields", {})) == set(texts.get("fields", {}))
        for field in texts.get("fields", {}).values():
            assert field["name"].strip()
            assert field["description"].strip()
        player = description["fields"]["device_id"]
        assert player["required"] is True
        assert player["selector"]["device"]["integration"] == DOMAIN


# hassfest's services plugin (script/hassfest/services.py in HA core, read at its 2026 state),
# the rules it applies to a custom integration's services.yaml, checked here by our own code
# with Home Assistant's own validators (selectors, slugs, field filters).
SERVICE_KEYS = {"fields", "target", "name", "description"}
FIELD_KEYS = {"example", "default", "required", "advanced", "selector", "name", "description"}
SECTION_KEYS = {"collapsed", "fields", "name", "description"}


def _field_problems(where: str, field: object, *, targeted: bool) -> list[str]:
    if not isinstance(field, dict):
        return [f"{where}: a field is a mapping"]
    allowed = FIELD_KEYS | ({"filter"} if targeted else set())
    problems = [f"{where}: unknown key {key!r}" for key in sorted(set(field) - allowed)]
    if "filter" in field and not targeted:
        problems.append(f"{where}: a field filter needs a target on its service")
    problems += [
        f"{where}.{key}: may not be empty"
        for key in ("example", "default")
        if key in field and field[key] is None
    ]
    problems += [
        f"{where}.{key}: true or false"
        for key in ("required", "advanced")
        if key in field and not isinstance(field[key], bool)
    ]
    problems += [
        f"{where}.{key}: a text"
        for key in ("name", "description")
        if key in field and not isinstance(field[key], str)
    ]
    if "selector" in field:
        try:
            selector.validate_selector(field["selector"])
        except probatio.Invalid as error:
            problems.append(f"{where}.selector: {error}")
    if targeted and isinstance(field.get("filter"), dict):
        problems += _filter_problems(f"{where}.filter", field["filter"])
    return problems


def _filter_problems(where: str, field_filter: dict[str, Any]) -> list[str]:
    if set(field_filter) - {"attribute", "supported_features"}:
        return [f"{where}: only attribute or supported_features"]
    if len(field_filter) > 1:
        return [f"{where}: attribute and supported_features exclude each other"]
    try:
        if "attribute" in field_filter:
            for options in field_filter["attribute"].values():
                for option in options:
                    service_helper.validate_attribute_option(option)
        for feature in field_filter.get("supported_features", []):
            service_helper.validate_supported_feature(feature)
    except (probatio.Invalid, AttributeError, TypeError) as error:
        return [f"{where}: {error}"]
    return []


def _target_problems(where: str, target: object) -> list[str]:
    if target is None:
        return []
    try:
        selector.TargetSelector.CONFIG_SCHEMA(target)
    except probatio.Invalid as error:
        return [f"{where}: {error}"]
    if "device" in target:  # HA core PR 152794 (2025)
        problem = "services do not support device filters on target, use a device selector instead"
        return [f"{where}: {problem}"]
    return []


def _select_translation_key(field: object) -> str | None:
    """The translation key of a field's select selector, whose options hassfest looks up."""
    chosen = field.get("selector") if isinstance(field, dict) else None
    select = chosen.get("select") if isinstance(chosen, dict) else None
    return select.get("translation_key") if isinstance(select, dict) else None


def services_yaml_problems(services: object, strings: dict[str, Any]) -> list[str]:
    """Everything hassfest's services plugin refuses in a custom integration's services.yaml."""
    if not isinstance(services, dict):
        return ["services.yaml: a mapping of actions"]
    problems: list[str] = []
    for name, description in services.items():
        try:
            cv.slug(name)
        except probatio.Invalid:
            problems.append(f"{name!r}: an action's name is a slug")
        if description is None:
            continue
        if not isinstance(description, dict):
            problems.append(f"{name}: a mapping, or empty")
            continue
        problems += [
            f"{name}: unknown key {key!r}" for key in sorted(set(description) - SERVICE_KEYS)
        ]
        targeted = "target" in description
        if targeted:
            problems += _target_problems(f"{name}.target", description["target"])
        fields = description.get("fields") or {}
        seen: set[str] = set()
        for key, field in fields.items():
            inner = field.get("fields") if isinstance(field, dict) else None
            if isinstance(inner, dict):  # a section
                where = f"{name}.fields.{key}"
                problems += [
                    f"{where}: unknown key {extra!r}" for extra in sorted(set(field) - SECTION_KEYS)
                ]
                if "collapsed" in field and not isinstance(field["collapsed"], bool):
                    problems.append(f"{where}.collapsed: true or false")
                members = inner
            else:
                members = {key: field}
            for member, member_field in members.items():
                where = f"{name}.fields.{member}"
                if member in seen:
                    problems.append(f"{where}: duplicate use of field {member} in service")
                seen.add(member)
                problems += _field_problems(where, member_field, targeted=targeted)
                translation_key = _select_translation_key(member_field)
                if translation_key and translation_key not in strings.get("selector", {}):
                    problems.append(
                        f"{where}: selector translation key {translation_key} is not in"
                        " translations/en.json"
                    )
    return problems


def test_services_yaml_passes_hassfest() -> None:
    """What `.github/workflows/hassfest.yml` checks on GitHub, checked on every test run."""
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text(encoding="utf-8"))
    english = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))
    assert services_yaml_problems(services, english) == []


def test_services_yaml_is_there_when_actions_are_registered() -> None:
    registers = any(
        "services.async_register" in path.read_text(encoding="utf-8")
        or "async_register_entity_service" in path.read_text(encoding="utf-8")
        for path in INTEGRATION.glob("**/*.py")
    )
    assert not registers or (INTEGRATION / "services.yaml").is_file()


@pytest.mark.parametrize(
    ("services", "problem"),
    [
        (
            {"power_cycle": {"target": {"device": {"integration": DOMAIN}}}},
            "power_cycle.target: services do not support device filters on target",
        ),
        ({"power_cycle": {"target": {"area": {}}}}, "power_cycle.target: "),
        ({"Power-Cycle": None}, "'Power-Cycle': an action's name is a slug"),
        ({"power_cycle": {"response": {}}}, "power_cycle: unknown key 'response'"),
        ({"power_cycle": {"fields": {"x": {"default": None}}}}, "power_cycle.fields.x.default"),
        ({"power_cycle": {"fields": {"x": {"required": "yes"}}}}, "power_cycle.fields.x.required"),
        ({"power_cycle": {"fields": {"x": {"selector": {"bogus": {}}}}}}, "x.selector: "),
        (
            {"power_cycle": {"fields": {"x": {"filter": {"supported_features": []}}}}},
            "power_cycle.fields.x: a field filter needs a target on its service",
        ),
        (
            {
                "power_cycle": {
                    "target": {"entity": {"domain": "light"}},
                    "fields": {"x": {"filter": {"supported_features": ["light.NoSuchFeature"]}}},
                }
            },
            "power_cycle.fields.x.filter: ",
        ),
        (
            {"power_cycle": {"fields": {"x": {}, "more": {"collapsed": 1, "fields": {"x": {}}}}}},
            "power_cycle.fields.x: duplicate use of field x in service",
        ),
        (
            {"power_cycle": {"fields": {"more": {"collapsed": "no", "fields": {}}}}},
            "power_cycle.fields.more.collapsed: true or false",
        ),
        (
            {
                "power_cycle": {
                    "fields": {
                        "x": {"selector": {"select": {"options": ["a"], "translation_key": "nope"}}}
                    }
                }
            },
            "selector translation key nope is not in translations/en.json",
        ),
    ],
)
def test_hassfest_services_rules_catch(services: dict[str, Any], problem: str) -> None:
    """Each rule above refuses what hassfest refuses (so a passing file means something)."""
    problems = services_yaml_problems(services, {})
    assert any(problem in text for text in problems), problems
