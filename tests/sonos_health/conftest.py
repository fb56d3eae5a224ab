"""Fixtures of the sonos_health tests, which need neither Home Assistant nor its test plugin.

The library's tests run on their own, with Home Assistant's pytest plugin and tests/conftest.py
(which sets Home Assistant up) both left out:

    scripts/exec python -m pytest -p no:homeassistant --confcutdir=tests/sonos_health \
        --no-cov tests/sonos_health

In the whole suite they run with them, as every other test does.
"""

from collections.abc import Iterator
import importlib
from pathlib import Path
import sys
from types import ModuleType

import pytest

from sonos_emulator import Emulator

INTEGRATION = "custom_components.sonos_troubleshooter"


def library_without_the_integration() -> None:
    """Let the library be imported without the integration's `__init__.py` running.

    Python runs a package's `__init__.py` before any sub-package's, and the integration's is
    Home Assistant's entry point, which imports Home Assistant. Alone, these tests stand in a
    bare package for it, so what they import is the library's alone; in the whole suite the
    integration is imported already and stays as it is.
    """
    if INTEGRATION in sys.modules:
        return
    bare = ModuleType(INTEGRATION)
    bare.__path__ = [str(Path(__file__).resolve().parents[2] / Path(*INTEGRATION.split(".")))]
    sys.modules[INTEGRATION] = bare
    importlib.import_module("custom_components").sonos_troubleshooter = bare


library_without_the_integration()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """An empty household and a healthy simulated internet, torn down after the test."""
    with Emulator() as emulator:
        yield emulator
