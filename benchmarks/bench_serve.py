"""``vpt serve`` on loopback: HTTP round trip against the in-process station, task switches, load, memory.

    python benchmarks/bench_serve.py [--work /tmp/vpt-bench-serve] [--load-seconds 60] [--clients 8]

Two bundles, both exported once through ``vpt export``'s own code (torch is
needed for that step only), random weights (latency does not depend on them),
two tasks each:

* ``vit_tiny_patch16_224`` (ViT-Ti/16, 224 px, 12 blocks, 10 deep prompts): a
  real deployable size, for the round trip, the task switch and the 60 s load test;
* the test suite's tiny ViT (32 px, 2 blocks, 48 wide, 4 prompts), whose
  inference takes about a millisecond: the service's own cost dominates, so
  10,000 requests take minutes, not a quarter of an hour, and a leak per
  request would show. The resident-memory goal is checked on it.

The service runs as a separate process (``vpt serve --port 0``), as on a
station; the in-process station and the HTTP clients run in this process, on
the same cores. Pictures are 640x480 JPEG frames. The round-trip ratio
interleaves both sides in one run.

Wall-clock times on a machine shared with other jobs depend on the kernel's
scheduler more than on this code (a process that sleeps between requests, like
the service, is woken ahead of one that computes back to back, like the
in-process loop), so CPU time is reported too: the service process's CPU per
request (read from /proc) against the in-process CPU per call.

Goals (issue 12): HTTP predict at most 1.15x ``Station.predict_rgb`` on the
same pictures; task switch round trip under 5 ms; 8 clients for 60 s with two
tasks interleaved: 0 errors, p50/p99 latency, resident memory growth under 5 %
over 10,000 requests. Writes ``benchmarks/results/serve/bench_serve_cpu.{json,txt}``.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from _common import machine_description, time_interleaved

MODEL = "vit_tiny_patch16_224"
NUM_PROMPTS = 10
TASKS = {"surface": 4, "variant": 3}
# The test suite's tiny ViT (tests/conftest.py TINY_MODEL_KWARGS).
TINY_KWARGS = {"img_size": 32, "patch_size": 8, "depth": 2, "embed_dim": 48, "num_heads": 3}
WARMUP_REQUESTS = 300
RESULTS = Path(__file__).resolve().parent / "results" / "serve"


# -- the bundle (torch only here, and only the first time) -----------------------------------------------
def ensure_bundle(work: Path, model_kwargs: dict | None = None, prompts: int = NUM_PROMPTS) -> Path:
    bundle = work / "bundle"
    if (bundle / "manifest.json").is_file():
        return bundle
    from vpt_core.packformat import BackboneFingerprint, TaskPackData
    from vpt_engine.backbone import BackboneConfig, load_backbone
    from vpt_engine.taskpack import weights_source

    from export.bundle_builder import export_bundle

    work.mkdir(parents=True, exist_ok=True)
    backbone = load_backbone(BackboneConfig(MODEL, random_init=True, model_kwargs=model_kwargs or {}))
    fingerprint = BackboneFingerprint.from_dict({**backbone.fingerprint.to_dict(),
                                                 "weights_source": weights_source(backbone.config)})
    rng = np.random.default_rng(0)
    packs = []
    for name, classes in TASKS.items():
        pack = TaskPackData(prompts=rng.normal(0, 0.05, (backbone.depth, prompts, backbone.embed_dim)),
                            head_weight=rng.normal(0, 0.05, (classes, backbone.embed_dim)),
                            head_bias=np.zeros(classes), classes=[f"{name}_{i}" for i in range(classes)],
                            backbone=fingerprint, prompt_config={"num_prompts": prompts, "depth": "deep"},
                            preprocess=backbone.preprocess.to_dict(), name=name)
        packs.append(pack.save(work / f"{name}.vptask"))
    export_bundle(packs, bundle, parity_images=None)
    return bundle


def camera_pictures(count: int) -> list[tuple[np.ndarray, bytes]]:
    """640x480 JPEG frames (quality 90), as a camera on the line would send them, and their pixels."""
    from PIL import Image

    from vpt_core.images import read_image_rgb

    rng = np.random.default_rng(1)
    pictures = []
    for index in range(count):
        base = np.full((480, 640, 3), 60 + 20 * index, np.uint8)
        noisy = np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(noisy).save(buffer, format="JPEG", quality=90)
        path = Path(f"/tmp/vpt-bench-serve-picture-{index}.jpg")
        path.write_bytes(buffer.getvalue())
        pictures.append((read_image_rgb(path), buffer.getvalue()))   # the pixels the service will decode
    return pictures


# -- the service process ----------------------------------------------------------------------------
class ServiceProcess:
    def __init__(self, bundle: Path, threads: int, *extra: str):
        self.log_path = Path("/tmp/vpt-bench-serve.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "vpt_core.cli", "serve", str(bundle), "--port", "0",
                                         "--threads", str(threads), "--watch-interval", "0", *extra],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.url = self._wait_listening()
        self._wait_ready()

    def _wait_listening(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = re.search(r"listening on (http://[\d.]+:\d+)", self.log_path.read_text(errors="replace"))
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise SystemExit(f"vpt serve exited:\n{self.log_path.read_text()}")
            time.sleep(0.1)
        raise SystemExit("vpt serve did not start within 60 s")

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("vpt serve was not ready within 120 s")

    def rss_mib(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        return kib / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


# -- measurements ----------------------------------------------------------------------------------
def process_cpu_ms(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), from /proc."""
    import os

    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def round_trip(bundle: Path, url: str, pictures, threads: int, rounds: int, server_pid: int) -> dict:
    import httpx

    from export.runtime import Station

    from export.runtime.serve.decoding import decode_image

    station = Station(bundle, backend="onnxruntime", threads=threads)
    client = httpx.Client(base_url=url, timeout=60)
    turn = {"station": 0, "decode": 0, "http": 0}

    def next_picture(side):
        turn[side] += 1
        return pictures[turn[side] % len(pictures)]

    server_cpu: list[float] = []

    def http_predict():
        before = process_cpu_ms(server_pid)
        answer = client.post("/v1/predict", content=next_picture("http")[1], headers={"Content-Type": "image/jpeg"})
        server_cpu.append(process_cpu_ms(server_pid) - before)
        assert answer.status_code == 200, answer.text

    def decode_and_predict():
        station.predict_rgb(decode_image(next_picture("decode")[1], 50_000_000).rgb)

    times = time_interleaved({"station.predict_rgb": lambda: station.predict_rgb(next_picture("station")[0]),
                              "decode + station.predict_rgb": decode_and_predict,
                              "http_predict": http_predict}, rounds=rounds, warmup=5, repeats=4)
    station.close()
    client.close()
    medians = {name: statistics.median(t["wall"]) for name, t in times.items()}
    # CPU time does not count waiting for a core, so it compares fairly on a machine shared with other jobs.
    # /proc counts in clock ticks (10 ms): means over many calls, not medians.
    cpu = {"station.predict_rgb": statistics.mean(times["station.predict_rgb"]["cpu"]),
           "decode + station.predict_rgb": statistics.mean(times["decode + station.predict_rgb"]["cpu"]),
           "http_predict, service process": statistics.mean(server_cpu[-len(times["http_predict"]["cpu"]):]),
           "http_predict, client": statistics.mean(times["http_predict"]["cpu"])}
    return {"pictures": "640x480 JPEG", "samples": len(times["http_predict"]["wall"]),
            "cpu_mean_ms": cpu,
            "cpu_ratio_service_over_station": cpu["http_predict, service process"] / cpu["station.predict_rgb"],
            "cpu_ratio_service_over_decode_and_station":
                cpu["http_predict, service process"] / cpu["decode + station.predict_rgb"],
            "median_ms": medians, "p90_ms": {n: float(np.percentile(t["wall"], 90)) for n, t in times.items()},
            "ratio_http_over_station": medians["http_predict"] / medians["station.predict_rgb"],
            "ratio_http_over_decode_and_station": medians["http_predict"] / medians["decode + station.predict_rgb"],
            "note": "HTTP includes decoding the JPEG on the service; station.predict_rgb starts from decoded "
                    "pixels; 'decode + station.predict_rgb' decodes the same bytes in-process first"}


