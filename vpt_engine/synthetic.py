"""Synthetic machined parts, drawn with OpenCV, for the demo, tests and benchmarks.

Each image shows one part (a four- or six-hole flange, or a plain washer) on a
textured fixture under slightly varying light and pose, with at most one surface
defect (scratch, pit or crack). The same images therefore carry two labellings,
which is what the demo needs to show two tasks on one backbone:

* ``surface``: ok / scratch / pit / crack
* ``variant``: flange4 / flange6 / washer

Nothing here needs torch, a camera or the internet.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

VARIANTS = ("flange4", "flange6", "washer")
DEFECTS = ("ok", "scratch", "pit", "crack")
TASK_LABELS = {"surface": DEFECTS, "variant": VARIANTS}


@dataclass(frozen=True)
class PartSample:
    variant: str
    defect: str
    image: np.ndarray  # uint8 HxWx3, BGR as OpenCV writes it

    def label(self, task: str) -> str:
        return self.defect if task == "surface" else self.variant


def draw_part(variant: str, defect: str, rng: np.random.Generator, size: tuple[int, int] = (480, 640)) -> np.ndarray:
    height, width = size
    image = _fixture_background(rng, height, width)
    centre = (width / 2 + rng.uniform(-0.06, 0.06) * width, height / 2 + rng.uniform(-0.06, 0.06) * height)
    radius = min(height, width) * rng.uniform(0.33, 0.37)
    metal = int(rng.uniform(165, 200))
    _circle(image, centre, radius, (metal, metal, metal + 6))
    _circle(image, centre, radius * 0.97, (metal - 18, metal - 18, metal - 12), thickness=2)
    _machining_rings(image, centre, radius, rng)
    _circle(image, centre, radius * 0.32, (35, 35, 38))  # bore
    holes = {"flange4": 4, "flange6": 6, "washer": 0}[variant]
    phase = rng.uniform(0, 2 * math.pi)
    for k in range(holes):
        angle = phase + 2 * math.pi * k / holes
        spot = (centre[0] + 0.68 * radius * math.cos(angle), centre[1] + 0.68 * radius * math.sin(angle))
        _circle(image, spot, radius * 0.09, (40, 40, 44))
    _draw_defect(image, defect, centre, radius, rng)
    _lighting(image, rng)
    noise = rng.normal(0, 4.0, image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def generate_parts(count: int, seed: int = 0, size: tuple[int, int] = (480, 640)) -> list[PartSample]:
    """Balanced over variant x defect combinations, in a shuffled order."""
    rng = np.random.default_rng(seed)
    combos = [(v, d) for v in VARIANTS for d in DEFECTS]
    picks = [combos[i % len(combos)] for i in range(count)]
    rng.shuffle(picks)
    return [PartSample(v, d, draw_part(v, d, rng, size)) for v, d in picks]


def write_task_folders(samples: list[PartSample], root: str | os.PathLike, task: str, prefix: str = "part") -> Path:
    """Write ``root/<label>/<prefix>_NNNN.png`` for one labelling; returns ``root``."""
    root = Path(root)
    for index, sample in enumerate(samples):
        folder = root / sample.label(task)
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{prefix}_{index:04d}.png"), sample.image)
    return root


def write_heldout(samples: list[PartSample], folder: str | os.PathLike) -> list[tuple[Path, dict[str, str]]]:
    """Unsorted held-out images plus their labels for every task (what an inspection line sees)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for index, sample in enumerate(samples):
        path = folder / f"heldout_{index:04d}.png"
        cv2.imwrite(str(path), sample.image)
        out.append((path, {task: sample.label(task) for task in TASK_LABELS}))
    return out


def _fixture_background(rng, height, width) -> np.ndarray:
    base = rng.uniform(70, 95)
    texture = cv2.GaussianBlur(rng.normal(0, 10, (height, width)).astype(np.float32), (0, 0), 3)
    gray = np.clip(base + texture, 0, 255)
    return np.repeat(gray[:, :, None], 3, axis=2).astype(np.uint8)


def _circle(image, centre, radius, colour, thickness=-1) -> None:
    shift = 4  # sub-pixel precision
    point = (int(round(centre[0] * 16)), int(round(centre[1] * 16)))
    cv2.circle(image, point, int(round(radius * 16)), colour, thickness, cv2.LINE_AA, shift)


def _machining_rings(image, centre, radius, rng) -> None:
    for r in np.linspace(radius * 0.38, radius * 0.93, 9):
        tone = int(rng.uniform(150, 185))
        _circle(image, centre, r, (tone, tone, tone + 4), thickness=1)


def _surface_point(centre, radius, rng, low=0.45, high=0.85):
    angle = rng.uniform(0, 2 * math.pi)
    distance = radius * rng.uniform(low, high)
    return centre[0] + distance * math.cos(angle), centre[1] + distance * math.sin(angle), angle


def _draw_defect(image, defect, centre, radius, rng) -> None:
    if defect == "ok":
        return
    x, y, angle = _surface_point(centre, radius, rng)
    width = max(2, int(round(radius * 0.03)))  # visible at the model's input resolution
    if defect == "scratch":
        length = radius * rng.uniform(0.35, 0.6)
        direction = angle + math.pi / 2 + rng.uniform(-0.5, 0.5)
        end = (x + length * math.cos(direction), y + length * math.sin(direction))
        cv2.line(image, (int(x), int(y)), (int(end[0]), int(end[1])), (55, 55, 60), width, cv2.LINE_AA)
        offset = width // 2 + 1
        cv2.line(image, (int(x) + offset, int(y) + offset), (int(end[0]) + offset, int(end[1]) + offset),
                 (225, 225, 230), max(1, width // 2), cv2.LINE_AA)
    elif defect == "pit":
        r = radius * rng.uniform(0.07, 0.1)
        _circle(image, (x, y), r, (45, 42, 40))
        _circle(image, (x - r * 0.3, y - r * 0.3), r * 0.35, (210, 210, 215))
    elif defect == "crack":
        points = [(x, y)]
        heading = angle + rng.uniform(-0.4, 0.4)
        for _ in range(int(rng.integers(6, 10))):
            heading += rng.uniform(-0.7, 0.7)
            step = radius * rng.uniform(0.05, 0.09)
            points.append((points[-1][0] + step * math.cos(heading), points[-1][1] + step * math.sin(heading)))
        polyline = np.asarray(points, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [polyline], False, (30, 30, 32), width, cv2.LINE_AA)


def _lighting(image, rng) -> None:
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    gradient = (np.cos(angle) * (xx / width - 0.5) + np.sin(angle) * (yy / height - 0.5)) * rng.uniform(10, 30)
    gain = rng.uniform(0.9, 1.1)
    image[:] = np.clip(image.astype(np.float32) * gain + gradient[:, :, None], 0, 255).astype(np.uint8)
