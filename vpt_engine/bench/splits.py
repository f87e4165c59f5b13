"""Few-shot splits: k images per class for training, every other image for testing.

Within a seed, every method sees the same split. Per class the images are put in
one seeded random order that does not depend on k, so the 5-shot training set
of a seed is contained in its 10-shot training set. A class with fewer than
k + 1 images cannot be both trained and tested at k shots: it is left out of
that (k, seed) split and listed in ``excluded`` so reports can say so.

``test_cap`` (None by default: the full remainder) keeps at most that many test
images per class, for quick exploratory sweeps only: it changes the class mix,
so plain accuracy no longer reflects the real distribution; balanced accuracy
stays an unbiased, noisier estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dataset import LoadedImages
from vpt_core.errors import DatasetError


@dataclass(frozen=True)
class FewShotSplit:
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


def few_shot_split(labels: np.ndarray, classes: list[str], shots: int, seed: int,
                   test_cap: int | None = None) -> FewShotSplit:
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


def split_images(data: LoadedImages, split: FewShotSplit) -> tuple[LoadedImages, LoadedImages]:
    """Training and test sets, with labels renumbered over the kept classes."""
    if not split.usable:
        raise DatasetError(f"{split.shots}-shot split of seed {split.seed} keeps fewer than two classes "
                           f"({split.describe_exclusions()})")
    return restrict(data, split.train, split.classes), restrict(data, split.test, split.classes)


def restrict(data: LoadedImages, indices, classes) -> LoadedImages:
    new_label = {data.classes.index(name): position for position, name in enumerate(classes)}
    indices = list(indices)
    labels = np.asarray([new_label[int(data.labels[i])] for i in indices], dtype=np.int64)
    return LoadedImages(list(classes), [data.images[i] for i in indices], labels, [data.paths[i] for i in indices])
