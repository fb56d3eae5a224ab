"""HA core's Sonos integration and Sonos Troubleshooter side by side, against the emulator.

Started by `scripts/side-by-side` (see docs/development/side-by-side.md), beside a running `scripts/develop
--core-sonos`, inside the same private network namespace. It logs in as the demo user, changes
the simulated world through scripts/simulate's control endpoint and records, from Home
Assistant's own REST and websocket APIs, what both integrations show at each step: every
player's core media player state and this integration's error code, and the repair issues of
both (`sonos` and `sonos_troubleshooter`). Each step waits for what it expects, up to a bound,
and says what it saw when the bound passed. The steps:

1. core sees every room (a device and a media player per room), this integration every player;
2. core raises `subscriptions_failed` (the demo's emulator grants subscriptions but sends no
   event, as a network that blocks them) and this integration's `core_events` card follows;
3. `upnp-off Office`: this integration's `upnp_disabled` card (and core's own issue when its
   next manual host scan meets the 403), then `on Office` closes ours; then `upnp-off-all`, the
   Sonos app's one switch off for every player: one household card of ours and no card per
   player (and core's own issue if it raises one), then `upnp-on-all` closes it;
4. `off Kitchen` until core marks it unavailable (270 s without activity and a failed ping),
   then `move Kitchen` and `on Kitchen`: the speaker answers at a new address while core keeps
   asking the old one; this integration's `core_lost` card after its 5 minutes.
"""

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
import json
from pathlib import Path
import sys
import time
from typing import Any, TextIO

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from custom_components.sonos_troubleshooter.const import DOMAIN
from tools.develop import Demo

CORE = "sonos"
DOMAINS = (CORE, DOMAIN)


