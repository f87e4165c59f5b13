"""What one training run hands back (the caller saves it as a task pack)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from .prompted_vit import PromptedViT
from .prompts import PromptConfig
from .train_config import TrainConfig


@dataclass
class TrainResult:
    model: PromptedViT
    classes: list[str]
    prompt_config: PromptConfig
    train_config: TrainConfig
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    prompt_init_values: torch.Tensor   # the prompts before training, for analysis
    data_summary: dict[str, Any]
    rejection: dict[str, Any] = field(default_factory=dict)
    observations: list[dict[str, Any]] = field(default_factory=list)
    auto_report: dict[str, Any] | None = None
