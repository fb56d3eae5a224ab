"""The documentation: a README a user can skim, pages whose links hold, pictures of this build.

Reads Markdown, the integration's strings and the browser test's source; no Home Assistant runs.
GitHub's rules are followed where they matter: a heading's anchor is its text in lower case,
punctuation but `-` and `_` dropped, spaces made `-`, a repeated one numbered `-1`, `-2`, ...
"""

import ast
from collections import Counter
import json
from pathlib import Path
import re

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
DOCS = ROOT / "docs"
IMAGES = DOCS / "images"
PAGES = sorted([README, CONTRIBUTING, *DOCS.rglob("*.md")])
BROWSER_TEST = ROOT / "tests" / "test_browser.py"
INTEGRATION = ROOT / "custom_components" / "sonos_troubleshooter"
README_LIMIT = 16 * 1024  # bytes: the README is what a user skims on GitHub or in HACS

# Every `##` and `###` heading of the README before it was split (2026-12), by then 112 KB: each
# still heads its text somewhere, so nothing of it was dropped on the way.
HEADINGS_BEFORE_THE_SPLIT = (
    "What it measures, and on which speakers",
    "Installation",
    "Removal",
    "Configuration",
    "Data updates",
    "How it decides (never crying wolf)",
    "What a misbehaving device can cost",
    "Devices",
    "Entities (a contract: automations may rely on these names)",
    "Repair cards and guided fixes",
    "UPnP switched off (`upnp_disabled`, `upnp_disabled_household`)",
    "Home Assistant's Sonos integration lost a speaker that answers (`core_lost`)",
    "Speaker events cannot reach Home Assistant (`core_events`)",
    "Letting Home Assistant do a step",
    "The `sonos_troubleshooter.power_cycle` action",
    "Automations",
    "The household map",
    "The Sonos health dashboard",
    "Diagnostics",
    "Languages",
    "Real-world behaviours",
    "Known limitations",
    "Troubleshooting",
    "Quality scale",
    "Development",
    "Where things live",
    "The demo: `scripts/develop`",
    "Core Sonos side by side: `scripts/side-by-side`",
    "Benchmark: `scripts/bench`",
    "What the commands need",
    "The emulated Sonos household",
)
# What the split could lose without losing a heading: the sources cited, the dated runs.
FACTS_BEFORE_THE_SPLIT = (
    "home-assistant/core#107680",
    "home-assistant/core#168015",
    "home-assistant/core#57884",
    "home-assistant/core#89128",
    "home-assistant/core#159330",
    "home-assistant/home-assistant.io#42467",
    "SoCo/SoCo#913",
    "SoCo/SoCo#935",
    "svrooij/node-sonos-ts#198",
    "simojenki/bonob#239",
    "scottwaters/Choragus#46",
    "ebaauw/homebridge-zp issue 172",
    "core PR 152794",
    "What the run of 2026-11-29 showed",
    "a run of\n   steps 1-3 on 2026-12-07",
    "of the code of 2026-12-07",
    "(2026-11-29; the `scripts/develop` rows on 2026-11-22)",
    "blueprints/automation/sonos_troubleshooter/notify_on_error.yaml",
    "`docs/sonos-health-dashboard.yaml` is a ready dashboard",
)

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$", re.MULTILINE)
LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)\)")


def prose(page: Path) -> str:
    """The page without its fenced code, where brackets and hashes are code, not Markdown."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def headings(page: Path) -> list[str]:
    return [match[2] for match in HEADING.finditer(prose(page))]


def anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: Counter[str] = Counter()
    found = set()
    for heading in headings(page):
        slug = anchor(heading)
        found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return found


def links(page: Path) -> list[tuple[bool, str]]:
    """(is a picture, target) of every link in the page, the web's left out."""
    return [
        (bang == "!", target)
        for bang, target in LINK.findall(prose(page))
        if not re.match(r"[a-z]+:", target)
    ]


def test_anchor_follows_githubs_rules() -> None:
    assert anchor("The demo: `scripts/develop`") == "the-demo-scriptsdevelop"
    assert anchor("How it decides (never crying wolf)") == "how-it-decides-never-crying-wolf"
    assert anchor("UPnP switched off (`upnp_disabled`, `upnp_disabled_household`)") == (
        "upnp-switched-off-upnp_disabled-upnp_disabled_household"
    )


def test_readme_is_one_a_user_can_skim() -> None:
    size = len(README.read_bytes())
    assert size < README_LIMIT, f"README.md is {size} bytes: move detail into docs/"


def resolves(page: Path, target: str, *, picture: bool) -> bool:
    """Whether the file (a picture: a file, not a folder) and the heading a link names exist."""
    path, _, fragment = target.partition("#")
    linked = (page.parent / path).resolve() if path else page
    if not linked.exists() or (picture and not linked.is_file()):
        return False
    return not fragment or (linked.suffix == ".md" and fragment in anchors(linked))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    broken = [
        target for picture, target in links(page) if not resolves(page, target, picture=picture)
    ]
    assert broken == []


