"""TensorRT: sidecars, compatibility checks, calibration batching and layer precision, without the library.

The real build-and-run test at the end is marked ``tensorrt`` and skipped
unless the tensorrt package, cuda-python and a GPU are present.
"""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from vpt_core.contract import BundleContract
from vpt_core.errors import EngineMismatchError, TensorRTUnavailableError, VptError
from export.runtime import Bundle, Station
from export.runtime.trt_build import EngineBuildRequest, check_precision_supported, fp32_layer_names
from export.runtime.trt_calibrator import CalibrationBatches, CalibratorCore, make_entropy_calibrator
from export.runtime.trt_profiles import ShapeProfile
from export.runtime.trt_runner import open_tensorrt_runner
from export.runtime.trt_sidecar import (EngineSidecar, MachineInfo, check_engine, compatibility_problems,
                                        engine_path_for, list_engines, sidecar_path)
from test_export_support import copy_bundle, shared_bundle, write_mixed_images
from vpt_core.cli import main

ORIN = MachineInfo("10.3.0", "Orin", "8.7")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle(shared, tmp_path):
    return Bundle.open(copy_bundle(shared["bundle"], tmp_path / "bundle"))


def make_sidecar(bundle: Bundle, engine_path, machine=ORIN, **changes) -> EngineSidecar:
    profile = ShapeProfile.from_contract(bundle.contract, max_batch=4)
    values = dict(engine_file=engine_path.name, engine_sha256="", precision="fp16",
                  tensorrt_version=machine.tensorrt_version, gpu_name=machine.gpu_name,
                  compute_capability=machine.compute_capability, onnx_sha256=bundle.backbone_sha256,
                  contract=bundle.contract.to_dict(), profile=profile.to_dict())
    values.update(changes)
    return EngineSidecar(**values)


def write_engine(bundle: Bundle, precision="fp16", machine=ORIN, **changes):
    from vpt_core.manifest import sha256_file

    path = engine_path_for(bundle.root, precision)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"serialized engine " + precision.encode())
    sidecar = make_sidecar(bundle, path, machine, precision=precision, engine_sha256=sha256_file(path), **changes)
    sidecar.save(sidecar_path(path))
    return path, sidecar


# -- sidecar and compatibility ------------------------------------------------------------------
def test_sidecar_round_trips_and_sits_beside_the_engine(bundle):
    path, sidecar = write_engine(bundle)
    assert sidecar_path(path).name == "backbone.fp16.json"
    assert EngineSidecar.load(sidecar_path(path)) == sidecar
    document = json.loads(sidecar_path(path).read_text())
    assert document["format"] == "vpt-engine" and document["contract"]["embed_dim"] == 48
    assert path.read_bytes().startswith(b"serialized engine")  # nothing prepended to the engine


def test_a_matching_engine_has_no_problems(bundle):
    _, sidecar = write_engine(bundle)
    assert compatibility_problems(sidecar, ORIN, bundle.backbone_sha256, bundle.contract) == []


@pytest.mark.parametrize("machine, change, problem", [
    (MachineInfo("10.7.0", "Orin", "8.7"), {}, "built with TensorRT 10.3.0, this machine has 10.7.0"),
    (MachineInfo("10.3.0", "RTX 4090", "8.9"), {}, "compute capability 8.7 \\(Orin\\), this GPU is 8.9"),
    (MachineInfo("10.3.0", "Orin NX", "8.7"), {}, "built on Orin, this GPU is Orin NX"),
    (ORIN, {"onnx_sha256": "0" * 64}, "another backbone.onnx"),
    (ORIN, {"contract": BundleContract.for_backbone((3, 32, 32), 2, 5, 48).to_dict()}, "another input contract"),
])
def test_each_mismatch_is_named_with_the_rebuild_command(bundle, machine, change, problem):
    path, sidecar = write_engine(bundle, **change)
    problems = compatibility_problems(sidecar, machine, bundle.backbone_sha256, bundle.contract)
    assert len(problems) == 1
    with pytest.raises(EngineMismatchError, match=problem) as caught:
        check_engine(path, sidecar, machine, bundle.backbone_sha256, bundle.contract, bundle.root)
    assert f"vpt deploy build-engine {bundle.root} --fp16 --max-batch 4" in str(caught.value)


def test_broken_sidecars_are_refused(bundle):
    path, _ = write_engine(bundle)
    sidecar_path(path).write_text("{")
    with pytest.raises(EngineMismatchError, match="damaged engine sidecar"):
        EngineSidecar.load(sidecar_path(path))
    sidecar_path(path).unlink()
    with pytest.raises(EngineMismatchError, match="no sidecar.*register-engine"):
        EngineSidecar.load(sidecar_path(path))


def test_engines_are_listed_newest_first(bundle):
    import os

    old, _ = write_engine(bundle, "fp32")
    new, _ = write_engine(bundle, "fp16")
    os.utime(old, (1_000_000, 1_000_000))
    assert list_engines(bundle.root) == [new, old]


