"""One runner interface over ONNX Runtime and native TensorRT engines.

A runner turns a feed (the contract's inputs as numpy arrays) into the
contract's outputs::

    runner.infer({"images": ..., "prompts": ..., "prompt_mask": ...})
    -> {"features": ...}

Every runner checks its feed against the contract first, so a wrong shape is a
one-line error naming the tensor rather than a crash deep in a backend.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from vpt_core.contract import BundleContract
from vpt_core.errors import BundleError

BACKENDS = ("auto", "onnxruntime", "tensorrt")
# TensorRT's provider builds an engine on first use (minutes on a Jetson), so "auto" does not pick it;
# ask for it explicitly, or build a native engine once with 'vpt deploy build-engine'.
AUTO_ORT_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")
OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")
TENSORRT_PROVIDER = "TensorrtExecutionProvider"

ProviderSpec = str | tuple[str, Mapping[str, Any]]


class Runner(Protocol):
    """What Station needs from a backend."""

    backend: str
    description: str

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def limits(self) -> dict[str, tuple[int, int | None]]: ...

    def close(self) -> None: ...


ORT_MISSING = ("ONNX Runtime is not installed here: on a PC, pip install 'vpt-toolkit[onnxruntime]'; on a Jetson, "
               "install the onnxruntime-gpu wheel built for your JetPack (see the README, Deploying to a Jetson)")


def import_onnxruntime():
    """The platform's ONNX Runtime (PyPI's onnxruntime, or a Jetson GPU build installed instead of it)."""
    try:
        import onnxruntime
    except ImportError as error:
        raise BundleError(f"{ORT_MISSING} ({error})") from error
    return onnxruntime


def available_ort_providers() -> list[str]:
    return list(import_onnxruntime().get_available_providers())


def resolve_providers(requested: Sequence[ProviderSpec] | None, available: Sequence[str]) -> list[ProviderSpec]:
    """The providers to ask ONNX Runtime for: the request as given (checked), or the best available."""
    if not requested:
        return [name for name in AUTO_ORT_PROVIDERS if name in available]
    unknown = [_provider_name(p) for p in requested if _provider_name(p) not in available]
    if unknown:
        raise BundleError(f"ONNX Runtime here has no {', '.join(unknown)}; available: {', '.join(available)}")
    return list(requested)


def _provider_name(provider: ProviderSpec) -> str:
    return provider if isinstance(provider, str) else provider[0]


class OnnxRuntimeRunner:
    backend = "onnxruntime"

    def __init__(self, onnx_path: str | os.PathLike, contract: BundleContract,
                 providers: Sequence[ProviderSpec] | None = None, threads: int | None = None,
                 optimization: str = "all", spin: bool = False, cpu_arena: bool = True):
        ort = import_onnxruntime()
        self.contract = contract
        self.path = Path(onnx_path)
        options = ort.SessionOptions()
        options.graph_optimization_level = _optimization_level(ort, optimization)
        options.log_severity_level = 3  # errors only: providers that are absent warn loudly otherwise
        # Idle pool threads sleep instead of spinning: a frame takes tens of milliseconds, so the wake-up
        # cost is noise, while spinning steals cores from the camera, the GUI and other processes.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        # Without the arena, activation memory goes back to the system after each run (a server whose batch
        # sizes vary otherwise keeps its largest batch's memory, rounded up, for good).
        options.enable_cpu_mem_arena = cpu_arena
        if threads:
            options.intra_op_num_threads = int(threads)
        chosen = resolve_providers(providers, available_ort_providers())
        names = [_provider_name(p) for p in chosen]
        provider_options = [{} if isinstance(p, str) else dict(p[1]) for p in chosen]
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=names,
                                                provider_options=provider_options)
        except Exception as error:  # ORT raises its own Fail/InvalidGraph/NoSuchFile types
            raise BundleError(f"{self.path}: ONNX Runtime cannot load it ({type(error).__name__}: {error})") from error
        self._check_session_io()
        self.output_names = contract.output_names
        providers_used = ", ".join(self.session.get_providers())
        self.description = f"ONNX Runtime {ort.__version__} ({providers_used}) on {self.path.name}"

    def _check_session_io(self) -> None:
        inputs = [value.name for value in self.session.get_inputs()]
        outputs = [value.name for value in self.session.get_outputs()]
        if inputs != self.contract.input_names or outputs != self.contract.output_names:
            raise BundleError(f"{self.path}: model has inputs {inputs} and outputs {outputs}; the bundle's contract "
                              f"says {self.contract.input_names} -> {self.contract.output_names}")

    @property
    def providers(self) -> list[str]:
        return list(self.session.get_providers())

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.contract.check_feed(feed)
        outputs = self.session.run(self.output_names, dict(feed))
        return dict(zip(self.output_names, outputs))

    def limits(self) -> dict[str, tuple[int, int | None]]:
        return {}

    def close(self) -> None:
        self.session = None


def _optimization_level(ort, name: str):
    levels = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
              "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    if name not in levels:
        raise BundleError(f"unknown ONNX Runtime optimisation level {name!r}; use one of {OPTIMIZATION_LEVELS}")
    return levels[name]


def open_runner(bundle, backend: str = "auto", providers: Sequence[ProviderSpec] | None = None,
                threads: int | None = None, int8_cpu: bool = False) -> tuple[Runner, list[str]]:
    """The runner for ``bundle`` plus notes on the choice (why TensorRT was or was not used)."""
    if backend not in BACKENDS:
        raise BundleError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    notes: list[str] = []
    if int8_cpu:
        if backend == "tensorrt":
            raise BundleError("the INT8 CPU model runs on ONNX Runtime; choose backend 'onnxruntime' or 'auto'")
        return _open_int8_cpu(bundle, providers, threads), notes
    if backend in ("auto", "tensorrt"):
        from .trt_runner import open_tensorrt_runner

        runner, reason = open_tensorrt_runner(bundle, required=backend == "tensorrt")
        if runner is not None:
            return runner, notes
        if reason:
            notes.append(f"TensorRT not used: {reason}")
    providers = with_tensorrt_provider_options(providers, bundle)
    return OnnxRuntimeRunner(bundle.backbone_path, bundle.contract, providers, threads), notes


def with_tensorrt_provider_options(providers: Sequence[ProviderSpec] | None, bundle) -> list[ProviderSpec] | None:
    """Give a bare "TensorrtExecutionProvider" the bundle's profile and an engine cache in ``engines/``.

    Without profile shapes the provider would rebuild its engine for every new batch or class count.
    """
    if not providers:
        return None
    from .trt_profiles import ShapeProfile, ort_tensorrt_options

    expanded: list[ProviderSpec] = []
    for provider in providers:
        if provider == TENSORRT_PROVIDER:
            cache = bundle.engines_dir / "onnxruntime-trt-cache"
            provider = (provider, ort_tensorrt_options(ShapeProfile.from_contract(bundle.contract), str(cache)))
        expanded.append(provider)
    return expanded


def _open_int8_cpu(bundle, providers, threads) -> OnnxRuntimeRunner:
    path = bundle.int8_cpu_path
    if path is None or not path.is_file():
        raise BundleError(f"{bundle.root} has no INT8 CPU model; create one with 'vpt bundle quantize-cpu'")
    from vpt_core.manifest import sha256_file

    if sha256_file(path) != bundle.manifest["int8_cpu"]["sha256"]:
        raise BundleError(f"{path}: sha256 differs from the manifest; run 'vpt bundle quantize-cpu' again")
    return OnnxRuntimeRunner(path, bundle.contract, providers or ["CPUExecutionProvider"], threads)
