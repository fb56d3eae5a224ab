"""Build strings.json and translations/<language>.json from the phrase books.

Repair cards list the documented fix steps in the order the catalog gives for each diagnosed
cause. Home Assistant translations are static text, so each (error, cause) pair gets its own
card, assembled here from one text per step. Translators therefore work on a phrase book
(`phrasebooks/<language>.json`: each step, cause and sentence once), not on the 20-odd
cards built from it. In a phrase, `{name}` is a placeholder Home Assistant fills in and
`[[steps]]` a slot this script fills in. `[[path:sonos_upnp]]` is where a setting is, in the
Sonos app or in Home Assistant: each phrase book lists its paths once (`paths`), so a path is
worded, and corrected, in one place.

Run `scripts/exec python tools/build_strings.py` after changing a phrase book or the
catalog; tests/test_translations.py fails until you do.
"""

import json
from pathlib import Path
import re
import sys
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from custom_components.sonos_troubleshooter.sonos_health.error_catalog import (
    UNSTABLE_CARDS,
    UNSTABLE_STEPS,
    PlayerCard,
    steps_for,
)
from custom_components.sonos_troubleshooter.sonos_health.error_rules import CloudCause, ErrorCode
from custom_components.sonos_troubleshooter.sonos_health.power_rules import Action, Refusal

INTEGRATION = Path(__file__).resolve().parents[1] / "custom_components" / "sonos_troubleshooter"
PHRASES = Path(__file__).resolve().parents[1] / "phrasebooks"
SOURCE_LANGUAGE = "en"
SLOT = re.compile(r"\[\[(\w+)\]\]")
PATH = re.compile(r"\[\[path:(\w+)\]\]")

type Phrases = dict[str, Any]


def languages() -> list[str]:
    """List every language with a phrase book, English first."""
    others = sorted(path.stem for path in PHRASES.glob("*.json") if path.stem != SOURCE_LANGUAGE)
    return [SOURCE_LANGUAGE, *others]


def phrase_book(language: str) -> Phrases:
    book: Phrases = json.loads((PHRASES / f"{language}.json").read_text(encoding="utf-8"))
    return book


def fill(phrase: str, **slots: str) -> str:
    """Fill the [[slots]] of a phrase (an unknown slot is a phrase book's mistake: KeyError)."""
    return SLOT.sub(lambda match: slots[match.group(1)], phrase)


def with_paths(node: object, paths: dict[str, str]) -> object:
    """Write out every [[path:...]] slot (an unknown path is a phrase book's mistake: KeyError)."""
    if isinstance(node, str):
        return PATH.sub(lambda match: paths[match.group(1)], node)
    if isinstance(node, dict):
        return {key: with_paths(value, paths) for key, value in node.items()}
    return node


def numbered(steps: tuple[str, ...], texts: dict[str, str]) -> str:
    return "\n".join(f"{number}. {texts[step]}" for number, step in enumerate(steps, 1))


def fix_flow(
    phrases: Phrases,
    *,
    card: dict[str, str],
    code: str,
    escalation: str,
    steps: tuple[str, ...],
    facts: dict[str, str],
    actions: tuple[Action, ...],
    flow_title: str | None = None,
    step_texts: dict[str, str] | None = None,
    step_titles: dict[str, str] | None = None,
    **overview_slots: str,
) -> dict[str, object]:
    """One guided fix: overview, a page per step, the check, the verdict, the escalation.

    The overview lists the same step texts, in the same order, as the step pages. `actions`
    are the steps Home Assistant can perform in this flow: each has a progress text, a
    success message and a page for when it did not help. `step_texts` and `step_titles`
    word some steps for this card alone (a router without "Wi-Fi" for a wired player).
    """
    texts = {**phrases["steps"][code], **(step_texts or {})}
    titles = {**phrases["step_titles"][code], **(step_titles or {})}
    escalate = phrases["escalate"][escalation]
    overview = fill(
        card["overview"], steps=numbered(steps, texts), escalate=escalate, **overview_slots
    )
    guided = phrases["guided_fix"]
    said = phrases["actions"]
    report_menu = guided["report_menu"]

    def report(title: str, description: str) -> dict[str, object]:
        return {"title": title, "description": description, "menu_options": report_menu}

    report_pages = {
        **{
            f"{action}_not_helped": report(
                said[action]["not_helped_title"], said[action]["not_helped"]
            )
            for action in actions
        },
        "action_failed": report(said["failed_title"], said["failed"]),
        "action_interrupted": report(said["interrupted_title"], said["interrupted"]),
        **{
            f"refused_{refusal}": report(
                said["refused"][refusal]["title"], said["refused"][refusal]["description"]
            )
            for refusal in Refusal
        },
    }
    step_pages = {
        step: {
            "title": fill(guided["step_title"], title=titles[step]),
            "description": (f"{facts[step]}\n\n" if facts.get(step) else "") + texts[step],
            "menu_options": guided["step_menu"],
        }
        for step in steps
    }
    return {
        "step": {
            "init": {
                "title": flow_title or card["flow_title"],
                "description": f"{overview}\n\n{guided['overview_closing']}",
                "menu_options": guided["init_menu"],
            },
            **step_pages,
            **report_pages,
            "still_failing": {
                "title": guided["still_failing"]["title"],
                "description": card["still_failing"],
                "menu_options": guided["still_failing"]["menu"],
            },
            "escalate": {
                "title": guided["escalate"]["title"],
                "description": escalate,
                "menu_options": guided["escalate"]["menu"],
            },
        },
        "progress": {
            "check": card["checking"],
            **{action: said[action]["progress"] for action in actions},
        },
        "create_entry": {
            "fixed": card["fixed"],
            **{f"fixed_{action}": said[action]["fixed"] for action in actions},
        },
        "abort": guided["abort"],
    }


