"""Do prompts resemble the patch tokens they sit with? Per-layer diagnostics (``vpt analyze``).

Self-Prompt Tuning (Wang et al., ICML 2024) starts from the observation that
trained prompts come to share high mutual information with patch tokens. This
module measures, at the input of every transformer block (where deep prompts
are inserted), between the prompt tokens and the patch tokens of the same image:

* ``nmi``: a normalised mutual-information estimate (below), averaged over
  prompts, images and a seeded sample of patch positions;
* ``nmi_patch_patch``: the same estimate between two patch tokens of one image,
  as a yardstick of what "high" means at that layer;
* ``cosine_nearest``: per prompt, the mean cosine similarity to its ``k``
  nearest patch tokens of the image, averaged over prompts and images.

The normalised mutual-information estimator
-------------------------------------------
Two token vectors ``a`` and ``b`` (both of width D) are read as D paired
observations ``(a_d, b_d)`` of two scalar variables, the view used when the
"mutual information between two feature vectors" is estimated.
1. Each vector is discretised into ``bins`` equally populated bins by the rank
   of its coordinates (quantile binning); this makes the estimate invariant to
   the scale and offset of each token, which vary a lot between layers.
2. The joint histogram of the two bin sequences gives the plug-in estimate
   ``MI = sum p(i,j) log(p(i,j) / (p(i) p(j)))`` (nats), and the marginal
   entropies ``H(a)``, ``H(b)`` (close to ``log(bins)`` by construction).
3. Finite D biases the plug-in MI upwards. The expected MI of *independent*
   vectors with the same marginals (a permutation null, estimated once per
   ``(D, bins)`` by Monte Carlo with a fixed seed) is subtracted, and the result
   is normalised like the adjusted mutual information of Vinh et al. (2010):
   ``NMI = (MI - E0) / (sqrt(H(a) H(b)) - E0)``.
   Identical vectors give exactly 1; independent ones 0 on average (a single
   pair can fall slightly below 0; values are not clipped, so averages stay
   unbiased). For a bivariate Gaussian with correlation rho and many samples,
   the unnormalised binned MI approaches ``-0.5 log(1 - rho^2)`` from below as
   ``bins`` grows (data-processing inequality). The tests check these cases.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vpt_core.splits import spread_over_classes

from .prompted_vit import run_prompted_blocks

DEFAULT_BINS = 8
NEAREST_K = 8
PATCH_SAMPLES = 32   # patch positions per image paired with each prompt


# -- the estimator ---------------------------------------------------------------
def quantile_bins(x: torch.Tensor, bins: int) -> torch.Tensor:
    """[M, D] values -> [M, D] bin numbers 0..bins-1 of equal population (by rank within each row)."""
    ranks = x.argsort(dim=1).argsort(dim=1)
    return (ranks * bins) // x.shape[1]


def binned_mutual_information(a: torch.Tensor, b: torch.Tensor, bins: int = DEFAULT_BINS
                              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Plug-in MI (nats) and marginal entropies for each row pair of [M, D] tensors."""
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"expected two [M, D] tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if bins < 2 or a.shape[1] < bins:
        raise ValueError(f"need 2 <= bins <= D, got bins={bins}, D={a.shape[1]}")
    rows, width = a.shape
    cells = quantile_bins(a.float(), bins) * bins + quantile_bins(b.float(), bins)
    joint = torch.zeros(rows, bins * bins, dtype=torch.float64, device=a.device)
    joint.scatter_add_(1, cells, torch.ones_like(cells, dtype=torch.float64))
    joint = (joint / width).view(rows, bins, bins)
    pa, pb = joint.sum(2), joint.sum(1)
    ratio = joint / (pa.unsqueeze(2) * pb.unsqueeze(1)).clamp_min(1e-300)
    mi = torch.where(joint > 0, joint * ratio.clamp_min(1e-300).log(), torch.zeros_like(joint)).sum((1, 2))
    return mi, _entropy(pa), _entropy(pb)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -torch.where(p > 0, p * p.clamp_min(1e-300).log(), torch.zeros_like(p)).sum(1)


