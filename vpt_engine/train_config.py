"""Training settings (torch-free, so the app can show the defaults without loading torch).

The budget is counted in optimizer steps, not epochs: with a handful of
pictures per class an epoch is a single step, and thirty of them never let the
prompts fit. By default every step sees every training picture (augmented) up
to ``batch_size``, and the number of steps is the largest of

    min_steps, ceil(min_image_passes / batch), ceil(passes_per_image * images / batch)

capped at ``max_steps``: a small set gets at least ``min_image_passes`` picture
passes (the same work as 10 pictures x 6 classes x 60 steps, about five minutes
of ViT-Tiny on two CPU cores), so fewer pictures mean more steps, not less
training; larger sets get about ``passes_per_image`` looks at each picture.
``steps`` overrides the budget. The pack records the steps and picture passes
that were run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from vpt_core.errors import ConfigError

from .augment import AugmentConfig

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    steps: int | None = None                  # None: the budget from the fields below
    passes_per_image: float = 50.0
    min_steps: int = 60
    min_image_passes: int = 3600
    max_steps: int = 3000
    batch_size: int = 64                      # all training pictures per step, up to this many
    # 60 steps at 1e-2 travel about as far as 150 at 5e-3 (the recipe that first beat the probe here).
    learning_rate: float = 1e-2               # prompts
    head_learning_rate: float | None = None   # None: the prompts' learning rate
    prompt_weight_decay: float = 1e-2
    head_weight_decay: float = 1e-3
    schedule: str = "constant"
    warmup_fraction: float = 0.0
    min_lr_ratio: float = 0.01                # cosine: where it ends, as a share of the start
    label_smoothing: float = 0.0
    balance_classes: bool = True              # weight the loss by inverse class frequency
    check_fraction: float = 0.0               # pictures set aside per class to check the trained task honestly
    standardize_features: bool = False        # fixed feature standardisation before the head (folded on save)
    # After the prompts trained, re-solve the head as a linear probe on their final features (see training.py).
    refit_head: bool = True
    # Share of its own training pictures a solved head must get right when a nearly as good penalty allows it
    # (linear_probe.LinearProbeConfig.fit_target); 0 keeps the cross-validated choice as it is.
    fit_target: float = 0.95
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        _whole(self.steps, "steps", 1, allow_none=True)
        _whole(self.min_steps, "min_steps", 1)
        _whole(self.min_image_passes, "min_image_passes", 0)
        _whole(self.max_steps, "max_steps", self.min_steps)
        _whole(self.batch_size, "batch size", 1)
        _whole(self.seed, "seed", 0)
        if not isinstance(self.passes_per_image, (int, float)) or not 0 < self.passes_per_image <= 10_000:
            raise ConfigError(f"passes_per_image must be a positive number, got {self.passes_per_image!r}")
        for name in ("learning_rate", "head_learning_rate"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0 < value < 10):
                raise ConfigError(f"{name} must be a positive number below 10, got {value!r}")
        if self.prompt_weight_decay < 0 or self.head_weight_decay < 0:
            raise ConfigError("weight decays must be zero or positive")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 0 <= self.warmup_fraction < 1 or not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError("warmup_fraction must be in [0, 1) and min_lr_ratio in [0, 1]")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        if not 0 <= self.check_fraction < 1:
            raise ConfigError(f"the share of check pictures must be in [0, 1), got {self.check_fraction!r}")
        check_share(self.fit_target, "fit_target")
        if not isinstance(self.refit_head, bool):
            raise ConfigError(f"refit_head must be true or false, got {self.refit_head!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if isinstance(self.augment, Mapping):
            object.__setattr__(self, "augment", AugmentConfig.from_dict(self.augment))

    def batch_for(self, images: int) -> int:
        return max(1, min(self.batch_size, images))

    def planned_steps(self, images: int) -> int:
        """Optimizer steps for a training set of ``images`` pictures."""
        if self.steps is not None:
            return self.steps
        batch = self.batch_for(images)
        budget = max(self.min_steps, math.ceil(self.min_image_passes / batch),
                     math.ceil(self.passes_per_image * images / batch))
        return min(self.max_steps, budget)

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["augment"] = self.augment.to_dict()
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "TrainConfig":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in document.items() if k in known})


def check_share(value: Any, name: str) -> None:
    """A number from 0 to 1 (a share of pictures); booleans are refused, not read as 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be a share between 0 and 1, got {value!r}")


def _whole(value: Any, name: str, minimum: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
