"""What a bundle's ``backbone.onnx`` must satisfy before anyone deploys it.

* the ONNX full checker and strict shape inference pass;
* inputs and outputs are exactly the contract's (names, order, dtypes, fixed
  sizes, symbolic batch and class dimensions);
* opset 17 (LayerNormalization) to 20 (the newest TensorRT 10.0 parses);
* every node is a standard ONNX operator that TensorRT 10's ONNX parser
  supports (list below), with constant ``axes`` where the parser requires it.

Torch-free: it needs only the ``onnx`` package.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass, field
from typing import Any

from vpt_core.contract import DYNAMIC_DIMS, BundleContract
from vpt_core.errors import UnsupportedGraphError

MIN_OPSET = 17   # first opset with LayerNormalization, which TensorRT maps to one normalisation layer
MAX_OPSET = 20   # TensorRT 10.0 parses opsets 9 to 20

# Standard-domain operators that TensorRT's ONNX parser supports, from the
# operator matrix of onnx-tensorrt (docs/operators.md; the TensorRT 9.2 table,
# which 10.x keeps). Operators added only in later releases (Attention, Gelu,
# RMSNormalization, ...) are left out on purpose: a bundle must build on the
# TensorRT 10.x that JetPack 6 ships.
TENSORRT_ONNX_OPS = frozenset("""
Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization Cast CastLike Ceil Celu
Clip Concat Constant ConstantOfShape Conv ConvTranspose Cos Cosh CumSum DepthToSpace DequantizeLinear Div Dropout
Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor Gather GatherElements GatherND Gemm GlobalAveragePool
GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization GRU HardSigmoid HardSwish Hardmax
Identity If ImageScaler InstanceNormalization IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log
LogSoftmax Loop LRN LSTM LpNormalization LpPool MatMul Max MaxPool Mean MeanVarianceNormalization Min Mod Mul Neg
NonMaxSuppression NonZero Not OneHot Or Pad ParametricSoftplus Pow PRelu QuantizeLinear RandomNormal
RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RNN
RoiAlign Round ScaledTanh Scan Scatter ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size
Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK
Transpose Trilu Unsqueeze Upsample Where Xor
""".split())

# Inputs the parser needs as build-time constants: {op: input index}.
CONSTANT_INPUTS = {"Slice": (3,), "Squeeze": (1,), "Unsqueeze": (1,),
                   **{op: (1,) for op in TENSORRT_ONNX_OPS if op.startswith("Reduce")}}

# Numerically sensitive operators kept in fp32 when the rest of the engine runs in fp16.
FP32_SENSITIVE_OPS = frozenset({"LayerNormalization", "Softmax", "LogSoftmax",
                                *(op for op in TENSORRT_ONNX_OPS if op.startswith("Reduce"))})

_ONNX_FLOAT = 1  # TensorProto.FLOAT


@dataclass
class GraphReport:
    opset: int
    node_count: int
    op_counts: dict[str, int]
    fp32_node_names: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"opset": self.opset, "nodes": self.node_count, "operators": dict(sorted(self.op_counts.items())),
                "fp32_nodes": len(self.fp32_node_names)}


def load_model(path: str | os.PathLike):
    import onnx

    try:
        return onnx.load(str(path))
    except FileNotFoundError as error:
        raise UnsupportedGraphError(f"{path}: ONNX file not found") from error
    except Exception as error:  # protobuf raises DecodeError and friends for a damaged file
        raise UnsupportedGraphError(f"{path}: not a readable ONNX model ({type(error).__name__}: {error})") from error


def check_backbone_model(path: str | os.PathLike, contract: BundleContract) -> GraphReport:
    """Run every check on the file at ``path``; raise UnsupportedGraphError naming the first failure."""
    import onnx

    model = load_model(path)
    try:
        onnx.checker.check_model(str(path), full_check=True)
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as error:
        raise UnsupportedGraphError(f"{path}: fails the ONNX checker or shape inference ({error})") from error
    opset = default_opset(model)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise UnsupportedGraphError(f"{path}: opset {opset}; bundles need opset {MIN_OPSET} to {MAX_OPSET}")
    check_io(model, contract, str(path))
    check_tensorrt_operators(model, str(path))
    counts = collections.Counter(node.op_type for node in model.graph.node)
    return GraphReport(opset=opset, node_count=len(model.graph.node), op_counts=dict(counts),
                       fp32_node_names=fp32_sensitive_node_names(model))


def default_opset(model) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return 0


def check_io(model, contract: BundleContract, source: str) -> None:
    """Graph inputs and outputs must be the contract's, in order, with symbolic dynamic axes."""
    initializers = {init.name for init in model.graph.initializer}
    graph_inputs = [value for value in model.graph.input if value.name not in initializers]
    for kind, values, specs in (("inputs", graph_inputs, contract.inputs),
                                ("outputs", list(model.graph.output), contract.outputs)):
        names = [value.name for value in values]
        expected = [spec.name for spec in specs]
        if names != expected:
            raise UnsupportedGraphError(f"{source}: graph {kind} are {names}, the contract says {expected}")
        for value in values:
            _check_value_shape(value, contract, source)