def switch_round_trip(url: str, switches: int, server_pid: int) -> dict:
    import httpx

    client = httpx.Client(base_url=url, timeout=30)
    names = list(TASKS)
    for index in range(20):
        client.put("/v1/task", json={"name": names[index % 2]})
    times = []
    server_before, client_before = process_cpu_ms(server_pid), time.process_time()
    for index in range(switches):
        started = time.perf_counter()
        answer = client.put("/v1/task", json={"name": names[index % 2]})
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200 and answer.json()["name"] == names[index % 2]
    server_cpu = (process_cpu_ms(server_pid) - server_before) / switches
    client_cpu = (time.process_time() - client_before) * 1000 / switches
    client.close()
    return {"switches": switches, "median_ms": statistics.median(times), "p99_ms": float(np.percentile(times, 99)),
            "max_ms": max(times), "cpu_mean_ms": {"service process": server_cpu, "client": client_cpu}}


def switch_in_process(bundle: Path, switches: int) -> dict:
    """PUT /v1/task through the ASGI app in this process: the framework's own cost, without sockets or a
    second process to schedule (on a loaded machine those dominate the round trip)."""
    import asyncio

    import httpx

    from export.runtime.serve.app import create_app
    from export.runtime.serve.options import ServeOptions
    from export.runtime.serve.service import StationService

    service = StationService(ServeOptions(bundle=bundle, watch_interval_s=0))
    service.load()
    names = list(TASKS)

    async def run() -> list[float]:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://station") as client:
            times = []
            for index in range(switches + 20):
                started = time.perf_counter()
                answer = await client.put("/v1/task", json={"name": names[index % 2]})
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200
            return times[20:]

    try:
        times = asyncio.run(run())
    finally:
        service.close()
    return {"switches": switches, "median_ms": statistics.median(times), "p99_ms": float(np.percentile(times, 99))}


