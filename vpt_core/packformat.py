"""The task pack file format (``.vptask``), readable without torch.

A task pack is a safetensors file holding only the trained tensors

* ``prompts``      float32 ``[L, P, D]`` (L = depth for deep prompts, 1 for shallow)
* ``head.weight``  float32 ``[C, D]``
* ``head.bias``    float32 ``[C]``

and one JSON document under the metadata key ``vptask``: class names, the
backbone fingerprint, prompt configuration, preprocessing, training settings
and metrics, library version and creation time. Training writes it; the station
runtime reads it with safetensors' numpy API.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import __version__
from .atomicio import atomic_write_bytes
from .contract import HEAD_FEATURES_IF_UNRECORDED, HEAD_READS, BundleContract, TaskTensors, head_width
from .errors import ConfigError, IncompatibleTaskError, TaskPackError
from .preprocess import PreprocessSpec
from .schema import TASK_PACK, check_document

PACK_SUFFIX = ".vptask"
FORMAT_NAME = "vptask"
FORMAT_VERSION = 1
METADATA_KEY = "vptask"
TENSOR_NAMES = ("prompts", "head.weight", "head.bias")


@dataclass(frozen=True)
class BackboneFingerprint:
    """What a task pack needs to find again: the same architecture with the same weights."""

    timm_name: str
    model_kwargs: Mapping[str, Any]
    weights_sha256: str
    embed_dim: int
    depth: int
    num_prefix_tokens: int
    num_patches: int
    patch_size: tuple[int, int]
    global_pool: str
    timm_version: str = ""
    weights_source: str = ""

    # Fields that must agree for prompts and head to mean the same thing.
    _MUST_MATCH = ("timm_name", "model_kwargs", "weights_sha256", "embed_dim", "depth",
                   "num_prefix_tokens", "num_patches", "patch_size", "global_pool")

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["model_kwargs"] = dict(self.model_kwargs)
        document["patch_size"] = list(self.patch_size)
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "BackboneFingerprint":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in document.items() if k in known}
        values["patch_size"] = tuple(values.get("patch_size", ()))
        values["model_kwargs"] = dict(values.get("model_kwargs", {}))
        return cls(**values)

    def differences(self, other: "BackboneFingerprint") -> list[str]:
        """Human-readable list of what differs in the fields that matter."""
        out = []
        for name in self._MUST_MATCH:
            mine, theirs = _normalise(getattr(self, name)), _normalise(getattr(other, name))
            if mine != theirs:
                if name == "weights_sha256":
                    out.append(f"weights differ (sha256 {mine[:12]}... vs {theirs[:12]}...)")
                else:
                    out.append(f"{name}: {mine!r} vs {theirs!r}")
        return out

    def describe(self) -> str:
        kwargs = ", ".join(f"{k}={v}" for k, v in sorted(self.model_kwargs.items()))
        return f"{self.timm_name}({kwargs}) weights {self.weights_sha256[:12]}"


def _normalise(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _normalise(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_normalise(v) for v in value)
    return value


@dataclass
class TaskPackData:
    """A task pack in memory: numpy tensors plus the JSON description."""

    prompts: np.ndarray
    head_weight: np.ndarray
    head_bias: np.ndarray
    classes: list[str]
    backbone: BackboneFingerprint
    prompt_config: dict[str, Any]
    preprocess: dict[str, Any]
    name: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # When to say "uncertain" instead of a class: {"min_confidence": p, "method": ..., ...}; empty: never.
    rejection: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    library_version: str = __version__

    def __post_init__(self) -> None:
        self.prompts = np.ascontiguousarray(self.prompts, dtype=np.float32)
        self.head_weight = np.ascontiguousarray(self.head_weight, dtype=np.float32)
        self.head_bias = np.ascontiguousarray(self.head_bias, dtype=np.float32)
        self.validate()

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def prompt_shape(self) -> tuple[int, int, int]:
        return tuple(self.prompts.shape)

    @property
    def min_confidence(self) -> float:
        """Below this top-class probability a result is "uncertain" (0.0: the pack has no threshold)."""
        value = self.rejection.get("min_confidence", 0.0)
        return float(value) if isinstance(value, (int, float)) and 0.0 <= value <= 1.0 else 0.0

    @property
    def head_features(self) -> str:
        """What the head reads (``vpt_core.contract.HEAD_READS``); packs made before the choice read "pooled"."""
        return str(self.prompt_config.get("head_features", HEAD_FEATURES_IF_UNRECORDED))

    @property
    def head_width(self) -> int:
        return head_width(self.head_features, self.backbone.embed_dim, self.backbone.depth)

    def bundle_tensors(self, contract: BundleContract, source: str) -> TaskTensors:
        """This task's tensors prepared for a bundle, or BundleError saying why they do not fit."""
        return contract.task_tensors(self.prompts, self.head_weight, self.head_bias, source, self.head_features)

    @property
    def preprocess_spec(self) -> PreprocessSpec:
        """The preprocessing this task was trained with; everything that runs the task uses it."""
        return PreprocessSpec.from_dict(self.preprocess)

    def validate(self, source: str = "task pack") -> None:
        if self.prompts.ndim != 3:
            raise TaskPackError(f"{source}: prompts must be [layers, P, D], got shape {self.prompts.shape}")
        layers, _, dim = self.prompts.shape
        if dim != self.backbone.embed_dim:
            raise TaskPackError(f"{source}: prompt width {dim} does not match embed_dim {self.backbone.embed_dim}")
        if layers not in (1, self.backbone.depth):
            raise TaskPackError(f"{source}: {layers} prompt layers for a {self.backbone.depth}-block backbone")
        if self.head_features not in HEAD_READS:
            raise TaskPackError(f"{source}: unknown head features {self.head_features!r}; this version knows "
                                f"{', '.join(HEAD_READS)} (a pack from a newer version?)")
        if self.head_weight.shape != (len(self.classes), self.head_width) or self.head_bias.shape != (len(self.classes),):
            raise TaskPackError(
                f"{source}: head shape {self.head_weight.shape}/{self.head_bias.shape} does not fit "
                f"{len(self.classes)} classes reading {self.head_features!r} features of width {self.head_width}")
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise TaskPackError(f"{source}: needs at least two distinct class names, got {self.classes}")
        for name, array in (("prompts", self.prompts), ("head.weight", self.head_weight), ("head.bias", self.head_bias)):
            if not np.all(np.isfinite(array)):
                raise TaskPackError(f"{source}: {name} contains NaN or infinite values")

    def metadata(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "created": self.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "library": {"name": "vpt-toolkit", "version": self.library_version},
            "classes": list(self.classes),
            "backbone": self.backbone.to_dict(),
            "prompt": dict(self.prompt_config),
            "preprocess": dict(self.preprocess),
            "training": dict(self.training),
            "metrics": dict(self.metrics),
            "extra": dict(self.extra),
            "rejection": dict(self.rejection),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically; the target is replaced only once the file is complete.

        The pack is serialised in memory (it is small) and written by :mod:`atomicio`, so a full disk is the
        toolkit's one-line DiskWriteError rather than safetensors' own error from inside its writer.
        """
        from safetensors.numpy import save

        tensors = {"prompts": self.prompts, "head.weight": self.head_weight, "head.bias": self.head_bias}
        metadata = self.metadata()
        self.created = metadata["created"]
        data = save(tensors, metadata={METADATA_KEY: json.dumps(metadata, ensure_ascii=False)})
        return atomic_write_bytes(path, data)

    def check_compatible(self, fingerprint: BackboneFingerprint, prompt_shape: tuple[int, ...] | None = None,
                         source: str = "task pack") -> None:
        """Refuse a pack for another backbone, weights or prompt shape, saying what differs."""
        problems = self.backbone.differences(fingerprint)
        if prompt_shape is not None and tuple(prompt_shape) != self.prompt_shape:
            problems.append(f"prompt shape {list(self.prompt_shape)} vs {list(prompt_shape)}")
        if problems:
            raise IncompatibleTaskError(
                f"{source} was made for {self.backbone.describe()}, not {fingerprint.describe()}: "
                + "; ".join(problems))


MAX_PACK_BYTES = 256 * 2 ** 20     # a ViT-H deep task with 100 prompts is a few MB; this is far above any real one
_MAX_HEADER_BYTES = 2 ** 20


def read_task_pack(path: str | os.PathLike) -> TaskPackData:
    """Read and validate a ``.vptask`` file with numpy only."""
    path = Path(path)
    if not path.is_file():
        raise TaskPackError(f"{path}: task pack not found")
    try:
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            raise TaskPackError(f"{path}: {size} bytes is far too large for a task pack")
        data = path.read_bytes()
    except OSError as error:
        raise TaskPackError(f"{path}: cannot read it ({error.strerror or error})") from error
    return read_task_pack_bytes(data, str(path), default_name=path.stem)


def read_task_pack_bytes(data: bytes, source: str, default_name: str = "") -> TaskPackData:
    """A task pack from its bytes (a file's, or an upload's); ``source`` names it in errors."""
    from safetensors.numpy import load

    if len(data) > MAX_PACK_BYTES:
        raise TaskPackError(f"{source}: {len(data)} bytes is far too large for a task pack")
    metadata = _safetensors_metadata(data, source)
    try:
        tensors = load(bytes(data))
    except Exception as error:  # safetensors raises its own error types for damaged files
        raise TaskPackError(f"{source}: not a readable task pack ({error})") from error
    return _pack_from_parts(source, metadata, tensors, default_name)


def _safetensors_metadata(data: bytes, source: str) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file: 8-byte little-endian header length, then JSON."""
    if len(data) < 8:
        raise TaskPackError(f"{source}: not a task pack (too short to be a safetensors file)")
    length = int.from_bytes(data[:8], "little")
    if not 2 <= length <= min(_MAX_HEADER_BYTES, len(data) - 8):
        raise TaskPackError(f"{source}: not a task pack (damaged safetensors header)")
    try:
        header = json.loads(bytes(data[8:8 + length]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TaskPackError(f"{source}: not a task pack (damaged safetensors header: {error})") from error
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if metadata is not None and not (isinstance(metadata, dict)
                                     and all(isinstance(v, str) for v in metadata.values())):
        raise TaskPackError(f"{source}: damaged safetensors metadata")
    return dict(metadata or {})


def _pack_from_parts(path, metadata: Mapping[str, str], tensors: Mapping[str, np.ndarray],
                     default_name: str = "") -> TaskPackData:
    document = _pack_document(path, metadata)
    missing = [name for name in TENSOR_NAMES if name not in tensors]
    if missing:
        raise TaskPackError(f"{path}: missing tensors {missing}")
    try:
        pack = TaskPackData(
            prompts=tensors["prompts"], head_weight=tensors["head.weight"], head_bias=tensors["head.bias"],
            classes=list(document["classes"]), backbone=BackboneFingerprint.from_dict(document["backbone"]),
            prompt_config=document.get("prompt") or {}, preprocess=document["preprocess"],
            name=document.get("name") or default_name, training=document.get("training") or {},
            metrics=document.get("metrics") or {}, extra=document.get("extra") or {},
            rejection=document.get("rejection") or {},
            created=document.get("created") or "",
            library_version=str((document.get("library") or {}).get("version", "")),
        )
    except TaskPackError as error:
        raise TaskPackError(f"{path}: {error}") from error
    except (KeyError, TypeError, ValueError) as error:
        raise TaskPackError(f"{path}: task pack description is incomplete ({error!r})") from error
    return pack


def _pack_document(path, metadata: Mapping[str, str]) -> dict[str, Any]:
    """The pack's JSON description, checked against its schema and for a geometry the backbone can take."""
    if METADATA_KEY not in metadata:
        raise TaskPackError(f"{path}: a safetensors file, but not a task pack (no '{METADATA_KEY}' metadata)")
    try:
        document = json.loads(metadata[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise TaskPackError(f"{path}: task pack description is damaged ({error})") from error
    if not isinstance(document, dict):
        raise TaskPackError(f"{path}: task pack description must be a JSON object, got {type(document).__name__}")
    if document.get("format") != FORMAT_NAME:
        raise TaskPackError(f"{path}: unknown format {document.get('format')!r}")
    version = document.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise TaskPackError(f"{path}: written by a newer version (format {version}); please upgrade vpt-toolkit")
    check_document(document, TASK_PACK, str(path), TaskPackError)
    try:
        spec = PreprocessSpec.from_dict(document["preprocess"])
    except ConfigError as error:
        raise TaskPackError(f"{path}: preprocess: {error}") from error
    _check_patch_grid(path, spec, document["backbone"])
    return document


def _check_patch_grid(path, spec: PreprocessSpec, backbone: Mapping[str, Any]) -> None:
    """The images a pack preprocesses to must cut into the backbone's patches (unless it takes any size)."""
    if backbone["model_kwargs"].get("dynamic_img_size"):
        return
    patch_h, patch_w = backbone["patch_size"]
    grid = (spec.height // patch_h) * (spec.width // patch_w)
    if spec.height % patch_h or spec.width % patch_w or grid != backbone["num_patches"]:
        raise TaskPackError(f"{path}: preprocess.input_size {list(spec.input_size)} does not fit the backbone "
                            f"({backbone['num_patches']} patches of {patch_h}x{patch_w} pixels); the pack was "
                            "edited or damaged")
