"""Draw the brand images HA and HACS show for the integration (custom_components/.../brand/).

Our own artwork, not Sonos': a speaker (cabinet, woofer, tweeter) with a round badge holding a
check mark, the troubleshooter's promise. Drawn at 4x and scaled down for smooth edges, so
`scripts/exec python tools/draw_brand.py` gives the same pixels every time; the brand test
compares the committed images with a fresh drawing.

Sizes follow HA's brands rules: icon 256x256 (@2x 512x512); logo landscape with its shorter
side 128 (@2x 256); dark_ variants for dark themes.
"""

from pathlib import Path
import sys

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parents[1] / "custom_components" / "sonos_troubleshooter" / "brand"
SUPERSAMPLE = 4
WORDMARK = "Sonos Troubleshooter"

type RGBA = tuple[int, int, int, int]

LIGHT: dict[str, RGBA] = {
    "cabinet": (38, 50, 56, 255),
    "grille": (84, 110, 122, 255),
    "cone": (236, 239, 241, 255),
    "badge": (0, 150, 136, 255),
    "mark": (255, 255, 255, 255),
    "text": (38, 50, 56, 255),
}
DARK: dict[str, RGBA] = {
    "cabinet": (207, 216, 220, 255),
    "grille": (144, 164, 174, 255),
    "cone": (38, 50, 56, 255),
    "badge": (38, 166, 154, 255),
    "mark": (255, 255, 255, 255),
    "text": (236, 239, 241, 255),
}


def icon(size: int, colors: dict[str, RGBA]) -> Image.Image:
    """Draw the square mark: a speaker, and a badge at the lower right."""
    big = size * SUPERSAMPLE
    unit = big / 256  # every coordinate below is on a 256 grid
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def box(left: float, top: float, right: float, bottom: float) -> tuple[int, ...]:
        return tuple(round(value * unit) for value in (left, top, right, bottom))

    draw.rounded_rectangle(box(40, 12, 184, 244), radius=round(28 * unit), fill=colors["cabinet"])
    draw.ellipse(box(92, 38, 132, 78), fill=colors["grille"])  # tweeter ring
    draw.ellipse(box(102, 48, 122, 68), fill=colors["cone"])
    draw.ellipse(box(60, 100, 164, 204), fill=colors["grille"])  # woofer ring
    draw.ellipse(box(76, 116, 148, 188), fill=colors["cone"])
    draw.ellipse(box(100, 140, 124, 164), fill=colors["grille"])  # dust cap

    draw.ellipse(box(148, 148, 248, 248), fill=colors["badge"])
    draw.line(
        [
            (round(172 * unit), round(200 * unit)),
            (round(192 * unit), round(220 * unit)),
            (round(226 * unit), round(178 * unit)),
        ],
        fill=colors["mark"],
        width=round(14 * unit),
        joint="curve",
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int, colors: dict[str, RGBA]) -> Image.Image:
    """Draw the icon, then the wordmark in Pillow's bundled font (no font file needed)."""
    font = ImageFont.load_default(size=round(height * 0.36))
    _, top, right, bottom = font.getbbox(WORDMARK)
    gap = height // 6
    width = height + gap + right + gap // 4
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.alpha_composite(icon(height, colors))
    draw = ImageDraw.Draw(image)
    draw.text(
        (height + gap, (height - (bottom - top)) // 2 - top),
        WORDMARK,
        font=font,
        fill=colors["text"],
    )
    return image


def images() -> dict[str, Image.Image]:
    """Draw every brand file, by file name."""
    drawn: dict[str, Image.Image] = {}
    for prefix, colors in (("", LIGHT), ("dark_", DARK)):
        drawn[f"{prefix}icon.png"] = icon(256, colors)
        drawn[f"{prefix}icon@2x.png"] = icon(512, colors)
        drawn[f"{prefix}logo.png"] = logo(128, colors)
        drawn[f"{prefix}logo@2x.png"] = logo(256, colors)
    return drawn


def main() -> None:
    BRAND.mkdir(exist_ok=True)
    for name, image in images().items():
        image.save(BRAND / name, optimize=True)
        print(f"{BRAND / name}: {image.width}x{image.height}", file=sys.stderr)


if __name__ == "__main__":
    main()
