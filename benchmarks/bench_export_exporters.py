"""Which torch ONNX exporter suits the prompted backbone: dynamo (torch.export) or TorchScript (legacy)?

    python benchmarks/bench_export_exporters.py [--model vit_small_patch16_224] [--work /tmp/vpt-bench-exporters]

Exports the same prompted graph (prompts and head as inputs, dynamic batch and
class count) both ways and prints, per exporter: export time, node count by
operator, whether the contract checks (ONNX checker, shape inference, named
symbolic axes, TensorRT operator list) pass, and the largest logit difference
against PyTorch at batch 1 and 3 with 2 and 7 classes. ``export/onnx_export.py``
uses the dynamo exporter; this script shows why.
"""

from __future__ import annotations

import argparse
import collections
import io
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vit_small_patch16_224")
    parser.add_argument("--work", type=Path, default=Path("/tmp/vpt-bench-exporters"))
    parser.add_argument("--prompts", type=int, default=10)
    args = parser.parse_args()

    import onnx
    import torch

    from vpt_core.contract import BundleContract
    from vpt_core.errors import UnsupportedGraphError
    from export.onnx_checks import check_backbone_model
    from export.onnx_export import PromptedBackboneGraph, dynamic_shapes, example_inputs
    from vpt_engine.backbone import BackboneConfig, load_backbone

    args.work.mkdir(parents=True, exist_ok=True)
    backbone = load_backbone(BackboneConfig(args.model, random_init=True))
    contract = BundleContract.for_task(backbone.preprocess.input_size,
                                       (backbone.depth, args.prompts, backbone.embed_dim))
    module = PromptedBackboneGraph(backbone.model).eval()
    for name in ("dynamo", "torchscript"):
        path = args.work / f"{name}.onnx"
        started = time.perf_counter()
        with torch.no_grad(), redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if name == "dynamo":
                torch.onnx.export(module, example_inputs(contract), str(path), dynamo=True, opset_version=18,
                                  input_names=contract.input_names, output_names=contract.output_names,
                                  dynamic_shapes=dynamic_shapes(contract), external_data=False)
            else:
                torch.onnx.export(module, example_inputs(contract), str(path), dynamo=False, opset_version=17,
                                  input_names=contract.input_names, output_names=contract.output_names,
                                  dynamic_axes=contract.dynamic_axes())
        seconds = time.perf_counter() - started
        model = onnx.load(str(path))
        try:
            check_backbone_model(path, contract)
            verdict = "passes all bundle checks"
        except UnsupportedGraphError as error:
            verdict = f"fails: {error}"
        counts = collections.Counter(node.op_type for node in model.graph.node)
        tracer = sum("TracerWarning" in type(w.message).__name__ or "Tracer" in str(w.category) for w in caught)
        print(f"\n== {name}: {seconds:.1f} s, {len(model.graph.node)} nodes, {tracer} tracer warnings")
        print("   " + ", ".join(f"{op} {n}" for op, n in counts.most_common()))
        print(f"   {verdict}")
        print(f"   largest logit difference vs PyTorch: {_parity(path, module, contract):.2e}")


def _parity(path, module, contract) -> float:
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for batch, classes in ((1, 2), (3, 7)):
        inputs = [t.numpy() for t in __import__("export.onnx_export", fromlist=["x"]).example_inputs(
            contract, batch=batch, classes=classes)]
        with torch.no_grad():
            want = module(*[torch.from_numpy(a) for a in inputs])[0].numpy()
        got = session.run(["logits"], dict(zip(contract.input_names, inputs)))[0]
        worst = max(worst, float(np.max(np.abs(got - want))))
    return worst


if __name__ == "__main__":
    main()
