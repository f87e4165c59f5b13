"""The bundle's input/output contract, declared once.

``backbone.onnx`` takes a batch of images, each with its own task's prompts, and
returns the pooled features; every task's linear head is applied outside the
graph::

    images       float32 [batch, channels, height, width]
    prompts      float32 [batch, prompt_layers, prompt_slots, embed_dim]
    prompt_mask  float32 [batch, prompt_slots]       1: a prompt of the image's task, 0: an unused slot
    ->
    features     float32 [batch, feature_dim]        [pooled token, mean of the patch tokens,
                                                      per-channel maximum of the patch tokens
                                                      after each block]   (2 + depth) x embed_dim

    logits = features @ head_weight.T + head_bias     (per image, with its task's head, in numpy)

Why this shape:

* **Tasks mixed in one batch.** Each image carries its own prompts, so one
  engine run can answer requests for different tasks (a serving engine merges
  them); a single task is a batch with identical rows.
* **Tasks with different prompt counts in one bundle.** A task with fewer
  prompts than the bundle has slots (even none: a linear probe) leaves the
  rest masked: masked slots get an attention bias of ``MASKED_PROMPT_BIAS``,
  which makes their softmax weight exactly zero, so the features equal a run
  without those tokens.
* **Heads outside the graph.** A head is a small matrix product; outside, the
  class count is not an engine dimension (no class-count profiles, any number
  of classes per task) and each image can use another task's head.
* **Every head reads its own columns.** A task's head reads the parts its
  ``head_features`` names (``HEAD_READS``); the other columns get zero weights,
  so tasks trained on the pooled token and tasks on the block maxima run in the
  same engine. The block maxima are there for defects: a mark covering a few
  patches shows in the maximum over the patches, at the block that sees it best,
  where the pooled token and the mean wash it out
  (benchmarks/results/accuracy/pooling_probe.md).

``batch`` is the only dynamic dimension; every other one is fixed when the
bundle is exported. The ONNX export, the runtime's input checks, TensorRT
optimisation profiles, ``trtexec`` shapes, the Triton model configuration and
the manifest all read the tables below. Torch-free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import BundleError, BundleInputError

CONTRACT_VERSION = 3
# The feature vector's parts, in order; each is embed_dim wide, "block_max" once per block (depth of them).
FEATURE_PARTS = ("pooled", "patch_mean", "block_max")
# Which parts a task's head reads (the pack's prompt configuration names it).
HEAD_READS = {"pooled": ("pooled",), "pooled+mean": ("pooled", "patch_mean"), "block_max": ("block_max",)}
HEAD_FEATURES_IF_UNRECORDED = "pooled"   # packs made before heads could read anything else
_EARLIER_CONTRACTS = {1: "one task per batch, head inside the graph", 2: "features without the block maxima"}
BATCH = "batch"
FLOAT32 = "float32"
# Added to the attention logits of unused prompt slots: exp(-1e4 - max) is exactly 0 in fp32 and fp16,
# and the value itself still fits fp16 (an engine in half precision keeps it finite).
MASKED_PROMPT_BIAS = -1.0e4


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dims: tuple[str, ...]   # symbols, resolved to sizes by BundleContract
    description: str
    dtype: str = FLOAT32


INPUTS = (
    TensorSpec("images", (BATCH, "channels", "height", "width"), "normalised images, NCHW"),
    TensorSpec("prompts", (BATCH, "prompt_layers", "prompt_slots", "embed_dim"),
               "each image's task prompts, padded with zeros to the bundle's prompt slots"),
    TensorSpec("prompt_mask", (BATCH, "prompt_slots"),
               "1 where the image's task has a prompt, 0 for an unused slot (never attended to)"),
)
OUTPUTS = (
    TensorSpec("features", (BATCH, "feature_dim"),
               "the backbone's pooled token, the mean of its patch tokens, then the per-channel maximum of the "
               "final-normed patch tokens after each block"),
)
# Smallest size of each dynamic dimension; the largest is open (TensorRT profiles choose one).
DYNAMIC_DIMS = {BATCH: 1}
IMAGE_INPUT = "images"
FEATURES_OUTPUT = "features"

_NUMPY_DTYPES = {FLOAT32: np.dtype(np.float32)}


def head_columns(head_features: str, embed_dim: int, depth: int) -> slice:
    """The feature columns a head over ``head_features`` reads (its parts are adjacent)."""
    if head_features not in HEAD_READS:
        raise BundleError(f"unknown head features {head_features!r}; this version knows {sorted(HEAD_READS)}")
    width = {"pooled": embed_dim, "patch_mean": embed_dim, "block_max": depth * embed_dim}
    parts = HEAD_READS[head_features]
    start = sum(width[part] for part in FEATURE_PARTS[:FEATURE_PARTS.index(parts[0])])
    return slice(start, start + sum(width[part] for part in parts))


def head_width(head_features: str, embed_dim: int, depth: int) -> int:
    """How many numbers a head over ``head_features`` reads."""
    columns = head_columns(head_features, embed_dim, depth)
    return columns.stop - columns.start


@dataclass(frozen=True)
class TaskTensors:
    """One task prepared for a bundle: prompts padded to the slots, head widened to the feature width.

    Arrays are contiguous, read-only float32, so a runner may keep device copies keyed on identity.
    """

    prompts: np.ndarray       # [prompt_layers, prompt_slots, embed_dim]
    prompt_mask: np.ndarray   # [prompt_slots]
    head_weight: np.ndarray   # [classes, feature_dim]
    head_bias: np.ndarray     # [classes]

    @property
    def num_classes(self) -> int:
        return int(self.head_bias.shape[0])

    @property
    def num_prompts(self) -> int:
        return int(self.prompt_mask.sum())

    def logits(self, features: np.ndarray) -> np.ndarray:
        """``[batch, feature_dim]`` features of this task's images -> ``[batch, classes]`` logits."""
        return features @ self.head_weight.T + self.head_bias


