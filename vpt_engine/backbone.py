"""The frozen backbone: a timm ViT, its weights, fingerprint and preprocessing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from . import _timm_compat as tc
from .checkpoints import LoadReport, align_keys, drop_heads, extract_state_dict, fit_to_model, read_weights_file
from vpt_core.errors import ConfigError, FrozenBackboneError
from vpt_core.packformat import BackboneFingerprint
from vpt_core.preprocess import PreprocessSpec, check_image_fit


@dataclass(frozen=True)
class BackboneConfig:
    """Which ViT to build and where its weights come from.

    Exactly one weights source: a local file (always works offline), timm's
    ``pretrained`` download (only when asked, needs the network once), or an
    explicit ``random_init`` for tests and demos.
    """

    name: str
    weights: str | None = None
    pretrained: bool = False
    random_init: bool = False
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    image_fit: str = "crop"   # preprocess.IMAGE_FITS: the backbone's own crop, or the whole image

    def __post_init__(self) -> None:
        check_image_fit(self.image_fit)
        if not self.name or not isinstance(self.name, str):
            raise ConfigError("backbone name must be a timm model name such as 'vit_small_patch16_224'")
        sources = [bool(self.weights), self.pretrained, self.random_init]
        if sum(sources) > 1:
            raise ConfigError("choose one weights source: a weights file, --pretrained, or random initialisation")
        if sum(sources) == 0:
            raise ConfigError(
                f"no weights for {self.name}: pass --weights FILE (.safetensors/.pth/.bin, works offline) "
                "or --pretrained (downloads once from the internet)")
        try:
            json.dumps(dict(self.model_kwargs))
        except TypeError as error:
            raise ConfigError(f"model_kwargs must be plain JSON values: {error}") from error
        object.__setattr__(self, "model_kwargs", dict(self.model_kwargs))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weights": self.weights, "pretrained": self.pretrained,
                "random_init": self.random_init, "model_kwargs": dict(self.model_kwargs), "image_fit": self.image_fit}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "BackboneConfig":
        return cls(name=document["name"], weights=document.get("weights"),
                   pretrained=bool(document.get("pretrained")), random_init=bool(document.get("random_init")),
                   model_kwargs=dict(document.get("model_kwargs") or {}),
                   image_fit=document.get("image_fit") or "crop")


@dataclass
class Backbone:
    model: nn.Module
    config: BackboneConfig
    fingerprint: BackboneFingerprint
    preprocess: PreprocessSpec
    architecture: tc.VitArchitecture
    report: LoadReport | None = None

    @property
    def embed_dim(self) -> int:
        return self.architecture.embed_dim

    @property
    def depth(self) -> int:
        return self.architecture.depth

    def to(self, device: torch.device | str) -> "Backbone":
        self.model.to(device)
        return self


def load_backbone(config: BackboneConfig, *, seed: int = 0) -> Backbone:
    """Build, load and freeze the backbone described by ``config``."""
    if config.random_init:
        torch.manual_seed(seed)
    weights_file = config.weights or (tc.cached_pretrained_file(config.name) if config.pretrained else None)
    # Cached pretrained weights load like a local file: no network, and independent of timm's loader version.
    download = config.pretrained and not weights_file
    model = tc.create_vit(config.name, pretrained=download, model_kwargs=config.model_kwargs)
    report = load_weights(model, weights_file) if weights_file else None
    freeze(model)
    arch = tc.architecture(model)
    source = config.weights and Path(config.weights).name or ("timm pretrained" if config.pretrained else "random")
    fingerprint = BackboneFingerprint(
        timm_name=config.name, model_kwargs=dict(config.model_kwargs), weights_sha256=weights_digest(model),
        embed_dim=arch.embed_dim, depth=arch.depth, num_prefix_tokens=arch.num_prefix_tokens,
        num_patches=arch.num_patches, patch_size=arch.patch_size, global_pool=arch.global_pool,
        timm_version=tc.TIMM_VERSION, weights_source=source)
    preprocess = PreprocessSpec.from_data_config(tc.data_config(model)).fitted(config.image_fit)
    return Backbone(model=model, config=config, fingerprint=fingerprint, preprocess=preprocess,
                    architecture=arch, report=report)


def load_weights(model: nn.Module, path: str) -> LoadReport:
    report = LoadReport(source=str(path))
    state_dict = extract_state_dict(read_weights_file(path), report)
    model_keys = set(model.state_dict())
    state_dict = align_keys(state_dict, model_keys, report)
    if len(model_keys.intersection(state_dict)) < len(model_keys) // 2:
        # Foreign layouts (OpenAI CLIP, original DINOv2) need timm's own conversion first.
        state_dict = align_keys(tc.prepare_state_dict(state_dict, model), model_keys, report)
    else:
        state_dict = tc.prepare_state_dict(state_dict, model)
    fit_to_model(drop_heads(state_dict, report), model, report)
    return report


def freeze(model: nn.Module) -> None:
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    model.eval()


def weights_digest(model: nn.Module) -> str:
    """sha256 over the backbone tensors as float32, in key order: independent of the file format."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def assert_frozen(backbone_module: nn.Module, trainable: nn.Module) -> None:
    """Fail loudly if anything but prompts and head would train, or the backbone left eval mode."""
    leaking = [name for name, p in backbone_module.named_parameters() if p.requires_grad]
    if leaking:
        raise FrozenBackboneError(f"backbone parameters would train: {', '.join(leaking[:5])}")
    training = [name or "<root>" for name, m in backbone_module.named_modules() if m.training]
    if training:
        raise FrozenBackboneError(f"backbone modules are in training mode (dropout on): {', '.join(training[:5])}")
    allowed = {"prompts", "head.weight", "head.bias"}
    extra = [name for name, p in trainable.named_parameters()
             if p.requires_grad and name not in allowed and not name.startswith("backbone.")]
    if extra:
        raise FrozenBackboneError(f"unexpected trainable parameters: {', '.join(extra)}")
