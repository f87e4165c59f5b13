"""``config.pbtxt`` texts for the dispatch and backbone models, from the contract and the tables in ``spec``.

Backbone configurations written for every repository:

* ``config.pbtxt`` -- Python backend running ONNX Runtime (``backbone_model``). The only one the
  ``nvidia-pytriton`` wheel can serve (it carries no other backend); run by this project's tests.
* ``configs/onnxruntime_gpu.pbtxt`` -- Triton's own ONNX Runtime backend on a GPU (full NGC container,
  ``tritonserver --model-config-name=onnxruntime_gpu``). Written, not run here.
* ``configs/tensorrt_gpu.pbtxt`` -- Triton's TensorRT backend on ``1/model.plan``, built on the serving GPU
  with ``build_tensorrt_plan.sh`` (``--model-config-name=tensorrt_gpu``). Written, not run here.

The dispatch model has no alternatives: Triton falls back to its ``config.pbtxt``
when the named configuration does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from vpt_core.contract import BundleContract
from vpt_core.errors import ConfigError

from .spec import DISPATCH_INPUTS, DISPATCH_OUTPUTS, TensorSpec

DEVICES = ("cpu", "gpu")


@dataclass(frozen=True)
class ServingSettings:
    """What ``vpt triton export`` lets you choose; the rest follows from the bundle."""

    max_batch: int = 16                 # per merged batch, for the dispatch model and the backbone
    queue_delay_us: int = 2000          # how long the dynamic batcher waits to fill a batch
    dispatch_instances: int = 2         # 2: one instance decodes a batch while the other waits for the backbone
    backbone_device: str = "cpu"        # the Python-backend backbone's instance kind
    backbone_threads: int = 0           # ONNX Runtime intra-op threads; 0: its default (all cores)
    preprocess_threads: int = 0         # per dispatch instance, decoding and resizing; 0: min(8, cores)

    def __post_init__(self) -> None:
        for name in ("max_batch", "dispatch_instances"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be a whole number of at least 1, got {value!r}")
        for name in ("queue_delay_us", "backbone_threads", "preprocess_threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be a whole number of at least 0, got {value!r}")
        if self.backbone_device not in DEVICES:
            raise ConfigError(f"--backbone-device must be one of {', '.join(DEVICES)}, got {self.backbone_device!r}")


def dispatch_config(name: str, backbone_name: str, settings: ServingSettings) -> str:
    return _join(
        f'name: "{name}"',
        'backend: "python"',
        f"max_batch_size: {settings.max_batch}",
        "# Requests for different tasks are merged; the backbone runs once per merged batch.",
        f"dynamic_batching {{ max_queue_delay_microseconds: {settings.queue_delay_us} }}",
        _tensors("input", DISPATCH_INPUTS),
        _tensors("output", DISPATCH_OUTPUTS),
        f"instance_group [ {{ kind: KIND_CPU count: {settings.dispatch_instances} }} ]",
        _parameter("backbone_model", backbone_name),
        _parameter("backbone_max_batch", str(settings.max_batch)),
        _parameter("preprocess_threads", str(settings.preprocess_threads)),
    )


def backbone_python_config(name: str, contract: BundleContract, settings: ServingSettings) -> str:
    kind = "KIND_GPU" if settings.backbone_device == "gpu" else "KIND_CPU"
    return _join(
        f'name: "{name}"',
        'backend: "python"',
        "# ONNX Runtime inside Triton's Python backend (export.runtime.triton.backbone_model).",
        *_backbone_io(contract, settings),
        f"instance_group [ {{ kind: {kind} count: 1 }} ]",
        _parameter("intra_op_threads", str(settings.backbone_threads)),
    )


def backbone_onnxruntime_config(name: str, contract: BundleContract, settings: ServingSettings) -> str:
    return _join(
        f'name: "{name}"',
        'platform: "onnxruntime_onnx"',
        "# Full NGC Triton container only: tritonserver --model-config-name=onnxruntime_gpu (not run by vpt's tests).",
        *_backbone_io(contract, settings),
        "instance_group [ { kind: KIND_GPU count: 1 } ]",
    )


def backbone_tensorrt_config(name: str, contract: BundleContract, settings: ServingSettings) -> str:
    return _join(
        f'name: "{name}"',
        'platform: "tensorrt_plan"',
        "# Full NGC Triton container only: build 1/model.plan on the serving GPU with build_tensorrt_plan.sh,",
        "# then tritonserver --model-config-name=tensorrt_gpu (not run by vpt's tests).",
        *_backbone_io(contract, settings),
        "instance_group [ { kind: KIND_GPU count: 1 } ]",
    )


def _backbone_io(contract: BundleContract, settings: ServingSettings) -> list[str]:
    """The contract's tensors without their batch axis (Triton adds it: max_batch_size > 0)."""
    def spec(name: str) -> TensorSpec:
        shape = contract.symbolic_shape(name)[1:]
        return TensorSpec(name, "TYPE_FP32", tuple(int(v) for v in shape), contract.spec(name).description)

    return [f"max_batch_size: {settings.max_batch}",
            "# Queued requests (several dispatch instances) are run together.",
            "dynamic_batching { max_queue_delay_microseconds: 0 }",
            _tensors("input", [spec(name) for name in contract.input_names]),
            _tensors("output", [spec(name) for name in contract.output_names])]


def _tensors(kind: str, specs: Iterable[TensorSpec]) -> str:
    rows = [f'  {{ name: "{spec.name}" data_type: {spec.triton_type} dims: [ {", ".join(map(str, spec.dims))} ] }}'
            f"  # {spec.description}" for spec in specs]
    # A comma after each entry but the last; comments follow the comma.
    rows = [row.replace("  #", ",  #", 1) if index < len(rows) - 1 else row for index, row in enumerate(rows)]
    return f"{kind} [\n" + "\n".join(rows) + "\n]"


def _parameter(key: str, value: str) -> str:
    return f'parameters {{ key: "{key}" value: {{ string_value: "{value}" }} }}'


def _join(*parts: str) -> str:
    return "\n".join(parts) + "\n"
