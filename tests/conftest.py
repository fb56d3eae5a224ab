"""Fixtures shared by the whole suite."""

from collections.abc import Iterator

import pytest
import pytest_socket

from tests.sonos_emulator import Emulator


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/sonos_troubleshooter in every test."""


@pytest.fixture(autouse=True)
def loopback_only() -> None:
    """Real sockets, but to loopback only: connect() anywhere outside 127.0.0.0/8 raises.

    pytest-homeassistant-custom-component allows 127.0.0.1 alone; emulated players live on
    127.0.0.2 and up, as real players each have their own address.
    """
    pytest_socket.enable_socket()
    pytest_socket.socket_allow_hosts(["127.0.0.0/8"], allow_unix_socket=True)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """An empty household and a healthy simulated internet, torn down after the test."""
    with Emulator() as emulator:
        yield emulator
