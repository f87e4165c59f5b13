"""Training settings (torch-free, so the app can show the defaults without loading torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from .augment import AugmentConfig
from vpt_core.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 16
    learning_rate: float = 5e-3
    head_learning_rate: float | None = None   # defaults to learning_rate
    prompt_weight_decay: float = 0.0
    head_weight_decay: float = 1e-4
    warmup_fraction: float = 0.1
    min_lr_ratio: float = 0.01
    label_smoothing: float = 0.0
    balance_classes: bool = True              # weight the loss by inverse class frequency
    val_fraction: float = 0.0
    early_stopping_patience: int = 10         # epochs without validation improvement
    record_prompt_information: bool = False   # per-epoch prompt/patch diagnostics (vpt_engine.analysis)
    standardize_features: bool = False        # fixed feature standardisation before the head (folded on save)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ConfigError(f"epochs must be a whole number of at least 1, got {self.epochs!r}")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, got {self.batch_size}")
        for name in ("learning_rate", "head_learning_rate"):
            value = getattr(self, name)
            if value is not None and not (0 < value < 10):
                raise ConfigError(f"{name} must be a positive number below 10, got {value}")
        if not 0 <= self.warmup_fraction < 1 or not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError("warmup_fraction must be in [0, 1) and min_lr_ratio in [0, 1]")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"validation fraction must be in [0, 1), got {self.val_fraction}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if isinstance(self.augment, Mapping):
            object.__setattr__(self, "augment", AugmentConfig.from_dict(self.augment))

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["augment"] = self.augment.to_dict()
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "TrainConfig":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in document.items() if k in known})
