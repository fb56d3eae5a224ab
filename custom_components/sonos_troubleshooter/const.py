"""Constants for Sonos Troubleshooter."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "sonos_troubleshooter"
LOGGER = logging.getLogger(__package__)

CONF_HOUSEHOLD_ID: Final = "household_id"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_CLOUD_TARGETS: Final = "cloud_targets"
CONF_REFERENCE_TARGETS: Final = "reference_targets"
CONF_STATUS_URL: Final = "status_url"
CONF_POWER_SWITCHES: Final = "power_switches"  # player uid -> the switch that feeds it
CONF_ROUTER_ENTITY: Final = "router_entity"  # a button that restarts it, or its power switch

DEFAULT_SCAN_INTERVAL: Final = 60  # seconds
MIN_SCAN_INTERVAL: Final = 10
# Sonos publishes no list of the hosts a player needs; these are its documented API hosts on
# the ports the error 1003 page names (TCP 443 and 80). A heuristic the user can change.
DEFAULT_CLOUD_TARGETS: Final = ("api.sonos.com:443", "api.ws.sonos.com:443", "api.sonos.com:80")
# Neutral, highly available hosts: when these fail too, the internet is down, not Sonos.
# Address literals on purpose: they need no DNS, so a DNS failure is not mistaken for an
# internet outage.
DEFAULT_REFERENCE_TARGETS: Final = ("1.1.1.1:443", "8.8.8.8:443")
DEFAULT_STATUS_URL: Final = "https://status.sonos.com/api/v2/status.json"

# Device descriptions (model, software) change rarely; re-read them this often.
INFO_REFRESH: Final = timedelta(hours=1)

# HA core's own Sonos integration: its devices are the same speakers as ours.
SONOS_CORE_DOMAIN: Final = "sonos"

SUPPORT_URL: Final = "https://support.sonos.com"
STATUS_PAGE_URL: Final = "https://status.sonos.com"
