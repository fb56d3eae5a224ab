"""Build custom_components/sonos_troubleshooter/strings.json (and translations/en.json).

Repair cards list the documented fix steps in the order the catalog gives for each diagnosed
cause. Home Assistant translations are static text, so each (error, cause) pair gets its own
card text, assembled here from one text per step; run `scripts/exec python
scripts/build_strings.py` after changing a step, and tests/test_strings.py fails until you do.
"""

import json
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from custom_components.sonos_troubleshooter.catalog import (
    ERROR_1001,
    ERROR_1003,
    FIRST_STEP,
    FIRST_STEP_ALL_PLAYERS_DOWN,
    ordered_steps,
)
from custom_components.sonos_troubleshooter.diagnosis import CloudCause

INTEGRATION = Path(__file__).resolve().parents[1] / "custom_components" / "sonos_troubleshooter"

STEPS_1001 = {
    "power_cycle_speaker": "**Power-cycle the speaker.** Unplug it, wait 30 seconds, then plug it back in. A full power cycle clears temporary network errors and makes the speaker negotiate its connection again.",
    "restart_router": "**Restart your Wi-Fi router.** Unplug it for 30 seconds, plug it back in and give it 2 minutes to start completely. Routers can lock up and stop accepting new connections; a restart clears that.",
    "factory_reset": "**Factory-reset the speaker and set it up again.** In the Sonos app, go to Settings > System > (the speaker) > Factory Reset, then set it up again. Entering the Wi-Fi credentials again makes the speaker join the current network cleanly. Your account, playlists and music services are kept in the cloud and come back.",
    "move_closer": "**Move the speaker closer to the router while you set it up,** then put it back once it is connected. A weak signal while connecting is a common cause of error 1001.",
    "enable_2_4_ghz": "**Make sure the 2.4 GHz band is enabled on your router:** most Sonos models use 2.4 GHz. If the router only offers 5 GHz, the speaker cannot connect; enabling 2.4 GHz solves it at once.",
}
STEPS_1003 = {
    "check_status_page": "**Check the [Sonos status page]({status_url})** for an active outage (now: {status}). If Sonos reports an incident, the only fix is to wait: the problem is on their side, not yours.",
    "restart_router": "**Restart your home router:** unplug it for 30 seconds and plug it back in. A restart refreshes DNS caches and re-establishes the connection to your internet provider.",
    "power_cycle_speaker": "**Power-cycle the affected speaker:** unplug it for 10 seconds and plug it back in. It then connects to the cloud from scratch, with fresh authentication.",
    "sign_in_again": "**Sign out of your Sonos account and back in:** in the Sonos app, go to Settings > Services & Voice. An expired cloud session is a common cause of error 1003; signing in again refreshes it.",
    "check_firewall": "**Check your router for firewall rules, a VPN or content filtering** that could block Sonos traffic. Sonos needs outbound TCP ports 80, 443 and 1400.",
    "try_hotspot": "**If only one speaker is affected, connect it to a mobile hotspot** to see whether your home network is the problem. If it works there, your router's configuration is at fault, not the speaker.",
}
CAUSE_1003 = {
    CloudCause.SONOS_OUTAGE: "Sonos reports an incident on its status page ({status}). Sonos cloud servers are having a temporary outage.",
    CloudCause.INTERNET_DOWN: "Neutral internet hosts cannot be reached either: your internet connection or router is down, not only Sonos.",
    CloudCause.DNS_FAILURE: "The Sonos server names do not resolve: a DNS failure keeps your network from finding the Sonos servers.",
    CloudCause.PORTS_BLOCKED: "The internet works and the Sonos server names resolve, but connections to Sonos fail ({failed_targets}): your router, firewall, VPN, parental controls or internet provider is probably blocking the ports Sonos uses.",
}
CAUSE_TITLE = {
    CloudCause.SONOS_OUTAGE: "Sonos cloud outage",
    CloudCause.INTERNET_DOWN: "internet connection down",
    CloudCause.DNS_FAILURE: "DNS failure",
    CloudCause.PORTS_BLOCKED: "Sonos traffic blocked",
}
ESCALATE_1001 = "**Still failing after every step?** The speaker's Wi-Fi hardware may be faulty. Contact [Sonos Support]({support_url}); speakers under warranty are usually replaced free of charge. Have the serial number ready: **{serial}** (also printed on the underside)."
ESCALATE_1001_ALL = "**Still failing after every step?** If one speaker keeps failing once the others are back, its Wi-Fi hardware may be faulty: contact [Sonos Support]({support_url}) with its serial number (printed on the underside)."
ESCALATE_1003 = "**When to contact support:** error 1003 is almost never a hardware fault. If it lasts more than 24 hours across more than one internet connection, contact [Sonos Support]({support_url}). In a business installation, check the firewall rules with your IT team first."
CAUSES_1001 = "Common causes: the Wi-Fi password changed; the router restarted and handed out a new IP configuration; the speaker is too far from the router or access point; the network runs on a band the speaker does not support; a temporary firmware glitch blocks the radio."


