"""One progress figure for a whole training run: elapsed time, time left, and a fraction that never goes back.

The engine reports its whole run with ``RunProgress`` events (automatic choice,
preparation, training, checks); when it does, those are used for everything
after the app's own first steps (loading the model, reading the pictures),
which take the first part of the bar. Otherwise the fraction is pieced together from the phases the run goes
through, each with a share of the total, and the time left is extrapolated
from the time so far. Either way the fraction only grows. Qt-free.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from vpt_engine import events as ev

SELECT = "select"
LOADING_BACKBONE = "backbone"   # gui.jobs's own first phase
# Shares of a run's time per phase (measured roughly on the demo; the automatic choice takes most of an
# automatic run, up to six times the training itself).
SHARES = {LOADING_BACKBONE: 0.05, ev.Phase.LOADING: 0.10, ev.Phase.PROTOTYPES: 0.05, ev.Phase.TRAIN: 0.78,
          ev.Phase.EVAL: 0.02}
SHARES_WITH_CHOICE = {LOADING_BACKBONE: 0.02, ev.Phase.LOADING: 0.04, SELECT: 0.66, ev.Phase.PROTOTYPES: 0.02,
                      ev.Phase.TRAIN: 0.25, ev.Phase.EVAL: 0.01}
MIN_ELAPSED_FOR_ETA_S = 3.0


@dataclass
class RunProgressTracker:
    automatic_choice: bool = False
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    fraction: float = 0.0
    stage: str = ""
    engine_eta: float | None = None
    from_engine: bool = False          # RunProgress events seen: the engine knows the whole run best
    _engine_base: float = 0.0          # where the engine's part of the bar starts
    _phase: str = ""
    _done_before: float = 0.0          # share of the phases already finished

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def shares(self) -> dict[str, float]:
        return SHARES_WITH_CHOICE if self.automatic_choice else SHARES

    @property
    def elapsed(self) -> float:
        return max(0.0, self.clock() - self.started)

    @property
    def eta_seconds(self) -> float | None:
        if self.from_engine:
            return self.engine_eta
        if self.fraction <= 0.02 or self.elapsed < MIN_ELAPSED_FOR_ETA_S:
            return None
        return self.elapsed * (1.0 - self.fraction) / self.fraction

    def feed(self, event) -> None:
        if isinstance(event, ev.RunProgress):
            if not self.from_engine:
                self.from_engine, self._engine_base = True, self.fraction
            self.engine_eta = event.eta_seconds
            self.stage = event.stage or self.stage
            self._advance(self._engine_base + (1.0 - self._engine_base) * float(event.fraction))
        elif self.from_engine:
            return
        elif isinstance(event, ev.PhaseStarted):
            self._enter(event.phase)
        elif isinstance(event, ev.Progress):
            self._enter(event.phase)
            self._within(event.done, event.total)
        elif isinstance(event, ev.TrainStep):
            self._enter(ev.Phase.TRAIN)
            self._within(event.step, event.total_steps)

    def finish(self) -> None:
        self.fraction = 1.0

    def _enter(self, phase: str) -> None:
        if phase == self._phase or phase not in self.shares:
            return
        order = list(self.shares)
        if self._phase in order and order.index(phase) < order.index(self._phase):
            return   # a phase run again inside another (e.g. preparation during the automatic choice)
        self._done_before = sum(self.shares[p] for p in order[:order.index(phase)])
        self._phase, self.stage = phase, phase
        self._advance(self._done_before)

    def _within(self, done: int, total: int) -> None:
        if self._phase in self.shares and total > 0:
            share = self.shares[self._phase]
            self._advance(self._done_before + share * min(1.0, done / total))

    def _advance(self, fraction: float) -> None:
        self.fraction = max(self.fraction, min(1.0, float(fraction)))
