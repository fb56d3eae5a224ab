"""Change the simulated world of a running scripts/develop (what you see: docs/development/demo.md)."""

import argparse
import json
from pathlib import Path
import sys
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.develop import SCENARIOS


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="scenarios:\n"
        + "\n".join(
            f"  {name}{' PLAYER' if scenario.needs_player else ''}: {scenario.help}"
            for name, scenario in SCENARIOS.items()
        )
        + "\n  status: show the simulated world",
    )
    parser.add_argument("scenario", choices=[*SCENARIOS, "status"])
    parser.add_argument("player", nargs="*", help="the player's name, e.g. Kitchen")
    parser.add_argument("--control-port", type=int, default=8399)
    args = parser.parse_args()
    player = " ".join(args.player)
    if args.scenario != "status" and SCENARIOS[args.scenario].needs_player and not player:
        parser.error(f"{args.scenario} needs a player name")
    url = f"http://127.0.0.1:{args.control_port}/"
    request = (
        Request(url)
        if args.scenario == "status"
        else Request(
            url,
            data=json.dumps({"scenario": args.scenario, "player": player}).encode(),
            headers={"Content-Type": "application/json"},
        )
    )
    try:
        with urlopen(request, timeout=10) as reply:  # noqa: S310  (a loopback URL we build)
            print(json.dumps(json.load(reply), indent=2))
    except HTTPError as error:
        print(f"refused: {json.load(error).get('error')}", file=sys.stderr)
        return 2
    except URLError as error:
        print(f"scripts/develop is not running ({error.reason})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
