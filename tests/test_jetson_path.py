"""The Jetson path without TensorRT (issue 14, cases 10-16): stand-ins for the tensorrt module and CUDA.

What runs here is our code around TensorRT: which engine is tried and what
happens when one fails to load, what ``register-engine`` reads from an engine,
which tasks an INT8 engine may serve, how the timing cache is handled, the order
in which an engine and its sidecar are written, and how Orin modules are told
apart. The stand-ins follow the TensorRT 10 Python API
(``deserialize_cuda_engine`` returning None on failure,
``create_execution_context`` returning None when memory runs out,
``get_tensor_profile_shape(name, profile)``, ``set_timing_cache(cache,
ignore_mismatch) -> bool``). Nothing here claims that TensorRT itself ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from export.runtime import Bundle, Station
from export.runtime import trt_build
from export.runtime.trt_build import (EngineBuildRequest, attach_timing_cache, install_engine, register_engine,
                                      save_timing_cache)
from export.runtime.trt_sidecar import (EngineSidecar, MachineInfo, board_model, compatibility_problems,
                                        engine_path_for, engine_task_scope, import_tensorrt, sidecar_path)
from export.runtime.trt_profiles import ShapeProfile
from vpt_core.errors import BundleError, EngineMismatchError, TensorRTUnavailableError, VptError
from vpt_core.manifest import sha256_file
from test_export_support import copy_bundle, python_without, shared_bundle

REPO = Path(__file__).resolve().parents[1]
AGX_ORIN = MachineInfo("10.3.0", "Orin", "8.7", sm_count=16, total_memory_mib=62841,
                       board="NVIDIA Jetson AGX Orin Developer Kit")
ORIN_NX = MachineInfo("10.3.0", "Orin", "8.7", sm_count=8, total_memory_mib=15388,
                      board="NVIDIA Jetson Orin NX Engine Developer Kit")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle(shared, tmp_path):
    return Bundle.open(copy_bundle(shared["bundle"], tmp_path / "bundle"))


# -- stand-ins ---------------------------------------------------------------------------------------
class FakeEngine:
    def __init__(self, contract, max_batch=4, context_fails=False):
        self.contract, self.max_batch, self.context_fails = contract, max_batch, context_fails
        self.names = contract.input_names + contract.output_names
        self.num_io_tensors = len(self.names)
        self.num_optimization_profiles = 1

    def get_tensor_name(self, index):
        return self.names[index]

    def get_tensor_mode(self, name):
        return "input" if name in self.contract.input_names else "output"

    def get_tensor_profile_shape(self, name, profile):
        assert profile == 0
        return [self.contract.concrete_shape(name, batch=b) for b in (1, 1, self.max_batch)]

    def create_execution_context(self):
        return None if self.context_fails else types.SimpleNamespace(set_tensor_address=lambda name, ptr: None)


def fake_tensorrt(monkeypatch, engines: dict[bytes, FakeEngine], version="10.3.0"):
    """Install a tensorrt stand-in whose runtime knows the engines in ``engines`` (by their bytes)."""
    class Logger:
        WARNING = 2

        def __init__(self, level):
            self.level = level

    class Runtime:
        def __init__(self, logger):
            pass

        def deserialize_cuda_engine(self, data):
            return engines.get(bytes(data))   # None for anything else, as TensorRT does

    module = types.ModuleType("tensorrt")
    module.__version__ = version
    module.Logger, module.Runtime = Logger, Runtime
    module.TensorIOMode = types.SimpleNamespace(INPUT="input", OUTPUT="output")
    monkeypatch.setitem(sys.modules, "tensorrt", module)
    return module


class FakeBuffer:
    live: list["FakeBuffer"] = []

    def __init__(self, nbytes):
        self.nbytes, self.ptr = nbytes, 4096 * (len(self.live) + 1)
        self.live.append(self)

    def free(self):
        self.live.remove(self)


class FakeStream:
    handle = 1

    def synchronize(self):
        pass

    def close(self):
        pass


@pytest.fixture
def fake_cuda(monkeypatch):
    FakeBuffer.live = []
    monkeypatch.setattr("export.runtime.trt_cuda.DeviceBuffer", FakeBuffer)
    monkeypatch.setattr("export.runtime.trt_cuda.CudaStream", FakeStream)
    return FakeBuffer


def write_engine(bundle: Bundle, precision: str, data: bytes, machine=AGX_ORIN, mtime=None, **changes) -> Path:
    path = engine_path_for(bundle.root, precision)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    values = dict(engine_file=path.name, engine_sha256=sha256_file(path), precision=precision,
                  tensorrt_version=machine.tensorrt_version, gpu_name=machine.gpu_name,
                  compute_capability=machine.compute_capability, sm_count=machine.sm_count,
                  total_memory_mib=machine.total_memory_mib, board=machine.board,
                  onnx_sha256=bundle.backbone_sha256, contract=bundle.contract.to_dict(),
                  profile=ShapeProfile.from_contract(bundle.contract, max_batch=4).to_dict())
    values.update(changes)
    EngineSidecar(**values).save(sidecar_path(path))
    if mtime:
        os.utime(path, (mtime, mtime))
    return path


# -- case 12: a broken engine falls back instead of stopping the station --------------------------
def test_an_engine_that_does_not_deserialize_falls_back_to_the_next_one(bundle, monkeypatch, fake_cuda):
    fake_tensorrt(monkeypatch, {b"good engine": FakeEngine(bundle.contract)})
    monkeypatch.setattr("export.runtime.trt_runner.current_machine", lambda: AGX_ORIN)
    write_engine(bundle, "fp32", b"good engine", mtime=1_000_000)
    write_engine(bundle, "fp16", b"corrupt engine")   # newest: tried first
    station = Station(bundle.root, backend="auto")
    assert station.backend == "tensorrt" and "backbone.fp32.engine" in station.description
    assert len(fake_cuda.live) == 4   # images, prompts, prompt_mask, features
    station.close()
    assert fake_cuda.live == []


def test_engines_that_fail_to_load_or_allocate_fall_back_to_onnx_runtime_with_a_notice(bundle, monkeypatch,
                                                                                      fake_cuda):
    fake_tensorrt(monkeypatch, {b"no memory": FakeEngine(bundle.contract, context_fails=True)})
    monkeypatch.setattr("export.runtime.trt_runner.current_machine", lambda: AGX_ORIN)
    write_engine(bundle, "fp32", b"no memory", mtime=1_000_000)
    write_engine(bundle, "fp16", b"corrupt engine")
    station = Station(bundle.root, backend="auto")
    assert station.backend == "onnxruntime"
    note = next(n for n in station.notes if n.startswith("TensorRT not used"))
    assert "backbone.fp16.engine could not be loaded" in note and "could not deserialize" in note
    assert "backbone.fp32.engine could not be loaded" in note and "out of GPU memory" in note
    assert fake_cuda.live == []   # nothing left allocated by the failed attempts
    with pytest.raises(EngineMismatchError, match="could not deserialize"):
        Station(bundle.root, backend="tensorrt")


def test_an_engine_whose_profile_differs_from_its_sidecar_is_refused(bundle, monkeypatch, fake_cuda):
    fake_tensorrt(monkeypatch, {b"engine": FakeEngine(bundle.contract, max_batch=2)})
    monkeypatch.setattr("export.runtime.trt_runner.current_machine", lambda: AGX_ORIN)
    write_engine(bundle, "fp16", b"engine")   # the sidecar says batch up to 4
    station = Station(bundle.root)
    assert station.backend == "onnxruntime" and "takes batch {'batch': [1, 1, 2]}" in station.notes[0]


# -- case 12: register-engine reads the engine instead of trusting the command line ------------------
def test_register_engine_records_the_engines_real_profile_and_moves_it_in_after_its_sidecar(bundle, monkeypatch):
    fake_tensorrt(monkeypatch, {b"trtexec engine": FakeEngine(bundle.contract, max_batch=16)})
    monkeypatch.setattr("export.runtime.trt_build.current_machine", lambda: ORIN_NX)
    built = engine_path_for(bundle.root, "fp16").with_name("backbone.fp16.engine.partial")
    built.parent.mkdir(exist_ok=True)
    built.write_bytes(b"trtexec engine")
    notes = []
    sidecar = register_engine(bundle.root, built, "fp16", max_batch=8, onnx_sha256=bundle.backbone_sha256,
                              fp32_layers=True, log=notes.append)
    final = engine_path_for(bundle.root, "fp16")
    assert final.read_bytes() == b"trtexec engine" and not built.exists()
    assert sidecar.profile == {"batch": [1, 1, 16]} and "not up to 8 as given" in notes[0]
    saved = EngineSidecar.load(sidecar_path(final))
    assert saved == sidecar and saved.engine_sha256 == sha256_file(final)
    assert (saved.sm_count, saved.total_memory_mib, saved.board) == (8, 15388, ORIN_NX.board)
    assert saved.fp32_layers == ["LayerNorm", "Softmax", "reductions"]


def test_register_engine_refuses_foreign_engines_backbones_and_old_tensorrt(bundle, monkeypatch):
    fake_tensorrt(monkeypatch, {})
    monkeypatch.setattr("export.runtime.trt_build.current_machine", lambda: ORIN_NX)
    engine = engine_path_for(bundle.root, "fp16")
    engine.parent.mkdir(exist_ok=True)
    engine.write_bytes(b"built elsewhere")
    with pytest.raises(EngineMismatchError, match="could not deserialize"):
        register_engine(bundle.root, engine, "fp16")
    assert not sidecar_path(engine).exists()
    with pytest.raises(EngineMismatchError, match="built from another backbone.onnx"):
        register_engine(bundle.root, engine, "fp16", onnx_sha256="0" * 64)
    fake_tensorrt(monkeypatch, {}, version="8.6.2")
    with pytest.raises(TensorRTUnavailableError, match="TensorRT 8.6.2 is too old.*JetPack 6.1 or newer"):
        import_tensorrt()


def test_register_engine_refuses_an_engine_with_other_input_shapes(bundle, monkeypatch):
    from vpt_core.contract import BundleContract

    other = BundleContract.for_backbone((3, 32, 32), 2, 6, 48)   # six prompt slots, the bundle has four
    fake_tensorrt(monkeypatch, {b"other": FakeEngine(other)})
    monkeypatch.setattr("export.runtime.trt_build.current_machine", lambda: ORIN_NX)
    engine = engine_path_for(bundle.root, "fp16")
    engine.parent.mkdir(exist_ok=True)
    engine.write_bytes(b"other")
    with pytest.raises(EngineMismatchError, match="input 'prompts' has profile shapes"):
        register_engine(bundle.root, engine, "fp16")


# -- case 13: INT8 engines serve the tasks they were calibrated with ---------------------------------
def test_an_int8_engine_calibrated_for_one_task_serves_only_that_task(bundle, monkeypatch, fake_cuda):
    fake_tensorrt(monkeypatch, {b"int8": FakeEngine(bundle.contract)})
    monkeypatch.setattr("export.runtime.trt_runner.current_machine", lambda: AGX_ORIN)
    write_engine(bundle, "int8", b"int8", calibration={"tasks": ["surface"], "scope": "chosen tasks"})
    station = Station(bundle.root)
    assert station.backend == "tensorrt" and station.current_task == "surface"
    assert any("calibrated for task(s) surface only; variant cannot use it" in n for n in station.notes)
    with pytest.raises(BundleError, match="'variant' is not one the INT8 engine .* was calibrated for"):
        station.set_task("variant")


def test_int8_scope_notes_for_tasks_added_after_an_every_task_calibration(bundle):
    def sidecar(calibration):
        return EngineSidecar("e.engine", "", "int8", "10.3.0", "Orin", "8.7", "", {}, {}, calibration=calibration)

    every = sidecar({"tasks": ["surface", "variant"], "scope": "every task"})
    assert engine_task_scope(every, ["surface", "variant"]) == (None, [])
    allowed, notes = engine_task_scope(every, ["surface", "variant", "holes"])
    assert allowed is None and "calibrated without task(s) holes" in notes[0]
    allowed, notes = engine_task_scope(sidecar(None), ["surface"])
    assert allowed is None and "does not record which tasks" in notes[0]
    fp16 = EngineSidecar("e.engine", "", "fp16", "10.3.0", "Orin", "8.7", "", {}, {})
    assert engine_task_scope(fp16, ["surface"]) == (None, [])


def test_int8_build_records_its_calibration_scope(bundle, tmp_path, monkeypatch):
    from test_export_support import write_mixed_images

    write_mixed_images(tmp_path / "calib", count_per_kind=2)
    monkeypatch.setattr("export.runtime.trt_cuda.DeviceBuffer", FakeBuffer)

    class Profile:
        def set_shape(self, *args):
            pass

    builder = types.SimpleNamespace(create_optimization_profile=Profile)
    flags = []
    config = types.SimpleNamespace(set_flag=flags.append, set_calibration_profile=lambda p: None)
    trt = types.SimpleNamespace(BuilderFlag=types.SimpleNamespace(FP16="fp16", INT8="int8",
                                                                  OBEY_PRECISION_CONSTRAINTS="obey"),
                                IInt8EntropyCalibrator2=type("Calibrator", (), {"__init__": lambda self: None}))
    for calib_task, scope, tasks in ((None, "every task", ["surface", "variant"]), ("variant", "chosen tasks",
                                                                                     ["variant"])):
        request = EngineBuildRequest(precision="int8", calib_dir=str(tmp_path / "calib"), calib_task=calib_task,
                                     calib_batch_size=2)
        record, core = trt_build._configure_precision(trt, builder, None, config, bundle, request, lambda m: None)
        core.close()
        assert record["tasks"] == tasks and record["scope"] == scope
    assert "obey" not in flags   # no precision constraints unless asked for (case 14)


# -- case 15: timing cache and the order of writes -----------------------------------------------------
class FakeConfig:
    """create_timing_cache/set_timing_cache as TensorRT 10 has them; ``foreign`` bytes are refused."""

    def __init__(self):
        self.attached = None

    def create_timing_cache(self, data):
        if data == b"garbage":
            raise RuntimeError("Could not deserialize timing cache")
        return types.SimpleNamespace(data=bytes(data), serialize=lambda: b"cache:" + bytes(data))

    def set_timing_cache(self, cache, ignore_mismatch):
        assert ignore_mismatch is False
        if cache.data == b"foreign":
            return False
        self.attached = cache
        return True

    def get_timing_cache(self):
        return self.attached


@pytest.mark.parametrize("saved, attached, noted", [
    (None, b"", False), (b"ours", b"ours", False), (b"foreign", b"", True), (b"garbage", b"", True),
])
def test_a_timing_cache_from_another_device_is_dropped_with_a_note(tmp_path, saved, attached, noted):
    path = tmp_path / "timing.cache"
    if saved is not None:
        path.write_bytes(saved)
    config, notes = FakeConfig(), []
    attach_timing_cache(config, path, notes.append)
    assert config.attached.data == attached and bool(notes) == noted
    if noted:
        assert "made on another GPU or TensorRT version" in notes[0]


def test_saving_the_timing_cache_can_fail_without_losing_the_engine(tmp_path):
    class Broken:
        def get_timing_cache(self):
            raise RuntimeError("cache of another device")

    notes = []
    save_timing_cache(Broken(), tmp_path / "timing.cache", notes.append)
    assert "not saved" in notes[0] and not (tmp_path / "timing.cache").exists()


def test_the_sidecar_is_written_before_the_engine(bundle, monkeypatch):
    engine = engine_path_for(bundle.root, "fp16")
    engine.parent.mkdir(exist_ok=True)
    sidecar = EngineSidecar(engine.name, "x", "fp16", "10.3.0", "Orin", "8.7", bundle.backbone_sha256,
                            bundle.contract.to_dict(), {"batch": [1, 1, 4]})

    def disk_full(path, data):
        raise VptError(f"cannot write {path}: the disk is full")

    monkeypatch.setattr(trt_build, "atomic_write_bytes", disk_full)
    with pytest.raises(VptError, match="disk is full"):
        install_engine(engine, sidecar, data=b"engine")
    assert sidecar_path(engine).is_file() and not engine.exists()   # never an engine without a sidecar


def test_a_kill_between_sidecar_and_engine_leaves_nothing_the_station_would_run(bundle, tmp_path):
    """A real SIGKILL at each step of installing an engine (vpt_core.faults)."""
    script = tmp_path / "install.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from export.runtime.trt_build import install_engine\n"
        "from export.runtime.trt_sidecar import EngineSidecar\n"
        "engine = Path(sys.argv[1])\n"
        "sidecar = EngineSidecar(engine.name, 'new', 'fp16', '10.3.0', 'Orin', '8.7', 'x', {}, {'batch': [1, 1, 4]})\n"
        "install_engine(engine, sidecar, built=engine.with_name(engine.name + '.partial'))\n")
    engine = engine_path_for(bundle.root, "fp16")
    engine.parent.mkdir(exist_ok=True)
    seen = []
    for step in (1, 2, 3, 0):   # 1-2: writing the sidecar, 3: moving the engine in, 0: no kill
        (engine.parent / "backbone.fp16.engine.partial").write_bytes(b"new engine")
        engine.unlink(missing_ok=True)
        sidecar_path(engine).unlink(missing_ok=True)
        done = subprocess.run([sys.executable, str(script), str(engine)], cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "VPT_FAULT_KILL_AT": str(step), "PYTHONPATH": str(REPO)},
                              timeout=60)
        assert done.returncode == (-9 if step else 0), done.stderr
        seen.append((sidecar_path(engine).is_file(), engine.is_file()))
    assert seen == [(False, False), (False, False), (True, False), (True, True)]
    assert engine.read_bytes() == b"new engine"


# -- case 16: Orin modules are told apart -------------------------------------------------------------
def test_an_engine_from_another_orin_module_is_refused(bundle):
    path = write_engine(bundle, "fp16", b"engine", machine=AGX_ORIN)
    sidecar = EngineSidecar.load(sidecar_path(path))
    problems = compatibility_problems(sidecar, ORIN_NX, bundle.backbone_sha256, bundle.contract)
    assert problems == ["built on NVIDIA Jetson AGX Orin Developer Kit, 16 SMs, 61.4 GiB, this is NVIDIA Jetson "
                        "Orin NX Engine Developer Kit, 8 SMs, 15.0 GiB"]
    assert compatibility_problems(sidecar, AGX_ORIN, bundle.backbone_sha256, bundle.contract) == []
    # Reported memory moves a little with the kernel's carve-outs; an older sidecar without these fields passes.
    slightly_less = MachineInfo(**{**AGX_ORIN.__dict__, "total_memory_mib": 61000})
    assert compatibility_problems(sidecar, slightly_less, bundle.backbone_sha256, bundle.contract) == []
    old = EngineSidecar(**{**sidecar.__dict__, "sm_count": None, "total_memory_mib": None, "board": ""})
    assert compatibility_problems(old, ORIN_NX, bundle.backbone_sha256, bundle.contract) == []


def test_the_board_model_is_read_from_the_device_tree(tmp_path):
    model = tmp_path / "model"
    model.write_bytes(b"NVIDIA Jetson Orin Nano Developer Kit\x00")
    assert board_model(str(model)) == "NVIDIA Jetson Orin Nano Developer Kit"
    assert board_model(str(tmp_path / "absent")) == ""


def test_a_damaged_sidecar_field_is_one_line(bundle):
    path = write_engine(bundle, "fp16", b"engine")
    document = json.loads(sidecar_path(path).read_text())
    document["sm_count"] = "sixteen"
    sidecar_path(path).write_text(json.dumps(document))
    with pytest.raises(EngineMismatchError, match="sm_count must be a whole number"):
        EngineSidecar.load(sidecar_path(path))


# -- case 11: packaging --------------------------------------------------------------------------------
def test_packaging_pins_cuda_python_12_and_makes_onnx_runtime_replaceable():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("onnxruntime") for dep in project["dependencies"])
    extras = project["optional-dependencies"]
    assert extras["onnxruntime"] == ["onnxruntime>=1.17"]
    assert "onnxruntime" in extras["all"][0] and "vpt-toolkit[onnxruntime]" in extras["train"]
    assert "cuda-python>=12,<13" in extras["tensorrt"] and extras["cuda"] == ["cuda-python>=12,<13"]


def test_without_onnx_runtime_the_station_says_what_to_install(shared, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text("import sys\nfrom vpt_core.cli import main\n"
                      f"sys.exit(main(['infer', {str(shared['bundle'])!r}, '--task', 'surface', '--source', "
                      f"{str(shared['images'])!r}]))\n")
    done = subprocess.run([*python_without(("onnxruntime", "tensorrt")), str(script)], capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ONNX Runtime is not installed here" in lines[0]
    assert "vpt-toolkit[onnxruntime]" in lines[0] and "onnxruntime-gpu wheel built for your JetPack" in lines[0]


# -- case 14: the device check that decides on fp32 constraints (its logic; the check itself needs a GPU) ------
def test_the_layer_precision_check_counts_precisions_and_finds_layernorm_and_softmax():
    import importlib.util

    spec = importlib.util.spec_from_file_location("check", REPO / "benchmarks" / "gpu" / "check_fp16_layer_precisions.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    layer_info = {"Layers": [
        {"Name": "/blocks.0/norm1/LayerNormalization", "LayerType": "Normalization",
         "Outputs": [{"Format/Datatype": "Row major linear FP32"}]},
        {"Name": "/blocks.0/attn/MatMul", "LayerType": "MatrixMultiply",
         "Outputs": [{"Format/Datatype": "Row major linear FP16 format"}]},
        {"Name": "{ForeignNode[/blocks.0/attn/Softmax.../blocks.1/mlp/fc2/MatMul]}", "LayerType": "Myelin",
         "Outputs": [{"Format/Datatype": "Half"}]},
        "a layer listed by name only",
    ]}
    summary = check.summarize_layer_info(layer_info)
    assert summary["by_type"]["Normalization"] == {"fp32": 1}
    assert summary["by_type"]["MatrixMultiply"] == {"fp16": 1} and summary["by_type"]["Myelin"] == {"fp16": 1}
    assert [layer["type"] for layer in summary["layernorm_softmax"]] == ["Normalization", "Myelin"]
    assert check.VARIANTS == ("fp32", "fp16", "fp16-fp32norm")