def numbered(steps: tuple[str, ...], texts: dict[str, str]) -> str:
    return "\n".join(f"{number}. {texts[step]}" for number, step in enumerate(steps, 1))


def issues() -> dict[str, dict[str, str]]:
    result = {
        "error_1001": {
            "title": "{name} cannot reach the Wi-Fi network (Sonos error 1001)",
            "description": (
                "{name} ({model}, address {address}, Wi-Fi {band}) has not answered Home Assistant since {since}: "
                "Sonos error 1001, the speaker cannot connect to your Wi-Fi network. Severity: moderate.\n\n"
                f"{CAUSES_1001}\n\nSerial number: {{serial}}\n\nTry these steps in order:\n"
                f"{numbered(ordered_steps(ERROR_1001), STEPS_1001)}\n\n{ESCALATE_1001}"
            ),
        },
        "error_1001_all_players": {
            "title": "No Sonos player can be reached (Sonos error 1001)",
            "description": (
                "None of your {count} Sonos players ({players}) has answered Home Assistant since {since}. "
                "When every player drops at the same time, the cause is almost always the router or Home "
                "Assistant's own network connection rather than the speakers. Severity: moderate.\n\n"
                f"Try these steps in order:\n"
                f"{numbered(ordered_steps(ERROR_1001, FIRST_STEP_ALL_PLAYERS_DOWN), STEPS_1001)}\n\n"
                f"{ESCALATE_1001_ALL}"
            ),
        },
    }
    for cause in CloudCause:
        result[f"error_1003_{cause}"] = {
            "title": f"Sonos cannot reach its cloud: {CAUSE_TITLE[cause]} (Sonos error 1003)",
            "description": (
                "{players} are on your network, but the Sonos cloud has not been reachable since {since}: "
                "Sonos error 1003. Streaming services and voice assistants need the cloud; local music, "
                "AirPlay, line-in and TV audio keep working. Severity: minor.\n\n"
                f"Most likely cause: {CAUSE_1003[cause]}\n\nTry these steps in order:\n"
                f"{numbered(ordered_steps(ERROR_1003, FIRST_STEP[cause]), STEPS_1003)}\n\n{ESCALATE_1003}"
            ),
        }
    return result


