"""``vpt export`` and ``vpt bundle``.

Registration imports nothing heavy; each handler imports what it needs, so
``vpt bundle info``, ``add-task`` and ``quantize-cpu`` run on a station without torch.
"""

from __future__ import annotations

import argparse
from vpt_core.console import ProgressBar, print_json, say


def register(commands) -> None:
    _register_export(commands)
    _register_bundle(commands)


# -- registration --------------------------------------------------------------------------
def _register_export(commands) -> None:
    parser = commands.add_parser(
        "export", help="export task packs into a deploy bundle (backbone.onnx + tasks)",
        description="Export the frozen backbone once to ONNX with each image's prompts as inputs (heads are applied "
                    "outside the graph), check parity with PyTorch for every task and for a batch mixing them, "
                    "and write a deploy bundle.")
    parser.add_argument("tasks", nargs="+", metavar="TASK.vptask")
    parser.add_argument("--out", required=True, metavar="BUNDLE_DIR", help="bundle folder to create")
    parser.add_argument("--weights", metavar="FILE", help="backbone weights, if not where the packs recorded them")
    parser.add_argument("--parity-images", metavar="DIR",
                        help="real images for the parity check (default: synthetic part images)")
    parser.add_argument("--no-parity", action="store_true", help="skip the PyTorch/ONNX Runtime parity check")
    parser.add_argument("--tolerance", type=float, default=None, help="largest logit difference allowed (1e-4)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing bundle in BUNDLE_DIR")
    parser.add_argument("--prompt-slots", type=int, default=None, metavar="N",
                        help="prompt slots of the bundle: tasks added later may have up to N prompts (default: the "
                             "most any task here has, at least 10)")
    parser.add_argument("--json", action="store_true", help="print the export report as JSON")
    parser.set_defaults(handler=run_export)


def _register_bundle(commands) -> None:
    parser = commands.add_parser("bundle", help="inspect a deploy bundle, add tasks, add an INT8 CPU model")
    sub = parser.add_subparsers(dest="bundle_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args: _print_help(parser))

    add = sub.add_parser("add-task", help="add a task pack to a bundle (backbone.onnx stays byte-identical)")
    add.add_argument("bundle", metavar="BUNDLE_DIR")
    add.add_argument("task", metavar="NEW.vptask")
    add.add_argument("--replace", action="store_true", help="replace a task of the same name")
    add.add_argument("--parity", action="store_true", help="also compare with PyTorch (needs torch and weights)")
    add.add_argument("--weights", metavar="FILE")
    add.add_argument("--parity-images", metavar="DIR")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=run_add_task)

    remove = sub.add_parser("remove-task", help="take a task out of a bundle (not the last one)")
    remove.add_argument("bundle", metavar="BUNDLE_DIR")
    remove.add_argument("name", metavar="TASK_NAME")
    remove.set_defaults(handler=run_remove_task)

    rollback = sub.add_parser("rollback-task", help="serve a replaced task's previous version again")
    rollback.add_argument("bundle", metavar="BUNDLE_DIR")
    rollback.add_argument("name", metavar="TASK_NAME")
    rollback.set_defaults(handler=run_rollback_task)

    tidy = sub.add_parser("tidy", help="finish what an interrupted bundle change left (any change does this too)",
                          description="Remove task packs and models the manifest no longer names, temporary files "
                                      "and abandoned export staging folders, and rewrite build_engine.sh and "
                                      "README.txt if they no longer match manifest.json.")
    tidy.add_argument("bundle", metavar="BUNDLE_DIR")
    tidy.set_defaults(handler=run_tidy)

    info = sub.add_parser("info", help="what a bundle holds: contract, tasks, sizes, engines")
    info.add_argument("bundle", metavar="BUNDLE_DIR")
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=run_bundle_info)

    quant = sub.add_parser(
        "quantize-cpu", help="add an INT8 model for CPU stations, if it agrees with fp32 on the task's images",
        description="Quantise the backbone's MatMul/Gemm weights to INT8 with ONNX Runtime and keep the result only "
                    "if its top-1 agrees with fp32 on at least 99%% of the task's own images. Run once per task.")
    quant.add_argument("bundle", metavar="BUNDLE_DIR")
    quant.add_argument("--task", required=True, metavar="NAME")
    quant.add_argument("--images", required=True, metavar="DIR", help="the task's own images (sub-folders allowed)")
    quant.add_argument("--min-agreement", type=float, default=0.99)
    quant.add_argument("--max-images", type=int, default=500)
    quant.add_argument("--json", action="store_true")
    quant.set_defaults(handler=run_quantize_cpu)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# -- handlers -------------------------------------------------------------------------------
