"""Helpers for the ``vpt serve`` tests (no tests here): real servers on loopback, real HTTP clients.

``running_service`` starts uvicorn in a thread on a free 127.0.0.1 port (the
socket is bound first, so there is no race for the port); ``ServeProcess``
runs ``vpt serve`` as a subprocess for tests that kill it. Every wait is
bounded.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np

START_TIMEOUT_S = 60.0


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def random_rgb(seed: int, height: int = 40, width: int = 56) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def with_rejection(pack_path: Path, min_confidence: float) -> Path:
    """The pack rewritten with a calibrated rejection threshold (as training will store one)."""
    from vpt_core.packformat import read_task_pack

    pack = read_task_pack(pack_path)
    pack.rejection = {"min_confidence": min_confidence, "method": "set by the test"}
    return pack.save(pack_path)


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class RunningService:
    def __init__(self, service, server, thread, url: str):
        import httpx

        self.service, self.server, self.thread, self.url = service, server, thread, url
        headers = {"Authorization": f"Bearer {service.options.token}"} if service.options.token else {}
        self.client = httpx.Client(base_url=url, timeout=30.0, headers=headers)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.client.post(path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.client.put(path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, **kwargs)

    def predict(self, rgb: np.ndarray, task: str | None = None):
        params = {"task": task} if task else {}
        return self.client.post("/v1/predict", content=png_bytes(rgb), params=params,
                                headers={"Content-Type": "image/png"})


@contextlib.contextmanager
def running_service(options, *, wait_ready: bool = True, **service_kwargs) -> Iterator[RunningService]:
    from export.runtime.serve.server import ServiceServer, bind
    from export.runtime.serve.service import StationService

    service = StationService(options, **service_kwargs)
    listener = bind("127.0.0.1", 0)
    server = ServiceServer(service, listener)
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    running = RunningService(service, server, thread, f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: server.started, START_TIMEOUT_S, what="uvicorn to start")
        if wait_ready:
            wait_until(lambda: service.station is not None or service.load_error, START_TIMEOUT_S,
                       what="the backbone to load")
            assert service.load_error is None, service.load_error
        yield running
    finally:
        running.client.close()
        server.stop()
        thread.join(30)
        assert not thread.is_alive(), "the server did not stop within 30 s"


def serve_options(bundle: Path, **overrides):
    from export.runtime.serve.options import ServeOptions

    return ServeOptions(bundle=Path(bundle), watch_interval_s=overrides.pop("watch_interval_s", 0.0), **overrides)


class ServeProcess:
    """``vpt serve`` in a subprocess on a free port (``--port 0``), for kill and signal tests."""

    LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")

    def __init__(self, bundle: Path, *extra: str, log_path: Path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        command = [sys.executable, "-m", "vpt_core.cli", "serve", str(bundle), "--port", "0", *extra]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        match = wait_until(lambda: self._listening() or self._died(), START_TIMEOUT_S, what="vpt serve to listen")
        if match is True:
            raise AssertionError(f"vpt serve exited early:\n{self.output()}")
        self.url = f"http://{match.group(1)}:{match.group(2)}"

    def _listening(self):
        return self.LISTENING.search(self.output())

    def _died(self) -> bool:
        return self.process.poll() is not None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        import httpx

        def ready():
            if self._died():
                raise AssertionError(f"vpt serve exited:\n{self.output()}")
            try:
                return httpx.get(f"{self.url}/v1/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, interval=0.1, what="vpt serve to be ready")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def terminate(self, timeout: float = 30.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.log.close()
