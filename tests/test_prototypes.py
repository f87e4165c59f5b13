"""Each initialisation takes its values from the tokens it claims to use."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vpt_engine.kmeans import kmeans, objective
from vpt_engine.prompts import PromptConfig, PromptInit
from vpt_engine.prototypes import (Reservoir, class_mean_head, frozen_pass, initial_prompts, window_pool,
                                   xavier_prompts)


def nearest(row, pool):
    """Exact Euclidean distance to the closest row (cdist's matmul shortcut is too coarse here)."""
    return (pool - row).norm(dim=1).min()


def layer_tokens_by_hooks(vit, images):
    """Tokens each prompt layer sees, captured with hooks, independently of prototypes.py.

    Layer 0: patch embeddings before position embedding; layer l: output of block l-1
    without the prefix tokens.
    """
    captured = []
    hooks = [vit.patch_embed.register_forward_hook(lambda m, a, out: captured.append(out))]
    hooks += [b.register_forward_hook(lambda m, a, out: captured.append(out[:, vit.num_prefix_tokens:]))
              for b in vit.blocks]
    try:
        with torch.no_grad():
            vit(images)
    finally:
        for hook in hooks:
            hook.remove()
    return captured[: len(vit.blocks)]  # the last block's output feeds no prompt layer


def _prompts_for(backbone, images, init, num_prompts=4, depth="deep", cap=10_000, seed=0):
    config = PromptConfig(num_prompts=num_prompts, depth=depth, init=init, token_pool_cap=cap)
    labels = torch.zeros(len(images), dtype=torch.long)
    batches = [(images[i:i + 2], labels[i:i + 2]) for i in range(0, len(images), 2)]
    work = frozen_pass(backbone.model, batches, config, torch.device("cpu"), seed, collect_tokens=True)
    try:
        while True:
            next(work)
    except StopIteration as stop:
        frozen = stop.value
    layers = config.prompt_layers(backbone.depth)
    prompts = initial_prompts(config.init, frozen.layer_tokens, config, layers, backbone.embed_dim,
                              backbone.architecture.patch_size, seed)
    return prompts, frozen


@pytest.fixture
def images():
    return torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("depth", ["deep", "shallow"])
def test_sample_rows_are_real_tokens_of_their_layer(tiny_backbone, images, depth):
    prompts, _ = _prompts_for(tiny_backbone, images, PromptInit.SAMPLE, depth=depth)
    reference = layer_tokens_by_hooks(tiny_backbone.model, images)
    assert prompts.shape[0] == (2 if depth == "deep" else 1)
    for layer, layer_prompts in enumerate(prompts):
        pool = reference[layer].reshape(-1, reference[layer].shape[-1])
        other = reference[1 - layer].reshape(-1, pool.shape[-1])
        for row in layer_prompts:
            assert nearest(row, pool) < 1e-5
            assert nearest(row, other) > 1e-3  # not a token of the other layer


@pytest.mark.parametrize("init,reduce", [(PromptInit.MEAN_POOL, "mean"), (PromptInit.MAX_POOL, "max")])
def test_pooled_rows_are_window_means_or_maxes(tiny_backbone, images, init, reduce):
    num_prompts = 4  # 16 patches -> 3 windows of 5 tokens, plus a remainder window of 1
    prompts, _ = _prompts_for(tiny_backbone, images, init, num_prompts=num_prompts)
    reference = layer_tokens_by_hooks(tiny_backbone.model, images)
    for layer, layer_prompts in enumerate(prompts):
        tokens = reference[layer]  # [B, 16, D]
        windows = [tokens[:, 0:5], tokens[:, 5:10], tokens[:, 10:15], tokens[:, 15:16]]
        pooled = torch.cat([w.mean(1) if reduce == "mean" else w.amax(1) for w in windows])
        for row in layer_prompts:
            assert nearest(row, pooled) < 1e-5


def test_window_pool_covers_the_whole_sequence():
    tokens = torch.arange(2 * 10 * 1, dtype=torch.float32).reshape(2, 10, 1)
    pooled = window_pool(tokens, num_prompts=4, mode="mean")  # 3 windows of 3, remainder of 1
    assert pooled.shape == (2, 4, 1)
    assert pooled[0, :, 0].tolist() == [1.0, 4.0, 7.0, 9.0]
    assert window_pool(tokens, num_prompts=1, mode="max")[:, :, 0].tolist() == [[9.0], [19.0]]
    # More prompts than tokens: one window per token.
    assert window_pool(tokens, num_prompts=50, mode="mean").shape == (2, 10, 1)


def test_kmeans_lowers_its_objective_and_finds_clusters():
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = torch.cat([c + 0.3 * torch.randn(200, 2, generator=generator) for c in centres])
    result = kmeans(points, 3, iterations=10, generator=torch.Generator().manual_seed(1))
    assert result.objectives[-1] <= result.objectives[0]
    assert all(b <= a + 1e-6 for a, b in zip(result.objectives, result.objectives[1:]))
    distances = torch.cdist(centres, result.centroids)
    assert distances.min(dim=1).values.max() < 0.2
    assert objective(points, result.centroids) == pytest.approx(result.objectives[-1], rel=1e-5)


def test_kmeans_prompts_lower_the_objective_on_layer_tokens(tiny_backbone, images):
    prompts, frozen = _prompts_for(tiny_backbone, images, PromptInit.KMEANS, num_prompts=5)
    for layer_prompts, tokens in zip(prompts, frozen.layer_tokens):
        seeds = tokens[torch.randperm(len(tokens), generator=torch.Generator().manual_seed(3))[:5]]
        assert objective(tokens, layer_prompts) < objective(tokens, seeds)


def test_random_init_uses_vpt_xavier_bound():
    prompts = xavier_prompts(12, 10, 192, (16, 16), torch.Generator().manual_seed(0))
    bound = math.sqrt(6.0 / (3 * 16 * 16 + 192))
    assert prompts.shape == (12, 10, 192)
    assert prompts.abs().max() <= bound
    assert prompts.abs().max() > 0.95 * bound  # spans the range, uniform
    assert abs(float(prompts.mean())) < 0.05 * bound


def test_initialisation_is_seeded(tiny_backbone, images):
    first, _ = _prompts_for(tiny_backbone, images, PromptInit.SAMPLE, seed=3)
    again, _ = _prompts_for(tiny_backbone, images, PromptInit.SAMPLE, seed=3)
    other, _ = _prompts_for(tiny_backbone, images, PromptInit.SAMPLE, seed=4)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_reservoir_is_bounded_and_uniform():
    capacity, stream = 50, 1000
    hits = np.zeros(stream)
    for seed in range(200):
        reservoir = Reservoir(capacity, seed)
        for start in range(0, stream, 64):
            rows = torch.arange(start, min(stream, start + 64), dtype=torch.float32)[:, None]
            reservoir.add(rows)
        kept = reservoir.tensor()[:, 0].long().numpy()
        assert len(kept) == capacity and len(set(kept)) == capacity
        hits[kept] += 1
    # Each item is kept with probability capacity / stream = 0.05: 10 times in 200 runs on average.
    early, late = hits[:500].mean(), hits[500:].mean()
    assert 8 < early < 12 and 8 < late < 12


def test_token_pool_cap_bounds_memory(tiny_backbone, images):
    _, frozen = _prompts_for(tiny_backbone, images, PromptInit.SAMPLE, cap=20)
    assert all(t.shape[0] == 20 for t in frozen.layer_tokens)  # 6 images x 16 patches = 96 seen


def test_class_mean_head_is_a_nearest_class_mean_classifier():
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 16, generator=generator) * 3
    labels = torch.arange(3).repeat_interleave(20)
    features = centres[labels] + 0.5 * torch.randn(60, 16, generator=generator)
    weight, bias = class_mean_head(features, labels, num_classes=3)
    predictions = (features @ weight.T + bias).argmax(1)
    assert (predictions == labels).float().mean() > 0.95
    assert torch.allclose(weight.norm(dim=1), weight.norm(dim=1)[0].expand(3))  # rows share one scale
