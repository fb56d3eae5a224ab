"""The household drawn at a glance: rooms, each player's role, link and state, the cloud at the edge.

Drawn as SVG (sharp on any screen, a few kB), in words the caller brings in the user's
language: this module lays out and draws, it never words anything itself. Colours are the
Okabe-Ito palette, which reads for every common colour-vision deficiency, and every state is
also written out: colour is never the only sign. The drawing carries its own background and
follows the viewer's light or dark preference, so it reads on both of HA's themes.

Pure: no Home Assistant import; the same household always gives the same bytes, so the
image entity redraws only when something it shows changed (tests/test_household_map.py).
"""

from dataclasses import dataclass
from enum import StrEnum
from xml.sax.saxutils import escape

WIDTH = 1100
MARGIN = 16
GAP = 12
COLUMNS = 4
EDGE_HEIGHT = 64  # the router and the cloud
BANNER_HEIGHT = 30
ROOM_HEADER = 30
PLAYER_HEIGHT = 58
NAME_CHARACTERS = 34  # longer words are cut, with an ellipsis


class Mark(StrEnum):
    """How a player or the cloud stands: its colour (the words say it too)."""

    OK = "ok"
    ERROR = "error"  # 1001, or 1003 at the cloud
    WARNING = "warning"  # an unstable connection
    AWAY = "away"  # asleep, powered off, updating, on Bluetooth: no error
    REFUSING = "refusing"  # UPnP switched off


COLOURS = {  # Okabe & Ito, "Color Universal Design" (2002)
    Mark.OK: "#009E73",  # bluish green
    Mark.ERROR: "#D55E00",  # vermillion
    Mark.WARNING: "#E69F00",  # orange
    Mark.AWAY: "#56B4E9",  # sky blue
    Mark.REFUSING: "#CC79A7",  # reddish purple
}
STYLE = """\
.bg{fill:#f4f4f4}.card{fill:#fff;stroke:#c8c8c8}.unknown{stroke-dasharray:6 4}
text{font-family:Roboto,'Noto Sans',Arial,sans-serif;font-size:13px;fill:#212121}
.muted{fill:#5f5f5f;font-size:12px}.small{font-size:12px}.title{font-weight:bold}.line{stroke:#8a8a8a;stroke-width:2}
@media (prefers-color-scheme:dark){.bg{fill:#121212}.card{fill:#1f1f1f;stroke:#444}
text{fill:#e3e3e3}.muted{fill:#a8a8a8}}"""


@dataclass(frozen=True, slots=True)
class MapPlayer:
    """One player as drawn: every text already in the user's language."""

    label: str  # its role ("Sub", "Rear left"), or its model when alone in its room
    room: str
    link: str  # "Wi-Fi 5 GHz", "Ethernet", "through Living Room"
    status: str  # "OK", "1001: cannot reach the network", "silent with Living Room"
    mark: Mark
    order: int  # within its room: the main unit first, then its satellites


@dataclass(frozen=True, slots=True)
class MapHousehold:
    """The household as drawn."""

    router: str
    cloud: str
    cloud_status: str
    cloud_mark: Mark
    players: tuple[MapPlayer, ...]
    banner: str | None = None  # the topology is unknown: said above the rooms


def draw(household: MapHousehold) -> str:
    """Return the household as an SVG document."""
    parts: list[str] = []
    top = MARGIN + EDGE_HEIGHT + GAP
    _edge(parts, household)
    if household.banner is not None:
        parts.append(_text(MARGIN, top + 19, household.banner, css="muted"))
        top += BANNER_HEIGHT
    rooms: dict[str, list[MapPlayer]] = {}
    for player in sorted(household.players, key=lambda p: (p.room.casefold(), p.order, p.label)):
        rooms.setdefault(player.room, []).append(player)
    width = (WIDTH - 2 * MARGIN - (COLUMNS - 1) * GAP) // COLUMNS
    columns = [top] * COLUMNS
    dashed = household.banner is not None
    for room, players in rooms.items():
        column = columns.index(min(columns))
        x, y = MARGIN + column * (width + GAP), columns[column]
        height = ROOM_HEADER + len(players) * PLAYER_HEIGHT
        parts.append(_room(x, y, width, room, players, dashed=dashed))
        columns[column] = y + height + GAP
    total = max(*columns, top) + MARGIN - GAP
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total}" '
        f'viewBox="0 0 {WIDTH} {total}" role="img"><style>{STYLE}</style>'
        f'<rect class="bg" width="{WIDTH}" height="{total}"/>{"".join(parts)}</svg>'
    )


def _edge(parts: list[str], household: MapHousehold) -> None:
    """Draw the router, the cloud, and the link between them with how the cloud stands."""
    box = 220
    cloud_x = WIDTH - MARGIN - box
    middle = MARGIN + EDGE_HEIGHT // 2
    colour = COLOURS[household.cloud_mark]
    dash = "" if household.cloud_mark is Mark.OK else ' stroke-dasharray="8 6"'
    parts += [
        (
            f'<line class="line" x1="{MARGIN + box}" y1="{middle}" x2="{cloud_x}" y2="{middle}"'
            f"{dash}/>"
        ),
        _box(MARGIN, MARGIN, box, EDGE_HEIGHT, None),
        _text(MARGIN + 14, middle + 5, household.router, css="title"),
        _box(cloud_x, MARGIN, box, EDGE_HEIGHT, colour),
        _text(cloud_x + 14, middle - 4, household.cloud, css="title"),
        _text(cloud_x + 14, middle + 14, _cut(household.cloud_status), fill=colour),
    ]


def _room(x: int, y: int, width: int, room: str, players: list[MapPlayer], *, dashed: bool) -> str:
    height = ROOM_HEADER + len(players) * PLAYER_HEIGHT
    card = "card unknown" if dashed else "card"
    parts = [
        f'<rect class="{card}" x="{x}" y="{y}" width="{width}" height="{height}" rx="8"/>',
        _text(x + 12, y + 20, _cut(room), css="title"),
    ]
    for number, player in enumerate(players):
        top = y + ROOM_HEADER + number * PLAYER_HEIGHT
        colour = COLOURS[player.mark]
        parts += [
            (
                f'<rect x="{x + 8}" y="{top + 2}" width="6" height="{PLAYER_HEIGHT - 10}" rx="3"'
                f' fill="{colour}"/>'
            ),
            _text(x + 22, top + 14, _cut(player.label)),
            _text(x + 22, top + 31, _cut(player.link), css="muted"),
            _text(x + 22, top + 47, _cut(player.status), css="small", fill=colour),
        ]
    return "".join(parts)


def _box(x: int, y: int, width: int, height: int, stroke: str | None) -> str:
    colour = f' style="stroke:{stroke};stroke-width:2"' if stroke else ""
    return f'<rect class="card" x="{x}" y="{y}" width="{width}" height="{height}" rx="8"{colour}/>'


def _text(
    x: int,
    y: int,
    words: str,
    *,
    css: str | None = None,
    fill: str | None = None,
    anchor: str | None = None,
) -> str:
    attributes = f' class="{css}"' if css else ""
    attributes += f' style="fill:{fill}"' if fill else ""
    attributes += f' text-anchor="{anchor}"' if anchor else ""
    return f'<text x="{x}" y="{y}"{attributes}>{escape(words)}</text>'


def _cut(words: str) -> str:
    """Return the words, cut to fit a room's width."""
    return words if len(words) <= NAME_CHARACTERS else f"{words[: NAME_CHARACTERS - 1]}…"
