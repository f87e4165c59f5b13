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
from dataclasses import asdict, replace
import io
import json
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


def closed_loop(url: str, route, pictures: list[bytes], clients: int, seconds: float) -> dict:
    """``clients`` threads each sending its next request as soon as the last is answered; requests per second."""
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
    return {"requests": sum(counts), "seconds": elapsed, "throughput": sum(counts) / elapsed}


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


def tree_memory_mib(root: int) -> dict:
    rss = pss = 0
    processes = 0
    for pid in process_tree(root):
        try:
            rss += _kib(Path(f"/proc/{pid}/status"), "VmRSS:")
            pss += _kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")
            processes += 1
        except OSError:
            continue
    return {"rss_mib": rss / 1024, "pss_mib": pss / 1024, "processes": processes, "gpu_mib": _gpu_mib(root)}


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
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each throughput window")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of mixed and single-task load")
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
    pictures = camera_pictures()
    tasks = list(TASKS)
    clients = 2 * args.batch     # one batch runs while the next one fills
    report = {"machine": machine_description(), "backbone": args.backbone, "prompts": f"{NUM_PROMPTS} deep",
              "tasks": TASKS, "device": args.device, "max_batch": args.batch, "clients": clients,
              "window_s": args.seconds, "settings": asdict(settings)}

    print("(a) and single-task: one vpt model, 4 tasks", file=sys.stderr)
    server = serve([mixed_repo], args.work, "mixed")
    try:
        url = server.http_url.removeprefix("http://")
        closed_loop(url, lambda i: ("vpt", tasks[i % 4]), pictures, clients, min(5.0, args.seconds))   # warm-up
        rounds = []
        with MemorySampler(server.pid) as memory_a:
            for _ in range(args.rounds):
                single = closed_loop(url, lambda i: ("vpt", tasks[0]), pictures, clients, args.seconds)
                mixed = closed_loop(url, lambda i: ("vpt", tasks[i % 4]), pictures, clients, args.seconds)
                rounds.append({"single": single, "mixed": mixed, "ratio": mixed["throughput"] / single["throughput"]})
                print(f"  single {single['throughput']:.2f}/s, mixed {mixed['throughput']:.2f}/s", file=sys.stderr)
        one_by_one = closed_loop(url, lambda i: ("vpt", tasks[i % 4]), pictures, 1, args.seconds)
        stats_a = server_statistics(server.http_url, "vpt")
    finally:
        server.stop()

    print("(b): one model pair per task, 4 backbones", file=sys.stderr)
    server = serve(task_repos, args.work, "per_task")
    try:
        url = server.http_url.removeprefix("http://")
        route_b = lambda i: (f"vpt_{tasks[i % 4]}", tasks[i % 4])  # noqa: E731
        closed_loop(url, route_b, pictures, clients, min(5.0, args.seconds))
        with MemorySampler(server.pid) as memory_b:
            per_task = closed_loop(url, route_b, pictures, clients, args.seconds * args.rounds)
        rate = 0.5 * min(statistics.median(r["mixed"]["throughput"] for r in rounds), per_task["throughput"])
        latency_b = open_loop(url, route_b, pictures, rate, max(30.0, args.seconds))
    finally:
        server.stop()

    server = serve([mixed_repo], args.work, "mixed_latency")
    try:
        latency_a = open_loop(server.http_url.removeprefix("http://"), lambda i: ("vpt", tasks[i % 4]), pictures,
                              rate, max(30.0, args.seconds))
    finally:
        server.stop()

    mixed_median = statistics.median(r["mixed"]["throughput"] for r in rounds)
    single_median = statistics.median(r["single"]["throughput"] for r in rounds)
    ratio = statistics.median(r["ratio"] for r in rounds)
    memory_ratio = memory_b.peak["rss_mib"] / memory_a.peak["rss_mib"]
    report.update({
        "a_mixed_throughput": mixed_median, "single_task_throughput": single_median,
        "a_over_single": ratio, "a_over_single_goal": GOAL_MIXED_OVER_SINGLE, "rounds": rounds,
        "b_per_task_throughput": per_task["throughput"], "c_one_by_one_throughput": one_by_one["throughput"],
        "a_memory_peak": memory_a.peak, "b_memory_peak": memory_b.peak,
        "b_over_a_memory_rss": memory_ratio,
        "b_over_a_memory_pss": memory_b.peak["pss_mib"] / memory_a.peak["pss_mib"],
        "memory_goal": GOAL_MEMORY_RATIO, "latency_rate_per_s": rate, "a_latency": latency_a, "b_latency": latency_b,
        "a_server_batches": stats_a})
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"bench_triton_{args.device}_{args.backbone}"
    atomic_write_json(args.out / f"{stem}.json", report)
    atomic_write_text(args.out / f"{stem}.md", summary(report))
    print(summary(report))


