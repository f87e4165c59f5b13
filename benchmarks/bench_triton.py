"""Four tasks served by Triton: one mixed-task model versus one model per task, throughput, memory, latency.

    python benchmarks/bench_triton.py [--backbone vit_small_patch16_224] [--batch 16] [--seconds 20]
                                      [--device cpu|gpu] [--work /tmp/vpt-bench-triton] [--out benchmarks/results/triton]

Issue 13's figures, all measured in one run against real tritonservers (the
nvidia-pytriton wheel, Python backend; the backbone runs ONNX Runtime on the CPU,
or on the GPU with ``--device gpu`` and onnxruntime-gpu):

* **(a)** ``vpt`` -- one dispatch model, one backbone, dynamic batching merges
  requests of all 4 tasks (tasks cycle from request to request);
* **single** -- the same server and concurrency, every request for one task
  (the "single-task batched run of the same size"); rounds of (a) and single are
  interleaved and the ratio is the median of per-round ratios;
* **(b)** one model pair (dispatch + backbone) per task, one instance each, 4
  backbones, requests cycling over the 4 models;
* **(c)** requests sent one by one (one client, waiting for each answer) to (a).

Goals: (a) >= 0.9x single; memory of (a) at least 3x below (b). Memory is the
resident memory (RSS; PSS beside it, which counts shared pages once) of
tritonserver and its Python stub processes, sampled during the runs (peak),
plus GPU memory of those processes when nvidia-smi is present. Then latency
p50/p99 at one fixed request rate (half the smaller of the two throughputs) for
(a) and (b), open loop (latency counted from each request's scheduled time).

Clients are tritonclient HTTP, one connection per thread, in this process; on
a small machine they share its cores with the server, alike for every variant.
Random backbone weights: speed and memory do not depend on them.
"""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import asdict, dataclass, replace
import io
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from _common import machine_description

TASKS = {"surface": 4, "variant": 3, "holes": 6, "print": 5}
NUM_PROMPTS = 10
GOAL_MIXED_OVER_SINGLE = 0.9
GOAL_MEMORY_RATIO = 3.0


