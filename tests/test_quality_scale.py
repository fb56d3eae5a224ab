"""The quality scale, claim by claim: each `done` is checked against the code or a behaviour test.

Home Assistant's own quality-scale validators live in hassfest (`script/hassfest` of the core
repository), which neither the `homeassistant` wheel nor its sdist ships, so they cannot run
here. Each rule is checked instead: what hassfest reads in the code (flows, unloading,
parallel updates, translated exceptions, runtime data) by reading this integration's code;
what only running it shows (entities named and translated, logs, unavailability, repairs) by
the behaviour test named for it, which must exist. A rule marked `done` with neither fails.
"""

import ast
from collections.abc import Callable
import json
from pathlib import Path
import re

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.sonos_troubleshooter import PLATFORMS
from custom_components.sonos_troubleshooter.const import DOMAIN

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / DOMAIN
MANIFEST = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
STRINGS = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
RULES = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))["rules"]
TIERS = {
    "bronze": {
        "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow",
        "config-flow-test-coverage", "dependency-transparency", "docs-actions", "docs-conditions",
        "docs-high-level-description", "docs-installation-instructions",
        "docs-removal-instructions", "docs-triggers", "entity-event-setup", "entity-unique-id",
        "has-entity-name", "runtime-data", "test-before-configure", "test-before-setup",
        "unique-config-entry",
    },
    "silver": {
        "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
        "docs-installation-parameters", "entity-unavailable", "integration-owner",
        "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
    },
    "gold": {
        "devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update",
        "docs-examples", "docs-known-limitations", "docs-supported-devices",
        "docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
        "entity-category", "entity-device-class", "entity-disabled-by-default",
        "entity-translations", "exception-translations", "icon-translations",
        "reconfiguration-flow", "repair-issues", "stale-devices",
    },
    "platinum": {"async-dependency", "inject-websession", "strict-typing"},
}  # fmt: skip

# Rules only running the integration shows: the behaviour tests that show each.
BEHAVIOUR = {
    "action-setup": ["test_conformance.py::test_actions_are_registered_at_setup_and_described"],
    "action-exceptions": ["test_services.py::test_power_cycle_action_response_and_refusals"],
    "appropriate-polling": [
        "test_coordinator.py::test_polls_keep_a_minimum_gap_when_a_poll_takes_the_whole_interval",
        "test_config_flow.py::test_options_interval_below_minimum_is_refused",
    ],
    "config-flow-test-coverage": ["test_config_flow.py::test_user_flow_errors_then_recovers"],
    "test-before-configure": ["test_config_flow.py::test_user_flow_errors_then_recovers"],
    "test-before-setup": ["test_init.py::test_unreachable_household_at_first_setup_retries"],
    "devices": ["test_init.py::test_setup_creates_devices_and_entities"],
    "diagnostics": ["test_diagnostics.py::test_diagnostics_redact_personal_data"],
    "discovery": ["test_config_flow.py::test_discovery_asks_before_adding"],
    "discovery-update-info": [
        "test_config_flow.py::test_discovery_of_a_known_household_updates_its_address"
    ],
    "dynamic-devices": ["test_coordinator.py::test_new_player_appears_without_reload"],
    "stale-devices": ["test_init.py::test_removed_player_can_be_deleted"],
    "repair-issues": [
        "test_issues.py::test_player_off_raises_1001_after_two_polls_and_clears",
        "test_issues.py::test_a_sonos_outage_is_no_card_until_the_user_can_act",
    ],
    "log-when-unavailable": [
        "test_unavailable.py::test_a_silent_player_is_logged_once_when_it_is_1001_and_once_when_back",
        "test_unavailable.py::test_the_cloud_is_logged_once_when_1003_begins_and_once_when_it_ends",
    ],
    "entity-unavailable": [
        "test_unavailable.py::test_a_silent_players_band_and_software_version_are_unavailable"
    ],
    "entity-disabled-by-default": ["test_writes.py::test_a_steady_household_writes_nothing"],
}
# Rules about the documentation: the page, and the section of it that carries each.
DOCS = {
    "docs-actions": ("docs/automations.md", "## The `sonos_troubleshooter.power_cycle` action"),
    "docs-configuration-parameters": ("docs/configuration.md", "## Configuration"),
    "docs-data-update": ("docs/how-it-decides.md", "## Data updates"),
    "docs-examples": ("docs/automations.md", "## Automations"),
    "docs-high-level-description": ("README.md", "## What it measures, and on which speakers"),
    "docs-installation-instructions": ("README.md", "## Installation"),
    "docs-installation-parameters": ("README.md", "## Configuration"),
    "docs-known-limitations": ("docs/troubleshooting.md", "## Known limitations"),
    "docs-removal-instructions": ("README.md", "## Removal"),
    "docs-supported-devices": ("README.md", "## What it measures, and on which speakers"),
    "docs-supported-functions": ("README.md", "## Entities"),
    "docs-troubleshooting": ("docs/troubleshooting.md", "## Troubleshooting"),
    "docs-use-cases": ("docs/automations.md", "## Automations"),
}


