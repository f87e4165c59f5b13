"""Pieces shared by the command-line handlers: options, output, progress."""

from __future__ import annotations

import argparse
import json
from typing import Any

from vpt_core.errors import ConfigError
from vpt_core.preprocess import IMAGE_FITS


def add_backbone_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_argument_group("backbone")
    group.add_argument("--backbone", required=required, metavar="NAME",
                       help="timm model name, e.g. vit_small_patch16_224 or vit_base_patch16_224.mae "
                            "(default: the embedded model, a ViT-Tiny pretrained on rendered fractals)")
    add_weights_options(group)
    group.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                       help="extra timm model argument, e.g. img_size=160 (repeatable)")
    group.add_argument("--image-fit", choices=IMAGE_FITS, default="whole",
                       help="whole: the whole picture scaled to the input size (default); crop: the backbone's own "
                            "resize and centre crop (cuts off the border, where defects may sit); pad: the whole "
                            "picture, padded to keep its shape")


def add_weights_options(group) -> None:
    source = group.add_mutually_exclusive_group()
    source.add_argument("--weights", metavar="FILE", help="local weights (.safetensors, .pth, .bin); works offline")
    source.add_argument("--pretrained", action="store_true",
                        help="download timm's pretrained weights (needs internet once)")
    source.add_argument("--random-init", action="store_true",
                        help="random weights: for testing the pipeline only, accuracy will be poor")


def parse_model_args(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--model-arg expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def backbone_config_from_args(args: argparse.Namespace):
    """The backbone asked for; without --backbone, the embedded model (or a random ViT-Tiny with --random-init)."""
    from ..backbone import BackboneConfig
    from ..embedded import DEFAULT_MODEL, embedded_backbone_config

    if not args.backbone:
        if args.weights or args.pretrained:
            raise ConfigError("--weights/--pretrained need --backbone NAME to say which architecture they belong to")
        if not args.random_init:
            return embedded_backbone_config(args.image_fit)
        args.backbone = DEFAULT_MODEL.timm_name
    return BackboneConfig(name=args.backbone, weights=args.weights, pretrained=args.pretrained,
                          random_init=args.random_init, model_kwargs=parse_model_args(args.model_arg),
                          image_fit=args.image_fit)
