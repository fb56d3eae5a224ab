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

from custom_components.sonos_troubleshooter.catalog import steps_for
from custom_components.sonos_troubleshooter.diagnosis import CloudCause, ErrorCode

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
ESCALATE_1001 = "**Still failing after every step?** The speaker's Wi-Fi hardware may be faulty. Contact [Sonos Support]({support_url}); speakers under warranty are usually replaced free of charge. Have the serial number ready: `{serial}` (also printed on the underside)."
ESCALATE_1001_ALL = "**Still failing after every step?** If one speaker keeps failing once the others are back, its Wi-Fi hardware may be faulty: contact [Sonos Support]({support_url}) with its serial number (printed on the underside)."
ESCALATE_1003 = "**When to contact support:** error 1003 is almost never a hardware fault. If it lasts more than 24 hours across more than one internet connection, contact [Sonos Support]({support_url}). In a business installation, check the firewall rules with your IT team first."
ESCALATED_1003 = "**This has lasted more than 24 hours.** Sonos advises contacting support when error 1003 persists this long across more than one internet connection: try a mobile hotspot first (the last step), then contact Sonos Support."
CAUSES_1001 = "Common causes: the Wi-Fi password changed; the router restarted and handed out a new IP configuration; the speaker is too far from the router or access point; the network runs on a band the speaker does not support; a temporary firmware glitch blocks the radio."


STEP_TITLES_1001 = {
    "power_cycle_speaker": "Power-cycle the speaker",
    "restart_router": "Restart the Wi-Fi router",
    "factory_reset": "Factory-reset the speaker and set it up again",
    "move_closer": "Move the speaker closer to the router",
    "enable_2_4_ghz": "Enable the 2.4 GHz band",
}
STEP_TITLES_1003 = {
    "check_status_page": "Check the Sonos status page",
    "restart_router": "Restart the router",
    "power_cycle_speaker": "Power-cycle the speaker",
    "sign_in_again": "Sign in to your Sonos account again",
    "check_firewall": "Check firewall, VPN and content filters",
    "try_hotspot": "Try a mobile hotspot",
}
# What Home Assistant measured that matters for a step, shown above the step's text.
FACTS_1001 = {
    "power_cycle_speaker": "The speaker to power-cycle: **{name}** ({model}, serial number {serial}).",
    "restart_router": "{name} last answered Home Assistant at {last_seen}.",
    "factory_reset": "In the app, choose **{name}**.",
    "move_closer": "{name} was last seen at address {address}, on Wi-Fi {band}.",
    "enable_2_4_ghz": "{name} last connected on Wi-Fi **{band}**.",
}
FACTS_1001_ALL = {
    "restart_router": "All {count} players ({players}) stopped answering at the same time, which points to the router or Home Assistant's own network connection rather than the speakers.",
}
FACTS_1001_ALL_DEFAULT = "Players not answering: {players}."
FACTS_1003 = {
    "check_status_page": "The status page says right now: **{status}**.",
    "restart_router": "Internet reference hosts reachable: {reference}. Sonos names that did not resolve: {unresolved}.",
    "power_cycle_speaker": "Affected players: {players}.",
    "sign_in_again": "Affected players: {players}.",
    "check_firewall": "Sonos connections that failed although the names resolved: {failed_targets}.",
    "try_hotspot": "Affected players: {players}.",
}
OVERVIEW_CLOSING = (
    "Home Assistant can walk you through these steps one at a time and check again after each one."
)
CHECK_MENU = {"check": "Done, check again", "skip": "Skip this step"}


def numbered(steps: tuple[str, ...], texts: dict[str, str]) -> str:
    return "\n".join(f"{number}. {texts[step]}" for number, step in enumerate(steps, 1))


def fix_flow(
    *,
    title: str,
    overview: str,
    steps: tuple[str, ...],
    titles: dict[str, str],
    texts: dict[str, str],
    facts: dict[str, str],
    checking: str,
    still_failing: str,
    escalate: str,
    fixed: str,
) -> dict[str, object]:
    """One guided fix: overview, a page per step, the check, the verdict, the escalation."""
    step_pages = {
        step: {
            "title": f"Step {{step}} of {{steps}}: {titles[step]}",
            "description": (f"{facts[step]}\n\n" if facts.get(step) else "") + texts[step],
            "menu_options": CHECK_MENU,
        }
        for step in steps
    }
    return {
        "step": {
            "init": {
                "title": title,
                "description": f"{overview}\n\n{OVERVIEW_CLOSING}",
                "menu_options": {
                    "start": "Walk me through the steps",
                    "check": "Check again now",
                },
            },
            **step_pages,
            "still_failing": {
                "title": "Still failing",
                "description": still_failing,
                "menu_options": {"next": "Go on to the next step", "check": "Check again"},
            },
            "escalate": {
                "title": "Every step tried",
                "description": escalate,
                "menu_options": {"check": "Check again", "finish": "Close"},
            },
        },
        "progress": {"check": checking},
        "create_entry": {"fixed": fixed},
        "abort": {
            "still_failing": "The problem is still there. The card stays open, and Home Assistant keeps checking at every scan; the card closes by itself once the problem is gone.",
            "entry_not_loaded": "Sonos Troubleshooter is not running for this household, so nothing can be checked. Enable or reload it under Settings > Devices & services, then try again.",
        },
    }


