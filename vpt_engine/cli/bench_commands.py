"""``vpt bench`` and ``vpt analyze`` (accuracy grid and prompt diagnostics)."""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path

from vpt_core.console import print_json, say

from .common import add_backbone_options, add_weights_options, backbone_config_from_args

DECISION_RULE = ("goals decided by the paired rule of vpt_engine.bench.report.DECISION_RULE (one-sided 95% "
                 "lower bound of the mean paired difference over seeds)")


def register(commands) -> None:
    _register_bench(commands)
    _register_analyze(commands)


def _register_bench(commands) -> None:
    from ..prompts import HeadFeatures

    parser = commands.add_parser(
        "bench", help="few-shot accuracy grid: prompt initialisations and lengths against baselines",
        description="k images per class for training, all the others for testing; the same split for every "
                    "method within a seed. Results (mean ± std over seeds) go to OUT as results.md, .json and "
                    ".png; finished cells are kept, so an interrupted run resumes where it stopped.")
    parser.add_argument("data_dir", metavar="DATA_DIR")
    add_backbone_options(parser, required=False)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for cells, cache and reports")
    grid = parser.add_argument_group("grid")
    grid.add_argument("--shots", default="1,5,10", help="images per class for training (default 1,5,10)")
    grid.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    grid.add_argument("--first-seed", type=int, default=0)
    grid.add_argument("--inits", default="random,sample,mean_pool,max_pool,kmeans",
                      help="prompt initialisations; add 'auto' for the automatic choice")
    grid.add_argument("--prompts", default="10",
                      help="prompt counts, e.g. 0,10,20 (0: no prompts); 'auto' for the automatic choice")
    grid.add_argument("--depth", default="deep", help="deep, shallow or deep,shallow")
    grid.add_argument("--baselines", default="linear,class_mean",
                      help="linear, class_mean, linear_wide (probe on pooled + mean patch features), linear_max "
                           "(probe on the block maxima), full (slow) or none (default linear,class_mean)")
    grid.add_argument("--head-init", choices=("probe", "normal", "class_mean"), default=None)
    grid.add_argument("--head-features", choices=[choice.value for choice in HeadFeatures], default=None)
    training = parser.add_argument_group("training (the engine's defaults unless given)")
    training.add_argument("--steps", type=int)
    training.add_argument("--batch-size", type=int)
    training.add_argument("--lr", type=float)
    training.add_argument("--no-augment", action="store_true")
    training.add_argument("--auto-budget", type=float, metavar="SECONDS", help="time budget per auto selection")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (e.g. 1 to leave other cores free)")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the report from finished cells")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON document on stdout")
    parser.set_defaults(handler=run_bench)


