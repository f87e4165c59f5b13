"""Bar and line charts, drawn with Pillow (no plotting library needed). Pure: callers give every title and label."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from vpt_core.atomicio import atomic_path

PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
PANEL_W, PANEL_H, MARGIN_L, MARGIN_T, MARGIN_B = 560, 360, 60, 40, 50


def font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:   # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def compose(panels: Sequence[Image.Image], legend_names: Sequence[str], title: str = "") -> Image.Image:
    """Panels side by side under an optional title, with one legend strip below."""
    legend = legend_strip(legend_names, width=PANEL_W * len(panels))
    header = 30 if title else 0
    canvas = Image.new("RGB", (PANEL_W * len(panels), header + PANEL_H + legend.height), "white")
    if title:
        ImageDraw.Draw(canvas).text((10, 8), title, fill="black", font=font(16))
    for index, panel in enumerate(panels):
        canvas.paste(panel, (index * PANEL_W, header))
    canvas.paste(legend, (0, header + PANEL_H))
    return canvas


def bar_panel(groups: Sequence[Sequence[tuple[float, float] | None]], group_names: Sequence[str],
              title: str, chance: float | None = None) -> Image.Image:
    """``groups[g][m]`` = (mean, std) in [0, 1] or None; the y axis starts below the lowest bar."""
    image = Image.new("RGB", (PANEL_W, PANEL_H), "white")
    draw = ImageDraw.Draw(image)
    values = [v for group in groups for v in group if v is not None]
    low = max(0.0, math.floor((min(m - s for m, s in values) if values else 0.0) * 10) / 10 - 0.1)
    top, bottom, left, right = MARGIN_T, PANEL_H - MARGIN_B, MARGIN_L, PANEL_W - 15

    def y_of(value: float) -> float:
        return bottom - (min(1.0, max(low, value)) - low) / (1.0 - low) * (bottom - top)

    draw.text((left, 10), title, fill="black", font=font(14))
    for tick in range(int(round(low * 10)), 11):
        y = y_of(tick / 10)
        draw.line([(left, y), (right, y)], fill=(225, 225, 225))
        draw.text((left - 34, y - 7), f"{tick * 10:3d}", fill="black", font=font(12))
    draw.line([(left, top), (left, bottom), (right, bottom)], fill="black")
    group_width = (right - left) / max(1, len(groups))
    for g, group in enumerate(groups):
        bar_width = group_width * 0.8 / max(1, len(group))
        x0 = left + g * group_width + group_width * 0.1
        for m, value in enumerate(group):
            if value is None:
                continue
            mean, std = value
            xa, xb = x0 + m * bar_width, x0 + (m + 1) * bar_width - 2
            draw.rectangle([xa, y_of(mean), xb, bottom], fill=PALETTE[m % len(PALETTE)])
            centre = (xa + xb) / 2
            draw.line([(centre, y_of(mean + std)), (centre, y_of(mean - std))], fill="black", width=1)
            for end in (mean + std, mean - std):
                draw.line([(centre - 3, y_of(end)), (centre + 3, y_of(end))], fill="black")
        draw.text((left + g * group_width + group_width / 2 - 20, bottom + 8), group_names[g], fill="black",
                  font=font(13))
    if chance is not None and low < chance < 1:
        _dashed_line(draw, (left, y_of(chance)), (right, y_of(chance)), (90, 90, 90))
        draw.text((right - 45, y_of(chance) - 16), "chance", fill=(90, 90, 90), font=font(11))
    return image


def legend_strip(names: Sequence[str], width: int) -> Image.Image:
    per_row = max(1, width // 220)
    rows = math.ceil(len(names) / per_row)
    image = Image.new("RGB", (width, 12 + rows * 22), "white")
    draw = ImageDraw.Draw(image)
    for index, name in enumerate(names):
        x, y = 15 + (index % per_row) * 220, 6 + (index // per_row) * 22
        draw.rectangle([x, y + 3, x + 14, y + 15], fill=PALETTE[index % len(PALETTE)])
        draw.text((x + 20, y + 2), name, fill="black", font=font(13))
    return image


def save_png(image: Image.Image, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
    return Path(path)


def line_chart(panels, x_labels: Sequence[str], path: str | Path, x_title: str = "", title: str = "") -> Path:
    """``panels`` = [(title, [(series name, values, dashed), ...]), ...], side by side, shared legend."""
    images = [line_panel(series, x_labels, panel_title, x_title) for panel_title, series in panels]
    names = list(dict.fromkeys(name for _, series in panels for name, _, _ in series))
    return save_png(compose(images, names, title), path)


def line_panel(series, x_labels: Sequence[str], title: str, x_title: str = "") -> Image.Image:
    image = Image.new("RGB", (PANEL_W, PANEL_H), "white")
    draw = ImageDraw.Draw(image)
    values = [v for _, vs, _ in series for v in vs if v is not None and math.isfinite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    low, high = min(0.0, low), max(high, low + 1e-6)
    top, bottom, left, right = MARGIN_T, PANEL_H - MARGIN_B, MARGIN_L, PANEL_W - 15

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    def x_of(index: int) -> float:
        return left + (index + 0.5) * (right - left) / max(1, len(x_labels))

    draw.text((left, 10), title, fill="black", font=font(14))
    for step in range(6):
        value = low + (high - low) * step / 5
        draw.line([(left, y_of(value)), (right, y_of(value))], fill=(225, 225, 225))
        draw.text((5, y_of(value) - 7), f"{value:.2f}", fill="black", font=font(11))
    draw.line([(left, top), (left, bottom), (right, bottom)], fill="black")
    for index, label in enumerate(x_labels):
        draw.text((x_of(index) - 4, bottom + 6), label, fill="black", font=font(11))
    if x_title:
        draw.text(((left + right) / 2 - 40, bottom + 26), x_title, fill="black", font=font(12))
    for number, (_, vs, dashed) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = [(x_of(i), y_of(v)) for i, v in enumerate(vs) if v is not None and math.isfinite(v)]
        for (xa, ya), (xb, yb) in zip(points, points[1:]):
            if dashed:
                _dashed_line(draw, (xa, ya), (xb, yb), colour)
            else:
                draw.line([(xa, ya), (xb, yb)], fill=colour, width=2)
        for x, y in points:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
    return image


def _dashed_line(draw: ImageDraw.ImageDraw, start, end, colour, dash: float = 6.0) -> None:
    length = math.dist(start, end)
    pieces = max(1, int(length // dash))
    for piece in range(0, pieces, 2):
        a, b = piece / pieces, min(1.0, (piece + 1) / pieces)
        draw.line([(start[0] + (end[0] - start[0]) * a, start[1] + (end[1] - start[1]) * a),
                   (start[0] + (end[0] - start[0]) * b, start[1] + (end[1] - start[1]) * b)], fill=colour, width=2)
