"""`vpt triton export` and `add-task`, and the dispatch model's work, without a Triton server.

The end-to-end checks against a real tritonserver are in test_triton_server.py.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from export.runtime import Station
from export.runtime.runners import OnnxRuntimeRunner
from export.runtime.triton import server as triton_server
from export.runtime.triton.dispatch import (RequestError, TaskTable, answer_batch, compute_features, decode_image,
                                            prepare_request)
from export.runtime.triton.model_config import ServingSettings
from export.runtime.triton.repository import export_repository
from export.runtime.triton.spec import OUTPUT_NAMES, RepositoryLayout
from vpt_core.cli import main
from vpt_core.contract import FEATURES_OUTPUT
from vpt_core.errors import BundleError, ConfigError, IncompatibleTaskError
from vpt_core.images import read_image_rgb
from vpt_core.manifest import sha256_file
from test_export_support import copy_bundle, make_pack, shared_bundle


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture(scope="module")
def repository(shared, tmp_path_factory):
    return export_repository(shared["bundle"], tmp_path_factory.mktemp("triton") / "repo",
                             ServingSettings(max_batch=4)).root


@pytest.fixture
def repository_copy(shared, tmp_path):
    return export_repository(shared["bundle"], tmp_path / "repo").root


def test_export_writes_two_models_a_bundle_and_the_backbone_once(repository, shared):
    layout = RepositoryLayout.open(repository)
    assert layout.model_names == ["vpt_backbone", "vpt"]
    for relative in ["repository.json", "README.txt", "vpt/config.pbtxt", "vpt/1/model.py", "vpt/bundle/manifest.json",
                     "vpt/bundle/tasks/surface.vptask", "vpt/bundle/tasks/variant.vptask", "vpt_backbone/config.pbtxt",
                     "vpt_backbone/configs/onnxruntime_gpu.pbtxt", "vpt_backbone/configs/tensorrt_gpu.pbtxt",
                     "vpt_backbone/backbone.json", "vpt_backbone/build_tensorrt_plan.sh", "vpt_backbone/1/model.py",
                     "vpt_backbone/1/model.onnx"]:
        assert (repository / relative).is_file(), relative
    assert not list(repository.parent.glob(".repo.*")), "the staging folder must be gone"
    backbone = repository / "vpt_backbone/1/model.onnx"
    assert backbone.stat().st_ino == (layout.bundle_dir / "backbone.onnx").stat().st_ino
    assert sha256_file(backbone) == sha256_file(shared["bundle"] / "backbone.onnx")
    assert "export.runtime.triton.dispatch_model import TritonPythonModel" in (repository / "vpt/1/model.py").read_text()
    info = json.loads(layout.backbone_info.read_text())
    assert info["sha256"] == sha256_file(backbone) and info["contract"]["prompt_slots"] == 4


def test_model_configs_follow_the_contract_and_the_dispatch_tables(repository):
    dispatch = (repository / "vpt/config.pbtxt").read_text()
    assert 'name: "vpt"' in dispatch and 'backend: "python"' in dispatch and "max_batch_size: 4" in dispatch
    assert "dynamic_batching { max_queue_delay_microseconds: 2000 }" in dispatch
    assert '{ name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] }' in dispatch
    assert '{ name: "TASK" data_type: TYPE_STRING dims: [ 1 ] }' in dispatch
    assert '{ name: "PROBABILITIES" data_type: TYPE_FP32 dims: [ -1 ] }' in dispatch
    assert all(f'name: "{name}"' in dispatch for name in OUTPUT_NAMES)
    assert 'key: "backbone_model" value: { string_value: "vpt_backbone" }' in dispatch
    for config, platform in [("config.pbtxt", 'backend: "python"'),
                             ("configs/onnxruntime_gpu.pbtxt", 'platform: "onnxruntime_onnx"'),
                             ("configs/tensorrt_gpu.pbtxt", 'platform: "tensorrt_plan"')]:
        text = (repository / "vpt_backbone" / config).read_text()
        assert 'name: "vpt_backbone"' in text and platform in text and "max_batch_size: 4" in text
        assert '{ name: "images" data_type: TYPE_FP32 dims: [ 3, 32, 32 ] }' in text
        assert '{ name: "prompts" data_type: TYPE_FP32 dims: [ 2, 4, 48 ] }' in text
        assert '{ name: "prompt_mask" data_type: TYPE_FP32 dims: [ 4 ] }' in text
        assert '{ name: "features" data_type: TYPE_FP32 dims: [ 192 ] }' in text   # (2 + 2 blocks) x 48


def test_tensorrt_script_builds_the_plan_with_the_contract_shapes(repository, tmp_path):
    """Runs the generated script with a stand-in trtexec that records its arguments (TensorRT is not here)."""
    fake = tmp_path / "trtexec"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n'
                    'for a in "$@"; do case "$a" in --saveEngine=*) echo plan > "${a#--saveEngine=}";; esac; done\n')
    fake.chmod(0o755)
    copy = copy_bundle(repository, tmp_path / "repo")
    env = {"PATH": "/usr/bin:/bin", "TRTEXEC": str(fake), "ARGS_FILE": str(tmp_path / "args.txt")}
    done = subprocess.run(["sh", str(copy / "vpt_backbone/build_tensorrt_plan.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "args.txt").read_text().split("\n")
    assert "--onnx=1/model.onnx" in args and "--fp16" in args
    assert "--maxShapes=images:4x3x32x32,prompts:4x2x4x48,prompt_mask:4x4" in args
    assert (copy / "vpt_backbone/1/model.plan").read_text() == "plan\n"


def test_export_refuses_an_existing_folder_without_overwrite_and_never_deletes_a_stranger(shared, tmp_path, capsys):
    target = export_repository(shared["bundle"], tmp_path / "repo").root
    assert main(["triton", "export", str(shared["bundle"]), "--out", str(target)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "already exists; pass --overwrite" in error
    assert main(["triton", "export", str(shared["bundle"]), "--out", str(target), "--overwrite", "--max-batch", "2"]) == 0
    assert "max_batch_size: 2" in (target / "vpt/config.pbtxt").read_text()
    stranger = tmp_path / "photos"
    stranger.mkdir()
    (stranger / "keep.jpg").write_bytes(b"x")
    with pytest.raises(BundleError, match="not a vpt Triton repository"):
        export_repository(shared["bundle"], stranger, overwrite=True)
    assert (stranger / "keep.jpg").read_bytes() == b"x"


def test_bad_inputs_are_one_line_errors(shared, tmp_path, capsys):
    assert main(["triton", "export", str(tmp_path / "nothing"), "--out", str(tmp_path / "repo")]) == 2
    assert main(["triton", "export", str(shared["bundle"]), "--out", str(tmp_path / "repo"), "--max-batch", "0"]) == 2
    assert main(["triton", "add-task", str(tmp_path), str(shared["packs"]["surface"])]) == 2
    assert main(["triton", "serve", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("vpt triton: error:") for line in lines)
    assert "bundle folder not found" in lines[0] and "--max-batch must be a whole number of at least 1" in lines[1]
    assert "not a vpt Triton repository" in lines[2] and "not a vpt Triton repository" in lines[3]
    with pytest.raises(ConfigError, match="--backbone-device"):
        ServingSettings(backbone_device="tpu")


# -- add-task -------------------------------------------------------------------------------------
def test_add_task_validates_like_bundle_add_task_and_commits_once(repository_copy, shared, tmp_path, capsys):
    bundle = RepositoryLayout.open(repository_copy).bundle_dir
    before = sha256_file(bundle / "manifest.json")
    other = make_pack(tmp_path / "other.vptask", "other", 2, fingerprint_overrides={"weights_sha256": "e" * 64})
    shape = make_pack(tmp_path / "shape.vptask", "shape", 2, num_prompts=8)
    again = make_pack(tmp_path / "surface.vptask", "surface", 2, seed=3)
    for pack in (other, shape, again):
        assert main(["triton", "add-task", str(repository_copy), str(pack)]) == 2
    triton_errors = capsys.readouterr().err.strip().splitlines()
    station_bundle = copy_bundle(shared["bundle"], tmp_path / "bundle")
    for pack in (other, shape, again):
        assert main(["bundle", "add-task", str(station_bundle), str(pack)]) == 2
    bundle_errors = capsys.readouterr().err.strip().splitlines()
    # The same refusals, word for word, as 'vpt bundle add-task' gives.
    assert [line.split(": error: ", 1)[1] for line in triton_errors] == \
        [line.split(": error: ", 1)[1] for line in bundle_errors]
    assert "weights differ" in triton_errors[0] and "prompt slots" in triton_errors[1]
    assert "already has a task 'surface'; pass --replace" in triton_errors[2]
    assert sha256_file(bundle / "manifest.json") == before
    with pytest.raises(IncompatibleTaskError):
        from export.runtime.triton.repository import add_task
        add_task(repository_copy, other)

    holes = make_pack(tmp_path / "holes.vptask", "holes", 5, seed=9)
    backbone = sha256_file(repository_copy / "vpt_backbone/1/model.onnx")
    assert main(["triton", "add-task", str(repository_copy), str(holes), "--no-reload"]) == 0
    assert "added task holes (5 classes" in capsys.readouterr().out
    assert list(TaskTable.open(bundle).tasks) == ["surface", "variant", "holes"]
    assert sha256_file(repository_copy / "vpt_backbone/1/model.onnx") == backbone


def test_add_task_without_a_running_server_says_so(repository_copy, tmp_path, capsys):
    (repository_copy / ".vpt-triton-server.json").write_text(json.dumps({"http": "http://127.0.0.1:9", "pid": 1}))
    pack = make_pack(tmp_path / "holes.vptask", "holes", 5, seed=9)
    assert main(["triton", "add-task", str(repository_copy), str(pack)]) == 0
    assert "no running 'vpt triton serve' found (pass --server URL)" in capsys.readouterr().out
    pack2 = make_pack(tmp_path / "pins.vptask", "pins", 2, seed=4)
    assert main(["triton", "add-task", str(repository_copy), str(pack2), "--server", "http://127.0.0.1:9"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "task 'pins' was added to" in error and "cannot reach the Triton server" in error


# -- the dispatch model's work ------------------------------------------------------------------
@pytest.fixture(scope="module")
def table_and_backbone(repository):
    layout = RepositoryLayout.open(repository)
    table = TaskTable.open(layout.bundle_dir)
    runner = OnnxRuntimeRunner(layout.backbone_onnx, table.contract, ["CPUExecutionProvider"])
    calls = []

    def run_backbone(feed):
        calls.append(len(feed["images"]))
        return runner.infer(feed)[FEATURES_OUTPUT]

    return table, run_backbone, calls


def test_a_mixed_batch_gives_the_station_answers_and_bad_requests_fail_alone(table_and_backbone, shared):
    table, run_backbone, calls = table_and_backbone
    paths = sorted(shared["images"].iterdir())[:5]
    requests, expected = [], []
    for index, path in enumerate(paths):
        task = ["surface", "variant"][index % 2]
        requests.append(([path.read_bytes()], [task.encode()], f"request {index}"))
        expected.append((read_image_rgb(path), task))
    requests.insert(2, ([paths[0].read_bytes()], [b"welds"], "request unknown"))
    requests.insert(4, ([b"\x89PNG broken"], [b"surface"], "request broken"))
    calls.clear()
    results = answer_batch(requests, table, run_backbone, max_batch=16)
    assert calls == [5], "one backbone run for the whole merged batch"
    unknown, broken = results.pop(2), results.pop(3)
    assert isinstance(unknown, RequestError) and unknown.reason == "unknown_task"
    assert str(unknown) == "no task 'welds' in this repository; tasks: surface, variant"
    assert isinstance(broken, RequestError) and str(broken).startswith("request broken: not a readable image")
    station = Station(shared["bundle"])
    for result, answer in zip(results, station.predict_mixed(expected)):
        assert result["LABEL"][0, 0].decode() == answer.label
        assert result["CLASS_INDEX"][0, 0] == answer.index
        np.testing.assert_allclose(result["PROBABILITIES"][0], answer.probabilities, atol=1e-5)
        assert result["CONFIDENCE"][0, 0] == pytest.approx(answer.confidence, abs=1e-5)
        assert [c.decode() for c in result["CLASSES"][0]] == list(station.bundle.task(answer.task).classes)
        assert result["PACK_SHA256"][0, 0].decode() == station.bundle.task(answer.task).entry["sha256"]


def test_a_request_with_several_images_pads_to_its_widest_task(table_and_backbone, shared):
    table, run_backbone, calls = table_and_backbone
    path = sorted(shared["images"].iterdir())[0]
    (result,) = answer_batch([([path.read_bytes()] * 2, [b"variant", b"surface"], "request")], table, run_backbone, 16)
    assert result["PROBABILITIES"].shape == (2, 4) and result["PROBABILITIES"][0, 3] == 0.0
    assert list(result["CLASSES"][0]) == [b"variant_0", b"variant_1", b"variant_2", b""]
    assert result["LABEL"].shape == (2, 1) and result["UNCERTAIN"].dtype == np.bool_


def test_batches_larger_than_the_backbone_limit_run_in_chunks(table_and_backbone, shared):
    table, run_backbone, calls = table_and_backbone
    rgb = read_image_rgb(sorted(shared["images"].iterdir())[0])
    items = [(table.tasks[name].spec(rgb), table.tasks[name]) for name in ["surface", "variant"] * 5]
    calls.clear()
    features = compute_features(items, table.contract, run_backbone, max_batch=4)
    assert calls == [4, 4, 2] and features.shape == (10, table.contract.feature_dim)


def test_decoding_matches_files_and_refuses_nonsense(shared, tmp_path):
    for path in sorted(shared["images"].iterdir()):
        np.testing.assert_array_equal(decode_image(path.read_bytes(), "request"), read_image_rgb(path))
    with pytest.raises(RequestError, match="request: IMAGE is empty"):
        decode_image(b"", "request")
    truncated = sorted(shared["images"].glob("*.png"))[0].read_bytes()[:60]
    with pytest.raises(RequestError, match="not a readable image"):
        decode_image(truncated, "request")
    table = TaskTable.open(RepositoryLayout.open(export_repository(shared["bundle"], tmp_path / "r").root).bundle_dir)
    with pytest.raises(RequestError, match="2 IMAGE rows but 1 TASK rows"):
        prepare_request([b"a", b"b"], [b"surface"], "request", table)
    with pytest.raises(RequestError, match="TASK is not UTF-8"):
        prepare_request([truncated], [b"\xff\xfe"], "request", table)


def test_a_changed_pack_in_the_repository_is_refused_at_load(repository_copy):
    pack = RepositoryLayout.open(repository_copy).bundle_dir / "tasks" / "variant.vptask"
    data = bytearray(pack.read_bytes())
    data[-1] ^= 0xFF
    pack.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="variant.vptask: changed after it was added"):
        TaskTable.open(pack.parent.parent)


# -- the local server's preparation --------------------------------------------------------------
def test_serve_without_pytriton_is_one_clear_line(repository, monkeypatch, capsys):
    monkeypatch.setattr(triton_server.importlib.util, "find_spec", lambda name: None)
    assert main(["triton", "serve", str(repository)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert "tritonserver is not installed (it comes with nvidia-pytriton): pip install 'vpt-toolkit[triton]'" in error


def test_numpy_2_is_refused_before_the_stub_corrupts_strings(monkeypatch, tmp_path):
    import numpy

    installation = triton_server.TritonInstallation(tmp_path, "0.7.0")
    monkeypatch.setattr(numpy, "__version__", "2.1.0")
    with pytest.raises(triton_server.TritonUnavailableError, match="numpy < 2"):
        triton_server.check_environment(installation)


def test_server_listens_on_loopback_only_with_explicit_model_control(tmp_path):
    installation = triton_server.TritonInstallation(tmp_path / "pytriton", "0.7.0")
    command = triton_server.server_command(installation, tmp_path / "backends", [tmp_path / "repo"],
                                           ["vpt_backbone", "vpt"], triton_server.Ports(18000, 18001, 18002))
    assert command[0].endswith("tritonserver/bin/tritonserver")
    for flag in ("--http-address=127.0.0.1", "--grpc-address=127.0.0.1", "--metrics-address=127.0.0.1",
                 "--model-control-mode=explicit", "--load-model=vpt_backbone", "--load-model=vpt",
                 "--http-port=18000", "--grpc-port=18001", "--metrics-port=18002"):
        assert flag in command
    assert command.index("--load-model=vpt_backbone") < command.index("--load-model=vpt")


def test_backend_directory_is_prepared_once_outside_site_packages(tmp_path):
    package = tmp_path / "site" / "pytriton"
    backend = package / "tritonserver/backends/python"
    backend.mkdir(parents=True)
    for name in triton_server.PYTHON_BACKEND_FILES:
        (backend / name).write_bytes(name.encode())
    installation = triton_server.TritonInstallation(package, "0.7.0")
    installation.stub.parent.mkdir(parents=True)
    installation.stub.write_bytes(b"stub")
    prepared = triton_server.prepare_backend_directory(installation, tmp_path / "cache")
    assert sorted(p.name for p in (prepared / "python").iterdir()) == sorted(
        [*triton_server.PYTHON_BACKEND_FILES, triton_server.STUB_NAME])
    assert not (backend / triton_server.STUB_NAME).exists(), "site-packages stays untouched"
    marker = prepared / "python" / "prepared-once"
    marker.write_text("x")
    assert triton_server.prepare_backend_directory(installation, tmp_path / "cache") == prepared and marker.exists()


TORCH_FREE_SCRIPT = """
import io, json, sys
from contextlib import redirect_stdout
import export.runtime.triton.backbone_model, export.runtime.triton.dispatch_model, export.runtime.triton.server
from vpt_core.cli import main

bundle, repo, pack = sys.argv[2:5]   # argv[1] is this script (run through python -c)
codes = [main(["triton", "export", bundle, "--out", repo]), main(["triton", "add-task", repo, pack, "--no-reload"])]
from export.runtime.triton.dispatch import TaskTable
tasks = list(TaskTable.open(repo + "/vpt/bundle").tasks)
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"torch", "timm", "PySide6", "tritonclient", "pytriton"})
print(json.dumps({"codes": codes, "tasks": tasks, "heavy": heavy}))
"""


def test_triton_commands_run_where_torch_cannot_be_imported(shared, tmp_path):
    from test_export_support import python_without

    script = tmp_path / "triton_script.py"
    script.write_text(TORCH_FREE_SCRIPT)
    pack = make_pack(tmp_path / "holes.vptask", "holes", 5, seed=9)
    done = subprocess.run([*python_without(("torch", "torchvision", "timm", "PySide6")), str(script),
                           str(shared["bundle"]), str(tmp_path / "repo"), str(pack)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"codes": [0, 0], "tasks": ["surface", "variant", "holes"], "heavy": []}
