"""What hassfest, HACS and the Marketplace check before they list the integration."""

import json
from pathlib import Path

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant import const as ha_const
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component
from packaging.requirements import Requirement
from PIL import Image
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


QUALITY_RULES = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}


def test_quality_scale_reaches_gold() -> None:
    """Every rule is marked; Bronze to Gold are done or exempt with a reason."""
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))[
        "rules"
    ]
    assert set(rules) == {rule for tier in QUALITY_RULES.values() for rule in tier}
    for tier, names in QUALITY_RULES.items():
        for name in names:
            marking = rules[name]
            status = marking if isinstance(marking, str) else marking["status"]
            assert status in {"done", "todo", "exempt"}, name
            if status == "exempt":
                assert marking["comment"].strip(), f"{name}: an exemption needs its reason"
            if tier != "platinum":
                assert status in {"done", "exempt"}, f"{name} ({tier}) is not met"


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
        assert description["target"]["device"]["integration"] == DOMAIN
