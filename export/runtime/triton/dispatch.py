"""The task-dispatch model's work, without Triton: requests of any tasks in, one backbone run per batch, answers out.

For a merged batch (requests of several cameras and tasks) the dispatch model

1. decodes each request's picture bytes and preprocesses them with **that
   task's own** preprocessing (``PreprocessSpec`` from its pack: the numpy code
   the station runs),
2. runs the backbone **once** on all images, each with its own task's prompts
   and prompt mask (contract 2), in chunks only if the batch is larger than the
   backbone's ``max_batch_size``,
3. applies each image's task head to its features and turns logits into a
   label, probabilities and the "uncertain" flag exactly as ``Station`` does.

A request that cannot be answered (unknown task, unreadable picture) becomes a
:class:`RequestError` for that request alone; the rest of the batch is answered.
Imports neither torch nor Triton, so it is tested directly.
"""

from __future__ import annotations

import io
import os
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vpt_core.contract import FEATURES_OUTPUT, BundleContract, TaskTensors
from vpt_core.errors import BundleError, VptError
from vpt_core.images import pil_to_rgb
from vpt_core.manifest import sha256_file
from vpt_core.metrics import softmax
from vpt_core.preprocess import PreprocessSpec

from ..bundle import Bundle

# The limit vpt_core.images applies to files: a request must not exhaust the server's memory.
MAX_PIXELS = 200_000_000

RunBackbone = Callable[[Mapping[str, np.ndarray]], np.ndarray]   # contract feed -> features [batch, F]


class RequestError(VptError):
    """One request cannot be answered; its message goes back to that client only."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason      # a metrics label: unknown_task, unreadable_image, bad_request, backbone


@dataclass(frozen=True)
class ServedTask:
    name: str
    classes: tuple[str, ...]
    tensors: TaskTensors
    spec: PreprocessSpec
    min_confidence: float
    pack_sha256: str


@dataclass(frozen=True)
class TaskTable:
    """Every task of the repository's bundle, prepared once when the model loads."""

    contract: BundleContract
    tasks: Mapping[str, ServedTask]
    backbone_sha256: str

    @classmethod
    def open(cls, bundle_dir: str | os.PathLike) -> "TaskTable":
        """Read the bundle's manifest and packs; a pack changed after it was added is refused.

        The backbone file is not hashed here: the backbone model checks it when it loads, and a
        reload of this model (every add-task) stays quick even for a large backbone.
        """
        bundle = Bundle.open(bundle_dir, verify=False)
        if not bundle.tasks:
            raise BundleError(f"{bundle_dir}: the repository has no tasks; add one with 'vpt triton add-task'")
        tasks = {}
        for name, task in bundle.tasks.items():
            if sha256_file(task.path) != task.entry.get("sha256"):
                raise BundleError(f"{task.path}: changed after it was added (sha256 differs from the manifest); "
                                  "add it again with 'vpt triton add-task --replace'")
            tasks[name] = ServedTask(name, tuple(task.pack.classes), task.tensors, task.pack.preprocess_spec,
                                     task.pack.min_confidence, str(task.entry["sha256"]))
        return cls(bundle.contract, tasks, bundle.backbone_sha256)

    def task(self, name: str) -> ServedTask:
        task = self.tasks.get(name)
        if task is None:
            raise RequestError(f"no task {name!r} in this repository; tasks: {', '.join(self.tasks)}",
                               "unknown_task")
        return task


@dataclass(frozen=True)
class Answer:
    task: ServedTask
    label: str
    index: int
    confidence: float
    probabilities: np.ndarray     # float32 [classes]
    uncertain: bool


PreparedImage = tuple[np.ndarray, ServedTask]    # normalised [C, H, W] float32, its task


# -- 1. requests -> preprocessed images ----------------------------------------------------------
def decode_image(data: bytes, where: str) -> np.ndarray:
    """Encoded picture bytes -> uint8 ``HxWx3`` RGB, upright by EXIF: what ``read_image_rgb`` gives for a file."""
    if len(data) == 0:
        raise RequestError(f"{where}: IMAGE is empty", "unreadable_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise RequestError(f"{where}: image is too large ({image.width}x{image.height})",
                                       "unreadable_image")
                image.load()
                return pil_to_rgb(ImageOps.exif_transpose(image))
    except RequestError:
        raise
    except UnidentifiedImageError as error:   # its message names an in-memory file object, of no use to a client
        raise RequestError(f"{where}: not a readable image (no picture format Pillow can decode)",
                           "unreadable_image") from error
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise RequestError(f"{where}: not a readable image ({error})", "unreadable_image") from error


def prepare_request(images: Sequence[bytes], task_names: Sequence[bytes | str], where: str,
                    table: TaskTable) -> list[PreparedImage]:
    """Decode and preprocess one request's images, each for its own task; RequestError names the problem."""
    if len(images) == 0:
        raise RequestError(f"{where}: no IMAGE rows", "bad_request")
    if len(images) != len(task_names):
        raise RequestError(f"{where}: {len(images)} IMAGE rows but {len(task_names)} TASK rows; "
                           "send one task name per image", "bad_request")
    prepared = []
    for position, (data, name) in enumerate(zip(images, task_names)):
        here = where if len(images) == 1 else f"{where}, image {position}"
        task = table.task(_text(name, here))
        prepared.append((task.spec(decode_image(bytes(data), here)), task))
    return prepared


