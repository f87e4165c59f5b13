"""End to end: `vpt triton serve` runs a real tritonserver on 127.0.0.1, called with the official client.

Needs the ``[triton]`` extra (nvidia-pytriton's tritonserver and tritonclient) and
skips, saying why, where that cannot run. One server serves the whole module
(about 10 s to start); its dynamic batcher waits up to 100 ms so that requests
sent together are merged. Answers are compared with ``vpt infer`` on the same
files. The last tests change the served tasks and stop the server.
"""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from contextlib import redirect_stdout
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from export.runtime.triton.control import TritonHttp
from export.runtime.triton.model_config import ServingSettings
from export.runtime.triton.repository import export_repository
from export.runtime.triton.server import TritonUnavailableError, check_environment, find_installation, free_ports
from export.runtime.triton.server import group_members
from vpt_core.cli import main
from test_export_support import copy_bundle, make_pack, shared_bundle

pytestmark = pytest.mark.triton
STARTUP_TIMEOUT = 240
REQUEST_TIMEOUT = 120


def _skip_without_triton() -> None:
    try:
        check_environment(find_installation())
    except TritonUnavailableError as error:
        pytest.skip(f"needs a tritonserver that can run here: {error}")
    for module in ("tritonclient.http", "tritonclient.grpc"):
        try:
            __import__(module)
        except ImportError as error:
            pytest.skip(f"needs the official Triton client ({module}: {error}); pip install 'vpt-toolkit[triton]'")


