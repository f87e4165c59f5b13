"""Every way the toolkit divides a labelled set, in one place (numpy only).

* :func:`stratified_split` -- per class, a fraction aside (check pictures, validation).
* :func:`stratified_folds` -- a fold number per sample, classes dealt round-robin (cross-validation).
* :func:`few_shot_split` -- k per class for training, every other image for testing (benchmarks).
* :func:`spread_over_classes` -- up to n indices taken round-robin over the classes.
* :func:`spread` -- up to n items taken evenly along a list (so every class folder of a sorted list contributes).

Every function is seeded and deterministic: the same labels and seed give the same split on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, TypeVar

import numpy as np

T = TypeVar("T")


def stratified_split(labels: np.ndarray, fraction: float, seed: int,
                     min_class_size: int = 2) -> tuple[list[int], list[int]]:
    """(kept, set aside): per class ``floor(n * fraction)`` images aside, at least one kept.

    Classes with fewer than ``min_class_size`` images keep them all.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    kept, aside = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = min(int(len(members) * fraction), len(members) - 1) if len(members) >= min_class_size else 0
        aside += members[:count].tolist()
        kept += members[count:].tolist()
    return sorted(kept), sorted(aside)


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold number per sample; each class is dealt round-robin over the folds in a seeded order."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        # Rotating the start keeps fold sizes even when class counts are not multiples of ``folds``.
        fold_of[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)
    return fold_of


@dataclass(frozen=True)
class FewShotSplit:
    """k images per class for training, every other image for testing.

    Per class the images are put in one seeded order that does not depend on k,
    so the 5-shot training set of a seed is contained in its 10-shot training
    set. A class with fewer than k + 1 images cannot be both trained and tested
    at k shots: it is left out and listed in ``excluded``.
    """

    shots: int
    seed: int
    classes: tuple[str, ...]          # the classes kept, in dataset order
    train: tuple[int, ...]            # indices into the full dataset
    test: tuple[int, ...]
    excluded: dict[str, int]          # class -> its image count, for classes with fewer than shots + 1 images

    @property
    def usable(self) -> bool:
        return len(self.classes) >= 2

    def describe_exclusions(self) -> str:
        if not self.excluded:
            return ""
        listed = ", ".join(f"{name} ({count} images)" for name, count in self.excluded.items())
        return f"{self.shots}-shot: left out classes with fewer than {self.shots + 1} images: {listed}"


def few_shot_split(labels: np.ndarray, classes: Sequence[str], shots: int, seed: int,
                   test_cap: int | None = None) -> FewShotSplit:
    """``test_cap`` (exploration only) keeps at most that many test images per class."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    kept, excluded, train, test = [], {}, [], []
    for label, name in enumerate(classes):
        # Every class draws its order, kept or not, so one class's exclusion does not reshuffle the others.
        members = rng.permutation(np.flatnonzero(labels == label))
        if len(members) < shots + 1:
            excluded[name] = int(len(members))
            continue
        kept.append(name)
        train += members[:shots].tolist()
        test += members[shots:None if test_cap is None else shots + test_cap].tolist()
    return FewShotSplit(shots, seed, tuple(kept), tuple(sorted(train)), tuple(sorted(test)), excluded)


def spread_over_classes(labels: np.ndarray, count: int, seed: int) -> list[int]:
    """Up to ``count`` indices taken round-robin over the classes in a seeded order."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    queues = [list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)]
    chosen = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(int(queue.pop(0)))
    return sorted(chosen)


def spread(items: Sequence[T], limit: int | None) -> list[T]:
    """At most ``limit`` items taken evenly across the list, so every class folder contributes."""
    if limit is None or len(items) <= limit:
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]
