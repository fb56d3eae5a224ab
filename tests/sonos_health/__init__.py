"""Tests of the sonos_health library, without Home Assistant (see conftest.py)."""
