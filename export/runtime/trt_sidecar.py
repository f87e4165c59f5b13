"""What a TensorRT engine was built for, written beside it, and checked before it is used.

A serialized engine only runs with the TensorRT version and the GPU it was
built on, and only means something for the ``backbone.onnx`` it came from. The
sidecar (``backbone.fp16.engine`` -> ``backbone.fp16.json``) records all of
that; the engine file itself stays the standard format, nothing prepended.
No tensorrt import here except in :func:`current_machine`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vpt_core.atomicio import atomic_write_json

from vpt_core.contract import BundleContract
from vpt_core.errors import EngineMismatchError, TensorRTUnavailableError
from vpt_core.manifest import ENGINES_DIR, now_iso

SIDECAR_FORMAT = "vpt-engine"
SIDECAR_VERSION = 1
ENGINE_SUFFIX = ".engine"


@dataclass(frozen=True)
class MachineInfo:
    tensorrt_version: str
    gpu_name: str
    compute_capability: str   # "8.7"


@dataclass
class EngineSidecar:
    engine_file: str
    engine_sha256: str
    precision: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: str
    onnx_sha256: str
    contract: dict[str, Any]
    profile: dict[str, list[int]]
    builder: str = "vpt deploy build-engine"
    built: str = field(default_factory=now_iso)
    calibration: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"format": SIDECAR_FORMAT, "format_version": SIDECAR_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, document: dict[str, Any], source: str = "sidecar") -> "EngineSidecar":
        if document.get("format") != SIDECAR_FORMAT:
            raise EngineMismatchError(f"{source}: not an engine sidecar")
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{key: value for key, value in document.items() if key in known})
        except TypeError as error:
            raise EngineMismatchError(f"{source}: incomplete engine sidecar ({error})") from error

    def save(self, path: str | os.PathLike) -> Path:
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "EngineSidecar":
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise EngineMismatchError(f"{path}: the engine has no sidecar; build it with 'vpt deploy build-engine' "
                                      "or record a trtexec build with 'vpt deploy register-engine'") from error
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise EngineMismatchError(f"{path}: damaged engine sidecar ({error})") from error
        return cls.from_dict(document, str(path))


def sidecar_path(engine_path: str | os.PathLike) -> Path:
    return Path(engine_path).with_suffix(".json")


def engine_path_for(bundle_root: str | os.PathLike, precision: str) -> Path:
    return Path(bundle_root) / ENGINES_DIR / f"backbone.{precision}{ENGINE_SUFFIX}"


def list_engines(bundle_root: str | os.PathLike) -> list[Path]:
    """Engines of a bundle, newest first (the one built last is the one the station prefers)."""
    folder = Path(bundle_root) / ENGINES_DIR
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{ENGINE_SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)


def compatibility_problems(sidecar: EngineSidecar, machine: MachineInfo, onnx_sha256: str,
                           contract: BundleContract) -> list[str]:
    """Everything that makes the engine unusable here, in words; empty when it fits."""
    problems = []
    if sidecar.tensorrt_version != machine.tensorrt_version:
        problems.append(f"built with TensorRT {sidecar.tensorrt_version}, this machine has {machine.tensorrt_version}")
    if sidecar.compute_capability != machine.compute_capability:
        problems.append(f"built for compute capability {sidecar.compute_capability} ({sidecar.gpu_name}), "
                        f"this GPU is {machine.compute_capability} ({machine.gpu_name})")
    elif sidecar.gpu_name != machine.gpu_name:
        problems.append(f"built on {sidecar.gpu_name}, this GPU is {machine.gpu_name}")
    if sidecar.onnx_sha256 != onnx_sha256:
        problems.append("built from another backbone.onnx (sha256 differs from the bundle's)")
    if BundleContract.from_dict(sidecar.contract) != contract:
        problems.append("built for another input contract than the bundle's")
    return problems


def rebuild_command(bundle_root: str | os.PathLike, sidecar: EngineSidecar) -> str:
    precision = {"fp16": " --fp16", "int8": " --int8 --calib-dir IMAGES_DIR"}.get(sidecar.precision, "")
    batch = sidecar.profile.get("batch", [1, 1, 8])
    return f"vpt deploy build-engine {bundle_root}{precision} --max-batch {batch[-1]}"


def check_engine(engine_path: Path, sidecar: EngineSidecar, machine: MachineInfo, onnx_sha256: str,
                 contract: BundleContract, bundle_root: str | os.PathLike) -> None:
    problems = compatibility_problems(sidecar, machine, onnx_sha256, contract)
    if problems:
        raise EngineMismatchError(f"{engine_path} cannot run here: {'; '.join(problems)}. Rebuild it on this "
                                  f"machine: {rebuild_command(bundle_root, sidecar)}")


def import_tensorrt():
    """The tensorrt module (10 or newer), imported only when an engine is built or run."""
    try:
        import tensorrt
    except ImportError as error:
        raise TensorRTUnavailableError(
            "the tensorrt Python package is not installed (JetPack: python3-libnvinfer; "
            "desktop: pip install tensorrt)") from error
    if tensorrt_major(tensorrt.__version__) < 10:
        raise TensorRTUnavailableError(f"TensorRT {tensorrt.__version__} is too old; version 10 or newer is needed")
    return tensorrt


def tensorrt_major(version: str) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 0


def current_machine(device: int = 0) -> MachineInfo:
    from .trt_cuda import gpu_identity

    trt = import_tensorrt()
    name, capability = gpu_identity(device)
    return MachineInfo(tensorrt_version=str(trt.__version__), gpu_name=name, compute_capability=capability)