def test_every_page_is_reached_from_the_readme_contributing_or_the_docs_index() -> None:
    indexes = (README, CONTRIBUTING, DOCS / "README.md")
    reached = {
        (index.parent / target.partition("#")[0]).resolve()
        for index in indexes
        for _, target in links(index)
    }
    assert {page for page in PAGES if page not in indexes} - reached == set()


def test_nothing_of_the_readme_before_the_split_was_lost() -> None:
    every_heading = {heading for page in PAGES for heading in headings(page)}
    assert [h for h in HEADINGS_BEFORE_THE_SPLIT if h not in every_heading] == []
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    assert [fact for fact in FACTS_BEFORE_THE_SPLIT if fact not in text] == []


OWNERS = ("<player>", "sonos_household")  # a player's entities, the household device's


def entity_rows(page: Path) -> set[str]:
    """The entity ids of the page's entity table: its rows' first cells."""
    return set(re.findall(r"^\| `([a-z_]+\.<?[a-z_]+>?[a-z_]*)` \|", prose(page), re.MULTILINE))


def test_readme_lists_every_entity_the_integration_names() -> None:
    """The table is a contract: automations use these ids, so each one must be in it, exactly."""
    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    named = {
        (platform, re.sub(r"[^a-z0-9]+", "_", entity["name"].lower()).strip("_"))
        for platform, entities in strings["entity"].items()
        for entity in entities.values()
    }
    listed = entity_rows(README)
    ids = {
        (platform, suffix): {f"{platform}.{owner}_{suffix}" for owner in OWNERS}
        for platform, suffix in named
    }
    assert listed - set().union(*ids.values()) == set()  # a row for an entity that is not
    assert [entity for entity, either in ids.items() if not either & listed] == []
    assert entity_rows(DOCS / "entities.md") == listed


def browser_test() -> ast.Module:
    return ast.parse(BROWSER_TEST.read_text(encoding="utf-8"))


def docs_pictures() -> set[str]:
    """The browser test's DOCS_PICTURES: what it writes to docs/images at every run."""
    for node in browser_test().body:
        if (
            isinstance(node, ast.Assign)
            and ast.unparse(node.targets[0]) == "DOCS_PICTURES"
            and isinstance(node.value, ast.Call)
        ):
            return set(ast.literal_eval(node.value.args[0]))
    raise AssertionError("tests/test_browser.py has no DOCS_PICTURES")


def screenshot_names() -> list[re.Pattern[str]]:
    """The names the browser test's screenshot calls give, an f-string's parts from its words."""
    tree = browser_test()
    words = "|".join(
        re.escape(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"[\w-]+", node.value)
    )
    names = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "screenshot"):
            continue
        name = call.args[1]
        if isinstance(name, ast.Constant):
            names.append(re.compile(re.escape(str(name.value))))
        elif isinstance(name, ast.JoinedStr):
            parts = [
                re.escape(str(part.value)) if isinstance(part, ast.Constant) else f"(?:{words})"
                for part in name.values
            ]
            names.append(re.compile("".join(parts)))
    return names


def test_every_picture_is_taken_by_the_browser_test_and_shown() -> None:
    """No picture of an older build: each one in docs/images is written by every browser run."""
    in_folder = {path.name for path in IMAGES.iterdir()}
    assert in_folder == docs_pictures()
    taken = screenshot_names()
    assert [name for name in in_folder if not any(p.fullmatch(name) for p in taken)] == []
    shown = {
        (page.parent / target).resolve()
        for page in PAGES
        for picture, target in links(page)
        if picture
    }
    assert {IMAGES / name for name in in_folder} - shown == set()


def test_ci_runs_the_commands_contributing_documents() -> None:
    contributing = CONTRIBUTING.read_text(encoding="utf-8")
    commands = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.startswith("scripts/")
    ]
    assert commands
    assert [command for command in commands if f"`{command}`" not in contributing] == []
    for command in ("scripts/setup", "scripts/test", "scripts/lint"):
        assert f"`{command}" in contributing, command


def test_contributing_names_the_command_that_builds_the_translations() -> None:
    command = "scripts/exec python tools/build_strings.py"
    assert command in CONTRIBUTING.read_text(encoding="utf-8")
    assert (ROOT / command.rsplit(" ", 1)[-1]).is_file()


def test_manifest_documentation_is_the_repository_whose_readme_github_shows() -> None:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    repository = manifest["issue_tracker"].removesuffix("/issues")
    documentation = manifest["documentation"]
    assert f"`{repository}`" in README.read_text(encoding="utf-8")  # what HACS is given
    page = documentation.removeprefix(repository).removeprefix("/blob/main/")
    assert documentation.startswith(repository)
    assert (ROOT / page / "README.md" if not page else ROOT / page).is_file()


def test_the_release_is_one_version_everywhere() -> None:
    """The manifest (what HACS installs), the changelog's newest release and the README agree."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    release = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", re.MULTILINE)
    released = release.findall(changelog())
    assert released, "no release in CHANGELOG.md"
    assert manifest["version"] == released[0]
    assert f"> Status: {released[0]}." in README.read_text(encoding="utf-8")


def changelog() -> str:
    return (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
