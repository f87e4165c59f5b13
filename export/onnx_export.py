"""Export the frozen backbone to ONNX with per-image prompts as inputs (needs torch).

The exported computation is :func:`vpt_engine.prompted_vit.bundle_features`,
built from the same functions training and evaluation run; the contract it
implements is declared in :mod:`vpt_core.contract` (heads are applied outside).

Exporter: ``torch.onnx.export(..., dynamo=True)`` at opset 18. Compared with the
TorchScript exporter on this graph it gives a clean, TensorRT-friendly model:
one ``LayerNormalization`` per norm, no ``Constant``/``Identity``/``Where``
scaffolding around the prompt splicing, a static feature width, and a symbolic
``batch`` axis from ``dynamic_shapes`` (the TorchScript exporter
traced the prompt-layer test into constants with TracerWarnings and left the
feature width symbolic). It is slower to run (seconds, not milliseconds), which
does not matter for a one-off export.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from vpt_core.atomicio import atomic_path
from vpt_engine.prompted_vit import bundle_features

from vpt_core.contract import DYNAMIC_DIMS, BundleContract
from vpt_core.errors import ExportError
from .onnx_checks import GraphReport, check_backbone_model, name_unnamed_nodes

EXPORT_OPSET = 18
EXPORTER = "torch.onnx.export(dynamo=True)"
_MAX_PROTOBUF = 2 * 1024 ** 3


class PromptedBackboneGraph(nn.Module):
    """``(images, prompts, prompt_mask) -> features`` around a frozen ViT.

    The argument names are the contract's input names: ``dynamic_shapes`` is keyed by them.
    """

    def __init__(self, vit: nn.Module):
        super().__init__()
        self.vit = vit

    def forward(self, images, prompts, prompt_mask):
        return bundle_features(self.vit, images, prompts, prompt_mask)


def example_inputs(contract: BundleContract, batch: int = 2) -> tuple[torch.Tensor, ...]:
    # A batch above 1 so torch.export does not specialise the dynamic axis; one unused slot per image.
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(contract.concrete_shape("images", batch=batch), generator=generator)
    prompts = torch.randn(contract.concrete_shape("prompts", batch=batch), generator=generator)
    mask = torch.ones(contract.concrete_shape("prompt_mask", batch=batch))
    mask[:, -1] = 0.0
    return images, prompts, mask


def dynamic_shapes(contract: BundleContract) -> dict[str, dict[int, object] | None]:
    dims = {symbol: torch.export.Dim(symbol, min=low) for symbol, low in DYNAMIC_DIMS.items()}
    axes = contract.dynamic_axes()
    return {spec.name: ({axis: dims[symbol] for axis, symbol in axes[spec.name].items()}
                        if spec.name in axes else None) for spec in contract.inputs}


def export_backbone_onnx(vit: nn.Module, contract: BundleContract, path: str | os.PathLike,
                         opset: int = EXPORT_OPSET) -> GraphReport:
    """Write ``path`` (atomically) and check it; raise ExportError/UnsupportedGraphError on failure."""
    import onnx

    module = PromptedBackboneGraph(vit).eval()
    _check_argument_names(module, contract)
    with atomic_path(path) as tmp:
        _run_exporter(module, contract, Path(tmp), opset)
        model = onnx.load(str(tmp))
        _normalise(model, contract)
        if model.ByteSize() >= _MAX_PROTOBUF:
            raise ExportError("the backbone is larger than 2 GB, which a single ONNX file cannot hold")
        onnx.save(model, str(tmp))
        return check_backbone_model(tmp, contract)


def _check_argument_names(module: nn.Module, contract: BundleContract) -> None:
    import inspect

    names = list(inspect.signature(module.forward).parameters)
    if names != contract.input_names:
        raise ExportError(f"internal: forward() takes {names}, the contract's inputs are {contract.input_names}")


def _run_exporter(module: nn.Module, contract: BundleContract, path: Path, opset: int) -> None:
    # The exporter narrates every step on stdout; keep stdout clean for --json and report failures instead.
    chatter = io.StringIO()
    try:
        with torch.no_grad(), contextlib.redirect_stdout(chatter), warnings.catch_warnings():
            # All inputs share the "batch" axis; the exporter says so once per export.
            warnings.filterwarnings("ignore", message=".*shares the same shape constraints.*")
            torch.onnx.export(module, example_inputs(contract), str(path), dynamo=True, opset_version=opset,
                              input_names=contract.input_names, output_names=contract.output_names,
                              dynamic_shapes=dynamic_shapes(contract), external_data=False, optimize=True,
                              verbose=False, report=False)
    except Exception as error:
        raise ExportError(f"torch.onnx.export failed ({type(error).__name__}: {error})") from error


def _normalise(model, contract: BundleContract) -> None:
    """Name dynamic axes after the contract, name every node, and drop exporter metadata.

    The metadata holds Python stack traces with this machine's file paths; nothing downstream reads it.
    """
    name_unnamed_nodes(model)
    for node in model.graph.node:
        del node.metadata_props[:]
    model.doc_string = ""
    axes = contract.dynamic_axes()
    for value in list(model.graph.input) + list(model.graph.output):
        for axis, symbol in axes.get(value.name, {}).items():
            dims = value.type.tensor_type.shape.dim
            if axis < len(dims):
                dims[axis].Clear()
                dims[axis].dim_param = symbol
