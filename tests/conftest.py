"""Shared fixtures: a tiny random ViT, small image folders, and the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VPT_SHARED_DIR", REPO_ROOT.parent / "shared"))
MAGNETIC_TILE = SHARED / "data" / "magnetic-tile"
FDSL_WEIGHTS = SHARED / "backbones" / "fdsl_vit_tiny_patch16_224.pth"

# A 2-block, 48-wide ViT on 32x32 images: the whole engine runs in milliseconds.
TINY_MODEL_KWARGS = {"img_size": 32, "patch_size": 8, "depth": 2, "embed_dim": 48, "num_heads": 3}


def tiny_backbone_config(**overrides):
    from vpt_engine.backbone import BackboneConfig

    kwargs = {**TINY_MODEL_KWARGS, **overrides}
    return BackboneConfig("vit_tiny_patch16_224", random_init=True, model_kwargs=kwargs)


@pytest.fixture(scope="session")
def tiny_backbone():
    from vpt_engine.backbone import load_backbone

    return load_backbone(tiny_backbone_config())


def draw_class_image(label: int, rng: np.random.Generator, size=(40, 48)) -> np.ndarray:
    """Easy-to-separate classes: each class has its own colour and stripe direction."""
    import cv2

    height, width = size
    image = np.full((height, width, 3), 40, np.uint8)
    colour = [(200, 60, 60), (60, 200, 60), (60, 60, 200), (200, 200, 60), (60, 200, 200)][label % 5]
    for k in range(0, max(height, width), 8):
        if label % 2:
            cv2.line(image, (k, 0), (k, height), colour, 2)
        else:
            cv2.line(image, (0, k), (width, k), colour, 2)
    noise = rng.normal(0, 10, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.fixture
def make_image_folder(tmp_path):
    """Factory: ``make_image_folder({"ok": 4, "bad": 4}, suffix=".png")`` -> folder path."""
    import cv2

    def make(counts: dict[str, int], suffix: str = ".png", seed: int = 0, root: Path | None = None) -> Path:
        root = root or (tmp_path / f"data_{seed}")
        rng = np.random.default_rng(seed)
        for label, (name, count) in enumerate(counts.items()):
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                cv2.imwrite(str(folder / f"{name}_{index:03d}{suffix}"), draw_class_image(label, rng))
        return root

    return make


@pytest.fixture
def magnetic_tile_dir() -> Path:
    if not MAGNETIC_TILE.is_dir():
        pytest.skip(f"real-image test needs the magnetic-tile dataset at {MAGNETIC_TILE}")
    return MAGNETIC_TILE


@pytest.fixture
def fdsl_weights() -> Path:
    if not FDSL_WEIGHTS.is_file():
        pytest.skip(f"needs the FDSL backbone weights at {FDSL_WEIGHTS}")
    return FDSL_WEIGHTS