# -- setup ------------------------------------------------------------------------------------------
def ensure_bundle(work: Path, model: str) -> Path:
    """A 4-task bundle for ``model`` (random weights, deep prompts), exported once per work folder."""
    bundle = work / model / "bundle"
    if (bundle / "manifest.json").is_file():
        return bundle
    from vpt_core.packformat import BackboneFingerprint, TaskPackData
    from vpt_engine.backbone import BackboneConfig, load_backbone
    from vpt_engine.taskpack import weights_source

    from export.bundle_builder import export_bundle

    backbone = load_backbone(BackboneConfig(model, random_init=True))
    fingerprint = BackboneFingerprint.from_dict({**backbone.fingerprint.to_dict(),
                                                 "weights_source": weights_source(backbone.config)})
    rng = np.random.default_rng(0)
    packs = []
    for name, classes in TASKS.items():
        pack = TaskPackData(prompts=rng.normal(0, 0.05, (backbone.depth, NUM_PROMPTS, backbone.embed_dim)),
                            head_weight=rng.normal(0, 0.05, (classes, backbone.embed_dim)),
                            head_bias=np.zeros(classes), classes=[f"{name}_{i}" for i in range(classes)],
                            backbone=fingerprint, prompt_config={"num_prompts": NUM_PROMPTS, "depth": "deep"},
                            preprocess=backbone.preprocess.to_dict(), name=name)
        packs.append(pack.save(work / model / f"{name}.vptask"))
    started = time.perf_counter()
    export_bundle(packs, bundle, parity_images=None)
    print(f"exported {bundle} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return bundle


def write_repositories(bundle: Path, work: Path, settings, per_task_settings) -> tuple[Path, list[Path]]:
    """(a): one repository serving all tasks; (b): one repository per task, each with its own backbone.

    (b) runs one instance of each model (the literal "one model instance per task", and its smallest memory).
    """
    from export.runtime.bundle_edit import remove_task
    from export.runtime.triton.repository import export_repository
    from export.runtime.triton.spec import RepositoryLayout

    mixed = export_repository(bundle, work / "repo_mixed", settings, overwrite=True).root
    per_task = []
    for task in TASKS:
        root = export_repository(bundle, work / f"repo_{task}", per_task_settings, overwrite=True,
                                 dispatch_model=f"vpt_{task}", backbone_model=f"vpt_{task}_backbone").root
        for other in TASKS:
            if other != task:
                remove_task(RepositoryLayout.open(root).bundle_dir, other)
        per_task.append(root)
    return mixed, per_task


def camera_pictures(count: int = 32) -> list[bytes]:
    """640x480 JPEGs with texture and parts, as cameras would send them."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(1)
    pictures = []
    for index in range(count):
        pixels = np.clip(rng.normal(120, 25, (480, 640, 3)), 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels)
        draw = ImageDraw.Draw(image)
        x, y = rng.integers(100, 400), rng.integers(100, 300)
        draw.ellipse((x, y, x + 160, y + 160), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        pictures.append(buffer.getvalue())
    return pictures


# -- load ------------------------------------------------------------------------------------------
class Client:
    """One HTTP connection; ``send`` returns the latency in seconds."""

    def __init__(self, url: str):
        import tritonclient.http as http

        self._http = http
        self.client = http.InferenceServerClient(url, network_timeout=600)

    def send(self, model: str, picture: bytes, task: str) -> float:
        http = self._http
        image = http.InferInput("IMAGE", [1, 1], "BYTES")
        image.set_data_from_numpy(np.array([[picture]], dtype=object))
        name = http.InferInput("TASK", [1, 1], "BYTES")
        name.set_data_from_numpy(np.array([[task.encode()]], dtype=object))
        started = time.perf_counter()
        result = self.client.infer(model, [image, name], outputs=[http.InferRequestedOutput("LABEL")])
        result.as_numpy("LABEL")
        return time.perf_counter() - started

    def close(self) -> None:
        self.client.close()


def closed_loop(url: str, route, pictures: list[bytes], clients: int, seconds: float, server_pid: int | None = None) -> dict:
    """``clients`` threads each sending its next request as soon as the last is answered; requests per second.

    With ``server_pid``, also the server's CPU time per answered request: other jobs on a shared machine
    take cores away (wall-clock throughput drops) but hardly change the CPU time a request costs.
    """
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else None
    stop = time.perf_counter() + seconds
    counts = [0] * clients

    def worker(index: int) -> None:
        client = Client(url)
        try:
            request = index
            while time.perf_counter() < stop:
                model, task = route(request)
                client.send(model, pictures[request % len(pictures)], task)
                counts[index] += 1
                request += clients
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - started
    result = {"requests": sum(counts), "seconds": elapsed, "throughput": sum(counts) / elapsed}
    if server_pid:
        result["server_cpu_s_per_request"] = (tree_cpu_seconds(server_pid) - cpu_before) / max(1, sum(counts))
    return result


def open_loop(url: str, route, pictures: list[bytes], rate: float, seconds: float, workers: int = 64) -> dict:
    """Requests scheduled at ``rate`` per second; latency from each one's scheduled time to its answer."""
    total = max(1, int(rate * seconds))
    start = time.perf_counter() + 0.5
    latencies: list[float] = []
    lock = threading.Lock()
    next_request = iter(range(total))

    def worker() -> None:
        client = Client(url)
        try:
            while True:
                with lock:
                    request = next(next_request, None)
                if request is None:
                    return
                scheduled = start + request / rate
                time.sleep(max(0.0, scheduled - time.perf_counter()))
                model, task = route(request)
                client.send(model, pictures[request % len(pictures)], task)
                with lock:
                    latencies.append(time.perf_counter() - scheduled)
        finally:
            client.close()

    with ThreadPoolExecutor(workers) as pool:
        for _ in range(workers):
            pool.submit(worker)
    values = np.asarray(latencies) * 1000
    return {"rate": rate, "requests": total, "p50_ms": float(np.percentile(values, 50)),
            "p99_ms": float(np.percentile(values, 99)), "max_ms": float(values.max())}


# -- memory ----------------------------------------------------------------------------------------
def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.parent.name))
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack += children.get(pid, [])
    return tree


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU time of ``root`` and its descendants so far (the server and its stubs)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])     # utime, stime
    return total / ticks


