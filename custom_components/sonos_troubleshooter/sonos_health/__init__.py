"""Sonos health: the library Home Assistant core would ask this integration to publish.

Everything here works without Home Assistant: the transport to players and the cloud, the
parsing of what they answer, the household model, the diagnosis rules and the error catalog.
The integration around it only adapts observations in and verdicts out. A HACS integration
cannot depend on an unpublished package, so the library stays in-tree; tests/test_architecture.py
keeps it free of Home Assistant imports, and tests/sonos_health/ tests it without Home Assistant.
"""
