"""Device memory and streams through cuda-python, imported only when TensorRT runs.

``cuda.bindings.runtime`` (cuda-python 12.6 and newer) or the older
``cuda.cudart`` module; every call returns ``(error, *values)``.
"""

from __future__ import annotations

import numpy as np

from vpt_core.errors import TensorRTUnavailableError

_cudart = None


def cudart():
    global _cudart
    if _cudart is None:
        try:
            from cuda.bindings import runtime as module
        except ImportError:
            try:
                from cuda import cudart as module
            except ImportError as error:
                raise TensorRTUnavailableError("cuda-python is not installed: pip install cuda-python") from error
        _cudart = module
    return _cudart


def call(result):
    """Unpack a cuda-python result, raising on any CUDA error."""
    rt = cudart()
    error, values = result[0], result[1:]
    if error != rt.cudaError_t.cudaSuccess:
        name = getattr(error, "name", str(error))
        raise TensorRTUnavailableError(f"CUDA error {name}")
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def gpu_identity(device: int = 0) -> tuple[str, str]:
    """(GPU name, "major.minor" compute capability) of ``device``."""
    name, capability, _, _ = gpu_properties(device)
    return name, capability


def gpu_properties(device: int = 0) -> tuple[str, str, int, int]:
    """(name, "major.minor", SM count, total memory in bytes) of ``device``.

    Every Orin module reports the name "Orin" and compute capability 8.7; the SM count (AGX Orin 16 or 14,
    Orin NX and Orin Nano 8 or 4) and the memory tell them apart.
    """
    try:
        properties = call(cudart().cudaGetDeviceProperties(device))
    except TensorRTUnavailableError as error:
        raise TensorRTUnavailableError(f"no usable CUDA GPU here ({error})") from error
    name = properties.name
    name = name.decode(errors="replace").rstrip("\x00") if isinstance(name, bytes) else str(name)
    return (name, f"{properties.major}.{properties.minor}", int(properties.multiProcessorCount),
            int(properties.totalGlobalMem))


class CudaStream:
    def __init__(self):
        self.handle = call(cudart().cudaStreamCreate())

    def synchronize(self) -> None:
        call(cudart().cudaStreamSynchronize(self.handle))

    def close(self) -> None:
        if self.handle is not None:
            call(cudart().cudaStreamDestroy(self.handle))
            self.handle = None


class DeviceBuffer:
    """A plain cudaMalloc allocation of ``nbytes``."""

    def __init__(self, nbytes: int):
        self.nbytes = int(nbytes)
        self.ptr = int(call(cudart().cudaMalloc(max(1, self.nbytes))))

    def copy_from_host(self, array: np.ndarray, stream: CudaStream | None = None) -> None:
        array = np.ascontiguousarray(array)
        if array.nbytes > self.nbytes:
            raise ValueError(f"{array.nbytes} bytes do not fit a {self.nbytes}-byte device buffer")
        rt = cudart()
        kind = rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        if stream is None:
            call(rt.cudaMemcpy(self.ptr, array.ctypes.data, array.nbytes, kind))
        else:
            call(rt.cudaMemcpyAsync(self.ptr, array.ctypes.data, array.nbytes, kind, stream.handle))

    def copy_to_host(self, array: np.ndarray, stream: CudaStream | None = None) -> None:
        rt = cudart()
        kind = rt.cudaMemcpyKind.cudaMemcpyDeviceToHost
        if stream is None:
            call(rt.cudaMemcpy(array.ctypes.data, self.ptr, array.nbytes, kind))
        else:
            call(rt.cudaMemcpyAsync(array.ctypes.data, self.ptr, array.nbytes, kind, stream.handle))

    def free(self) -> None:
        if self.ptr:
            call(cudart().cudaFree(self.ptr))
            self.ptr = 0
