"""A frozen timm ViT with prompt tokens and a linear head: the only trained parts."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from vpt_core.contract import FEATURE_PARTS, HEAD_READS, MASKED_PROMPT_BIAS

from . import _timm_compat as tc
from .backbone import Backbone, assert_frozen
from .prompts import HeadFeatures, PromptConfig


def run_prompted_blocks(vit: nn.Module, images: torch.Tensor, prompts: torch.Tensor,
                        prompt_mask: torch.Tensor | None = None, prompt_dropout: nn.Module | None = None,
                        observe: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """The token sequence after the last block, prompt slots included; ``observe`` sees each block's input.

    ``prompts`` is ``[L, P, D]`` (one task for the whole batch) or ``[B, L, P, D]`` (one
    task per image); L=1 shallow, L=depth deep; P may be 0. Prompts sit after all
    prefix tokens (CLS, registers) and before the patches, without position
    embedding; for deep prompts the prompt slice is replaced with layer l's prompts
    before each block l > 0. ``prompt_mask`` (``[B, P]``, 1 = used, 0 = unused)
    keeps unused slots out of every attention (their weight is exactly zero).
    """
    num_prefix = vit.num_prefix_tokens
    per_image = prompts.ndim == 4
    layers, num_prompts = prompts.shape[-3], prompts.shape[-2]
    x = tc.start_sequence(vit, tc.embed_patches(vit, images))
    batch = x.shape[0]
    attention_bias = _prompt_attention_bias(prompt_mask, num_prefix, x.shape[1] - num_prefix, x.dtype)
    for index, block in enumerate(tc.blocks(vit)):
        if num_prompts and (index == 0 or layers > 1):
            layer = index if layers > 1 else 0
            layer_prompts = (prompts[:, layer] if per_image else prompts[layer].unsqueeze(0).expand(batch, -1, -1))
            layer_prompts = layer_prompts.to(x.dtype)
            if prompt_dropout is not None:
                layer_prompts = prompt_dropout(layer_prompts)
            rest = x[:, num_prefix:] if index == 0 else x[:, num_prefix + num_prompts:]
            x = torch.cat([x[:, :num_prefix], layer_prompts, rest], dim=1)
        if observe is not None:
            observe(x)
        x = tc.run_block(block, x, attention_bias)
    return x


def _prompt_attention_bias(prompt_mask: torch.Tensor | None, num_prefix: int, num_patches: int,
                           dtype: torch.dtype) -> torch.Tensor | None:
    """``[B, 1, 1, tokens]`` additive key bias: 0 for prefix, used prompts and patches; MASKED for unused slots."""
    if prompt_mask is None:
        return None
    batch = prompt_mask.shape[0]
    slots = (prompt_mask.to(dtype) - 1.0) * -MASKED_PROMPT_BIAS
    zeros = slots.new_zeros
    return torch.cat([zeros(batch, num_prefix), slots, zeros(batch, num_patches)], dim=1).view(batch, 1, 1, -1)


def prompted_block_outputs(vit: nn.Module, images: torch.Tensor, prompts: torch.Tensor,
                           prompt_mask: torch.Tensor | None = None,
                           prompt_dropout: nn.Module | None = None) -> list[torch.Tensor]:
    """Every block's output sequence, prompt slots included (see :func:`run_prompted_blocks`)."""
    block_inputs: list[torch.Tensor] = []
    last = run_prompted_blocks(vit, images, prompts, prompt_mask, prompt_dropout, observe=block_inputs.append)
    # A block's input is the previous block's output (deep prompts replace only the prompt slots).
    return block_inputs[1:] + [last]


