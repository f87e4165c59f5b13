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
from vpt_core.schema import ListOf, MapOf, Record, Text, Whole, check_document

SIDECAR_FORMAT = "vpt-engine"
SIDECAR_VERSION = 2   # 2: SM count, GPU memory and board model; calibration scope; fp32 layer constraints
ENGINE_SUFFIX = ".engine"
PARTIAL_SUFFIX = ".partial"   # build_engine.sh writes here; register-engine moves it into place after the sidecar
BOARD_MODEL_FILE = "/proc/device-tree/model"   # e.g. "NVIDIA Jetson Orin NX Engine Developer Kit"
MEMORY_TOLERANCE = 0.10   # reported GPU memory varies a little with the kernel's carve-outs
EVERY_TASK, CHOSEN_TASKS = "every task", "chosen tasks"   # INT8 calibration scope
SIDECAR_SCHEMA = Record({
    "engine_file": Text(nonempty=True), "engine_sha256": Text(), "precision": Text(choices=("fp32", "fp16", "int8")),
    "tensorrt_version": Text(), "gpu_name": Text(), "compute_capability": Text(), "onnx_sha256": Text(),
    "contract": MapOf(), "profile": MapOf(ListOf(Whole(min=1), min_items=3, max_items=3)),
    "calibration": Record({"tasks": ListOf(Text()), "scope": Text(choices=(EVERY_TASK, CHOSEN_TASKS))},
                          nullable=True),
    "sm_count": Whole(min=1, nullable=True), "total_memory_mib": Whole(min=1, nullable=True),
    "board": Text(), "fp32_layers": ListOf(Text()),
}, required=("engine_file", "engine_sha256", "precision", "tensorrt_version", "gpu_name", "compute_capability",
             "onnx_sha256", "contract", "profile"))


@dataclass(frozen=True)
class MachineInfo:
    tensorrt_version: str
    gpu_name: str
    compute_capability: str   # "8.7"
    sm_count: int | None = None
    total_memory_mib: int | None = None
    board: str = ""           # the device-tree model on a Jetson; empty elsewhere

    def describe(self) -> str:
        parts = [self.board or self.gpu_name]
        if self.sm_count:
            parts.append(f"{self.sm_count} SMs")
        if self.total_memory_mib:
            parts.append(f"{self.total_memory_mib / 1024:.1f} GiB")
        return ", ".join(parts)


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
    # INT8: {"tasks": [...], "scope": "every task" | "chosen tasks", ...}; the prompts' ranges came from these tasks.
    calibration: dict[str, Any] | None = None
    sm_count: int | None = None
    total_memory_mib: int | None = None
    board: str = ""
    fp32_layers: list[str] = field(default_factory=list)   # layer types held in fp32 by precision constraints

    @property
    def machine(self) -> MachineInfo:
        return MachineInfo(self.tensorrt_version, self.gpu_name, self.compute_capability, self.sm_count,
                           self.total_memory_mib, self.board)

    def calibrated_tasks(self) -> tuple[set[str] | None, bool]:
        """(tasks an INT8 engine was calibrated with, whether it is meant for those only); (None, False): n/a."""
        if self.precision != "int8":
            return None, False
        record = self.calibration or {}
        tasks = record.get("tasks")
        return (set(tasks) if isinstance(tasks, list) else set()), record.get("scope") == CHOSEN_TASKS

    def to_dict(self) -> dict[str, Any]:
        return {"format": SIDECAR_FORMAT, "format_version": SIDECAR_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, document: dict[str, Any], source: str = "sidecar") -> "EngineSidecar":
        if not isinstance(document, dict) or document.get("format") != SIDECAR_FORMAT:
            raise EngineMismatchError(f"{source}: not an engine sidecar")
        check_document(document, SIDECAR_SCHEMA, source, EngineMismatchError)
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


