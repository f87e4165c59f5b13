"""Automatic choice of prompt initialisation and prompt count by cross-validation: a step around training.

``vpt train --init auto --prompts auto`` (and the app's "try other settings")
run :func:`train_auto`: first :func:`select_prompt_config`, then
:func:`training.train` with the choice; the training module knows nothing of
this one. Only the training images are used (never the check pictures): they
are cut into stratified folds; each candidate is trained on all folds but one
with the normal training loop, shortened (``steps_fraction`` of the steps), and
scored on the held-out fold. "No prompts" (a linear probe on the frozen
backbone, almost free to measure) is a candidate prompt count. Successive halving keeps the cost bounded: every
candidate is measured on the first fold, the better half goes on to the next
fold, and so on, so the whole search costs about two to three short trainings
per candidate dimension instead of folds x candidates full ones.

Initialisation is chosen first (at the configured prompt count), then the prompt
count (with the chosen initialisation), reusing what was measured.

Decision rule. A held-out fold of a few-shot set has few images, so balanced
accuracy moves in coarse steps; candidates whose mean balanced accuracy is
within ``tie_margin`` of the best are treated as equally accurate and the one
with the lowest mean held-out loss (a continuous, proper score) wins.
The starting configuration (the engine's default unless the user set one)
then stays unless that winner beats it, on the folds both were measured on, by
more than ``evidence_z`` binomial standard errors of an accuracy measured on
that many images (one-standard-error rule; balanced accuracy on imbalanced
folds is noisier still, so this is the least evidence asked for). Without it,
on data where no start is really better, the search picks by noise: on
magnetic-tile with a weak backbone, every candidate near chance, the held-out
loss systematically favoured the least trained candidate.

Time budget. The search's own time counts: ``time_budget_s=None`` means
``budget_factor`` times the estimated time of the training that follows,
re-estimated from the speed of every candidate trained so far (a short
calibration before the first), which keeps the search proportionate on a laptop
CPU and a GPU alike, and on a machine whose load changes; the whole run then
takes about ``1 + budget_factor`` trainings. When the budget runs out, the
choice is made among the candidates measured on the same folds, and the report
says so.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Generator, Mapping

import numpy as np
import torch

from vpt_core.errors import ConfigError
from vpt_core.metrics import balanced_accuracy
from vpt_core.splits import stratified_folds, stratified_split

from .backbone import Backbone
from .dataset import LoadedImages
from .events import Cancelled, Finished, Notice, PhaseStarted, Progress, RunProgress, TrainStep
from .prompts import PromptConfig, PromptInit, parse_enum
from .train_config import TrainConfig
from .training import labelled_batches, predict_logits, train

SELECT_PHASE = "select"
ALL_INITS = tuple(PromptInit)


@dataclass(frozen=True)
class AutoSelectConfig:
    choose_init: bool = True
    choose_prompts: bool = True
    candidate_inits: tuple[PromptInit, ...] = ALL_INITS
    candidate_prompts: tuple[int, ...] = (0, 10, 20)    # 0: no prompts, a linear probe on the frozen backbone
    folds: int = 3
    steps_fraction: float = 1 / 3       # of the final training's steps, per candidate and fold
    min_steps: int = 10
    keep_fraction: float = 0.5          # successive halving: share of candidates that go on to the next fold
    tie_margin: float = 0.02            # balanced-accuracy difference treated as a tie (then lower loss wins)
    evidence_z: float = 1.0             # standard errors a winner must beat the starting configuration by (0: off)
    time_budget_s: float | None = None  # None: budget_factor x the estimated final training time
    budget_factor: float = 2.0

    def __post_init__(self) -> None:
        inits = tuple(parse_enum(PromptInit, v, "candidate initialisation") for v in self.candidate_inits)
        object.__setattr__(self, "candidate_inits", inits)
        object.__setattr__(self, "candidate_prompts", tuple(self.candidate_prompts))
        if not (self.choose_init or self.choose_prompts):
            raise ConfigError("automatic selection needs choose_init or choose_prompts")
        if not inits or len(set(inits)) != len(inits):
            raise ConfigError(f"candidate initialisations must be distinct and not empty, got {self.candidate_inits}")
        counts = self.candidate_prompts
        if not counts or len(set(counts)) != len(counts) or any(
                not isinstance(c, int) or isinstance(c, bool) or not 0 <= c <= 1024 for c in counts):
            raise ConfigError(f"candidate prompt counts must be distinct whole numbers in 0..1024, got {counts}")
        if not isinstance(self.folds, int) or self.folds < 2:
            raise ConfigError(f"folds must be a whole number of at least 2, got {self.folds!r}")
        if not 0 < self.steps_fraction <= 1 or self.min_steps < 1:
            raise ConfigError(f"steps_fraction must be in (0, 1] and min_steps >= 1, got {self.steps_fraction}, "
                              f"{self.min_steps}")
        if not 0 < self.keep_fraction < 1:
            raise ConfigError(f"keep_fraction must be in (0, 1), got {self.keep_fraction}")
        if not 0 <= self.tie_margin < 1:
            raise ConfigError(f"tie_margin must be in [0, 1), got {self.tie_margin}")
        if not 0 <= self.evidence_z <= 5:
            raise ConfigError(f"evidence_z must be in [0, 5] standard errors, got {self.evidence_z}")
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise ConfigError(f"the time budget must be a positive number of seconds, got {self.time_budget_s}")
        if not self.budget_factor > 0:
            raise ConfigError(f"budget_factor must be positive, got {self.budget_factor}")

    def candidate_steps(self, steps: int) -> int:
        return min(steps, max(self.min_steps, round(steps * self.steps_fraction)))

    def to_dict(self) -> dict[str, Any]:
        document = dataclasses.asdict(self)
        document["candidate_inits"] = [i.value for i in self.candidate_inits]
        document["candidate_prompts"] = list(self.candidate_prompts)
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "AutoSelectConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in document.items() if k in known}
        return cls(**values)


@dataclass(frozen=True)
class Candidate:
    init: PromptInit
    num_prompts: int

    @property
    def name(self) -> str:
        return "no prompts" if self.num_prompts == 0 else f"{self.init.value}/P={self.num_prompts}"


def rank_candidates(scores: Mapping[str, tuple[float, float]], tie_margin: float) -> list[str]:
    """Names best first, from (mean balanced accuracy, mean loss) each.

    Candidates within ``tie_margin`` of the best balanced accuracy count as tied and are ordered by loss
    (lower first); the others follow by balanced accuracy, then loss.
    """
    best = max(accuracy for accuracy, _ in scores.values())

    def key(name: str):
        accuracy, loss = scores[name]
        tied = accuracy >= best - tie_margin - 1e-9
        return (not tied, loss if tied else -accuracy, loss)

    return sorted(scores, key=key)


def select_prompt_config(backbone: Backbone, train_set: LoadedImages, prompt_config: PromptConfig, train_config,
                         auto: AutoSelectConfig, cancel: threading.Event
                         ) -> Generator[Any, None, tuple[PromptConfig, dict[str, Any]] | None]:
    """Yields events (phase ``select``); returns (chosen PromptConfig, JSON report), or None if cancelled."""
    search = _Search(backbone, train_set, prompt_config, train_config, auto, cancel)
    return (yield from search.run())


class _SearchCancelled(Exception):
    pass


class _Search:
    def __init__(self, backbone, train_set, prompt_config, train_config, auto: AutoSelectConfig, cancel):
        self.backbone, self.data, self.base_config = backbone, train_set, prompt_config
        self.train_config, self.auto, self.cancel = train_config, auto, cancel
        self.started = time.perf_counter()
        counts = np.bincount(train_set.labels, minlength=len(train_set.classes))
        self.folds = int(min(auto.folds, counts[counts > 0].min()))
        self.fold_of = stratified_folds(train_set.labels, self.folds, train_config.seed) if self.folds >= 2 else None
        fit_images = int((self.fold_of != 0).sum()) if self.fold_of is not None else len(train_set)
        self.final_steps = train_config.planned_steps(len(train_set))
        self.steps = auto.candidate_steps(train_config.planned_steps(fit_images))
        self.scores: dict[Candidate, dict[int, dict[str, float]]] = {}
        self.stages: list[dict[str, Any]] = []
        self.exhausted = False
        self.steps_done, self.steps_total = 0, 0
        self.budget_s, self.budget_source = auto.time_budget_s, "set by the user"
        self.seconds_per_image_step: float | None = None

    # -- driver --------------------------------------------------------------
    def run(self):
        base = Candidate(self.base_config.init, self.base_config.num_prompts)
        if self.fold_of is None:
            reason = (f"no cross-validation possible: a class has a single training image; kept "
                      f"{base.name}")
            yield Notice(f"automatic choice: {reason}")
            return self.base_config, self._report(base, reason)
        self._calibrate()
        self.steps_total = self._planned_steps()
        yield PhaseStarted(SELECT_PHASE, self.steps_total,
                           f"choosing {self._what()} by {self.folds}-fold cross-validation on the training images "
                           f"(budget {self.budget_s:.0f} s)")
        chosen = base
        try:
            if self.auto.choose_init:
                chosen = yield from self._stage("init", [Candidate(i, base.num_prompts)
                                                         for i in self.auto.candidate_inits], chosen)
            if self.auto.choose_prompts and not self.exhausted:
                chosen = yield from self._stage("prompts", [Candidate(chosen.init, p)
                                                            for p in self.auto.candidate_prompts], chosen)
        except _SearchCancelled:
            return None
        reason = self._reason(chosen)
        yield Notice(f"automatic choice: {reason}")
        config = dataclasses.replace(self.base_config, init=chosen.init, num_prompts=chosen.num_prompts)
        return config, self._report(chosen, reason)

    def _what(self) -> str:
        return " and ".join(n for n, on in (("initialisation", self.auto.choose_init),
                                             ("prompt count", self.auto.choose_prompts)) if on)

    # -- successive halving ----------------------------------------------------
    def _stage(self, name: str, candidates: list[Candidate], fallback: Candidate):
        """Successive halving over the folds; ``fallback`` wins if the budget allows no measurement at all."""
        alive, rounds = list(dict.fromkeys(candidates)), []
        stage = {"choose": name, "candidates": [c.name for c in alive], "rounds": rounds}
        self.stages.append(stage)
        measured_folds = 0
        for fold in range(self.folds if len(alive) > 1 else 0):
            measured = []
            for candidate in alive:
                if fold in self.scores.get(candidate, {}):
                    continue
                if not self._affordable(candidate):
                    self.exhausted = True
                    break
                yield from self._measure(candidate, fold)
                measured.append(candidate.name)
            if self.exhausted:
                complete = [c for c in alive if fold in self.scores.get(c, {})]
                if measured_folds == 0 and complete:   # not even one full round: decide among those measured
                    alive, measured_folds = complete, 1
                rounds.append({"fold": fold, "measured": measured, "stopped": "time budget exhausted"})
                break
            measured_folds = fold + 1
            ranked = self._rank(alive, range(measured_folds))
            keep = len(alive) if fold == self.folds - 1 else max(1, math.ceil(len(alive) * self.auto.keep_fraction))
            alive = ranked[:keep]
            rounds.append({"fold": fold, "measured": measured, "kept": [c.name for c in alive]})
            if len(alive) == 1:
                break
        if measured_folds:
            winner = self._rank(alive, range(measured_folds))[0]
        else:
            winner = alive[0] if len(alive) == 1 else fallback
        evidence = self._evidence_against_start(winner, fallback)
        if evidence is not None:
            stage["evidence"] = evidence
            if not evidence["clearly_better"]:
                winner = fallback
        stage.update(chosen=winner.name, decided_on_folds=measured_folds,
                     scores={c.name: self._summary(c, range(self.folds)) for c in candidates if c in self.scores})
        return winner

    def _evidence_against_start(self, winner: Candidate, start: Candidate) -> dict[str, Any] | None:
        """Does ``winner`` beat the starting configuration by more than the noise? None if not comparable."""
        winner_folds, start_folds = self.scores.get(winner, {}), self.scores.get(start, {})
        common = sorted(set(winner_folds) & set(start_folds))
        if winner == start or not common:
            return None
        images = int(sum((self.fold_of == f).sum() for f in common))
        challenger = float(np.mean([winner_folds[f]["balanced_accuracy"] for f in common]))
        baseline = float(np.mean([start_folds[f]["balanced_accuracy"] for f in common]))
        level = min(max((challenger + baseline) / 2, 1 / images), 1 - 1 / images)
        margin = max(self.auto.tie_margin, self.auto.evidence_z * math.sqrt(level * (1 - level) / images))
        return {"challenger": winner.name, "start": start.name, "folds": common, "images": images,
                "gain": round(challenger - baseline, 4), "margin": round(margin, 4),
                "clearly_better": challenger - baseline > margin}

    def _rank(self, candidates: list[Candidate], folds) -> list[Candidate]:
        summary = {c: self._summary(c, folds) for c in candidates}
        order = rank_candidates({c.name: (s["balanced_accuracy"], s["loss"]) for c, s in summary.items()},
                                self.auto.tie_margin)
        by_name = {c.name: c for c in candidates}
        return [by_name[name] for name in order]

    def _summary(self, candidate: Candidate, folds) -> dict[str, Any]:
        measured = {f: self.scores[candidate][f] for f in folds if f in self.scores.get(candidate, {})}
        if not measured:
            return {"folds": 0, "balanced_accuracy": float("nan"), "accuracy": float("nan"), "loss": float("nan")}
        return {"folds": len(measured),
                **{k: float(np.mean([m[k] for m in measured.values()])) for k in ("balanced_accuracy", "accuracy",
                                                                                   "loss")},
                "per_fold": {str(f): m for f, m in measured.items()}}

    # -- one candidate on one fold ----------------------------------------------
    def _measure(self, candidate: Candidate, fold: int):
        held_out = self.fold_of == fold
        fit_part = self.data.subset(np.flatnonzero(~held_out).tolist())
        val_part = self.data.subset(np.flatnonzero(held_out).tolist())
        prompt_config = dataclasses.replace(self.base_config, init=candidate.init, num_prompts=candidate.num_prompts)
        # The same seed for every candidate on a fold: they differ only in what is being compared.
        train_config = dataclasses.replace(self.train_config, steps=self.steps, check_fraction=0.0,
                                           seed=self.train_config.seed + 1000 * (fold + 1))
        started = time.perf_counter()
        result = None
        for event in train(self.backbone, fit_part, prompt_config, train_config, self.cancel):
            if isinstance(event, TrainStep):
                self.steps_done += 1
                yield Progress(SELECT_PHASE, self.steps_done, max(self.steps_total, self.steps_done), self._eta())
            elif isinstance(event, Finished):
                result = event.result
            elif isinstance(event, Cancelled):
                raise _SearchCancelled()
        if result is None or self.cancel.is_set():
            raise _SearchCancelled()
        device = next(result.model.parameters()).device
        logits, labels = predict_logits(result.model, labelled_batches(val_part, self.backbone.preprocess, train_config.batch_size), device)
        predictions = logits.argmax(1)
        seconds = time.perf_counter() - started
        self.scores.setdefault(candidate, {})[fold] = {
            "balanced_accuracy": balanced_accuracy(labels.numpy(), predictions.numpy()),
            "accuracy": float((predictions == labels).float().mean()),
            "loss": float(torch.nn.functional.cross_entropy(logits, labels)), "seconds": round(seconds, 2)}
        if candidate.num_prompts:
            self._learn_speed(candidate, train_config.batch_for(len(fit_part)), seconds)

    # -- time ------------------------------------------------------------------
    def _calibrate(self) -> None:
        """Seconds per image and training step, from two timed steps on blank images; sets the default budget."""
        from .prompted_vit import PromptedViT

        device = next(self.backbone.model.parameters()).device
        measured = dataclasses.replace(self.base_config, num_prompts=max(1, self.base_config.num_prompts))
        model = PromptedViT(self.backbone, measured, len(self.data.classes)).to(device)
        images = torch.zeros(2, *self.backbone.preprocess.input_size, device=device)
        timings = []
        for _ in range(2):   # the first call pays one-off costs (allocations, kernel selection)
            started = time.perf_counter()
            model(images).sum().backward()
            timings.append(time.perf_counter() - started)
        self.seconds_per_image_step = timings[-1] / 2 / self._length_factor(measured.num_prompts)
        if self.budget_s is None:
            self._set_default_budget()

    def _set_default_budget(self) -> None:
        full = self.final_training_seconds()
        self.budget_s = self.auto.budget_factor * full
        self.budget_source = (f"default: {self.auto.budget_factor:g} x the estimated time of the final training "
                              f"({full:.0f} s at the speed measured so far)")

    def final_training_seconds(self) -> float:
        batch = self.train_config.batch_for(len(self.data))
        return self._training_seconds(batch, self.final_steps, self.base_config.num_prompts)

    def _learn_speed(self, candidate: Candidate, batch: int, seconds: float) -> None:
        # Measured times include the prototype pass and the held-out evaluation: a conservative estimate.
        self.seconds_per_image_step = seconds / (batch * self.steps * self._length_factor(candidate.num_prompts))
        if self.auto.time_budget_s is None:
            # The default budget follows the speed actually measured, so a machine that gets busier (or
            # quieter) mid-search scales the search's costs and its budget alike.
            self._set_default_budget()

    def _length_factor(self, num_prompts: int) -> float:
        tokens = self.backbone.architecture.num_prefix_tokens + self.backbone.architecture.num_patches
        return (tokens + num_prompts) / (tokens + 10)

    def _training_seconds(self, batch: int, steps: int, num_prompts: int) -> float:
        if num_prompts == 0:   # a linear probe: one forward pass over the pictures
            return self.seconds_per_image_step * batch / 3
        return self.seconds_per_image_step * batch * steps * self._length_factor(num_prompts)

    def _affordable(self, candidate: Candidate) -> bool:
        batch = self.train_config.batch_for(int((self.fold_of != 0).sum()))
        needed = self._training_seconds(batch, self.steps, candidate.num_prompts)
        return self._elapsed() + needed <= self.budget_s

    def share(self) -> float:
        """The search's expected share of the whole run (search + final training)."""
        if not self.seconds_per_image_step or not self.budget_s:
            return 0.0
        final = self.final_training_seconds()
        return self.budget_s / (self.budget_s + final) if final > 0 else 0.0

    def _elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _eta(self) -> float | None:
        if not self.steps_done:
            return None
        return self._elapsed() / self.steps_done * max(0, self.steps_total - self.steps_done)

    def _planned_steps(self) -> int:
        def halving(count: int) -> int:
            total = 0
            for fold in range(self.folds if count > 1 else 0):
                total += count
                count = max(1, math.ceil(count * self.auto.keep_fraction)) if fold < self.folds - 1 else count
                if count == 1:
                    break
            return total

        trainings = 0
        if self.auto.choose_init:
            trainings += halving(len(self.auto.candidate_inits))
        if self.auto.choose_prompts:
            trainings += max(0, halving(len(self.auto.candidate_prompts)) - (1 if self.auto.choose_init else 0))
        return trainings * self.steps

    # -- report ----------------------------------------------------------------
    def _reason(self, chosen: Candidate) -> str:
        parts = []
        for stage in self.stages:
            score = stage["scores"].get(stage["chosen"])
            if score is None:
                parts.append(f"{stage['choose']}: only one candidate ({stage['chosen']})")
                continue
            others = [n for n, s in stage["scores"].items() if n != stage["chosen"]
                      and s["folds"] >= score["folds"]
                      and s["balanced_accuracy"] >= score["balanced_accuracy"] - self.auto.tie_margin - 1e-9]
            text = (f"{stage['choose']}: {stage['chosen']} with cross-validated balanced accuracy "
                    f"{score['balanced_accuracy']:.3f} and held-out loss {score['loss']:.3f} over "
                    f"{score['folds']} fold(s)")
            evidence = stage.get("evidence")
            kept_start = evidence is not None and not evidence["clearly_better"]
            if others and not kept_start:
                text += f" ({', '.join(others)} as accurate within {self.auto.tie_margin:g}; lower loss decided)"
            if kept_start:
                text += (f"; kept the starting {evidence['start']}: {evidence['challenger']} was ahead by "
                         f"{evidence['gain']:+.3f}, within the noise of {evidence['images']} held-out images "
                         f"({evidence['margin']:.3f})")
            parts.append(text)
        if self.exhausted:
            parts.append(f"the time budget ({self.budget_s:.0f} s) ran out: decided with the folds measured so far")
        return f"{chosen.name}; " + "; ".join(parts)

    def _report(self, chosen: Candidate, reason: str) -> dict[str, Any]:
        measured = self.scores.get(chosen, {})
        score = None
        if measured:
            images = int(sum((self.fold_of == fold).sum() for fold in measured))
            score = {"accuracy": float(np.mean([m["accuracy"] for m in measured.values()])),
                     "balanced_accuracy": float(np.mean([m["balanced_accuracy"] for m in measured.values()])),
                     "folds": len(measured), "images": images}
        return {
            "chosen": {"init": chosen.init.value, "num_prompts": chosen.num_prompts},
            "chosen_score": score,
            "started_from": {"init": self.base_config.init.value, "num_prompts": self.base_config.num_prompts},
            "reason": reason,
            "method": (f"stratified {self.folds}-fold cross-validation on the {len(self.data)} training images "
                       f"(never test or check pictures), {self.steps} steps per candidate and fold, successive halving "
                       f"keeping {self.auto.keep_fraction:g} of the candidates per fold"),
            "decision_rule": (f"highest mean held-out balanced accuracy; candidates within {self.auto.tie_margin:g} "
                              "of it count as tied and the lowest mean held-out cross-entropy wins; the starting "
                              f"configuration stays unless beaten by more than {self.auto.evidence_z:g} standard "
                              "error(s) on the folds both were measured on"),
            "folds": self.folds,
            "fold_sizes": [int((self.fold_of == f).sum()) for f in range(self.folds)] if self.fold_of is not None else [],
            "steps_per_candidate": self.steps,
            "stages": self.stages,
            "trainings": sum(len(v) for v in self.scores.values()),
            "budget_s": None if self.budget_s is None else round(self.budget_s, 1),
            "budget_source": self.budget_source,
            "budget_exhausted": self.exhausted,
            "seconds": round(self._elapsed(), 2),
            "config": self.auto.to_dict(),
        }


