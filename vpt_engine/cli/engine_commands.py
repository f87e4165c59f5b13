"""``vpt train``, ``vpt eval`` and ``vpt predict``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vpt_core.console import ProgressBar, format_seconds, print_json, say

from .common import add_backbone_options, add_weights_options, backbone_config_from_args

INIT_CHOICES = ("auto", "random", "sample", "mean_pool", "max_pool", "kmeans")


def register(commands) -> None:
    _register_train(commands)
    _register_eval(commands)
    _register_predict(commands)


def _register_train(commands) -> None:
    from ..prompts import HeadFeatures, PromptConfig
    from ..train_config import TrainConfig

    prompt_defaults, train_defaults = PromptConfig(), TrainConfig()
    parser = commands.add_parser("train", help="train a task pack from a folder of class sub-folders",
                                 description="Train prompts and a linear head on DATA_DIR/<class>/*.jpg. Without "
                                             "--backbone it uses the embedded model (offline).")
    parser.add_argument("data_dir", metavar="DATA_DIR")
    add_backbone_options(parser, required=False)
    parser.add_argument("--out", required=True, metavar="TASK.vptask", help="task pack to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing task pack at --out")
    parser.add_argument("--name", help="task name (default: the file name)")
    prompts = parser.add_argument_group("prompts")
    prompts.add_argument("--prompts", default=str(prompt_defaults.num_prompts), metavar="N|auto",
                         help=f"prompt tokens per layer (default {prompt_defaults.num_prompts})")
    prompts.add_argument("--depth", choices=("deep", "shallow"), default=prompt_defaults.depth.value)
    prompts.add_argument("--init", choices=INIT_CHOICES, default=prompt_defaults.init.value,
                         help=f"prompt initialisation (default {prompt_defaults.init.value}; "
                              "auto picks by cross-validation on the training images)")
    prompts.add_argument("--head-init", choices=("probe", "normal", "class_mean"),
                         default=prompt_defaults.head_init.value)
    prompts.add_argument("--head-features", choices=[choice.value for choice in HeadFeatures],
                         default=prompt_defaults.head_features.value,
                         help="what the head reads: the maximum over the patch tokens after every block "
                              "(block_max, default), the backbone's pooled token, or that and the mean patch token")
    prompts.add_argument("--auto-budget", type=float, default=None, metavar="SECONDS",
                         help="time budget for --init auto / --prompts auto")
    training = parser.add_argument_group("training")
    budget = training.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=None,
                        help=f"optimizer steps (default: {train_defaults.passes_per_image:g} looks at each picture, "
                             f"at least {train_defaults.min_steps} steps and {train_defaults.min_image_passes} picture "
                             "passes)")
    budget.add_argument("--epochs", type=int, default=None, help="passes over the training pictures instead of "
                                                                 "--steps (no minimum)")
    training.add_argument("--batch-size", type=int, default=train_defaults.batch_size,
                          help=f"pictures per step at most (default {train_defaults.batch_size})")
    training.add_argument("--lr", type=float, default=train_defaults.learning_rate,
                          help=f"prompts' learning rate (default {train_defaults.learning_rate:g})")
    training.add_argument("--head-lr", type=float, default=train_defaults.head_learning_rate,
                          help="head's learning rate (default: the prompts')")
    training.add_argument("--check-split", "--val-split", type=float, default=0.0, metavar="FRACTION",
                          dest="check_split", help="set aside this share of every class's pictures to check the "
                                                   "trained task on pictures it never trained on")
    training.add_argument("--no-augment", action="store_true", help="switch augmentations off")
    training.add_argument("--keep-trained-head", action="store_true",
                          help="keep the head as the optimizer left it (default: re-solve it as a linear probe on "
                               "the trained prompts' features)")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document on stdout")
    parser.set_defaults(handler=run_train)


def _register_eval(commands) -> None:
    parser = commands.add_parser("eval", help="accuracy of a task pack on a labelled folder")
    parser.add_argument("task", metavar="TASK.vptask")
    parser.add_argument("data_dir", metavar="DATA_DIR")
    add_weights_options(parser)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_eval)


def _register_predict(commands) -> None:
    parser = commands.add_parser("predict", help="label and confidence for image files")
    parser.add_argument("task", metavar="TASK.vptask")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    add_weights_options(parser)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_predict)


def build_train_settings(args: argparse.Namespace):
    """PromptConfig, TrainConfig and optional AutoSelectConfig from command-line arguments."""
    import dataclasses

    from vpt_core.errors import ConfigError
    from ..prompts import PromptConfig
    from ..train_config import TrainConfig

    auto_prompts = args.prompts == "auto"
    try:
        num_prompts = PromptConfig().num_prompts if auto_prompts else int(args.prompts)
    except ValueError:
        raise ConfigError(f"--prompts must be a whole number or 'auto', got {args.prompts!r}") from None
    auto_init = args.init == "auto"
    prompt_config = PromptConfig(num_prompts=num_prompts, depth=args.depth,
                                 init=PromptConfig().init if auto_init else args.init, head_init=args.head_init,
                                 head_features=args.head_features)
    defaults = TrainConfig()
    budget = {"steps": args.steps} if args.steps is not None else {}
    if args.epochs is not None:   # epochs = looks at each picture, with no floor
        budget = {"passes_per_image": args.epochs, "min_steps": 1, "min_image_passes": 0}
    train_config = TrainConfig(**budget, batch_size=args.batch_size, learning_rate=args.lr,
                               head_learning_rate=args.head_lr, check_fraction=args.check_split, seed=args.seed,
                               device=args.device, refit_head=not args.keep_trained_head,
                               augment=dataclasses.replace(defaults.augment, enabled=not args.no_augment))
    auto = None
    if auto_init or auto_prompts:
        from ..autoselect import AutoSelectConfig

        auto = AutoSelectConfig(choose_init=auto_init, choose_prompts=auto_prompts, time_budget_s=args.auto_budget)
    return prompt_config, train_config, auto


def run_train(args: argparse.Namespace) -> int:
    from ..taskpack import check_output, save_task

    check_output(args.out, args.overwrite)
    prompt_config, train_config, auto = build_train_settings(args)
    bar = ProgressBar()
    backbone, data = load_dataset_with_progress(args.data_dir, backbone_config_from_args(args), bar)
    result = consume_training(backbone, data, prompt_config, train_config, bar, auto=auto)
    if result is None:
        say("training cancelled; nothing was written")
        return 130
    extra = {"auto_selection": result.auto_report} if result.auto_report else {}
    path = save_task(result, backbone, args.out, name=args.name or Path(args.out).stem, extra=extra)
    summary = {"task": str(path), "classes": result.classes, "metrics": result.metrics,
               "prompt": result.prompt_config.to_dict(), "rejection": result.rejection,
               "size_bytes": path.stat().st_size}
    if args.json:
        print_json(summary)
    else:
        say(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB): {describe_metrics(result.metrics)}")
    return 0


def describe_metrics(m: dict) -> str:
    check = (f", accuracy on {m['check_images']} pictures it did not train on ({m['check_method']}) "
             f"{m['check_accuracy']:.3f}" if m.get("check_accuracy") is not None else "")
    return (f"accuracy on its training pictures {m['train_accuracy']:.3f}{check}; {m['steps']} steps "
            f"({m['image_passes']} picture passes) in {format_seconds(m['total_seconds'])}")


def load_dataset_with_progress(data_dir: str, backbone_config, bar: ProgressBar, classes=None):
    """(Backbone, LoadedImages) for DATA_DIR, reporting counts, weight loading and skipped files."""
    from ..backbone import load_backbone
    from ..dataset import load_images, scan_image_folder

    index = scan_image_folder(data_dir, classes)
    say(f"{len(index.files)} images in {len(index.classes)} classes: "
        + ", ".join(f"{name} {count}" for name, count in index.counts().items()), bar.quiet)
    backbone = load_backbone(backbone_config)
    for line in (backbone.report.lines() if backbone.report else []):
        say(line, bar.quiet)
    if backbone_config.random_init:
        say("warning: the backbone has random weights; accuracy says nothing about real use", bar.quiet)
    images = load_images(index, backbone.preprocess, require_every_class=classes is None,
                         on_progress=lambda done, total: bar.update(done / total, f"reading images {done}/{total}"))
    bar.close()
    return backbone, images


def consume_training(backbone, data, prompt_config, train_config, bar: ProgressBar, auto=None):
    """Drive the training generator with a progress bar; None when cancelled."""
    from .. import events as ev
    from ..autoselect import train_task

    result, loss = None, None
    try:
        for event in train_task(backbone, data, prompt_config, train_config, auto):
            if isinstance(event, ev.TrainStep):
                loss = event.loss
            elif isinstance(event, ev.RunProgress):
                detail = f" loss {loss:.3f}" if loss is not None and event.stage == "train" else ""
                bar.update(event.fraction, f"{event.stage}{detail} ETA {format_seconds(event.eta_seconds)}")
            elif isinstance(event, ev.PhaseStarted):
                bar.line(f"{event.phase}: {event.message}")
            elif isinstance(event, ev.Notice):
                bar.line(f"note: {event.message}")
            elif isinstance(event, ev.Finished):
                result = event.result
            elif isinstance(event, ev.Cancelled):
                return None
    finally:
        bar.close()
    return result


def run_eval(args: argparse.Namespace) -> int:
    from ..dataset import load_images, scan_image_folder
    from ..inference import evaluate
    from vpt_core.metrics import format_confusion
    from ..taskpack import load_task

    task = load_task(args.task, weights=args.weights, device=args.device)
    index = scan_image_folder(args.data_dir, task.pack.classes)
    bar = ProgressBar(quiet=args.json)
    data = load_images(index, task.backbone.preprocess, require_every_class=False,
                       on_progress=lambda done, total: bar.update(done / total, f"reading images {done}/{total}"))
    bar.close()
    report = evaluate(task, data, args.batch_size)
    routing = report.routing(task.pack.min_confidence)
    document = {"task": str(args.task), **report.to_dict(), "uncertain": {**task.pack.rejection, **routing},
                "skipped": [str(p) for p, _ in data.skipped]}
    if args.json:
        print_json(document)
        return 0
    print(f"accuracy {report.accuracy:.4f} on {report.total} images "
          f"(balanced accuracy {report.balanced_accuracy:.4f})")
    print(describe_routing(routing))
    for name, value in report.per_class_accuracy.items():
        print(f"  {name:<20} {'n/a' if value is None else f'{value:.4f}'}")
    print(format_confusion(report))
    for path, reason in data.skipped:
        print(f"skipped: {reason}", file=sys.stderr)
    return 0


def describe_routing(routing: dict) -> str:
    if routing["min_confidence"] <= 0:
        return "uncertain: this task has no threshold (too few training pictures to calibrate one)"
    rest = "n/a" if routing["accuracy_of_rest"] is None else f"{routing['accuracy_of_rest']:.4f}"
    return (f"uncertain below confidence {routing['min_confidence']:.3f}: {routing['routed']} images "
            f"({routing['routed_fraction']:.1%}) would go to a person; accuracy of the rest {rest}")


def run_predict(args: argparse.Namespace) -> int:
    from ..inference import predict_files
    from ..taskpack import load_task

    task = load_task(args.task, weights=args.weights, device=args.device)
    predictions = predict_files(task, args.images)
    if args.json:
        print_json({"task": str(args.task), "predictions": [p.to_dict() for p in predictions]})
    else:
        for p in predictions:
            if p.error is not None:
                print(f"{p.path}\tERROR\t{p.error}")
            else:
                print(f"{p.path}\t{p.label}\t{p.confidence:.4f}" + ("\tuncertain" if p.uncertain else ""))
    return 0 if all(p.error is None for p in predictions) else 1
