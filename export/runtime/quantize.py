"""Optional INT8 model for CPU-only stations, accepted only if it agrees with fp32.

ONNX Runtime's dynamic quantisation stores the MatMul/Gemm weights of the
backbone as INT8 (activations are quantised on the fly). The attention
products and the head, whose second operand is computed or fed at run time,
stay fp32. The result is written into the bundle only if its top-1 class
agrees with the fp32 model on at least 99% of the task's own images;
otherwise the figure is reported and nothing changes. Torch-free.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vpt_core.atomicio import atomic_path
from vpt_core.contract import FEATURES_OUTPUT
from vpt_core.errors import ImageReadError, QuantizationRefusedError
from vpt_core.imagefiles import list_images
from vpt_core.splits import spread
from vpt_core.images import read_image_rgb
from vpt_core.manifest import INT8_CPU_NAME, now_iso, sha256_file

from .bundle import Bundle
from .bundle_edit import BundleChange, change_bundle
from .runners import OnnxRuntimeRunner

MIN_AGREEMENT = 0.99
MIN_IMAGES = 20
DEFAULT_MAX_IMAGES = 500
QUANTIZED_OPS = ("MatMul", "Gemm")
METHOD = "onnxruntime.quantization.quantize_dynamic: MatMul/Gemm weights int8 (per tensor), activations dynamic"


@dataclass
class QuantizationReport:
    task: str
    images: int
    matches: int
    agreement: float
    min_agreement: float
    images_dir: str
    fp32_bytes: int
    int8_bytes: int
    skipped_images: int = 0
    skipped_reasons: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.images >= MIN_IMAGES and self.agreement >= self.min_agreement

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def quantize_cpu(bundle_dir: str | os.PathLike, task: str, images_dir: str | os.PathLike,
                 min_agreement: float = MIN_AGREEMENT, max_images: int = DEFAULT_MAX_IMAGES,
                 threads: int | None = None, on_progress: Callable[[int, int], None] | None = None
                 ) -> QuantizationReport:
    """Quantise (or reuse) the INT8 model, check it on ``task``'s images, and record it if it passes.

    A bundle change (see ``bundle_edit``): a refused or interrupted run leaves the bundle as it was.
    """
    with change_bundle(bundle_dir) as change:
        bundle = Bundle.open(change.root)
        pack = bundle.task(task).pack
        candidate = change.root / f".{INT8_CPU_NAME}.candidate.tmp"
        existing = _verified_int8(bundle)
        model_path = existing or _quantize(bundle.backbone_path, candidate)
        try:
            report = _agreement(bundle, pack, model_path, images_dir, min_agreement, max_images, threads,
                                on_progress)
            if not report.passed:
                raise QuantizationRefusedError(_refusal(report))
            if existing is None:
                model_path = change.adopt(candidate, INT8_CPU_NAME)
            _record(change, model_path, report)
        finally:
            candidate.unlink(missing_ok=True)
    return report


def _verified_int8(bundle: Bundle) -> Path | None:
    """The bundle's INT8 model if it is there and unchanged; a changed one is quantised afresh."""
    path = bundle.int8_cpu_path
    if path is None or not path.is_file():
        return None
    return path if sha256_file(path) == bundle.manifest["int8_cpu"].get("sha256") else None


def _quantize(source: Path, target: Path) -> Path:
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:
        raise QuantizationRefusedError(f"the INT8 model is made with onnx and onnxruntime.quantization, which are "
                                       f"not installed here ({error}); pip install onnx") from error
    model = onnx.load(str(source))
    initializers = {init.name for init in model.graph.initializer}
    # Only products with a stored weight: q@k, attn@v and the head take run-time operands.
    runtime_operand = [node.name for node in model.graph.node
                       if node.op_type in QUANTIZED_OPS and (len(node.input) < 2 or node.input[1] not in initializers)]
    with atomic_path(target) as tmp, _quiet_root_logger():
        quantize_dynamic(str(source), str(tmp), op_types_to_quantize=list(QUANTIZED_OPS),
                         weight_type=QuantType.QInt8, nodes_to_exclude=runtime_operand)
    return target


@contextlib.contextmanager
def _quiet_root_logger():
    # The quantiser advises on the root logger to pre-process the model; the gate below is what decides.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _agreement(bundle: Bundle, pack, int8_path: Path, images_dir, min_agreement, max_images, threads,
               on_progress) -> QuantizationReport:
    spec = pack.preprocess_spec
    unusable: list[str] = []
    paths = spread(list_images(images_dir, unusable), max_images)
    fp32 = OnnxRuntimeRunner(bundle.backbone_path, bundle.contract, ["CPUExecutionProvider"], threads)
    int8 = OnnxRuntimeRunner(int8_path, bundle.contract, ["CPUExecutionProvider"], threads)
    tensors = bundle.task(pack.name).tensors
    matches = images = 0
    for start in range(0, len(paths), 16):
        batch = []
        for path in paths[start:start + 16]:
            try:
                batch.append(spec(read_image_rgb(path)))
            except ImageReadError as error:
                unusable.append(str(error))
        if batch:
            inputs = bundle.contract.feed(np.stack(batch), tensors)
            top_fp32 = tensors.logits(fp32.infer(inputs)[FEATURES_OUTPUT]).argmax(axis=1)
            top_int8 = tensors.logits(int8.infer(inputs)[FEATURES_OUTPUT]).argmax(axis=1)
            matches += int(np.sum(top_fp32 == top_int8))
            images += len(batch)
        if on_progress:
            on_progress(min(start + 16, len(paths)), len(paths))
    return QuantizationReport(task=pack.name, images=images, matches=matches,
                              agreement=matches / images if images else 0.0, min_agreement=min_agreement,
                              images_dir=str(images_dir), fp32_bytes=bundle.backbone_path.stat().st_size,
                              int8_bytes=int8_path.stat().st_size, skipped_images=len(unusable),
                              skipped_reasons=unusable[:20])


def _refusal(report: QuantizationReport) -> str:
    if report.images < MIN_IMAGES:
        return (f"INT8 check for task {report.task!r} needs at least {MIN_IMAGES} readable images in "
                f"{report.images_dir}, found {report.images}; the INT8 model was not written")
    return (f"INT8 top-1 agreement with fp32 on task {report.task!r} is {report.agreement:.1%} "
            f"({report.matches}/{report.images} images in {report.images_dir}), below the "
            f"{report.min_agreement:.0%} gate; the INT8 model was not written")


def _record(change: BundleChange, path: Path, report: QuantizationReport) -> None:
    entry = change.manifest.get("int8_cpu") or {"method": METHOD, "agreement": {}}
    digest = sha256_file(path)
    if entry.get("sha256") != digest:
        entry["agreement"] = {}  # figures for an earlier INT8 model say nothing about this one
    entry.update({"file": path.relative_to(change.root).as_posix(), "sha256": digest,
                  "size_bytes": path.stat().st_size})
    entry["agreement"][report.task] = {**report.to_dict(), "checked": now_iso()}
    change.manifest["int8_cpu"] = entry