def tree_memory_mib(root: int) -> dict:
    """RSS and PSS of ``root`` and its descendants, in all and per process (named by model folder)."""
    parts = []
    for pid in process_tree(root):
        try:
            parts.append({"process": _process_name(pid),
                          "rss_mib": _kib(Path(f"/proc/{pid}/status"), "VmRSS:") / 1024,
                          "pss_mib": _kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss:") / 1024})
        except OSError:
            continue
    return {"rss_mib": sum(p["rss_mib"] for p in parts), "pss_mib": sum(p["pss_mib"] for p in parts),
            "processes": len(parts), "gpu_mib": _gpu_mib(root), "per_process": parts}


def _process_name(pid: int) -> str:
    """tritonserver, or the model a Python stub runs (its model.py path names the model folder)."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    model = next((arg.decode() for arg in argv if arg.endswith(b"/model.py")), None)
    return Path(model).parent.parent.name if model else Path(argv[0].decode()).name


def _kib(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def _gpu_mib(root: int) -> float | None:
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return None
    done = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                          capture_output=True, text=True, timeout=30)
    pids = set(process_tree(root))
    return float(sum(int(used) for pid, used in (line.split(",") for line in done.stdout.strip().splitlines() if line)
                     if int(pid) in pids))


class MemorySampler:
    """Peak of the server's process-tree memory while a block runs (sampled every 0.5 s)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, {"rss_mib": 0.0, "pss_mib": 0.0}, threading.Event()

    def __enter__(self) -> "MemorySampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            sample = tree_memory_mib(self.pid)
            if sample["rss_mib"] > self.peak["rss_mib"]:
                self.peak = sample

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


# -- the run ---------------------------------------------------------------------------------------
def serve(repositories: list[Path], work: Path, name: str):
    from export.runtime.triton.spec import RepositoryLayout
    from export.runtime.triton.server import TritonServer

    models = [model for root in repositories for model in RepositoryLayout.open(root).model_names]
    return TritonServer(repositories, models, log_path=work / f"server_{name}.log", startup_timeout=600).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="vit_small_patch16_224")
    parser.add_argument("--batch", type=int, default=16, help="max_batch_size of every model")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each throughput window")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of mixed and single-task load")
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="length of each fixed-rate run")
    parser.add_argument("--memory-only", action="store_true",
                        help="only memory, under one window of load (for backbones too slow for throughput here)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--instances", type=int, default=2, help="dispatch model instances of (a) (export's default)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/vpt-bench-triton"))
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "triton")
    args = parser.parse_args()

    from export.runtime.triton.model_config import ServingSettings
    from vpt_core.atomicio import atomic_write_json, atomic_write_text

    args.work.mkdir(parents=True, exist_ok=True)
    bundle = ensure_bundle(args.work, args.backbone)
    settings = ServingSettings(max_batch=args.batch, backbone_device=args.device, dispatch_instances=args.instances)
    mixed_repo, task_repos = write_repositories(bundle, args.work, settings, replace(settings, dispatch_instances=1))
    load = Load(pictures=camera_pictures(), clients=2 * args.batch, seconds=args.seconds)   # one batch runs, one fills
    report = {"machine": machine_description(), "backbone": args.backbone, "prompts": f"{NUM_PROMPTS} deep",
              "tasks": TASKS, "device": args.device, "max_batch": args.batch, "clients": load.clients,
              "window_s": args.seconds, "settings_a": asdict(settings), "memory_only": args.memory_only,
              "settings_b": asdict(replace(settings, dispatch_instances=1))}

    print("(a): one vpt model, 4 tasks", file=sys.stderr)
    with served([mixed_repo], args.work, "mixed") as server:
        report["a"] = measure_mixed(server, load, 1 if args.memory_only else args.rounds, args.memory_only)
    print("(b): one model pair per task, 4 backbones", file=sys.stderr)
    with served(task_repos, args.work, "per_task") as server:
        report["b"] = measure_per_task(server, load, 1 if args.memory_only else args.rounds)
        if not args.memory_only:
            rate = 0.5 * min(report["a"]["mixed_throughput"], report["b"]["throughput"])
            report["b"]["latency"] = open_loop(server.http_url.removeprefix("http://"), route_per_task, load.pictures,
                                               rate, args.latency_seconds)
    if not args.memory_only:
        with served([mixed_repo], args.work, "mixed_latency") as server:
            report["a"]["latency"] = open_loop(server.http_url.removeprefix("http://"), route_mixed, load.pictures,
                                               rate, args.latency_seconds)
        report["latency_rate_per_s"] = rate
    report["b_over_a_memory"] = {kind: report["b"]["memory_" + kind]["rss_mib"] / report["a"]["memory_" + kind]["rss_mib"]
                                 for kind in ("peak", "idle")}
    report["b_over_a_memory_pss"] = {
        kind: report["b"]["memory_" + kind]["pss_mib"] / report["a"]["memory_" + kind]["pss_mib"]
        for kind in ("peak", "idle")}
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"bench_triton_{args.device}_{args.backbone}" + ("_memory" if args.memory_only else "")
    atomic_write_json(args.out / f"{stem}.json", report)
    atomic_write_text(args.out / f"{stem}.md", summary(report))
    print(summary(report))


