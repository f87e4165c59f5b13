"""The bundle's input/output contract, declared once.

``backbone.onnx`` takes an image batch plus one task's tensors and returns that
task's logits and the pooled features::

    images      float32 [batch, channels, height, width]
    prompts     float32 [prompt_layers, num_prompts, embed_dim]
    head_weight float32 [classes, embed_dim]
    head_bias   float32 [classes]
    ->
    logits      float32 [batch, classes]
    features    float32 [batch, embed_dim]

``batch`` and ``classes`` are dynamic; every other dimension is fixed when the
bundle is exported. The ONNX export, the runtime's input checks, TensorRT
optimisation profiles, ``trtexec`` shapes and the manifest all read the tables
below, so a name or an axis cannot drift between them. Torch-free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

import numpy as np

from .errors import BundleError, BundleInputError

BATCH = "batch"
CLASSES = "classes"
FLOAT32 = "float32"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dims: tuple[str, ...]   # symbols, resolved to sizes by BundleContract
    description: str
    dtype: str = FLOAT32


INPUTS = (
    TensorSpec("images", (BATCH, "channels", "height", "width"), "normalised images, NCHW"),
    TensorSpec("prompts", ("prompt_layers", "num_prompts", "embed_dim"), "the task's prompt tokens"),
    TensorSpec("head_weight", (CLASSES, "embed_dim"), "the task's linear head, weight"),
    TensorSpec("head_bias", (CLASSES,), "the task's linear head, bias"),
)
OUTPUTS = (
    TensorSpec("logits", (BATCH, CLASSES), "class scores before softmax"),
    TensorSpec("features", (BATCH, "embed_dim"), "pooled features of the prompted backbone"),
)
# Smallest size of each dynamic dimension; the largest is open (TensorRT profiles choose one).
DYNAMIC_DIMS = {BATCH: 1, CLASSES: 2}
# Which pack tensor feeds which input.
TASK_INPUTS = {"prompts": "prompts", "head_weight": "head_weight", "head_bias": "head_bias"}
IMAGE_INPUT = "images"

_NUMPY_DTYPES = {FLOAT32: np.dtype(np.float32)}


@dataclass(frozen=True)
class BundleContract:
    """The fixed sizes of one bundle; the tensor tables above give names, order and meaning."""

    channels: int
    height: int
    width: int
    prompt_layers: int
    num_prompts: int
    embed_dim: int
    num_patches: int = 0        # recorded for reports (token counts); not part of any tensor shape
    num_prefix_tokens: int = 0

    def __post_init__(self) -> None:
        for name in ("channels", "height", "width", "prompt_layers", "num_prompts", "embed_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise BundleError(f"contract: {name} must be a positive whole number, got {value!r}")

    # -- the tables, resolved ------------------------------------------------
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
        return self.prompt_layers, self.num_prompts, self.embed_dim

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

    def check_prompt_shape(self, shape: tuple[int, ...], source: str) -> None:
        if tuple(shape) != self.prompt_shape:
            raise BundleError(f"{source}: prompt tensor {list(shape)} does not fit this bundle's "
                              f"{list(self.prompt_shape)} (prompt layers, prompts, width)")

    # -- serialisation -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Sizes plus the resolved tensor tables, so a reader without this code sees the whole contract."""
        document: dict[str, Any] = asdict(self)
        document["inputs"] = [self._describe(spec) for spec in INPUTS]
        document["outputs"] = [self._describe(spec) for spec in OUTPUTS]
        document["dynamic_dims"] = {symbol: {"min": low} for symbol, low in DYNAMIC_DIMS.items()}
        return document

    def _describe(self, spec: TensorSpec) -> dict[str, Any]:
        return {"name": spec.name, "dtype": spec.dtype, "shape": list(self.symbolic_shape(spec.name)),
                "description": spec.description}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "BundleContract":
        try:
            contract = cls(**{f.name: int(document[f.name]) for f in fields(cls) if f.name in document})
        except (TypeError, ValueError, KeyError) as error:
            raise BundleError(f"the bundle's contract is incomplete ({error})") from error
        recorded = [entry.get("name") for entry in document.get("inputs", [])]
        if recorded and recorded != contract.input_names:
            raise BundleError(f"the bundle's inputs are {recorded}, but this version of the runtime expects "
                              f"{contract.input_names}; re-export the bundle with this version")
        return contract

    @classmethod
    def for_task(cls, image_shape: tuple[int, int, int], prompt_shape: tuple[int, int, int],
                 num_patches: int = 0, num_prefix_tokens: int = 0) -> "BundleContract":
        channels, height, width = (int(v) for v in image_shape)
        layers, prompts, dim = (int(v) for v in prompt_shape)
        return cls(channels, height, width, layers, prompts, dim, int(num_patches), int(num_prefix_tokens))

    def describe(self) -> str:
        return (f"images [batch, {self.channels}, {self.height}, {self.width}], prompts {list(self.prompt_shape)}, "
                f"head [classes, {self.embed_dim}]")


def task_feed(prompts: np.ndarray, head_weight: np.ndarray, head_bias: np.ndarray) -> dict[str, np.ndarray]:
    """The three task inputs as contiguous, read-only float32 arrays.

    Read-only so a runner may keep a device copy keyed on the array's identity.
    """
    feed = {}
    for name, array in (("prompts", prompts), ("head_weight", head_weight), ("head_bias", head_bias)):
        array = np.ascontiguousarray(array, dtype=np.float32).copy()
        array.setflags(write=False)
        feed[TASK_INPUTS[name]] = array
    return feed