@functools.lru_cache(maxsize=64)
def chance_mutual_information(width: int, bins: int, draws: int = 2000) -> float:
    """Expected plug-in MI of two independent width-D vectors (permutation null, fixed seed)."""
    generator = torch.Generator().manual_seed(12345)
    a = torch.rand(draws, width, generator=generator)
    b = torch.rand(draws, width, generator=generator)
    return float(binned_mutual_information(a, b, bins)[0].mean())


def normalized_mutual_information(a: torch.Tensor, b: torch.Tensor, bins: int = DEFAULT_BINS) -> torch.Tensor:
    """Chance-adjusted NMI per row pair of two [M, D] tensors: 1 for identical rows, ~0 for independent ones."""
    mi, ha, hb = binned_mutual_information(a, b, bins)
    chance = chance_mutual_information(a.shape[1], bins)
    return ((mi - chance) / ((ha * hb).sqrt() - chance)).float()


# -- tokens where the prompts are -------------------------------------------------
def block_inputs(vit: torch.nn.Module, prompts: torch.Tensor, images: torch.Tensor
                 ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per block: (prompt tokens [B, P, D], patch tokens [B, N, D]) at its input, as the prompted model runs."""
    num_prefix, count = vit.num_prefix_tokens, prompts.shape[1]
    out: list[tuple[torch.Tensor, torch.Tensor]] = []
    run_prompted_blocks(vit, images, prompts,
                        observe=lambda x: out.append((x[:, num_prefix:num_prefix + count], x[:, num_prefix + count:])))
    return out


def layer_statistics(prompt_tokens: torch.Tensor, patch_tokens: torch.Tensor, generator: torch.Generator,
                     bins: int = DEFAULT_BINS, samples: int = PATCH_SAMPLES, k: int = NEAREST_K) -> dict[str, Any]:
    """NMI and nearest-patch cosine for one layer; inputs [B, P, D] and [B, N, D]."""
    batch, count, width = prompt_tokens.shape
    patches = patch_tokens.shape[1]
    positions = torch.randint(patches, (batch, samples), generator=generator).to(patch_tokens.device)
    sampled = torch.gather(patch_tokens, 1, positions.unsqueeze(2).expand(-1, -1, width))      # [B, S, D]
    pairs_a = prompt_tokens.unsqueeze(2).expand(-1, -1, samples, -1).reshape(-1, width)
    pairs_b = sampled.unsqueeze(1).expand(-1, count, -1, -1).reshape(-1, width)
    nmi = normalized_mutual_information(pairs_a, pairs_b, bins).view(batch, count, samples)
    others = torch.gather(patch_tokens, 1, positions.roll(1, dims=1).unsqueeze(2).expand(-1, -1, width))
    reference = normalized_mutual_information(sampled.reshape(-1, width), others.reshape(-1, width), bins)
    cosine = torch.nn.functional.normalize(prompt_tokens, dim=2) @ torch.nn.functional.normalize(
        patch_tokens, dim=2).transpose(1, 2)                                                      # [B, P, N]
    nearest = cosine.topk(min(k, patches), dim=2).values.mean(2)                                  # [B, P]
    return {"nmi": float(nmi.mean()), "nmi_patch_patch": float(reference.mean()),
            "cosine_nearest": float(nearest.mean()),
            "nmi_per_prompt": [round(float(v), 4) for v in nmi.mean((0, 2))],
            "cosine_nearest_per_prompt": [round(float(v), 4) for v in nearest.mean(0)]}


def prompt_patch_statistics(vit: torch.nn.Module, prompts: torch.Tensor, images: torch.Tensor, seed: int = 0,
                            bins: int = DEFAULT_BINS) -> list[dict[str, Any]]:
    """Per block, :func:`layer_statistics` of the prompted model on ``images`` (no gradients)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        tokens = block_inputs(vit, prompts.to(images.device), images)
        return [{"layer": index, **layer_statistics(p.float(), x.float(), generator, bins)}
                for index, (p, x) in enumerate(tokens)]


class PromptInformationObserver:
    """A training observer (``training.train(..., observers=[...])``): per-layer NMI and nearest-patch
    cosine of the current prompts on a few fixed images, at every observation point of the fit."""

    def __init__(self, images: torch.Tensor, max_images: int = 8):
        self.images = images[:max_images]

    def observe(self, model, step: int) -> dict[str, Any]:
        was_training = model.training
        model.eval()
        try:
            images = self.images.to(next(model.parameters()).device)
            layers = prompt_patch_statistics(model.backbone, model.prompts.detach(), images)
        finally:
            model.train(was_training)
        return {"nmi": [round(s["nmi"], 4) for s in layers],
                "cosine_nearest": [round(s["cosine_nearest"], 4) for s in layers],
                "nmi_patch_patch": [round(s["nmi_patch_patch"], 4) for s in layers]}


# -- a task pack on a folder ---------------------------------------------------------
def analyze_task_pack(task_path: str | Path, data_dir: str | Path, weights: str | None = None, device: str = "cpu",
                      max_images: int = 32, init_images: int = 256, bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """Diagnostics of a pack's trained prompts and of its initialisation recomputed on ``data_dir``.

    The pack does not store its starting prompts, so they are rebuilt with the pack's strategy and seed
    from up to ``init_images`` images of ``data_dir`` (identical values for ``random``; for prototype
    strategies the same recipe on these images, not necessarily the exact training-time values).
    """
    from .dataset import load_images, scan_image_folder
    from vpt_core.errors import ConfigError
    from .prompts import PromptConfig
    from .taskpack import load_task

    if max_images < 1 or init_images < 1:
        raise ConfigError(f"--images and init_images must be at least 1, got {max_images}, {init_images}")
    task = load_task(task_path, weights=weights, device=device)
    prompt_config = PromptConfig.from_dict(task.pack.prompt_config)
    seed = int(task.pack.training.get("seed", 0))
    data = load_images(scan_image_folder(data_dir, task.pack.classes), task.backbone.preprocess,
                       require_every_class=False)
    initial = recompute_initial_prompts(task.backbone, data, prompt_config, seed, init_images)
    images = image_tensor(task.backbone, data, spread_over_classes(data.labels, max_images, seed))
    images = images.to(next(task.model.parameters()).device)
    layers = compare_prompts(task.backbone.model, initial, task.model.prompts.detach(), images, seed, bins)
    return {
        "task": str(task_path), "data": str(data_dir), "images": int(images.shape[0]),
        "prompt_config": prompt_config.to_dict(),
        "initial_prompts": (f"recomputed: {prompt_config.init.value} with seed {seed} on "
                            f"{min(init_images, len(data))} images of {data_dir}"),
        "estimator": estimator_settings(task.backbone.embed_dim, bins),
        "layers": layers, "summary": summarise_layers(layers),
    }


def compare_prompts(vit: torch.nn.Module, initial: torch.Tensor, trained: torch.Tensor, images: torch.Tensor,
                    seed: int = 0, bins: int = DEFAULT_BINS) -> list[dict[str, Any]]:
    """Per layer: statistics of the initial and of the trained prompts on the same images and patches."""
    before = prompt_patch_statistics(vit, initial, images, seed, bins)
    after = prompt_patch_statistics(vit, trained, images, seed, bins)
    return [{"layer": b["layer"], "initial": _drop_layer(b), "trained": _drop_layer(a)} for b, a in zip(before, after)]


def recompute_initial_prompts(backbone, data, prompt_config, seed: int, max_images: int) -> torch.Tensor:
    from .prototypes import frozen_pass, initial_prompts
    from .training import labelled_batches

    layers = prompt_config.prompt_layers(backbone.depth)
    tokens = []
    if prompt_config.init.uses_prototypes:
        chosen = data.subset(spread_over_classes(data.labels, max_images, seed))
        device = next(backbone.model.parameters()).device
        batches = labelled_batches(chosen, backbone.preprocess, 32)
        passing = frozen_pass(backbone.model, batches, prompt_config, device, seed, collect_tokens=True)
        tokens = _drain(passing).layer_tokens
    return initial_prompts(prompt_config.init, tokens, prompt_config, layers, backbone.embed_dim,
                           backbone.architecture.patch_size, seed)


def estimator_settings(width: int, bins: int) -> dict[str, Any]:
    return {"name": "chance-adjusted normalised mutual information of quantile-binned token coordinates",
            "bins": bins, "token_width": width, "chance_mi_nats": round(chance_mutual_information(width, bins), 5),
            "patch_samples_per_image": PATCH_SAMPLES, "nearest_k": NEAREST_K,
            "definition": "NMI = (MI - E0) / (sqrt(H(a) H(b)) - E0); see vpt_engine.analysis"}


def summarise_layers(layers: list[dict[str, Any]]) -> dict[str, float]:
    return {f"{metric}_{when}_mean": float(np.mean([layer[when][metric] for layer in layers]))
            for when in ("initial", "trained") for metric in ("nmi", "cosine_nearest", "nmi_patch_patch")}


def _drop_layer(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stats.items() if k != "layer"}


def _drain(generator):
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        return stop.value


def image_tensor(backbone, data, indices: list[int]) -> torch.Tensor:
    spec = backbone.preprocess
    return torch.from_numpy(np.stack([spec.normalize(spec.crop(data.images[i])) for i in indices]))


# -- output ------------------------------------------------------------------------
def format_analysis(report: dict[str, Any]) -> str:
    rows = ["| layer | NMI initial | NMI trained | NMI patch-patch | cos nearest initial | cos nearest trained |",
            "|---|---|---|---|---|---|"]
    for layer in report["layers"]:
        i, t = layer["initial"], layer["trained"]
        rows.append(f"| {layer['layer']} | {i['nmi']:.3f} | {t['nmi']:.3f} | {t['nmi_patch_patch']:.3f} | "
                    f"{i['cosine_nearest']:.3f} | {t['cosine_nearest']:.3f} |")
    estimator = report["estimator"]
    notes = [f"Task {report['task']} on {report['images']} images of {report['data']}; "
             f"initial prompts {report['initial_prompts']}.",
             f"NMI: {estimator['name']}, {estimator['bins']} bins over {estimator['token_width']} coordinates, "
             f"{estimator['patch_samples_per_image']} patch tokens per image and prompt; chance level removed "
             f"({estimator['chance_mi_nats']} nats). cos nearest: mean cosine similarity of each prompt to its "
             f"{estimator['nearest_k']} nearest patch tokens."]
    return "\n".join(notes) + "\n\n" + "\n".join(rows)


def write_analysis(report: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    from vpt_core.atomicio import atomic_write_json, atomic_write_text
    from .charts import line_chart

    out_dir = Path(out_dir)
    layers = report["layers"]
    labels = [str(layer["layer"]) for layer in layers]
    panels = [("Normalised mutual information, prompt vs patch",
               [("initial", [l["initial"]["nmi"] for l in layers], False),
                ("trained", [l["trained"]["nmi"] for l in layers], False),
                ("patch vs patch", [l["trained"]["nmi_patch_patch"] for l in layers], True)]),
              ("Cosine to nearest patch tokens",
               [("initial", [l["initial"]["cosine_nearest"] for l in layers], False),
                ("trained", [l["trained"]["cosine_nearest"] for l in layers], False)])]
    return {"json": atomic_write_json(out_dir / "analysis.json", report),
            "markdown": atomic_write_text(out_dir / "analysis.md", format_analysis(report) + "\n"),
            "png": line_chart(panels, labels, out_dir / "analysis.png", x_title="layer (block input)",
                              title=f"vpt analyze: {Path(report['task']).name}")}
