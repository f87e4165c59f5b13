"""Run a benchmark grid cell by cell, resumably.

Every (seed, shots) split is drawn once and shared by all methods; the frozen
features of all images are computed once per process (and cached on disk) for
the baselines; the images are decoded once per process by the caller. Each
finished cell is written at once (see :mod:`.store`), so an interrupted run
resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from vpt_core.atomicio import atomic_write_json
from vpt_core.metrics import ClassificationReport, classification_report

from .. import __version__
from ..autoselect import train_auto
from ..backbone import Backbone
from ..dataset import LoadedImages
from ..events import Cancelled, Finished, Notice, PhaseStarted
from ..linear_probe import LinearProbeConfig, fit_linear_probe
from ..prompts import HeadFeatures, PromptConfig
from ..training import labelled_batches, predict_logits, train
from .baselines import frozen_features, full_finetune, nearest_class_mean_logits
from .config import AUTO, Baseline, BaselineMethod, BenchConfig, Method, VptMethod, cell_key
from .splits import FewShotSplit, few_shot_split, split_images
from .store import CellStore, digest

Log = Callable[[str], None]
# What a baseline's frozen features are: the pooled token, that and the mean patch token, or the block maxima.
BASELINE_FEATURES = {Baseline.LINEAR: HeadFeatures.POOLED, Baseline.CLASS_MEAN: HeadFeatures.POOLED,
                     Baseline.LINEAR_WIDE: HeadFeatures.POOLED_AND_MEAN, Baseline.LINEAR_MAX: HeadFeatures.BLOCK_MAX}


class BenchInterrupted(Exception):
    """The cancel flag was set; finished cells are on disk."""


def run_benchmark(backbone: Backbone, data: LoadedImages, config: BenchConfig, out_dir: str | Path,
                  log: Log = print, cancel: threading.Event | None = None) -> list[dict[str, Any]]:
    """Measure every cell of ``config`` not yet in ``out_dir``; returns all of this grid's cells."""
    runner = _Runner(backbone, data, config, Path(out_dir), log, cancel or threading.Event())
    return runner.run()


def data_description(data: LoadedImages) -> dict[str, Any]:
    """What identifies the dataset: class names, counts and a digest of file names and sizes."""
    files = [(f"{p.parent.name}/{p.name}", p.stat().st_size if p.exists() else -1) for p in data.paths]
    return {"classes": list(data.classes), "counts": data.counts(), "files_digest": digest(files),
            "skipped_files": [str(p) for p, _ in data.skipped]}


def method_settings(method: Method, config: BenchConfig) -> dict[str, Any]:
    if isinstance(method, BaselineMethod):
        if method.baseline in (Baseline.LINEAR, Baseline.LINEAR_WIDE, Baseline.LINEAR_MAX):
            return {"kind": method.baseline.value, "probe": dataclasses.asdict(LinearProbeConfig()),
                    "features": BASELINE_FEATURES[method.baseline].value}
        if method.baseline is Baseline.FULL:
            return {"kind": "full", **dataclasses.asdict(config.full_finetune), "train": config.train.to_dict()}
        return {"kind": "class_mean"}
    settings = {"kind": "vpt", "init": method.init, "num_prompts": method.num_prompts, "depth": method.depth.value,
                "head_init": config.head_init.value, "head_features": config.head_features.value,
                "train": config.train.to_dict()}
    if method.is_auto:
        settings["auto"] = _auto_config(method, config).to_dict()
    return settings


