"""Build a TensorRT engine from a bundle with the tensorrt Python API (10.x).

Explicit batch (the only mode in TensorRT 10), one optimisation profile from
the contract (batch 1..max), a timing cache in the bundle's ``engines/``
folder (one made on another GPU or TensorRT version is dropped, as TensorRT
refuses it), FP16 (optionally with LayerNorm, Softmax and reductions held in
FP32 by precision constraints: whether that is needed is what
``benchmarks/gpu/check_fp16_layer_precisions.sh`` measures), and INT8 through
an entropy calibrator fed with real images of every task. Writes the sidecar
JSON first, then the standard ``.engine`` file, so an engine never lies there
without one.

Written for TensorRT 10.3 (JetPack 6.1 and newer). TensorRT 11 removed the
weakly typed precision flags (FP16, INT8 and precision constraints) that these
builds use; there only fp32 builds are offered.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vpt_core import faults
from vpt_core.atomicio import atomic_write_bytes
from vpt_core.errors import EngineMismatchError, TensorRTUnavailableError, VptError
from vpt_core.manifest import ENGINES_DIR
from .bundle import Bundle
from .trt_calibrator import (DEFAULT_CALIBRATION_BATCH, DEFAULT_CALIBRATION_IMAGES, CalibrationBatches,
                             CalibratorCore, make_entropy_calibrator)
from .trt_profiles import DEFAULT_MAX_BATCH, PRECISIONS, ShapeProfile
from .trt_sidecar import (CHOSEN_TASKS, EVERY_TASK, EngineSidecar, MachineInfo, current_machine, engine_path_for,
                          final_engine_path, import_tensorrt, sidecar_path, tensorrt_major)

TIMING_CACHE_NAME = "timing.cache"
FP32_LAYER_TYPE_NAMES = ("NORMALIZATION", "SOFTMAX", "REDUCE")
FP32_LAYERS_RECORD = ["LayerNorm", "Softmax", "reductions"]   # what the sidecar says was held in fp32


@dataclass
class EngineBuildRequest:
    precision: str = "fp16"
    max_batch: int = DEFAULT_MAX_BATCH
    opt_batch: int = 1
    calib_dir: str | None = None
    calib_task: str | None = None
    calib_batch_size: int = DEFAULT_CALIBRATION_BATCH
    calib_max_images: int = DEFAULT_CALIBRATION_IMAGES
    workspace_mib: int | None = None
    keep_fp32_layers: bool = False   # precision constraints on LayerNorm/Softmax/reductions (fp16/int8 only)

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise VptError(f"unknown precision {self.precision!r}; use one of {', '.join(PRECISIONS)}")
        if self.precision == "int8" and not self.calib_dir:
            raise VptError("an INT8 engine needs calibration images: pass --calib-dir DIR (a few hundred of the "
                           "task's own images)")


def check_precision_supported(trt_version: str, precision: str) -> None:
    if precision != "fp32" and tensorrt_major(trt_version) >= 11:
        raise TensorRTUnavailableError(
            f"TensorRT {trt_version} removed the FP16/INT8 builder flags this build uses; build an fp32 engine "
            "(no --fp16/--int8) or use TensorRT 10.x (JetPack 6)")


def fp32_layer_names(network, trt) -> list[str]:
    """Force LayerNorm, Softmax and reduction layers (float outputs only) to fp32; return their names."""
    sensitive = {getattr(trt.LayerType, name) for name in FP32_LAYER_TYPE_NAMES if hasattr(trt.LayerType, name)}
    kept = []
    for index in range(network.num_layers):
        layer = network.get_layer(index)
        if layer.type not in sensitive:
            continue
        outputs = [layer.get_output(i) for i in range(layer.num_outputs)]
        if not all(output.dtype in (trt.float32, trt.float16) for output in outputs):
            continue  # shape arithmetic on integers: precision does not apply
        layer.precision = trt.float32
        for i in range(layer.num_outputs):
            layer.set_output_type(i, trt.float32)
        kept.append(layer.name)
    return kept


def build_engine(bundle_dir: str | os.PathLike, request: EngineBuildRequest,
                 log: Callable[[str], None] = lambda message: None) -> tuple[Path, EngineSidecar]:
    trt = import_tensorrt()
    check_precision_supported(trt.__version__, request.precision)
    bundle = Bundle.open(bundle_dir)
    machine = current_machine()
    profile = ShapeProfile.from_contract(bundle.contract, request.max_batch, request.opt_batch)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network, parser = _parse_network(trt, builder, logger, bundle)  # the parser owns the weights: keep it
    config = builder.create_builder_config()
    if request.workspace_mib:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, request.workspace_mib << 20)
    config.add_optimization_profile(_optimization_profile(builder, profile))
    cache_path = bundle.root / ENGINES_DIR / TIMING_CACHE_NAME
    attach_timing_cache(config, cache_path, log)
    calibration, core = _configure_precision(trt, builder, network, config, bundle, request, log)
    log(f"building a {request.precision} engine for {machine.describe()} with TensorRT {trt.__version__} "
        f"(batch {profile.ranges['batch'].as_list()})")
    try:
        serialized = builder.build_serialized_network(network, config)
    finally:
        if core is not None:
            core.close()
    del parser
    if serialized is None:
        raise VptError("TensorRT could not build the engine (see its messages above)")
    engine = bytes(serialized)
    engine_path = engine_path_for(bundle.root, request.precision)
    sidecar = _sidecar(engine_path.name, hashlib.sha256(engine).hexdigest(), request.precision, machine, bundle,
                       profile, calibration=calibration,
                       fp32_layers=FP32_LAYERS_RECORD if request.keep_fp32_layers and request.precision != "fp32"
                       else [])
    install_engine(engine_path, sidecar, data=engine)
    save_timing_cache(config, cache_path, log)
    return engine_path, sidecar


def _sidecar(engine_file: str, engine_sha256: str, precision: str, machine: MachineInfo, bundle: Bundle,
             profile: ShapeProfile, **extra) -> EngineSidecar:
    return EngineSidecar(
        engine_file=engine_file, engine_sha256=engine_sha256, precision=precision,
        tensorrt_version=machine.tensorrt_version, gpu_name=machine.gpu_name,
        compute_capability=machine.compute_capability, sm_count=machine.sm_count,
        total_memory_mib=machine.total_memory_mib, board=machine.board, onnx_sha256=bundle.backbone_sha256,
        contract=bundle.contract.to_dict(), profile=profile.to_dict(), **extra)


def install_engine(engine_path: Path, sidecar: EngineSidecar, *, data: bytes | None = None,
                   built: Path | None = None) -> None:
    """Sidecar first, then the engine (``data``, or the file ``built`` moved in): never an engine without one.

    Killed in between, the sidecar describes an engine that is not there yet (or the older one, whose sha256
    then differs): either way the runtime refuses it with a message and falls back.
    """
    sidecar.save(sidecar_path(engine_path))
    if data is not None:
        atomic_write_bytes(engine_path, data)
    elif built is not None and built != engine_path:
        faults.step("replace", engine_path)
        os.replace(built, engine_path)


def attach_timing_cache(config, cache_path: Path, log: Callable[[str], None]) -> None:
    """Use the saved timing cache if TensorRT accepts it; one from another GPU or version is dropped, with a note."""
    data = cache_path.read_bytes() if cache_path.is_file() else b""
    if data and _set_timing_cache(config, data):
        return
    if data:
        log(f"note: {cache_path} was made on another GPU or TensorRT version; building with a new timing cache")
    if not _set_timing_cache(config, b""):
        log("note: TensorRT refused a new timing cache; building without one (slower, same engine)")


def _set_timing_cache(config, data: bytes) -> bool:
    try:
        cache = config.create_timing_cache(data)
        return cache is not None and bool(config.set_timing_cache(cache, False))   # False: refuse mismatches
    except Exception:   # a damaged cache file: the bindings raise their own error types
        return False


def save_timing_cache(config, cache_path: Path, log: Callable[[str], None]) -> None:
    """After the engine and its sidecar: a failure here costs only the next build's time."""
    try:
        cache = config.get_timing_cache()
        if cache is not None:
            atomic_write_bytes(cache_path, bytes(cache.serialize()))
    except Exception as error:   # DiskWriteError, or the bindings' errors
        log(f"note: the timing cache was not saved ({error})")