@dataclass(frozen=True)
class BundleContract:
    """The fixed sizes of one bundle; the tensor tables above give names, order and meaning."""

    channels: int
    height: int
    width: int
    prompt_layers: int
    prompt_slots: int
    embed_dim: int
    depth: int                  # blocks of the backbone: one "block_max" part each
    num_patches: int = 0        # recorded for reports (token counts); not part of any tensor shape
    num_prefix_tokens: int = 0

    def __post_init__(self) -> None:
        for name in ("channels", "height", "width", "prompt_layers", "embed_dim", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BundleError(f"contract: {name} must be a positive whole number, got {value!r}")
        if not isinstance(self.prompt_slots, int) or isinstance(self.prompt_slots, bool) or self.prompt_slots < 1:
            raise BundleError(f"contract: prompt_slots must be a positive whole number, got {self.prompt_slots!r}")

    # -- the tables, resolved ------------------------------------------------
    @property
    def feature_dim(self) -> int:
        return (2 + self.depth) * self.embed_dim

    def head_columns(self, head_features: str) -> slice:
        return head_columns(head_features, self.embed_dim, self.depth)

    @property
    def inputs(self) -> tuple[TensorSpec, ...]:
        return INPUTS

    @property
    def outputs(self) -> tuple[TensorSpec, ...]:
        return OUTPUTS

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in INPUTS]

    @property
    def output_names(self) -> list[str]:
        return [spec.name for spec in OUTPUTS]

    @property
    def prompt_shape(self) -> tuple[int, int, int]:
        """Per image, without the batch axis."""
        return self.prompt_layers, self.prompt_slots, self.embed_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.channels, self.height, self.width

    def spec(self, name: str) -> TensorSpec:
        for spec in INPUTS + OUTPUTS:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def size_of(self, symbol: str) -> int | None:
        """Fixed size of a dimension symbol; None for a dynamic one."""
        return None if symbol in DYNAMIC_DIMS else int(getattr(self, symbol))

    def symbolic_shape(self, name: str) -> tuple[int | str, ...]:
        """Shape with dynamic dimensions left as their symbol, e.g. ``('batch', 3, 224, 224)``."""
        return tuple(symbol if symbol in DYNAMIC_DIMS else self.size_of(symbol) for symbol in self.spec(name).dims)

    def concrete_shape(self, name: str, **sizes: int) -> tuple[int, ...]:
        """Shape for given dynamic sizes, e.g. ``concrete_shape('images', batch=4)``."""
        shape = []
        for symbol in self.spec(name).dims:
            if symbol in DYNAMIC_DIMS:
                if symbol not in sizes:
                    raise KeyError(f"{name} needs a size for {symbol!r}")
                shape.append(int(sizes[symbol]))
            else:
                shape.append(self.size_of(symbol))
        return tuple(shape)

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        """``{tensor: {axis: symbol}}`` for every dynamic axis of every input and output."""
        axes = {}
        for spec in INPUTS + OUTPUTS:
            dynamic = {axis: symbol for axis, symbol in enumerate(spec.dims) if symbol in DYNAMIC_DIMS}
            if dynamic:
                axes[spec.name] = dynamic
        return axes

    # -- tasks and feeds ------------------------------------------------------
    def task_tensors(self, prompts: np.ndarray, head_weight: np.ndarray, head_bias: np.ndarray,
                     source: str = "task", head_features: str = HEAD_FEATURES_IF_UNRECORDED) -> TaskTensors:
        """A task pack's tensors prepared for this bundle, or BundleError saying why they do not fit.

        Prompts ``[prompt_layers, P, embed_dim]`` with ``P <= prompt_slots`` (0 for a linear probe);
        the head reads the columns of ``head_features`` (the pack's prompt configuration says which) and
        gets zero weights for the other columns.
        """
        prompts = np.asarray(prompts, dtype=np.float32)
        layers, count, dim = _prompt_dims(prompts, source)
        if layers != self.prompt_layers or dim != self.embed_dim:
            raise BundleError(f"{source}: prompts {list(prompts.shape)} do not fit this bundle's "
                              f"[{self.prompt_layers}, <= {self.prompt_slots}, {self.embed_dim}] (prompt layers, "
                              "prompts, width); shallow and deep tasks need separate bundles")
        if count > self.prompt_slots:
            raise BundleError(f"{source}: {count} prompts, but this bundle has {self.prompt_slots} prompt slots; "
                              f"export the bundle again with --prompt-slots {count} (or more)")
        weight = np.asarray(head_weight, dtype=np.float32)
        bias = np.asarray(head_bias, dtype=np.float32)
        columns = self.head_columns(head_features)
        width = head_width(head_features, self.embed_dim, self.depth)
        if weight.ndim != 2 or weight.shape[1] != width or weight.shape[0] < 2 or bias.shape != (weight.shape[0],):
            raise BundleError(f"{source}: head {list(weight.shape)} / {list(bias.shape)} does not fit "
                              f"{head_features!r} features of width {width} with at least 2 classes")
        padded = np.zeros(self.prompt_shape, np.float32)
        padded[:, :count] = prompts
        mask = np.zeros(self.prompt_slots, np.float32)
        mask[:count] = 1.0
        wide = np.zeros((weight.shape[0], self.feature_dim), np.float32)
        wide[:, columns] = weight
        return TaskTensors(*(_frozen(array) for array in (padded, mask, wide, bias)))

    def feed(self, images: np.ndarray, tasks: TaskTensors | Sequence[TaskTensors]) -> dict[str, np.ndarray]:
        """The runner feed for ``images`` (``[batch, C, H, W]``), one task for all or one task per image."""
        batch = len(images)
        if isinstance(tasks, TaskTensors):
            prompts = np.broadcast_to(tasks.prompts, (batch, *tasks.prompts.shape))
            mask = np.broadcast_to(tasks.prompt_mask, (batch, self.prompt_slots))
        else:
            if len(tasks) != batch:
                raise BundleInputError(f"{batch} images but {len(tasks)} tasks; give one task per image")
            prompts = np.stack([task.prompts for task in tasks])
            mask = np.stack([task.prompt_mask for task in tasks])
        return {IMAGE_INPUT: np.ascontiguousarray(images, dtype=np.float32),
                "prompts": np.ascontiguousarray(prompts), "prompt_mask": np.ascontiguousarray(mask)}

    # -- checks ---------------------------------------------------------------
    def check_feed(self, feed: Mapping[str, Any],
                   limits: Mapping[str, tuple[int, int | None]] | None = None) -> dict[str, int]:
        """Refuse a feed that breaks the contract; return the dynamic sizes it uses.

        ``limits`` narrows the dynamic ranges (a TensorRT engine's profile), as
        ``{symbol: (min, max or None)}``.
        """
        ranges = {symbol: (low, None) for symbol, low in DYNAMIC_DIMS.items()}
        ranges.update(limits or {})
        missing = [spec.name for spec in INPUTS if spec.name not in feed]
        extra = sorted(set(feed) - {spec.name for spec in INPUTS})
        if missing or extra:
            raise BundleInputError(f"inputs must be exactly {self.input_names}; missing {missing}, unexpected {extra}")
        sizes: dict[str, int] = {}
        for spec in INPUTS:
            self._check_tensor(spec, feed[spec.name], sizes)
        for symbol, size in sizes.items():
            low, high = ranges[symbol]
            if size < low or (high is not None and size > high):
                bound = f"{low}..{high}" if high is not None else f"at least {low}"
                raise BundleInputError(f"{symbol} is {size}, but this runner accepts {bound}")
        mask = feed["prompt_mask"]
        if not np.all((mask == 0.0) | (mask == 1.0)):
            raise BundleInputError("prompt_mask must hold only 0 and 1")
        return sizes

    def _check_tensor(self, spec: TensorSpec, value: Any, sizes: dict[str, int]) -> None:
        if not isinstance(value, np.ndarray):
            raise BundleInputError(f"input {spec.name!r} must be a numpy array, got {type(value).__name__}")
        if value.dtype != _NUMPY_DTYPES[spec.dtype]:
            raise BundleInputError(f"input {spec.name!r} must be {spec.dtype}, got {value.dtype}")
        expected = self.symbolic_shape(spec.name)
        if value.ndim != len(expected):
            raise BundleInputError(f"input {spec.name!r} must have shape {list(expected)}, got {list(value.shape)}")
        for axis, (symbol, size) in enumerate(zip(spec.dims, value.shape)):
            if symbol not in DYNAMIC_DIMS:
                if size != expected[axis]:
                    raise BundleInputError(
                        f"input {spec.name!r} must have shape {list(expected)}, got {list(value.shape)} "
                        f"({symbol} is {expected[axis]} in this bundle)")
            elif sizes.setdefault(symbol, int(size)) != size:
                raise BundleInputError(f"{symbol} differs between inputs: {sizes[symbol]} and {size} ({spec.name!r})")

    # -- serialisation -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Sizes plus the resolved tensor tables, so a reader without this code sees the whole contract."""
        document: dict[str, Any] = {"version": CONTRACT_VERSION, **asdict(self), "feature_dim": self.feature_dim,
                                    "feature_parts": list(FEATURE_PARTS)}
        document["inputs"] = [self._describe(spec) for spec in INPUTS]
        document["outputs"] = [self._describe(spec) for spec in OUTPUTS]
        document["dynamic_dims"] = {symbol: {"min": low} for symbol, low in DYNAMIC_DIMS.items()}
        document["head"] = "applied outside the graph: logits = features @ head_weight.T + head_bias"
        return document

    def _describe(self, spec: TensorSpec) -> dict[str, Any]:
        return {"name": spec.name, "dtype": spec.dtype, "shape": list(self.symbolic_shape(spec.name)),
                "description": spec.description}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "BundleContract":
        if not isinstance(document, Mapping):
            raise BundleError(f"the bundle's contract must be a JSON object, got {type(document).__name__}")
        version = document.get("version", 1)
        if version != CONTRACT_VERSION:
            before = _EARLIER_CONTRACTS.get(version, "unknown to this version")
            raise BundleError(
                f"the bundle was exported with input contract {version!r} ({before}); this version runs contract "
                f"{CONTRACT_VERSION} (tasks mixed in a batch, features {' + '.join(FEATURE_PARTS)}). Re-export it "
                "with 'vpt export' from the same task packs (they are unchanged)")
        try:
            contract = cls(**{f.name: _whole(document[f.name], f.name) for f in fields(cls) if f.name in document})
        except (TypeError, KeyError) as error:
            raise BundleError(f"the bundle's contract is incomplete ({error})") from error
        recorded = [entry.get("name") for entry in document.get("inputs", []) if isinstance(entry, Mapping)]
        if recorded and recorded != contract.input_names:
            raise BundleError(f"the bundle's inputs are {recorded}, but this version of the runtime expects "
                              f"{contract.input_names}; re-export the bundle with this version")
        return contract

    @classmethod
    def for_backbone(cls, image_shape: Sequence[int], prompt_layers: int, prompt_slots: int, embed_dim: int,
                     num_patches: int = 0, num_prefix_tokens: int = 0, depth: int | None = None) -> "BundleContract":
        """``depth`` defaults to ``prompt_layers`` (deep prompts: one layer of prompts per block)."""
        channels, height, width = (int(v) for v in image_shape)
        return cls(channels, height, width, int(prompt_layers), int(prompt_slots), int(embed_dim),
                   int(depth if depth is not None else prompt_layers), int(num_patches), int(num_prefix_tokens))

    def describe(self) -> str:
        return (f"images [batch, {self.channels}, {self.height}, {self.width}], prompts [batch, "
                f"{self.prompt_layers}, {self.prompt_slots}, {self.embed_dim}] -> features [batch, "
                f"{self.feature_dim}]")


def _prompt_dims(prompts: np.ndarray, source: str) -> tuple[int, int, int]:
    if prompts.ndim != 3:
        raise BundleError(f"{source}: prompts must be [layers, prompts, width], got shape {list(prompts.shape)}")
    return tuple(int(v) for v in prompts.shape)


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BundleError(f"the bundle's contract: {name} must be a whole number, got {value!r}")
    return value


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float32).copy()
    array.setflags(write=False)
    return array
