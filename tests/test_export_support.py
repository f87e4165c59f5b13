"""Shared helpers for the export, runtime, TensorRT and infer tests (no tests here).

Task packs are built directly from the tiny conftest backbone with seeded
random prompts and heads: export, parity and the runtime treat them exactly
like trained packs, and no training is needed. One bundle is exported per
test session and shared (exports take seconds).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from conftest import draw_class_image, tiny_backbone_config

NUM_PROMPTS = 4
_CACHE: dict[str, object] = {}


def tiny_backbone_cached():
    if "backbone" not in _CACHE:
        from vpt_engine.backbone import load_backbone

        _CACHE["backbone"] = load_backbone(tiny_backbone_config())
    return _CACHE["backbone"]


def make_pack(path: Path, name: str, num_classes: int, *, seed: int = 0, num_prompts: int = NUM_PROMPTS,
              layers: int | None = None, fingerprint_overrides: dict | None = None,
              training: dict | None = None) -> Path:
    """Write a task pack for the tiny backbone with random (seeded) prompts and head."""
    from vpt_core.packformat import BackboneFingerprint, TaskPackData
    from vpt_engine.taskpack import weights_source

    backbone = tiny_backbone_cached()
    fingerprint = BackboneFingerprint.from_dict({**backbone.fingerprint.to_dict(),
                                                 "weights_source": weights_source(backbone.config),
                                                 **(fingerprint_overrides or {})})
    layers = backbone.depth if layers is None else layers
    rng = np.random.default_rng(seed)
    pack = TaskPackData(
        prompts=rng.normal(0, 0.2, (layers, num_prompts, backbone.embed_dim)),
        head_weight=rng.normal(0, 0.5, (num_classes, backbone.embed_dim)),
        head_bias=rng.normal(0, 0.1, num_classes),
        classes=[f"{name}_{index}" for index in range(num_classes)], backbone=fingerprint,
        prompt_config={"num_prompts": num_prompts, "depth": "deep" if layers > 1 else "shallow"},
        preprocess=backbone.preprocess.to_dict(), name=name, training=training or {})
    return pack.save(path)


def write_mixed_images(folder: Path, count_per_kind: int = 2, seed: int = 0) -> list[Path]:
    """Real image files of different formats, sizes and channel counts: PNG/JPEG, gray/RGB/RGBA."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    kinds = [("rgb", ".png", (40, 48)), ("rgb", ".jpg", (61, 37)), ("gray", ".png", (50, 50)),
             ("gray", ".jpg", (33, 90)), ("rgba", ".png", (45, 64))]
    for index in range(count_per_kind):
        for mode, suffix, size in kinds:
            rgb = draw_class_image(index, rng, size=size)
            image = Image.fromarray(rgb)
            if mode == "gray":
                image = image.convert("L")
            elif mode == "rgba":
                image = image.convert("RGBA")
                image.putalpha(Image.fromarray(rng.integers(128, 256, size, dtype=np.uint8)))
            path = folder / f"{mode}_{index}_{size[0]}x{size[1]}{suffix}"
            image.save(path)
            paths.append(path)
    return paths


def shared_bundle(tmp_path_factory) -> dict:
    """One bundle for the whole session, exported through ``vpt export`` with real parity images.

    Tasks: ``surface`` (4 classes, 4 prompts) and ``variant`` (3 classes, 2 prompts: the bundle masks the
    unused slots). Returns paths and the JSON report.
    """
    key = str(tmp_path_factory.getbasetemp())
    if _CACHE.get("bundle_key") != key:
        _CACHE["bundle"] = _export_shared_bundle(tmp_path_factory.mktemp("shared_bundle"))
        _CACHE["bundle_key"] = key
    return _CACHE["bundle"]


def _export_shared_bundle(root: Path) -> dict:
    import io
    import json
    from contextlib import redirect_stdout

    from vpt_core.cli import main

    packs = {"surface": make_pack(root / "surface.vptask", "surface", 4, seed=1),
             "variant": make_pack(root / "variant.vptask", "variant", 3, seed=2, num_prompts=2)}
    images = root / "parity_images"
    write_mixed_images(images)
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["export", str(packs["surface"]), str(packs["variant"]), "--out", str(root / "bundle"),
                     "--parity-images", str(images), "--prompt-slots", str(NUM_PROMPTS), "--json"])
    assert code == 0, out.getvalue()
    return {"root": root, "bundle": root / "bundle", "packs": packs, "images": images,
            "report": json.loads(out.getvalue())}


def copy_bundle(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target


def python_without(modules: tuple[str, ...]) -> list[str]:
    """A python command line whose interpreter cannot import ``modules`` (they raise ImportError)."""
    blocker = (
        "import sys\n"
        "class _Block:\n"
        f"    names = {modules!r}\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in self.names:\n"
        "            raise ImportError(f'{name} is blocked in this test')\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    return [sys.executable, "-c", blocker + "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'))"]
