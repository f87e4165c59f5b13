"""Errors that carry a message meant for a person, not a stack trace.

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
