"""Errors of export, bundles and the station runtime: one line each, meant for a person.

All derive from :class:`vpt_engine.errors.VptError`, so ``vpt`` prints them on
one line and the GUI shows them in a dialog. Torch-free.
"""

from __future__ import annotations

from vpt_engine.errors import DiskWriteError, IncompatibleTaskError, TaskPackError, VptError

__all__ = [
    "BundleError", "BundleInputError", "CameraLostError", "DiskWriteError", "EngineMismatchError", "ExportError",
    "IncompatibleTaskError", "ParityError", "QuantizationRefusedError", "TaskPackError", "TensorRTUnavailableError",
    "UnsupportedGraphError", "VptError",
]


class ExportError(VptError):
    """The ONNX export or the bundle could not be produced."""


class UnsupportedGraphError(ExportError):
    """The ONNX graph fails the checker, shape inference, the contract or the TensorRT operator list."""


class ParityError(ExportError):
    """ONNX Runtime and PyTorch disagree on a task beyond tolerance."""

    def __init__(self, message: str, task: str = "", max_logit_diff: float = float("nan")):
        super().__init__(message)
        self.task = task
        self.max_logit_diff = max_logit_diff


class BundleError(VptError):
    """A deploy bundle is missing, damaged, or does not fit what is asked of it."""


class BundleInputError(BundleError, ValueError):
    """Tensors fed to a runner do not match the bundle's input contract."""


class QuantizationRefusedError(ExportError):
    """The INT8 model disagrees with fp32 too often to be used."""


class TensorRTUnavailableError(VptError):
    """The tensorrt or cuda-python package (or a GPU) is missing here."""


class EngineMismatchError(VptError):
    """A TensorRT engine was built for another machine, TensorRT version or bundle."""


class CameraLostError(VptError):
    """A camera or stream stopped delivering frames and did not come back."""
