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
    """Something the user should read: skipped files, no validation split, ...

    ``key`` names the kind of notice and ``values`` its parts, so an app can show
    it in the user's language (``message`` is the English text).
    """

    message: str
    key: str = ""
    values: tuple[tuple[str, Any], ...] = ()

    def value(self, name: str, default: Any = None) -> Any:
        return dict(self.values).get(name, default)


@dataclass(frozen=True)
class RunProgress:
    """The whole run (automatic choice, preparation, training, checks) as one bar: never goes back.

    ``fraction`` in [0, 1]; ``eta_seconds`` for the whole remaining run; ``stage`` a short word
    (``"choose"``, ``"prepare"``, ``"train"``, ``"check"``).
    """

    fraction: float
    elapsed_seconds: float
    eta_seconds: float | None
    stage: str


@dataclass(frozen=True)
class TrainStep:
    step: int
    total_steps: int
    loss: float
    learning_rate: float
    eta_seconds: float | None
    accuracy: float | None = None      # on this step's (augmented) training pictures
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


TrainEvent = PhaseStarted | Progress | RunProgress | Notice | TrainStep | EpochEnd | Cancelled | Finished
