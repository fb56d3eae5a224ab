"""scripts/develop's first start, stopped halfway and started again, as a newcomer would.

tools/develop.py (what scripts/develop runs) runs as a process on its own ports and loopback
addresses (127.0.6-7.x, apart from the other tests and a developer's own demo) with a fresh
configuration folder. Starts are stopped at points of the setup, the way Ctrl+C, a closed
terminal or a crash stops them; each start must get past where the one before stopped, and the
last must print the credentials, with no ERROR and no traceback on the way, and leave a demo
one can log in to, with the household loaded. And scripts/simulate's household-wide settings
reach the emulated players.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
import json
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time
from typing import Any
import urllib.parse
import urllib.request

import pytest

from custom_components.sonos_troubleshooter.const import DOMAIN
from sonos_emulator import Connections, Emulator, Fault
from tools import develop

REPO = Path(__file__).resolve().parents[1]
PORT, CONTROL_PORT = 18133, 18409
BASE = f"http://127.0.0.1:{PORT}"
START_TIMEOUT = 90  # seconds: a start on a busy 2-core machine
READY = "Home Assistant is ready"
FAILED = "Setting up the demo failed"

# The first start, with one point of the setup made the moment it stops: `where` names it,
# `signum` is how (SIGINT: Ctrl+C, a graceful stop; SIGKILL: a crash, nothing saved after it).
INTERRUPTED_START = """\
import asyncio, os, sys
where, signum = sys.argv[1], int(sys.argv[2])
sys.argv = ["develop.py", *sys.argv[3:]]
sys.path.insert(0, {repo!r})
from homeassistant.components.onboarding import views
from tools import develop

async def stop_here() -> None:
    os.kill(os.getpid(), signum)  # SIGKILL never returns; the others stop it meanwhile

mark_user_step_done = views.UserOnboardingView._async_mark_done
if where == "in the user step":
    # The login is saved, the step not yet marked done.
    async def mark_done(self, hass):
        await stop_here()
        await asyncio.Event().wait()  # never goes on: the step is never marked done
    views.UserOnboardingView._async_mark_done = mark_done
elif where == "while starting":
    # Home Assistant is setting its integrations up (onboarding among them), not started yet.
    from homeassistant.components import onboarding
    set_up_onboarding = onboarding.async_setup
    async def set_up(hass, config):
        await stop_here()
        return await set_up_onboarding(hass, config)
    onboarding.async_setup = set_up
elif where == "after the user step":
    # The step is marked done; Home Assistant saves its users a second later, a window made
    # a minute long here so that the crash lands in it however busy the machine is.
    from homeassistant.auth.auth_store import AuthStore
    schedule_save = AuthStore._async_schedule_save
    AuthStore._async_schedule_save = lambda self, delay=60: schedule_save(self, max(delay, 60))
    async def mark_done(self, hass):
        await mark_user_step_done(self, hass)
        await stop_here()
    views.UserOnboardingView._async_mark_done = mark_done
else:
    # Onboarded and logged in, the integration not added yet.
    async def add_integration(self, session):
        await stop_here()
        await asyncio.Event().wait()  # the demo goes no further
    develop.Demo._add_integration = add_integration
sys.exit(develop.main())
"""


@dataclass
class Run:
    """One start of the demo: its process and what it printed."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(START_TIMEOUT)

    @property
    def output(self) -> str:
        return "".join(self.lines)


