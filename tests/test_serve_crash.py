"""``vpt serve`` as a process: kill -9 in the middle of task uploads, then a restart on the same bundle.

Each round starts the service, uploads task packs as fast as it can from a
client thread (replacing one task over and over, adding new ones), and kills
the process with SIGKILL at a random instant. After every kill the bundle must
open and verify (every file the manifest names present, with its sha256), and
after the last one a restarted service must serve exactly that bundle.
"""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="vpt serve needs the station extra (pip install 'vpt-toolkit[station]')")
httpx = pytest.importorskip("httpx", reason="the serve tests need httpx (the test extra)")

from vpt_core.manifest import read_manifest, sha256_file  # noqa: E402
from export.runtime import Bundle, Station  # noqa: E402
from export.runtime.bundle_edit import referenced_files  # noqa: E402
from serve_support import ServeProcess, png_bytes, random_rgb  # noqa: E402
from test_export_support import copy_bundle, make_pack, shared_bundle  # noqa: E402

ROUNDS = 4


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


def upload_until_stopped(url: str, packs: list[bytes], extra: list[bytes], stop: threading.Event,
                         done: list[str]) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        for index in range(10_000):
            if stop.is_set():
                return
            try:
                if index % 4 == 3 and extra:
                    answer = client.post("/v1/tasks", content=extra.pop())
                else:
                    answer = client.post("/v1/tasks", params={"replace": "true"}, content=packs[index % len(packs)])
            except httpx.HTTPError:
                return   # the server was killed
            done.append(answer.json().get("sha256", answer.text) if answer.status_code == 201 else answer.text)


def check_consistent(bundle) -> Bundle:
    """The bundle opens and verifies; every file any version names is there with its recorded sha256."""
    opened = Bundle.open(bundle, verify=True)
    manifest = read_manifest(bundle)
    for entry in manifest["tasks"]:
        for version in [entry, *entry.get("versions", [])]:
            assert sha256_file(bundle / version["file"]) == version["sha256"], version["file"]
    return opened


def test_kill_9_during_uploads_then_a_restart_serves_a_consistent_bundle(bundle, tmp_path):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    packs = [make_pack(tmp_path / f"hot{i}.vptask", "variant", 3, seed=20 + i, num_prompts=2).read_bytes()
             for i in range(5)]
    hot_shas = {sha256_file(bundle / "tasks" / "variant.vptask")} | {
        sha256_file(tmp_path / f"hot{i}.vptask") for i in range(5)}
    uploads = 0
    for round_index in range(ROUNDS):
        extra = [make_pack(tmp_path / f"r{round_index}x{i}.vptask", f"r{round_index}x{i}", 2,
                           seed=100 + 10 * round_index + i).read_bytes() for i in range(6)]
        server = ServeProcess(bundle, "--watch-interval", "0", log_path=tmp_path / f"serve{round_index}.log")
        try:
            server.wait_ready()
            stop, done = threading.Event(), []
            client = threading.Thread(target=upload_until_stopped, args=(server.url, packs, extra, stop, done))
            client.start()
            time.sleep(rng.uniform(0.2, 1.5))
            server.kill()
            stop.set()
            client.join(30)
            uploads += len(done)
        finally:
            server.close()
        opened = check_consistent(bundle)
        assert opened.tasks["variant"].entry["sha256"] in hot_shas, f"seed {seed}"
    assert uploads > ROUNDS, f"too few uploads happened before the kills to test anything (seed {seed})"

    expected = Station(bundle)
    server = ServeProcess(bundle, log_path=tmp_path / "restart.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            listed = {task["name"]: task["sha256"] for task in client.get("/v1/tasks").json()["tasks"]}
            answers = {name: client.post("/v1/predict", params={"task": name}, content=png_bytes(random_rgb(1)))
                       for name in listed}
            after = client.post("/v1/tasks", params={"replace": "true"}, content=packs[0])
    finally:
        server.close()
    assert listed == {name: task.sha256 for name, task in expected.tasks.items()}, f"seed {seed}"
    for name, answer in answers.items():
        alone = expected.predict_mixed([(random_rgb(1), name)])[0]
        assert answer.status_code == 200 and answer.json()["label"] == alone.label
        np.testing.assert_allclose(list(answer.json()["probabilities"].values()), alone.probabilities, atol=1e-5)
    # The next change removes what interrupted ones left behind: only files the manifest names remain.
    assert after.status_code == 201, after.text
    names = referenced_files(read_manifest(bundle))
    leftovers = [p.relative_to(bundle).as_posix() for p in (bundle / "tasks").iterdir()
                 if p.relative_to(bundle).as_posix() not in names]
    assert leftovers == [] and not list(bundle.glob(".*.tmp")), f"seed {seed}"


def test_sigterm_stops_gracefully_after_delivering_what_was_queued(bundle, tmp_path):
    server = ServeProcess(bundle, "--log", str(tmp_path / "log"), log_path=tmp_path / "serve.log")
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ids = [client.post("/v1/predict", content=png_bytes(random_rgb(i))).json()["id"] for i in range(5)]
        code = server.terminate()
    finally:
        server.close()
    logged = (tmp_path / "log" / "results.jsonl").read_text().splitlines()
    assert code == 0, server.output()
    assert [int(line.split('"id": ')[1].split(",")[0]) for line in logged] == ids
    assert "Traceback" not in server.output()
