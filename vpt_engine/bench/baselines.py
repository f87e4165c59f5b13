"""Baselines on the same splits as the prompts: linear probe, nearest class mean, full fine-tuning.

The two frozen-feature baselines need the backbone's pooled features of every
image once; they do not depend on the split, so one pass serves every seed and
shot count, and it is cached on disk next to the benchmark's results.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from vpt_core.atomicio import atomic_path
from ..augment import build_train_transform
from ..autoselect import stratified_fold_ids
from ..backbone import Backbone
from ..dataset import LoadedImages, eval_batches
from vpt_core.errors import ConfigError
from vpt_core.metrics import balanced_accuracy
from ..prototypes import class_mean_head, run_frozen
from ..training import TrainConfig, _warmup_cosine
from .config import FullFinetuneConfig


# -- frozen features -------------------------------------------------------
def frozen_features(backbone: Backbone, data: LoadedImages, batch_size: int = 64, cache: Path | None = None,
                    on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """[N, D] pooled features of the prompt-free backbone (what the head sees without prompts)."""
    if cache is not None and cache.is_file():
        with np.load(cache) as stored:
            if stored["features"].shape[0] == len(data):
                return stored["features"]
    device = next(backbone.model.parameters()).device
    chunks = []
    with torch.no_grad():
        for batch in eval_batches(data.images, backbone.preprocess, batch_size):
            chunks.append(run_frozen(backbone.model, torch.from_numpy(batch).to(device), 0)[1].float().cpu().numpy())
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


# -- linear probe ----------------------------------------------------------
@dataclass(frozen=True)
class LinearProbeConfig:
    """Multinomial logistic regression with an L2 penalty chosen by stratified cross-validation."""

    penalties: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    default_penalty: float = 1e-2       # used when a class has a single image (no cross-validation possible)
    folds: int = 5
    max_iterations: int = 300
    balance_classes: bool = True

    def __post_init__(self) -> None:
        if not self.penalties or any(p <= 0 for p in self.penalties) or self.default_penalty <= 0:
            raise ConfigError(f"linear-probe penalties must be positive, got {self.penalties}, {self.default_penalty}")
        if self.folds < 2 or self.max_iterations < 1:
            raise ConfigError("linear probe needs folds >= 2 and max_iterations >= 1")


@dataclass
class LinearProbe:
    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    penalty: float
    cv_balanced_accuracy: dict[str, float] = field(default_factory=dict)

    def logits(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.weight.T + self.bias


def fit_linear_probe(features: np.ndarray, labels: np.ndarray, num_classes: int,
                     config: LinearProbeConfig = LinearProbeConfig(), seed: int = 0) -> LinearProbe:
    counts = np.bincount(labels, minlength=num_classes)
    folds = min(config.folds, int(counts.min()))
    scores = {}
    if folds >= 2:
        for penalty in config.penalties:
            scores[str(penalty)] = _cross_validate(features, labels, num_classes, penalty, folds, config, seed)
        # Highest score; among equals the strongest penalty (the simpler model).
        penalty = max(config.penalties, key=lambda p: (round(scores[str(p)], 6), p))
    else:
        penalty = config.default_penalty
    probe = _fit(features, labels, num_classes, penalty, config)
    probe.cv_balanced_accuracy = scores
    return probe


def _fit(features, labels, num_classes, penalty, config: LinearProbeConfig) -> LinearProbe:
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    x = torch.from_numpy((features - mean) / scale).double()
    y = torch.from_numpy(labels).long()
    weights = None
    if config.balance_classes:
        counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
        weights = torch.from_numpy(counts.sum() / (num_classes * np.maximum(counts, 1)))
    linear = nn.Linear(x.shape[1], num_classes).double()
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    optimiser = torch.optim.LBFGS(linear.parameters(), max_iter=config.max_iterations, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(linear(x), y, weight=weights) + 0.5 * penalty * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return LinearProbe(mean, scale, linear.weight.detach().float().numpy(), linear.bias.detach().float().numpy(),
                       penalty)


def _cross_validate(features, labels, num_classes, penalty, folds, config, seed) -> float:
    fold_of = stratified_fold_ids(labels, folds, seed)
    scores = []
    for fold in range(folds):
        held = fold_of == fold
        probe = _fit(features[~held], labels[~held], num_classes, penalty, config)
        scores.append(balanced_accuracy(labels[held], probe.logits(features[held]).argmax(1)))
    return float(np.mean(scores))



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
    head = nn.Linear(backbone.embed_dim, len(train_set.classes)).to(device)
    weight, bias = class_mean_head(torch.from_numpy(features), torch.from_numpy(train_set.labels),
                                   len(train_set.classes))
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.copy_(bias)
    model = _FineTuned(vit, head)
    optimiser = torch.optim.AdamW([
        {"params": list(vit.parameters()), "lr": finetune.learning_rate, "weight_decay": finetune.weight_decay},
        {"params": list(head.parameters()), "lr": finetune.head_learning_rate, "weight_decay": config.head_weight_decay},
    ])
    steps = math.ceil(len(train_set) / config.batch_size) * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, _warmup_cosine(steps, config))
    counts = np.bincount(train_set.labels, minlength=len(train_set.classes)).astype(np.float64)
    class_weights = torch.as_tensor(counts.sum() / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=class_weights.to(device) if config.balance_classes else None,
                                  label_smoothing=config.label_smoothing)
    transform = build_train_transform(config.augment, backbone.preprocess)
    generator = torch.Generator().manual_seed(config.seed)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(train_set), generator=generator).tolist()
        for start in range(0, len(order), config.batch_size):
            if cancel is not None and cancel.is_set():
                return model.eval()
            indices = order[start:start + config.batch_size]
            images = torch.stack([transform(train_set.images[i]) for i in indices]).to(device)
            labels = torch.as_tensor(train_set.labels[indices]).to(device)
            loss = loss_fn(model(images), labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
    return model.eval()


class _FineTuned(nn.Module):
    def __init__(self, vit: nn.Module, head: nn.Linear):
        super().__init__()
        self.vit, self.head = vit, head

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(run_frozen(self.vit, images, 0)[1])
