"""The station runtime: run a deploy bundle without torch or Qt.

* :class:`Station` -- one bundle, tasks switched at run time, ``predict_rgb``.
* :class:`Bundle` -- manifest, contract and task packs of a bundle folder.
* Runners with one interface, ``infer(feed) -> outputs``: ONNX Runtime
  (CPU, CUDA, TensorRT providers) and native TensorRT engines.

Only numpy, Pillow, safetensors, onnxruntime and (for cameras and videos)
OpenCV are needed; tensorrt and cuda-python are imported only when an engine is
built or run.
"""

from .bundle import Bundle, BundleTask
from .runners import OnnxRuntimeRunner, Runner, available_ort_providers, open_runner
from .station import Station, StationResult

__all__ = ["Bundle", "BundleTask", "OnnxRuntimeRunner", "Runner", "Station", "StationResult",
           "available_ort_providers", "open_runner"]
