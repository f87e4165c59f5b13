"""Few-shot splits applied to loaded images (the split itself is :func:`vpt_core.splits.few_shot_split`)."""

from __future__ import annotations

import numpy as np

from vpt_core.errors import DatasetError
from vpt_core.splits import FewShotSplit, few_shot_split

from ..dataset import LoadedImages

__all__ = ["FewShotSplit", "few_shot_split", "split_images", "restrict"]


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