class _Runner:
    def __init__(self, backbone, data, config: BenchConfig, out_dir: Path, log: Log, cancel: threading.Event):
        self.backbone, self.data, self.config, self.log, self.cancel = backbone, data, config, log, cancel
        self.store = CellStore(out_dir)
        self.out_dir = out_dir
        self.device = next(backbone.model.parameters()).device
        self.protocol = {"data": data_description(data), "backbone": backbone.fingerprint.to_dict(),
                         "library_version": __version__}
        self.protocol["backbone"].pop("weights_source", None)   # the same weights may live in another folder
        self.protocol["backbone"].pop("timm_version", None)
        if backbone.preprocess.image_fit != "crop":   # only then: cells measured before the option keep their digests
            self.protocol["preprocess"] = backbone.preprocess.to_dict()
        self._features: dict[HeadFeatures, np.ndarray] = {}
        self._splits: dict[tuple[int, int], FewShotSplit] = {}

    def run(self) -> list[dict[str, Any]]:
        atomic_write_json(self.out_dir / "protocol.json", self.protocol)
        cells = []
        for seed, shots, method in self.config.cells():
            if self.cancel.is_set():
                raise BenchInterrupted("benchmark interrupted; finished cells are saved")
            key = cell_key(shots, seed, method)
            settings = method_settings(method, self.config)
            identity = {"protocol": self.protocol, "settings": settings, "shots": shots, "seed": seed}
            if self.config.test_cap_per_class is not None:   # keeps digests of uncapped runs unchanged
                identity["test_cap_per_class"] = self.config.test_cap_per_class
            cell_digest = digest(identity)
            done = self.store.load(key, cell_digest)
            if done is None:
                if not self.store.claim(key):
                    self.log(f"[{key}] being measured by another process; skipped here")
                    continue
                try:
                    done = self._measure(key, cell_digest, seed, shots, method, settings)
                finally:
                    self.store.release(key)
            cells.append(done)
        return cells

    # -- one cell ----------------------------------------------------------
    def _measure(self, key, cell_digest, seed, shots, method, settings) -> dict[str, Any]:
        split = self._split(seed, shots)
        cell = {"key": key, "digest": cell_digest, "shots": shots, "seed": seed, "method": method.name,
                "settings": settings, "classes": list(split.classes), "excluded_classes": split.excluded,
                "train_images": len(split.train), "test_images": len(split.test),
                "test_cap_per_class": self.config.test_cap_per_class,
                "threads": torch.get_num_threads(), "device": str(self.device)}
        if not split.usable:
            self.log(f"[{key}] skipped: {split.describe_exclusions()}")
            return self._save({**cell, "status": "skipped", "reason": split.describe_exclusions()})
        self.log(f"[{key}] started ({len(split.train)} training, {len(split.test)} test images)")
        started = time.perf_counter()
        if isinstance(method, BaselineMethod):
            report, details = self._baseline(method.baseline, split, seed)
        else:
            report, details = self._vpt(key, method, split, seed)
        if report is None:
            raise BenchInterrupted("benchmark interrupted; finished cells are saved")
        cell.update(status="done", accuracy=report.accuracy, balanced_accuracy=report.balanced_accuracy,
                    per_class_accuracy=report.per_class_accuracy, confusion=report.confusion.tolist(),
                    wall_seconds=round(time.perf_counter() - started, 2), **details)
        self.log(f"[{key}] accuracy {report.accuracy:.4f}, balanced {report.balanced_accuracy:.4f} "
                 f"({cell['wall_seconds']:.0f} s)")
        return self._save(cell)

    def _save(self, cell: dict[str, Any]) -> dict[str, Any]:
        cell["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.store.save(cell)
        return cell

    def _split(self, seed: int, shots: int) -> FewShotSplit:
        if (seed, shots) not in self._splits:
            split = few_shot_split(self.data.labels, self.data.classes, shots, seed, self.config.test_cap_per_class)
            if split.excluded:
                self.log(f"note: seed {seed}, {split.describe_exclusions()}")
            self._splits[(seed, shots)] = split
        return self._splits[(seed, shots)]

    # -- baselines -----------------------------------------------------------
    def _baseline(self, baseline: Baseline, split: FewShotSplit, seed: int):
        if baseline is Baseline.FULL:
            return self._full_finetune(split, seed)
        features = self._all_features(BASELINE_FEATURES[baseline])
        train_x, train_y = self._features_of(features, split.train, split)
        test_x, test_y = self._features_of(features, split.test, split)
        classes = len(split.classes)
        if baseline is Baseline.CLASS_MEAN:
            return classification_report(split.classes, test_y, nearest_class_mean_logits(train_x, train_y, test_x,
                                                                                         classes)), {}
        probe = fit_linear_probe(train_x, train_y, classes, seed=seed)
        details = {"probe": {"penalty": probe.penalty, "cv_balanced_accuracy": probe.cv_balanced_accuracy}}
        return classification_report(split.classes, test_y, probe.logits(test_x)), details

    def _all_features(self, kind: HeadFeatures) -> np.ndarray:
        if kind not in self._features:
            cache = self.out_dir / "cache" / f"frozen-features-{kind.name.lower()}-{digest(self.protocol)}.npz"
            self.log(f"computing frozen {kind.value} features of all images for the baselines (once)"
                     if not cache.is_file() else f"frozen features from {cache}")
            self._features[kind] = frozen_features(self.backbone, self.data, self.config.eval_batch_size, cache,
                                                   kind)
        return self._features[kind]

    def _features_of(self, features, indices, split: FewShotSplit):
        new_label = {self.data.classes.index(name): i for i, name in enumerate(split.classes)}
        labels = np.asarray([new_label[int(self.data.labels[i])] for i in indices], dtype=np.int64)
        return features[list(indices)], labels

    def _full_finetune(self, split: FewShotSplit, seed: int):
        train_set, test_set = split_images(self.data, split)
        train_config = dataclasses.replace(self.config.train, seed=seed)
        started = time.perf_counter()
        model = full_finetune(self.backbone, train_set, train_config, self.config.full_finetune, self.cancel)
        if self.cancel.is_set():
            return None, {}
        train_seconds = time.perf_counter() - started
        report, eval_seconds = self._evaluate(model, test_set)
        return report, {"seconds": {"train": round(train_seconds, 2), "eval": round(eval_seconds, 2)}}

    # -- prompts -------------------------------------------------------------
    def _vpt(self, key: str, method: VptMethod, split: FewShotSplit, seed: int):
        train_set, test_set = split_images(self.data, split)
        defaults = PromptConfig()   # auto starts from the engine's default, as `vpt train --prompts auto` does
        prompt_config = PromptConfig(
            num_prompts=defaults.num_prompts if method.num_prompts == AUTO else method.num_prompts,
            depth=method.depth, init=defaults.init if method.init == AUTO else method.init,
            head_init=self.config.head_init, head_features=self.config.head_features)
        train_config = dataclasses.replace(self.config.train, seed=seed)
        if method.is_auto:
            events = train_auto(self.backbone, train_set, prompt_config, train_config,
                                _auto_config(method, self.config), self.cancel)
        else:
            events = train(self.backbone, train_set, prompt_config, train_config, self.cancel)
        result = self._consume(key, events)
        if result is None:
            return None, {}
        report, eval_seconds = self._evaluate(result.model, test_set)
        metrics = result.metrics
        details = {
            "prompt_config": result.prompt_config.to_dict(),
            "seconds": {"start": metrics.get("start_seconds"), "train": metrics.get("train_seconds"),
                        "check": metrics.get("check_seconds"), "total": metrics.get("total_seconds"),
                        "eval": round(eval_seconds, 2)},
            "steps": metrics.get("steps"), "image_passes": metrics.get("image_passes"),
            "train_accuracy": metrics.get("train_accuracy"), "rejection": result.rejection,
            "train_history": result.history,
        }
        if result.auto_report is not None:
            details["auto_report"] = result.auto_report
            details["seconds"]["select"] = result.auto_report.get("seconds")
        return report, details

    def _consume(self, key: str, events):
        for event in events:
            if isinstance(event, Finished):
                return event.result
            if isinstance(event, Cancelled):
                return None
            if isinstance(event, Notice):
                self.log(f"[{key}] {event.message}")
            elif isinstance(event, PhaseStarted) and event.message:
                self.log(f"[{key}] {event.phase}: {event.message}")
        return None

    def _evaluate(self, model: torch.nn.Module, test_set: LoadedImages) -> tuple[ClassificationReport, float]:
        started = time.perf_counter()
        batches = labelled_batches(test_set, self.backbone.preprocess, self.config.eval_batch_size)
        logits, labels = predict_logits(model, batches, self.device)
        report = classification_report(test_set.classes, labels.numpy(), logits.numpy())
        return report, time.perf_counter() - started


def _auto_config(method: VptMethod, config: BenchConfig):
    return dataclasses.replace(config.auto, choose_init=method.init == AUTO, choose_prompts=method.num_prompts == AUTO)
