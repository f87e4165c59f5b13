"""Small typed events that training yields, for a progress bar or a Qt signal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Phase:
    LOADING = "loading"
    PROTOTYPES = "prototypes"
    TRAIN = "train"
    EVAL = "eval"


@dataclass(frozen=True)
class PhaseStarted:
    phase: str
    total: int
    message: str = ""


@dataclass(frozen=True)
class Progress:
    """Progress within a phase without steps of its own (loading, prototypes, eval)."""

    phase: str
    done: int
    total: int
    eta_seconds: float | None = None


@dataclass(frozen=True)
class Notice:
    """Something the user should read: skipped files, no validation split, ..."""

    message: str


@dataclass(frozen=True)
class TrainStep:
    epoch: int
    epochs: int
    step: int
    total_steps: int
    loss: float
    learning_rate: float
    eta_seconds: float | None
    phase: str = Phase.TRAIN


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    epochs: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float
    eta_seconds: float | None
    improved: bool
    phase: str = Phase.EVAL


@dataclass(frozen=True)
class Cancelled:
    message: str = "training cancelled; nothing was written"


@dataclass(frozen=True)
class Finished:
    result: Any  # training.TrainResult

    @property
    def metrics(self) -> dict:
        return self.result.metrics


TrainEvent = PhaseStarted | Progress | Notice | TrainStep | EpochEnd | Cancelled | Finished