def run_export(args: argparse.Namespace) -> int:
    from .bundle_builder import export_bundle

    bar = ProgressBar(quiet=args.json)
    try:
        report = export_bundle(args.tasks, args.out, weights=args.weights, parity=not args.no_parity,
                               parity_images=args.parity_images, overwrite=args.overwrite, tolerance=args.tolerance,
                               prompt_slots=args.prompt_slots,
                               on_progress=lambda stage, fraction: bar.update(fraction, stage))
    finally:
        bar.close()
    if args.json:
        print_json(report.to_dict())
        return 0
    print(f"wrote {report.bundle_dir} in {report.seconds:.1f} s: backbone.onnx {report.backbone_bytes / 1e6:.1f} MB")
    for name, size in report.task_bytes.items():
        parity = report.parity.get(name)
        check = (f"parity max |logit diff| {parity['max_logit_diff']:.1e}, top-1 {parity['top1_matches']}/"
                 f"{parity['images']}" if parity else "no parity check")
        print(f"  task {name}: {size / 1024:.1f} KB, {check}")
    for note in report.notes:
        say(f"note: {note}")
    return 0


def run_add_task(args: argparse.Namespace) -> int:
    from .bundle_builder import add_task

    entry = add_task(args.bundle, args.task, replace=args.replace, parity=args.parity, weights=args.weights,
                     parity_images=args.parity_images)
    if args.json:
        print_json(entry)
    else:
        print(f"added task {entry['name']} ({len(entry['classes'])} classes, {entry['size_bytes'] / 1024:.1f} KB) "
              f"to {args.bundle}; backbone.onnx unchanged")
    return 0


def run_remove_task(args: argparse.Namespace) -> int:
    from .runtime.bundle_edit import remove_task

    entry = remove_task(args.bundle, args.name)
    print(f"removed task {entry['name']} from {args.bundle}; backbone.onnx unchanged")
    return 0


def run_rollback_task(args: argparse.Namespace) -> int:
    from .runtime.bundle_edit import rollback_task

    entry = rollback_task(args.bundle, args.name)
    print(f"task {args.name} in {args.bundle} is back to the version added {entry.get('added', '?')} "
          f"(sha256 {entry['sha256'][:12]})")
    return 0


def run_tidy(args: argparse.Namespace) -> int:
    from .runtime.bundle_edit import tidy_bundle

    done = tidy_bundle(args.bundle)
    for path in done:
        say(f"tidied: {path}")
    print(f"{args.bundle}: {len(done)} leftover(s) of interrupted changes tidied" if done else
          f"{args.bundle}: nothing to tidy")
    return 0


def run_bundle_info(args: argparse.Namespace) -> int:
    from .runtime.bundle import Bundle
    from .runtime.trt_sidecar import list_engines

    bundle = Bundle.open(args.bundle)
    document = {"bundle": str(bundle.root), "contract": bundle.contract.to_dict(),
                "backbone": {k: bundle.manifest["backbone"][k] for k in ("file", "sha256", "size_bytes", "opset")},
                "tasks": {name: {"classes": t.classes, "size_bytes": t.size_bytes, "parity": t.entry.get("parity")}
                          for name, t in bundle.tasks.items()},
                "int8_cpu": bundle.manifest.get("int8_cpu"), "engines": [p.name for p in list_engines(bundle.root)],
                "problems": dict(bundle.problems)}
    if args.json:
        print_json(document)
        return 0
    print(f"{bundle.root}: {bundle.contract.describe()}")
    print(f"  backbone.onnx {document['backbone']['size_bytes'] / 1e6:.1f} MB, opset {document['backbone']['opset']}")
    for name, task in document["tasks"].items():
        print(f"  task {name}: {len(task['classes'])} classes, {task['size_bytes'] / 1024:.1f} KB")
    for line in bundle.describe_problems():
        print(f"  {line}")
    if document["int8_cpu"]:
        print(f"  INT8 CPU model checked for: {', '.join(document['int8_cpu']['agreement']) or 'no task'}")
    print(f"  engines: {', '.join(document['engines']) or 'none'}")
    return 0


def run_quantize_cpu(args: argparse.Namespace) -> int:
    from vpt_core.schema import whole_number_option

    from .runtime.quantize import quantize_cpu

    whole_number_option(args.max_images, "--max-images", 1, allow_none=False)

    bar = ProgressBar(quiet=args.json)
    try:
        report = quantize_cpu(args.bundle, args.task, args.images, min_agreement=args.min_agreement,
                              max_images=args.max_images,
                              on_progress=lambda done, total: bar.update(done / max(1, total), f"{done}/{total} images"))
    finally:
        bar.close()
    for reason in report.skipped_reasons:
        say(f"skipped: {reason}", quiet=args.json)
    if args.json:
        print_json(report.to_dict())
    else:
        print(f"INT8 CPU model accepted for task {report.task}: top-1 agreement {report.agreement:.2%} "
              f"({report.matches}/{report.images}); {report.int8_bytes / 1e6:.1f} MB vs fp32 "
              f"{report.fp32_bytes / 1e6:.1f} MB")
    return 0