def _text(value: bytes | str, where: str) -> str:
    if isinstance(value, str):
        return value
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(f"{where}: TASK is not UTF-8 text", "bad_request") from error


# -- 2. one backbone run per merged batch ----------------------------------------------------------
def compute_features(items: Sequence[PreparedImage], contract: BundleContract, run_backbone: RunBackbone,
                     max_batch: int) -> np.ndarray:
    """Features of every image; one backbone run unless the batch exceeds ``max_batch``."""
    chunks = []
    for start in range(0, len(items), max_batch):
        chunk = items[start:start + max_batch]
        images = np.stack([pixels for pixels, _ in chunk]).astype(np.float32, copy=False)
        tasks = [task for _, task in chunk]
        single = all(task is tasks[0] for task in tasks)
        feed = contract.feed(images, tasks[0].tensors if single else [task.tensors for task in tasks])
        features = np.asarray(run_backbone(feed), dtype=np.float32)
        if features.shape != (len(chunk), contract.feature_dim):
            raise RequestError(f"the backbone returned {FEATURES_OUTPUT} of shape {list(features.shape)}, expected "
                               f"{[len(chunk), contract.feature_dim]}", "backbone")
        chunks.append(features)
    return np.concatenate(chunks) if chunks else np.zeros((0, contract.feature_dim), np.float32)


# -- 3. heads and answers ---------------------------------------------------------------------------
def classify(features: np.ndarray, task: ServedTask) -> Answer:
    """One image's features -> its answer, with the arithmetic of ``Station`` (float64 softmax)."""
    probabilities = softmax(task.tensors.logits(features[None].astype(np.float64)))[0]
    best = int(probabilities.argmax())
    confidence = float(probabilities[best])
    return Answer(task, task.classes[best], best, confidence, probabilities.astype(np.float32),
                  confidence < task.min_confidence)


def response_tensors(answers: Sequence[Answer]) -> dict[str, np.ndarray]:
    """One request's outputs, one row per image; PROBABILITIES and CLASSES padded to the widest task."""
    widest = max(answer.task.tensors.num_classes for answer in answers)
    probabilities = np.zeros((len(answers), widest), np.float32)
    classes = np.full((len(answers), widest), b"", dtype=object)
    for row, answer in enumerate(answers):
        probabilities[row, :len(answer.probabilities)] = answer.probabilities
        classes[row, :len(answer.task.classes)] = [name.encode("utf-8") for name in answer.task.classes]
    return {
        "LABEL": _column([answer.label.encode("utf-8") for answer in answers], object),
        "CLASS_INDEX": _column([answer.index for answer in answers], np.int32),
        "CONFIDENCE": _column([answer.confidence for answer in answers], np.float32),
        "UNCERTAIN": _column([answer.uncertain for answer in answers], np.bool_),
        "PROBABILITIES": probabilities,
        "CLASSES": classes,
        "PACK_SHA256": _column([answer.task.pack_sha256.encode("ascii") for answer in answers], object),
    }


def _column(values: list, dtype) -> np.ndarray:
    return np.array(values, dtype=dtype).reshape(len(values), 1)


# -- the whole batch ------------------------------------------------------------------------------
def answer_batch(requests: Sequence[tuple[Sequence[bytes], Sequence[bytes | str], str]], table: TaskTable,
                 run_backbone: RunBackbone, max_batch: int,
                 pool: Executor | None = None) -> list[dict[str, np.ndarray] | RequestError]:
    """``[(images, task names, where)]`` per request -> output tensors or the RequestError, per request.

    With ``pool``, requests are decoded and preprocessed in its threads: Pillow releases the GIL while it
    decodes and resizes, so a batch's pictures use several cores (the backbone waits for the slowest).
    """
    def prepare(request) -> list[PreparedImage] | RequestError:
        try:
            return prepare_request(*request, table)
        except RequestError as error:
            return error

    outcomes = list(pool.map(prepare, requests) if pool is not None and len(requests) > 1 else map(prepare, requests))
    items = [item for outcome in outcomes if not isinstance(outcome, RequestError) for item in outcome]
    try:
        features = compute_features(items, table.contract, run_backbone, max_batch)
    except VptError as error:
        failure = error if isinstance(error, RequestError) else RequestError(f"the backbone failed: {error}",
                                                                             "backbone")
        return [outcome if isinstance(outcome, RequestError) else failure for outcome in outcomes]
    results: list[dict[str, np.ndarray] | RequestError] = []
    row = 0
    for outcome in outcomes:
        if isinstance(outcome, RequestError):
            results.append(outcome)
            continue
        answers = [classify(features[row + offset], task) for offset, (_, task) in enumerate(outcome)]
        row += len(outcome)
        results.append(response_tensors(answers))
    return results