def player_cards(phrases: Phrases) -> dict[str, dict[str, object]]:
    """Build the 1001 card of one player, and its variants for bonded sets and BOOSTs.

    A variant opens with what the player is to its room (`bonds_1001`), has its own title,
    may order the steps differently (the catalog says how) and adds facts to some steps.
    A player on a cable has its own variant of each (`wired_1001`): its title, causes,
    escalation and the wording of the steps that named Wi-Fi; a bond's own title stays
    (the home theatre's and the BOOST's name no Wi-Fi). The overview says how the player
    connects (`[[link]]`: its Wi-Fi band, its cable, or for a satellite its main unit) and
    what fails (`[[problem]]`).
    """
    facts, wired = phrases["facts"], phrases["wired_1001"]
    result: dict[str, dict[str, object]] = {}
    for kind in PlayerCard:
        card = {**phrases["error_1001"], **wired} if kind.wired else phrases["error_1001"]
        bond = phrases["bonds_1001"].get(kind.bond, {})
        result[kind] = {
            "title": bond.get("title", card["title"]),
            "fix_flow": fix_flow(
                phrases,
                card={
                    **card,
                    "overview": f"{bond['lead']}\n\n{card['overview']}"
                    if bond
                    else card["overview"],
                },
                code="1001",
                escalation="1001_wired" if kind.wired else "1001",
                steps=steps_for(ErrorCode.E1001, card=kind),
                facts={**facts["1001"], **bond.get("facts", {})},
                actions=(Action.POWER_CYCLE, Action.ROUTER_RESTART),
                flow_title=bond.get("flow_title", card["flow_title"]),
                step_texts=wired["steps"] if kind.wired else None,
                step_titles=wired["step_titles"] if kind.wired else None,
                causes=bond.get("causes", card["causes"] if kind.wired else phrases["causes_1001"]),
                link=bond.get("link", card["link"]),
                problem=bond.get("problem", card["problem"]),
            ),
        }
    return result


def issues(phrases: Phrases) -> dict[str, dict[str, object]]:
    facts, escalate = phrases["facts"], phrases["escalate"]
    result = player_cards(phrases)
    card = phrases["error_1001_all_players"]
    steps_all = steps_for(ErrorCode.E1001, all_players_down=True)
    facts_all = facts["1001_all_players"]
    result["error_1001_all_players"] = {
        "title": card["title"],
        "fix_flow": fix_flow(
            phrases,
            card=card,
            code="1001",
            escalation="1001_all_players",
            steps=steps_all,
            facts={step: facts_all.get(step, facts_all["default"]) for step in steps_all},
            actions=(Action.ROUTER_RESTART,),
        ),
    }
    # The early warning is a card without a guided fix: it closes itself after a quiet hour.
    # One for each way a player connects, each with the steps that fit it.
    card = phrases["unstable_connection"]
    texts = phrases["steps"]["1001"]
    for uplink, key in UNSTABLE_CARDS.items():
        description = card[f"description{key.removeprefix('unstable_connection')}"]
        steps = "\n".join(f"- {texts[step]}" for step in UNSTABLE_STEPS[uplink])
        result[key] = {"title": card["title"], "description": fill(description, steps=steps)}
    card = phrases["error_1003"]
    for cause in CloudCause:
        cause_title = phrases["cause_title_1003"][cause]
        # A Sonos outage has a card only past 24 hours, when the user can act (see issues.py).
        for escalated in (False, True) if cause is not CloudCause.SONOS_OUTAGE else (True,):
            result[f"error_1003_{cause}{'_escalated' if escalated else ''}"] = {
                "title": fill(card["title_escalated" if escalated else "title"], cause=cause_title),
                "fix_flow": fix_flow(
                    phrases,
                    card=card,
                    code="1003",
                    escalation="1003",
                    steps=steps_for(ErrorCode.E1003, cause),
                    facts=facts["1003"],
                    actions=(Action.ROUTER_RESTART,),
                    flow_title=fill(card["flow_title"], cause=cause_title),
                    lead=escalate["1003_escalated_lead"] + "\n\n" if escalated else "",
                    severity=card["severity_escalated" if escalated else "severity"],
                    cause=phrases["cause_1003"][cause],
                ),
            }
    # UPnP off: a player's own card, and (UPnP is one switch for the whole system) the
    # household's when every player that answers refuses, with the same step for all at once.
    for key in ("upnp_disabled", "upnp_disabled_household"):
        card = phrases[key]
        result[key] = {
            "title": card["title"],
            "fix_flow": fix_flow(
                phrases,
                card=card,
                code=key,
                escalation=key,
                steps=steps_for(ErrorCode.UPNP_DISABLED),
                facts=facts[key],
                actions=(),
            ),
        }
    # No topology to tell who is away (a household too large to answer): a card to read.
    return {**result, **core_issues(phrases), "topology_unknown": phrases["topology_unknown"]}