def _parse_network(trt, builder, logger, bundle: Bundle):
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(bundle.backbone_path)):
        errors = "; ".join(str(parser.get_error(i).desc()) for i in range(parser.num_errors))
        raise VptError(f"TensorRT cannot parse {bundle.backbone_path}: {errors}")
    inputs = [network.get_input(i).name for i in range(network.num_inputs)]
    if inputs != bundle.contract.input_names:
        raise VptError(f"{bundle.backbone_path}: parsed inputs {inputs}, the contract says "
                       f"{bundle.contract.input_names}")
    return network, parser


def _optimization_profile(builder, profile: ShapeProfile):
    trt_profile = builder.create_optimization_profile()
    for name, (low, opt, high) in profile.input_shapes().items():
        trt_profile.set_shape(name, low, opt, high)
    return trt_profile


def _configure_precision(trt, builder, network, config, bundle: Bundle, request: EngineBuildRequest, log):
    """Precision flags and constraints; for INT8 also the calibrator. Returns (calibration record, core)."""
    if request.precision == "fp32":
        return None, None
    config.set_flag(trt.BuilderFlag.FP16)
    if request.keep_fp32_layers:
        config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
        kept = fp32_layer_names(network, trt)
        log(f"{len(kept)} LayerNorm/Softmax/reduction layers kept in fp32")
    if request.precision != "int8":
        return None, None
    config.set_flag(trt.BuilderFlag.INT8)
    tasks = [bundle.task(request.calib_task)] if request.calib_task else list(bundle.tasks.values())
    batches = CalibrationBatches.from_folder(request.calib_dir, bundle.contract, tasks, request.calib_batch_size,
                                             request.calib_max_images)
    from .trt_cuda import DeviceBuffer

    cache_path = bundle.root / ENGINES_DIR / f"calibration.{'+'.join(t.name for t in tasks)}.cache"
    core = CalibratorCore(batches, cache_path, DeviceBuffer,
                          on_batch=lambda done, total: log(f"calibration batch {done}/{total}"))
    config.int8_calibrator = make_entropy_calibrator(trt, core)
    calibration_profile = builder.create_optimization_profile()
    for name, shape in batches.shapes().items():
        calibration_profile.set_shape(name, shape, shape, shape)
    config.set_calibration_profile(calibration_profile)
    # Prompts are inputs whose ranges come from the tasks fed here; the sidecar says which tasks those were.
    record = {"tasks": [t.name for t in tasks], "scope": CHOSEN_TASKS if request.calib_task else EVERY_TASK,
              "images_dir": str(request.calib_dir), "images": len(batches.paths),
              "batch_size": batches.batch_size, "cache": cache_path.name}
    return record, core


