"""The ``vpt_backbone`` model for Triton's Python backend: ONNX Runtime on ``model.onnx`` (``1/model.py`` imports it).

This is the configuration that runs with the ``nvidia-pytriton`` wheel's
tritonserver, which carries only the Python backend. In the full NGC container
the same folder can be served by Triton's own ONNX Runtime or TensorRT backend
instead (``configs/*.pbtxt``, chosen with ``--model-config-name``); the
dispatch model reaches the backbone by name either way.

It loads once per server start: ``vpt triton add-task`` reloads only the
dispatch model. Requests are whatever the dispatch models send (one merged
batch each); several queued at once are concatenated into one run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vpt_core.contract import FEATURES_OUTPUT, BundleContract
from vpt_core.errors import BundleError, VptError
from vpt_core.manifest import sha256_file

from ..runners import OnnxRuntimeRunner
from .spec import BACKBONE_FILE, BACKBONE_INFO, model_parameters, read_backbone_info


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        import triton_python_backend_utils as pb_utils

        self._pb = pb_utils
        parameters = model_parameters(json.loads(args["model_config"]))
        model_dir = Path(args["model_repository"])
        info = read_backbone_info(model_dir / BACKBONE_INFO)
        onnx_path = model_dir / args["model_version"] / BACKBONE_FILE
        if not onnx_path.is_file() or sha256_file(onnx_path) != info["sha256"]:
            raise BundleError(f"{onnx_path}: missing, or its sha256 differs from {BACKBONE_INFO}; export the "
                              "repository again")
        self.contract = BundleContract.from_dict(info["contract"])
        threads = int(parameters.get("intra_op_threads") or 0) or None
        providers = execution_providers(args["model_instance_kind"], args["model_instance_device_id"])
        self.runner = OnnxRuntimeRunner(onnx_path, self.contract, providers, threads, cpu_arena=False)
        pb_utils.Logger.log_info(f"{args['model_name']}: loaded {self.runner.description}")

    def execute(self, requests: Sequence[Any]) -> list[Any]:
        pb = self._pb
        names = self.contract.input_names
        feeds = [{name: pb.get_input_tensor_by_name(request, name).as_numpy() for name in names}
                 for request in requests]
        try:
            features = self.runner.infer(merge_feeds(feeds, names))[FEATURES_OUTPUT]
        except VptError as error:
            return [pb.InferenceResponse(error=pb.TritonError(str(error))) for _ in requests]
        responses, start = [], 0
        for feed in feeds:
            size = len(feed[names[0]])
            responses.append(pb.InferenceResponse(
                output_tensors=[pb.Tensor(FEATURES_OUTPUT, np.ascontiguousarray(features[start:start + size]))]))
            start += size
        return responses

    def finalize(self) -> None:
        if getattr(self, "runner", None) is not None:
            self.runner.close()


def merge_feeds(feeds: Sequence[dict[str, np.ndarray]], names: Sequence[str]) -> dict[str, np.ndarray]:
    if len(feeds) == 1:
        return feeds[0]
    return {name: np.concatenate([feed[name] for feed in feeds]) for name in names}


def execution_providers(instance_kind: str, device_id: str) -> list:
    """CUDA on the instance's GPU for a KIND_GPU instance (onnxruntime-gpu needed), else the CPU."""
    if instance_kind == "GPU":
        return [("CUDAExecutionProvider", {"device_id": int(device_id)}), "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]
