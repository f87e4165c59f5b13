"""Build a TensorRT engine from a bundle with the tensorrt Python API (10.x).

Explicit batch (the only mode in TensorRT 10), one optimisation profile from
the contract (batch 1..max), a timing cache in the bundle's
``engines/`` folder, FP16 with LayerNorm, Softmax and reductions held in FP32
(precision constraints), and INT8 through an entropy calibrator fed with real
images. Writes a standard ``.engine`` file plus its sidecar JSON.

TensorRT 11 removed the weakly typed precision flags (FP16, INT8 and precision
constraints) that these builds use; there only fp32 builds are offered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vpt_core.atomicio import atomic_write_bytes

from vpt_core.errors import TensorRTUnavailableError, VptError
from vpt_core.manifest import ENGINES_DIR, sha256_file
from .bundle import Bundle
from .trt_calibrator import (DEFAULT_CALIBRATION_BATCH, DEFAULT_CALIBRATION_IMAGES, CalibrationBatches,
                             CalibratorCore, make_entropy_calibrator)
from .trt_profiles import DEFAULT_MAX_BATCH, PRECISIONS, ShapeProfile
from .trt_sidecar import EngineSidecar, current_machine, engine_path_for, import_tensorrt, sidecar_path, tensorrt_major

TIMING_CACHE_NAME = "timing.cache"
FP32_LAYER_TYPE_NAMES = ("NORMALIZATION", "SOFTMAX", "REDUCE")


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
    timing_cache = config.create_timing_cache(cache_path.read_bytes() if cache_path.is_file() else b"")
    config.set_timing_cache(timing_cache, False)
    calibration, core = _configure_precision(trt, builder, network, config, bundle, request, log)
    log(f"building a {request.precision} engine for {machine.gpu_name} with TensorRT {trt.__version__} "
        f"(batch {profile.ranges['batch'].as_list()})")
    try:
        serialized = builder.build_serialized_network(network, config)
    finally:
        if core is not None:
            core.close()
    del parser
    if serialized is None:
        raise VptError("TensorRT could not build the engine (see its messages above)")
    engine_path = engine_path_for(bundle.root, request.precision)
    atomic_write_bytes(engine_path, bytes(serialized))
    atomic_write_bytes(cache_path, bytes(config.get_timing_cache().serialize()))
    sidecar = EngineSidecar(
        engine_file=engine_path.name, engine_sha256=sha256_file(engine_path), precision=request.precision,
        tensorrt_version=machine.tensorrt_version, gpu_name=machine.gpu_name,
        compute_capability=machine.compute_capability, onnx_sha256=bundle.backbone_sha256,
        contract=bundle.contract.to_dict(), profile=profile.to_dict(), calibration=calibration)
    sidecar.save(sidecar_path(engine_path))
    return engine_path, sidecar


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
    record = {"tasks": [t.name for t in tasks], "images_dir": str(request.calib_dir), "images": len(batches.paths),
              "batch_size": batches.batch_size, "cache": cache_path.name}
    return record, core


def register_engine(bundle_dir: str | os.PathLike, engine_file: str | os.PathLike, precision: str,
                    max_batch: int = DEFAULT_MAX_BATCH, opt_batch: int = 1) -> EngineSidecar:
    """Write the sidecar for an engine built outside vpt (``build_engine.sh`` / trtexec) on this machine."""
    if precision not in PRECISIONS:
        raise VptError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    bundle = Bundle.open(bundle_dir)
    engine_path = Path(engine_file)
    if not engine_path.is_file():
        raise VptError(f"{engine_path}: engine file not found")
    machine = current_machine()
    profile = ShapeProfile.from_contract(bundle.contract, max_batch, opt_batch)
    sidecar = EngineSidecar(
        engine_file=engine_path.name, engine_sha256=sha256_file(engine_path), precision=precision,
        tensorrt_version=machine.tensorrt_version, gpu_name=machine.gpu_name,
        compute_capability=machine.compute_capability, onnx_sha256=bundle.backbone_sha256,
        contract=bundle.contract.to_dict(), profile=profile.to_dict(), builder="trtexec (build_engine.sh)")
    sidecar.save(sidecar_path(engine_path))
    return sidecar
