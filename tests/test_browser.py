"""The product as a user meets it: scripts/develop's real Home Assistant, driven by Chromium.

Starts scripts/develop and measures how long until its dashboard shows in the browser, logs in
as the demo user, switches a simulated player off, reaches its repair card through Settings,
walks the guided fix while the player comes back, and sees a card close by itself when its
player answers again. Then every other scenario of scripts/simulate, checked against what the
table of docs/development/demo.md promises the user sees. Screenshots land in
test-artifacts/browser/, those the documentation shows also in docs/images/, with the startup
figure in startup.txt. Run with `--browser`.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from typing import Any

from playwright.sync_api import Locator, Page, expect, sync_playwright
import pytest

from custom_components.sonos_troubleshooter.const import DOMAIN

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "browser"
DOCS_IMAGES = REPO / "docs" / "images"
# The pictures the documentation shows: taken afresh at every run, so none shows an older
# build. tests/test_docs.py checks docs/images holds these and no other, each shown by a page.
DOCS_PICTURES = frozenset(
    {
        "dashboard.png",
        "device-page.png",
        "map-1003-light.png",
        "map-healthy-light.png",
        "map-home-theatre-down-dark.png",
        "map-roam-asleep-dark.png",
        "repair-card.png",
        "repair-card-de.png",
        "repair-fixed.png",
        "repair-step.png",
        "repairs-dashboard.png",
        "upnp-form-error-fr.png",
    }
)
PORT, CONTROL_PORT = 18123, 18399
BASE = f"http://127.0.0.1:{PORT}"
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in CI's chroot
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # nothing but loopback
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Issue 5's promise: after setup, the dashboard is up with the simulated household in under
# two minutes, counted from starting scripts/develop to the dashboard drawn in the browser.
STARTUP_LIMIT = 120  # seconds
UI_TIMEOUT_MS = 30_000  # a page or an element on a busy 2-core machine
CARD_TIMEOUT_MS = 60_000  # an error needs two polls 10 s apart plus a probe timeout; clearing one
CHECK_TIMEOUT_MS = 30_000  # a check: up to two polls of one probe timeout each, plus the cloud
PLAYERS = (  # scripts/develop's household, by the names its devices show
    "Living Room",
    "Living Room Sub",
    "Living Room rear left",
    "Living Room rear right",
    "Kitchen",
    "Bedroom",
    "Office",
    "Roam",
    "Dining Room left",
    "Dining Room right",
)
CONNECTED = re.compile(r"\bConnected")  # and not "Disconnected"


@dataclass
class Develop:
    """The running scripts/develop: when it was started, and what it printed and logged."""

    started: float  # time.monotonic() just before the process was started
    log: list[str] = field(default_factory=list)
    dashboard_after: float | None = None  # seconds from `started` to the first drawn dashboard


@pytest.fixture(scope="module")
def develop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Develop]:
    """scripts/develop on its own ports and a fresh config: first start, onboarding included."""
    config = tmp_path_factory.mktemp("develop") / "config"
    demo = Develop(started=time.monotonic())
    process = subprocess.Popen(  # noqa: S603  (our own script, fixed arguments)
        [
            sys.executable,
            str(REPO / "tools" / "develop.py"),
            f"--port={PORT}",
            f"--control-port={CONTROL_PORT}",
            f"--config={config}",
            "--loopback=4",  # beside a developer's own scripts/develop (127.0.2-3.x)
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            demo.log.append(line)
            if line.startswith("Home Assistant is ready"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(STARTUP_LIMIT), "".join(demo.log[-40:])
        yield demo
    finally:
        process.terminate()
        process.wait(60)
        reader.join(10)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "develop.log").write_text("".join(demo.log))
    problems = [line for line in demo.log if is_problem(line)]
    assert not problems, "scripts/develop logged problems (see develop.log):\n" + "".join(problems)
    # What a newcomer sees until the credentials: no ERROR and no traceback, from anyone.
    start = "".join(demo.log).split("Home Assistant is ready")[0]
    assert " ERROR (" not in start, start
    assert "Traceback" not in start, start


def is_problem(line: str) -> bool:
    """A log line, anywhere in the run, that says the demo itself went wrong."""
    if "Task exception was never retrieved" in line:
        return True
    ours = f"[custom_components.{DOMAIN}" in line or "[develop]" in line
    return ours and (" ERROR (" in line or " CRITICAL (" in line)


def simulate(scenario: str, player: str = "") -> dict[str, Any]:
    """Change the world with the command users run (scripts/simulate's own script).

    Returns the simulated world it prints.
    """
    result = subprocess.run(  # noqa: S603  (our own script, fixed arguments)
        [
            sys.executable,
            str(REPO / "tools" / "simulate.py"),
            f"--control-port={CONTROL_PORT}",
            scenario,
            *player.split(),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, f"simulate {scenario} {player}: {result.stderr}"
    world: dict[str, Any] = json.loads(result.stdout)
    return world


@pytest.fixture
def page(develop: Develop, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Chromium for one test, started anew each time; in English unless the test asks.

    Playwright's sync API runs an event loop of its own for as long as it is open; kept open
    across tests, it is still running when the next test's event loop is set up, which fails.
    A browser's language is the one HA's frontend shows to a user who has not picked one.
    """
    locale = getattr(request, "param", "en-US")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is missing: run scripts/setup --browser"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=locale)
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield page
        finally:
            page.screenshot(path=ARTIFACTS / "last.png")  # as it was, for a failure
            browser.close()
            simulate("healthy")  # whatever a test left off, the next one starts from a sound world


def goto(page: Page, path: str) -> None:
    """Open a page and wait until the frontend has replaced its launch screen."""
    page.goto(BASE + path)
    page.wait_for_selector("#ha-launch-screen", state="detached")


def expect_overview(page: Page) -> None:
    """The Overview dashboard is drawn: its Devices tile, the players (in no area) behind it."""
    page.wait_for_selector("#ha-launch-screen", state="detached")
    expect(page.get_by_role("button", name="Devices", exact=True)).to_be_visible()


def log_in(page: Page, develop: Develop) -> None:
    """Log in as the demo user, as on any first visit; the first login times the startup."""
    page.goto(BASE + "/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password", exact=True).fill("sonos-demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/auth/" not in url and "auth_callback" not in url)
    expect_overview(page)
    if develop.dashboard_after is None:
        develop.dashboard_after = time.monotonic() - develop.started


def log_in_any_language(page: Page) -> None:
    """Log in as the demo user on a login page in any language (by its fields, not words)."""
    page.goto(BASE + "/")
    page.locator("input[autocomplete='username']").fill("demo")
    password = page.locator("input[type='password']")
    password.fill("sonos-demo")
    password.press("Enter")
    page.wait_for_url(lambda url: "/auth/" not in url and "auth_callback" not in url)
    page.wait_for_selector("#ha-launch-screen", state="detached")


SERVER_LANGUAGE = """async (language) => {
    const hass = document.querySelector('home-assistant').hass;
    await hass.callWS({type: 'config/core/update', language});
}"""


def sidebar(page: Page, name: str) -> None:
    """Click an entry of the sidebar (its links are slotted, not inside its <nav>)."""
    page.locator("ha-sidebar").get_by_role("link", name=name).click()


def open_repairs(page: Page) -> None:
    """Settings in the sidebar, then System > Repairs, as the README tells users."""
    sidebar(page, "Settings")
    page.wait_for_url("**/config/dashboard")
    page.get_by_role("listitem").filter(has=page.get_by_text("System", exact=True)).click()
    page.wait_for_url("**/config/system")
    page.get_by_role("link", name="Repairs").click()
    page.wait_for_url("**/config/repairs")


def open_player_tiles(page: Page) -> None:
    """Overview in the sidebar, then its Devices tile: every player's tiles."""
    sidebar(page, "Overview")
    expect_overview(page)
    page.get_by_role("button", name="Devices", exact=True).click()
    page.wait_for_url("**/home/other-devices")


def overview_row(page: Page, device: str, name: str) -> Locator:
    """A device's entity row on the Overview's Devices view (e.g. Kitchen's Error code)."""
    section = page.locator("hui-grid-section").filter(
        has=page.get_by_role("heading", name=device, exact=True)
    )
    return section.locator("hui-generic-entity-row").filter(has_text=name)


def expect_players(
    page: Page, players: tuple[str, ...], code: str, connectivity: re.Pattern[str] | str
) -> None:
    """The players' Error code and Network connectivity rows on the Overview's Devices view."""
    for player in players:
        expect(overview_row(page, player, "Error code")).to_contain_text(code)
        expect(overview_row(page, player, "Network connectivity")).to_contain_text(connectivity)


def open_device(page: Page, name: str) -> None:
    """The device page of a player, as Settings > Devices & services > Devices opens it."""
    goto(page, "/config/devices/dashboard")
    page.wait_for_function("document.querySelector('home-assistant')?.hass?.devices")
    device_id = page.evaluate(
        "(name) => Object.values(document.querySelector('home-assistant').hass.devices)"
        ".find((device) => device.name === name).id",
        name,
    )
    goto(page, f"/config/devices/device/{device_id}")


POLLED_AT = f"""async () => {{
    const hass = document.querySelector('home-assistant').hass;
    const [entry] = await hass.callWS({{type: 'config_entries/get', domain: '{DOMAIN}'}});
    const diagnostics = await hass.callApi('GET', `diagnostics/config_entry/${{entry.entry_id}}`);
    return diagnostics.data.updated_at;
}}"""


def wait_for_polls(page: Page, count: int) -> None:
    """Let the integration poll `count` more times, as the entry's diagnostics tell.

    A steady household changes no state (docs/entities.md, "Light on a Raspberry Pi"), so no
    entity shows that a poll ran; the diagnostics carry the last poll's time. A check that
    nothing went wrong needs the polls to have run.
    """
    for _ in range(count):
        before = page.evaluate(POLLED_AT)
        deadline = time.monotonic() + CARD_TIMEOUT_MS / 1000
        while page.evaluate(POLLED_AT) == before:
            assert time.monotonic() < deadline, f"no poll since {before}"
            page.wait_for_timeout(500)


def our_cards(page: Page) -> Locator:
    """Every repair card of this integration on Settings > System > Repairs."""
    return page.get_by_text(re.compile(r"\(Sonos error 100[13]\)"))


def first_step(page: Page) -> Locator:
    """The first of the fix steps listed on the open repair card."""
    return page.locator("ha-markdown ol > li").first


def close_dialog(page: Page) -> None:
    """Close the repair dialog with its X, mid-flow too, as a user leaves it."""
    close = page.locator("dialog-data-entry-flow").get_by_role("button", name="Close")
    close.click()
    expect(close).to_be_hidden()


def expect_back_to_healthy(page: Page) -> None:
    """`scripts/simulate healthy`: back to OK at the next poll, the cards close themselves."""
    simulate("healthy")
    open_repairs(page)
    expect(our_cards(page)).to_have_count(0, timeout=CARD_TIMEOUT_MS)
    open_player_tiles(page)
    expect_players(page, PLAYERS, "OK", CONNECTED)
    expect(overview_row(page, "Sonos household", "Diagnosis")).to_contain_text("OK")


def screenshot(
    page: Page, name: str, *, full_page: bool = False, element: Locator | None = None
) -> None:
    """Save what a user sees at rest: no pointer hovering a row, no dialog half faded in.

    The page, or only `element` of it; a picture the documentation shows goes to docs/images too.
    """
    page.mouse.move(1279, 899)  # the bottom right corner: empty background on every page here
    path = ARTIFACTS / name
    if element is None:
        page.screenshot(path=path, animations="disabled", full_page=full_page)
    else:
        element.screenshot(path=path, animations="disabled")
    if name in DOCS_PICTURES:
        shutil.copyfile(path, DOCS_IMAGES / name)


def expect_brand_icon(page: Page) -> None:
    """Our icon (the integration's brand/ folder, served by HA offline too) has loaded."""
    icon = page.locator(f"img[src*='/api/brands/integration/{DOMAIN}/']").first
    expect(icon).to_be_visible()
    page.wait_for_function(
        "(icon) => icon.complete && icon.naturalWidth > 0", arg=icon.element_handle()
    )


def test_dashboard_with_the_household_within_two_minutes(page: Page, develop: Develop) -> None:
    log_in(page, develop)
    assert develop.dashboard_after is not None
    (ARTIFACTS / "startup.txt").write_text(f"{develop.dashboard_after:.1f}\n")
    screenshot(page, "overview.png")
    assert develop.dashboard_after < STARTUP_LIMIT, f"{develop.dashboard_after:.1f} s"

    open_player_tiles(page)
    expect_players(page, PLAYERS, "OK", CONNECTED)
    screenshot(page, "overview-devices.png")


def test_repair_card_guides_the_user_until_the_player_is_back(page: Page, develop: Develop) -> None:
    log_in(page, develop)
    simulate("off", "Kitchen")
    open_repairs(page)
    card = page.get_by_text("Kitchen cannot reach the Wi-Fi network (Sonos error 1001)")
    expect(card).to_be_visible(timeout=CARD_TIMEOUT_MS)
    expect_brand_icon(page)
    screenshot(page, "repairs-dashboard.png")

    card.click()
    dialog = page  # the repair dialog; its content is found by text through the shadow DOM
    expect(dialog.get_by_text("Serial number: ")).to_be_visible()
    expect(dialog.get_by_text("Factory-reset the speaker and set it up again.")).to_be_visible()
    screenshot(page, "repair-card.png")

    dialog.get_by_text("Walk me through the steps").click()
    expect(dialog.get_by_text("Step 1 of 5: Power-cycle the speaker")).to_be_visible()
    dialog.get_by_text("Done, check again").click()  # still off: the check says so
    # A check waits out the probe timeout, and may first wait for a timer poll in progress.
    expect(dialog.get_by_text("still does not answer")).to_be_visible(timeout=CHECK_TIMEOUT_MS)
    dialog.get_by_text("Go on to the next step").click()
    expect(dialog.get_by_text("Step 2 of 5: Restart the Wi-Fi router")).to_be_visible()
    screenshot(page, "repair-step.png")

    simulate("on", "Kitchen")
    dialog.get_by_text("Done, check again").click()
    expect(dialog.get_by_text("Error 1001 is gone and this card is closed.")).to_be_visible(
        timeout=CHECK_TIMEOUT_MS
    )
    screenshot(page, "repair-fixed.png")
    page.keyboard.press("Escape")
    expect(card).to_have_count(0)


def test_card_closes_by_itself_when_the_player_answers_again(page: Page, develop: Develop) -> None:
    log_in(page, develop)
    simulate("off", "Bedroom")
    open_player_tiles(page)
    # Missed checks, a poll at once that misses it too: Disconnected and error 1001 (a timer
    # poll in between may show Disconnected with OK for a moment: one miss is not an error).
    disconnected = overview_row(page, "Bedroom", "Network connectivity")
    expect(disconnected).to_contain_text("Disconnected", timeout=CARD_TIMEOUT_MS)
    error_code = overview_row(page, "Bedroom", "Error code")
    started = time.monotonic()
    expect(error_code).to_contain_text("1001", timeout=CARD_TIMEOUT_MS)
    assert time.monotonic() - started < 20  # within seconds, not polls
    open_device(page, "Bedroom")
    expect(page.locator("hui-generic-entity-row").filter(has_text="Error events")).to_contain_text(
        "1001: cannot reach the network"
    )
    open_repairs(page)
    card = page.get_by_text("Bedroom cannot reach the Wi-Fi network (Sonos error 1001)")
    expect(card).to_be_visible()

    simulate("on", "Bedroom")
    # Nothing clicked, nothing reloaded: the next poll clears the error and the card goes.
    expect(card).to_have_count(0, timeout=CARD_TIMEOUT_MS)
    assert page.url == BASE + "/config/repairs"
    open_player_tiles(page)
    expect(error_code).to_contain_text("OK")


def test_home_theatre_devices_and_a_sub_that_lost_its_soundbar(
    page: Page, develop: Develop
) -> None:
    log_in(page, develop)
    open_player_tiles(page)
    expect_players(page, PLAYERS, "OK", CONNECTED)
    screenshot(page, "overview-home-theatre.png", full_page=True)
    # The role is a diagnostic entity: on the device page, not on the Overview.
    for device, role in (
        ("Living Room", "Home theatre main unit"),
        ("Living Room Sub", "Sub"),
        ("Living Room rear left", "Rear left"),
        ("Dining Room right", "Right of a stereo pair"),
    ):
        open_device(page, device)
        row = page.locator("hui-generic-entity-row").filter(has_text="Role")
        expect(row).to_contain_text(role)
    screenshot(page, "device-page-rear.png", full_page=True)

    simulate("off", "Living Room Sub")
    open_repairs(page)
    card = page.get_by_text("Living Room Sub has lost its link to Living Room (Sonos error 1001)")
    expect(card).to_be_visible(timeout=CARD_TIMEOUT_MS)
    expect(our_cards(page)).to_have_count(1)  # the soundbar and the rears answer
    card.click()
    expect(
        page.get_by_text("is a bonded speaker of the home theatre in Living Room")
    ).to_be_visible()
    page.get_by_text("Walk me through the steps").click()
    expect(page.get_by_text("Step 1 of 4: Power-cycle the speaker")).to_be_visible()
    page.get_by_text("Skip this step").click()
    expect(page.get_by_text("Step 2 of 4: Move the speaker closer to the router")).to_be_visible()
    expect(page.get_by_text("keep it within reach of")).to_be_visible()
    screenshot(page, "repair-card-sub.png")
    close_dialog(page)
    expect_back_to_healthy(page)


def test_player_device_page(page: Page, develop: Develop) -> None:
    log_in(page, develop)
    open_device(page, "Kitchen")
    expect(page.get_by_text("Error code")).to_be_visible()
    expect(page.get_by_text("Network connectivity")).to_be_visible()
    # The diagnostic sensors too: the documentation's picture shows the whole device page.
    for sensor in ("Role", "Wi-Fi band", "Missed checks", "Dropouts", "Reboots"):
        expect(page.locator("hui-generic-entity-row").filter(has_text=sensor)).to_be_visible()
    screenshot(page, "device-page.png", full_page=True)


# The `scripts/simulate` table of docs/development/demo.md, row by row, as the user sees it:
# each test ends with `scripts/simulate healthy` and checks the household back to OK with every
# card closed.


def test_hung_player_is_1001_while_the_others_keep_answering(page: Page, develop: Develop) -> None:
    log_in(page, develop)
    simulate("hang", "Kitchen")
    open_player_tiles(page)
    expect(overview_row(page, "Kitchen", "Error code")).to_contain_text(
        "1001", timeout=CARD_TIMEOUT_MS
    )
    others = tuple(player for player in PLAYERS if player != "Kitchen")
    expect_players(page, others, "OK", CONNECTED)
    wait_for_polls(page, 2)  # the hung Kitchen holds no one else up: they stay answering
    expect_players(page, others, "OK", CONNECTED)
    screenshot(page, "scenario-hang.png")
    open_repairs(page)
    expect(
        page.get_by_text("Kitchen cannot reach the Wi-Fi network (Sonos error 1001)")
    ).to_be_visible()
    expect(our_cards(page)).to_have_count(1)
    expect_back_to_healthy(page)


def test_sleeping_portable_is_not_an_error(page: Page, develop: Develop) -> None:
    log_in(page, develop)
    simulate("sleep", "Roam")
    open_player_tiles(page)
    expect(overview_row(page, "Roam", "Network connectivity")).to_contain_text(
        "Disconnected", timeout=CARD_TIMEOUT_MS
    )
    wait_for_polls(page, 2)  # two misses would be a 1001 for a player that is not asleep
    expect(overview_row(page, "Roam", "Error code")).to_contain_text("OK")
    expect(overview_row(page, "Sonos household", "Diagnosis")).to_contain_text("OK")
    screenshot(page, "scenario-sleep.png")
    open_repairs(page)
    expect(our_cards(page)).to_have_count(0)
    expect_back_to_healthy(page)


def test_moved_player_is_followed_to_its_new_address(page: Page, develop: Develop) -> None:
    log_in(page, develop)
    world = simulate("move", "Kitchen")
    address = next(player["address"] for player in world["players"] if player["name"] == "Kitchen")
    open_device(page, "Kitchen")
    ip_address = page.locator("hui-generic-entity-row").filter(has_text="IP address")
    expect(ip_address).to_contain_text(address, timeout=CARD_TIMEOUT_MS)
    wait_for_polls(page, 2)
    expect(page.locator("hui-generic-entity-row").filter(has_text="Error code")).to_contain_text(
        "OK"
    )
    screenshot(page, "scenario-move.png", full_page=True)
    open_repairs(page)
    expect(our_cards(page)).to_have_count(0)
    expect_back_to_healthy(page)


def test_all_players_off_is_one_card_router_first(page: Page, develop: Develop) -> None:
    log_in(page, develop)
    simulate("all-off")
    open_repairs(page)
    card = page.get_by_text("No Sonos player can be reached (Sonos error 1001)")
    expect(card).to_be_visible(timeout=CARD_TIMEOUT_MS)
    expect(our_cards(page)).to_have_count(1)  # one card, not one per player
    card.click()
    expect(first_step(page)).to_contain_text("Restart your Wi-Fi router.")
    page.get_by_text("Walk me through the steps").click()
    expect(page.get_by_text("Step 1 of 5: Restart the Wi-Fi router")).to_be_visible()
    screenshot(page, "scenario-all-off.png")
    close_dialog(page)
    open_player_tiles(page)
    expect_players(page, PLAYERS, "1001", "Disconnected")
    expect(overview_row(page, "Sonos household", "Diagnosis")).to_contain_text(
        "No player can be reached (1001)"
    )
    expect_back_to_healthy(page)


@pytest.mark.parametrize(
    ("scenario", "cause", "diagnosis", "step_1", "first_step_words"),
    [
        (
            "cloud-blocked",
            "Sonos traffic blocked",
            "Sonos traffic blocked (1003)",
            "Check firewall, VPN and content filters",
            "Check your router for firewall rules, a VPN or content filtering",
        ),
        (
            "dns-failing",
            "DNS failure",
            "DNS failure (1003)",
            "Restart the router",
            "Restart your home router",
        ),
        (
            "internet-down",
            "internet connection down",
            "Internet down (1003)",
            "Restart the router",
            "Restart your home router",
        ),
    ],
)
def test_cloud_failure_names_its_cause_and_step_first(
    page: Page,
    develop: Develop,
    scenario: str,
    cause: str,
    diagnosis: str,
    step_1: str,
    first_step_words: str,
) -> None:
    log_in(page, develop)
    simulate(scenario)
    open_player_tiles(page)
    expect(overview_row(page, "Sonos household", "Diagnosis")).to_contain_text(
        diagnosis, timeout=CARD_TIMEOUT_MS
    )
    expect(overview_row(page, "Sonos household", "Sonos cloud connectivity")).to_contain_text(
        "Disconnected"
    )
    expect_players(page, PLAYERS, "1003: cannot reach the Sonos cloud", CONNECTED)
    open_repairs(page)
    card = page.get_by_text(f"Sonos cannot reach its cloud: {cause} (Sonos error 1003)")
    expect(card).to_be_visible()
    expect(our_cards(page)).to_have_count(1)
    card.click()
    expect(first_step(page)).to_contain_text(first_step_words)
    screenshot(page, f"scenario-{scenario}.png")
    page.get_by_text("Walk me through the steps").click()
    expect(page.get_by_text(f"Step 1 of 6: {step_1}")).to_be_visible()
    close_dialog(page)
    expect_back_to_healthy(page)


def test_sonos_outage_is_told_without_a_card(page: Page, develop: Develop) -> None:
    """Sonos' own incident: 1003 everywhere, the diagnosis names it, no card asks to wait."""
    log_in(page, develop)
    simulate("outage")
    open_player_tiles(page)
    expect(overview_row(page, "Sonos household", "Diagnosis")).to_contain_text(
        "Sonos cloud outage (1003)", timeout=CARD_TIMEOUT_MS
    )
    expect_players(page, PLAYERS, "1003: cannot reach the Sonos cloud", CONNECTED)
    wait_for_polls(page, 1)
    open_repairs(page)
    expect(our_cards(page)).to_have_count(0)
    screenshot(page, "scenario-outage.png")
    expect_back_to_healthy(page)


MAP_SVG = """async () => {
    const hass = document.querySelector('home-assistant').hass;
    const state = hass.states['image.sonos_household_map'];
    const response = await fetch(state.attributes.entity_picture);
    return await response.text();
}"""


@pytest.mark.parametrize(
    ("scenario", "player", "shows", "name"),
    [
        ("healthy", "", "reachable", "map-healthy"),
        ("off", "Living Room", "silent with Living Room", "map-home-theatre-down"),
        ("cloud-blocked", "", "Sonos traffic blocked (1003)", "map-1003"),
        ("sleep", "Roam", "asleep", "map-roam-asleep"),
    ],
)
def test_household_map_on_the_dashboard(
    page: Page, develop: Develop, scenario: str, player: str, shows: str, name: str
) -> None:
    """The map shows what happened, in the picture card, in light and dark theme."""
    log_in(page, develop)
    simulate(scenario, player)
    deadline = time.monotonic() + CARD_TIMEOUT_MS / 1000
    while shows not in page.evaluate(MAP_SVG):
        assert time.monotonic() < deadline, f"the map never showed {shows!r}"
        page.wait_for_timeout(500)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        sidebar(page, "Sonos health")
        page.wait_for_url("**/sonos-health/sonos-health")
        card = page.locator("hui-picture-entity-card")
        image = card.locator("img")
        expect(image).to_be_visible()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        screenshot(page, f"{name}-{scheme}.png", element=card)
        if scenario == "healthy":  # the entity's own dialog shows the same picture
            card.click()
            dialog = page.locator("ha-more-info-dialog")
            expect(dialog.locator("img")).to_be_visible()
            screenshot(page, f"map-more-info-{scheme}.png")
            page.keyboard.press("Escape")
            expect(dialog.locator("img")).to_have_count(0)
    page.emulate_media(color_scheme="light")
    if scenario != "healthy":
        expect_back_to_healthy(page)


def week_of_statistics(now: datetime) -> list[dict[str, Any]]:
    """A plausible week for the demo household, hour by hour, as the recorder would keep it.

    Kitchen drops off most evenings (a microwave on its 2.4 GHz channel, say) and once
    restarts; the others hold. Response times are means of a few ms, Kitchen's higher and
    noisier; the household's share of complete polls dips with Kitchen's evenings.
    """
    rng = random.Random(19)  # noqa: S311 - made-up history, reproducible
    end = now.replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=168 - number) for number in range(168)]
    series: list[dict[str, Any]] = []

    def add(entity_id: str, unit: str | None, unit_class: str | None, stats: list[Any]) -> None:
        total = "mean" not in stats[0]
        series.append(
            {
                "metadata": {
                    "has_sum": total,
                    "mean_type": 0 if total else 1,
                    "name": None,
                    "source": "recorder",
                    "statistic_id": entity_id,
                    "unit_class": unit_class,
                    "unit_of_measurement": unit,
                },
                "stats": stats,
            }
        )

    evening = {hour for hour in hours if hour.hour in (19, 20) and hour.weekday() != 2}
    share = []
    for hour in hours:
        mean = 100 - (rng.uniform(6, 14) if hour in evening else rng.uniform(0, 0.6))
        share.append({"start": hour.isoformat(), "mean": mean, "min": mean - 5, "max": 100})
    add("sensor.sonos_household_complete_polls", "%", None, share)
    for slug in ("living_room", "kitchen", "bedroom", "office", "roam"):
        kitchen = slug == "kitchen"
        times, dropouts, reboots, count, restarts = [], [], [], 0, 0
        for hour in hours:
            base = rng.uniform(18, 45) if kitchen else rng.uniform(6, 14)
            base *= 2.5 if kitchen and hour in evening else 1
            times.append(
                {"start": hour.isoformat(), "mean": base, "min": base / 2, "max": base * 3}
            )
            count += rng.choice((1, 2, 2, 3)) if kitchen and hour in evening else 0
            restarts += kitchen and hour == hours[70]
            dropouts.append({"start": hour.isoformat(), "state": count, "sum": count})
            reboots.append({"start": hour.isoformat(), "state": restarts, "sum": restarts})
        add(f"sensor.{slug}_response_time", "ms", "duration", times)
        add(f"sensor.{slug}_dropouts", None, None, dropouts)
        add(f"sensor.{slug}_reboots", None, None, reboots)
    return series


