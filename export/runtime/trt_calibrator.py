"""INT8 calibration for TensorRT: real images, preprocessed exactly as the station does.

TensorRT 10's ``IInt8EntropyCalibrator2`` asks for one batch at a time as a
list of device pointers, one per network input, in the order of ``names``.
:class:`CalibrationBatches` and :class:`CalibratorCore` hold all of that logic
without tensorrt (they are unit-tested with a fake device); only
:func:`make_entropy_calibrator` subclasses the TensorRT class, at build time.

The prompts are network inputs too, so their activation ranges come from the
tasks fed during calibration: by default every task of the bundle, dealt out
image by image (mixed batches, as a serving engine sees them); with one named
task, the engine is meant for that task (the sidecar records which).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from vpt_core.atomicio import atomic_write_bytes
from vpt_core.errors import ImageReadError
from vpt_core.images import read_image_rgb

from vpt_core.contract import BundleContract
from vpt_core.errors import VptError
from vpt_core.imagefiles import list_images
from vpt_core.splits import spread

DEFAULT_CALIBRATION_BATCH = 8
DEFAULT_CALIBRATION_IMAGES = 512


class CalibrationBatches:
    """Full batches of preprocessed images; image i is fed with task i mod (number of tasks).

    ``tasks`` are the bundle's tasks (``BundleTask``: its preprocessing and prepared tensors).
    """

    def __init__(self, image_paths: Sequence[Path], contract: BundleContract, tasks: Sequence,
                 batch_size: int = DEFAULT_CALIBRATION_BATCH, max_images: int | None = DEFAULT_CALIBRATION_IMAGES):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise VptError(f"calibration batch size must be at least 1, got {batch_size!r}")
        if not tasks:
            raise VptError("INT8 calibration needs at least one task in the bundle")
        self.paths = spread(list(image_paths), max_images)
        if len(self.paths) < batch_size:
            raise VptError(f"INT8 calibration needs at least {batch_size} images, found {len(self.paths)}")
        self.contract, self.tasks, self.batch_size = contract, list(tasks), batch_size
        self.skipped: list[str] = []

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, contract: BundleContract, tasks: Sequence,
                    batch_size: int = DEFAULT_CALIBRATION_BATCH,
                    max_images: int | None = DEFAULT_CALIBRATION_IMAGES) -> "CalibrationBatches":
        skipped: list[str] = []
        batches = cls(list_images(folder, skipped), contract, tasks, batch_size, max_images)
        batches.skipped += skipped
        return batches

    @property
    def num_batches(self) -> int:
        return len(self.paths) // self.batch_size

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of every input during calibration (TensorRT's calibration profile)."""
        return {spec.name: self.contract.concrete_shape(spec.name, batch=self.batch_size)
                for spec in self.contract.inputs}

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        """Feeds of exactly ``batch_size`` images; unreadable files are skipped and remembered."""
        pending: list[np.ndarray] = []
        chosen: list = []
        accepted = 0
        for path in self.paths:
            task = self.tasks[accepted % len(self.tasks)]
            try:
                pending.append(task.pack.preprocess_spec(read_image_rgb(path)))
            except ImageReadError as error:
                self.skipped.append(str(error))
                continue
            accepted += 1
            chosen.append(task.tensors)
            if len(pending) == self.batch_size:
                yield self.contract.feed(np.stack(pending), chosen)
                pending, chosen = [], []


class CalibratorCore:
    """Batch feeding and the calibration cache, behind an ``allocate(nbytes)`` device-memory factory."""

    def __init__(self, batches: CalibrationBatches, cache_path: str | os.PathLike,
                 allocate: Callable[[int], object], on_batch: Callable[[int, int], None] | None = None):
        self.batches, self.cache_path, self.on_batch = batches, Path(cache_path), on_batch
        self.buffers = {name: allocate(int(np.prod(shape)) * 4) for name, shape in batches.shapes().items()}
        self._iterator = iter(batches)
        self.batches_fed = 0

    def get_batch_size(self) -> int:
        # Explicit-batch network: the batch is the first dimension of the calibration profile's
        # shapes, so the implicit-batch multiplier TensorRT asks for here must be 1.
        return 1

    def get_batch(self, names: Sequence[str]) -> list[int] | None:
        unknown = [name for name in names if name not in self.buffers]
        if unknown:
            raise VptError(f"TensorRT asked for calibration inputs {unknown}; the bundle has {list(self.buffers)}")
        try:
            feed = next(self._iterator)
        except StopIteration:
            return None
        for name in names:
            self.buffers[name].copy_from_host(feed[name])
        self.batches_fed += 1
        if self.on_batch:
            self.on_batch(self.batches_fed, self.batches.num_batches)
        return [int(self.buffers[name].ptr) for name in names]

    def read_calibration_cache(self) -> bytes | None:
        return self.cache_path.read_bytes() if self.cache_path.is_file() else None

    def write_calibration_cache(self, cache: bytes) -> None:
        atomic_write_bytes(self.cache_path, bytes(cache))

    def close(self) -> None:
        for buffer in self.buffers.values():
            free = getattr(buffer, "free", None)
            if free:
                free()


def make_entropy_calibrator(trt, core: CalibratorCore):
    """A ``trt.IInt8EntropyCalibrator2`` that delegates to ``core`` (deprecated in TensorRT 10.1+, still there)."""

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            trt.IInt8EntropyCalibrator2.__init__(self)
            self.core = core

        def get_batch_size(self):
            return self.core.get_batch_size()

        def get_batch(self, names):
            return self.core.get_batch(names)

        def read_calibration_cache(self):
            return self.core.read_calibration_cache()

        def write_calibration_cache(self, cache):
            self.core.write_calibration_cache(bytes(cache))

    return EntropyCalibrator()