def register_engine(bundle_dir: str | os.PathLike, engine_file: str | os.PathLike, precision: str,
                    max_batch: int | None = None, opt_batch: int = 1, *, onnx_sha256: str | None = None,
                    fp32_layers: bool = False, log: Callable[[str], None] = lambda message: None) -> EngineSidecar:
    """Write the sidecar for an engine built outside vpt (``build_engine.sh`` / trtexec) on this machine.

    The engine is deserialized here and its real profile shapes recorded (``max_batch`` is only compared);
    TensorRT older than 10 is refused. A ``*.engine.partial`` file is moved into place after its sidecar.
    """
    if precision not in PRECISIONS:
        raise VptError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    bundle = Bundle.open(bundle_dir)
    if onnx_sha256 not in (None, "unknown") and onnx_sha256 != bundle.backbone_sha256:
        raise EngineMismatchError(f"the engine was built from another backbone.onnx than {bundle.root}'s (sha256 "
                                  f"{onnx_sha256[:12]}... vs {bundle.backbone_sha256[:12]}...); run its "
                                  "build_engine.sh again")
    built = Path(engine_file)
    if not built.is_file():
        raise VptError(f"{built}: engine file not found")
    engine_path = final_engine_path(built)
    machine = current_machine()
    data = built.read_bytes()
    profile = read_engine_profile(data, bundle, built)
    if max_batch is not None and profile.ranges["batch"].max != max_batch:
        log(f"note: the engine takes batch {profile.ranges['batch'].as_list()}, not up to {max_batch} as given; "
            "recording what the engine takes")
    sidecar = _sidecar(engine_path.name, hashlib.sha256(data).hexdigest(), precision, machine, bundle, profile,
                       builder="trtexec (build_engine.sh)", fp32_layers=FP32_LAYERS_RECORD if fp32_layers else [])
    install_engine(engine_path, sidecar, built=built)
    return sidecar


def read_engine_profile(data: bytes, bundle: Bundle, source: Path) -> ShapeProfile:
    """Deserialize the engine on this GPU and read the shapes it was really built for."""
    from .trt_runner import deserialize_engine

    trt = import_tensorrt()
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = deserialize_engine(runtime, data, source)
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
    outputs = [n for n in names if n not in inputs]
    if sorted(inputs) != sorted(bundle.contract.input_names) or sorted(outputs) != sorted(bundle.contract.output_names):
        raise EngineMismatchError(f"{source}: engine tensors {inputs} -> {outputs} are not the bundle's "
                                  f"{bundle.contract.input_names} -> {bundle.contract.output_names}")
    try:
        return ShapeProfile.from_engine(bundle.contract, engine, str(source))
    except VptError as error:
        raise EngineMismatchError(str(error)) from error
