"""What a benchmark grid measures: shots, seeds, prompt variants and baselines.

A *method* is one way to build a classifier from k images per class: a VPT
variant (initialisation, prompt count, depth; ``auto`` for any of the first two
means "chosen by :mod:`vpt_engine.autoselect`") or a baseline on the frozen
backbone. A *cell* is one method on one (shots, seed) split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator

from vpt_core.errors import ConfigError
from ..prompts import HeadFeatures, HeadInit, PromptConfig, PromptDepth, PromptInit, parse_enum
from ..train_config import TrainConfig

AUTO = "auto"
FIXED_INITS = tuple(member.value for member in PromptInit)


class Baseline(str, Enum):
    LINEAR = "linear"            # L2 logistic regression on the frozen pooled token, penalty by cross-validation
    CLASS_MEAN = "class_mean"    # nearest class mean (cosine) on the frozen pooled token
    LINEAR_WIDE = "linear_wide"  # the linear probe on the frozen pooled token and mean patch token
    LINEAR_MAX = "linear_max"    # the linear probe on the frozen block maxima (the default head's features)
    FULL = "full"                # fine-tune the whole backbone and a head (slow)


@dataclass(frozen=True)
class VptMethod:
    init: str                 # a PromptInit value, or "auto"
    num_prompts: int | str    # a count, or "auto"
    depth: PromptDepth

    @property
    def name(self) -> str:
        return f"vpt-{self.depth.value}-{self.num_prompts}-{self.init}"

    @property
    def is_auto(self) -> bool:
        return self.init == AUTO or self.num_prompts == AUTO


@dataclass(frozen=True)
class BaselineMethod:
    baseline: Baseline

    @property
    def name(self) -> str:
        return self.baseline.value

    is_auto = False


Method = VptMethod | BaselineMethod


@dataclass(frozen=True)
class FullFinetuneConfig:
    """Full fine-tuning baseline; epochs, batch size, schedule and augmentation come from the TrainConfig."""

    learning_rate: float = 1e-4
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.05

    def __post_init__(self) -> None:
        for name in ("learning_rate", "head_learning_rate"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"full fine-tuning {name} must be in (0, 1), got {getattr(self, name)}")
        if self.weight_decay < 0:
            raise ConfigError(f"full fine-tuning weight_decay must be >= 0, got {self.weight_decay}")


@dataclass(frozen=True)
class BenchConfig:
    shots: tuple[int, ...] = (1, 5, 10)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    inits: tuple[str, ...] = FIXED_INITS
    prompts: tuple[int | str, ...] = (10,)
    depths: tuple[PromptDepth, ...] = (PromptDepth.DEEP,)
    baselines: tuple[Baseline, ...] = (Baseline.LINEAR, Baseline.CLASS_MEAN)
    head_init: HeadInit = PromptConfig().head_init
    head_features: HeadFeatures = PromptConfig().head_features
    train: TrainConfig = field(default_factory=TrainConfig)
    auto: Any = None               # autoselect.AutoSelectConfig for auto cells (its choose_* flags are set per cell)
    full_finetune: FullFinetuneConfig = field(default_factory=FullFinetuneConfig)
    eval_batch_size: int = 64
    extra_methods: tuple[VptMethod, ...] = ()   # single variants outside the cross product, e.g. auto/auto
    test_cap_per_class: int | None = None       # exploratory sweeps only; None = every remaining image (see splits)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "extra_methods", tuple(VptMethod(_parse_init(m.init), _parse_prompt_count(m.num_prompts),
                                                    parse_enum(PromptDepth, m.depth, "prompt depth"))
                                          for m in self.extra_methods))
        set_(self, "shots", _unique_ints(self.shots, "shots", minimum=1))
        set_(self, "seeds", _unique_ints(self.seeds, "seeds", minimum=0))
        set_(self, "inits", tuple(_parse_init(v) for v in _unique(self.inits, "inits", allow_empty=True)))
        set_(self, "prompts", tuple(_parse_prompt_count(v) for v in _unique(self.prompts, "prompts")))
        set_(self, "depths", tuple(parse_enum(PromptDepth, v, "prompt depth") for v in _unique(self.depths, "depths")))
        set_(self, "baselines", tuple(parse_enum(Baseline, v, "baseline") for v in _unique(self.baselines, "baselines",
                                                                                          allow_empty=True)))
        set_(self, "head_init", parse_enum(HeadInit, self.head_init, "head initialisation"))
        set_(self, "head_features", parse_enum(HeadFeatures, self.head_features, "head features"))
        if not self.vpt_methods() and not self.baselines:
            raise ConfigError("the benchmark has nothing to run: give at least one initialisation or baseline")
        if self.test_cap_per_class is not None and self.test_cap_per_class < 1:
            raise ConfigError(f"test_cap_per_class must be None or at least 1, got {self.test_cap_per_class}")
        if self.eval_batch_size < 1:
            raise ConfigError(f"eval_batch_size must be at least 1, got {self.eval_batch_size}")
        if any(m.is_auto for m in self.vpt_methods()) and self.auto is None:
            from ..autoselect import AutoSelectConfig

            set_(self, "auto", AutoSelectConfig())

    def vpt_methods(self) -> list[VptMethod]:
        grid = [VptMethod(init, count, depth) for depth in self.depths for count in self.prompts
                for init in self.inits]
        return grid + [m for m in self.extra_methods if m not in grid]

    def methods(self) -> list[Method]:
        """Cheap baselines first, so their numbers are there early."""
        return [BaselineMethod(b) for b in self.baselines] + list(self.vpt_methods())

    def cells(self) -> Iterator[tuple[int, int, Method]]:
        """(seed, shots, method), seed-major: the first seeds finish completely before later ones start."""
        for seed in self.seeds:
            for shots in self.shots:
                for method in self.methods():
                    yield seed, shots, method


def cell_key(shots: int, seed: int, method: Method) -> str:
    return f"k{shots}-s{seed}-{method.name}"


def parse_list(text: str, what: str) -> list[str]:
    """'a, b,c' -> ['a', 'b', 'c']; an empty item is an error naming the option."""
    items = [item.strip() for item in str(text).split(",")]
    if any(not item for item in items):
        raise ConfigError(f"{what}: expected a comma-separated list such as 1,5,10, got {text!r}")
    return items


def _parse_init(value: Any) -> str:
    text = str(getattr(value, "value", value)).strip().lower()
    if text != AUTO and text not in FIXED_INITS:
        raise ConfigError(f"unknown prompt initialisation {value!r}; choose from {', '.join(FIXED_INITS)} or auto")
    return text


def _parse_prompt_count(value: Any) -> int | str:
    if str(value).strip().lower() == AUTO:
        return AUTO
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"prompt count must be a whole number or 'auto', got {value!r}") from None
    if not 0 <= count <= 1024 or str(count) != str(value).strip():
        raise ConfigError(f"prompt count must be a whole number between 0 and 1024, got {value!r}")
    return count


def _unique(values, what: str, allow_empty: bool = False) -> tuple:
    values = tuple(values)
    if not values and not allow_empty:
        raise ConfigError(f"{what}: give at least one value")
    if len(set(map(str, values))) != len(values):
        raise ConfigError(f"{what}: repeated values in {list(values)}")
    return values


def _unique_ints(values, what: str, minimum: int) -> tuple[int, ...]:
    out = []
    for value in _unique(values, what):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{what}: {value!r} is not a whole number") from None
        if number < minimum or str(number) != str(value).strip():
            raise ConfigError(f"{what}: {value!r} must be a whole number of at least {minimum}")
        out.append(number)
    return tuple(out)
