"""Prompt configuration: how many prompt tokens, where, and how they start."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Mapping

from vpt_core.contract import HEAD_FEATURES_IF_UNRECORDED, head_width
from vpt_core.errors import ConfigError


class PromptDepth(str, Enum):
    """Shallow: one prompt set before block 0. Deep: a set per block (VPT-deep)."""

    SHALLOW = "shallow"
    DEEP = "deep"


class PromptInit(str, Enum):
    """How prompt tokens start (Jia et al. 2022; Wang et al. ICML 2024)."""

    RANDOM = "random"        # VPT's xavier-uniform
    SAMPLE = "sample"        # tokens drawn from the task's own patch tokens
    MEAN_POOL = "mean_pool"  # window means of the patch sequence
    MAX_POOL = "max_pool"    # window maxima of the patch sequence
    KMEANS = "kmeans"        # k-means centroids of the patch tokens

    @property
    def uses_prototypes(self) -> bool:
        return self is not PromptInit.RANDOM


class HeadFeatures(str, Enum):
    """What the linear head reads from the prompted backbone: parts of the bundle's features
    (``vpt_core.contract.HEAD_READS``), so every head fits every bundle of its backbone."""

    POOLED = "pooled"                 # the backbone's own pooling (CLS token for most ViTs)
    POOLED_AND_MEAN = "pooled+mean"   # that, followed by the mean of the patch tokens
    # The per-channel maximum over the (final-normed) patch tokens after each block: a defect covering a few
    # patches shows in the maximum, at the depth that sees it best, where the CLS token and the mean wash it
    # out (benchmarks/results/accuracy/pooling_probe.md).
    BLOCK_MAX = "block_max"

    def width(self, embed_dim: int, depth: int) -> int:
        return head_width(self.value, embed_dim, depth)


class HeadInit(str, Enum):
    NORMAL = "normal"          # truncated normal, std 0.02
    CLASS_MEAN = "class_mean"  # normalised class-mean features of the frozen backbone
    PROBE = "probe"            # a linear probe fitted on the starting features (then trained with the prompts)


def parse_enum(enum_type: type[Enum], value: Any, what: str) -> Enum:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in enum_type)
        raise ConfigError(f"unknown {what} {value!r}; choose one of: {choices}") from None


@dataclass(frozen=True)
class PromptConfig:
    num_prompts: int = 10
    depth: PromptDepth = PromptDepth.DEEP
    init: PromptInit = PromptInit.RANDOM          # measured default: see README, Benchmarks
    head_init: HeadInit = HeadInit.NORMAL
    head_features: HeadFeatures = HeadFeatures.BLOCK_MAX   # measured default: see README, Benchmarks
    dropout: float = 0.0
    # Per-layer cap on tokens held for prototype initialisation (reservoir sampled),
    # so memory stays bounded whatever the number of images.
    token_pool_cap: int = 16384
    kmeans_iterations: int = 25

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", parse_enum(PromptDepth, self.depth, "prompt depth"))
        object.__setattr__(self, "init", parse_enum(PromptInit, self.init, "prompt initialisation"))
        object.__setattr__(self, "head_init", parse_enum(HeadInit, self.head_init, "head initialisation"))
        object.__setattr__(self, "head_features", parse_enum(HeadFeatures, self.head_features, "head features"))
        if not isinstance(self.num_prompts, int) or isinstance(self.num_prompts, bool) \
                or not 0 <= self.num_prompts <= 1024:
            raise ConfigError(f"number of prompts must be between 0 (a linear probe) and 1024, "
                              f"got {self.num_prompts!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"prompt dropout must be in [0, 1), got {self.dropout}")
        if self.token_pool_cap < self.num_prompts:
            raise ConfigError(f"token_pool_cap ({self.token_pool_cap}) must be at least num_prompts")
        if self.kmeans_iterations < 1:
            raise ConfigError("kmeans_iterations must be at least 1")

    @property
    def uses_prompts(self) -> bool:
        return self.num_prompts > 0

    @property
    def deep(self) -> bool:
        return self.depth is PromptDepth.DEEP

    def prompt_layers(self, backbone_depth: int) -> int:
        return backbone_depth if self.deep else 1

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        for key in ("depth", "init", "head_init", "head_features"):
            document[key] = document[key].value
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "PromptConfig":
        """A recorded configuration; one from before ``head_features`` existed had a head on the pooled token."""
        known = cls.__dataclass_fields__
        values = {k: v for k, v in document.items() if k in known}
        values.setdefault("head_features", HEAD_FEATURES_IF_UNRECORDED)
        return cls(**values)
