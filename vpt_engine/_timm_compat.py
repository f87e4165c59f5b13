"""Every touch of timm internals lives here, and only here.

The rest of the engine sees a frozen ``VisionTransformer`` through these few
functions: how to embed patches, start the token sequence, run blocks, apply
the final norm and pool. Tested with timm 1.0.x (see pyproject.toml); when timm
moves a seam, this is the one file to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
from torch import nn

from vpt_core.errors import BackboneError

try:
    import timm
    from timm.models.vision_transformer import VisionTransformer
    from timm.models.vision_transformer import checkpoint_filter_fn as _vit_checkpoint_filter
except ImportError as _error:  # pragma: no cover - depends on the install
    raise BackboneError("timm is not installed: pip install 'vpt-toolkit[train]'") from _error

TIMM_VERSION = timm.__version__
POOLING_TYPES = ("token", "avg", "avgmax", "max", "map")


@dataclass(frozen=True)
class VitArchitecture:
    embed_dim: int
    depth: int
    num_prefix_tokens: int
    num_patches: int
    patch_size: tuple[int, int]
    global_pool: str


def model_exists(name: str) -> bool:
    return bool(timm.is_model(name.split(".", 1)[0]))


def tag_defaults(name: str) -> dict[str, Any]:
    """Model arguments implied by a pretrained tag.

    MAE checkpoints are evaluated with average pooling of patch tokens; their
    final norm is the pretrained ``norm`` (no separate ``fc_norm`` exists).
    """
    tag = name.split(".", 1)[1] if "." in name else ""
    if tag.startswith("mae"):
        return {"global_pool": "avg", "fc_norm": False}
    return {}


def create_vit(name: str, *, pretrained: bool, model_kwargs: Mapping[str, Any]) -> nn.Module:
    """Build a timm ViT without classifier; raise BackboneError for anything else."""
    if not model_exists(name):
        raise BackboneError(f"unknown timm model {name!r} (see timm.list_models('vit*'))")
    kwargs = {**tag_defaults(name), **dict(model_kwargs), "num_classes": 0}
    if pretrained:
        ensure_pretrained_reachable(name)
    try:
        model = timm.create_model(name, pretrained=pretrained, **kwargs)
    except (TypeError, ValueError, AssertionError, KeyError) as error:
        raise BackboneError(f"cannot build {name} with {dict(model_kwargs)}: {error}") from error
    except Exception as error:
        if pretrained:
            raise BackboneError(
                f"cannot fetch pretrained weights for {name} ({type(error).__name__}: {error}). "
                "Without internet, copy a weights file here and pass it with --weights") from error
        raise BackboneError(f"cannot build {name}: {error}") from error
    if not isinstance(model, VisionTransformer):
        raise BackboneError(
            f"{name} is a {type(model).__name__}, not a timm VisionTransformer; "
            "prompt tuning here supports ViT-family models (vit_*, deit_*, MAE, DINOv2, CLIP image towers)")
    architecture(model)  # validates pooling
    return model


_HUB_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "open_clip_model.safetensors",
                     "open_clip_pytorch_model.bin")


def cached_pretrained_file(name: str) -> str | None:
    """Path of ``name``'s pretrained weights in the local Hugging Face cache, if they are there."""
    from timm.models import get_pretrained_cfg

    config = get_pretrained_cfg(name)
    if config is None or not config.hf_hub_id:
        return None
    return _cached_hub_file(config.hf_hub_id, config.hf_hub_filename)


def ensure_pretrained_reachable(name: str) -> None:
    """Fail fast when offline, instead of waiting on network timeouts inside timm."""
    from timm.models import get_pretrained_cfg

    config = get_pretrained_cfg(name)
    if config is None:
        raise BackboneError(f"timm has no pretrained weights for {name!r}; pass a local file with --weights")
    host = _hub_host() if config.hf_hub_id else _url_host(config.url)
    if not _reachable(host):
        raise BackboneError(
            f"cannot fetch pretrained weights for {name}: {host} is not reachable (offline?). "
            "Download them on a connected machine, copy the file here and pass it with --weights")


def _cached_hub_file(repo_id: str, filename: str | None) -> str | None:
    import os

    from huggingface_hub import try_to_load_from_cache

    cache_dir = os.environ.get("HF_HUB_CACHE") or None  # read now, not at huggingface_hub's import
    for candidate in ([filename] if filename else []) + list(_HUB_WEIGHT_FILES):
        path = try_to_load_from_cache(repo_id, candidate, cache_dir=cache_dir)
        if isinstance(path, str):
            return path
    return None


def _hub_host() -> str:
    import os
    from urllib.parse import urlparse

    return urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"


def _url_host(url: str | None) -> str:
    from urllib.parse import urlparse

    return (urlparse(url).hostname if url else None) or "huggingface.co"


def _reachable(host: str, timeout: float = 3.0) -> bool:
    import os
    import socket

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def architecture(model: nn.Module) -> VitArchitecture:
    pool = "map" if getattr(model, "attn_pool", None) is not None else model.global_pool
    if pool not in POOLING_TYPES:
        raise BackboneError(f"unsupported pooling {pool!r}; supported: {POOLING_TYPES}")
    patch = model.patch_embed.patch_size
    return VitArchitecture(
        embed_dim=int(model.embed_dim),
        depth=len(model.blocks),
        num_prefix_tokens=int(model.num_prefix_tokens),
        num_patches=int(model.patch_embed.num_patches),
        patch_size=(int(patch[0]), int(patch[1])),
        global_pool=pool,
    )


def data_config(model: nn.Module) -> dict[str, Any]:
    config = dict(timm.data.resolve_model_data_config(model))
    # With an img_size override, timm keeps the pretrained config's size; the patch
    # embedding's size is the one the model accepts.
    height, width = (int(v) for v in model.patch_embed.img_size)
    config["input_size"] = (int(config["input_size"][0]), height, width)
    return config


def reference_eval_transform(model: nn.Module):
    """timm's own evaluation transform (PIL in, tensor out), used to check our numpy one."""
    return timm.data.create_transform(**data_config(model), is_training=False)


def embed_patches(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Patch embedding output, in whatever layout ``_pos_embed`` expects next."""
    return model.patch_embed(images)


def flatten_patches(embedded: torch.Tensor) -> torch.Tensor:
    """``[B, N, D]`` view of the patch embedding (dynamic-size models give ``[B, H, W, D]``)."""
    return embedded.flatten(1, 2) if embedded.ndim == 4 else embedded


def start_sequence(model: nn.Module, embedded: torch.Tensor) -> torch.Tensor:
    """Prefix tokens (CLS, registers) plus position embedding: the input of block 0."""
    x = model._pos_embed(embedded)
    x = model.patch_drop(x)
    return model.norm_pre(x)


def blocks(model: nn.Module) -> list[nn.Module]:
    return list(model.blocks)


def run_block(block: nn.Module, x: torch.Tensor, attention_bias: torch.Tensor | None = None) -> torch.Tensor:
    """One transformer block; ``attention_bias`` is added to every head's attention logits (timm >= 1.0.16)."""
    if attention_bias is None:
        return block(x)
    return block(x, attn_mask=attention_bias)


def final_norm(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model.norm(x)


def pool(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Pooled features, the head's input, from a prompt-free token sequence."""
    return model.forward_head(x, pre_logits=True)


def prepare_state_dict(state_dict: Mapping[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """timm's own key conversions (OpenAI CLIP, original DINOv2, ...) and pos-embed resampling."""
    return dict(_vit_checkpoint_filter(dict(state_dict), model))
