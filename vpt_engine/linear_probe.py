"""The linear probe: L2-penalised logistic regression on fixed features, penalty by cross-validation.

One implementation for every place that needs it: the bench's baseline, the
``probe`` head initialisation (a probe on the starting features, before the
prompts train), tasks without prompts (the probe is the task), and the
out-of-fold confidences that calibrate a task's "uncertain" threshold.
Features are standardised per dimension first; :meth:`LinearProbe.folded`
gives the equivalent head on raw features.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from vpt_core.errors import ConfigError
from vpt_core.metrics import balanced_accuracy
from vpt_core.splits import stratified_folds

from .train_config import check_share


@dataclass(frozen=True)
class LinearProbeConfig:
    penalties: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    default_penalty: float = 1e-2       # used when a class has a single image (no cross-validation possible)
    folds: int = 5
    max_iterations: int = 100   # the optimum is reached well before on few-shot sets (same penalty and predictions as 300 on x-sdd)
    balance_classes: bool = True
    # 0: the penalty with the best cross-validated score. Above 0: if that probe gets fewer than this share of
    # its own training pictures right, the strongest weaker penalty that does, among those whose score is
    # within one standard error of the best: at a few pictures per class those scores differ by less than
    # their noise (benchmarks/bench_probe_penalties.py), and a task should know the pictures it was shown.
    fit_target: float = 0.0

    def __post_init__(self) -> None:
        if not self.penalties or any(p <= 0 for p in self.penalties) or self.default_penalty <= 0:
            raise ConfigError(f"linear-probe penalties must be positive, got {self.penalties}, {self.default_penalty}")
        check_share(self.fit_target, "fit_target")
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

    def training_accuracy(self, features: np.ndarray, labels: np.ndarray) -> float:
        return float((self.logits(features).argmax(1) == np.asarray(labels)).mean())

    def logits(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.weight.T + self.bias

    def folded(self) -> tuple[np.ndarray, np.ndarray]:
        """(weight, bias) giving the same logits on raw, unstandardised features."""
        weight = self.weight / self.scale
        return weight.astype(np.float32), (self.bias - weight @ self.mean).astype(np.float32)


def fit_linear_probe(features: np.ndarray, labels: np.ndarray, num_classes: int,
                     config: LinearProbeConfig = LinearProbeConfig(), seed: int = 0) -> LinearProbe:
    """The penalty with the best cross-validated balanced accuracy (ties: the stronger one), refit on all;
    then, with ``config.fit_target``, a weaker one if that is needed to fit the training pictures."""
    counts = np.bincount(labels, minlength=num_classes)
    folds = min(config.folds, int(counts[counts > 0].min()))
    fold_scores = {}
    if folds >= 2:
        fold_of = stratified_folds(labels, folds, seed)
        for penalty in config.penalties:
            fold_scores[penalty] = cross_validation_scores(features, labels, num_classes, penalty, fold_of, config)
        penalty = max(config.penalties, key=lambda p: (round(float(np.mean(fold_scores[p])), 6), p))
    else:
        penalty = config.default_penalty
    probe = fit_fixed_penalty(features, labels, num_classes, penalty, config)
    if config.fit_target and probe.training_accuracy(features, labels) < config.fit_target:
        for weaker in _within_noise_weaker(fold_scores, penalty):
            candidate = fit_fixed_penalty(features, labels, num_classes, weaker, config)
            if candidate.training_accuracy(features, labels) >= config.fit_target:
                probe = candidate
                break
    probe.cv_balanced_accuracy = {str(p): float(np.mean(s)) for p, s in fold_scores.items()}
    return probe


def _within_noise_weaker(fold_scores: dict[float, list[float]], best: float) -> list[float]:
    """Penalties weaker than ``best`` whose mean score is within one standard error of its, strongest first."""
    if best not in fold_scores:
        return []
    scores = np.asarray(fold_scores[best])
    floor = scores.mean() - scores.std(ddof=1) / np.sqrt(len(scores))
    return sorted((p for p, s in fold_scores.items() if p < best and np.mean(s) >= floor - 1e-9), reverse=True)


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, num_classes: int, folds: int, seed: int,
                              penalty: float, config: LinearProbeConfig = LinearProbeConfig()) -> np.ndarray:
    """``[N, C]`` probabilities of each sample from a probe that did not see it."""
    fold_of = stratified_folds(labels, folds, seed)
    probabilities = np.zeros((len(labels), num_classes))
    for fold in range(folds):
        held = fold_of == fold
        probe = fit_fixed_penalty(features[~held], labels[~held], num_classes, penalty, config)
        logits = probe.logits(features[held])
        logits = logits - logits.max(axis=1, keepdims=True)
        probabilities[held] = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probabilities


def fit_fixed_penalty(features: np.ndarray, labels: np.ndarray, num_classes: int, penalty: float,
                      config: LinearProbeConfig = LinearProbeConfig()) -> LinearProbe:
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    x = torch.from_numpy((features - mean) / scale).double()
    y = torch.from_numpy(np.asarray(labels)).long()
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

    with torch.enable_grad(), _one_thread():
        optimiser.step(closure)
    return LinearProbe(mean, scale, linear.weight.detach().float().numpy(), linear.bias.detach().float().numpy(),
                       penalty)


def cross_validation_scores(features, labels, num_classes, penalty, fold_of, config) -> list[float]:
    """Balanced accuracy on each fold of ``fold_of`` of the probe fitted on the other folds."""
    scores = []
    for fold in range(int(fold_of.max()) + 1):
        held = fold_of == fold
        probe = fit_fixed_penalty(features[~held], labels[~held], num_classes, penalty, config)
        scores.append(balanced_accuracy(labels[held], probe.logits(features[held]).argmax(1)))
    return scores


@contextlib.contextmanager
def _one_thread():
    """Products of a few hundred numbers gain nothing from threads, and on a busy CPU the thread pool's
    hand-offs cost 20x the arithmetic (measured: 77 ms against 3 ms per loss evaluation)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
