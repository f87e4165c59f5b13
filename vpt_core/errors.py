"""Errors that carry a message meant for a person, not a stack trace (one hierarchy for every layer).

Every error the toolkit raises on bad input derives from :class:`VptError`; the
command line prints ``str(error)`` on one line and exits non-zero, and the GUI
shows it in a dialog. Messages name the file or value at fault.
"""

from __future__ import annotations


class VptError(Exception):
    """Base class: the message is written for the user."""


class ConfigError(VptError, ValueError):
    """A setting has a value that cannot work."""


class BackboneError(VptError):
    """The backbone cannot be built or its weights cannot be loaded."""


class DatasetError(VptError):
    """The images or class folders cannot be used for training or evaluation."""


class ImageReadError(VptError):
    """One image file cannot be decoded."""


class TaskPackError(VptError):
    """A task pack file is missing, damaged or of an unknown format."""


class IncompatibleTaskError(TaskPackError):
    """A task pack was made for another backbone, weights or prompt shape."""


class FrozenBackboneError(VptError, RuntimeError):
    """Something other than prompts and head would be trained."""


class TrainingCancelled(VptError):
    """Training stopped because the user asked for it."""


class DiskWriteError(VptError, OSError):
    """A file could not be written (disk full, read-only folder, ...)."""


# -- export, bundles and the station runtime ---------------------------------------------
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
