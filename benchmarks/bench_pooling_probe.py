"""Which pooling of the frozen embedded model's patch tokens should the head read? A linear probe per choice.

    python benchmarks/bench_pooling_probe.py [--datasets x-sdd,magnetic-tile] [--seeds 3]

The follow-up of ``bench_layer_probe.py`` (CLS and mean patch token per block): after
each block of the frozen embedded model (whole-picture fit, no prompts) the final norm
is applied and four features are kept: the CLS token, and the mean, the per-channel
maximum and the per-channel standard deviation of the patch tokens. Every picture is
also read flipped (left-right, top-bottom, both). The product's linear probe
(cross-validated penalty) is fitted on each feature set below, on the same splits as
``bench_accuracy.py`` (k = 5 and 10 pictures per class for training, all the other
pictures for testing, seeds 0-2), three ways:

* ``plain``: the pictures as they are (what the product does);
* ``flip_train``: the probe also learns from the three flipped copies of each training picture;
* ``flip_average``: training and test features are averaged over the four views.

``cls11`` is the ``linear`` baseline of ``bench_accuracy.py``; ``max_all`` (the maximum after
every block) is what the product's default head reads (``head_features = block_max``).
Balanced accuracy, mean ± std over seeds. Writes
``benchmarks/results/accuracy/pooling_probe.{md,json}``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import json
import time

import numpy as np
import torch

from bench_accuracy import OUT                # the same results folder as the accuracy grid
from bench_layer_probe import load_dataset, probe_scores, probe_setup   # the same data, probe, splits and scoring

KINDS = ("cls", "mean", "max", "std")
# Name -> [(block, kind)]; the blocks are 0-based, 11 is the last of ViT-Tiny.
FEATURE_SETS = {
    "cls11": [(11, "cls")],
    "mean1": [(1, "mean")], "max1": [(1, "max")], "std1": [(1, "std")], "mean+std1": [(1, "mean"), (1, "std")],
    "max6": [(6, "max")],
    "max11": [(11, "max")], "std11": [(11, "std")], "mean+std11": [(11, "mean"), (11, "std")],
    "cls11+max11": [(11, "cls"), (11, "max")],
    "cls+mean+max+std11": [(11, kind) for kind in KINDS],
    "max1+max11": [(1, "max"), (11, "max")],
    "max_all": [(block, "max") for block in range(12)],
}
VIEWS = {"as_is": lambda b: b, "left_right": lambda b: b.flip(3), "top_bottom": lambda b: b.flip(2),
         "both": lambda b: b.flip(2).flip(3)}
MODES = ("plain", "flip_train", "flip_average")


def pooled_tokens(backbone, data, batch_size: int = 64) -> np.ndarray:
    """[N, views, depth, kinds, D] (float16 to keep it small)."""
    from vpt_engine import _timm_compat as tc
    from vpt_engine.bench.baselines import eval_batches

    model, prefix = backbone.model.eval(), backbone.architecture.num_prefix_tokens
    chunks = []
    with torch.no_grad():
        for batch in eval_batches(data.images, backbone.preprocess, batch_size):
            per_view = []
            for view in VIEWS.values():
                x = tc.start_sequence(model, tc.embed_patches(model, view(torch.from_numpy(batch))))
                per_block = []
                for block in tc.blocks(model):
                    x = tc.run_block(block, x)
                    normed = tc.final_norm(model, x)
                    patches = normed[:, prefix:]
                    per_block.append(torch.stack([normed[:, 0], patches.mean(1), patches.amax(1), patches.std(1)], 1))
                per_view.append(torch.stack(per_block, 1))
            chunks.append(torch.stack(per_view, 1).half().numpy())
    return np.concatenate(chunks)


class ModeView:
    """Features of one set, shaped for one mode: what ``probe_scores`` takes in place of an [N, F] array."""

    def __init__(self, views: np.ndarray, mode: str):
        self.views, self.mode = views, mode      # [N, views, F]

    def train(self, indices):
        if self.mode == "flip_train":
            return self.views[indices].reshape(-1, self.views.shape[-1])
        return self.views[indices].mean(1) if self.mode == "flip_average" else self.views[indices, 0]

    def test(self, indices):
        return self.views[indices].mean(1) if self.mode == "flip_average" else self.views[indices, 0]


def main() -> None:
    from vpt_core.atomicio import atomic_write_text

    from _common import machine_description

    args, backbone = probe_setup(__doc__)
    results, lines = {}, ["# Linear probe on poolings of the frozen embedded model's tokens", "",
                          f"Balanced accuracy (%), mean ± std over seeds 0-{args.seeds - 1}; the splits of "
                          "`bench_accuracy.py`. `clsN` / `meanN` / `maxN` / `stdN`: CLS token / mean / per-channel "
                          "maximum / per-channel standard deviation of the patch tokens after block N (0-based) and "
                          "the final norm; `max_all`: the maximum after every block (the default head's features). "
                          "Modes: `plain` as the product fits; `flip_train` adds three flipped copies of each "
                          "training picture; `flip_average` averages the four views' features for training and "
                          "testing.", "", f"Machine: {machine_description()}.", ""]
    for name in args.datasets.split(","):
        data = load_dataset(backbone, name)
        started = time.perf_counter()
        tokens = pooled_tokens(backbone, data)
        labels = np.asarray(data.labels)
        results[name] = {}
        lines += [f"## {name} ({len(data)} pictures)", "",
                  "| features | " + " | ".join(f"{mode} {k}-shot" for mode in MODES for k in (5, 10)) + " |",
                  "|---" * (1 + 2 * len(MODES)) + "|"]
        for feature, parts in FEATURE_SETS.items():
            views = np.concatenate([tokens[:, :, block, KINDS.index(kind)] for block, kind in parts], -1)
            views = views.astype(np.float32)
            cells = []
            for mode in MODES:
                for shots in (5, 10):
                    scores = probe_scores({feature: ModeView(views, mode)}, labels, data.classes, shots,
                                          range(args.seeds), repeat_train=len(VIEWS) if mode == "flip_train" else 1)
                    results[name].setdefault(feature, {})[f"{mode}-{shots}"] = scores[feature]
                    cells.append(f"{np.mean(scores[feature]) * 100:.1f} ± {np.std(scores[feature], ddof=1) * 100:.1f}")
            lines.append(f"| {feature} | " + " | ".join(cells) + " |")
            print(name, lines[-1], flush=True)
        lines += ["", f"{name}: {time.perf_counter() - started:.0f} s", ""]
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write_text(OUT / "pooling_probe.json", json.dumps(results, indent=1) + "\n")
    print(atomic_write_text(OUT / "pooling_probe.md", "\n".join(lines)))


if __name__ == "__main__":
    main()
