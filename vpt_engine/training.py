"""Training as a generator of small events.

``train(...)`` yields :mod:`events` objects while it works and ends with a
:class:`events.Finished` carrying a :class:`train_result.TrainResult`, or with
:class:`events.Cancelled` when the ``cancel`` flag was set. It writes no files,
so stopping it at any step leaves nothing half-written; the caller saves the
task pack (atomically) from the result.

One run, in order:

1. **Split** -- with ``check_fraction`` a share of every class's pictures is set
   aside; the task never trains on them and its headline accuracy is measured
   on them.
2. **Start** -- prompts from the task's own token prototypes or random; the
   head as a linear probe on the starting features, class means, or random.
   A task without prompts is a linear probe on the frozen backbone and stops here.
3. **Fit** -- the step budget of :class:`TrainConfig` (every step sees every
   training picture, augmented, up to the batch cap), AdamW with separate
   learning rates and weight decays for prompts and head.
4. **Head** -- (``refit_head``, the default) the head is re-solved as a linear
   probe on the trained prompts' features of the training pictures: with ten
   or more pictures per class the optimizer's head has not fitted them when
   the budget ends (71 % of 70 steel-defect pictures), the probe does. Its
   penalty is cross-validated; where that head would miss more than 5 % of
   the training pictures, a weaker penalty scoring within the noise of the
   best is taken if it fits them (``fit_target``).
5. **Check** -- accuracy on the training pictures (un-augmented) and on the
   check pictures; the "uncertain" threshold (:mod:`rejection`).

A :class:`events.RunProgress` follows every unit of work, so an app can show
one bar and one ETA for the whole run. ``observers`` (for diagnostics) see the
model at a few points while it trains.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Iterator, Protocol, Sequence

import numpy as np
import torch
from torch import nn

from vpt_core.errors import ConfigError, DatasetError
from vpt_core.splits import stratified_split

from .augment import build_train_transform
from .backbone import Backbone
from .dataset import LoadedImages, eval_batches
from .events import Cancelled, Finished, Notice, PhaseStarted, Progress, RunProgress, TrainStep, Phase
from .fitting import Schedule, optimise
from .linear_probe import LinearProbeConfig, fit_linear_probe
from .prompted_vit import PromptedViT
from .prompts import HeadInit, PromptConfig
from .prototypes import class_mean_head, feature_standardisation, frozen_pass, initial_prompts
from .rejection import calibrate_rejection
from .train_config import TrainConfig
from .train_result import TrainResult

# Relative cost of one picture through the model: forward only, or forward and backward.
FORWARD, TRAINING_PASS = 1.0, 3.0
HISTORY_POINTS = 20


class TrainingObserver(Protocol):
    """Sees the model at ``HISTORY_POINTS`` moments of the fit (and before it); returns a JSON-able record."""

    def observe(self, model: PromptedViT, step: int) -> dict[str, Any]: ...


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ConfigError(f"unknown device {name!r}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was requested but no CUDA GPU is available")
    return device


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """None means full fp32 (always on CPU)."""
    if device.type != "cuda" or precision == "fp32":
        return None
    if precision == "fp16":
        return torch.float16
    if precision == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def train(backbone: Backbone, data: LoadedImages, prompt_config: PromptConfig, config: TrainConfig,
          cancel: threading.Event | None = None, observers: Sequence[TrainingObserver] = ()) -> Iterator[Any]:
    """Train prompts and head on ``data``; see the module docstring for the event protocol."""
    run = _TrainingRun(backbone, data, prompt_config, config, cancel or threading.Event(), observers)
    yield from run.events()


class _TrainingRun:
    def __init__(self, backbone, data, prompt_config, config, cancel, observers):
        self.backbone, self.data, self.prompt_config, self.config = backbone, data, prompt_config, config
        self.cancel, self.observers = cancel, list(observers)
        self.device = resolve_device(config.device)
        self.amp_dtype = autocast_dtype(self.device, config.precision)
        self.spec = backbone.preprocess
        self.history: list[dict[str, Any]] = []
        self.observations: list[dict[str, Any]] = []
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()

    def events(self) -> Iterator[Any]:
        _seed_everything(self.config.seed)
        yield from self._split()
        self.model = PromptedViT(self.backbone, self.prompt_config, len(self.data.classes)).to(self.device)
        self.clock = _WorkClock(self._planned_work())
        if not (yield from self._timed("start_seconds", self._initialise())):
            yield Cancelled()
            return
        self.model.check_frozen()
        if self.prompt_config.uses_prompts:
            if not (yield from self._timed("train_seconds", self._fit())):
                yield Cancelled()
                return
        yield from self._timed("check_seconds", self._check())
        self.timings["total_seconds"] = time.perf_counter() - self.started
        yield Finished(self._result())

    def _timed(self, name: str, work):
        started = time.perf_counter()
        outcome = yield from work
        self.timings[name] = time.perf_counter() - started
        return outcome

    # -- data -------------------------------------------------------------
    def _split(self) -> Iterator[Any]:
        counts = self.data.counts()
        empty = [c for c, n in counts.items() if n == 0]
        if empty:
            raise DatasetError(f"no training images for class(es): {', '.join(empty)}")
        for path, reason in self.data.skipped:
            yield Notice(f"skipped unreadable file: {reason}", "skipped_file", (("path", str(path)),
                                                                              ("reason", reason)))
        train_idx, check_idx = list(range(len(self.data))), []
        if self.config.check_fraction > 0:
            train_idx, check_idx = stratified_split(self.data.labels, self.config.check_fraction, self.config.seed)
            if not check_idx:
                yield Notice("no check pictures: every class needs more pictures for some to be set aside; "
                             "training on all of them, and accuracy cannot be checked", "no_validation_split")
        if min(counts.values()) == 1:
            yield Notice("only one image in some classes: the model can train, but its accuracy cannot be checked "
                         "until you add more images", "single_image_class")
        self.train_set = self.data.subset(train_idx)
        self.check_set = self.data.subset(check_idx) if check_idx else None

    def _planned_work(self) -> float:
        images = len(self.train_set)
        checks = images + (len(self.check_set) if self.check_set else 0)
        start = images * FORWARD * (2 if self.prompt_config.head_init is HeadInit.PROBE else 1)
        fitting = 0.0
        if self.prompt_config.uses_prompts:
            self.steps = self.config.planned_steps(images)
            fitting = self.steps * self.config.batch_for(images) * TRAINING_PASS
        return start + fitting + checks * FORWARD

    # -- start: prompts and head -------------------------------------------
    def _initialise(self) -> Iterator[Any]:
        pc = self.prompt_config
        needs_tokens = pc.uses_prompts and pc.init.uses_prototypes
        layers = pc.prompt_layers(self.backbone.depth)
        yield PhaseStarted(Phase.PROTOTYPES, len(self.train_set), "reading the task's images through the model")
        frozen = yield from self._with_progress(
            frozen_pass(self.backbone.model, self._labelled(self.train_set), pc, self.device, self.config.seed,
                        collect_tokens=needs_tokens), Phase.PROTOTYPES)
        if frozen is None:
            return False
        prompts = initial_prompts(pc.init, frozen.layer_tokens, pc, layers, self.backbone.embed_dim,
                                  self.backbone.architecture.patch_size, self.config.seed)
        with torch.no_grad():
            self.model.prompts.copy_(prompts)
        self.initial_prompts = prompts.clone()
        features, labels = frozen.features, frozen.labels
        if pc.head_init is HeadInit.PROBE and pc.uses_prompts:
            features = yield from self._features(self.train_set)   # the starting prompts change the features
            if features is None:
                return False
        self._initialise_head(features, labels)
        return True

    def _initialise_head(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        pc, head = self.prompt_config, self.model.head
        if self.config.standardize_features:
            shift, scale = feature_standardisation(features)
            self.model.set_feature_standardisation(shift.to(self.device), scale.to(self.device))
            features = (features - shift) / scale
        with torch.no_grad():
            if pc.head_init is HeadInit.PROBE or not pc.uses_prompts:
                self.probe = self._solve_head(features.numpy(), labels.numpy())
            elif pc.head_init is HeadInit.CLASS_MEAN:
                weight, bias = class_mean_head(features, labels, len(self.data.classes))
                head.weight.copy_(weight)
                head.bias.copy_(bias)
            else:
                nn.init.trunc_normal_(head.weight, std=0.02)
                nn.init.zeros_(head.bias)

    # -- fit ----------------------------------------------------------------
    def _fit(self) -> Iterator[Any]:
        cfg, model = self.config, self.model
        batch = cfg.batch_for(len(self.train_set))
        schedule = Schedule(self.steps, cfg.schedule, cfg.warmup_fraction, cfg.min_lr_ratio)
        groups = [{"params": [model.prompts], "lr": cfg.learning_rate, "weight_decay": cfg.prompt_weight_decay},
                  {"params": [model.head.weight, model.head.bias], "lr": cfg.head_learning_rate or cfg.learning_rate,
                   "weight_decay": cfg.head_weight_decay}]
        loss_fn = nn.CrossEntropyLoss(weight=self._class_weights(), label_smoothing=cfg.label_smoothing)
        draw = BatchDrawer(self.train_set, build_train_transform(cfg.augment, self.spec), batch, cfg.seed)
        yield PhaseStarted(Phase.TRAIN, self.steps, f"training {self.steps} steps of {batch} pictures")
        self._observe(0)
        checkpoints = {round(self.steps * (i + 1) / HISTORY_POINTS) for i in range(HISTORY_POINTS)}
        window = []
        stepping = optimise(model, groups, draw, schedule, loss_fn, self.device, self.amp_dtype, self.cancel)
        while True:
            try:
                report = next(stepping)
            except StopIteration as stop:
                return bool(stop.value)
            window.append(report)
            yield TrainStep(report.step, self.steps, report.loss, report.learning_rate,
                            self.clock.eta_after(batch * TRAINING_PASS), report.correct / max(1, report.seen))
            yield self.clock.advance(batch * TRAINING_PASS, "train")
            if report.step in checkpoints:
                self._record(window)
                window = []
                self._observe(report.step)

    def _record(self, window) -> None:
        seen = sum(r.seen for r in window)
        self.history.append({"step": window[-1].step, "loss": float(np.mean([r.loss for r in window])),
                             "batch_accuracy": sum(r.correct for r in window) / max(1, seen),
                             "learning_rate": window[-1].learning_rate,
                             "seconds": round(time.perf_counter() - self.started, 2)})

    def _observe(self, step: int) -> None:
        for observer in self.observers:
            self.observations.append({"step": step, **observer.observe(self.model, step)})

    def _class_weights(self) -> torch.Tensor | None:
        if not self.config.balance_classes:
            return None
        counts = np.bincount(self.train_set.labels, minlength=len(self.data.classes)).astype(np.float64)
        weights = counts.sum() / (len(counts) * np.maximum(counts, 1))
        return torch.as_tensor(weights, dtype=torch.float32, device=self.device)

    # -- check ----------------------------------------------------------------
    def _check(self) -> Iterator[Any]:
        yield PhaseStarted(Phase.EVAL, len(self.train_set), "checking the trained task")
        self.metrics: dict[str, Any] = {}
        train_features = yield from self._features(self.train_set)
        if self.config.refit_head and self.prompt_config.uses_prompts:
            self._refit_head(train_features)
        self.metrics["train_accuracy"] = self._accuracy(train_features, self.train_set.labels)
        if self.check_set is not None:
            check_features = yield from self._features(self.check_set)
            self.metrics.update(check_accuracy=self._accuracy(check_features, self.check_set.labels),
                                check_images=len(self.check_set), check_method="held-out")
        self.rejection = calibrate_rejection(train_features.numpy(), self.train_set.labels, len(self.data.classes),
                                             self.config.seed)

    def _refit_head(self, features: torch.Tensor) -> None:
        """Re-solve the head for the trained prompts. The optimizer's head is one the prompts were still
        moving under (with many pictures it has not fitted them when the budget ends); a probe on their
        final features is the penalised optimum, its penalty chosen by cross-validation."""
        model = self.model
        standardised = ((features.to(self.device) - model.feature_shift) / model.feature_scale).cpu().numpy()
        self.metrics["head_refit_penalty"] = self._solve_head(standardised, self.train_set.labels).penalty

    def _solve_head(self, features: np.ndarray, labels: np.ndarray):
        """The head set to a linear probe fitted on ``features`` (as the head sees them); returns the probe."""
        probe = fit_linear_probe(features, labels, len(self.data.classes),
                                 LinearProbeConfig(fit_target=self.config.fit_target), seed=self.config.seed)
        weight, bias = probe.folded()
        with torch.no_grad():
            self.model.head.weight.copy_(torch.from_numpy(weight))
            self.model.head.bias.copy_(torch.from_numpy(bias))
        return probe

    def _accuracy(self, features: torch.Tensor, labels: np.ndarray) -> float:
        with torch.no_grad():
            model = self.model
            logits = model.head((features.to(self.device) - model.feature_shift) / model.feature_scale)
        return float((logits.argmax(1).cpu().numpy() == labels).mean())

    def _features(self, subset: LoadedImages):
        """Head features of ``subset`` (no augmentation), with progress; None if cancelled."""
        self.model.eval()
        chunks = []
        with torch.no_grad():
            for images, _ in self._labelled(subset):
                if self.cancel.is_set():
                    return None
                chunks.append(self.model.features(images.to(self.device)).float().cpu())
                yield self.clock.advance(len(images) * FORWARD, "check")
        return torch.cat(chunks)

    # -- helpers ------------------------------------------------------------------
    def _with_progress(self, work, phase: str):
        """Relay a generator's batch counts as progress events; None if cancelled midway."""
        batches = math.ceil(len(self.train_set) / self.config.batch_size)
        try:
            while True:
                done = next(work)
                yield Progress(phase, done, batches)
                yield self.clock.advance(min(self.config.batch_size, len(self.train_set)) * FORWARD, "prepare")
                if self.cancel.is_set():
                    work.close()
                    return None
        except StopIteration as stop:
            return stop.value

    def _labelled(self, subset: LoadedImages):
        return labelled_batches(subset, self.spec, self.config.batch_size)

    def _result(self) -> TrainResult:
        self.model.eval()
        batch = self.config.batch_for(len(self.train_set))
        steps = self.steps if self.prompt_config.uses_prompts else 0
        metrics = {**self.metrics, "steps": steps, "image_passes": steps * batch,
                   **{k: round(v, 3) for k, v in self.timings.items()},
                   "device": str(self.device),
                   "precision": str(self.amp_dtype).replace("torch.", "") if self.amp_dtype else "fp32"}
        summary = {"data_dir": str(self.data.root.resolve()) if self.data.root else None,
                   "train_images": len(self.train_set), "check_images": len(self.check_set) if self.check_set else 0,
                   "per_class": self.data.counts(), "skipped_files": [str(p) for p, _ in self.data.skipped],
                   # class/file of every picture used, so a later check can tell new pictures from these
                   "train_files": _names(self.train_set), "check_files": _names(self.check_set)}
        return TrainResult(self.model, list(self.data.classes), self.prompt_config, self.config, metrics,
                           self.history, self.initial_prompts, summary, rejection=self.rejection,
                           observations=self.observations)