def feature_parts(vit: nn.Module, block_outputs: list[torch.Tensor], num_prompts: int,
                  parts: tuple[str, ...] = FEATURE_PARTS) -> torch.Tensor:
    """The named parts of the bundle's features (``vpt_core.contract.FEATURE_PARTS``, in that order), from
    every block's output sequence: the backbone's own pooling (CLS, average or attention pool) of the
    final-normed tokens, their mean patch token, then per block the per-channel maximum of its final-normed
    patch tokens. ``num_prompts`` slots after the prefix tokens are left out; parts not asked are not computed."""
    num_prefix, skip = vit.num_prefix_tokens, vit.num_prefix_tokens + num_prompts
    normed = tc.final_norm(vit, block_outputs[-1])
    patches = normed[:, skip:]
    pieces = []
    if "pooled" in parts:
        pieces.append(tc.pool(vit, torch.cat([normed[:, :num_prefix], patches], dim=1)))
    if "patch_mean" in parts:
        pieces.append(patches.mean(dim=1))
    if "block_max" in parts:
        pieces += [tc.final_norm(vit, x[:, skip:]).amax(dim=1) for x in block_outputs[:-1]]
        pieces.append(patches.amax(dim=1))
    return torch.cat(pieces, dim=1)


def head_input(vit: nn.Module, block_outputs: list[torch.Tensor], num_prompts: int,
               head_features: HeadFeatures) -> torch.Tensor:
    """Only the parts a head over ``head_features`` reads (the same values as its columns of the bundle's features)."""
    return feature_parts(vit, block_outputs, num_prompts, HEAD_READS[head_features.value])


def prompted_features(vit: nn.Module, images: torch.Tensor, prompts: torch.Tensor,
                      prompt_mask: torch.Tensor | None = None, prompt_dropout: nn.Module | None = None) -> torch.Tensor:
    """The bundle's features (``vpt_core.contract``), ``[B, (2 + depth) * D]``; prompt slots are never pooled."""
    return feature_parts(vit, prompted_block_outputs(vit, images, prompts, prompt_mask, prompt_dropout),
                         prompts.shape[-2])


def bundle_features(vit: nn.Module, images: torch.Tensor, prompts: torch.Tensor,
                    prompt_mask: torch.Tensor) -> torch.Tensor:
    """What a deploy bundle's graph computes (see ``vpt_core.contract``): per-image prompts, masked slots."""
    return prompted_features(vit, images, prompts, prompt_mask)


class PromptedViT(nn.Module):
    def __init__(self, backbone: Backbone, prompt_config: PromptConfig, num_classes: int):
        super().__init__()
        self.backbone = backbone.model
        self.prompt_config = prompt_config
        layers = prompt_config.prompt_layers(backbone.depth)
        self.prompts = nn.Parameter(torch.zeros(layers, prompt_config.num_prompts, backbone.embed_dim))
        width = prompt_config.head_features.width(backbone.embed_dim, backbone.depth)
        self.head = nn.Linear(width, num_classes)
        # Fixed standardisation of the features in front of the head (a preconditioner for
        # training, like MAE's affine-free BatchNorm before a linear probe); folded into the
        # head when the task is saved, so deployed graphs never see it.
        self.register_buffer("feature_shift", torch.zeros(width))
        self.register_buffer("feature_scale", torch.ones(width))
        self.prompt_dropout = nn.Dropout(prompt_config.dropout) if prompt_config.dropout > 0 else None
        self.backbone.eval()

    @property
    def num_classes(self) -> int:
        return self.head.out_features

    def train(self, mode: bool = True) -> "PromptedViT":
        # The backbone stays in eval mode even while prompts train: no dropout, no drop-path.
        super().train(mode)
        self.backbone.eval()
        return self

    def features(self, images: torch.Tensor) -> torch.Tensor:
        outputs = prompted_block_outputs(self.backbone, images, self.prompts, prompt_dropout=self.prompt_dropout)
        return head_input(self.backbone, outputs, self.prompts.shape[-2], self.prompt_config.head_features)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head((self.features(images) - self.feature_shift) / self.feature_scale)

    def set_feature_standardisation(self, shift: torch.Tensor, scale: torch.Tensor) -> None:
        with torch.no_grad():
            self.feature_shift.copy_(shift)
            self.feature_scale.copy_(scale)

    def folded_head(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Head weight and bias that give the same logits on raw features (no standardisation)."""
        with torch.no_grad():
            weight = self.head.weight / self.feature_scale
            return weight, self.head.bias - weight @ self.feature_shift

    def trainable_parameters(self) -> list[nn.Parameter]:
        prompts = [self.prompts] if self.prompts.numel() else []
        return prompts + [self.head.weight, self.head.bias]

    def check_frozen(self) -> None:
        assert_frozen(self.backbone, self)
