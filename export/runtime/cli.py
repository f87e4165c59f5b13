"""``vpt infer``, ``vpt serve`` and ``vpt deploy``: the station's own commands (torch-free).

Registration imports nothing heavy; each handler imports what it needs.
"""

from __future__ import annotations

import argparse
import json
import sys

from vpt_core.console import say


def register(commands) -> None:
    _register_infer(commands)
    _register_serve(commands)
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


def _register_serve(commands) -> None:
    parser = commands.add_parser(
        "serve", help="run a bundle as a service: HTTP API for tasks and verdicts, results to logs/MQTT/webhooks",
        description="One backbone loaded once; tasks switched, added, replaced and rolled back over HTTP without a "
                    "restart; optional continuous inspection of --source; results to a JSON-lines log, kept "
                    "pictures, MQTT or a webhook. API description at http://HOST:PORT/docs. Needs the station "
                    "extra: pip install 'vpt-toolkit[station]'.")
    parser.add_argument("bundle", metavar="BUNDLE_DIR")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; anything else needs --token-file)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (0: any free port, printed at start)")
    parser.add_argument("--task", metavar="NAME", help="task current at start (default: the bundle's first)")
    parser.add_argument("--token-file", metavar="FILE", help="bearer token required on every call (first line)")
    parser.add_argument("--backend", choices=("auto", "onnxruntime", "tensorrt"), default="auto")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime CPU threads")
    source = parser.add_argument_group("continuous inspection")
    source.add_argument("--source", metavar="IMAGE_DIR|VIDEO_FILE|CAMERA_INDEX|RTSP_URL",
                        help="inspect frames continuously with the current task")
    source.add_argument("--source-loop", action="store_true", help="play a folder or video again at its end")
    source.add_argument("--source-fps", type=float, default=None, metavar="FPS", help="pace folders and videos")
    source.add_argument("--source-retry-window", type=float, default=30.0, metavar="SECONDS",
                        help="a lost camera may take this long to come back before /v1/health says 503 "
                             "(reconnecting goes on)")
    limits = parser.add_argument_group("limits")
    limits.add_argument("--max-upload-mb", type=float, default=32.0, help="largest request body")
    limits.add_argument("--max-pixels", type=int, default=50_000_000, help="largest picture (width x height)")
    limits.add_argument("--max-batch", type=int, default=None,
                        help="most pictures merged into one engine run (default: 1 on a CPU, where a batch is no "
                             "faster per picture; 8 on a GPU)")
    limits.add_argument("--results-kept", type=int, default=1000, help="results kept for GET /v1/results")
    limits.add_argument("--watch-interval", type=float, default=2.0, metavar="SECONDS",
                        help="look for bundle changes by other commands this often (0: never)")
    sinks = parser.add_argument_group("results leaving the station")
    sinks.add_argument("--log", metavar="DIR", help="one JSON line per result, rotated by size")
    sinks.add_argument("--log-file-mb", type=float, default=10.0)
    sinks.add_argument("--log-total-mb", type=float, default=100.0, help="never more than this on disk")
    sinks.add_argument("--save-images", metavar="DIR", help="keep pictures for review and retraining")
    sinks.add_argument("--save-classes", metavar="A,B", help="only pictures given these labels")
    sinks.add_argument("--save-uncertain", action="store_true", help="pictures whose result is uncertain")
    sinks.add_argument("--save-max-files", type=int, default=10_000, help="oldest deleted beyond this many")
    sinks.add_argument("--save-max-mb", type=float, default=2048.0, help="oldest deleted beyond this size")
    sinks.add_argument("--mqtt", metavar="mqtt://HOST:PORT/TOPIC", help="publish each result (QoS 1)")
    sinks.add_argument("--mqtt-buffer", type=int, default=1000, help="results kept while the broker is away")
    sinks.add_argument("--webhook", metavar="URL", help="POST each result as JSON, retried with back-off")
    sinks.add_argument("--webhook-buffer", type=int, default=1000, help="results kept while the receiver fails")
    parser.add_argument("--access-log", action="store_true", help="log every HTTP request")
    parser.set_defaults(handler=run_serve)


