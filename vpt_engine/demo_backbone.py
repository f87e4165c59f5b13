"""The demo's backbone: a small, randomly initialised ViT saved as a local weights file.

Saving it makes the demo behave exactly like real use (a timm name plus a local
weights file): task packs fingerprint it, bundles bake it, the GUI reloads it.
Its accuracy says nothing about a real pretrained backbone.
"""

from __future__ import annotations

import os
from pathlib import Path

from vpt_core.atomicio import atomic_path
from .backbone import BackboneConfig, load_backbone

DEMO_BACKBONE_NAME = "vit_tiny_patch16_224"
# Small enough to train two tasks, export and run them in a few minutes on two CPU cores.
DEMO_MODEL_KWARGS = {"img_size": 112, "depth": 6}
DEMO_WEIGHTS_FILE = "demo_vit_tiny_random.safetensors"


def ensure_demo_backbone(folder: str | os.PathLike, seed: int = 0) -> BackboneConfig:
    """Write the demo weights into ``folder`` (once) and return a config that loads them."""
    from safetensors.torch import save_file

    path = Path(folder) / DEMO_WEIGHTS_FILE
    if not path.is_file():
        random_config = BackboneConfig(DEMO_BACKBONE_NAME, random_init=True, model_kwargs=DEMO_MODEL_KWARGS)
        state = {k: v.contiguous() for k, v in load_backbone(random_config, seed=seed).model.state_dict().items()}
        with atomic_path(path) as tmp:
            save_file(state, str(tmp))
    return BackboneConfig(DEMO_BACKBONE_NAME, weights=str(path), model_kwargs=DEMO_MODEL_KWARGS)
