"""Baselines on the same splits as the prompts: linear probe, nearest class mean, full fine-tuning.

The two frozen-feature baselines need the backbone's features of every image
once; they do not depend on the split, so one pass serves every seed and shot
count, and it is cached on disk next to the benchmark's results. The linear
probe is :mod:`vpt_engine.linear_probe` (the same one training uses); full
fine-tuning runs the one optimisation loop of :mod:`vpt_engine.fitting`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from vpt_core.atomicio import atomic_path

from ..augment import build_train_transform
from ..backbone import Backbone
from ..dataset import LoadedImages, eval_batches
from ..fitting import Schedule, optimise
from ..prompts import HeadFeatures
from ..prototypes import class_mean_head, run_frozen
from ..train_config import TrainConfig
from ..training import BatchDrawer
from .config import FullFinetuneConfig


# -- frozen features -------------------------------------------------------
def frozen_features(backbone: Backbone, data: LoadedImages, batch_size: int = 64, cache: Path | None = None,
                    head_features: HeadFeatures = HeadFeatures.POOLED,
                    on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """[N, F] head features of the prompt-free backbone (what a head sees without prompts)."""
    if cache is not None and cache.is_file():
        with np.load(cache) as stored:
            if stored["features"].shape[0] == len(data):
                return stored["features"]
    device = next(backbone.model.parameters()).device
    chunks = []
    with torch.no_grad():
        for batch in eval_batches(data.images, backbone.preprocess, batch_size):
            images = torch.from_numpy(batch).to(device)
            chunks.append(run_frozen(backbone.model, images, 0, head_features)[1].float().cpu().numpy())
            if on_progress:
                on_progress(sum(len(c) for c in chunks), len(data))
    features = np.concatenate(chunks)
    if cache is not None:
        with atomic_path(cache) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, features=features)
    return features


# -- nearest class mean ----------------------------------------------------
def nearest_class_mean_logits(train_features: np.ndarray, train_labels: np.ndarray, test_features: np.ndarray,
                              num_classes: int) -> np.ndarray:
    """Cosine similarity to centred class means: the classifier the ``class_mean`` head starts from."""
    weight, bias = class_mean_head(torch.from_numpy(train_features), torch.from_numpy(train_labels), num_classes)
    return (torch.from_numpy(test_features).float() @ weight.T + bias).numpy()


# -- full fine-tuning --------------------------------------------------------
def full_finetune(backbone: Backbone, train_set: LoadedImages, config: TrainConfig,
                  finetune: FullFinetuneConfig, cancel=None) -> nn.Module:
    """A trainable copy of the backbone plus a class-mean-initialised head; the shared backbone stays frozen."""
    device = next(backbone.model.parameters()).device
    torch.manual_seed(config.seed)
    vit = copy.deepcopy(backbone.model)
    for parameter in vit.parameters():
        parameter.requires_grad_(True)
    features = frozen_features(backbone, train_set, config.batch_size)
    head = nn.Linear(features.shape[1], len(train_set.classes)).to(device)
    weight, bias = class_mean_head(torch.from_numpy(features), torch.from_numpy(train_set.labels),
                                   len(train_set.classes))
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.copy_(bias)
    model = _FineTuned(vit, head)
    groups = [{"params": list(vit.parameters()), "lr": finetune.learning_rate, "weight_decay": finetune.weight_decay},
              {"params": list(head.parameters()), "lr": finetune.head_learning_rate,
               "weight_decay": config.head_weight_decay}]
    steps = config.planned_steps(len(train_set))
    counts = np.bincount(train_set.labels, minlength=len(train_set.classes)).astype(np.float64)
    class_weights = torch.as_tensor(counts.sum() / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=class_weights.to(device) if config.balance_classes else None,
                                  label_smoothing=config.label_smoothing)
    draw = BatchDrawer(train_set, build_train_transform(config.augment, backbone.preprocess),
                        config.batch_for(len(train_set)), config.seed)
    schedule = Schedule(steps, config.schedule, config.warmup_fraction, config.min_lr_ratio)
    for _ in optimise(model, groups, draw, schedule, loss_fn, device, cancel=cancel):
        pass
    return model.eval()


class _FineTuned(nn.Module):
    def __init__(self, vit: nn.Module, head: nn.Linear):
        super().__init__()
        self.vit, self.head = vit, head

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(run_frozen(self.vit, images, 0)[1])
