"""Constants for Sonos Troubleshooter."""

from typing import Final

DOMAIN: Final = "sonos_troubleshooter"
