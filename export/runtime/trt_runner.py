"""Run a native TensorRT engine (TensorRT 10 name-based I/O, ``execute_async_v3``).

The engine is refused before it is deserialized if its sidecar does not match
this machine (TensorRT version, GPU) or this bundle (backbone sha256,
contract); the message says which command rebuilds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from vpt_core.errors import BundleError, EngineMismatchError, TensorRTUnavailableError
from vpt_core.manifest import sha256_file
from .trt_profiles import ShapeProfile
from .trt_sidecar import (EngineSidecar, MachineInfo, check_engine, compatibility_problems, current_machine,
                          import_tensorrt, list_engines, rebuild_command, sidecar_path)


class TensorRTRunner:
    backend = "tensorrt"

    def __init__(self, engine_path: str | Path, sidecar: EngineSidecar, contract, machine: MachineInfo):
        from .trt_cuda import CudaStream, DeviceBuffer

        trt = import_tensorrt()
        self.contract = contract
        self.engine_path = Path(engine_path)
        self.sidecar = sidecar
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self.engine = deserialize_engine(self._runtime, self.engine_path.read_bytes(), self.engine_path, sidecar)
        self._check_engine_io(trt)
        self.profile = ShapeProfile.from_engine(contract, self.engine, str(self.engine_path))
        if self.profile.to_dict() != sidecar.profile:
            raise EngineMismatchError(f"{self.engine_path}: the engine takes batch {self.profile.to_dict()}, its "
                                      f"sidecar says {sidecar.profile}; record it again with 'vpt deploy "
                                      "register-engine'")
        self.stream = None
        self.buffers = {}
        try:
            self.context = self.engine.create_execution_context()
            if self.context is None:   # TensorRT returns None when it cannot allocate the context's memory
                raise TensorRTUnavailableError(f"{self.engine_path}: TensorRT could not create an execution "
                                               "context (out of GPU memory?)")
            self.stream = CudaStream()
            for spec in contract.inputs + contract.outputs:
                nbytes = int(np.prod(self.profile.max_shape(spec.name))) * np.dtype(np.float32).itemsize
                self.buffers[spec.name] = DeviceBuffer(nbytes)
                self.context.set_tensor_address(spec.name, self.buffers[spec.name].ptr)
        except BaseException:
            self._release()
            raise
        self._resident: dict[str, np.ndarray] = {}
        self.description = (f"TensorRT {trt.__version__} engine {self.engine_path.name} "
                            f"({sidecar.precision}, {machine.gpu_name})")

    def _check_engine_io(self, trt) -> None:
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if n not in inputs]
        if sorted(inputs) != sorted(self.contract.input_names) or sorted(outputs) != sorted(self.contract.output_names):
            raise EngineMismatchError(f"{self.engine_path}: engine tensors {inputs} -> {outputs} do not match the "
                                      f"bundle's contract")

    def limits(self) -> dict[str, tuple[int, int]]:
        return self.profile.limits()

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        sizes = self.contract.check_feed(feed, limits=self.profile.limits())
        for name in self.contract.input_names:
            array = feed[name]
            if not self.context.set_input_shape(name, tuple(array.shape)):
                raise BundleError(f"TensorRT refused shape {list(array.shape)} for {name!r}")
            self._upload(name, array)
        if not self.context.execute_async_v3(int(self.stream.handle)):
            raise BundleError(f"TensorRT failed to run {self.engine_path.name}")
        outputs = {}
        for name in self.contract.output_names:
            outputs[name] = np.empty(self.contract.concrete_shape(name, **sizes), dtype=np.float32)
            self.buffers[name].copy_to_host(outputs[name], self.stream)
        self.stream.synchronize()
        return outputs

    def _upload(self, name: str, array: np.ndarray) -> None:
        # A task's tensors are read-only arrays that stay the same while the task is selected:
        # copy them to the GPU once, not on every frame.
        if self._resident.get(name) is array and not array.flags.writeable:
            return
        self.buffers[name].copy_from_host(array, self.stream)
        self._resident[name] = array

    def close(self) -> None:
        if self.stream is not None:
            self.stream.synchronize()
        self._release()

    def _release(self) -> None:
        """Free what was allocated so far (also after a failed start, so a fallback has the memory)."""
        for buffer in self.buffers.values():
            buffer.free()
        self.buffers = {}
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        self.context = self.engine = None


def deserialize_engine(runtime, data: bytes, engine_path: Path, sidecar: EngineSidecar | None = None):
    """The engine, or EngineMismatchError saying it must be rebuilt (TensorRT returns None or raises)."""
    try:
        engine = runtime.deserialize_cuda_engine(data)
    except Exception as error:   # the bindings raise RuntimeError/TypeError on damaged or foreign engines
        engine, detail = None, f" ({type(error).__name__}: {error})"
    else:
        detail = ""
    if engine is None:
        fix = (f"rebuild it: {rebuild_command(engine_path.parent.parent, sidecar)}" if sidecar else
               "build it again on this machine")
        raise EngineMismatchError(f"{engine_path}: TensorRT could not deserialize the engine{detail}; {fix}")
    return engine


def open_tensorrt_runner(bundle, required: bool) -> tuple[TensorRTRunner | None, str]:
    """A runner on the newest engine that fits this machine and bundle, or (None, why not).

    With ``required`` every reason becomes an error instead. A bundle without
    engines is the normal case on CPU stations: no reason is given then.
    """
    engines = list_engines(bundle.root)
    if not engines:
        if required:
            raise TensorRTUnavailableError(f"no engine in {bundle.engines_dir}; build one with "
                                           f"'vpt deploy build-engine {bundle.root} --fp16'")
        return None, ""
    try:
        machine = current_machine()
    except TensorRTUnavailableError as error:
        if required:
            raise
        return None, str(error)
    reasons = []
    for engine_path in engines:
        try:
            sidecar = EngineSidecar.load(sidecar_path(engine_path))
        except EngineMismatchError as error:
            reasons.append(str(error))
            continue
        if compatibility_problems(sidecar, machine, bundle.backbone_sha256, bundle.contract):
            reasons.append(_describe_mismatch(engine_path, sidecar, machine, bundle))
            continue
        if sha256_file(engine_path) != sidecar.engine_sha256:
            reasons.append(f"{engine_path}: the engine file differs from the one its sidecar describes")
            continue
        try:
            return TensorRTRunner(engine_path, sidecar, bundle.contract, machine), ""
        except Exception as error:   # deserialisation, GPU memory, the bindings' own errors: try the next one
            reasons.append(f"{engine_path.name} could not be loaded: {error}")
    if required:
        raise EngineMismatchError("; ".join(reasons))
    return None, "; ".join(reasons)


def _describe_mismatch(engine_path, sidecar, machine, bundle) -> str:
    try:
        check_engine(engine_path, sidecar, machine, bundle.backbone_sha256, bundle.contract, bundle.root)
    except EngineMismatchError as error:
        return str(error)
    return ""