def test_runner_choice_without_engines_or_without_tensorrt(bundle, monkeypatch):
    assert open_tensorrt_runner(bundle, required=False) == (None, "")
    with pytest.raises(TensorRTUnavailableError, match="no engine in .*build-engine"):
        open_tensorrt_runner(bundle, required=True)
    write_engine(bundle)

    def no_tensorrt():
        raise TensorRTUnavailableError("the tensorrt Python package is not installed")

    monkeypatch.setattr("export.runtime.trt_runner.current_machine", no_tensorrt)
    runner, reason = open_tensorrt_runner(bundle, required=False)
    assert runner is None and "tensorrt Python package" in reason
    station = Station(bundle.root)  # auto falls back to ONNX Runtime and says why
    assert station.backend == "onnxruntime" and "tensorrt Python package" in station.notes[0]
    with pytest.raises(TensorRTUnavailableError):
        Station(bundle.root, backend="tensorrt")


def test_engine_for_another_machine_is_refused_before_loading(bundle, monkeypatch):
    write_engine(bundle, machine=MachineInfo("10.3.0", "Orin", "8.7"))
    monkeypatch.setattr("export.runtime.trt_runner.current_machine", lambda: MachineInfo("10.8.0", "L4", "8.9"))
    with pytest.raises(EngineMismatchError, match="built with TensorRT 10.3.0, this machine has 10.8.0.*Rebuild"):
        Station(bundle.root, backend="tensorrt")
    station = Station(bundle.root, backend="auto")
    assert station.backend == "onnxruntime" and "compute capability" in station.notes[0]


def test_engine_file_swapped_under_its_sidecar_is_refused(bundle, monkeypatch):
    path, _ = write_engine(bundle)
    path.write_bytes(b"another engine")
    monkeypatch.setattr("export.runtime.trt_runner.current_machine", lambda: ORIN)
    with pytest.raises(EngineMismatchError, match="differs from the one its sidecar describes"):
        open_tensorrt_runner(bundle, required=True)


# -- build settings -------------------------------------------------------------------------------
def test_build_request_validation():
    with pytest.raises(VptError, match="--calib-dir"):
        EngineBuildRequest(precision="int8")
    with pytest.raises(VptError, match="unknown precision 'fp8'"):
        EngineBuildRequest(precision="fp8")
    check_precision_supported("10.3.0", "fp16")
    check_precision_supported("11.4.0", "fp32")
    with pytest.raises(TensorRTUnavailableError, match="TensorRT 11.4.0 removed the FP16/INT8 builder flags"):
        check_precision_supported("11.4.0", "fp16")


def _fake_trt():
    layer_type = types.SimpleNamespace(NORMALIZATION="norm", SOFTMAX="softmax", REDUCE="reduce",
                                       MATRIX_MULTIPLY="matmul", SHUFFLE="shuffle")
    return types.SimpleNamespace(LayerType=layer_type, float32="f32", float16="f16", int32="i32")


class FakeLayer:
    def __init__(self, name, kind, dtype="f32"):
        self.name, self.type, self.precision = name, kind, None
        self.num_outputs = 1
        self._outputs = [types.SimpleNamespace(dtype=dtype)]
        self.output_types = {}

    def get_output(self, index):
        return self._outputs[index]

    def set_output_type(self, index, dtype):
        self.output_types[index] = dtype


def test_layernorm_softmax_and_float_reductions_are_forced_to_fp32():
    trt = _fake_trt()
    layers = [FakeLayer("ln", "norm"), FakeLayer("mm", "matmul"), FakeLayer("sm", "softmax"),
              FakeLayer("mean", "reduce"), FakeLayer("shape_sum", "reduce", dtype="i32"), FakeLayer("v", "shuffle")]
    network = types.SimpleNamespace(num_layers=len(layers), get_layer=lambda i: layers[i])
    assert fp32_layer_names(network, trt) == ["ln", "sm", "mean"]
    assert [layer.precision for layer in layers] == ["f32", None, "f32", "f32", None, None]
    assert layers[0].output_types == {0: "f32"} and layers[4].output_types == {}