def status(rule: str) -> str:
    marking = RULES[rule]
    return str(marking if isinstance(marking, str) else marking["status"])


def module(name: str) -> ast.Module:
    return ast.parse((INTEGRATION / f"{name}.py").read_text(encoding="utf-8"))


def functions(tree: ast.Module) -> dict[str, ast.AsyncFunctionDef | ast.FunctionDef]:
    return {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def calls(node: ast.AST) -> list[ast.Call]:
    return [call for call in ast.walk(node) if isinstance(call, ast.Call)]


def called(node: ast.AST, name: str) -> list[ast.Call]:
    """Return the calls of `name` (a function or a method) within `node`."""
    return [
        call
        for call in calls(node)
        if (isinstance(call.func, ast.Name) and call.func.id == name)
        or (isinstance(call.func, ast.Attribute) and call.func.attr == name)
    ]


def check_config_flow() -> None:
    assert MANIFEST["config_flow"] is True
    assert "async_step_user" in functions(module("config_flow"))


def check_unique_config_entry() -> None:
    user = functions(module("config_flow"))["async_step_user"]
    assert called(user, "async_set_unique_id")
    assert called(user, "_abort_if_unique_id_configured")


def check_reconfiguration_flow() -> None:
    reconfigure = functions(module("config_flow"))["async_step_reconfigure"]
    assert called(reconfigure, "_abort_if_unique_id_mismatch")


def check_discovery() -> None:
    steps = functions(module("config_flow"))
    assert MANIFEST["ssdp"]
    assert MANIFEST["zeroconf"]
    assert {"async_step_ssdp", "async_step_zeroconf"} <= set(steps)


def check_discovery_update_info() -> None:
    """A discovered household that is known gets its new address (`updates=`)."""
    tree = module("config_flow")
    aborts = called(tree, "_abort_if_unique_id_configured")
    assert any(keyword.arg == "updates" for call in aborts for keyword in call.keywords)


def check_runtime_data() -> None:
    """An entry's objects live in its typed runtime data, not in hass.data under the domain.

    hass.data holds one object for the whole integration (the events' HTTP view, registered
    once in `async_setup`), under a typed key of its own.
    """
    for path in INTEGRATION.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"hass\.data(\[|\.setdefault\(|\.get\()DOMAIN", source), path.name
        for key in re.findall(r"hass\.data\[(\w+)\]", source):
            assert re.search(rf"^{key}: HassKey\[", source, re.MULTILINE), (path.name, key)
    source = (INTEGRATION / "runtime_data.py").read_text(encoding="utf-8")
    assert re.search(r"type SonosTroubleshooterConfigEntry = ConfigEntry\[\w+\]", source)


def check_config_entry_unloading() -> None:
    unload = functions(module("__init__"))["async_unload_entry"]
    assert called(unload, "async_unload_platforms")


def check_parallel_updates() -> None:
    for platform in PLATFORMS:
        tree = module(platform.value)
        names = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert "PARALLEL_UPDATES" in names, platform


def check_exception_translations() -> None:
    """Every error raised to the user names its translation, which strings.json has."""
    translated = {"HomeAssistantError", "ServiceValidationError", "UpdateFailed"}
    translated |= {"ConfigEntryNotReady", "ConfigEntryError", "ConfigEntryAuthFailed"}
    raised = 0
    for path in INTEGRATION.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            if not (isinstance(func, ast.Name) and func.id in translated):
                continue
            raised += 1
            keys = {k.arg: k.value for k in node.exc.keywords}
            assert isinstance(keys.get("translation_domain"), ast.Name), path.name
            key = keys.get("translation_key")
            if isinstance(key, ast.Constant):
                assert key.value in STRINGS["exceptions"], (path.name, key.value)
            else:
                assert key is not None, (path.name, node.lineno)
    assert raised


def check_stale_devices() -> None:
    assert "async_remove_config_entry_device" in functions(module("__init__"))


def check_brands() -> None:
    for name in ("icon.png", "icon@2x.png", "logo.png", "dark_icon.png"):
        assert (INTEGRATION / "brand" / name).is_file(), name


def check_integration_owner() -> None:
    assert MANIFEST["codeowners"]


def check_dependency_transparency() -> None:
    assert all("==" in r or ">=" in r for r in MANIFEST["requirements"])


