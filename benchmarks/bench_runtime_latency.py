"""Batch-1 CPU latency of ViT-S/16 with 10 deep prompts: the bundle on ONNX Runtime versus PyTorch eager,
versus the same backbone exported without prompts, and the optional INT8 CPU model.

    python benchmarks/bench_runtime_latency.py [--threads 2] [--rounds 10] [--work /tmp/vpt-bench-vits]

Goals (issue 3): ONNX Runtime at least 1.5x faster than PyTorch eager; prompt
overhead no more than the extra token share (N+P)/N. All figures of a run are
measured in the same process, interleaved, with the same thread count.
Random weights: latency does not depend on them (INT8 accuracy does, and is
gated separately by ``vpt bundle quantize-cpu`` on real images).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from _common import machine_description, time_interleaved
from bench_export_common import NUM_PROMPTS, ensure_bundle, ensure_plain_backbone, print_json, summarise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/vpt-bench-vits"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-int8", action="store_true")
    parser.add_argument("--fused", action="store_true",
                        help="also time ONNX Runtime's transformer-fused model (contrib ops; CPU stations only)")
    args = parser.parse_args()

    # Fair baselines on a shared machine: PyTorch's OpenMP threads and ONNX Runtime's pool both sleep
    # when idle instead of spinning (the station runner's default). Set before torch starts its pool.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import onnxruntime as ort
    import torch

    torch.set_num_threads(args.threads)
    bundle_dir = ensure_bundle(args.work)

    from export.runtime import Station
    from vpt_engine.backbone import load_backbone
    from vpt_engine.taskpack import backbone_config_for, load_task

    station = Station(bundle_dir, backend="onnxruntime", threads=args.threads)
    task = station.bundle.task("surface")
    backbone = load_backbone(backbone_config_for(task.pack))
    model = load_task(task.path, backbone=backbone).model.eval()
    plain_path = ensure_plain_backbone(args.work, backbone)

    rng = np.random.default_rng(0)
    image = rng.normal(size=(1, *station.bundle.contract.image_shape)).astype(np.float32)
    feed = station.bundle.contract.feed(image, station.bundle.task(station.current_task).tensors)
    tensor = torch.from_numpy(image)

    def torch_eager():
        with torch.inference_mode():
            model(tensor)

    contenders = {
        "pytorch_eager": torch_eager,
        "ort_bundle": lambda: station.runner.infer(feed),
        "ort_bundle_basic_opt": _runner(bundle_dir / "backbone.onnx", station, args.threads, "basic", feed),
        "ort_plain_no_prompts": _session(ort, plain_path, args.threads, {"images": image}),
    }
    if not args.no_int8:
        contenders["ort_int8_dynamic"] = _runner(_int8_model(args.work, bundle_dir), station, args.threads, "all", feed)
    if args.fused:
        contenders["ort_transformer_fused"] = _runner(_fused_model(args.work, bundle_dir, backbone), station,
                                                      args.threads, "all", feed)
    rgb = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    contenders["station_predict_rgb_640x480"] = lambda: station.predict_rgb(rgb)

    stats = summarise(time_interleaved(contenders, args.rounds))
    contract = station.bundle.contract
    tokens = contract.num_patches + contract.num_prefix_tokens
    ratios = {"token_share_bound_(N+P)/N": (tokens + NUM_PROMPTS) / tokens}
    for clock in ("median_ms", "cpu_median_ms"):
        median = {name: s[clock] for name, s in stats.items()}
        suffix = "" if clock == "median_ms" else " (cpu time)"
        ratios["pytorch_over_ort_bundle" + suffix] = median["pytorch_eager"] / median["ort_bundle"]
        ratios["ort_bundle_over_plain" + suffix] = median["ort_bundle"] / median["ort_plain_no_prompts"]
        for name in ("ort_int8_dynamic", "ort_transformer_fused"):
            if name in median:
                ratios[f"pytorch_over_{name}{suffix}"] = median["pytorch_eager"] / median[name]
    print(f"machine: {machine_description()}")
    print(f"ViT-S/16 224, {NUM_PROMPTS} deep prompts, batch 1, {args.threads} threads, torch {torch.__version__}, "
          f"onnxruntime {ort.__version__}, {args.rounds} rounds x 3 calls, interleaved, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, ORT spinning off")
    print_json({"latency": stats, "ratios": ratios})


def _runner(path, station, threads, level, feed):
    from export.runtime.runners import OnnxRuntimeRunner

    runner = OnnxRuntimeRunner(path, station.bundle.contract, ["CPUExecutionProvider"], threads, level)
    return lambda: runner.infer(feed)


def _session(ort, path, threads, feed):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda: session.run(None, feed)


def _int8_model(work: Path, bundle_dir: Path) -> Path:
    from export.runtime.quantize import _quantize

    path = work / "backbone.int8-cpu.onnx"
    return path if path.is_file() else _quantize(bundle_dir / "backbone.onnx", path)


def _fused_model(work: Path, bundle_dir: Path, backbone) -> Path:
    from onnxruntime.transformers.optimizer import optimize_model

    path = work / "backbone.ort-fused.onnx"
    if not path.is_file():
        heads = backbone.model.blocks[0].attn.num_heads
        optimize_model(str(bundle_dir / "backbone.onnx"), model_type="vit", num_heads=heads,
                       hidden_size=backbone.embed_dim, opt_level=0).save_model_to_file(str(path))
    return path


if __name__ == "__main__":
    main()
