"""The ``vpt`` task-dispatch model for Triton's Python backend (``REPO/vpt/1/model.py`` imports it).

Glue only: Triton hands ``execute`` every request of a merged batch; the work
(decode, per-task preprocessing, one backbone run, heads) is in ``dispatch``.
The backbone is reached by BLS (a request to the backbone model from inside
this one), so Triton does not treat it as a dependency: reloading this model
after ``vpt triton add-task`` leaves the backbone loaded.

``triton_python_backend_utils`` exists only inside Triton's Python-backend stub,
so it is imported in ``initialize``.

Metrics (Triton's metrics port, next to its own): ``vpt_batches_total``
(label ``composition``: single_task / mixed_tasks), ``vpt_images_total``
(label ``task``) and ``vpt_request_errors_total`` (label ``reason``), all
labelled with ``model``.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vpt_core.contract import FEATURES_OUTPUT, BundleContract
from vpt_core.errors import BundleError

from .dispatch import RequestError, TaskTable, answer_batch
from .spec import BACKBONE_INFO, BACKBONE_MODEL, BUNDLE_DIR, model_parameters, read_backbone_info


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        import triton_python_backend_utils as pb_utils

        self._pb = pb_utils
        config = json.loads(args["model_config"])
        parameters = model_parameters(config)
        model_dir = Path(args["model_repository"])
        self.table = TaskTable.open(model_dir / BUNDLE_DIR)
        self.backbone_model = parameters.get("backbone_model") or BACKBONE_MODEL
        self.max_batch = int(parameters.get("backbone_max_batch") or config.get("max_batch_size") or 1)
        check_same_backbone(self.table, model_dir.parent / self.backbone_model / BACKBONE_INFO)
        threads = int(parameters.get("preprocess_threads") or 0) or min(8, _usable_cores())
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="vpt-preprocess") if threads > 1 else None
        self.metrics = DispatchMetrics.create(pb_utils, args["model_name"])
        pb_utils.Logger.log_info(f"{args['model_name']}: serving tasks {', '.join(self.table.tasks)} on backbone "
                                 f"model {self.backbone_model!r} (batches of up to {self.max_batch})")

    def execute(self, requests: Sequence[Any]) -> list[Any]:
        pb = self._pb
        inputs = [(_rows(pb, request, "IMAGE"), _rows(pb, request, "TASK"), _where(request)) for request in requests]
        results = answer_batch(inputs, self.table, self._run_backbone, self.max_batch, self.pool)
        self.metrics.record(inputs, results)
        responses = []
        for result in results:
            if isinstance(result, RequestError):
                responses.append(pb.InferenceResponse(error=_triton_error(pb, result)))
            else:
                responses.append(pb.InferenceResponse(
                    output_tensors=[pb.Tensor(name, array) for name, array in result.items()]))
        return responses

    def _run_backbone(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        pb = self._pb
        contract: BundleContract = self.table.contract
        request = pb.InferenceRequest(
            model_name=self.backbone_model, requested_output_names=[FEATURES_OUTPUT],
            inputs=[pb.Tensor(name, np.ascontiguousarray(feed[name])) for name in contract.input_names])
        response = request.exec()
        if response.has_error():
            raise RequestError(f"backbone model {self.backbone_model!r}: {response.error().message()}", "backbone")
        return pb.get_output_tensor_by_name(response, FEATURES_OUTPUT).as_numpy()

    def finalize(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        self.table = None


def check_same_backbone(table: TaskTable, info_path: Path) -> None:
    """The tasks' bundle and the backbone model must hold the same backbone (a repository is exported whole)."""
    served = read_backbone_info(info_path)["sha256"]
    if served != table.backbone_sha256:
        raise BundleError(f"{info_path}: the backbone model serves another backbone (sha256 {served[:12]}...) than "
                          f"the tasks were made for ({table.backbone_sha256[:12]}...); export the repository again")


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _triton_error(pb, error: RequestError):
    """The client's fault (unknown task, unreadable picture) is INVALID_ARG (HTTP 400); the backbone's is INTERNAL."""
    code = None if error.reason == "backbone" else getattr(pb.TritonError, "INVALID_ARG", None)
    return pb.TritonError(str(error)) if code is None else pb.TritonError(str(error), code)


def _rows(pb, request, name: str) -> list:
    tensor = pb.get_input_tensor_by_name(request, name)
    return [] if tensor is None else list(tensor.as_numpy().reshape(-1))


def _where(request) -> str:
    request_id = request.request_id()
    return f"request {request_id!r}" if request_id else "request"


class DispatchMetrics:
    """Counters on Triton's metrics endpoint; absent (no-ops) where the backend cannot create them."""

    def __init__(self, pb, model_name: str):
        counter = pb.MetricFamily.COUNTER
        self._families = [
            pb.MetricFamily(name="vpt_batches_total", description="merged batches run by the dispatch model",
                            kind=counter),
            pb.MetricFamily(name="vpt_images_total", description="images answered, by task", kind=counter),
            pb.MetricFamily(name="vpt_request_errors_total", description="requests answered with an error, by reason",
                            kind=counter),
        ]
        self._model = model_name
        self._metrics: dict[tuple[int, str, str], Any] = {}

    @classmethod
    def create(cls, pb, model_name: str) -> "DispatchMetrics | _NoMetrics":
        try:
            return cls(pb, model_name)
        except Exception as error:  # the backend's own error types; metrics are not worth failing a load for
            pb.Logger.log_warn(f"{model_name}: no custom metrics ({error})")
            return _NoMetrics()

    def _counter(self, family: int, label: str, value: str):
        key = (family, label, value)
        if key not in self._metrics:
            self._metrics[key] = self._families[family].Metric(labels={"model": self._model, label: value})
        return self._metrics[key]

    def record(self, inputs: Sequence[tuple[list, list, str]], results: Sequence[Any]) -> None:
        tasks: list[str] = []
        for (_, names, _), result in zip(inputs, results):
            if isinstance(result, RequestError):
                self._counter(2, "reason", result.reason).increment(1)
            else:
                tasks += [bytes(name).decode("utf-8") for name in names]
        if not tasks:
            return
        self._counter(0, "composition", "mixed_tasks" if len(set(tasks)) > 1 else "single_task").increment(1)
        for name in set(tasks):
            self._counter(1, "task", name).increment(tasks.count(name))


class _NoMetrics:
    def record(self, inputs, results) -> None:
        pass