def issues() -> dict[str, dict[str, object]]:
    steps_1001 = steps_for(ErrorCode.E1001)
    result: dict[str, dict[str, object]] = {
        "error_1001": {
            "title": "{name} cannot reach the Wi-Fi network (Sonos error 1001)",
            "fix_flow": fix_flow(
                title="{name} cannot reach the Wi-Fi network",
                overview=(
                    "{name} ({model}, address {address}, Wi-Fi {band}) has not answered Home Assistant since {since}: "
                    "Sonos error 1001, the speaker cannot connect to your Wi-Fi network. Severity: moderate.\n\n"
                    f"{CAUSES_1001}\n\nSerial number: {{serial}}\n\nTry these steps in order:\n"
                    f"{numbered(steps_1001, STEPS_1001)}\n\n{ESCALATE_1001}"
                ),
                steps=steps_1001,
                titles=STEP_TITLES_1001,
                texts=STEPS_1001,
                facts=FACTS_1001,
                checking="Checking whether {name} answers at {address}...",
                still_failing="Checked at {checked_at}: **{name}** still does not answer at {address}. Go on with the next step, or check again once the speaker has had a minute to reconnect.",
                escalate=ESCALATE_1001,
                fixed="**{name}** answers again at {address}. Error 1001 is gone and this card is closed.",
            ),
        },
    }
    steps_all = steps_for(ErrorCode.E1001, all_players_down=True)
    result["error_1001_all_players"] = {
        "title": "No Sonos player can be reached (Sonos error 1001)",
        "fix_flow": fix_flow(
            title="No Sonos player can be reached",
            overview=(
                "None of your {count} Sonos players ({players}) has answered Home Assistant since {since}. "
                "When every player drops at the same time, the cause is almost always the router or Home "
                "Assistant's own network connection rather than the speakers. Severity: moderate.\n\n"
                f"Try these steps in order:\n{numbered(steps_all, STEPS_1001)}\n\n{ESCALATE_1001_ALL}"
            ),
            steps=steps_all,
            titles=STEP_TITLES_1001,
            texts=STEPS_1001,
            facts={step: FACTS_1001_ALL.get(step, FACTS_1001_ALL_DEFAULT) for step in steps_all},
            checking="Checking whether your Sonos players answer...",
            still_failing="Checked at {checked_at}: still no player answers ({players}). Go on with the next step, or check again once the router has fully started.",
            escalate=ESCALATE_1001_ALL,
            fixed="Your players answer again, so the network is back. Error 1001 is gone and this card is closed; a player that still does not answer gets its own card.",
        ),
    }
    for cause in CloudCause:
        steps = steps_for(ErrorCode.E1003, cause)
        for escalated in (False, True):
            lead = ESCALATED_1003 + "\n\n" if escalated else ""
            title = (
                f"Sonos cloud unreachable for over 24 hours: {CAUSE_TITLE[cause]} (Sonos error 1003)"
                if escalated
                else f"Sonos cannot reach its cloud: {CAUSE_TITLE[cause]} (Sonos error 1003)"
            )
            result[f"error_1003_{cause}{'_escalated' if escalated else ''}"] = {
                "title": title,
                "fix_flow": fix_flow(
                    title=f"Sonos cannot reach its cloud: {CAUSE_TITLE[cause]}",
                    overview=(
                        f"{lead}{{players}} are on your network, but the Sonos cloud has not been reachable since {{since}}: "
                        "Sonos error 1003. Streaming services and voice assistants need the cloud; local music, "
                        f"AirPlay, line-in and TV audio keep working. Severity: {'raised after 24 hours' if escalated else 'minor'}.\n\n"
                        f"Most likely cause: {CAUSE_1003[cause]}\n\nTry these steps in order:\n"
                        f"{numbered(steps, STEPS_1003)}\n\n{ESCALATE_1003}"
                    ),
                    steps=steps,
                    titles=STEP_TITLES_1003,
                    texts=STEPS_1003,
                    facts=FACTS_1003,
                    checking="Checking the Sonos cloud and the status page...",
                    still_failing=(
                        "Checked at {checked_at}: the Sonos cloud still cannot be reached.\n\n"
                        "- Sonos connections that failed: {failed_targets}\n"
                        "- Sonos names that did not resolve: {unresolved}\n"
                        "- Internet reference hosts reachable: {reference}\n"
                        "- [Sonos status page]({status_url}): {status}"
                    ),
                    escalate=ESCALATE_1003,
                    fixed="The Sonos cloud answers again. Error 1003 is gone and this card is closed.",
                ),
            }
    return result


CAUSE_ATTRIBUTE = {
    "name": "Cause",
    "state": {
        "sonos_outage": "Sonos outage",
        "internet_down": "Internet down",
        "dns_failure": "DNS failure",
        "ports_blocked": "Ports blocked",
        "all_players_unreachable": "All players unreachable",
    },
}
ERROR_ATTRIBUTES = {
    "since": {"name": "Since"},
    "severity": {"name": "Severity", "state": {"moderate": "Moderate", "minor": "Minor"}},
    "first_step": {"name": "First fix step", "state": {**STEP_TITLES_1001, **STEP_TITLES_1003}},
}


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
            "event": {
                "error_events": {
                    "name": "Error events",
                    "state_attributes": {
                        "event_type": {
                            "state": {
                                "1001": "1001: cannot reach the network",
                                "1003": "1003: cannot reach the Sonos cloud",
                                "cleared": "Cleared",
                            }
                        },
                        "cause": CAUSE_ATTRIBUTE,
                        **ERROR_ATTRIBUTES,
                        "code": {"name": "Cleared error"},
                    },
                }
            },
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
                        "cause": CAUSE_ATTRIBUTE,
                        **ERROR_ATTRIBUTES,
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