def server_statistics(url: str, model: str) -> dict:
    from export.runtime.triton.control import TritonHttp

    stats = TritonHttp(url).model_statistics(model)
    return {"inferences": stats["inference_count"], "executions": stats["execution_count"],
            "batch_sizes": {entry["batch_size"]: entry["compute_infer"]["count"] for entry in stats["batch_stats"]}}


def summary(report: dict) -> str:
    a, b = report["a_memory_peak"], report["b_memory_peak"]
    verdict = lambda ok: "met" if ok else "NOT MET"  # noqa: E731
    lines = [
        f"# Triton: 4 tasks on one server ({report['device']})",
        "",
        f"Machine: {report['machine']}. Backbone {report['backbone']} (random weights), {report['prompts']} prompts; "
        f"tasks {', '.join(f'{k} ({v} classes)' for k, v in report['tasks'].items())}; 640x480 JPEG requests over "
        f"HTTP, {report['clients']} concurrent clients, max batch {report['max_batch']}, "
        f"{report['window_s']:.0f} s windows.",
        "",
        "| What | Result | Goal |",
        "|---|---|---|",
        f"| (a) mixed-task batching, one `vpt` model | {report['a_mixed_throughput']:.2f} images/s | |",
        f"| single-task batched run, same server and load | {report['single_task_throughput']:.2f} images/s | |",
        f"| (a) / single-task (median of {len(report['rounds'])} interleaved rounds) | {report['a_over_single']:.3f} | "
        f">= {report['a_over_single_goal']} ({verdict(report['a_over_single'] >= report['a_over_single_goal'])}) |",
        f"| (b) one model pair per task (4 backbones) | {report['b_per_task_throughput']:.2f} images/s | |",
        f"| (c) requests one by one to (a) | {report['c_one_by_one_throughput']:.2f} images/s | |",
        f"| memory (a), peak RSS / PSS of tritonserver + stubs | {a['rss_mib']:.0f} / {a['pss_mib']:.0f} MiB "
        f"({a['processes']} processes) | |",
        f"| memory (b) | {b['rss_mib']:.0f} / {b['pss_mib']:.0f} MiB ({b['processes']} processes) | |",
        f"| (b) / (a) memory, RSS (PSS) | {report['b_over_a_memory_rss']:.2f}x ({report['b_over_a_memory_pss']:.2f}x) "
        f"| >= {report['memory_goal']}x ({verdict(report['b_over_a_memory_rss'] >= report['memory_goal'])}) |",
        f"| latency at {report['latency_rate_per_s']:.2f} requests/s, (a) | p50 {report['a_latency']['p50_ms']:.0f} ms, "
        f"p99 {report['a_latency']['p99_ms']:.0f} ms | |",
        f"| latency at the same rate, (b) | p50 {report['b_latency']['p50_ms']:.0f} ms, "
        f"p99 {report['b_latency']['p99_ms']:.0f} ms | |",
    ]
    if a.get("gpu_mib") is not None:
        lines.append(f"| GPU memory (a) / (b) | {a['gpu_mib']:.0f} / {b['gpu_mib']:.0f} MiB | |")
    lines += ["", f"Batch sizes run by (a)'s `vpt` model (size: batches): {report['a_server_batches']['batch_sizes']}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