def core_flow(phrases: Phrases, card: dict[str, str], overview: str) -> dict[str, object]:
    """Build the fix flow of a card about HA core's Sonos integration: reload, check, explain."""
    shared = phrases["core_fix"]
    menu = shared["menu"]
    return {
        "step": {
            "init": {
                "title": card["flow_title"],
                "description": card[overview],
                "menu_options": {key: menu[key] for key in ("reload", "check")},
            },
            "still_lost": {
                "title": shared["still_lost_title"],
                "description": card["still_lost"],
                "menu_options": menu,
            },
            "still_failing": {
                "title": shared["still_failing_title"],
                "description": card["still_failing"],
                "menu_options": menu,
            },
        },
        "progress": {"reload": card["reloading"], "check": card["checking"]},
        "create_entry": {"fixed": card["fixed"], "fixed_reload": card["fixed_reload"]},
        "abort": shared["abort"],
    }


def core_issues(phrases: Phrases) -> dict[str, dict[str, object]]:
    """Build the cards about HA core's Sonos integration: a lost speaker, events not arriving."""
    lost, events = phrases["core_lost"], phrases["core_events"]
    return {
        "core_lost": {"title": lost["title"], "fix_flow": core_flow(phrases, lost, "overview")},
        "core_lost_moved": {
            "title": lost["title_moved"],
            "fix_flow": core_flow(phrases, lost, "overview_moved"),
        },
        "core_events": {
            "title": events["title"],
            "fix_flow": core_flow(phrases, events, "overview"),
        },
    }


def strings(language: str = SOURCE_LANGUAGE) -> dict[str, object]:
    """Assemble the whole translation file of one language, its paths written out."""
    phrases = phrase_book(language)
    assembled = _assembled(phrases)
    return {key: with_paths(value, phrases["paths"]) for key, value in assembled.items()}


def _assembled(phrases: Phrases) -> dict[str, object]:
    """Assemble the translation file from one phrase book, its [[path:...]] slots still in."""
    static = phrases["static"]
    attributes = phrases["error_attributes"]
    titles = phrases["step_titles"]
    error_attributes = {
        **attributes,
        # Step ids shared by both errors take the 1003 title, as the merged attribute did.
        "first_step": {
            **attributes["first_step"],
            "state": {**titles["1001"], **titles["1003"], **titles["upnp_disabled"]},
        },
    }
    names = phrases["error_names"]
    config = static["config"]
    entity = static["entity"]
    event = entity["event"]["error_events"]
    error_code = entity["sensor"]["error_code"]
    return {
        "config": {
            "flow_title": config["flow_title"],
            "step": config["step"],
            "error": phrases["host_errors"],
            "abort": {**config["abort"], **phrases["host_errors"]},
        },
        "options": static["options"],
        "entity": {
            "event": {
                "error_events": {
                    "name": event["name"],
                    "state_attributes": {
                        "event_type": {
                            "state": {**names, **event["state_attributes"]["event_type"]["state"]}
                        },
                        **error_attributes,
                        "code": event["state_attributes"]["code"],
                    },
                }
            },
            "binary_sensor": entity["binary_sensor"],
            "image": entity["image"],
            "sensor": {
                **entity["sensor"],
                "error_code": {
                    "name": error_code["name"],
                    "state": {**error_code["state"], **names},
                    "state_attributes": error_attributes,
                },
            },
        },
        "device": {
            **{key: {"name": name} for key, name in phrases["device_names"].items()},
            **{
                f"{key}_numbered": {"name": fill(phrases["device_name_numbered"], name=name)}
                for key, name in phrases["device_names"].items()
            },
        },
        # Words the household map draws that no entity state carries (see image.py).
        "selector": static["selector"],
        "exceptions": static["exceptions"],
        "services": static["services"],
        "issues": issues(phrases),
    }


def rendered(language: str) -> str:
    return json.dumps(strings(language), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    for language in languages():
        text = rendered(language)
        (INTEGRATION / "translations" / f"{language}.json").write_text(text, encoding="utf-8")
        if language == SOURCE_LANGUAGE:
            (INTEGRATION / "strings.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
