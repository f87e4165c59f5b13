"""``vpt triton export | add-task | serve`` (torch-free; registered through the ``vpt.commands`` entry point).

Registration imports nothing heavy; each handler imports what it needs, and
only ``serve`` needs the optional ``[triton]`` extra.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
from pathlib import Path

from vpt_core.console import print_json, say


def register(commands) -> None:
    parser = commands.add_parser(
        "triton", help="serve every task of a bundle from one NVIDIA Triton Inference Server",
        description="A Triton model repository in which requests for different tasks share one backbone batch.")
    sub = parser.add_subparsers(dest="triton_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args: _print_help(parser))
    _register_export(sub)
    _register_add_task(sub)
    _register_serve(sub)


def _register_export(sub) -> None:
    export = sub.add_parser("export", help="write a Triton model repository from a deploy bundle",
                            description="Models: 'vpt' (IMAGE bytes + TASK name -> LABEL, CONFIDENCE, PROBABILITIES, "
                                        "...; dynamic batching across tasks) and 'vpt_backbone' (loaded once).")
    export.add_argument("bundle", metavar="BUNDLE_DIR")
    export.add_argument("--out", required=True, metavar="REPO_DIR")
    export.add_argument("--max-batch", type=int, default=16, help="largest merged batch (default 16)")
    export.add_argument("--queue-delay-us", type=int, default=2000,
                        help="how long the batcher waits for more requests, in microseconds (default 2000)")
    export.add_argument("--instances", type=int, default=2,
                        help="dispatch model instances (default 2: one decodes while the other waits for the backbone)")
    export.add_argument("--backbone-device", choices=("cpu", "gpu"), default="cpu",
                        help="where the Python-backend backbone runs (gpu: needs onnxruntime-gpu)")
    export.add_argument("--backbone-threads", type=int, default=0, help="ONNX Runtime threads (0: its default)")
    export.add_argument("--preprocess-threads", type=int, default=0,
                        help="decoding threads per dispatch instance (0: min(8, cores))")
    export.add_argument("--overwrite", action="store_true", help="replace a repository already at REPO_DIR")
    export.add_argument("--json", action="store_true")
    export.set_defaults(handler=run_export)


def _register_add_task(sub) -> None:
    add = sub.add_parser("add-task", help="add a task to a repository; a running server reloads only 'vpt'",
                         description="Validated exactly like 'vpt bundle add-task'. With a server (--server, or the "
                                     "one 'vpt triton serve' runs on this repository) the dispatch model is reloaded; "
                                     "the backbone stays loaded.")
    add.add_argument("repository", metavar="REPO_DIR")
    add.add_argument("task", metavar="TASK.vptask")
    add.add_argument("--replace", action="store_true", help="replace a task of the same name")
    add.add_argument("--server", metavar="URL", help="Triton's HTTP address, e.g. http://127.0.0.1:8000")
    add.add_argument("--no-reload", action="store_true", help="only change the repository")
    add.add_argument("--reload-timeout", type=float, default=300.0, metavar="SECONDS")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=run_add_task)


def _register_serve(sub) -> None:
    serve = sub.add_parser("serve", help="run tritonserver on a repository, on 127.0.0.1 (needs the [triton] extra)",
                           description="Starts the tritonserver of the nvidia-pytriton wheel (Python backend, CPU or "
                                       "GPU) in explicit model-control mode with the repository's models loaded, "
                                       "listening on 127.0.0.1 only. Ctrl-C stops it.")
    serve.add_argument("repository", metavar="REPO_DIR")
    serve.add_argument("--http-port", type=int, default=8000)
    serve.add_argument("--grpc-port", type=int, default=8001)
    serve.add_argument("--metrics-port", type=int, default=8002)
    serve.add_argument("--startup-timeout", type=float, default=300.0, metavar="SECONDS")
    serve.add_argument("--log-verbose", type=int, default=0, metavar="LEVEL")
    serve.set_defaults(handler=run_serve)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# -- handlers -------------------------------------------------------------------------------
def run_export(args: argparse.Namespace) -> int:
    from .model_config import ServingSettings
    from .repository import export_repository

    settings = ServingSettings(max_batch=args.max_batch, queue_delay_us=args.queue_delay_us,
                               dispatch_instances=args.instances, backbone_device=args.backbone_device,
                               backbone_threads=args.backbone_threads, preprocess_threads=args.preprocess_threads)
    report = export_repository(args.bundle, args.out, settings, overwrite=args.overwrite)
    if args.json:
        print_json(report.to_dict())
        return 0
    stored = "stored once (hard link)" if report.backbone_linked else "stored twice (no hard links here)"
    print(f"wrote {report.root}: models {', '.join(report.layout.model_names)}; tasks {', '.join(report.tasks)}; "
          f"backbone {report.backbone_bytes / 1e6:.1f} MB {stored}")
    for note in report.notes:
        say(f"note: {note}")
    say(f"serve it here with: vpt triton serve {report.root}")
    return 0


def run_add_task(args: argparse.Namespace) -> int:
    from .control import TritonControlError, TritonHttp
    from .repository import add_task
    from .spec import RepositoryLayout

    layout = RepositoryLayout.open(args.repository)
    entry = add_task(layout.root, args.task, replace=args.replace)
    url = None if args.no_reload else (args.server or running_server_url(layout))
    if url:
        try:
            TritonHttp(url).load_model(layout.dispatch_model, timeout=args.reload_timeout)
        except TritonControlError as error:
            raise TritonControlError(f"task {entry['name']!r} was added to {layout.root}, but reloading model "
                                     f"{layout.dispatch_model!r} failed: {error}") from error
    if args.json:
        print_json({"task": entry, "reloaded_on": url})
        return 0
    added = f"added task {entry['name']} ({len(entry['classes'])} classes, {entry['size_bytes'] / 1024:.1f} KB) " \
            f"to {layout.root}"
    if url:
        print(f"{added}; reloaded model '{layout.dispatch_model}' on {url} (the backbone stays loaded)")
    else:
        reason = "--no-reload" if args.no_reload else "no running 'vpt triton serve' found (pass --server URL)"
        print(f"{added}; {reason}: servers load it when they start or reload '{layout.dispatch_model}'")
    return 0


def running_server_url(layout) -> str | None:
    """The HTTP address 'vpt triton serve' recorded for this repository, if that server still answers."""
    from .control import TritonHttp

    try:
        document = json.loads(layout.server_state_file.read_text(encoding="utf-8"))
        url = str(document["http"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if TritonHttp(url, timeout=2.0).is_live() else None


def run_serve(args: argparse.Namespace) -> int:
    from .dispatch import TaskTable
    from .server import Ports, TritonServer, TritonServerError
    from .spec import RepositoryLayout, read_backbone_info

    layout = RepositoryLayout.open(args.repository)
    table = TaskTable.open(layout.bundle_dir)         # a damaged repository fails here, in one line
    read_backbone_info(layout.backbone_info)
    server = TritonServer([layout.root], layout.model_names, startup_timeout=args.startup_timeout,
                          ports=Ports(args.http_port, args.grpc_port, args.metrics_port), log_verbose=args.log_verbose)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.start()
        _write_server_state(layout, server)
        say(f"serving {layout.root} (tasks {', '.join(table.tasks)}): HTTP {server.http_url}, gRPC {server.grpc_url}, "
            f"metrics {server.metrics_url}; Ctrl-C stops")
        code = server.wait()
        if code:
            raise TritonServerError(f"tritonserver stopped with exit code {code}")
        return 0
    except KeyboardInterrupt:
        say("stopping tritonserver")
        return 0
    finally:
        server.stop()
        _remove_server_state(layout)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _write_server_state(layout, server) -> None:
    from vpt_core.atomicio import atomic_write_json
    from vpt_core.errors import DiskWriteError

    try:
        atomic_write_json(layout.server_state_file, {"http": server.http_url, "grpc": server.grpc_url,
                                                     "metrics": server.metrics_url, "pid": os.getpid()})
    except DiskWriteError as error:   # a read-only repository still serves; add-task then needs --server
        say(f"note: {error}; 'vpt triton add-task' will need --server {server.http_url}")


def _remove_server_state(layout) -> None:
    with contextlib.suppress(OSError):
        document = json.loads(Path(layout.server_state_file).read_text(encoding="utf-8"))
        if document.get("pid") == os.getpid():
            layout.server_state_file.unlink()
