"""TensorRT optimisation profiles and ``trtexec`` commands, derived from the contract.

Pure Python (no tensorrt import): the engine builder, ``build_engine.sh``, the
ONNX Runtime TensorRT provider and the engine sidecar all take their shapes from
one :class:`ShapeProfile`, which takes them from the contract.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from vpt_core.contract import BATCH, DYNAMIC_DIMS, BundleContract
from vpt_core.errors import VptError

DEFAULT_MAX_BATCH = 8
PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class DimRange:
    min: int
    opt: int
    max: int

    def __post_init__(self) -> None:
        if not 1 <= self.min <= self.opt <= self.max:
            raise VptError(f"a profile range needs 1 <= min <= opt <= max, got {self.min}/{self.opt}/{self.max}")

    def as_list(self) -> list[int]:
        return [self.min, self.opt, self.max]


@dataclass(frozen=True)
class ShapeProfile:
    """Min/opt/max of every dynamic dimension; fixed dimensions come from the contract."""

    contract: BundleContract
    ranges: Mapping[str, DimRange]

    @classmethod
    def from_contract(cls, contract: BundleContract, max_batch: int = DEFAULT_MAX_BATCH,
                      opt_batch: int = 1) -> "ShapeProfile":
        """Batch 1..max_batch, optimised for ``opt_batch`` (heads are outside the engine: no class axis)."""
        low_batch = DYNAMIC_DIMS[BATCH]
        if not isinstance(max_batch, int) or max_batch < low_batch:
            raise VptError(f"--max-batch must be a whole number of at least {low_batch}, got {max_batch!r}")
        return cls(contract, {BATCH: DimRange(low_batch, min(max(opt_batch, low_batch), max_batch), max_batch)})

    def input_shapes(self) -> dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
        """``{input: (min_shape, opt_shape, max_shape)}`` for every input of the contract."""
        shapes = {}
        for spec in self.contract.inputs:
            picks = [{symbol: getattr(r, which) for symbol, r in self.ranges.items()} for which in ("min", "opt", "max")]
            shapes[spec.name] = tuple(self.contract.concrete_shape(spec.name, **pick) for pick in picks)
        return shapes

    def max_shape(self, name: str) -> tuple[int, ...]:
        return self.contract.concrete_shape(name, **{symbol: r.max for symbol, r in self.ranges.items()})

    def limits(self) -> dict[str, tuple[int, int]]:
        return {symbol: (r.min, r.max) for symbol, r in self.ranges.items()}

    def to_dict(self) -> dict[str, list[int]]:
        return {symbol: r.as_list() for symbol, r in self.ranges.items()}

    @classmethod
    def from_engine(cls, contract: BundleContract, engine, source: str = "engine") -> "ShapeProfile":
        """The shapes a deserialized TensorRT engine really accepts (its first optimisation profile).

        Every input must have the contract's fixed dimensions in its min, opt and max shapes, and all inputs
        must agree on the batch range; the result is what the engine was built with, whatever a command
        line said.
        """
        if getattr(engine, "num_optimization_profiles", 1) < 1:
            raise VptError(f"{source}: the engine has no optimisation profile")
        batch = None
        for spec in contract.inputs:
            try:
                low, opt, high = (tuple(int(v) for v in dims) for dims in engine.get_tensor_profile_shape(spec.name, 0))
            except Exception as error:   # the bindings raise RuntimeError/TypeError/ValueError for unknown tensors
                raise VptError(f"{source}: no profile shapes for input {spec.name!r} ({error})") from error
            ranges = DimRange(low[0], opt[0], high[0])
            expected = contract.concrete_shape(spec.name, batch=1)[1:]
            if any(shape[1:] != expected for shape in (low, opt, high)):
                raise VptError(f"{source}: input {spec.name!r} has profile shapes {list(low)}/{list(opt)}/"
                               f"{list(high)}; the bundle's contract needs [batch, {', '.join(map(str, expected))}]")
            if batch is not None and ranges != batch:
                raise VptError(f"{source}: inputs disagree on the batch range ({batch.as_list()} vs "
                               f"{ranges.as_list()} for {spec.name!r})")
            batch = ranges
        return cls(contract, {BATCH: batch})

    @classmethod
    def from_dict(cls, contract: BundleContract, document: Mapping[str, Sequence[int]]) -> "ShapeProfile":
        try:
            return cls(contract, {symbol: DimRange(*(int(v) for v in document[symbol])) for symbol in DYNAMIC_DIMS})
        except (KeyError, TypeError, ValueError) as error:
            raise VptError(f"engine profile is incomplete ({error!r})") from error


def shape_spec(shapes: Mapping[str, Sequence[int]]) -> str:
    """``images:1x3x224x224,prompts:1x12x10x384,...`` as trtexec and ONNX Runtime's TensorRT provider read it."""
    return ",".join(f"{name}:{'x'.join(str(int(v)) for v in shape)}" for name, shape in shapes.items())


def trtexec_shape_flags(profile: ShapeProfile) -> list[str]:
    shapes = profile.input_shapes()
    return [f"--{which}Shapes={shape_spec({name: triple[index] for name, triple in shapes.items()})}"
            for index, which in enumerate(("min", "opt", "max"))]


def trtexec_precision_flags(precision: str, fp32_layer_names: Sequence[str]) -> list[str]:
    """fp16 with the numerically sensitive layers (LayerNorm, Softmax, reductions) held in fp32."""
    if precision == "fp32":
        return []
    if precision != "fp16":
        raise VptError(f"trtexec builds fp32 or fp16 engines here; use 'vpt deploy build-engine --int8' for INT8 "
                       f"(it needs calibration images), got {precision!r}")
    flags = ["--fp16"]
    if fp32_layer_names:
        spec = ",".join(f"{name}:fp32" for name in fp32_layer_names)
        flags += ["--precisionConstraints=obey", f"--layerPrecisions={spec}", f"--layerOutputTypes={spec}"]
    return flags


def trtexec_command(onnx_file: str, engine_file: str, profile: ShapeProfile, precision: str,
                    fp32_layer_names: Sequence[str], timing_cache: str, trtexec: str = "trtexec") -> list[str]:
    return [trtexec, f"--onnx={onnx_file}", f"--saveEngine={engine_file}", *trtexec_shape_flags(profile),
            *trtexec_precision_flags(precision, fp32_layer_names), f"--timingCacheFile={timing_cache}"]


def format_command(command: Sequence[str]) -> str:
    return " ".join(shlex.quote(part) for part in command)


def ort_tensorrt_options(profile: ShapeProfile, cache_dir: str, fp16: bool = True) -> dict[str, Any]:
    """Options for ONNX Runtime's TensorrtExecutionProvider: the same profile, engines cached on disk."""
    shapes = profile.input_shapes()
    options = {f"trt_profile_{which}_shapes": shape_spec({name: triple[index] for name, triple in shapes.items()})
               for index, which in enumerate(("min", "opt", "max"))}
    options.update({"trt_fp16_enable": fp16, "trt_engine_cache_enable": True, "trt_engine_cache_path": cache_dir,
                    "trt_timing_cache_enable": True, "trt_timing_cache_path": cache_dir})
    return options