def _register_analyze(commands) -> None:
    parser = commands.add_parser(
        "analyze", help="prompt/patch mutual information and cosine similarity per layer of a task pack",
        description="Per layer: normalised mutual information between prompt and patch tokens and the cosine "
                    "similarity of each prompt to its nearest patch tokens, at initialisation and after training.")
    parser.add_argument("task", metavar="TASK.vptask")
    parser.add_argument("data_dir", metavar="DATA_DIR")
    add_weights_options(parser)
    parser.add_argument("--out", metavar="DIR", help="write analysis.json, analysis.md and analysis.png here")
    parser.add_argument("--images", type=int, default=32, help="images used for the estimate (default 32)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_analyze)


def bench_config_from_args(args: argparse.Namespace):
    from vpt_core.errors import ConfigError

    from ..bench.config import BenchConfig, parse_list
    from ..prompts import PromptConfig
    from ..train_config import TrainConfig

    if args.seeds < 1 or args.first_seed < 0:
        raise ConfigError(f"--seeds must be at least 1 and --first-seed at least 0, got {args.seeds}, "
                          f"{args.first_seed}")
    overrides = {"device": args.device}
    for option, name in (("steps", "steps"), ("batch_size", "batch_size"), ("lr", "learning_rate")):
        if getattr(args, option) is not None:
            overrides[name] = getattr(args, option)
    if args.no_augment:
        import dataclasses

        overrides["augment"] = dataclasses.replace(TrainConfig().augment, enabled=False)
    train = TrainConfig(**overrides)
    auto = None
    if args.auto_budget is not None:
        from ..autoselect import AutoSelectConfig

        auto = AutoSelectConfig(time_budget_s=args.auto_budget)
    baselines = [] if args.baselines.strip().lower() == "none" else parse_list(args.baselines, "--baselines")
    return BenchConfig(shots=tuple(parse_list(args.shots, "--shots")),
                       seeds=tuple(range(args.first_seed, args.first_seed + args.seeds)),
                       inits=tuple(parse_list(args.inits, "--inits")),
                       prompts=tuple(parse_list(args.prompts, "--prompts")),
                       depths=tuple(parse_list(args.depth, "--depth")), baselines=tuple(baselines),
                       head_init=args.head_init or PromptConfig().head_init,
                       head_features=args.head_features or PromptConfig().head_features, train=train, auto=auto)


def report_settings(args: argparse.Namespace, config) -> dict:
    import torch

    train = config.train
    budget = (f"{train.steps} steps" if train.steps else
              f"{train.passes_per_image:g} looks per picture, {train.min_steps}-{train.max_steps} steps")
    backbone = args.backbone or "embedded model"
    return {
        "title": f"vpt bench: {Path(args.data_dir).name}, {backbone}",
        "data": str(args.data_dir), "backbone": backbone, "weights": args.weights, "image fit": args.image_fit,
        "shots": list(config.shots), "seeds": list(config.seeds),
        "training": f"{budget}, batch up to {train.batch_size}, lr {train.learning_rate}, augmentation "
                    f"{'on' if train.augment.enabled else 'off'}, head init {config.head_init.value}, head features "
                    f"{config.head_features.value}",
        "rule": DECISION_RULE,
        "test set": "every image not used for training (no cap)",
        "machine": ("as recorded in each cell (threads, device)" if args.report_only else
                    f"{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}, "
                    f"device {args.device}"),
        "report written": dt.datetime.now().isoformat(timespec="seconds"),
    }


def run_bench(args: argparse.Namespace) -> int:
    import torch

    from ..bench import BenchInterrupted, run_benchmark, write_report
    from ..bench.store import CellStore
    from vpt_core.console import ProgressBar
    from .engine_commands import load_dataset_with_progress

    if args.threads:
        torch.set_num_threads(args.threads)
    config = bench_config_from_args(args)
    out = Path(args.out)
    if args.report_only:
        cells = list(CellStore(out).all_cells())
    else:
        backbone, data = load_dataset_with_progress(args.data_dir, backbone_config_from_args(args),
                                                    ProgressBar(quiet=args.json))
        from ..training import resolve_device

        backbone.to(resolve_device(args.device))
        started = time.perf_counter()
        log = (lambda message: say(f"{dt.datetime.now():%H:%M:%S} {message}", args.json))
        try:
            cells = run_benchmark(backbone, data, config, out, log=log)
        except (BenchInterrupted, KeyboardInterrupt):
            say(f"interrupted after {time.perf_counter() - started:.0f} s; run the same command to resume")
            raise KeyboardInterrupt from None
    settings = report_settings(args, config)
    settings["measured wall time"] = f"{sum(c.get('wall_seconds', 0) for c in cells) / 3600:.2f} h over {len(cells)} cells"
    paths = write_report(out, cells, settings, seeds=None if args.report_only else config.seeds)
    if args.json:
        import json

        print_json(json.loads(paths["json"].read_text()))
    else:
        print(paths["markdown"].read_text())
        say(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def run_analyze(args: argparse.Namespace) -> int:
    from ..analysis import analyze_task_pack, write_analysis

    report = analyze_task_pack(args.task, args.data_dir, weights=args.weights, device=args.device,
                               max_images=args.images)
    paths = write_analysis(report, args.out) if args.out else {}
    if args.json:
        print_json({**report, "files": {k: str(v) for k, v in paths.items()}})
    else:
        from ..analysis import format_analysis

        print(format_analysis(report))
        if paths:
            say(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0
