"""k-means in torch: k-means++ seeding, then a fixed number of Lloyd iterations.

Runs wherever the tokens are (GPU when there is one). Deterministic for a given
generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class KMeansResult:
    centroids: torch.Tensor          # [k, D]
    assignments: torch.Tensor        # [N]
    objectives: list[float]          # mean squared distance after seeding, then after each iteration


def kmeans(points: torch.Tensor, k: int, iterations: int, generator: torch.Generator) -> KMeansResult:
    points = points.float()
    if points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"k-means needs a non-empty [N, D] tensor, got {tuple(points.shape)}")
    centroids = kmeans_plus_plus(points, k, generator)
    assignments, objective = _assign(points, centroids)
    objectives = [objective]
    for _ in range(iterations):
        centroids = _update(points, assignments, centroids)
        assignments, objective = _assign(points, centroids)
        objectives.append(objective)
    return KMeansResult(centroids, assignments, objectives)


def kmeans_plus_plus(points: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """Arthur & Vassilvitskii seeding; with fewer distinct points than k, duplicates are allowed."""
    n = points.shape[0]
    first = int(torch.randint(n, (1,), generator=generator))
    chosen = [first]
    nearest = _squared_distances(points, points[first:first + 1]).squeeze(1)
    for _ in range(1, k):
        total = float(nearest.sum())
        if total <= 0.0:
            index = int(torch.randint(n, (1,), generator=generator))
        else:
            index = int(torch.multinomial((nearest / total).cpu(), 1, generator=generator))
        chosen.append(index)
        nearest = torch.minimum(nearest, _squared_distances(points, points[index:index + 1]).squeeze(1))
    return points[chosen].clone()


def objective(points: torch.Tensor, centroids: torch.Tensor) -> float:
    return _assign(points.float(), centroids.float())[1]


def _squared_distances(points: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    return torch.cdist(points, centroids).pow(2)


def _assign(points: torch.Tensor, centroids: torch.Tensor) -> tuple[torch.Tensor, float]:
    distances = _squared_distances(points, centroids)
    best, assignments = distances.min(dim=1)
    return assignments, float(best.mean())


def _update(points: torch.Tensor, assignments: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    k = centroids.shape[0]
    sums = torch.zeros_like(centroids).index_add_(0, assignments, points)
    counts = torch.bincount(assignments, minlength=k).to(points.dtype).unsqueeze(1)
    # An empty cluster keeps its previous centroid rather than collapsing to zero.
    return torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