def engine_task_scope(sidecar: "EngineSidecar | None", task_names) -> tuple[set[str] | None, list[str]]:
    """Which tasks an engine may serve (None: all) and notes on the rest.

    An INT8 engine quantises the prompts, which are inputs, with ranges measured on the tasks it was calibrated
    with. One calibrated for chosen tasks serves only those; one calibrated on every task of its day warns about
    tasks added since (their prompts may fall outside those ranges).
    """
    if sidecar is None:
        return None, []
    calibrated, chosen_only = sidecar.calibrated_tasks()
    if calibrated is None:
        return None, []
    uncovered = [name for name in task_names if name not in calibrated]
    if chosen_only:
        notes = [f"INT8 engine {sidecar.engine_file} was calibrated for task(s) {', '.join(sorted(calibrated))} "
                 f"only; {', '.join(uncovered)} cannot use it"] if uncovered else []
        return calibrated, notes
    if not sidecar.calibration:
        return None, [f"INT8 engine {sidecar.engine_file} does not record which tasks calibrated it; its accuracy "
                      "on each task is unknown"]
    if uncovered:
        return None, [f"INT8 engine {sidecar.engine_file} was calibrated without task(s) {', '.join(uncovered)} "
                      "(added later); rebuild it so their prompts are calibrated too"]
    return None, []


def sidecar_path(engine_path: str | os.PathLike) -> Path:
    return final_engine_path(engine_path).with_suffix(".json")


def final_engine_path(engine_path: str | os.PathLike) -> Path:
    """``backbone.fp16.engine`` for itself or for ``backbone.fp16.engine.partial`` (a build not yet registered)."""
    path = Path(engine_path)
    return path.with_name(path.name[:-len(PARTIAL_SUFFIX)]) if path.name.endswith(PARTIAL_SUFFIX) else path


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
    elif _differs(sidecar.machine, machine):
        problems.append(f"built on {sidecar.machine.describe()}, this is {machine.describe()}")
    if sidecar.onnx_sha256 != onnx_sha256:
        problems.append("built from another backbone.onnx (sha256 differs from the bundle's)")
    if BundleContract.from_dict(sidecar.contract) != contract:
        problems.append("built for another input contract than the bundle's")
    return problems


def _differs(built: MachineInfo, here: MachineInfo) -> bool:
    """Same GPU name and capability, but another module (AGX Orin, Orin NX, Orin Nano all say "Orin", sm_87).

    A value an older sidecar did not record is not held against the engine.
    """
    if built.sm_count and here.sm_count and built.sm_count != here.sm_count:
        return True
    if built.board and here.board and built.board != here.board:
        return True
    if built.total_memory_mib and here.total_memory_mib:
        return abs(built.total_memory_mib - here.total_memory_mib) > MEMORY_TOLERANCE * built.total_memory_mib
    return False


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
            "the tensorrt Python package is not installed (JetPack 6.1+: it comes with JetPack as python3-libnvinfer; "
            "make the virtual environment with python3 -m venv --system-site-packages; desktop: pip install "
            "tensorrt)") from error
    check_tensorrt_version(tensorrt.__version__)
    return tensorrt


def check_tensorrt_version(version: str) -> None:
    if tensorrt_major(version) < 10:
        raise TensorRTUnavailableError(
            f"TensorRT {version} is too old: TensorRT 10.3 or newer is needed (on a Jetson: JetPack 6.1 or newer; "
            "JetPack 5.x and 6.0 ship TensorRT 8.x)")


def tensorrt_major(version: str) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 0


def current_machine(device: int = 0) -> MachineInfo:
    from .trt_cuda import gpu_properties

    trt = import_tensorrt()
    name, capability, sm_count, memory = gpu_properties(device)
    return MachineInfo(tensorrt_version=str(trt.__version__), gpu_name=name, compute_capability=capability,
                       sm_count=sm_count, total_memory_mib=memory >> 20, board=board_model())


def board_model(path: str = BOARD_MODEL_FILE) -> str:
    """The Jetson module and carrier as the device tree names them ("" on a PC)."""
    try:
        return Path(path).read_bytes().decode(errors="replace").strip("\x00 \n")
    except OSError:
        return ""