def _check_value_shape(value, contract: BundleContract, source: str) -> None:
    tensor_type = value.type.tensor_type
    if tensor_type.elem_type != _ONNX_FLOAT:
        raise UnsupportedGraphError(f"{source}: {value.name!r} must be float32 (ONNX type {tensor_type.elem_type})")
    expected = contract.symbolic_shape(value.name)
    actual = [dim.dim_param or dim.dim_value for dim in tensor_type.shape.dim]
    if len(actual) != len(expected):
        raise UnsupportedGraphError(f"{source}: {value.name!r} has shape {actual}, the contract says {list(expected)}")
    for got, want in zip(actual, expected):
        if want in DYNAMIC_DIMS:
            if not isinstance(got, str) or got != want:
                raise UnsupportedGraphError(
                    f"{source}: {value.name!r} has shape {actual}; axis {want!r} must be dynamic and named {want!r}")
        elif got != want:
            raise UnsupportedGraphError(f"{source}: {value.name!r} has shape {actual}, the contract says "
                                        f"{list(expected)}")


def unsupported_operators(model) -> list[str]:
    """``domain::op`` for every node TensorRT's parser would not take, sorted and unique."""
    bad = set()
    for node in _all_nodes(model.graph):
        if node.domain not in ("", "ai.onnx") or node.op_type not in TENSORRT_ONNX_OPS:
            bad.add(f"{node.domain or 'ai.onnx'}::{node.op_type}")
    return sorted(bad)


def check_tensorrt_operators(model, source: str) -> None:
    bad = unsupported_operators(model)
    if bad:
        raise UnsupportedGraphError(f"{source}: operators TensorRT's ONNX parser does not support: {', '.join(bad)}")
    constants = {init.name for init in model.graph.initializer}
    constants |= {out for node in model.graph.node if node.op_type == "Constant" for out in node.output}
    for node in _all_nodes(model.graph):
        for index in CONSTANT_INPUTS.get(node.op_type, ()):
            if index < len(node.input) and node.input[index] and node.input[index] not in constants:
                raise UnsupportedGraphError(
                    f"{source}: node {node.name!r} ({node.op_type}) takes its axes from a computed tensor; "
                    "TensorRT needs them constant")


def fp32_sensitive_node_names(model) -> list[str]:
    """Names of the LayerNorm, Softmax and reduction nodes, in graph order (for ``trtexec --layerPrecisions``)."""
    return [node.name for node in model.graph.node if node.op_type in FP32_SENSITIVE_OPS and node.name]


def name_unnamed_nodes(model) -> int:
    """Give every top-level node a unique name (TensorRT names its layers after them); returns how many changed."""
    used = {node.name for node in model.graph.node if node.name}
    changed = 0
    for index, node in enumerate(model.graph.node):
        if node.name:
            continue
        candidate = f"{node.op_type}_{index}"
        while candidate in used:
            candidate += "_"
        node.name = candidate
        used.add(candidate)
        changed += 1
    return changed


def _all_nodes(graph):
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.HasField("g"):
                yield from _all_nodes(attribute.g)
            for sub in attribute.graphs:
                yield from _all_nodes(sub)
