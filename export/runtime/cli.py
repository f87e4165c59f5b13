"""``vpt infer`` and ``vpt deploy``: the station's own commands (torch-free).

Registration imports nothing heavy; each handler imports what it needs.
"""

from __future__ import annotations

import argparse
import json
import sys

from vpt_core.console import say


def register(commands) -> None:
    _register_infer(commands)
    _register_deploy(commands)


# -- registration --------------------------------------------------------------------------
def _register_infer(commands) -> None:
    parser = commands.add_parser(
        "infer", help="classify frames from images, a video, a camera or a stream with a bundle (no torch needed)",
        description="Print label, confidence and latency per frame. --json prints one JSON object per line and a "
                    "final summary object. Unreadable frames are skipped and counted; a lost camera is retried.")
    parser.add_argument("bundle", metavar="BUNDLE_DIR")
    parser.add_argument("--task", required=True, metavar="NAME")
    parser.add_argument("--source", required=True, metavar="IMAGE_DIR|VIDEO_FILE|CAMERA_INDEX|RTSP_URL")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--max-frames", type=int, default=None, metavar="N")
    parser.add_argument("--backend", choices=("auto", "onnxruntime", "tensorrt"), default="auto")
    parser.add_argument("--int8-cpu", action="store_true", help="use the bundle's INT8 CPU model")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime CPU threads")
    parser.add_argument("--max-retries", type=int, default=10, help="reconnect attempts for a lost camera/stream")
    parser.set_defaults(handler=run_infer)


def _register_deploy(commands) -> None:
    parser = commands.add_parser("deploy", help="TensorRT engines for a bundle (on the station)")
    sub = parser.add_subparsers(dest="deploy_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args: _print_help(parser))

    build = sub.add_parser("build-engine", help="build a TensorRT engine with the tensorrt Python API (10.x)")
    build.add_argument("bundle", metavar="BUNDLE_DIR")
    precision = build.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="fp16, LayerNorm/Softmax/reductions kept fp32")
    precision.add_argument("--int8", action="store_true", help="INT8 with entropy calibration (needs --calib-dir)")
    build.add_argument("--calib-dir", metavar="DIR", help="real images for INT8 calibration")
    build.add_argument("--calib-task", metavar="NAME", help="task whose prompts calibrate (default: the first)")
    build.add_argument("--max-batch", type=int, default=8)
    build.add_argument("--max-classes", type=int, help=argparse.SUPPRESS)   # heads left the engine in contract 2
    build.add_argument("--workspace-mib", type=int, default=None)
    build.set_defaults(handler=run_build_engine)

    register = sub.add_parser("register-engine", help="write the sidecar for an engine built by build_engine.sh")
    register.add_argument("bundle", metavar="BUNDLE_DIR")
    register.add_argument("engine", metavar="ENGINE_FILE")
    register.add_argument("--precision", required=True, choices=("fp32", "fp16", "int8"))
    register.add_argument("--max-batch", type=int, default=8)
    register.add_argument("--max-classes", type=int, help=argparse.SUPPRESS)
    register.add_argument("--opt-classes", type=int, help=argparse.SUPPRESS)
    register.set_defaults(handler=run_register_engine)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# -- handlers -------------------------------------------------------------------------------
def run_infer(args: argparse.Namespace) -> int:
    from .infer_loop import new_summary, run_inference
    from vpt_core.frames import FrameStream, RetryPolicy, SourceSpec
    from .station import Station

    station = Station(args.bundle, backend=args.backend, threads=args.threads, int8_cpu=args.int8_cpu)
    station.set_task(args.task)
    for note in station.notes:
        say(f"note: {note}")
    say(f"{station.description}, task {args.task}")
    source = FrameStream(SourceSpec.parse(args.source), retry=RetryPolicy(max_retries=args.max_retries), on_event=say)
    summary = new_summary(station, source)
    try:
        run_inference(station, source, sys.stdout, as_json=args.json, max_frames=args.max_frames, summary=summary)
    finally:
        _report_summary(summary, args)
        station.close()
    return 0


def _report_summary(summary, args) -> None:
    if args.json:  # JSON Lines throughout: one object per frame, then the summary object
        print(json.dumps(summary.to_dict(), ensure_ascii=False), flush=True)
    say(summary.describe())
    for reason in summary.stats.get("skipped_reasons", []):
        say(f"skipped: {reason}")


def run_build_engine(args: argparse.Namespace) -> int:
    from .trt_build import EngineBuildRequest, build_engine

    precision = "int8" if args.int8 else ("fp16" if args.fp16 else "fp32")
    _note_obsolete_class_options(args)
    request = EngineBuildRequest(precision=precision, max_batch=args.max_batch,
                                 calib_dir=args.calib_dir, calib_task=args.calib_task,
                                 workspace_mib=args.workspace_mib)
    path, sidecar = build_engine(args.bundle, request, log=say)
    print(f"wrote {path} ({sidecar.precision}, TensorRT {sidecar.tensorrt_version}, {sidecar.gpu_name}) and its "
          f"sidecar {path.with_suffix('.json').name}")
    return 0


def run_register_engine(args: argparse.Namespace) -> int:
    from .trt_build import register_engine

    _note_obsolete_class_options(args)
    sidecar = register_engine(args.bundle, args.engine, args.precision, args.max_batch)
    print(f"recorded {args.engine}: {sidecar.precision}, TensorRT {sidecar.tensorrt_version}, {sidecar.gpu_name}")
    return 0


def _note_obsolete_class_options(args: argparse.Namespace) -> None:
    if getattr(args, "max_classes", None) is not None or getattr(args, "opt_classes", None) is not None:
        say("note: --max-classes/--opt-classes are ignored: task heads run outside the engine, so an engine "
            "serves tasks with any number of classes")