def load_test(service: ServiceProcess, pictures, clients: int, seconds: float = 0.0, requests: int = 0,
              warmup_requests: int = WARMUP_REQUESTS) -> dict:
    """``clients`` threads post pictures for two tasks in turn, for ``seconds`` and at least ``requests``.

    Memory is read after ``warmup_requests`` (pools, allocator arenas and every batch size seen) and at the end.
    """
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    counting = threading.Event()

    def client_loop(worker: int) -> None:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            index = worker
            while not stop.is_set():
                task = list(TASKS)[index % 2]
                began = time.perf_counter()
                try:
                    answer = client.post("/v1/predict", params={"task": task},
                                         content=pictures[index % len(pictures)][1])
                    failure = None if answer.status_code == 200 and answer.json()["task"] == task else answer.text
                except httpx.HTTPError as error:
                    failure = f"{type(error).__name__}: {error}"
                with lock:
                    if counting.is_set():
                        (errors.append(failure) if failure else latencies.append((time.perf_counter() - began) * 1000))
                    elif failure is None:
                        latencies.append(0.0)
                index += 1

    threads = [threading.Thread(target=client_loop, args=(w,), daemon=True) for w in range(clients)]
    for thread in threads:
        thread.start()
    while len(latencies) < warmup_requests:
        time.sleep(0.1)
    with lock:
        latencies.clear()
        counting.set()
    rss = {"start": service.rss_mib()}
    started = time.monotonic()
    while time.monotonic() - started < seconds or len(latencies) + len(errors) < requests:
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(120)
    elapsed = time.monotonic() - started
    rss["end"] = service.rss_mib()
    total = len(latencies) + len(errors)
    return {"clients": clients, "seconds": elapsed, "requests": total, "served": len(latencies),
            "errors": len(errors), "first_errors": errors[:5], "throughput_per_s": total / elapsed,
            "p50_ms": float(np.percentile(latencies, 50)), "p99_ms": float(np.percentile(latencies, 99)),
            "warmup_requests": warmup_requests, "rss_mib": rss, "rss_growth": rss["end"] / rss["start"] - 1}


