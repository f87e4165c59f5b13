"""Pieces shared by the command-line handlers: options, output, progress."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from ..errors import ConfigError
from ..preprocess import IMAGE_FITS


def add_backbone_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    group = parser.add_argument_group("backbone")
    group.add_argument("--backbone", required=required, metavar="NAME",
                       help="timm model name, e.g. vit_small_patch16_224 or vit_base_patch16_224.mae")
    add_weights_options(group)
    group.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE",
                       help="extra timm model argument, e.g. img_size=160 (repeatable)")
    group.add_argument("--image-fit", choices=IMAGE_FITS, default="crop",
                       help="crop: the backbone's own resize and centre crop (cuts off the border); whole: the "
                            "whole picture scaled to the input size; pad: the whole picture, padded to keep its "
                            "shape. Use whole or pad when defects can sit at the edge (default crop)")


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
    from ..backbone import BackboneConfig

    return BackboneConfig(name=args.backbone, weights=args.weights, pretrained=args.pretrained,
                          random_init=args.random_init, model_kwargs=parse_model_args(args.model_arg),
                          image_fit=args.image_fit)


def print_json(document: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    stream.flush()


def say(message: str, quiet: bool = False) -> None:
    """Human-readable progress goes to stderr so stdout stays clean for --json."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressBar:
    """A one-line bar on a terminal; occasional plain lines when stderr is a file or pipe."""

    def __init__(self, stream: TextIO | None = None, width: int = 30, quiet: bool = False):
        self.stream, self.width, self.quiet = stream or sys.stderr, width, quiet
        self.interactive = self.stream.isatty()
        self._last_plain = 0.0
        self._open = False

    def update(self, fraction: float, text: str) -> None:
        if self.quiet:
            return
        fraction = min(1.0, max(0.0, fraction))
        if self.interactive:
            filled = int(self.width * fraction)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {fraction * 100:5.1f}% {text}\033[K")
            self.stream.flush()
            self._open = True
        elif time.monotonic() - self._last_plain > 5 or fraction >= 1.0:
            self._last_plain = time.monotonic()
            self.stream.write(f"{fraction * 100:5.1f}% {text}\n")
            self.stream.flush()

    def line(self, text: str) -> None:
        if self.quiet:
            return
        self.close()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