def test_health_dashboard_draws_a_week_of_history(page: Page, develop: Develop) -> None:
    """docs/sonos-health-dashboard.yaml as scripts/develop loads it, a week of history in.

    The week goes into the recorder as long-term statistics through Home Assistant's own
    websocket command (`recorder/import_statistics`), as if the integration had run all week.
    """
    log_in(page, develop)
    series = week_of_statistics(datetime.now(UTC))
    page.evaluate(
        """async (series) => {
            const hass = document.querySelector('home-assistant').hass;
            for (const {metadata, stats} of series) {
                await hass.callWS({type: 'recorder/import_statistics', metadata, stats});
            }
        }""",
        series,
    )
    # The recorder writes in its own thread, in order: wait until the last series reads back.
    assert page.evaluate(
        """async ([id, start]) => {
            const hass = document.querySelector('home-assistant').hass;
            for (let attempt = 0; attempt < 60; attempt++) {
                const got = await hass.callWS({type: 'recorder/statistics_during_period',
                    start_time: start, statistic_ids: [id], period: 'hour'});
                if ((got[id] || []).length >= 160) return true;
                await new Promise((resolve) => setTimeout(resolve, 500));
            }
            return false;
        }""",
        [series[-1]["metadata"]["statistic_id"], series[-1]["stats"][0]["start"]],
    )
    sidebar(page, "Sonos health")  # scripts/develop registers the dashboard
    page.wait_for_url("**/sonos-health/sonos-health")
    for title in ("Dropouts a day", "Reboots a day", "Response time (hourly mean)"):
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    # The Markdown card reads the open cards with the issues() template function.
    expect(page.get_by_text(re.compile(r"None open|open: errors and early"))).to_be_visible()
    expect(page.locator("statistics-chart ha-chart-base")).to_have_count(4)  # all drawn
    expect(page.get_by_text("No statistics found")).to_have_count(0)
    page.wait_for_timeout(2000)  # the charts animate in
    screenshot(page, "dashboard.png", full_page=True)


