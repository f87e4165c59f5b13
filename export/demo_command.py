"""``vpt demo``: the whole job, offline, on synthetic machined parts.

Draws a small inspection dataset, trains two different tasks on one backbone
(surface defects and part variant, from the same photos), exports one bundle,
then runs the torch-free station runtime on held-out images, switching task for
every image, and prints what a user wants to know: accuracy per task, latency,
file sizes and where everything is.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

from vpt_core.console import ProgressBar, format_seconds, print_json, say
from vpt_engine.cli.common import add_weights_options, parse_model_args

MARKER = ".vpt-demo"


def register(commands) -> None:
    parser = commands.add_parser("demo", help="offline end-to-end demo on synthetic parts (about 3 minutes on a CPU)",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="vpt-demo", metavar="DIR", help="where to put data, tasks and the bundle")
    parser.add_argument("--backbone", metavar="NAME", help="timm model name (default: a small random ViT)")
    add_weights_options(parser)
    parser.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--images-per-combination", type=int, default=8, metavar="N",
                        help="training photos per part variant and defect (12 combinations; default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out = _prepare_output_folder(Path(args.out))
    quiet = args.json
    bar = ProgressBar(quiet=quiet)
    backbone_config, random_weights = _backbone_config(args, out)
    say(f"demo folder: {out.resolve()}", quiet)
    phases = _PhaseClock()
    data_dirs, heldout = phases.run("draw parts", _make_dataset, out, args, bar)
    task_paths = {task: phases.run(f"train {task}", _train_task, task, folder, backbone_config, out, args, bar)
                  for task, folder in data_dirs.items()}
    bundle_report = phases.run("export + parity", _export, task_paths, out, bar)
    runtime = phases.run("station run", _run_station, out / "bundle", heldout)
    summary = _summary(out, backbone_config, random_weights, bundle_report, runtime, started)
    summary["phase_seconds"] = phases.seconds
    if args.json:
        print_json(summary)
    else:
        print(_format_summary(summary))
    return 0


class _PhaseClock:
    def __init__(self):
        self.seconds: dict[str, float] = {}

    def run(self, name, function, *args):
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 1)


def _prepare_output_folder(out: Path) -> Path:
    from vpt_core.errors import ConfigError

    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ConfigError(f"{out} exists and is not a demo folder; choose another with --out")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("created by vpt demo; safe to delete\n")
    return out


def _backbone_config(args, out: Path):
    from vpt_engine.backbone import BackboneConfig
    from vpt_engine.demo_backbone import ensure_demo_backbone

    if args.backbone:
        return BackboneConfig(args.backbone, weights=args.weights, pretrained=args.pretrained,
                              random_init=args.random_init, model_kwargs=parse_model_args(args.model_arg)), \
            args.random_init
    if args.weights or args.pretrained:
        from vpt_core.errors import ConfigError

        raise ConfigError("--weights/--pretrained need --backbone NAME to say which architecture they belong to")
    return ensure_demo_backbone(out / "backbone", seed=args.seed), True


def _make_dataset(out: Path, args, bar: ProgressBar):
    from vpt_engine.synthetic import DEFECTS, TASK_LABELS, VARIANTS, generate_parts, write_heldout, write_task_folders

    combos = len(DEFECTS) * len(VARIANTS)
    bar.line(f"drawing {combos * args.images_per_combination} training and {combos * 4} held-out parts")
    training = generate_parts(combos * args.images_per_combination, seed=args.seed, size=(240, 320))
    heldout = write_heldout(generate_parts(combos * 4, seed=args.seed + 1000, size=(240, 320)), out / "heldout")
    return {task: write_task_folders(training, out / "data" / task, task) for task in TASK_LABELS}, heldout


def _train_task(task: str, folder: Path, backbone_config, out: Path, args, bar: ProgressBar) -> Path:
    from vpt_engine.prompts import PromptConfig
    from vpt_engine.taskpack import save_task
    from vpt_engine.cli.engine_commands import consume_training, load_dataset_with_progress
    from vpt_engine.train_config import TrainConfig

    bar.line(f"task '{task}': training on {folder}")
    backbone, data = load_dataset_with_progress(str(folder), backbone_config, bar)
    result = consume_training(backbone, data, PromptConfig(), TrainConfig(seed=args.seed), bar)
    if result is None:
        raise KeyboardInterrupt
    return save_task(result, backbone, out / "tasks" / f"{task}.vptask", name=task)


def _export(task_paths: dict[str, Path], out: Path, bar: ProgressBar):
    from .bundle_builder import export_bundle

    bar.line("exporting one bundle for both tasks (with the PyTorch / ONNX Runtime parity check)")
    return export_bundle(list(task_paths.values()), out / "bundle", parity_images=out / "heldout",
                         on_progress=lambda stage, fraction: bar.update(fraction, stage))


def _run_station(bundle_dir: Path, heldout) -> dict:
    """The station runtime, switching task for every held-out image."""
    from .runtime import Station

    from vpt_core.images import read_image_rgb

    station = Station(bundle_dir)
    results = {task: {"correct": 0, "total": 0, "latency_ms": []} for task in station.task_names}
    switches = []
    for path, labels in heldout:
        rgb = read_image_rgb(path)
        for task in station.task_names:
            started = time.perf_counter()
            station.set_task(task)
            switches.append((time.perf_counter() - started) * 1000)
            prediction = station.predict_rgb(rgb)
            entry = results[task]
            entry["total"] += 1
            entry["correct"] += int(prediction.label == labels[task])
            entry["latency_ms"].append(prediction.preprocess_ms + prediction.inference_ms)
    for task, entry in results.items():
        latencies = sorted(entry.pop("latency_ms"))
        entry.update(accuracy=entry["correct"] / max(1, entry["total"]), classes=list(station.bundle.tasks[task].classes),
                     latency_ms_median=statistics.median(latencies),
                     latency_ms_p95=latencies[int(0.95 * (len(latencies) - 1))])
    return {"tasks": results, "switch_ms_median": statistics.median(switches), "backend": station.description}


def _summary(out, backbone_config, random_weights, bundle_report, runtime, started) -> dict:
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "backbone": {"name": backbone_config.name, "weights": backbone_config.weights, "random": random_weights},
        "tasks": runtime["tasks"],
        "task_switch_ms_median": runtime["switch_ms_median"],
        "runtime_backend": runtime["backend"],
        "sizes_bytes": {"backbone.onnx": bundle_report.backbone_bytes,
                        **{f"{name}.vptask": size for name, size in bundle_report.task_bytes.items()}},
        "parity": bundle_report.parity,
        "files": {"folder": str(out.resolve()), "training_data": str((out / "data").resolve()),
                  "task_packs": str((out / "tasks").resolve()), "bundle": str((out / "bundle").resolve()),
                  "heldout_images": str((out / "heldout").resolve())},
    }


def _format_summary(summary: dict) -> str:
    lines = [f"\nDemo finished in {format_seconds(summary['seconds'])}. "
             f"Runtime: {summary['runtime_backend']}, torch-free, switching task for every image.", ""]
    lines.append(f"{'task':<10}{'classes':<32}{'held-out accuracy':<20}{'chance':<9}{'latency/image p50 / p95':<26}")
    for task, entry in summary["tasks"].items():
        accuracy = f"{entry['accuracy']:.2f} ({entry['correct']}/{entry['total']})"
        chance = f"{1 / len(entry['classes']):.2f}"
        latency = f"{entry['latency_ms_median']:.1f} / {entry['latency_ms_p95']:.1f} ms"
        lines.append(f"{task:<10}{', '.join(entry['classes']):<32}{accuracy:<20}{chance:<9}{latency:<26}")
    lines.append(f"\ntask switch: {summary['task_switch_ms_median'] * 1000:.1f} us (median), no reload")
    lines.append("time: " + ", ".join(f"{name} {format_seconds(s)}" for name, s in summary["phase_seconds"].items()))
    lines.append("sizes: " + ", ".join(f"{name} {_size(size)}" for name, size in summary["sizes_bytes"].items()))
    lines.append("files:")
    lines += [f"  {name.replace('_', ' ')}: {path}" for name, path in summary["files"].items()]
    if summary["backbone"]["random"]:
        lines += ["", "NOTE: this demo used a randomly initialised ViT, so its accuracy says nothing about real use.",
                  "Point it at real pretrained weights, e.g.:",
                  "  vpt demo --backbone vit_small_patch16_224 --weights vit_small.safetensors   (offline, local file)",
                  "  vpt demo --backbone vit_small_patch16_224.augreg_in21k --pretrained          (downloads once)"]
    return "\n".join(lines)


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"
