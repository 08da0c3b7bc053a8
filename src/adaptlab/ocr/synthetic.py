"""Text rendered into page images, clean or deliberately degraded: known ground truth for OCR checks.

Tests and `benchmarks/ocr_quality.py` use it to measure Tesseract on German and English text
without shipping scans; `degrade` imitates a bad scan (low contrast, blur, speckle noise).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


def find_font() -> Path | None:
    """A TrueType font with umlauts and ß: DejaVu Sans or a close relative; None when there is none."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", "DejaVu Sans:lang=de"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(found) if found.endswith((".ttf", ".otf")) and Path(found).is_file() else None


def wrap_text(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to `width` pixels, keeping the text's own paragraph breaks."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and font.getlength(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def render_text(
    text: str, font_path: Path, font_size: int = 28, width: int = 1400, margin: int = 48
) -> Image.Image:
    """Black text on a white page (grey scale), wrapped to `width` pixels."""
    font = ImageFont.truetype(str(font_path), font_size)
    lines = wrap_text(text, font, width - 2 * margin)
    line_height = int(font_size * 1.5)
    image = Image.new("L", (width, 2 * margin + line_height * max(len(lines), 1)), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((margin, margin + number * line_height), line, font=font, fill=0)
    return image


@dataclass(frozen=True)
class Degradation:
    """How badly to spoil a page: contrast kept (1 = full), blur radius (px), noise std (grey levels)."""

    contrast: float = 1.0
    blur: float = 0.0
    noise: float = 0.0
    scale: float = 1.0


# a low-resolution, grey, speckled scan: the kind of page that OCR turns into confident-looking garbage
CLEAN = Degradation()
LIGHT = Degradation(contrast=0.8, blur=1.0, noise=8.0, scale=0.7)
MEDIUM = Degradation(contrast=0.8, blur=1.0, noise=12.0, scale=0.5)
STRONG = Degradation(contrast=0.8, blur=1.0, noise=12.0, scale=0.42)
HEAVY = Degradation(contrast=0.8, blur=1.0, noise=10.0, scale=0.35)
LEVELS = {"clean": CLEAN, "light": LIGHT, "medium": MEDIUM, "strong": STRONG, "heavy": HEAVY}


def degrade(image: Image.Image, how: Degradation, seed: int = 0) -> Image.Image:
    """A worse copy: contrast squeezed toward grey, blurred, speckled, optionally down-sampled."""
    out = image.convert("L")
    if how.scale != 1.0:
        size = (max(1, int(out.width * how.scale)), max(1, int(out.height * how.scale)))
        out = out.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(out, dtype=np.float32)
    pixels = 128 + (pixels - 128) * how.contrast
    out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if how.blur:
        out = out.filter(ImageFilter.GaussianBlur(how.blur))
    if how.noise:
        rng = np.random.default_rng(seed)
        pixels = np.asarray(out, dtype=np.float32) + rng.normal(0, how.noise, (out.height, out.width))
        out = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return out