# What a German and a French user read, in their words: the card's title, how the player
# connects (a word from the translations, with the decimal comma), the app's UPnP menu.
IN_OTHER_WORDS = {
    "de": (
        "Kitchen kann das WLAN nicht erreichen (Sonos-Fehler 1001)",
        "WLAN 2,4 GHz",
        "Konto > Datenschutz und Sicherheit > UPnP",
    ),
    "fr": (
        "Kitchen ne peut pas atteindre le réseau Wi-Fi (erreur Sonos 1001)",
        "Wi-Fi 2,4\xa0GHz",
        "Compte > Confidentialité et sécurité > UPnP",
    ),
}


@pytest.mark.parametrize(
    "page", [f"{language}-{language.upper()}" for language in IN_OTHER_WORDS], indirect=True
)
def test_a_1001_card_and_the_upnp_form_error_in_the_user_s_language(
    page: Page, develop: Develop
) -> None:
    """Home Assistant set to German (or French), a browser in the same language."""
    language = page.evaluate("navigator.language")[:2]
    title, link, upnp_path = IN_OTHER_WORDS[language]
    log_in_any_language(page)
    page.evaluate(SERVER_LANGUAGE, language)
    try:
        simulate("off", "Kitchen")
        goto(page, "/config/repairs")
        card = page.get_by_text(title)
        expect(card).to_be_visible(timeout=CARD_TIMEOUT_MS)
        card.click()
        expect(page.get_by_text(link, exact=False).first).to_be_visible()
        screenshot(page, f"repair-card-{language}.png")
        page.keyboard.press("Escape")

        world = simulate("upnp-off-all")
        # Kitchen is still off; the Bedroom answers, and refuses.
        bedroom = next(p["address"] for p in world["players"] if p["name"] == "Bedroom")
        goto(page, f"/config/integrations/dashboard/add?domain={DOMAIN}")
        page.get_by_role("button", name="OK", exact=True).click()  # "Set up ...?" confirmed
        form = page.locator("dialog-data-entry-flow")
        field = form.locator("input").first
        field.fill(bedroom)
        field.press("Enter")
        expect(form.get_by_text(upnp_path)).to_be_visible(timeout=CHECK_TIMEOUT_MS)
        screenshot(page, f"upnp-form-error-{language}.png")
    finally:
        page.evaluate(SERVER_LANGUAGE, "en")
