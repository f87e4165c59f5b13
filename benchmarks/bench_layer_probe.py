"""Would another layer of the frozen embedded model give the head better features? A linear probe per layer.

    python benchmarks/bench_layer_probe.py [--datasets x-sdd,magnetic-tile] [--seeds 3]

For each dataset of ``../shared/data``, the frozen embedded model (whole-picture fit,
no prompts) reads every picture once; after each of its blocks the final norm is
applied and two features are kept: the CLS token and the mean patch token. The
product's linear probe (cross-validated penalty) is then fitted on each of them and
on a few concatenations, on the same splits as ``bench_accuracy.py`` (k = 5 and 10
pictures per class for training, all the other pictures for testing, seeds 0-2).
``cls11`` is that bench's ``linear`` baseline and ``cls+mean_last`` its
``linear_wide``. Balanced accuracy, mean ± std over seeds.

Writes ``benchmarks/results/accuracy/layer_probe.{md,json}``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from bench_accuracy import OUT, SHARED   # the same data and results folders as the accuracy grid


def layer_tokens(backbone, data, batch_size: int = 64) -> np.ndarray:
    """[N, depth, 2, D]: per block, the normed CLS token and the normed mean patch token."""
    from vpt_engine import _timm_compat as tc
    from vpt_engine.bench.baselines import eval_batches

    model, prefix = backbone.model.eval(), backbone.architecture.num_prefix_tokens
    chunks = []
    with torch.no_grad():
        for batch in eval_batches(data.images, backbone.preprocess, batch_size):
            x = tc.start_sequence(model, tc.embed_patches(model, torch.from_numpy(batch)))
            per_block = []
            for block in tc.blocks(model):
                x = tc.run_block(block, x)
                normed = tc.final_norm(model, x)
                per_block.append(torch.stack([normed[:, 0], normed[:, prefix:].mean(1)], 1))
            chunks.append(torch.stack(per_block, 1).numpy())
    return np.concatenate(chunks)


def feature_sets(tokens: np.ndarray) -> dict[str, np.ndarray]:
    count, depth = tokens.shape[:2]
    sets = {f"cls{layer}": tokens[:, layer, 0] for layer in range(depth)}
    sets.update({f"mean{layer}": tokens[:, layer, 1] for layer in range(depth)})
    sets["cls_last4"] = tokens[:, -4:, 0].reshape(count, -1)
    sets["cls+mean_last"] = tokens[:, -1].reshape(count, -1)
    sets["cls+mean_last4"] = tokens[:, -4:].reshape(count, -1)
    sets["cls_all"] = tokens[:, :, 0].reshape(count, -1)
    return sets


def probe_scores(sets, labels, classes, shots, seeds, repeat_train: int = 1) -> dict[str, list[float]]:
    """Balanced accuracy per seed of a probe on each set: an [N, F] array, or an object whose ``train`` /
    ``test`` give the features of given pictures (``repeat_train`` rows per training picture)."""
    from vpt_core.metrics import classification_report
    from vpt_engine.bench.splits import few_shot_split
    from vpt_engine.linear_probe import fit_linear_probe

    scores: dict[str, list[float]] = {name: [] for name in sets}
    for seed in seeds:
        split = few_shot_split(labels, classes, shots, seed)
        train, test = list(split.train), list(split.test)
        for name, features in sets.items():
            if isinstance(features, np.ndarray):
                train_x, test_x = features[train], features[test]
            else:
                train_x, test_x = features.train(train), features.test(test)
            probe = fit_linear_probe(train_x, np.repeat(labels[train], repeat_train), len(classes), seed=seed)
            report = classification_report(classes, labels[test], probe.logits(test_x))
            scores[name].append(report.balanced_accuracy)
    return scores


def probe_setup(description: str):
    """The command line shared by the probe scripts, and the frozen embedded model (whole-picture fit)."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--datasets", default="x-sdd,magnetic-tile")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from vpt_engine.backbone import load_backbone
    from vpt_engine.embedded import embedded_backbone_config

    return args, load_backbone(embedded_backbone_config("whole"))


def load_dataset(backbone, name: str):
    from vpt_engine.dataset import load_images, scan_image_folder

    return load_images(scan_image_folder(SHARED / name), backbone.preprocess)


def main() -> None:
    from _common import machine_description

    args, backbone = probe_setup(__doc__)
    results, lines = {}, ["# Linear probe on each layer of the frozen embedded model", "",
                          f"Balanced accuracy (%), mean ± std over seeds 0-{args.seeds - 1}; the splits of `bench_accuracy.py`. "
                          "`clsN` / `meanN`: CLS / mean patch token after block N (0-based) and the final norm; "
                          "`cls11` is the `linear` baseline, `cls+mean_last` the `linear_wide` one.", "",
                          f"Machine: {machine_description()}.", ""]
    for name in args.datasets.split(","):
        data = load_dataset(backbone, name)
        started = time.perf_counter()
        sets = feature_sets(layer_tokens(backbone, data))
        labels = np.asarray(data.labels)
        results[name] = {shots: probe_scores(sets, labels, data.classes, shots, range(args.seeds)) for shots in (5, 10)}
        lines += [f"## {name} ({len(data)} pictures, {time.perf_counter() - started:.0f} s)", "",
                  "| features | 5-shot | 10-shot |", "|---|---|---|"]
        for feature in sets:
            cells = [f"{np.mean(results[name][k][feature]) * 100:.1f} ± {np.std(results[name][k][feature], ddof=1) * 100:.1f}"
                     for k in (5, 10)]
            lines.append(f"| {feature} | {cells[0]} | {cells[1]} |")
        lines.append("")
        print("\n".join(lines[-len(sets) - 4:]), flush=True)
    from vpt_core.atomicio import atomic_write_text

    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write_text(OUT / "layer_probe.json", json.dumps(results, indent=1) + "\n")
    print(atomic_write_text(OUT / "layer_probe.md", "\n".join(lines)))


if __name__ == "__main__":
    main()
