"""Training as a generator of small events.

``train(...)`` yields :mod:`events` objects while it works and ends with a
:class:`events.Finished` carrying the trained model and its metrics, or with
:class:`events.Cancelled` when the ``cancel`` flag was set. It writes no files,
so stopping it at any step leaves nothing half-written; the caller saves the
task pack (atomically) from the result.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from .augment import build_train_transform
from .backbone import Backbone
from .dataset import LoadedImages, eval_batches, stratified_split
from vpt_core.errors import ConfigError, DatasetError
from .train_config import TrainConfig
from .events import Cancelled, EpochEnd, Finished, Notice, Phase, PhaseStarted, Progress, TrainStep
from .prompted_vit import PromptedViT
from .prompts import HeadInit, PromptConfig
from .prototypes import class_mean_head, feature_standardisation, frozen_pass, initial_prompts

@dataclass
class TrainResult:
    model: PromptedViT
    classes: list[str]
    prompt_config: PromptConfig
    train_config: TrainConfig
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    prompt_init_values: torch.Tensor   # the prompts before training, for analysis
    data_summary: dict[str, Any]
    auto_report: dict[str, Any] | None = None


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
          cancel: threading.Event | None = None, auto: Any = None) -> Iterator[Any]:
    """Train prompts and head on ``data``; see the module docstring for the event protocol.

    With ``auto`` (an ``autoselect.AutoSelectConfig``), initialisation and/or prompt
    count are first chosen by cross-validation on the training images; the choice
    and its reasons end up in ``TrainResult.auto_report``.
    """
    run = _TrainingRun(backbone, data, prompt_config, config, cancel or threading.Event(), auto)
    yield from run.events()


class _TrainingRun:
    def __init__(self, backbone, data, prompt_config, config, cancel, auto):
        self.backbone, self.data, self.prompt_config, self.config = backbone, data, prompt_config, config
        self.cancel, self.auto = cancel, auto
        self.auto_report: dict[str, Any] | None = None
        self.device = resolve_device(config.device)
        self.amp_dtype = autocast_dtype(self.device, config.precision)
        self.spec = backbone.preprocess
        self.history: list[dict[str, Any]] = []
        self.timings: dict[str, float] = {}

    def events(self) -> Iterator[Any]:
        _seed_everything(self.config.seed)
        yield from self._split()
        if self.auto is not None:
            from .autoselect import select_prompt_config

            chosen = yield from select_prompt_config(self.backbone, self.train_set, self.prompt_config, self.config,
                                                     self.auto, self.cancel)
            if chosen is None:
                yield Cancelled()
                return
            self.prompt_config, self.auto_report = chosen
            _seed_everything(self.config.seed)
        self.model = PromptedViT(self.backbone, self.prompt_config, len(self.data.classes)).to(self.device)
        started = time.perf_counter()
        yield from self._initialise()
        self.timings["prototype_seconds"] = time.perf_counter() - started
        if self.cancel.is_set():
            yield Cancelled()
            return
        self.model.check_frozen()
        started = time.perf_counter()
        finished = yield from self._fit()
        self.timings["train_seconds"] = time.perf_counter() - started
        if not finished:
            yield Cancelled()
            return
        yield Finished(self._result())

    # -- data -------------------------------------------------------------
    def _split(self) -> Iterator[Any]:
        counts = self.data.counts()
        if any(n == 0 for n in counts.values()):
            empty = [c for c, n in counts.items() if n == 0]
            raise DatasetError(f"no training images for class(es): {', '.join(empty)}")
        for path, reason in self.data.skipped:
            yield Notice(f"skipped unreadable file: {reason}")
        train_idx, val_idx = list(range(len(self.data))), []
        if self.config.val_fraction > 0:
            train_idx, val_idx = stratified_split(self.data.labels, self.config.val_fraction, self.config.seed)
            if not val_idx:
                yield Notice("no validation split: too few images per class (need at least 2 in a class); "
                             "training on all images without early stopping")
        if min(counts.values()) == 1:
            yield Notice("only one image in some classes: the model can train, but its accuracy cannot be checked "
                         "until you add more images")
        self.train_set = self.data.subset(train_idx)
        self.val_set = self.data.subset(val_idx) if val_idx else None

    # -- initialisation ----------------------------------------------------
    def _initialise(self) -> Iterator[Any]:
        pc = self.prompt_config
        needs_tokens = pc.init.uses_prototypes
        needs_features = pc.head_init is HeadInit.CLASS_MEAN or self.config.standardize_features
        layers = pc.prompt_layers(self.backbone.depth)
        frozen = None
        if needs_tokens or needs_features:
            total = math.ceil(len(self.train_set) / self.config.batch_size)
            yield PhaseStarted(Phase.PROTOTYPES, total, "reading the task's images through the frozen model")
            passing = frozen_pass(self.backbone.model, self._labelled_eval_batches(self.train_set), pc,
                                  self.device, self.config.seed, collect_tokens=needs_tokens)
            frozen = yield from self._report_progress(passing, Phase.PROTOTYPES, total)
            if frozen is None:
                return
        prompts = initial_prompts(pc.init, frozen.layer_tokens if frozen else [], pc, layers,
                                  self.backbone.embed_dim, self.backbone.architecture.patch_size, self.config.seed)
        features = frozen.features if frozen else None
        if self.config.standardize_features:
            shift, scale = feature_standardisation(features)
            self.model.set_feature_standardisation(shift.to(self.device), scale.to(self.device))
            features = (features - shift) / scale
        with torch.no_grad():
            self.model.prompts.copy_(prompts)
            if pc.head_init is HeadInit.CLASS_MEAN:
                weight, bias = class_mean_head(features, frozen.labels, len(self.data.classes))
                self.model.head.weight.copy_(weight)
                self.model.head.bias.copy_(bias)
            else:
                nn.init.trunc_normal_(self.model.head.weight, std=0.02)
                nn.init.zeros_(self.model.head.bias)
        self.initial_prompts = prompts.clone()

    def _report_progress(self, work, phase: str, total: int):
        """Relay a generator's batch counts as Progress events; None if cancelled midway."""
        clock = _Eta(total)
        try:
            while True:
                done = next(work)
                yield Progress(phase, done, total, clock.eta(done))
                if self.cancel.is_set():
                    work.close()
                    return None
        except StopIteration as stop:
            return stop.value

    def _labelled_eval_batches(self, subset: LoadedImages):
        return labelled_batches(subset, self.spec, self.config.batch_size)

    # -- optimisation -----------------------------------------------------
    def _fit(self) -> Iterator[Any]:
        cfg = self.config
        model = self.model
        optimizer = torch.optim.AdamW([
            {"params": [model.prompts], "lr": cfg.learning_rate, "weight_decay": cfg.prompt_weight_decay},
            {"params": [model.head.weight, model.head.bias], "lr": cfg.head_learning_rate or cfg.learning_rate,
             "weight_decay": cfg.head_weight_decay},
        ])
        steps_per_epoch = math.ceil(len(self.train_set) / cfg.batch_size)
        total_steps = steps_per_epoch * cfg.epochs
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_cosine(total_steps, cfg))
        loss_fn = nn.CrossEntropyLoss(weight=self._class_weights(), label_smoothing=cfg.label_smoothing)
        scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype is torch.float16)
        transform = build_train_transform(cfg.augment, self.spec)
        generator = torch.Generator().manual_seed(cfg.seed)
        best = _BestState()
        clock = _Eta(total_steps)
        yield PhaseStarted(Phase.TRAIN, total_steps, f"training {cfg.epochs} epochs")
        step = 0
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            order = torch.randperm(len(self.train_set), generator=generator).tolist()
            loss_sum, correct, seen = 0.0, 0, 0
            for start in range(0, len(order), cfg.batch_size):
                if self.cancel.is_set():
                    return False
                indices = order[start:start + cfg.batch_size]
                images = torch.stack([transform(self.train_set.images[i]) for i in indices]).to(self.device)
                labels = torch.as_tensor(self.train_set.labels[indices]).to(self.device)
                with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                                    enabled=self.amp_dtype is not None):
                    logits = model(images)
                    loss = loss_fn(logits.float(), labels)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                step += 1
                loss_value = float(loss.detach())
                loss_sum += loss_value * len(indices)
                correct += int((logits.argmax(1) == labels).sum())
                seen += len(indices)
                yield TrainStep(epoch, cfg.epochs, step, total_steps, loss_value, _lr(optimizer), clock.eta(step))
            event = self._end_epoch(epoch, loss_sum / seen, correct / seen, _lr(optimizer), clock.eta(step), best)
            yield event
            if best.stale_epochs >= cfg.early_stopping_patience and self.val_set is not None:
                yield Notice(f"early stopping after epoch {epoch}: no validation improvement for "
                             f"{cfg.early_stopping_patience} epochs")
                break
        if best.state is not None:
            model.load_state_dict(best.state, strict=False)
        return True

    def _end_epoch(self, epoch, train_loss, train_acc, lr, eta, best: "_BestState") -> EpochEnd:
        val_loss = val_acc = None
        if self.val_set is not None:
            val_loss, val_acc = self._validate()
            improved = best.offer(val_acc, val_loss, self.model)
        else:
            improved = True
        event = EpochEnd(epoch, self.config.epochs, train_loss, train_acc, val_loss, val_acc, lr, eta, improved)
        record = {k: v for k, v in asdict(event).items() if k not in ("epochs", "phase")}
        if self.config.record_prompt_information:
            record["prompt_information"] = self._diagnostics()
        self.history.append(record)
        return event

    def _diagnostics(self) -> dict[str, Any]:
        from .analysis import epoch_diagnostics

        sample = self.train_set.subset(range(min(len(self.train_set), 4 * self.config.batch_size)))
        images = torch.cat([batch for batch, _ in self._labelled_eval_batches(sample)]).to(self.device)
        return epoch_diagnostics(self.model, images)

    def _validate(self) -> tuple[float, float]:
        logits, labels = predict_logits(self.model, self._labelled_eval_batches(self.val_set), self.device,
                                        self.amp_dtype)
        loss = float(nn.functional.cross_entropy(logits, labels))
        return loss, float((logits.argmax(1) == labels).float().mean())

    def _class_weights(self) -> torch.Tensor | None:
        if not self.config.balance_classes:
            return None
        counts = np.bincount(self.train_set.labels, minlength=len(self.data.classes)).astype(np.float64)
        weights = counts.sum() / (len(counts) * np.maximum(counts, 1))
        return torch.as_tensor(weights, dtype=torch.float32, device=self.device)

    def _result(self) -> TrainResult:
        self.model.eval()
        last = self.history[-1] if self.history else {}
        metrics = {
            "train_accuracy": last.get("train_accuracy"),
            "train_loss": last.get("train_loss"),
            "val_accuracy": max((h["val_accuracy"] for h in self.history if h["val_accuracy"] is not None),
                                default=None),
            "epochs_run": len(self.history),
            **{k: round(v, 3) for k, v in self.timings.items()},
            "device": str(self.device),
            "precision": str(self.amp_dtype).replace("torch.", "") if self.amp_dtype else "fp32",
        }
        summary = {"data_dir": str(self.data.root.resolve()) if self.data.root else None,
                   "train_images": len(self.train_set), "val_images": len(self.val_set) if self.val_set else 0,
                   "per_class": self.data.counts(), "skipped_files": [str(p) for p, _ in self.data.skipped]}
        return TrainResult(self.model, list(self.data.classes), self.prompt_config, self.config, metrics,
                           self.history, self.initial_prompts, summary, self.auto_report)


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


class _BestState:
    """Best validation state so far: higher accuracy wins, then a loss lower by at least MIN_DELTA."""

    MIN_DELTA = 1e-4

    def __init__(self):
        self.accuracy = -1.0
        self.loss = float("inf")
        self.state: dict[str, torch.Tensor] | None = None
        self.stale_epochs = 0

    def offer(self, accuracy: float, loss: float, model: PromptedViT) -> bool:
        better = accuracy > self.accuracy or (accuracy == self.accuracy and loss < self.loss - self.MIN_DELTA)
        if better:
            self.accuracy, self.loss = accuracy, loss
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.startswith("backbone.")}
            self.stale_epochs = 0
            return True
        self.stale_epochs += 1
        return False


class _Eta:
    """Seconds left, from the average step time so far."""

    def __init__(self, total_steps: int):
        self.total = total_steps
        self.started = time.perf_counter()

    def eta(self, step: int) -> float | None:
        if step == 0:
            return None
        elapsed = time.perf_counter() - self.started
        return elapsed / step * (self.total - step)


def _warmup_cosine(total_steps: int, config: TrainConfig):
    warmup = int(total_steps * config.warmup_fraction)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _lr(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