def train_task(backbone: Backbone, data: LoadedImages, prompt_config: PromptConfig, config: TrainConfig,
               auto: AutoSelectConfig | None = None, cancel: threading.Event | None = None, observers=()):
    """One task's training events, with the automatic choice first when ``auto`` is given."""
    if auto is not None:
        return train_auto(backbone, data, prompt_config, config, auto, cancel, observers)
    return train(backbone, data, prompt_config, config, cancel, observers)


def train_auto(backbone: Backbone, data: LoadedImages, prompt_config: PromptConfig, config: TrainConfig,
               auto: AutoSelectConfig, cancel: threading.Event | None = None, observers=()):
    """Choose prompt count and start on the training pictures, then train with the choice.

    Yields the events of both steps; :class:`RunProgress` covers the whole run (the search's share
    is its time budget against the final training's estimated time). The result carries the report;
    without check pictures, its cross-validated accuracy is the task's check accuracy.
    """
    cancel = cancel or threading.Event()
    kept = (stratified_split(data.labels, config.check_fraction, config.seed)[0] if config.check_fraction > 0
            else list(range(len(data))))    # the same split training makes: check pictures stay unseen
    search = _Search(backbone, data.subset(kept), prompt_config, config, auto, cancel)
    started = time.perf_counter()
    chosen = None
    work = search.run()
    try:
        while True:
            event = next(work)
            yield event
            if isinstance(event, Progress):
                yield RunProgress(search.share() * event.done / max(1, event.total), time.perf_counter() - started,
                                  _eta(time.perf_counter() - started, search.share() * event.done / max(1, event.total)),
                                  "choose")
    except StopIteration as stop:
        chosen = stop.value
    if chosen is None:
        yield Cancelled()
        return
    config_chosen, report = chosen
    share = search.share()
    for event in train(backbone, data, config_chosen, config, cancel, observers):
        if isinstance(event, RunProgress):
            fraction = share + (1 - share) * event.fraction
            elapsed = time.perf_counter() - started
            yield RunProgress(fraction, elapsed, _eta(elapsed, fraction), event.stage)
            continue
        if isinstance(event, Finished):
            _attach(event.result, report)
        yield event


def _attach(result, report: dict[str, Any]) -> None:
    result.auto_report = report
    if "check_accuracy" not in result.metrics and report.get("chosen_score"):
        score = report["chosen_score"]
        result.metrics.update(check_accuracy=score["accuracy"], check_images=score["images"],
                              check_method="cross-validation")


def _eta(elapsed: float, fraction: float) -> float | None:
    return elapsed / fraction * (1 - fraction) if fraction > 0 else None
