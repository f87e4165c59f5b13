"""Device check (issue 14, case 14): are fp32 constraints on LayerNorm/Softmax needed in an fp16 engine?

NOT RUN YET: written to be run on a machine with a GPU, TensorRT 10.3+ and trtexec (a Jetson on JetPack 6.1+,
or a desktop GPU). It needs no torch::

    python benchmarks/gpu/check_fp16_layer_precisions.py BUNDLE_DIR IMAGES_DIR --out RESULTS_DIR

For each variant of the bundle's own ``build_engine.sh`` (``fp32``, ``fp16``, ``fp16-fp32norm``) it builds an
engine in a copy of the bundle through a ``trtexec`` wrapper that adds ``--exportLayerInfo`` and
``--profilingVerbosity=detailed``, registers it (``vpt deploy register-engine``), then

* records each layer's output precision from the exported layer information (``layers.<variant>.json``) and
  counts them by layer type, naming where LayerNorm and Softmax ended up (TensorRT may fuse them into
  Myelin "ForeignNode" layers, which the count then shows);
* compares every task's probabilities on the images with ONNX Runtime fp32 (top-1 agreement, largest
  probability difference) and times each backend.

It writes ``summary.json`` and prints one table. Decide from it whether ``build_engine.sh fp16`` (no
constraints, the default now) is accurate enough, or whether the ``fp16-fp32norm`` variant must become the
default again. Until it has run, the README says the default is unmeasured.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = ("fp32", "fp16", "fp16-fp32norm")
WRAPPER = """#!/bin/sh
# trtexec with the layer information exported (the version check calls --help: passed through unchanged).
case "$1" in --help) exec "$REAL_TRTEXEC" "$@" ;; esac
exec "$REAL_TRTEXEC" "$@" --exportLayerInfo="$LAYER_INFO" --profilingVerbosity=detailed
"""
SENSITIVE = ("layernorm", "layer_norm", "normalization", "softmax")


def summarize_layer_info(document: dict) -> dict:
    """Output precisions per layer type, and where the LayerNorm/Softmax layers went (by name or type)."""
    by_type: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    sensitive: list[dict] = []
    for layer in document.get("Layers", []):
        if not isinstance(layer, dict):   # without detailed verbosity TensorRT lists names only
            by_type["(no detail)"][str(layer)[:40]] += 1
            continue
        kind = str(layer.get("LayerType", "?"))
        precisions = sorted({_precision(output.get("Format/Datatype", "")) for output in layer.get("Outputs", [])})
        by_type[kind][",".join(precisions) or "?"] += 1
        name = str(layer.get("Name", ""))
        if any(word in (name + " " + kind).lower() for word in SENSITIVE):
            sensitive.append({"name": name[:200], "type": kind, "outputs": precisions})
    return {"by_type": {kind: dict(counts) for kind, counts in sorted(by_type.items())},
            "layernorm_softmax": sensitive}


def _precision(datatype: str) -> str:
    text = datatype.lower()
    for word, label in (("fp32", "fp32"), ("float", "fp32"), ("fp16", "fp16"), ("half", "fp16"),
                        ("int8", "int8"), ("int32", "int32"), ("bool", "bool")):
        if word in text:
            return label
    return datatype or "?"


def build_variant(bundle: Path, variant: str, out: Path, trtexec: str) -> Path:
    work = out / variant / "bundle"
    shutil.rmtree(work.parent, ignore_errors=True)
    shutil.copytree(bundle, work, ignore=shutil.ignore_patterns("engines"))
    wrapper = out / variant / "trtexec"
    wrapper.write_text(WRAPPER)
    wrapper.chmod(0o755)
    env = {**os.environ, "TRTEXEC": str(wrapper), "REAL_TRTEXEC": trtexec,
           "LAYER_INFO": str(out / f"layers.{variant}.json")}
    log = out / f"build.{variant}.log"
    with open(log, "w") as handle:
        done = subprocess.run(["sh", str(work / "build_engine.sh"), variant], env=env, stdout=handle,
                              stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"build_engine.sh {variant} failed; see {log}")
    return work


def compare_with_onnx_runtime(bundle: Path, images: list[Path]) -> dict:
    import numpy as np

    from export.runtime import Station
    from vpt_core.images import read_image_rgb

    pictures = [read_image_rgb(path) for path in images]
    engine, reference = Station(bundle, backend="tensorrt"), Station(bundle, backend="onnxruntime")
    results = {"engine": engine.description, "tasks": {}}
    for task in engine.task_names:
        engine.set_task(task)
        reference.set_task(task)
        started = time.perf_counter()
        got = [engine.predict_rgb(p) for p in pictures]
        engine_s = time.perf_counter() - started
        started = time.perf_counter()
        want = [reference.predict_rgb(p) for p in pictures]
        reference_s = time.perf_counter() - started
        difference = max(float(np.abs(a.probabilities - b.probabilities).max()) for a, b in zip(got, want))
        results["tasks"][task] = {"images": len(pictures), "top1_agreement": sum(a.index == b.index for a, b in
                                                                                 zip(got, want)) / len(pictures),
                                  "max_probability_difference": difference,
                                  "engine_ms_per_image": 1000 * engine_s / len(pictures),
                                  "onnxruntime_ms_per_image": 1000 * reference_s / len(pictures)}
    engine.close()
    reference.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("images", type=Path, help="real images of the bundle's tasks (a few hundred)")
    parser.add_argument("--out", type=Path, default=Path("fp16-layer-check"))
    parser.add_argument("--max-images", type=int, default=300)
    parser.add_argument("--trtexec", default=shutil.which("trtexec") or "/usr/src/tensorrt/bin/trtexec")
    args = parser.parse_args()
    from vpt_core.imagefiles import list_images, spread

    args.out.mkdir(parents=True, exist_ok=True)
    images = spread(list_images(args.images), args.max_images)
    summary = {"python": sys.version.split()[0], "variants": {}}
    for variant in VARIANTS:
        work = build_variant(args.bundle, variant, args.out, args.trtexec)
        layer_info = json.loads((args.out / f"layers.{variant}.json").read_text())
        summary["variants"][variant] = {"layers": summarize_layer_info(layer_info),
                                        "accuracy": compare_with_onnx_runtime(work, images)}
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    for variant, result in summary["variants"].items():
        for task, figures in result["accuracy"]["tasks"].items():
            print(f"{variant:<14} {task:<16} top-1 {figures['top1_agreement']:.2%}  max |dp| "
                  f"{figures['max_probability_difference']:.2e}  {figures['engine_ms_per_image']:.2f} ms/image")
        print(f"{variant:<14} LayerNorm/Softmax layers: {result['layers']['layernorm_softmax'][:6]}")
    print(f"written: {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
