"""What a vpt Triton repository holds and what its models take and give, declared once.

The config writer, the Python models, ``add-task`` and the tests all read these
names, so a renamed tensor or file cannot drift between them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpt_core.errors import BundleError

FORMAT_NAME = "vpt-triton-repository"
FORMAT_VERSION = 1
REPOSITORY_FILE = "repository.json"
SERVER_STATE_FILE = ".vpt-triton-server.json"     # written by 'vpt triton serve' while it runs
DISPATCH_MODEL = "vpt"
BACKBONE_MODEL = "vpt_backbone"
MODEL_VERSION = "1"
BUNDLE_DIR = "bundle"                 # inside the dispatch model's folder
BACKBONE_FILE = "model.onnx"          # the name Triton's onnxruntime_onnx platform looks for
TENSORRT_FILE = "model.plan"          # the name Triton's tensorrt_plan platform looks for
BACKBONE_INFO = "backbone.json"
CONFIG_FILE = "config.pbtxt"
CONFIGS_DIR = "configs"               # alternative configs, chosen with tritonserver --model-config-name=NAME
NGC_CONFIG_NAMES = ("onnxruntime_gpu", "tensorrt_gpu")


@dataclass(frozen=True)
class TensorSpec:
    name: str
    triton_type: str
    dims: tuple[int, ...]      # per image, without the batch axis; -1: varies by task
    description: str


# One row per image: a request may carry several images (batch axis), each with its own task.
DISPATCH_INPUTS = (
    TensorSpec("IMAGE", "TYPE_STRING", (1,), "the encoded picture (JPEG, PNG, BMP, TIFF, WebP) as bytes"),
    TensorSpec("TASK", "TYPE_STRING", (1,), "the task's name"),
)
DISPATCH_OUTPUTS = (
    TensorSpec("LABEL", "TYPE_STRING", (1,), "the most probable class"),
    TensorSpec("CLASS_INDEX", "TYPE_INT32", (1,), "its index in CLASSES"),
    TensorSpec("CONFIDENCE", "TYPE_FP32", (1,), "its probability"),
    TensorSpec("UNCERTAIN", "TYPE_BOOL", (1,), "confidence below the task's calibrated threshold"),
    # A variable number of classes per task: each response has its own width. Within one request that
    # carries images of tasks with different class counts, rows are padded to the widest (probability 0,
    # class name "").
    TensorSpec("PROBABILITIES", "TYPE_FP32", (-1,), "one probability per class, in CLASSES order"),
    TensorSpec("CLASSES", "TYPE_STRING", (-1,), "the task's class names"),
    TensorSpec("PACK_SHA256", "TYPE_STRING", (1,), "sha256 of the task pack that answered"),
)
INPUT_NAMES = tuple(spec.name for spec in DISPATCH_INPUTS)
OUTPUT_NAMES = tuple(spec.name for spec in DISPATCH_OUTPUTS)


@dataclass(frozen=True)
class RepositoryLayout:
    """Paths of one repository; model names may differ (a benchmark serves several pairs side by side)."""

    root: Path
    dispatch_model: str = DISPATCH_MODEL
    backbone_model: str = BACKBONE_MODEL

    @property
    def dispatch_dir(self) -> Path:
        return self.root / self.dispatch_model

    @property
    def backbone_dir(self) -> Path:
        return self.root / self.backbone_model

    @property
    def bundle_dir(self) -> Path:
        return self.dispatch_dir / BUNDLE_DIR

    @property
    def backbone_onnx(self) -> Path:
        return self.backbone_dir / MODEL_VERSION / BACKBONE_FILE

    @property
    def backbone_info(self) -> Path:
        return self.backbone_dir / BACKBONE_INFO

    @property
    def model_names(self) -> list[str]:
        """In load order: the backbone first, so the dispatch model finds it."""
        return [self.backbone_model, self.dispatch_model]

    @property
    def server_state_file(self) -> Path:
        return self.root / SERVER_STATE_FILE

    @classmethod
    def open(cls, root: str | Path) -> "RepositoryLayout":
        """The layout recorded in ``root/repository.json``, or one line saying why it is not a repository."""
        root = Path(root)
        document = read_repository_file(root)
        models = document.get("models")
        if not isinstance(models, dict) or not all(isinstance(models.get(k), str) for k in ("dispatch", "backbone")):
            raise BundleError(f"{root / REPOSITORY_FILE}: no model names; export the repository again")
        layout = cls(root, models["dispatch"], models["backbone"])
        if not (layout.bundle_dir / "manifest.json").is_file():
            raise BundleError(f"{layout.bundle_dir}: the repository's task bundle is missing; export it again")
        return layout


def read_repository_file(root: Path) -> dict[str, Any]:
    path = root / REPOSITORY_FILE
    if not root.is_dir():
        raise BundleError(f"{root}: repository folder not found")
    if not path.is_file():
        raise BundleError(f"{root}: not a vpt Triton repository (no {REPOSITORY_FILE}); "
                          "create one with 'vpt triton export BUNDLE_DIR --out REPO_DIR'")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path}: damaged ({error})") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise BundleError(f"{path}: not a vpt Triton repository description")
    if int(document.get("format_version", 0)) > FORMAT_VERSION:
        raise BundleError(f"{path}: written by a newer vpt-toolkit (format {document['format_version']}); upgrade")
    return document


# -- what the models read from their folders ------------------------------------------------------
BACKBONE_INFO_FORMAT = "vpt-triton-backbone"


def model_parameters(config: dict[str, Any]) -> dict[str, str]:
    """The ``parameters`` of a model configuration (as Triton passes it to a Python model) as plain strings."""
    parameters = config.get("parameters") or {}
    return {key: str(value.get("string_value", "")) for key, value in parameters.items() if isinstance(value, dict)}


def backbone_info(contract_document: dict[str, Any], sha256: str, source: str) -> dict[str, Any]:
    return {"format": BACKBONE_INFO_FORMAT, "sha256": sha256, "contract": contract_document, "source": source}


def read_backbone_info(path: Path) -> dict[str, Any]:
    """``backbone.json`` of a backbone model: its contract and the sha256 of its ONNX file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BundleError(f"{path} is missing; export the repository again") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path}: damaged ({error})") from error
    if not isinstance(document, dict) or document.get("format") != BACKBONE_INFO_FORMAT \
            or not isinstance(document.get("sha256"), str) or not isinstance(document.get("contract"), dict):
        raise BundleError(f"{path}: not a vpt backbone description; export the repository again")
    return document
