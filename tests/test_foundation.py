"""The integration runs on the Home Assistant and soco versions its users run."""

from pathlib import Path
import subprocess
import sys

from homeassistant.const import __version__ as ha_version
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
import soco

from custom_components.sonos_troubleshooter.const import DOMAIN
from sonos_emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]


async def test_integration_loads_under_current_home_assistant(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)

    assert ha_version.startswith("2026.10")
    assert integration.domain == DOMAIN
    assert integration.name == "Sonos Troubleshooter"
    assert not integration.is_built_in
    assert integration.requirements == ["soco>=0.31.2"]
    assert soco.__version__ == "0.31.2"  # the version HA core's sonos integration pins


async def test_soco_in_the_executor_reaches_the_emulator(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    player = emulator.household.add_player("Kitchen")

    household_id = await hass.async_add_executor_job(
        lambda: soco.SoCo(player.ip).deviceProperties.GetHouseholdID([], timeout=2)
    )

    assert household_id == {"CurrentHouseholdID": emulator.household.household_id}


def test_the_soco_stubs_say_what_soco_does() -> None:
    """typings/soco, which mypy checks the soco calls against, matches soco's own source.

    mypy's stubtest imports soco and compares every name the stubs declare (what they leave
    out is not their business: the integration may not use it).
    """
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "soco",
            "--ignore-missing-stub",
            "--mypy-config-file",
            "pyproject.toml",
            "--allowlist",
            "typings/stubtest-allowlist.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=90,
    )

    assert result.returncode == 0, result.stdout + result.stderr
