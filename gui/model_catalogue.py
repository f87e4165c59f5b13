"""The models an operator can choose from, and how a project's choice becomes a backbone (Qt-free).

A project stores its choice in ``project.json`` under ``backbone``:

* ``{"model": "fdsl-vit-tiny", ...}``: the model built into the package (offline, the default);
* ``{"model": "<catalogue key>", ...}``: a recommended pretrained model, downloaded once into the
  Hugging Face cache and then used offline;
* ``{"model": "file", "name": <architecture>, "weights": <path>}``: a model file brought in by hand
  (air-gapped sites); the file is checked against the architecture when it is chosen;
* anything else with a ``name``: an engineer's own timm name and weights (Advanced settings).

Facts below were checked against the Hugging Face model cards (licence, parameters, file size).
Speeds were measured with ``benchmarks``-style timing on the development machine (a shared 2-core
CPU, batch 1, 224 x 224, minimum of 10 runs); no GPU was available to measure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpt_engine.embedded import DEFAULT_MODEL

EMBEDDED, DOWNLOAD, FILE, CUSTOM = "embedded", "download", "file", "custom"
MODEL_FILE_KEY = "file"
DEFAULT_IMAGE_FIT = "whole"   # defects near the edge must stay in the picture


@dataclass(frozen=True)
class CatalogueModel:
    key: str
    timm_name: str                      # architecture with its pretrained tag
    source: str                         # EMBEDDED or DOWNLOAD
    params_millions: float
    file_megabytes: float
    licence: str
    cpu_ms: int                         # per picture, see the module docstring
    hf_repo: str = ""                   # where a download comes from (timm's own repository)
    hf_file: str = "model.safetensors"
    model_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        return {"fdsl-vit-tiny": "ViT-Tiny (FDSL)", "dinov2-small": "DINOv2 ViT-S/14",
                "augreg-small-in21k": "ViT-S/16 AugReg (ImageNet-21k)", "deit-small": "DeiT-S"}[self.key]


BUILT_IN = CatalogueModel(DEFAULT_MODEL.key, DEFAULT_MODEL.timm_name, EMBEDDED, 5.7, 11.1, "Apache-2.0", 87)
CATALOGUE: tuple[CatalogueModel, ...] = (
    BUILT_IN,
    # Self-supervised on LVD-142M; run at 224 x 224 (timm resamples the position embedding) instead of
    # its native 518 x 518, which would be about 5 times slower.
    CatalogueModel("dinov2-small", "vit_small_patch14_dinov2.lvd142m", DOWNLOAD, 22.1, 88.2, "Apache-2.0", 587,
                   "timm/vit_small_patch14_dinov2.lvd142m", model_kwargs={"img_size": 224}),
    # The file carries its 21,843-class head (dropped when loaded), hence the larger download.
    CatalogueModel("augreg-small-in21k", "vit_small_patch16_224.augreg_in21k", DOWNLOAD, 22.1, 122.0,
                   "Apache-2.0", 299, "timm/vit_small_patch16_224.augreg_in21k"),
    CatalogueModel("deit-small", "deit_small_patch16_224.fb_in1k", DOWNLOAD, 22.1, 88.2, "Apache-2.0", 299,
                   "timm/deit_small_patch16_224.fb_in1k"),
)


def catalogue_model(key: str | None) -> CatalogueModel | None:
    return next((model for model in CATALOGUE if model.key == key), None)


def architecture_of(name: str) -> CatalogueModel | None:
    """The catalogue entry whose architecture ``name`` is (for a model file's choice)."""
    return next((model for model in CATALOGUE if model.timm_name == name), None)


# -- a project's choice ------------------------------------------------------------------------
def default_backbone(image_fit: str = DEFAULT_IMAGE_FIT) -> dict[str, Any]:
    """What a new project stores: the built-in model."""
    return choice_for(BUILT_IN, image_fit)


def choice_for(model: CatalogueModel, image_fit: str = DEFAULT_IMAGE_FIT) -> dict[str, Any]:
    return {"model": model.key, "name": model.timm_name, "weights": None, "pretrained": model.source == DOWNLOAD,
            "random_init": False, "model_kwargs": dict(model.model_kwargs), "image_fit": image_fit}


def file_choice(architecture: CatalogueModel, path: str | Path, image_fit: str = DEFAULT_IMAGE_FIT) -> dict[str, Any]:
    return {"model": MODEL_FILE_KEY, "name": architecture.timm_name, "weights": str(path), "pretrained": False,
            "random_init": False, "model_kwargs": dict(architecture.model_kwargs), "image_fit": image_fit}


def choice_kind(stored: dict[str, Any]) -> str:
    """EMBEDDED, DOWNLOAD, FILE or CUSTOM; an empty choice (old projects) counts as the built-in model."""
    model = catalogue_model(stored.get("model"))
    if model is not None:
        return model.source
    if stored.get("model") == MODEL_FILE_KEY:
        return FILE
    return CUSTOM if stored.get("name") else EMBEDDED


def resolve(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored choice as a ``BackboneConfig`` dict (the built-in model's path is found at run time)."""
    kind = choice_kind(stored)
    image_fit = stored.get("image_fit") or DEFAULT_IMAGE_FIT
    if kind == EMBEDDED:
        config = choice_for(BUILT_IN, image_fit)
        config["weights"] = str(DEFAULT_MODEL.path)
        return config
    config = {"name": stored.get("name") or "", "weights": stored.get("weights") or None,
              "pretrained": bool(stored.get("pretrained")), "random_init": bool(stored.get("random_init")),
              "model_kwargs": dict(stored.get("model_kwargs") or {}), "image_fit": image_fit}
    if config["weights"]:
        config.update(pretrained=False, random_init=False)
    if stored.get("model"):
        config["model"] = stored["model"]
    return config


def is_downloaded(model: CatalogueModel) -> bool:
    """Whether the model's file is in the local Hugging Face cache (no network used)."""
    if model.source != DOWNLOAD:
        return True
    import os

    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model.hf_repo, model.hf_file, cache_dir=os.environ.get("HF_HUB_CACHE") or None)
    return isinstance(found, str)
