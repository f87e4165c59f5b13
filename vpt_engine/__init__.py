"""Visual Prompt Tuning on a frozen timm Vision Transformer.

Importing the package is cheap and torch-free; the torch-based parts load on
first use, so the station runtime can share the task-pack format and the
preprocessing without torch installed.
"""

from __future__ import annotations

import importlib
from typing import Any

from vpt_core import __version__

_LAZY = {
    "BackboneConfig": "vpt_engine.backbone",
    "load_backbone": "vpt_engine.backbone",
    "PromptConfig": "vpt_engine.prompts",
    "PromptDepth": "vpt_engine.prompts",
    "PromptInit": "vpt_engine.prompts",
    "HeadInit": "vpt_engine.prompts",
    "PromptedViT": "vpt_engine.prompted_vit",
    "TrainConfig": "vpt_engine.train_config",
    "AugmentConfig": "vpt_engine.augment",
    "train": "vpt_engine.training",
    "scan_image_folder": "vpt_engine.dataset",
    "TaskPackData": "vpt_core.packformat",
    "read_task_pack": "vpt_core.packformat",
    "load_task": "vpt_engine.taskpack",
    "save_task": "vpt_engine.taskpack",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vpt_engine' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