def start(command: list[str], config: Path, *extra: str) -> Run:
    process = subprocess.Popen(  # noqa: S603  (our own script, fixed arguments)
        [
            *command,
            f"--port={PORT}",
            f"--control-port={CONTROL_PORT}",
            f"--config={config}",
            "--loopback=6",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    run = Run(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            run.lines.append(line)
            if line.startswith(READY):
                run.ready.set()

    threading.Thread(target=read, daemon=True).start()
    return run


DEVELOP = [sys.executable, str(REPO / "tools" / "develop.py")]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    """The starts of a test, each stopped at the end whatever happened."""
    started: list[Run] = []
    yield started
    for run in started:
        run.stop()


def request(path: str, token: str = "", **kwargs: Any) -> Any:
    """Call Home Assistant's HTTP API on loopback; JSON in (json=) or form (data=), JSON out."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode()
        headers["Content-Type"] = "application/json"
    elif "data" in kwargs:
        body = urllib.parse.urlencode(kwargs["data"]).encode()
    call = urllib.request.Request(BASE + path, data=body, headers=headers)  # noqa: S310
    with urllib.request.urlopen(call, timeout=30) as reply:  # noqa: S310  (fixed loopback URL)
        return json.loads(reply.read())


def log_in_as_demo() -> str:
    """Log in with the printed credentials, as the login page does; return an access token."""
    client = {"client_id": BASE + "/"}
    flow = request(
        "/auth/login_flow",
        json={**client, "handler": ["homeassistant", None], "redirect_uri": BASE + "/"},
    )
    done = request(
        f"/auth/login_flow/{flow['flow_id']}",
        json={**client, "username": "demo", "password": "sonos-demo"},
    )
    assert done["type"] == "create_entry", done
    tokens = request(
        "/auth/token",
        data={"grant_type": "authorization_code", "code": done["result"], **client},
    )
    token: str = tokens["access_token"]
    return token


def assert_ready_and_clean(run: Run) -> None:
    """The credentials are printed, with no ERROR line and no traceback before them."""
    assert run.ready.wait(START_TIMEOUT), run.output[-4000:]
    before = run.output.split(READY)[0]
    assert " ERROR (" not in before, before
    assert "Traceback" not in before, before
    assert "  user: demo  password: sonos-demo" in run.output


def assert_demo_works() -> None:
    """The demo logs in and its entry loads (it may still be reloading on the options set)."""
    token = log_in_as_demo()
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        (entry,) = request(f"/api/config/config_entries/entry?domain={DOMAIN}", token)
        if entry["state"] == "loaded" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert entry["state"] == "loaded", entry


def storage(config: Path, key: str) -> Any:
    return json.loads((config / ".storage" / key).read_text())["data"]


RECOVERED = "The last start stopped while onboarding the demo user: onboarding it again"


def stopped_start(
    config: Path, runs: list[Run], where: str, signum: signal.Signals, *, recovers: bool
) -> None:
    """A start stopped at `where` by `signum`; it must get there, and stop there.

    `recovers`: the start before stopped during the user step, which this one undoes first.
    """
    harness = [sys.executable, "-c", INTERRUPTED_START.format(repo=str(REPO)), where, str(signum)]
    run = start(harness, config)
    runs.append(run)
    # It only stops once it reaches `where`; a start that fails before (as the issue's
    # "Username "demo" already exists") keeps running, and says so.
    deadline = time.monotonic() + START_TIMEOUT
    while run.process.poll() is None and time.monotonic() < deadline:
        assert FAILED not in run.output, run.output
        time.sleep(0.1)
    assert run.process.poll() is not None, f"it never got {where}:\n{run.output}"
    assert FAILED not in run.output, run.output
    assert not run.ready.is_set(), run.output
    assert (RECOVERED in run.output) is recovers, run.output
    onboarding = storage(config, "onboarding")
    logins = storage(config, "auth_provider.homeassistant")["users"]
    assert [login["username"] for login in logins] == ["demo"]
    if where == "in the user step":  # where the issue saw it: login saved, step not done
        assert "user" not in onboarding["done"]
    elif where == "after the user step":  # the step done, its user never saved
        assert "user" in onboarding["done"]
        auth = config / ".storage" / "auth"
        assert not auth.exists() or "demo" not in auth.read_text()
    else:
        assert "user" in onboarding["done"]
        entries = config / ".storage" / "core.config_entries"
        assert not entries.exists() or DOMAIN not in entries.read_text()


def test_a_start_stopped_anywhere_in_setup_finishes_when_started_again(
    config: Path, runs: list[Run]
) -> None:
    """Each start below begins where the one before stopped, so it also proves the recovery.

    Ctrl+C inside onboarding's user step (a graceful stop: what was done is saved, the step
    not marked done); then a crash right after the step (marked done, but HA saves its users a
    second later: the user is lost, its login kept); then a crash once onboarded, before the
    integration is added. Then a plain start finishes the setup, and `--reset` starts over.
    """
    stopped_start(config, runs, "in the user step", signal.SIGINT, recovers=False)
    stopped_start(config, runs, "after the user step", signal.SIGKILL, recovers=True)
    stopped_start(config, runs, "before the integration", signal.SIGKILL, recovers=True)

    finished = start(DEVELOP, config)
    runs.append(finished)
    assert_ready_and_clean(finished)
    # (It may have onboarded the user again too: a crash within a second of onboarding loses
    # the user HA had not saved yet, whatever the step after it.)
    assert_demo_works()
    token = log_in_as_demo()
    (entry,) = request(f"/api/config/config_entries/entry?domain={DOMAIN}", token)
    finished.process.kill()
    finished.process.wait(START_TIMEOUT)

    reset = start(DEVELOP, config, "--reset")
    runs.append(reset)
    assert_ready_and_clean(reset)
    assert_demo_works()
    (again,) = request(f"/api/config/config_entries/entry?domain={DOMAIN}", log_in_as_demo())
    assert again["entry_id"] != entry["entry_id"]  # a new household entry: started over


# Home Assistant's own exit code for SIGHUP once it has started (its "restart"); before, the demo
# stops on it with 0 as on SIGTERM and Ctrl+C.
STOPPED_BY_ITSELF = (0, 100)


def assert_stopped(run: Run, signum: signal.Signals) -> None:
    """SIGKILL kills; every other signal stops it gracefully: it exits by itself."""
    try:
        run.process.wait(START_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {START_TIMEOUT} s after {signum.name}:\n{run.output[-4000:]}")
    if signum is signal.SIGKILL:
        assert run.process.returncode == -signal.SIGKILL
    else:
        assert run.process.returncode in STOPPED_BY_ITSELF, run.output[-4000:]


@pytest.mark.timeout(4 * START_TIMEOUT)
@pytest.mark.parametrize(
    "signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGKILL, signal.SIGINT], ids=lambda s: s.name
)
def test_the_next_start_prints_credentials_that_log_in_whatever_stopped_the_last(
    config: Path, runs: list[Run], signum: signal.Signals
) -> None:
    """A closed terminal (SIGHUP), SIGTERM, a crash (SIGKILL) or Ctrl+C at three moments.

    The moments, in one chain of starts: right after onboarding's user step, the worst one
    (the user exists only in memory, its save stretched to a minute here; it lasts a second in
    reality); while Home Assistant sets its integrations up; and once the credentials are
    printed. After them, the next start's printed credentials log in through the login page's
    flow. Stopped gracefully, the user step's user is saved (flushed at the stop).
    """
    harness = [sys.executable, "-c", INTERRUPTED_START.format(repo=str(REPO))]
    run = start([*harness, "after the user step", str(signum)], config)
    runs.append(run)
    assert_stopped(run, signum)
    if signum is not signal.SIGKILL:
        (user,) = [user for user in storage(config, "auth")["users"] if user["name"] == "Demo"]
        assert user["is_owner"]
    run = start([*harness, "while starting", str(signum)], config)
    runs.append(run)
    assert_stopped(run, signum)

    printed = start(DEVELOP, config)
    runs.append(printed)
    assert_ready_and_clean(printed)
    log_in_as_demo()
    printed.process.send_signal(signum)
    assert_stopped(printed, signum)

    again = start(DEVELOP, config)
    runs.append(again)
    assert_ready_and_clean(again)
    assert_demo_works()


def test_a_refused_login_is_set_anew_before_the_credentials_are_printed(
    config: Path, runs: list[Run]
) -> None:
    """The demo user's password changed (here with HA's own auth script, Home Assistant stopped).

    Whatever a stop or a user left, the start logs in with what it prints before printing it,
    and sets the demo user's login anew when refused.
    """
    first = start(DEVELOP, config)
    runs.append(first)
    assert_ready_and_clean(first)
    first.process.send_signal(signal.SIGINT)
    assert_stopped(first, signal.SIGINT)
    changed = subprocess.run(  # noqa: S603  (Home Assistant's own script, fixed arguments)
        [
            *(sys.executable, "-m", "homeassistant", "--script", "auth", "-c", str(config)),
            *("change_password", "demo", "not-the-printed-one"),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    assert changed.returncode == 0, changed.stdout + changed.stderr

    again = start(DEVELOP, config)
    runs.append(again)
    assert_ready_and_clean(again)
    assert "The demo user's login was refused" in again.output
    assert_demo_works()


def test_simulate_take_address_and_wake(emulator: Emulator) -> None:
    """`scripts/simulate take-address` and `wake`, as docs/development/demo.md describes them."""
    develop.add_demo_household(emulator)
    household = emulator.household
    kitchen, office = household.player("Kitchen"), household.player("Office")
    address = kitchen.ip
    develop.SCENARIOS["take-address"].apply(emulator, "Kitchen")
    assert (kitchen.fault, office.ip) == (Fault.OFFLINE, address)
    develop.SCENARIOS["take-address"].apply(emulator, "Office")  # another room takes Office's
    assert household.player("Bedroom").ip == address
    with pytest.raises(develop.RefusedError, match="only portable players"):
        develop.SCENARIOS["wake"].apply(emulator, "Bedroom")
    roam = household.sleep("Roam")
    develop.SCENARIOS["wake"].apply(emulator, "Roam")
    assert (roam.vanished_reason, roam.boot_seq) == (None, 43)


def test_simulate_sets_how_every_player_treats_connections(emulator: Emulator) -> None:
    """`closes-silently` and `drops-idle` reach every player's server; `healthy` undoes them."""
    player = emulator.household.add_player("Kitchen")
    control = develop.serve_control(emulator, 0)  # the endpoint scripts/simulate talks to
    try:
        for scenario, connections in (
            ("closes-silently", Connections.CLOSES_SILENTLY),
            ("drops-idle", Connections.DROPS_IDLE),
            ("healthy", Connections.STANDARD),
        ):
            result = subprocess.run(  # noqa: S603  (our own script, fixed arguments)
                [
                    sys.executable,
                    str(REPO / "tools" / "simulate.py"),
                    f"--control-port={control.server_address[1]}",
                    scenario,
                ],
                check=False,
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert result.returncode == 0, result.stderr
            assert json.loads(result.stdout)["connections"] == connections
            assert emulator.household.connections is connections
            with urllib.request.urlopen(player.location, timeout=2) as reply:  # noqa: S310
                assert ("Connection" in reply.headers) is (connections is Connections.STANDARD)
    finally:
        control.shutdown()
        control.server_close()


def test_the_demo_starts_in_another_language(config: Path, runs: list[Run]) -> None:
    """`scripts/develop --language de`: Home Assistant in German, the devices named in German."""
    run = start(DEVELOP, config, "--language=de")
    runs.append(run)
    assert_ready_and_clean(run)
    assert_demo_works()
    token = log_in_as_demo()
    assert request("/api/config", token)["language"] == "de"
    names = {
        state["attributes"].get("friendly_name", "") for state in request("/api/states", token)
    }
    for device in ("Living Room hinten links", "Dining Room rechts"):
        assert any(name.startswith(f"{device} ") for name in names), device