class Recorder:
    """Talks to Home Assistant and the control endpoint; writes what it sees to the log."""

    def __init__(self, base: str, control: str, log: TextIO) -> None:
        self.base = base
        self.control = control
        self.log = log
        self.token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1

    def say(self, text: str) -> None:
        line = f"{datetime.now(UTC).strftime('%H:%M:%S')} {text}"
        print(line, flush=True)
        self.log.write(line + "\n")
        self.log.flush()

    async def connect(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        demo = Demo(self.base, None, 10)
        await demo.run()  # waits for HTTP, then logs in (the demo has onboarded already)
        self.token = demo.token
        self._ws = await session.ws_connect(self.base.replace("http", "ws") + "/api/websocket")
        await self._ws.receive_json()  # auth_required
        await self._ws.send_json({"type": "auth", "access_token": self.token})
        reply = await self._ws.receive_json()
        if reply["type"] != "auth_ok":
            raise RuntimeError(f"websocket authentication failed: {reply}")

    async def command(self, kind: str, **data: Any) -> Any:
        assert self._ws is not None
        message_id = self._next_id
        self._next_id += 1
        await self._ws.send_json({"id": message_id, "type": kind, **data})
        while True:
            reply = await self._ws.receive_json()
            if reply.get("id") == message_id:
                if not reply.get("success"):
                    raise RuntimeError(f"{kind}: {reply}")
                return reply["result"]

    async def states(self) -> dict[str, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.get(self.base + "/api/states", headers=headers) as reply:
            return {state["entity_id"]: state for state in await reply.json()}

    async def world(self) -> dict[str, Any]:
        async with self.session.get(self.control) as reply:
            return dict(await reply.json())

    async def simulate(self, scenario: str, player: str = "") -> None:
        self.say(f"$ scripts/simulate {scenario} {player}".rstrip())
        payload = {"scenario": scenario, "player": player}
        async with self.session.post(self.control, json=payload) as reply:
            if reply.status != 200:
                raise RuntimeError(f"simulate {scenario} {player}: {await reply.text()}")

    async def issues(self) -> list[dict[str, Any]]:
        result = await self.command("repairs/list_issues")
        return [issue for issue in result["issues"] if issue["domain"] in DOMAINS]

    async def players(self) -> list[dict[str, Any]]:
        """Each simulated player with its core media player and this integration's sensors.

        Devices are matched by the player's id, both integrations' identifier. Core keeps a
        device per room only (a Sub, rears or a pair's second speaker have none of their own).
        """
        devices = await self.command("config/device_registry/list")
        entities = await self.command("config/entity_registry/list")
        states = await self.states()
        ours = {
            device["name"]: device["identifiers"][0][1]
            for device in devices
            if device["identifiers"] and device["identifiers"][0][0] == DOMAIN
        }
        rows = []
        for player in (await self.world())["players"]:
            uid = ours.get(player["name"])
            row: dict[str, Any] = {"name": player["name"], "address": player["address"], "uid": uid}
            for device in devices:
                if not device["identifiers"] or device["identifiers"][0][1] != uid:
                    continue
                domain = device["identifiers"][0][0]
                mine = [entity for entity in entities if entity["device_id"] == device["id"]]
                if domain == CORE:
                    row["core_url"] = device["configuration_url"]
                    wanted = [e for e in mine if e["entity_id"].startswith("media_player.")]
                    key = "core_media_player"
                else:
                    wanted = [e for e in mine if e["entity_id"].endswith("_error_code")]
                    key = "our_error_code"
                for entity in wanted:
                    state = states.get(entity["entity_id"], {})
                    row[key] = f"{entity['entity_id']}={state.get('state')}"
                    if key == "core_media_player":
                        row["core_last_changed"] = state.get("last_changed", "")[:19]
            rows.append(row)
        return rows

    async def snapshot(self, title: str) -> None:
        self.say(f"--- {title}")
        for row in await self.players():
            self.say("  player " + json.dumps(row))
        for issue in await self.issues():
            self.say(
                "  issue "
                + json.dumps(
                    {
                        key: issue[key]
                        for key in (
                            "domain",
                            "issue_id",
                            "translation_key",
                            "severity",
                            "translation_placeholders",
                            "created",
                        )
                    }
                )
            )

    async def wait_for(
        self, what: str, check: Callable[[], Awaitable[bool]], seconds: float
    ) -> bool:
        started = time.monotonic()
        self.say(f"waiting (at most {seconds:.0f} s) for: {what}")
        while time.monotonic() - started < seconds:
            if await check():
                self.say(f"seen after {time.monotonic() - started:.0f} s: {what}")
                return True
            await asyncio.sleep(2)
        self.say(f"NOT seen within {seconds:.0f} s: {what}")
        return False

    async def has_issue(self, domain: str, prefix: str) -> bool:
        return any(
            issue["domain"] == domain and issue["issue_id"].startswith(prefix)
            for issue in await self.issues()
        )

    async def player(self, name: str) -> dict[str, Any]:
        return next(row for row in await self.players() if row["name"] == name)


async def run(args: argparse.Namespace, log: TextIO) -> int:
    recorder = Recorder(
        f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.control_port}/", log
    )
    async with aiohttp.ClientSession() as session:
        await recorder.connect(session)
        say, failures = recorder.say, 0

        async def everyone_seen() -> bool:
            rows = await recorder.players()
            core = [row["core_media_player"] for row in rows if "core_media_player" in row]
            return (
                len(core) == args.rooms
                and all(state.split("=")[1] not in ("unavailable", "None") for state in core)
                and all(row.get("our_error_code", "=None").split("=")[1] == "ok" for row in rows)
            )

        failures += not await recorder.wait_for(
            "core Sonos sees every room, Sonos Troubleshooter every player", everyone_seen, 120
        )
        await recorder.snapshot("1. side by side")

        async def both_event_issues() -> bool:
            return await recorder.has_issue(
                CORE, "subscriptions_failed"
            ) and await recorder.has_issue(DOMAIN, "core_events_")

        failures += not await recorder.wait_for(
            "core's subscriptions_failed and our core_events card", both_event_issues, 60
        )
        await recorder.snapshot("2. events cannot reach Home Assistant")

        office = (await recorder.player("Office"))["uid"]
        await recorder.simulate("upnp-off", "Office")
        failures += not await recorder.wait_for(
            "our upnp_disabled card for Office",
            lambda: recorder.has_issue(DOMAIN, f"upnp_disabled_{office}"),
            60,
        )
        await recorder.wait_for(
            "core's own upnp_disabled issue (its manual host scan, once a minute)",
            lambda: recorder.has_issue(CORE, "upnp_disabled"),
            75,
        )
        await recorder.snapshot("3. UPnP switched off on Office")
        await recorder.simulate("on", "Office")

        async def upnp_closed() -> bool:
            return not await recorder.has_issue(DOMAIN, f"upnp_disabled_{office}")

        failures += not await recorder.wait_for("our upnp_disabled card closed", upnp_closed, 60)

        await recorder.simulate("upnp-off-all")

        async def one_household_card() -> bool:
            upnp = [
                issue["issue_id"]
                for issue in await recorder.issues()
                if issue["domain"] == DOMAIN and issue["issue_id"].startswith("upnp_disabled_")
            ]
            return len(upnp) == 1 and upnp[0].startswith("upnp_disabled_all_")

        failures += not await recorder.wait_for(
            "our one upnp_disabled card for the household, none per player", one_household_card, 60
        )
        await recorder.wait_for(
            "core's own upnp_disabled issue (its manual host scan, once a minute)",
            lambda: recorder.has_issue(CORE, "upnp_disabled"),
            75,
        )
        await recorder.snapshot("3b. UPnP switched off for the whole system")
        await recorder.simulate("upnp-on-all")

        async def household_card_closed() -> bool:
            return not await recorder.has_issue(DOMAIN, "upnp_disabled_")

        failures += not await recorder.wait_for(
            "our household upnp_disabled card closed", household_card_closed, 60
        )

        if args.skip_core_lost:
            await recorder.snapshot("end")
            return 1 if failures else 0
        kitchen = (await recorder.player("Kitchen"))["uid"]
        await recorder.simulate("off", "Kitchen")

        async def core_lost_kitchen() -> bool:
            row = await recorder.player("Kitchen")
            return str(row.get("core_media_player", "")).endswith("=unavailable")

        failures += not await recorder.wait_for(
            "core marks Kitchen unavailable (270 s without activity, then a failed ping)",
            core_lost_kitchen,
            480,
        )
        await recorder.snapshot("4a. Kitchen off: core lost it, and so do we (1001)")
        await recorder.simulate("move", "Kitchen")
        await recorder.simulate("on", "Kitchen")
        failures += not await recorder.wait_for(
            "our core_lost card for Kitchen (core unavailable >= 5 min, Kitchen answers us)",
            lambda: recorder.has_issue(DOMAIN, f"core_lost_{kitchen}"),
            480,
        )
        await recorder.snapshot("4b. Kitchen answers at a new address; core still lost it")
        say(f"done: {failures} expectation(s) not met")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's port")
    parser.add_argument("--control-port", type=int, default=8399, help="scripts/simulate's port")
    parser.add_argument(
        "--log", type=Path, default=REPO / ".develop" / "side-by-side.log", help="the evidence"
    )
    parser.add_argument(
        "--rooms", type=int, default=6, help="rooms of the demo household: core's media players"
    )
    parser.add_argument(
        "--skip-core-lost",
        action="store_true",
        help="leave out step 4 (it waits core's 270 s and this integration's 5 minutes out)",
    )
    args = parser.parse_args()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    with args.log.open("w") as log:
        return asyncio.run(run(args, log))


if __name__ == "__main__":
    sys.exit(main())