def strings() -> dict[str, object]:
    host_errors = {
        "cannot_connect": "No Sonos player answered at this address. Check that the player is powered on and on the same network as Home Assistant.",
        "invalid_host": "Enter the IPv4 address of a Sonos player, for example 192.168.1.20.",
        "not_sonos": "The device at this address is not a Sonos player.",
        "upnp_disabled": "The player refuses local control (UPnP is disabled). In the Sonos app, turn on Settings > System > Network > UPnP, then try again.",
        "invalid_answer": "The device at this address answered with something a Sonos player does not send.",
    }
    return {
        "config": {
            "flow_title": "{name}",
            "step": {
                "user": {
                    "description": "Enter the address of any one of your Sonos players; the rest of the household is found from it.",
                    "data": {"host": "Host"},
                    "data_description": {
                        "host": "The IPv4 address of a Sonos player on your network."
                    },
                },
                "discovery_confirm": {
                    "description": "Watch the Sonos household of {name} ({model}, {host}) for errors 1001 and 1003?",
                },
                "reconfigure": {
                    "description": "Change the address used to find your Sonos household.",
                    "data": {"host": "Host"},
                    "data_description": {
                        "host": "The IPv4 address of a Sonos player of the same household."
                    },
                },
            },
            "error": host_errors,
            "abort": {
                "already_configured": "This Sonos household is already configured.",
                "reconfigure_successful": "The address was changed.",
                "wrong_household": "That player belongs to another Sonos household.",
                **host_errors,
            },
        },
        "options": {
            "step": {
                "init": {
                    "data": {"scan_interval": "Scan interval"},
                    "data_description": {
                        "scan_interval": "How often every player and the cloud are checked, in seconds (at least 10). An error is reported after two failed checks in a row.",
                    },
                    "sections": {
                        "advanced": {
                            "name": "Cloud check",
                            "description": "What Home Assistant tries to judge whether your speakers can reach the Sonos cloud. The defaults suit almost everyone.",
                            "data": {
                                "cloud_targets": "Sonos cloud targets",
                                "reference_targets": "Reference targets",
                                "status_url": "Status page URL",
                            },
                            "data_description": {
                                "cloud_targets": "Sonos cloud hosts to try, as host:port. All must answer for the cloud to count as reachable.",
                                "reference_targets": "Neutral internet hosts, as host:port, that tell an internet outage apart from Sonos being blocked. Addresses rather than names, so a DNS failure is not mistaken for an outage.",
                                "status_url": "The JSON address of the Sonos status page.",
                            },
                        }
                    },
                }
            },
            "error": {
                "invalid_target": "Enter each target as host:port, for example api.sonos.com:443.",
                "no_targets": "Enter at least one Sonos cloud target.",
                "invalid_url": "Enter an http or https address.",
            },
        },
        "entity": {
            "binary_sensor": {
                "connectivity": {"name": "Network connectivity"},
                "cloud": {"name": "Sonos cloud connectivity"},
            },
            "sensor": {
                "error_code": {
                    "name": "Error code",
                    "state": {
                        "ok": "OK",
                        "1001": "1001: cannot reach the network",
                        "1003": "1003: cannot reach the Sonos cloud",
                    },
                    "state_attributes": {
                        "cause": {
                            "name": "Cause",
                            "state": {
                                "sonos_outage": "Sonos outage",
                                "internet_down": "Internet down",
                                "dns_failure": "DNS failure",
                                "ports_blocked": "Ports blocked",
                                "all_players_unreachable": "All players unreachable",
                            },
                        },
                        "since": {"name": "Since"},
                        "severity": {
                            "name": "Severity",
                            "state": {"moderate": "Moderate", "minor": "Minor"},
                        },
                    },
                },
                "address": {"name": "IP address"},
                "model": {"name": "Model"},
                "software_version": {"name": "Software version"},
                "wifi_band": {
                    "name": "Wi-Fi band",
                    "state": {"2_4_ghz": "2.4 GHz", "5_ghz": "5 GHz", "wired": "Wired"},
                },
                "last_seen": {"name": "Last seen"},
                "diagnosis": {
                    "name": "Diagnosis",
                    "state": {
                        "ok": "OK",
                        "player_unreachable": "A player cannot reach the network (1001)",
                        "all_players_unreachable": "No player can be reached (1001)",
                        "sonos_outage": "Sonos cloud outage (1003)",
                        "internet_down": "Internet down (1003)",
                        "dns_failure": "DNS failure (1003)",
                        "ports_blocked": "Sonos traffic blocked (1003)",
                    },
                    "state_attributes": {
                        "cloud_failing_since": {"name": "Cloud failing since"},
                        "status_indicator": {"name": "Status page indicator"},
                        "unreachable_players": {"name": "Unreachable players"},
                    },
                },
            },
        },
        "exceptions": {
            "household_unreachable": {
                "message": "No Sonos player of the household answered at {host}.",
            },
        },
        "issues": issues(),
    }


def main() -> None:
    text = json.dumps(strings(), indent=2, ensure_ascii=False) + "\n"
    for path in (INTEGRATION / "strings.json", INTEGRATION / "translations" / "en.json"):
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
