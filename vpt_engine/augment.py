"""Training augmentations suited to inspection photos.

The default is a horizontal flip only: it is what the measured default recipe
uses (see README, Benchmarks), and parts photographed under fixed fixtures rarely
need more. Crops, small rotations, vertical flips and light jitter are there for
tasks that show them; each step is left out when its setting makes it a no-op.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from vpt_core.errors import ConfigError
from vpt_core.preprocess import PreprocessSpec

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class AugmentConfig:
    enabled: bool = True
    horizontal_flip: bool = True
    vertical_flip: bool = False
    rotation_degrees: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    crop_scale: tuple[float, float] = (1.0, 1.0)
    crop_ratio: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        if not 0 <= self.rotation_degrees <= 180:
            raise ConfigError(f"rotation_degrees must be within 0..180, got {self.rotation_degrees}")
        for name in ("brightness", "contrast"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} jitter must be in [0, 1), got {getattr(self, name)}")
        low, high = self.crop_scale
        if not 0 < low <= high <= 1:
            raise ConfigError(f"crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale}")
        low, high = self.crop_ratio
        if not 0 < low <= high:
            raise ConfigError(f"crop_ratio must satisfy 0 < low <= high, got {self.crop_ratio}")
        object.__setattr__(self, "crop_scale", tuple(float(v) for v in self.crop_scale))
        object.__setattr__(self, "crop_ratio", tuple(float(v) for v in self.crop_ratio))

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["crop_scale"] = list(self.crop_scale)
        document["crop_ratio"] = list(self.crop_ratio)
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "AugmentConfig":
        known = cls.__dataclass_fields__
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in document.items() if k in known})


def build_train_transform(config: AugmentConfig, spec: PreprocessSpec) -> Callable[[np.ndarray], torch.Tensor]:
    """uint8 HxWx3 image (already ``spec.resize``d) -> normalised float CHW tensor.

    Randomness comes from torch's global generator, which training seeds.
    """
    import torch
    if not config.enabled:
        return lambda image: torch.from_numpy(spec.normalize(spec.crop(image)))
    from torchvision.transforms import v2

    steps = []
    random_crop = config.crop_scale != (1.0, 1.0) or config.crop_ratio != (1.0, 1.0)
    if random_crop:
        steps.append(v2.RandomResizedCrop((spec.height, spec.width), scale=config.crop_scale, ratio=config.crop_ratio,
                                          interpolation=v2.InterpolationMode.BICUBIC, antialias=True))
    if config.horizontal_flip:
        steps.append(v2.RandomHorizontalFlip())
    if config.vertical_flip:
        steps.append(v2.RandomVerticalFlip())
    if config.rotation_degrees > 0:
        steps.append(v2.RandomRotation(config.rotation_degrees, interpolation=v2.InterpolationMode.BILINEAR))
    if config.brightness or config.contrast:
        steps.append(v2.ColorJitter(brightness=config.brightness, contrast=config.contrast))
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(spec.mean), list(spec.std))]
    pipeline = v2.Compose(steps)

    def transform(image: np.ndarray) -> torch.Tensor:
        if not random_crop:   # the evaluation crop itself, so training sees exactly what the station will
            image = spec.crop(image)
        return pipeline(torch.from_numpy(np.array(image)).permute(2, 0, 1))

    return transform