def check_common_modules() -> None:
    """A coordinator in coordinator.py, the base entity in entity.py, as core's."""
    assert "SonosTroubleshooterCoordinator" in {
        n.name for n in module("coordinator").body if isinstance(n, ast.ClassDef)
    }
    assert "SonosTroubleshooterEntity" in {
        n.name for n in module("entity").body if isinstance(n, ast.ClassDef)
    }


def check_test_coverage() -> None:
    """The suite fails under 95 % (pytest-cov's fail_under, run by scripts/test and CI)."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r"fail_under\s*=\s*(\d+)", pyproject)
    assert found is not None
    assert int(found.group(1)) >= 95


CODE: dict[str, Callable[[], None]] = {
    "config-flow": check_config_flow,
    "unique-config-entry": check_unique_config_entry,
    "reconfiguration-flow": check_reconfiguration_flow,
    "discovery": check_discovery,
    "discovery-update-info": check_discovery_update_info,
    "runtime-data": check_runtime_data,
    "config-entry-unloading": check_config_entry_unloading,
    "parallel-updates": check_parallel_updates,
    "exception-translations": check_exception_translations,
    "action-exceptions": check_exception_translations,
    "stale-devices": check_stale_devices,
    "brands": check_brands,
    "integration-owner": check_integration_owner,
    "dependency-transparency": check_dependency_transparency,
    "common-modules": check_common_modules,
    "test-coverage": check_test_coverage,
}
# The sensors a user reads first; every other sensor is a diagnostic one.
PRIMARY_SENSORS = {"error_code", "diagnosis", "complete_polls"}
# Checked by `test_entities_are_named_translated_and_categorised` below.
ENTITY_RULES = {
    "entity-unique-id",
    "has-entity-name",
    "entity-translations",
    "entity-category",
    "entity-device-class",
    "icon-translations",
}


def test_every_rule_is_marked_and_gold_is_met() -> None:
    assert set(RULES) == set().union(*TIERS.values())
    for tier, names in TIERS.items():
        for name in names:
            assert status(name) in {"done", "todo", "exempt"}, name
            if status(name) != "done":
                assert RULES[name]["comment"].strip(), f"{name}: say why it is not done"
            if tier != "platinum":
                assert status(name) in {"done", "exempt"}, f"{name} ({tier}) is not met"


def test_every_done_rule_has_its_evidence() -> None:
    """A rule claimed `done` is checked here: in the code, the docs or a behaviour test."""
    evidenced = set(CODE) | set(BEHAVIOUR) | set(DOCS) | ENTITY_RULES
    evidenced |= {"async-dependency", "inject-websession"}  # test_architecture, test_coordinator
    missing = {rule for rule in RULES if status(rule) == "done"} - evidenced
    assert not missing


@pytest.mark.parametrize("rule", sorted(CODE))
def test_rule_holds_in_the_code(rule: str) -> None:
    CODE[rule]()


@pytest.mark.parametrize("rule", sorted(BEHAVIOUR))
def test_rule_has_its_behaviour_test(rule: str) -> None:
    for test in BEHAVIOUR[rule]:
        path, name = test.split("::")
        source = (ROOT / "tests" / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), test


@pytest.mark.parametrize("rule", sorted(DOCS))
def test_rule_has_its_documentation_section(rule: str) -> None:
    page, heading = DOCS[rule]
    text = (ROOT / page).read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(heading)}", text, re.MULTILINE), f"{page}: {heading}"


def test_exempt_rules_give_their_reason() -> None:
    for rule, marking in RULES.items():
        if status(rule) == "exempt":
            assert len(marking["comment"].split()) >= 5, rule


async def test_entities_are_named_translated_and_categorised(
    hass: HomeAssistant, setup_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Every entity: a unique id, HA's naming, a translated name, an icon or a device class.

    Diagnostic facts carry the diagnostic category; every icon in icons.json belongs to an
    entity that exists.
    """
    entries = er.async_entries_for_config_entry(entity_registry, setup_entry.entry_id)
    icons = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))["entity"]
    used: set[tuple[str, str]] = set()
    assert entries
    for entry in entries:
        assert entry.unique_id
        assert entry.has_entity_name, entry.entity_id
        assert entry.translation_key is not None, entry.entity_id
        platform = entry.domain
        assert entry.translation_key in STRINGS["entity"][platform], entry.entity_id
        has_icon = entry.translation_key in icons.get(platform, {})
        assert has_icon or entry.original_device_class is not None, entry.entity_id
        used.add((platform, entry.translation_key))
        if platform == "sensor" and entry.translation_key not in PRIMARY_SENSORS:
            assert entry.entity_category is not None, entry.entity_id
    assert {(p, key) for p, keys in icons.items() for key in keys} <= used