class ServeProcess:
    """``vpt triton serve`` as a user runs it, with its output in a log file."""

    def __init__(self, repository: Path, log_path: Path):
        self.repository = repository
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.server_pid: int | None = None

    def start(self) -> None:
        for attempt in range(2):
            self.ports = free_ports()
            command = [sys.executable, "-m", "vpt_core.cli", "triton", "serve", str(self.repository),
                       "--http-port", str(self.ports.http), "--grpc-port", str(self.ports.grpc),
                       "--metrics-port", str(self.ports.metrics), "--startup-timeout", str(STARTUP_TIMEOUT)]
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL)
            if self._wait_until_ready():
                self.server_pid = _child_tritonserver(self.process.pid)
                return
            self.stop()
            if "address already in use" not in self.log().lower():
                break
        pytest.fail(f"vpt triton serve did not become ready: {self.log()[-3000:]}")

    def _wait_until_ready(self) -> bool:
        client = TritonHttp(self.http_url, timeout=2.0)
        deadline = time.monotonic() + STARTUP_TIMEOUT + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            if client.is_ready() and (self.repository / ".vpt-triton-server.json").is_file():
                return True
            time.sleep(0.25)
        return False

    @property
    def http_url(self) -> str:
        return f"127.0.0.1:{self.ports.http}"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.ports.grpc}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int | None:
        """SIGTERM to ``vpt triton serve``; if it hangs, kill it and its tritonserver's group."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                if self.server_pid:
                    os.killpg(self.server_pid, signal.SIGKILL)
                process.wait(10)
        return process.returncode


def _child_tritonserver(parent: int) -> int | None:
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
            cmdline = (entry.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and b"tritonserver" in cmdline.split(b"\0")[0]:
            return int(entry.parent.name)
    return None


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture(scope="module")
def served(shared, tmp_path_factory):
    _skip_without_triton()
    root = tmp_path_factory.mktemp("triton_served")
    settings = ServingSettings(max_batch=16, queue_delay_us=100_000)
    repository = export_repository(shared["bundle"], root / "repo", settings).root
    serve = ServeProcess(repository, root / "serve.log")
    serve.start()
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def expected(shared):
    """``vpt infer --json`` on the shared images, per task: {(task, file name): frame document}."""
    return infer_answers(shared["bundle"], shared["images"], ["surface", "variant"])


def infer_answers(bundle: Path, images: Path, tasks: list[str]) -> dict:
    answers = {}
    for task in tasks:
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(["infer", str(bundle), "--task", task, "--source", str(images), "--json"]) == 0
        for line in out.getvalue().splitlines():
            frame = json.loads(line)
            if not frame.get("summary"):
                answers[task, frame["name"]] = frame
    return answers


def image_files(shared) -> list[Path]:
    return sorted(shared["images"].iterdir())


# -- clients ------------------------------------------------------------------------------------
def _inputs(module, images: list[bytes], tasks: list[str]) -> list:
    image = module.InferInput("IMAGE", [len(images), 1], "BYTES")
    image.set_data_from_numpy(np.array(images, dtype=object).reshape(-1, 1))
    task = module.InferInput("TASK", [len(tasks), 1], "BYTES")
    task.set_data_from_numpy(np.array([name.encode() for name in tasks], dtype=object).reshape(-1, 1))
    return [image, task]


OUTPUTS = ("LABEL", "CLASS_INDEX", "CONFIDENCE", "UNCERTAIN", "PROBABILITIES", "CLASSES", "PACK_SHA256")


def _outputs(result) -> dict:
    return {name: result.as_numpy(name) for name in OUTPUTS}


def infer_http(serve: ServeProcess, data: bytes, task: str) -> dict:
    import tritonclient.http as http

    with http.InferenceServerClient(serve.http_url, network_timeout=REQUEST_TIMEOUT) as client:
        return _outputs(client.infer("vpt", _inputs(http, [data], [task])))


def infer_grpc_together(serve: ServeProcess, pairs: list[tuple[bytes, str]]) -> list:
    """Send every (image, task) request at once (asynchronously); the outputs or the exception, in order."""
    import tritonclient.grpc as grpc

    answers: queue.Queue = queue.Queue()
    with grpc.InferenceServerClient(serve.grpc_url) as client:
        for index, (data, task) in enumerate(pairs):
            client.async_infer("vpt", _inputs(grpc, [data], [task]), callback=partial(_collect, answers, index),
                               client_timeout=REQUEST_TIMEOUT)
        collected = dict(answers.get(timeout=REQUEST_TIMEOUT + 10) for _ in pairs)
    return [collected[index] for index in range(len(pairs))]


def _collect(answers: queue.Queue, index: int, result, error) -> None:
    answers.put((index, error if error is not None else _outputs(result)))


def assert_same_answer(outputs: dict, reference: dict, row: int = 0) -> None:
    classes = list(reference["probabilities"])
    assert outputs["LABEL"][row, 0].decode() == reference["label"]
    assert outputs["CLASS_INDEX"][row, 0] == reference["index"]
    assert bool(outputs["UNCERTAIN"][row, 0]) == reference["uncertain"]
    assert [name.decode() for name in outputs["CLASSES"][row][:len(classes)]] == classes
    np.testing.assert_allclose(outputs["PROBABILITIES"][row][:len(classes)],
                               [reference["probabilities"][name] for name in classes], atol=1e-4)
    assert outputs["CONFIDENCE"][row, 0] == pytest.approx(reference["confidence"], abs=1e-4)


def statistics(serve: ServeProcess, model: str) -> dict:
    import tritonclient.http as http

    with http.InferenceServerClient(serve.http_url, network_timeout=30) as client:
        stats = client.get_inference_statistics(model_name=model)["model_stats"][0]
    batches = {int(entry["batch_size"]): int(entry["compute_infer"]["count"]) for entry in stats["batch_stats"]}
    return {"inferences": int(stats["inference_count"]), "executions": int(stats["execution_count"]),
            "batches": batches}


def vpt_metric(serve: ServeProcess, name: str, **labels: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{serve.ports.metrics}/metrics", timeout=30) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def loads_in_log(serve: ServeProcess, model: str) -> int:
    return serve.log().count(f"successfully loaded '{model}'")


# -- tests ----------------------------------------------------------------------------------------
def test_the_repository_serves_exactly_its_two_models(served):
    import tritonclient.http as http

    with http.InferenceServerClient(served.http_url, network_timeout=30) as client:
        index = {entry["name"]: entry.get("state") for entry in client.get_model_repository_index()}
        assert index == {"vpt": "READY", "vpt_backbone": "READY"}
        metadata = client.get_model_metadata("vpt")
    assert [tensor["name"] for tensor in metadata["inputs"]] == ["IMAGE", "TASK"]
    assert {tensor["name"] for tensor in metadata["outputs"]} == set(OUTPUTS)
    assert loads_in_log(served, "vpt_backbone") == 1 and loads_in_log(served, "vpt") == 1


def test_every_answer_over_http_equals_vpt_infer(served, shared, expected):
    for path in image_files(shared):
        for task in ("surface", "variant"):
            outputs = infer_http(served, path.read_bytes(), task)
            assert_same_answer(outputs, expected[task, path.name])
            assert outputs["PACK_SHA256"][0, 0].decode() == _pack_sha(shared, task)


def _pack_sha(shared, task: str) -> str:
    manifest = json.loads((shared["bundle"] / "manifest.json").read_text())
    return next(entry["sha256"] for entry in manifest["tasks"] if entry["name"] == task)


def test_concurrent_requests_for_both_tasks_are_merged_into_mixed_batches(served, shared, expected):
    pairs = [(path, task) for path in image_files(shared) for task in ("surface", "variant")]
    before = {model: statistics(served, model) for model in ("vpt", "vpt_backbone")}
    mixed_before = vpt_metric(served, "vpt_batches_total", composition="mixed_tasks")

    answers = infer_grpc_together(served, [(path.read_bytes(), task) for path, task in pairs])

    for (path, task), outputs in zip(pairs, answers):
        assert not isinstance(outputs, Exception), outputs
        assert_same_answer(outputs, expected[task, path.name])
    after = {model: statistics(served, model) for model in ("vpt", "vpt_backbone")}
    requests = after["vpt"]["inferences"] - before["vpt"]["inferences"]
    executions = after["vpt"]["executions"] - before["vpt"]["executions"]
    assert requests == len(pairs) == 20
    assert executions < requests, f"{requests} requests ran in {executions} batches: nothing was merged"
    merged = {size: count - before["vpt"]["batches"].get(size, 0) for size, count in after["vpt"]["batches"].items()}
    assert any(size > 1 and count > 0 for size, count in merged.items()), merged
    assert vpt_metric(served, "vpt_batches_total", composition="mixed_tasks") > mixed_before
    # The backbone ran at most once per merged batch (two dispatch instances' batches may share a run), on all
    # of their images.
    assert after["vpt_backbone"]["executions"] - before["vpt_backbone"]["executions"] <= executions
    assert after["vpt_backbone"]["inferences"] - before["vpt_backbone"]["inferences"] == requests


def test_an_unknown_task_is_an_error_naming_the_known_tasks(served, shared, expected):
    import tritonclient.grpc as grpc
    import tritonclient.http as http
    from tritonclient.utils import InferenceServerException

    data = image_files(shared)[0].read_bytes()
    with http.InferenceServerClient(served.http_url, network_timeout=REQUEST_TIMEOUT) as client:
        with pytest.raises(InferenceServerException) as raised:
            client.infer("vpt", _inputs(http, [data], ["welds"]))
    assert "no task 'welds' in this repository; tasks: surface, variant" in str(raised.value)
    assert raised.value.status() == "400"
    with grpc.InferenceServerClient(served.grpc_url) as client:
        with pytest.raises(InferenceServerException) as raised:
            client.infer("vpt", _inputs(grpc, [data], ["welds"]), client_timeout=REQUEST_TIMEOUT)
    assert "no task 'welds'" in str(raised.value) and "INVALID_ARGUMENT" in str(raised.value.status())
    # Not a crash: the same model instance answers the next request.
    assert_same_answer(infer_http(served, data, "variant"), expected["variant", image_files(shared)[0].name])
    assert "Stub process" not in served.log() and loads_in_log(served, "vpt") == 1


def test_a_corrupt_image_fails_alone_and_the_rest_of_its_batch_is_answered(served, shared, expected):
    good = [(path, ["surface", "variant"][index % 2]) for index, path in enumerate(image_files(shared)[:6])]
    corrupt = image_files(shared)[1].read_bytes()[:40]       # a truncated picture
    requests = [(path.read_bytes(), task) for path, task in good]
    requests.insert(3, (corrupt, "surface"))
    before = statistics(served, "vpt")
    answers = infer_grpc_together(served, requests)
    after = statistics(served, "vpt")
    failure = answers.pop(3)
    assert "not a readable image" in str(failure)
    for (path, task), outputs in zip(good, answers):
        assert not isinstance(outputs, Exception), outputs
        assert_same_answer(outputs, expected[task, path.name])
    assert after["executions"] - before["executions"] < len(requests), "the requests were not batched together"


def test_one_request_may_carry_images_of_several_tasks(served, shared, expected):
    import tritonclient.http as http

    path = image_files(shared)[2]
    with http.InferenceServerClient(served.http_url, network_timeout=REQUEST_TIMEOUT) as client:
        outputs = _outputs(client.infer("vpt", _inputs(http, [path.read_bytes()] * 2, ["variant", "surface"])))
    assert outputs["PROBABILITIES"].shape == (2, 4) and outputs["CLASSES"][0, 3] == b""
    assert outputs["PROBABILITIES"][0, 3] == 0.0
    assert_same_answer(outputs, expected["variant", path.name], row=0)
    assert_same_answer(outputs, expected["surface", path.name], row=1)


def test_add_task_on_the_running_server_reloads_only_the_dispatch_model(served, shared, tmp_path, capsys):
    from tritonclient.utils import InferenceServerException

    data = image_files(shared)[4].read_bytes()
    with pytest.raises(InferenceServerException, match="no task 'holes'"):
        infer_http(served, data, "holes")
    backbone_before = statistics(served, "vpt_backbone")
    pack = make_pack(tmp_path / "holes.vptask", "holes", 5, seed=9)

    # Requests keep coming while the dispatch model is reloaded; none of them may fail.
    stop, during = threading.Event(), []
    sender = threading.Thread(target=_keep_sending, args=(served, data, stop, during))
    sender.start()
    try:
        # No --server: the command finds the server 'vpt triton serve' records in the repository.
        assert main(["triton", "add-task", str(served.repository), str(pack)]) == 0
    finally:
        stop.set()
        sender.join(REQUEST_TIMEOUT)
    assert f"reloaded model 'vpt' on http://{served.http_url}" in capsys.readouterr().out
    assert during and all(label.startswith("surface_") for label in during), during

    station_bundle = copy_bundle(shared["bundle"], tmp_path / "bundle")
    assert main(["bundle", "add-task", str(station_bundle), str(pack)]) == 0
    reference = infer_answers(station_bundle, shared["images"], ["holes"])
    for path in image_files(shared)[:4]:
        assert_same_answer(infer_http(served, path.read_bytes(), "holes"), reference["holes", path.name])
    assert_same_answer(infer_http(served, data, "surface"), infer_answers(
        shared["bundle"], shared["images"], ["surface"])["surface", image_files(shared)[4].name])

    # The dispatch model was loaded again (its statistics restarted); the backbone was not: loaded once, and
    # its statistics went on counting from where they were.
    assert loads_in_log(served, "vpt") == 2 and loads_in_log(served, "vpt_backbone") == 1
    answered_by_new = statistics(served, "vpt")["inferences"]
    assert 5 <= answered_by_new <= 5 + len(during)
    assert statistics(served, "vpt_backbone")["inferences"] == backbone_before["inferences"] + 5 + len(during)


def _keep_sending(serve: ServeProcess, data: bytes, stop: threading.Event, labels: list) -> None:
    """Requests one after another until ``stop``; a failure is recorded as its message (the test then fails)."""
    from tritonclient.utils import InferenceServerException

    while not stop.is_set():
        try:
            labels.append(infer_http(serve, data, "surface")["LABEL"][0, 0].decode())
        except InferenceServerException as error:
            labels.append(f"failed: {error}")


def test_serve_stops_the_server_and_its_stub_processes_on_sigterm(served):
    server_pid = served.server_pid
    assert server_pid is not None and group_members(server_pid), "tritonserver and its stubs should be running"
    assert served.stop() == 0
    assert group_members(server_pid) == []
    assert not (served.repository / ".vpt-triton-server.json").exists()
    assert "stopping tritonserver" in served.log()