# -- reporting ----------------------------------------------------------------------------------------
def describe(figures: dict) -> str:
    rt, sw = figures["round_trip"], figures["switch"]
    lines = [f"machine: {figures['machine']}",
             f"bundles: {figures['bundles']['main']}; memory soak: {figures['bundles']['small']}",
             f"HTTP predict vs Station.predict_rgb ({rt['pictures']}, median of {rt['samples']} interleaved): "
             f"{rt['median_ms']['http_predict']:.2f} vs {rt['median_ms']['station.predict_rgb']:.2f} ms, "
             f"ratio {rt['ratio_http_over_station']:.3f} (goal <= 1.15)",
             f"  against decoding the same JPEG in-process first: "
             f"{rt['median_ms']['decode + station.predict_rgb']:.2f} ms, ratio "
             f"{rt['ratio_http_over_decode_and_station']:.3f}",
             f"  CPU time per picture (mean): service process {rt['cpu_mean_ms']['http_predict, service process']:.1f} "
             f"ms (+ client {rt['cpu_mean_ms']['http_predict, client']:.1f} ms) vs in-process "
             f"{rt['cpu_mean_ms']['station.predict_rgb']:.1f} ms (decoding too: "
             f"{rt['cpu_mean_ms']['decode + station.predict_rgb']:.1f} ms): ratio "
             f"{rt['cpu_ratio_service_over_station']:.3f} ({rt['cpu_ratio_service_over_decode_and_station']:.3f} "
             f"against decoding too)",
             f"task switch round trip (PUT /v1/task, {sw['switches']}): median {sw['median_ms']:.2f} ms, "
             f"p99 {sw['p99_ms']:.2f} ms (goal < 5 ms); CPU per switch: service "
             f"{sw['cpu_mean_ms']['service process']:.2f} ms, client {sw['cpu_mean_ms']['client']:.2f} ms",
             f"  the same through the ASGI app in-process (no sockets, no second process): median "
             f"{figures['switch_in_process']['median_ms']:.2f} ms, p99 {figures['switch_in_process']['p99_ms']:.2f} ms"]
    for name, run in figures["load"].items():
        lines.append(
            f"{name}: {run['clients']} clients, two tasks interleaved, {run['seconds']:.0f} s after "
            f"{run['warmup_requests']} warm-up requests: {run['requests']} requests, {run['errors']} errors "
            f"(goal 0), {run['throughput_per_s']:.1f}/s, p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms; "
            f"service resident memory {run['rss_mib']['start']:.1f} -> {run['rss_mib']['end']:.1f} MiB "
            f"({100 * run['rss_growth']:+.2f} %)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/vpt-bench-serve"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--switches", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--soak-requests", type=int, default=10_000, help="requests of the memory soak")
    parser.add_argument("--batching-seconds", type=float, default=30.0, help="0: skip the --max-batch comparison")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    main_bundle = ensure_bundle(args.work / "vit_tiny")
    small_bundle = ensure_bundle(args.work / "tiny_test_vit", TINY_KWARGS, prompts=4)
    pictures = camera_pictures(8)
    figures = {"machine": machine_description(), "load": {},
               "bundles": {"main": f"{MODEL} (224 px), random weights, {NUM_PROMPTS} deep prompts",
                           "small": "the tests' tiny ViT (32 px, 2 blocks, width 48), 4 deep prompts",
                           "runtime": f"ONNX Runtime CPU, {args.threads} threads; tasks {', '.join(TASKS)}"}}
    service = ServiceProcess(main_bundle, args.threads)
    try:
        figures["round_trip"] = round_trip(main_bundle, service.url, pictures, args.threads, args.rounds,
                                           service.process.pid)
        figures["switch"] = switch_round_trip(service.url, args.switches, service.process.pid)
        figures["load"]["load ViT-Ti/16, default --max-batch (1 on a CPU)"] = load_test(
            service, pictures, args.clients, args.load_seconds)
    finally:
        service.stop()
    figures["switch_in_process"] = switch_in_process(main_bundle, args.switches)
    service = ServiceProcess(small_bundle, args.threads)
    try:
        figures["load"]["memory soak, tiny ViT, default --max-batch"] = load_test(service, pictures, args.clients,
                                                                                 requests=args.soak_requests)
    finally:
        service.stop()
    if args.batching_seconds > 0:
        service = ServiceProcess(main_bundle, args.threads, "--max-batch", "8")
        try:
            figures["load"]["load ViT-Ti/16, --max-batch 8"] = load_test(service, pictures, args.clients,
                                                                        args.batching_seconds)
        finally:
            service.stop()
    text = describe(figures)
    print(text)
    from vpt_core.atomicio import atomic_write_json, atomic_write_text

    atomic_write_json(args.out / "bench_serve_cpu.json", figures)
    atomic_write_text(args.out / "bench_serve_cpu.txt", text + "\n")
    print(f"wrote {args.out / 'bench_serve_cpu.json'} and .txt")


if __name__ == "__main__":
    main()
