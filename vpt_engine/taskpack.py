"""Save trained prompts and head as a task pack, and load a pack back onto its backbone."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vpt_core.errors import ConfigError, IncompatibleTaskError, TaskPackError
from vpt_core.packformat import PACK_SUFFIX, BackboneFingerprint, TaskPackData, read_task_pack

from .backbone import Backbone, BackboneConfig, load_backbone
from .prompted_vit import PromptedViT
from .prompts import PromptConfig
from .train_result import TrainResult

RANDOM_SOURCE = "random-init"
PRETRAINED_SOURCE = "timm-pretrained"


EMBEDDED_PREFIX = "embedded:"


def weights_source(config: BackboneConfig) -> str:
    """Where the weights came from, as a pack records it: a file, the embedded model (by key, so the
    pack still finds it after the package is reinstalled elsewhere), timm's download or random."""
    from .embedded import embedded_model_for

    if config.weights:
        embedded = embedded_model_for(config.weights)
        return f"{EMBEDDED_PREFIX}{embedded.key}" if embedded else str(Path(config.weights).resolve())
    return PRETRAINED_SOURCE if config.pretrained else RANDOM_SOURCE


def pack_from_result(result: TrainResult, backbone: Backbone, name: str = "",
                     extra: dict[str, Any] | None = None) -> TaskPackData:
    model = result.model
    head_weight, head_bias = model.folded_head()
    fingerprint = BackboneFingerprint.from_dict({**backbone.fingerprint.to_dict(),
                                                 "weights_source": weights_source(backbone.config)})
    return TaskPackData(
        prompts=model.prompts.detach().float().cpu().numpy(),
        head_weight=head_weight.float().cpu().numpy(),
        head_bias=head_bias.float().cpu().numpy(),
        classes=list(result.classes), backbone=fingerprint, prompt_config=result.prompt_config.to_dict(),
        preprocess=backbone.preprocess.to_dict(), name=name,
        training={**result.train_config.to_dict(), "history": result.history, "data": result.data_summary},
        metrics=dict(result.metrics), extra=dict(extra or {}), rejection=dict(result.rejection),
    )


def check_output(path: str | os.PathLike, overwrite: bool) -> Path:
    """Refuse to write a task pack over an existing file unless told to (before any training starts)."""
    path = Path(path)
    if path.suffix != PACK_SUFFIX:
        raise ConfigError(f"{path}: a task pack's file name ends in {PACK_SUFFIX}")
    if path.exists() and not overwrite:
        what = "a folder" if path.is_dir() else "a file"
        raise ConfigError(f"{path} is already {what}; choose another --out or pass --overwrite to replace it")
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a task pack file")
    return path


def save_task(result: TrainResult, backbone: Backbone, path: str | os.PathLike, name: str = "",
              extra: dict[str, Any] | None = None) -> Path:
    return pack_from_result(result, backbone, name or Path(path).stem, extra).save(path)


def backbone_config_for(pack: TaskPackData, weights: str | None = None) -> BackboneConfig:
    """How to rebuild the backbone a pack was trained on (``weights`` overrides the recorded file)."""
    fingerprint = pack.backbone
    source = weights or fingerprint.weights_source
    common = {"model_kwargs": fingerprint.model_kwargs, "image_fit": pack.preprocess_spec.image_fit}
    if source == PRETRAINED_SOURCE:
        return BackboneConfig(fingerprint.timm_name, pretrained=True, **common)
    if source == RANDOM_SOURCE:
        return BackboneConfig(fingerprint.timm_name, random_init=True, **common)
    if source.startswith(EMBEDDED_PREFIX):
        from .embedded import embedded_model

        model = embedded_model(source[len(EMBEDDED_PREFIX):])
        return BackboneConfig(fingerprint.timm_name, weights=str(model.verified_path()), **common)
    if not source or not Path(source).is_file():
        raise TaskPackError(
            f"the weights this task was trained with ({source or 'unknown'}) are not on this machine; "
            "pass them with --weights FILE")
    return BackboneConfig(fingerprint.timm_name, weights=source, **common)


def with_pack_preprocessing(backbone: Backbone, pack: TaskPackData) -> Backbone:
    """The same frozen model, seen through the preprocessing the task was trained with.

    Tasks of one backbone may differ in image fit; a shared backbone must not impose its own on them.
    """
    spec = pack.preprocess_spec
    if spec == backbone.preprocess:
        return backbone
    config = dataclasses.replace(backbone.config, image_fit=spec.image_fit)
    return dataclasses.replace(backbone, preprocess=spec, config=config)


@dataclass
class LoadedTask:
    model: PromptedViT
    pack: TaskPackData
    backbone: Backbone


def load_task(path: str | os.PathLike, backbone: Backbone | None = None, weights: str | None = None,
              device: str | torch.device = "cpu") -> LoadedTask:
    """Rebuild the prompted model of a task pack; refuse a pack that does not fit ``backbone``."""
    pack = read_task_pack(path)
    if backbone is None:
        backbone = load_backbone(backbone_config_for(pack, weights))
    pack.check_compatible(backbone.fingerprint, source=str(path))
    backbone = with_pack_preprocessing(backbone, pack)
    prompt_config = PromptConfig.from_dict(pack.prompt_config)
    expected_shape = (prompt_config.prompt_layers(backbone.depth), prompt_config.num_prompts, backbone.embed_dim)
    if tuple(pack.prompts.shape) != expected_shape:
        raise IncompatibleTaskError(f"{path}: prompt tensor {list(pack.prompts.shape)} does not match its "
                                    f"configuration {list(expected_shape)}")
    model = PromptedViT(backbone, prompt_config, pack.num_classes)
    with torch.no_grad():
        model.prompts.copy_(torch.from_numpy(pack.prompts))
        model.head.weight.copy_(torch.from_numpy(pack.head_weight))
        model.head.bias.copy_(torch.from_numpy(pack.head_bias))
    model.eval()
    return LoadedTask(model.to(device), pack, backbone)
