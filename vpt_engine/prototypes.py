"""Downstream token prototypes for prompt initialisation (Self-Prompt Tuning).

One streaming pass of the frozen, prompt-free backbone over the task's images
collects, per prompt layer, the tokens that layer sees:

* layer 0: patch embeddings before position embedding;
* layer l > 0: output of block l-1, prefix tokens removed.

Each layer keeps at most ``token_pool_cap`` tokens by reservoir sampling, so
memory does not grow with the number of images. The same pass records pooled
features per image for the ``class_mean`` head initialisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generator, Iterable

import numpy as np
import torch

from . import _timm_compat as tc
from .kmeans import kmeans
from .prompted_vit import head_input
from .prompts import HeadFeatures, PromptConfig, PromptInit

WINDOW_POOLINGS = {PromptInit.MEAN_POOL: "mean", PromptInit.MAX_POOL: "max"}


class Reservoir:
    """Uniform sample of at most ``capacity`` rows from a stream (Vitter's algorithm R)."""

    def __init__(self, capacity: int, seed: int):
        self.capacity = capacity
        self.seen = 0
        self.rows: torch.Tensor | None = None
        self._rng = np.random.default_rng(seed)

    def add(self, rows: torch.Tensor) -> None:
        rows = rows.detach().float()
        count = rows.shape[0]
        if self.rows is None:
            self.rows = rows.new_empty((self.capacity, rows.shape[1]))
        free = max(0, min(self.capacity - self.seen, count))
        if free:
            self.rows[self.seen:self.seen + free] = rows[:free]
        if free < count:
            positions = np.arange(self.seen + free, self.seen + count)
            slots = np.floor(self._rng.random(len(positions)) * (positions + 1)).astype(np.int64)
            self._replace(slots, rows[free:])
        self.seen += count

    def _replace(self, slots: np.ndarray, rows: torch.Tensor) -> None:
        keep = slots < self.capacity
        slots, order = slots[keep], np.flatnonzero(keep)
        # Where one batch hits a slot twice, the later row wins, as in the sequential algorithm.
        last = len(slots) - 1 - np.unique(slots[::-1], return_index=True)[1]
        index = torch.as_tensor(order[last], device=rows.device)
        self.rows[torch.as_tensor(slots[last], device=rows.device)] = rows[index]

    def tensor(self) -> torch.Tensor:
        if self.rows is None:
            raise ValueError("no tokens were collected")
        return self.rows[: min(self.seen, self.capacity)]


def window_pool(tokens: torch.Tensor, num_prompts: int, mode: str) -> torch.Tensor:
    """[B, N, D] -> [B, W, D]: P-1 contiguous raster-order windows, plus the remainder."""
    batch, count, dim = tokens.shape
    windows = max(1, num_prompts - 1)
    width = max(1, count // windows)
    windows = min(windows, count // width)
    body = tokens[:, : windows * width].reshape(batch, windows, width, dim)
    parts = [body.mean(dim=2) if mode == "mean" else body.amax(dim=2)]
    remainder = tokens[:, windows * width:]
    if remainder.shape[1] > 0:
        parts.append(remainder.mean(dim=1, keepdim=True) if mode == "mean" else remainder.amax(dim=1, keepdim=True))
    return torch.cat(parts, dim=1)


@dataclass
class FrozenPass:
    """What one prompt-free pass over the task images produced."""

    layer_tokens: list[torch.Tensor]  # per prompt layer, [<=cap, D]; empty when not needed
    features: torch.Tensor            # [num_images, D] pooled features
    labels: torch.Tensor              # [num_images]


def frozen_pass(vit: torch.nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], config: PromptConfig,
                device: torch.device, seed: int, collect_tokens: bool) -> Generator[int, None, FrozenPass]:
    """Yields the number of batches done; returns the :class:`FrozenPass` (use ``yield from``)."""
    layers = config.prompt_layers(len(tc.blocks(vit))) if collect_tokens and config.uses_prompts else 0
    reservoirs = [Reservoir(config.token_pool_cap, seed + layer) for layer in range(layers)]
    pooling = WINDOW_POOLINGS.get(config.init)
    features, labels = [], []
    with torch.no_grad():
        for index, (images, targets) in enumerate(batches):
            tokens_per_layer, pooled = run_frozen(vit, images.to(device), layers, config.head_features)
            for reservoir, tokens in zip(reservoirs, tokens_per_layer):
                if pooling:
                    tokens = window_pool(tokens, config.num_prompts, pooling)
                reservoir.add(tokens.reshape(-1, tokens.shape[-1]))
            features.append(pooled.float().cpu())
            labels.append(targets.cpu())
            yield index + 1
    return FrozenPass([r.tensor() for r in reservoirs], torch.cat(features), torch.cat(labels))


def run_frozen(vit: torch.nn.Module, images: torch.Tensor, layers: int,
               head_features: HeadFeatures = HeadFeatures.POOLED) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Prompt-free forward: the first ``layers`` layers' input tokens, and the head's input features."""
    num_prefix = vit.num_prefix_tokens
    embedded = tc.embed_patches(vit, images)
    tokens = [tc.flatten_patches(embedded)] if layers > 0 else []
    x = tc.start_sequence(vit, embedded)
    outputs = []
    for index, block in enumerate(tc.blocks(vit)):
        x = block(x)
        outputs.append(x)
        if index + 1 < layers:
            tokens.append(x[:, num_prefix:])
    return tokens, head_input(vit, outputs, 0, head_features)


def initial_prompts(strategy: PromptInit, layer_tokens: list[torch.Tensor], config: PromptConfig,
                    layers: int, embed_dim: int, patch_size: tuple[int, int], seed: int) -> torch.Tensor:
    """[layers, P, D] starting values for the prompts."""
    generator = torch.Generator().manual_seed(seed)
    if config.num_prompts == 0:
        return torch.zeros(layers, 0, embed_dim)
    if strategy is PromptInit.RANDOM:
        return xavier_prompts(layers, config.num_prompts, embed_dim, patch_size, generator)
    rows = []
    for tokens in layer_tokens:
        if strategy is PromptInit.KMEANS:
            rows.append(kmeans(tokens, config.num_prompts, config.kmeans_iterations, generator).centroids)
        else:
            rows.append(tokens[_draw(tokens.shape[0], config.num_prompts, generator).to(tokens.device)])
    return torch.stack(rows).float().cpu()


def xavier_prompts(layers: int, num_prompts: int, embed_dim: int, patch_size: tuple[int, int],
                   generator: torch.Generator) -> torch.Tensor:
    """VPT's initialisation: uniform in +-sqrt(6 / (3 * patch_h * patch_w + D))."""
    bound = math.sqrt(6.0 / (3 * patch_size[0] * patch_size[1] + embed_dim))
    return (torch.rand(layers, num_prompts, embed_dim, generator=generator) * 2 - 1) * bound


def feature_standardisation(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension shift and scale of pooled features.

    The scale is sqrt(var + mean var): dimensions that vary a lot are brought to
    unit spread, while near-constant ones (or every dimension, with two images) are
    not blown up.
    """
    features = features.float()
    variance = features.var(dim=0, unbiased=False) if len(features) > 1 else torch.zeros(features.shape[1])
    return features.mean(dim=0), (variance + variance.mean().clamp(min=1e-12)).sqrt()


def class_mean_head(features: torch.Tensor, labels: torch.Tensor, num_classes: int,
                    temperature: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Head rows from normalised, centred class-mean features of the frozen backbone.

    The result is a nearest-class-mean (cosine) classifier on frozen features with
    logits of order ``temperature``; classes without images get a zero row.
    """
    features = features.float()
    centre = features.mean(dim=0)
    centred = features - centre
    scale = centred.norm(dim=1).mean().clamp(min=1e-6)
    weight = torch.zeros(num_classes, features.shape[1])
    for label in range(num_classes):
        members = centred[labels == label]
        if len(members):
            direction = members.mean(dim=0)
            weight[label] = direction / direction.norm().clamp(min=1e-6)
    weight = weight * (temperature / scale)
    return weight, -(weight @ centre)


def _draw(population: int, count: int, generator: torch.Generator) -> torch.Tensor:
    if population >= count:
        return torch.randperm(population, generator=generator)[:count]
    return torch.randint(population, (count,), generator=generator)