@dataclass
class Load:
    pictures: list[bytes]
    clients: int
    seconds: float


def route_mixed(request: int) -> tuple[str, str]:
    return "vpt", list(TASKS)[request % len(TASKS)]


def route_single(request: int) -> tuple[str, str]:
    return "vpt", list(TASKS)[0]


def route_per_task(request: int) -> tuple[str, str]:
    task = list(TASKS)[request % len(TASKS)]
    return f"vpt_{task}", task


@contextlib.contextmanager
def served(repositories: list[Path], work: Path, name: str):
    server = serve(repositories, work, name)
    try:
        yield server
    finally:
        server.stop()


def measure_mixed(server, load: Load, rounds: int, memory_only: bool) -> dict:
    """(a) against single-task load on the same server, interleaved; then (c) one by one; memory."""
    url = server.http_url.removeprefix("http://")
    closed_loop(url, route_mixed, load.pictures, load.clients, min(5.0, load.seconds))   # warm-up
    result: dict = {"rounds": []}
    with MemorySampler(server.pid) as memory:
        for _ in range(rounds):
            single = None if memory_only else closed_loop(url, route_single, load.pictures, load.clients, load.seconds,
                                                          server.pid)
            mixed = closed_loop(url, route_mixed, load.pictures, load.clients, load.seconds, server.pid)
            result["rounds"].append({
                "single": single, "mixed": mixed,
                "ratio": mixed["throughput"] / single["throughput"] if single else None,
                "cpu_ratio": (single["server_cpu_s_per_request"] / mixed["server_cpu_s_per_request"]
                              if single else None)})
            print(f"  mixed {mixed['throughput']:.2f}/s" + (f", single {single['throughput']:.2f}/s" if single else ""),
                  file=sys.stderr)
    result["memory_peak"] = memory.peak
    result["memory_idle"] = idle_memory(server.pid)
    result["mixed_throughput"] = statistics.median(r["mixed"]["throughput"] for r in result["rounds"])
    if not memory_only:
        result["single_throughput"] = statistics.median(r["single"]["throughput"] for r in result["rounds"])
        result["mixed_over_single"] = statistics.median(r["ratio"] for r in result["rounds"])
        result["mixed_over_single_by_cpu"] = statistics.median(r["cpu_ratio"] for r in result["rounds"])
        result["mixed_cpu_s_per_request"] = statistics.median(r["mixed"]["server_cpu_s_per_request"]
                                                              for r in result["rounds"])
        result["single_cpu_s_per_request"] = statistics.median(r["single"]["server_cpu_s_per_request"]
                                                               for r in result["rounds"])
        result["one_by_one"] = closed_loop(url, route_mixed, load.pictures, 1, load.seconds, server.pid)
    result["server_batches"] = server_statistics(server.http_url, "vpt")
    return result


def measure_per_task(server, load: Load, rounds: int) -> dict:
    url = server.http_url.removeprefix("http://")
    closed_loop(url, route_per_task, load.pictures, load.clients, min(5.0, load.seconds))
    with MemorySampler(server.pid) as memory:
        run = closed_loop(url, route_per_task, load.pictures, load.clients, load.seconds * rounds, server.pid)
    return {"throughput": run["throughput"], "cpu_s_per_request": run["server_cpu_s_per_request"], "run": run,
            "memory_peak": memory.peak,
            "memory_idle": idle_memory(server.pid)}


def idle_memory(pid: int, settle_s: float = 3.0) -> dict:
    """After the load: what holding the models costs once no request is running."""
    time.sleep(settle_s)
    return tree_memory_mib(pid)


def server_statistics(url: str, model: str) -> dict:
    from export.runtime.triton.control import TritonHttp

    stats = TritonHttp(url).model_statistics(model)
    return {"inferences": stats["inference_count"], "executions": stats["execution_count"],
            "batch_sizes": {entry["batch_size"]: entry["compute_infer"]["count"] for entry in stats["batch_stats"]}}


