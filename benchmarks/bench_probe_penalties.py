"""How much does the linear probe's penalty matter at a few pictures per class? Every penalty, every split.

    python benchmarks/bench_probe_penalties.py [--datasets x-sdd,magnetic-tile] [--seeds 3]

On the frozen pooled features of the embedded model (the cache ``bench_accuracy.py``
leaves in ``benchmarks/results/accuracy/<dataset>/default/cache/``, computed here
if absent) and the same splits (k = 5 and 10 per class, all the other pictures for
testing), for each penalty of the probe: its cross-validated balanced accuracy with
the standard error over folds, the share of its own training pictures it gets
right, and its balanced accuracy on the test pictures. This is the evidence behind
``LinearProbeConfig.fit_target``. Writes ``benchmarks/results/accuracy/probe_penalties.md``.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse

import numpy as np

from bench_accuracy import OUT, SHARED   # the same data and results folders as the accuracy grid


def pooled_features(name: str):
    from vpt_engine.backbone import load_backbone
    from vpt_engine.bench.baselines import frozen_features
    from vpt_engine.dataset import load_images, scan_image_folder
    from vpt_engine.embedded import embedded_backbone_config

    cached = sorted((OUT / name / "default" / "cache").glob("frozen-features-pooled-*.npz"))
    index = scan_image_folder(SHARED / name)
    labels = np.asarray([label for _, label in index.files])
    if cached:
        with np.load(cached[0]) as stored:
            return stored["features"], labels, index.classes
    backbone = load_backbone(embedded_backbone_config("whole"))
    return frozen_features(backbone, load_images(index, backbone.preprocess)), labels, index.classes


def penalty_rows(features, labels, classes, shots, seed):
    from vpt_core.metrics import balanced_accuracy
    from vpt_core.splits import few_shot_split, stratified_folds
    from vpt_engine.linear_probe import LinearProbeConfig, cross_validation_scores, fit_fixed_penalty

    config = LinearProbeConfig()
    split = few_shot_split(labels, classes, shots, seed)
    train, test = list(split.train), list(split.test)
    x, y = features[train], labels[train]
    fold_of = stratified_folds(y, min(config.folds, shots), seed)
    rows = []
    for penalty in config.penalties:
        scores = cross_validation_scores(x, y, len(classes), penalty, fold_of, config)
        probe = fit_fixed_penalty(x, y, len(classes), penalty, config)
        rows.append((penalty, np.mean(scores), np.std(scores, ddof=1) / np.sqrt(len(scores)),
                     probe.training_accuracy(x, y),
                     balanced_accuracy(labels[test], probe.logits(features[test]).argmax(1))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="x-sdd,magnetic-tile")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    from vpt_core.atomicio import atomic_write_text
    from vpt_engine.linear_probe import LinearProbeConfig

    penalties = LinearProbeConfig().penalties
    lines = ["# Linear-probe penalty against cross-validated score, training fit and test accuracy", "",
             "Frozen pooled features of the embedded model; each cell: cross-validated balanced accuracy ± its "
             "standard error over folds / training pictures fitted / test balanced accuracy, all in %.", ""]
    for name in args.datasets.split(","):
        features, labels, classes = pooled_features(name)
        lines += [f"## {name}", "", "| shots | seed | " + " | ".join(f"penalty {p:g}" for p in penalties) + " |",
                  "|---|---|" + "---|" * len(penalties)]
        for shots in (5, 10):
            for seed in range(args.seeds):
                cells = [f"{cv * 100:.0f} ± {se * 100:.0f} / {fit * 100:.0f} / {test * 100:.1f}"
                         for _, cv, se, fit, test in penalty_rows(features, labels, classes, shots, seed)]
                lines.append(f"| {shots} | {seed} | " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
        lines.append("")
    print(atomic_write_text(OUT / "probe_penalties.md", "\n".join(lines)))


if __name__ == "__main__":
    main()
