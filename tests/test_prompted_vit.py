"""Prompt insertion, checked against a straightforward re-implementation written here."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vpt_engine.backbone import load_backbone
from vpt_engine.prompted_vit import PromptedViT
from vpt_engine.prompts import PromptConfig

from conftest import tiny_backbone_config


def reference_logits(vit, images, prompts, head, head_features="block_max"):
    """Prompted ViT spelled out with plain tensor operations (no timm seams).

    Sequence: [prefix tokens, prompts, patches]; prompts carry no position
    embedding; deep prompts overwrite the prompt slice before every block > 0.
    The head reads the pooled token, or the per-channel maximum of the normed
    patch tokens after every block (prompt slots left out).
    """
    weight, bias = vit.patch_embed.proj.weight, vit.patch_embed.proj.bias
    patches = F.conv2d(images, weight, bias, stride=weight.shape[-2:]).flatten(2).transpose(1, 2)
    batch = images.shape[0]
    prefix = []
    if vit.cls_token is not None:
        prefix.append(vit.cls_token.expand(batch, -1, -1))
    if vit.reg_token is not None:
        prefix.append(vit.reg_token.expand(batch, -1, -1))
    if vit.no_embed_class:
        patches = patches + vit.pos_embed
        tokens = torch.cat(prefix + [patches], dim=1)
    else:
        tokens = torch.cat(prefix + [patches], dim=1) + vit.pos_embed
    tokens = vit.norm_pre(tokens)
    n_prefix = sum(p.shape[1] for p in prefix)
    layers, n_prompts, dim = prompts.shape
    sequence = torch.empty(batch, n_prefix + n_prompts + patches.shape[1], dim)
    sequence[:, :n_prefix] = tokens[:, :n_prefix]
    sequence[:, n_prefix + n_prompts:] = tokens[:, n_prefix:]
    block_maxima = []
    for index, block in enumerate(vit.blocks):
        if index == 0 or layers > 1:
            sequence = sequence.clone()
            sequence[:, n_prefix:n_prefix + n_prompts] = prompts[index if layers > 1 else 0]
        sequence = block(sequence)
        block_maxima.append(vit.norm(sequence)[:, n_prefix + n_prompts:].max(dim=1).values)
    if head_features == "block_max":
        return torch.cat(block_maxima, dim=1) @ head.weight.T + head.bias
    sequence = vit.norm(sequence)
    if vit.global_pool == "avg":
        pooled = sequence[:, n_prefix + n_prompts:].mean(dim=1)
    else:
        pooled = sequence[:, 0]
    pooled = vit.fc_norm(pooled)
    return pooled @ head.weight.T + head.bias


def _random_model(backbone, depth: str, num_prompts=4, classes=3, seed=0, head_features="block_max"):
    torch.manual_seed(seed)
    model = PromptedViT(backbone, PromptConfig(num_prompts=num_prompts, depth=depth, head_features=head_features),
                        classes)
    with torch.no_grad():
        model.prompts.normal_(0, 0.5)
        model.head.weight.normal_(0, 0.5)
    return model.eval()


BACKBONE_VARIANTS = {
    "vit_cls_token": {},
    "dinov2_style_registers": {"reg_tokens": 4, "no_embed_class": True},
    "mae_style_average_pool": {"global_pool": "avg", "fc_norm": False},
    "clip_style_pre_norm": {"pre_norm": True},
}


@pytest.mark.parametrize("head_features", ["block_max", "pooled"])
@pytest.mark.parametrize("depth", ["deep", "shallow"])
@pytest.mark.parametrize("variant", sorted(BACKBONE_VARIANTS))
def test_prompted_logits_match_reference(variant, depth, head_features):
    backbone = load_backbone(tiny_backbone_config(**BACKBONE_VARIANTS[variant]))
    model = _random_model(backbone, depth, head_features=head_features)
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        expected = reference_logits(backbone.model, images, model.prompts, model.head, head_features)
        actual = model(images)
    assert torch.allclose(actual, expected, atol=1e-5), (actual - expected).abs().max()


def test_prompts_change_the_output(tiny_backbone):
    model = _random_model(tiny_backbone, "deep")
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        before = model(images)
        model.prompts.add_(torch.randn_like(model.prompts))
        after = model(images)
    assert (before - after).abs().max() > 1e-3


@pytest.mark.parametrize("depth", ["deep", "shallow"])
def test_prompt_slice_before_second_block(tiny_backbone, depth):
    """Deep: block 1 sees layer 1's prompts. Shallow: it sees what block 0 made of the prompts."""
    model = _random_model(tiny_backbone, depth, num_prompts=4)
    block_inputs, block_outputs = [], []
    blocks = tiny_backbone.model.blocks
    hooks = [blocks[1].register_forward_pre_hook(lambda m, args: block_inputs.append(args[0])),
             blocks[0].register_forward_hook(lambda m, args, out: block_outputs.append(out))]
    try:
        with torch.no_grad():
            model(torch.randn(2, 3, 32, 32))
    finally:
        for hook in hooks:
            hook.remove()
    prompt_slice = block_inputs[0][:, 1:5]
    if depth == "deep":
        assert torch.equal(prompt_slice, model.prompts[1].expand(2, -1, -1))
    else:
        assert torch.equal(prompt_slice, block_outputs[0][:, 1:5])
        assert not torch.allclose(prompt_slice, model.prompts[0].expand(2, -1, -1))