def test_build_engine_without_tensorrt_is_a_one_line_error(bundle, capsys):
    assert main(["deploy", "build-engine", str(bundle.root), "--fp16"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "tensorrt Python package is not installed" in error


# -- INT8 calibration -----------------------------------------------------------------------------
class FakeDeviceBuffer:
    allocated: list["FakeDeviceBuffer"] = []

    def __init__(self, nbytes):
        self.nbytes, self.ptr, self.copies, self.freed = nbytes, 4096 * (len(self.allocated) + 1), [], False
        self.allocated.append(self)

    def copy_from_host(self, array):
        assert array.nbytes <= self.nbytes and array.dtype == np.float32
        self.copies.append(array.copy())

    def free(self):
        self.freed = True


def test_calibration_batches_are_full_preprocessed_mix_every_task_and_skip_broken_files(bundle, tmp_path):
    write_mixed_images(tmp_path / "calib", count_per_kind=3)  # 15 images
    (tmp_path / "calib" / "broken.jpg").write_bytes(b"nope")
    tasks = list(bundle.tasks.values())
    batches = CalibrationBatches.from_folder(tmp_path / "calib", bundle.contract, tasks, batch_size=4)
    produced = list(batches)
    assert batches.num_batches == 4 and len(produced) == 3  # 16 files, one unreadable: 15 images, 3 full batches
    assert len(batches.skipped) == 1 and "broken.jpg" in batches.skipped[0]
    for batch in produced:
        assert batch["images"].shape == (4, 3, 32, 32) and batch["images"].dtype == np.float32
        bundle.contract.check_feed(batch)
        # surface (4 prompts) and variant (2 prompts) alternate image by image
        assert batch["prompt_mask"].sum(axis=1).tolist() == [4, 2, 4, 2]
    assert batches.shapes() == {"images": (4, 3, 32, 32), "prompts": (4, 2, 4, 48), "prompt_mask": (4, 4)}
    with pytest.raises(VptError, match="at least 64 images, found 16"):
        CalibrationBatches.from_folder(tmp_path / "calib", bundle.contract, tasks, 64)


def test_calibrator_feeds_device_pointers_in_the_order_tensorrt_asks(bundle, tmp_path):
    write_mixed_images(tmp_path / "calib", count_per_kind=2)  # 10 images
    variant = bundle.task("variant")
    batches = CalibrationBatches.from_folder(tmp_path / "calib", bundle.contract, [variant], 4)
    FakeDeviceBuffer.allocated = []
    progress = []
    core = CalibratorCore(batches, tmp_path / "calib.cache", FakeDeviceBuffer,
                          on_batch=lambda done, total: progress.append((done, total)))
    names = ["prompt_mask", "images", "prompts"]
    first = core.get_batch(names)
    assert first == [core.buffers[name].ptr for name in names]
    assert core.buffers["images"].copies[0].shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(core.buffers["prompts"].copies[0][0], variant.tensors.prompts)
    assert core.get_batch(names) is not None and core.get_batch(names) is None  # 10 images: 2 batches
    assert progress == [(1, 2), (2, 2)] and core.get_batch_size() == 1  # explicit batch: shapes carry it
    with pytest.raises(VptError, match="calibration inputs \\['pixels'\\]"):
        core.get_batch(["pixels"])
    assert core.read_calibration_cache() is None
    core.write_calibration_cache(b"scales")
    assert core.read_calibration_cache() == b"scales"
    core.close()
    assert all(buffer.freed for buffer in FakeDeviceBuffer.allocated)


def test_entropy_calibrator_subclasses_tensorrt_and_delegates(bundle, tmp_path):
    class IInt8EntropyCalibrator2:  # stands in for the tensorrt base class
        def __init__(self):
            self.base_initialised = True

    core = types.SimpleNamespace(get_batch_size=lambda: 8, get_batch=lambda names: [1, 2],
                                 read_calibration_cache=lambda: b"c", written=[])
    core.write_calibration_cache = core.written.append
    calibrator = make_entropy_calibrator(types.SimpleNamespace(IInt8EntropyCalibrator2=IInt8EntropyCalibrator2), core)
    assert isinstance(calibrator, IInt8EntropyCalibrator2) and calibrator.base_initialised
    assert calibrator.get_batch_size() == 8 and calibrator.get_batch(["images"]) == [1, 2]
    calibrator.write_calibration_cache(memoryview(b"abc"))
    assert core.written == [b"abc"] and calibrator.read_calibration_cache() == b"c"


# -- the real thing ---------------------------------------------------------------------------------
def _why_tensorrt_cannot_run() -> str:
    try:
        import importlib

        importlib.import_module("tensorrt")
        from export.runtime.trt_cuda import gpu_identity

        gpu_identity()
    except Exception as error:  # ImportError, or no GPU / driver
        return f"needs the tensorrt package, cuda-python and a CUDA GPU ({type(error).__name__}: {error})"
    return ""


TENSORRT_MISSING = _why_tensorrt_cannot_run()


@pytest.mark.tensorrt
@pytest.mark.skipif(bool(TENSORRT_MISSING), reason=TENSORRT_MISSING or "TensorRT present")
def test_real_fp16_engine_builds_runs_and_matches_onnx_runtime(shared, tmp_path):
    from export.runtime.trt_build import build_engine

    root = copy_bundle(shared["bundle"], tmp_path / "bundle")
    path, sidecar = build_engine(root, EngineBuildRequest(precision="fp16", max_batch=4))
    assert path.is_file() and sidecar.precision == "fp16"
    trt_station = Station(root, backend="tensorrt")
    ort_station = Station(root, backend="onnxruntime")
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 50, 3), dtype=np.uint8) for _ in range(6)]
    for task in ("surface", "variant"):
        trt_station.set_task(task)
        ort_station.set_task(task)
        got = trt_station.predict_batch(images)
        want = ort_station.predict_batch(images)
        np.testing.assert_allclose([r.probabilities for r in got], [r.probabilities for r in want], atol=2e-2)
