"""``vpt demo``: the whole job, offline, on real steel defects with the embedded model.

Trains a task on five photos per class of real hot-rolled steel defects (a
subset of X-SDD shipped in the package) and a second task on the same
backbone (part variants of drawn machined parts, as a task without prompts: a
linear probe, trained in seconds), exports one bundle for both, then runs the
torch-free station on held-out pictures of both tasks mixed in the same engine
batches, and prints what a user wants to know: accuracy on pictures the tasks
never saw next to chance and next to a linear probe on the same split, the
accuracy on the training pictures, latency, file sizes and where everything is.
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
STEEL, PARTS = "steel", "variant"
PART_IMAGES_PER_VARIANT = 8


def register(commands) -> None:
    parser = commands.add_parser("demo", help="offline end-to-end demo on real steel defects (a few minutes on a CPU)",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="vpt-demo", metavar="DIR", help="where to put data, tasks and the bundle")
    parser.add_argument("--backbone", metavar="NAME", help="timm model name (default: the embedded model)")
    add_weights_options(parser)
    parser.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out = _prepare_output_folder(Path(args.out))
    quiet = args.json
    bar = ProgressBar(quiet=quiet)
    backbone_config = _backbone_config(args)
    say(f"demo folder: {out.resolve()}", quiet)
    phases = _PhaseClock()
    folders = phases.run("copy pictures", _prepare_data, out, args.seed, bar)
    backbone = phases.run("load model", _load_backbone, backbone_config, bar)
    steel, steel_metrics = phases.run(f"train {STEEL}", _train_task, STEEL, folders["train"][STEEL], backbone, out,
                                      args.seed, bar, None)
    parts, _ = phases.run(f"train {PARTS}", _train_task, PARTS, folders["train"][PARTS], backbone, out, args.seed,
                          bar, 0)
    probe = phases.run("linear probe", _probe_accuracy, backbone, folders, args.seed)
    bundle_report = phases.run("export + parity", _export, [steel, parts], out, folders["heldout"][STEEL], bar)
    runtime = phases.run("station run", _run_station, out / "bundle", folders["heldout"])
    summary = _summary(out, backbone_config, bundle_report, runtime, probe, steel_metrics, started)
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


def _backbone_config(args):
    from vpt_engine.backbone import BackboneConfig
    from vpt_engine.embedded import embedded_backbone_config

    if args.backbone:
        return BackboneConfig(args.backbone, weights=args.weights, pretrained=args.pretrained,
                              random_init=args.random_init, model_kwargs=parse_model_args(args.model_arg),
                              image_fit="whole")
    if args.weights or args.pretrained:
        from vpt_core.errors import ConfigError

        raise ConfigError("--weights/--pretrained need --backbone NAME to say which architecture they belong to")
    return embedded_backbone_config("whole")


def _prepare_data(out: Path, seed: int, bar: ProgressBar) -> dict[str, dict[str, Path]]:
    """The shipped steel pictures, copied; drawn part pictures for the second task."""
    import resources
    from vpt_engine.synthetic import VARIANTS, generate_parts, write_heldout, write_task_folders

    shipped = Path(resources.RESOURCES_DIR) / "demo" / "x-sdd"
    for part in ("train", "heldout"):
        shutil.copytree(shipped / part, out / part / STEEL)
    bar.line(f"real steel defects (X-SDD subset): {_count(out / 'train' / STEEL)} training and "
             f"{_count(out / 'heldout' / STEEL)} held-out pictures in 7 classes")
    count = len(VARIANTS) * PART_IMAGES_PER_VARIANT
    training = generate_parts(count, seed=seed, size=(240, 320))
    write_task_folders(training, out / "train" / PARTS, PARTS)
    heldout = generate_parts(count, seed=seed + 1000, size=(240, 320))
    for path, labels in write_heldout(heldout, out / "heldout" / "parts-unsorted"):
        target = out / "heldout" / PARTS / labels[PARTS] / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    shutil.rmtree(out / "heldout" / "parts-unsorted")
    bar.line(f"drawn machined parts: {count} training and {count} held-out pictures of {len(VARIANTS)} variants")
    return {part: {task: out / part / task for task in (STEEL, PARTS)} for part in ("train", "heldout")}


def _count(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file())


def _load_backbone(config, bar: ProgressBar):
    from vpt_engine.backbone import load_backbone

    bar.line(f"loading {config.name} ({'embedded model' if config.weights and 'models' in config.weights else 'as asked'})")
    return load_backbone(config)


def _train_task(task: str, folder: Path, backbone, out: Path, seed: int, bar: ProgressBar, prompts: int | None):
    from vpt_engine.cli.engine_commands import consume_training, describe_metrics
    from vpt_engine.dataset import load_images, scan_image_folder
    from vpt_engine.prompts import PromptConfig
    from vpt_engine.taskpack import save_task
    from vpt_engine.train_config import TrainConfig

    data = load_images(scan_image_folder(folder), backbone.preprocess)
    prompt_config = PromptConfig() if prompts is None else PromptConfig(num_prompts=prompts)
    what = "no prompts (a linear probe)" if prompt_config.num_prompts == 0 else f"{prompt_config.num_prompts} prompts"
    bar.line(f"task '{task}': {len(data)} pictures, {len(data.classes)} classes, {what}")
    result = consume_training(backbone, data, prompt_config, TrainConfig(seed=seed), bar)
    if result is None:
        raise KeyboardInterrupt
    bar.line(f"task '{task}': {describe_metrics(result.metrics)}")
    return save_task(result, backbone, out / "tasks" / f"{task}.vptask", name=task), result.metrics


def _probe_accuracy(backbone, folders, seed: int) -> float:
    """A linear probe on the frozen backbone, trained and checked on the same steel pictures."""
    from vpt_engine.bench.baselines import frozen_features
    from vpt_engine.dataset import load_images, scan_image_folder
    from vpt_engine.linear_probe import fit_linear_probe

    train = load_images(scan_image_folder(folders["train"][STEEL]), backbone.preprocess)
    heldout = load_images(scan_image_folder(folders["heldout"][STEEL], train.classes), backbone.preprocess)
    probe = fit_linear_probe(frozen_features(backbone, train), train.labels, len(train.classes), seed=seed)
    predictions = probe.logits(frozen_features(backbone, heldout)).argmax(axis=1)
    return float((predictions == heldout.labels).mean())


def _export(task_paths, out: Path, parity_images: Path, bar: ProgressBar):
    from .bundle_builder import export_bundle

    bar.line("exporting one bundle for both tasks (checked against PyTorch, also with the tasks mixed in a batch)")
    return export_bundle(task_paths, out / "bundle", parity_images=parity_images,
                         on_progress=lambda stage, fraction: bar.update(fraction, stage))


def _run_station(bundle_dir: Path, heldout: dict[str, Path]) -> dict:
    """The torch-free station on every held-out picture, both tasks mixed in the same engine batches."""
    from vpt_core.images import read_image_rgb

    from .runtime import Station

    station = Station(bundle_dir)
    items = [(read_image_rgb(path), task, path.parent.name)
             for task, folder in heldout.items() for path in sorted(folder.rglob("*")) if path.is_file()]
    items = [items[i] for i in _interleaved(len(items), [t for _, t, _ in items])]
    results = {task: {"correct": 0, "total": 0, "uncertain": 0, "latency_ms": []} for task in station.task_names}
    batch = 8
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        for (_, task, label), prediction in zip(chunk, station.predict_mixed([(rgb, task) for rgb, task, _ in chunk])):
            entry = results[task]
            entry["total"] += 1
            entry["correct"] += int(prediction.label == label)
            entry["uncertain"] += int(prediction.uncertain)
            entry["latency_ms"].append(prediction.preprocess_ms + prediction.inference_ms)
    switches = []
    for task in station.task_names * 50:
        begun = time.perf_counter()
        station.set_task(task)
        switches.append((time.perf_counter() - begun) * 1000)
    for task, entry in results.items():
        latencies = sorted(entry.pop("latency_ms"))
        entry.update(accuracy=entry["correct"] / max(1, entry["total"]), classes=list(station.bundle.tasks[task].classes),
                     latency_ms_median=statistics.median(latencies),
                     latency_ms_p95=latencies[int(0.95 * (len(latencies) - 1))])
    return {"tasks": results, "switch_ms_median": statistics.median(switches), "backend": station.description,
            "batch": batch}


def _interleaved(count: int, tasks: list[str]) -> list[int]:
    """Indices alternating between the tasks, so every engine batch mixes them."""
    queues = {task: [i for i in range(count) if tasks[i] == task] for task in dict.fromkeys(tasks)}
    order = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                order.append(queue.pop(0))
    return order


def _summary(out, backbone_config, bundle_report, runtime, probe, steel_metrics, started) -> dict:
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "backbone": {"name": backbone_config.name, "weights": backbone_config.weights,
                     "random": backbone_config.random_init},
        "tasks": runtime["tasks"],
        "steel_linear_probe_accuracy": probe,
        "steel_training_accuracy": steel_metrics["train_accuracy"],
        "task_switch_ms_median": runtime["switch_ms_median"],
        "runtime_backend": runtime["backend"],
        "mixed_batch_size": runtime["batch"],
        "sizes_bytes": {"backbone.onnx": bundle_report.backbone_bytes,
                        **{f"{name}.vptask": size for name, size in bundle_report.task_bytes.items()}},
        "parity": bundle_report.parity,
        "mixed_parity": bundle_report.mixed_parity,
        "files": {"folder": str(out.resolve()), "training_pictures": str((out / "train").resolve()),
                  "task_packs": str((out / "tasks").resolve()), "bundle": str((out / "bundle").resolve()),
                  "heldout_pictures": str((out / "heldout").resolve())},
    }


def _format_summary(summary: dict) -> str:
    lines = [f"\nDemo finished in {format_seconds(summary['seconds'])}. Station: {summary['runtime_backend']}, "
             f"torch-free, both tasks mixed in batches of {summary['mixed_batch_size']}.", ""]
    lines.append(f"{'task':<9}{'pictures it never saw: right':<31}{'chance':<9}{'linear probe':<14}"
                 f"{'uncertain':<11}{'latency p50 / p95':<20}")
    for task, entry in summary["tasks"].items():
        accuracy = f"{entry['accuracy']:.1%} ({entry['correct']}/{entry['total']})"
        probe = f"{summary['steel_linear_probe_accuracy']:.1%}" if task == STEEL else "-"
        latency = f"{entry['latency_ms_median']:.1f} / {entry['latency_ms_p95']:.1f} ms"
        lines.append(f"{task:<9}{accuracy:<31}{1 / len(entry['classes']):<9.1%}{probe:<14}"
                     f"{entry['uncertain']:<11}{latency:<20}")
    lines.append(f"\n{STEEL}: 7 kinds of real hot-rolled steel defects (X-SDD), trained on 5 photos each; "
                 f"{summary['steel_training_accuracy']:.0%} right on its own training photos.")
    lines.append(f"{PARTS}: drawn machined parts, a task with no prompts (a linear probe on the same model).")
    lines.append(f"task switch: {summary['task_switch_ms_median'] * 1000:.1f} us (median), no reload")
    lines.append("time: " + ", ".join(f"{name} {format_seconds(s)}" for name, s in summary["phase_seconds"].items()))
    lines.append("sizes: " + ", ".join(f"{name} {_size(size)}" for name, size in summary["sizes_bytes"].items()))
    lines.append("files:")
    lines += [f"  {name.replace('_', ' ')}: {path}" for name, path in summary["files"].items()]
    if summary["backbone"]["random"]:
        lines += ["", "NOTE: this demo used a randomly initialised ViT, so its accuracy says nothing about real use."]
    return "\n".join(lines)


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"