def test_sequence_length_grows_by_prompt_count(tiny_backbone):
    model = _random_model(tiny_backbone, "deep", num_prompts=7)
    lengths = []
    hooks = [b.register_forward_pre_hook(lambda m, args: lengths.append(args[0].shape[1]))
             for b in tiny_backbone.model.blocks]
    try:
        with torch.no_grad():
            model(torch.randn(1, 3, 32, 32))
    finally:
        for hook in hooks:
            hook.remove()
    # 1 CLS token + 7 prompts + 16 patches (32 / 8 = 4 per side)
    assert lengths == [1 + 7 + 16] * len(tiny_backbone.model.blocks)


def test_only_prompts_and_head_receive_gradients(tiny_backbone):
    model = _random_model(tiny_backbone, "deep")
    model.train()
    loss = model(torch.randn(2, 3, 32, 32)).sum()
    loss.backward()
    assert model.prompts.grad is not None and model.prompts.grad.abs().sum() > 0
    assert model.head.weight.grad is not None
    assert all(p.grad is None for p in tiny_backbone.model.parameters())


def test_block_maxima_leave_prompt_slots_out_and_catch_one_outlying_patch(tiny_backbone):
    """The features pool patches only: junk in the prompt slots changes nothing; one patch out of sixteen that
    stands out after the first block moves that block's maximum and nothing else."""
    from vpt_engine.prompted_vit import feature_parts

    vit, dim = tiny_backbone.model, tiny_backbone.embed_dim
    torch.manual_seed(3)
    outputs = [torch.randn(2, 1 + 16, dim) for _ in vit.blocks]
    with_prompts = [torch.cat([x[:, :1], torch.full((2, 3, dim), 1e4), x[:, 1:]], dim=1) for x in outputs]
    with torch.no_grad():
        plain = feature_parts(vit, outputs, 0)
        assert plain.shape == (2, (2 + len(vit.blocks)) * dim)
        assert torch.equal(feature_parts(vit, with_prompts, 3), plain)
        marked = [x.clone() for x in outputs]
        marked[0][:, 5] += 6.0 * torch.linspace(-1, 1, dim)     # one patch of the first block stands out
        changed = feature_parts(vit, marked, 0) - plain
    first_max, mean = changed[:, 2 * dim:3 * dim], changed[:, dim:2 * dim]
    assert first_max.abs().max() > 0.5 and torch.equal(changed[:, 3 * dim:], torch.zeros_like(changed[:, 3 * dim:]))
    assert mean.abs().max() == 0     # the mean part reads the last block only


def test_a_head_computes_exactly_its_columns_of_the_bundle_features(tiny_backbone):
    from vpt_core.contract import head_columns
    from vpt_engine.prompted_vit import feature_parts, head_input
    from vpt_engine.prompts import HeadFeatures

    vit, dim, depth = tiny_backbone.model, tiny_backbone.embed_dim, tiny_backbone.depth
    torch.manual_seed(4)
    outputs = [torch.randn(2, 1 + 2 + 16, dim) for _ in vit.blocks]
    with torch.no_grad():
        everything = feature_parts(vit, outputs, 2)
        for kind in HeadFeatures:
            own = head_input(vit, outputs, 2, kind)
            assert torch.equal(own, everything[:, head_columns(kind.value, dim, depth)]), kind
