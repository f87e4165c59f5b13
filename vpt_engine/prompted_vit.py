"""A frozen timm ViT with prompt tokens and a linear head: the only trained parts."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from . import _timm_compat as tc
from .backbone import Backbone, assert_frozen
from .prompts import PromptConfig


def prompted_features(vit: nn.Module, images: torch.Tensor, prompts: torch.Tensor,
                      prompt_dropout: nn.Module | None = None) -> torch.Tensor:
    """Pooled features of ``vit`` with ``prompts`` ([L, P, D]; L=1 shallow, L=depth deep).

    The prompts are removed again before the backbone's own pooling, so average
    pooling means patch tokens only.
    """
    num_prefix, num_prompts = vit.num_prefix_tokens, prompts.shape[1]
    x = tc.final_norm(vit, run_prompted_blocks(vit, images, prompts, prompt_dropout))
    x = torch.cat([x[:, :num_prefix], x[:, num_prefix + num_prompts:]], dim=1)
    return tc.pool(vit, x)


def run_prompted_blocks(vit: nn.Module, images: torch.Tensor, prompts: torch.Tensor,
                        prompt_dropout: nn.Module | None = None,
                        observe: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """The token sequence after the last block, prompts included; ``observe`` sees each block's input.

    Prompts sit after all prefix tokens (CLS, registers) and before the patches,
    without position embedding. For deep prompts, the prompt slice is replaced
    with layer l's prompts before each block l > 0.
    """
    num_prefix = vit.num_prefix_tokens
    layers, num_prompts, _ = prompts.shape
    x = tc.start_sequence(vit, tc.embed_patches(vit, images))
    batch = x.shape[0]
    for index, block in enumerate(tc.blocks(vit)):
        if index == 0 or layers > 1:
            layer_prompts = prompts[index if layers > 1 else 0].to(x.dtype).unsqueeze(0).expand(batch, -1, -1)
            if prompt_dropout is not None:
                layer_prompts = prompt_dropout(layer_prompts)
            rest = x[:, num_prefix:] if index == 0 else x[:, num_prefix + num_prompts:]
            x = torch.cat([x[:, :num_prefix], layer_prompts, rest], dim=1)
        if observe is not None:
            observe(x)
        x = block(x)
    return x


class PromptedViT(nn.Module):
    def __init__(self, backbone: Backbone, prompt_config: PromptConfig, num_classes: int):
        super().__init__()
        self.backbone = backbone.model
        self.prompt_config = prompt_config
        layers = prompt_config.prompt_layers(backbone.depth)
        self.prompts = nn.Parameter(torch.zeros(layers, prompt_config.num_prompts, backbone.embed_dim))
        self.head = nn.Linear(backbone.embed_dim, num_classes)
        # Fixed standardisation of the features in front of the head (a preconditioner for
        # training, like MAE's affine-free BatchNorm before a linear probe); folded into the
        # head when the task is saved, so deployed graphs never see it.
        self.register_buffer("feature_shift", torch.zeros(backbone.embed_dim))
        self.register_buffer("feature_scale", torch.ones(backbone.embed_dim))
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
        return prompted_features(self.backbone, images, self.prompts, self.prompt_dropout)

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
        return [self.prompts, self.head.weight, self.head.bias]

    def check_frozen(self) -> None:
        assert_frozen(self.backbone, self)