def _register_deploy(commands) -> None:
    parser = commands.add_parser("deploy", help="TensorRT engines for a bundle (on the station)")
    sub = parser.add_subparsers(dest="deploy_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args: _print_help(parser))

    build = sub.add_parser("build-engine", help="build a TensorRT engine with the tensorrt Python API (10.x)")
    build.add_argument("bundle", metavar="BUNDLE_DIR")
    precision = build.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="fp16 (TensorRT picks each layer's precision)")
    precision.add_argument("--int8", action="store_true", help="INT8 with entropy calibration (needs --calib-dir)")
    build.add_argument("--calib-dir", metavar="DIR", help="real images for INT8 calibration")
    build.add_argument("--calib-task", metavar="NAME",
                       help="calibrate for this task only; the engine then serves only it (default: every task)")
    build.add_argument("--keep-fp32-layers", action="store_true",
                       help="hold LayerNorm, Softmax and reductions in fp32 (precision constraints)")
    build.add_argument("--max-batch", type=int, default=8)
    build.add_argument("--max-classes", type=int, help=argparse.SUPPRESS)   # heads left the engine in contract 2
    build.add_argument("--workspace-mib", type=int, default=None)
    build.set_defaults(handler=run_build_engine)

    register = sub.add_parser("register-engine", help="write the sidecar for an engine built by build_engine.sh")
    register.add_argument("bundle", metavar="BUNDLE_DIR")
    register.add_argument("engine", metavar="ENGINE_FILE")
    register.add_argument("--precision", required=True, choices=("fp32", "fp16", "int8"))
    register.add_argument("--max-batch", type=int, default=None,
                          help="only compared: the batch range is read from the engine itself")
    register.add_argument("--onnx-sha256", metavar="SHA256", help="sha256 of the ONNX file the engine was built from")
    register.add_argument("--fp32-layers", action="store_true",
                          help="the engine holds LayerNorm/Softmax/reductions in fp32 (build_engine.sh fp16-fp32norm)")
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
    from vpt_core.schema import whole_number_option
    from .station import Station

    whole_number_option(args.max_frames, "--max-frames", 1)
    whole_number_option(args.threads, "--threads", 1)
    whole_number_option(args.max_retries, "--max-retries", 0)
    spec = SourceSpec.parse(args.source)   # before the bundle is loaded: a wrong source is said at once
    station = Station(args.bundle, backend=args.backend, threads=args.threads, int8_cpu=args.int8_cpu)
    station.set_task(args.task)
    for note in station.notes:
        say(f"note: {note}")
    say(f"{station.description}, task {args.task}")
    source = FrameStream(spec, retry=RetryPolicy(max_retries=args.max_retries), on_event=say)
    summary = new_summary(station, source)
    try:
        run_inference(station, source, sys.stdout, as_json=args.json, max_frames=args.max_frames, summary=summary)
    finally:
        _report_summary(summary, args)
        station.close()
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from vpt_core.errors import VptError

    try:
        from .serve.options import options_from_args
        from .serve.server import serve
    except ImportError as error:
        if error.name and error.name.split(".")[0] in STATION_PACKAGES:
            raise VptError(f"vpt serve needs the station extra ({error.name} is not installed): "
                           "pip install 'vpt-toolkit[station]'") from error
        raise
    return serve(options_from_args(args), token_file=args.token_file)


STATION_PACKAGES = {"fastapi", "starlette", "uvicorn", "prometheus_client", "pydantic", "multipart",
                    "python_multipart", "anyio"}


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
                                 workspace_mib=args.workspace_mib, keep_fp32_layers=args.keep_fp32_layers)
    path, sidecar = build_engine(args.bundle, request, log=say)
    print(f"wrote {path} ({sidecar.precision}, TensorRT {sidecar.tensorrt_version}, {sidecar.gpu_name}) and its "
          f"sidecar {path.with_suffix('.json').name}")
    return 0


def run_register_engine(args: argparse.Namespace) -> int:
    from .trt_build import register_engine

    _note_obsolete_class_options(args)
    sidecar = register_engine(args.bundle, args.engine, args.precision, args.max_batch,
                              onnx_sha256=args.onnx_sha256, fp32_layers=args.fp32_layers, log=say)
    print(f"recorded {sidecar.engine_file}: {sidecar.precision}, batch {sidecar.profile['batch']}, TensorRT "
          f"{sidecar.tensorrt_version}, {sidecar.machine.describe()}")
    return 0


def _note_obsolete_class_options(args: argparse.Namespace) -> None:
    if getattr(args, "max_classes", None) is not None or getattr(args, "opt_classes", None) is not None:
        say("note: --max-classes/--opt-classes are ignored: task heads run outside the engine, so an engine "
            "serves tasks with any number of classes")