class BatchDrawer:
    """Step -> (augmented images, labels): a seeded permutation per pass, cut into batches of ``size``."""

    def __init__(self, subset: LoadedImages, transform, size: int, seed: int):
        self.subset, self.transform, self.size = subset, transform, size
        self.generator = torch.Generator().manual_seed(seed)
        self.order: list[int] = []

    def __call__(self, step: int):
        if len(self.order) < self.size:
            self.order += torch.randperm(len(self.subset), generator=self.generator).tolist()
        indices, self.order = self.order[:self.size], self.order[self.size:]
        images = torch.stack([self.transform(self.subset.images[i]) for i in indices])
        return images, torch.as_tensor(self.subset.labels[indices])


class _WorkClock:
    """The whole run as units of work (picture passes): one fraction that never goes back, and an ETA."""

    def __init__(self, total: float):
        self.total, self.done = max(total, 1e-9), 0.0
        self.started = time.perf_counter()

    def advance(self, units: float, stage: str) -> RunProgress:
        self.done = min(self.total, self.done + units)
        elapsed = time.perf_counter() - self.started
        return RunProgress(self.done / self.total, elapsed, self.eta_after(0.0), stage)

    def eta_after(self, units: float) -> float | None:
        done = self.done + units
        if done <= 0:
            return None
        elapsed = time.perf_counter() - self.started
        return elapsed / done * max(0.0, self.total - done)


def labelled_batches(subset: LoadedImages, spec, batch_size: int):
    """(images, labels) tensor batches of ``subset`` for evaluation (no augmentation)."""
    for start, batch in zip(range(0, len(subset), batch_size), eval_batches(subset.images, spec, batch_size)):
        yield torch.from_numpy(batch), torch.as_tensor(subset.labels[start:start + len(batch)])


def predict_logits(model: nn.Module, batches, device: torch.device,
                   amp_dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenated float32 logits (on CPU) and labels for labelled batches."""
    model.eval()
    outputs, targets = [], []
    with torch.no_grad(), torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
        for images, labels in batches:
            outputs.append(model(images.to(device)).float().cpu())
            targets.append(labels)
    return torch.cat(outputs), torch.cat(targets)


def _names(subset: LoadedImages | None) -> list[str]:
    return [f"{path.parent.name}/{path.name}" for path in subset.paths] if subset is not None else []


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
