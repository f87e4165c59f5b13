"""The model shipped inside the package: the default backbone when nobody chose one.

See ``models/PROVENANCE.md`` for where it comes from. It is checked against its
sha256 when used, so a damaged installation fails with one clear line rather
than training on corrupted weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from vpt_core.errors import BackboneError

MODELS_DIR = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class EmbeddedModel:
    key: str
    timm_name: str
    file_name: str
    sha256: str
    description: str

    @property
    def path(self) -> Path:
        return MODELS_DIR / self.file_name

    def verified_path(self) -> Path:
        path = self.path
        if not path.is_file():
            raise BackboneError(f"the embedded model {path} is missing from this installation; reinstall vpt-toolkit")
        if _sha256(path) != self.sha256:
            raise BackboneError(f"the embedded model {path} is damaged (sha256 differs); reinstall vpt-toolkit")
        return path


FDSL_VIT_TINY = EmbeddedModel(
    key="fdsl-vit-tiny",
    timm_name="vit_tiny_patch16_224",
    file_name="fdsl_vit_tiny_patch16_224.safetensors",
    sha256="c64ce40d129899f7b818c904b6921aa0fe70e4d85f76e12def090882a503eba4",
    description="ViT-Tiny pretrained on rendered fractals (no natural images); small, fast, offline",
)
DEFAULT_MODEL = FDSL_VIT_TINY
EMBEDDED_MODELS = {model.key: model for model in (FDSL_VIT_TINY,)}


def embedded_model(key: str) -> EmbeddedModel:
    if key not in EMBEDDED_MODELS:
        raise BackboneError(f"no embedded model {key!r} in this version; known: {', '.join(EMBEDDED_MODELS)}")
    return EMBEDDED_MODELS[key]


def embedded_model_for(path: str | Path) -> EmbeddedModel | None:
    """The embedded model a weights path points at, if it does."""
    try:
        resolved = Path(path).resolve()
    except OSError:
        return None
    return next((m for m in EMBEDDED_MODELS.values() if m.path == resolved), None)

_DIGESTS: dict[tuple[Path, int, int], str] = {}


def _sha256(path: Path) -> str:
    """sha256 of the file, computed once per (path, size, modification time)."""
    status = path.stat()
    key = (path, status.st_size, status.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _DIGESTS[key]


def embedded_backbone_config(image_fit: str = "whole", model: EmbeddedModel = DEFAULT_MODEL):
    """A ``BackboneConfig`` for the embedded model (local file: works offline)."""
    from .backbone import BackboneConfig

    return BackboneConfig(model.timm_name, weights=str(model.verified_path()), image_fit=image_fit)