def summary(report: dict) -> str:
    a, b = report["a"], report["b"]
    verdict = lambda ok: "met" if ok else "NOT MET"  # noqa: E731
    lines = [
        f"# Triton: 4 tasks on one server ({report['device']}{', memory only' if report['memory_only'] else ''})",
        "",
        f"Machine: {report['machine']}. Backbone {report['backbone']} (random weights), {report['prompts']} prompts; "
        f"tasks {', '.join(f'{k} ({v} classes)' for k, v in report['tasks'].items())}; 640x480 JPEG requests over "
        f"HTTP from {report['clients']} concurrent clients; max batch {report['max_batch']}; "
        f"{report['window_s']:.0f} s windows. (a): {report['settings_a']['dispatch_instances']} dispatch instances; "
        "(b): one instance of each model.",
        "",
        "| What | Result | Goal |",
        "|---|---|---|",
        f"| (a) mixed-task batching, one `vpt` model | {a['mixed_throughput']:.2f} images/s | |",
    ]
    if not report["memory_only"]:
        per_round = ", ".join(f"{r['ratio']:.2f}" for r in a["rounds"])
        lines += [
            f"| single-task batched run, same server and load | {a['single_throughput']:.2f} images/s | |",
            f"| (a) / single-task, wall-clock throughput (median of {len(a['rounds'])} interleaved rounds; per round: "
            f"{per_round}) | "
            f"{a['mixed_over_single']:.3f} | >= {GOAL_MIXED_OVER_SINGLE} "
            f"({verdict(a['mixed_over_single'] >= GOAL_MIXED_OVER_SINGLE)}) |",
            f"| server CPU time per image, (a) / single-task | {a['mixed_cpu_s_per_request'] * 1000:.0f} / "
            f"{a['single_cpu_s_per_request'] * 1000:.0f} ms | |",
            f"| (a) / single-task, throughput per server CPU-second (median of the same rounds) | "
            f"{a['mixed_over_single_by_cpu']:.3f} | >= {GOAL_MIXED_OVER_SINGLE} "
            f"({verdict(a['mixed_over_single_by_cpu'] >= GOAL_MIXED_OVER_SINGLE)}) |",
            f"| (c) requests one by one to (a) | {a['one_by_one']['throughput']:.2f} images/s, "
            f"{a['one_by_one']['server_cpu_s_per_request'] * 1000:.0f} ms server CPU per image | |",
        ]
    lines.append(f"| (b) one model pair per task (4 backbones) | {b['throughput']:.2f} images/s, "
                 f"{b['cpu_s_per_request'] * 1000:.0f} ms server CPU per image | |")
    for kind, title in (("peak", "peak under load"), ("idle", "loaded, idle after the load")):
        ma, mb = a["memory_" + kind], b["memory_" + kind]
        ratio, pss = report["b_over_a_memory"][kind], report["b_over_a_memory_pss"][kind]
        lines += [
            f"| memory {title}, (a): RSS / PSS of tritonserver + stubs | {ma['rss_mib']:.0f} / {ma['pss_mib']:.0f} MiB "
            f"({ma['processes']} processes) | |",
            f"| memory {title}, (b) | {mb['rss_mib']:.0f} / {mb['pss_mib']:.0f} MiB ({mb['processes']} processes) | |",
            f"| (b) / (a), RSS (PSS) | {ratio:.2f}x ({pss:.2f}x) | >= {GOAL_MEMORY_RATIO}x "
            f"({verdict(ratio >= GOAL_MEMORY_RATIO)}) |",
        ]
    if a["memory_peak"].get("gpu_mib") is not None:
        lines.append(f"| GPU memory (a) / (b), at the peak | {a['memory_peak']['gpu_mib']:.0f} / "
                     f"{b['memory_peak']['gpu_mib']:.0f} MiB | |")
    if not report["memory_only"]:
        for name, part in (("(a)", a), ("(b)", b)):
            lines.append(f"| latency at {report['latency_rate_per_s']:.2f} requests/s, {name} | "
                         f"p50 {part['latency']['p50_ms']:.0f} ms, p99 {part['latency']['p99_ms']:.0f} ms "
                         f"({part['latency']['requests']} requests) | |")
    lines += ["", "Memory per process at the peak (RSS MiB): "
              + "; ".join(f"{name} " + ", ".join(f"{p['process']} {p['rss_mib']:.0f}"
                                                 for p in part["memory_peak"]["per_process"])
                          for name, part in (("(a)", a), ("(b)", b))),
              "", f"Batch sizes run by (a)'s `vpt` model (size: batches): {a['server_batches']['batch_sizes']}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
