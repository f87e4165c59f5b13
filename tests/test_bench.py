"""vpt bench: splits, configuration, baselines, resumable runner, report and command line."""

from __future__ import annotations

import json
import statistics
import threading

import numpy as np
import pytest
import torch

from vpt_engine.bench import BenchConfig, BenchInterrupted, VptMethod, few_shot_split, run_benchmark, split_images
from vpt_engine.bench.baselines import frozen_features, nearest_class_mean_logits
from vpt_engine.linear_probe import LinearProbeConfig, fit_linear_probe
from vpt_engine.bench.config import parse_list
from vpt_engine.bench.report import auto_comparison, format_tables, summarise, write_report
from vpt_engine.bench.store import CellStore
from vpt_engine.dataset import load_images, scan_image_folder
from vpt_core.errors import ConfigError
from vpt_core.metrics import balanced_accuracy
from vpt_engine.training import TrainConfig

QUICK = TrainConfig(steps=2, batch_size=4, device="cpu")


@pytest.fixture
def tiny_data(make_image_folder, tiny_backbone):
    root = make_image_folder({"ok": 6, "scratch": 5, "dent": 2})
    return root, load_images(scan_image_folder(root), tiny_backbone.preprocess)


# -- splits ------------------------------------------------------------------------
def test_split_takes_k_per_class_for_training_and_the_rest_for_testing():
    labels = np.repeat([0, 1, 2], [7, 4, 10])
    split = few_shot_split(labels, ["a", "b", "c"], shots=3, seed=1)
    train, test = np.array(split.train), np.array(split.test)
    assert np.bincount(labels[train]).tolist() == [3, 3, 3]
    assert set(train).isdisjoint(test) and len(train) + len(test) == len(labels)
    assert split.excluded == {}


def test_split_is_shared_within_a_seed_nested_over_shots_and_differs_between_seeds():
    labels = np.repeat([0, 1], [20, 20])
    first, again = few_shot_split(labels, ["a", "b"], 5, seed=3), few_shot_split(labels, ["a", "b"], 5, seed=3)
    assert first == again
    assert set(first.train) <= set(few_shot_split(labels, ["a", "b"], 10, seed=3).train)
    assert first.train != few_shot_split(labels, ["a", "b"], 5, seed=4).train


def test_classes_without_a_test_image_are_reported_not_silently_dropped():
    labels = np.repeat([0, 1, 2], [6, 3, 6])
    split = few_shot_split(labels, ["a", "b", "c"], shots=3, seed=0)
    assert split.excluded == {"b": 3}
    assert split.classes == ("a", "c")
    assert not set(np.flatnonzero(labels == 1)) & (set(split.train) | set(split.test))
    assert "b (3 images)" in split.describe_exclusions()


def test_excluding_one_class_does_not_reshuffle_the_others():
    labels = np.repeat([0, 1, 2], [6, 3, 6])
    with_b = few_shot_split(labels, ["a", "b", "c"], shots=2, seed=5)
    without_b = few_shot_split(labels, ["a", "b", "c"], shots=3, seed=5)
    a_and_c = set(np.flatnonzero(labels != 1))
    assert set(with_b.train) & a_and_c <= set(without_b.train)


def test_test_cap_limits_test_images_per_class():
    labels = np.repeat([0, 1], [30, 8])
    split = few_shot_split(labels, ["a", "b"], shots=2, seed=0, test_cap=4)
    assert np.bincount(labels[list(split.test)]).tolist() == [4, 4]


def test_split_images_renumbers_labels_over_kept_classes(tiny_data):
    _, data = tiny_data
    split = few_shot_split(data.labels, data.classes, shots=2, seed=0)   # "dent" has 2 images: excluded
    train_set, test_set = split_images(data, split)
    assert train_set.classes == list(split.classes) and "dent" not in train_set.classes
    for subset in (train_set, test_set):
        for path, label in zip(subset.paths, subset.labels):
            assert path.parent.name == subset.classes[label]


# -- configuration -------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"shots": (0,)}, "shots"), ({"shots": (5, 5)}, "repeated"), ({"inits": ("warm",)}, "warm"),
    ({"prompts": ("ten",)}, "ten"), ({"baselines": ("svm",)}, "svm"), ({"seeds": (-1,)}, "seeds"),
    ({"inits": (), "baselines": ()}, "nothing to run"), ({"test_cap_per_class": 0}, "test_cap"),
])
def test_bench_config_rejects_bad_values_naming_them(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        BenchConfig(**kwargs)


def test_cells_run_seed_by_seed_with_baselines_first():
    config = BenchConfig(shots=(1, 5), seeds=(0, 1), inits=("random",), baselines=("linear",),
                         extra_methods=(VptMethod("auto", "auto", "deep"),))
    cells = [(seed, shots, method.name) for seed, shots, method in config.cells()]
    assert [seed for seed, _, _ in cells] == [0] * 6 + [1] * 6
    assert cells[:3] == [(0, 1, "linear"), (0, 1, "vpt-deep-10-random"), (0, 1, "vpt-deep-auto-auto")]
    assert config.auto is not None   # auto cells get the default AutoSelectConfig


def test_parse_list_names_the_option():
    assert parse_list("1, 5,10", "--shots") == ["1", "5", "10"]
    with pytest.raises(ConfigError, match="--shots"):
        parse_list("1,,5", "--shots")


# -- baselines -------------------------------------------------------------------------
def _clusters(per_class: int, seed: int, spread: float = 0.3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16)) * 2
    labels = np.repeat(np.arange(3), per_class)
    return (centres[labels] + rng.normal(size=(len(labels), 16)) * spread).astype(np.float32), labels


def test_linear_probe_learns_separable_classes_and_cross_validates_its_penalty():
    train_x, train_y = _clusters(6, seed=0)
    test_x, test_y = _clusters(30, seed=0)
    probe = fit_linear_probe(train_x, train_y, 3, seed=0)
    assert balanced_accuracy(test_y, probe.logits(test_x).argmax(1)) > 0.9
    assert set(probe.cv_balanced_accuracy) == {str(p) for p in (1e-4, 1e-3, 1e-2, 1e-1, 1.0)}
    assert probe.penalty in (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def _weak_signal(seed: int):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), 10)
    features = rng.normal(size=(40, 24)).astype(np.float32)
    features[:, :2] += labels[:, None] * 0.4
    return features, labels


def test_fit_target_takes_a_weaker_penalty_within_the_noise_so_the_probe_fits_its_pictures():
    features, labels = _weak_signal(0)
    plain = fit_linear_probe(features, labels, 4, seed=0)
    assert plain.training_accuracy(features, labels) < 0.95          # the cross-validated choice underfits
    fitted = fit_linear_probe(features, labels, 4, LinearProbeConfig(fit_target=0.95), seed=0)
    assert fitted.training_accuracy(features, labels) >= 0.95
    assert fitted.penalty < plain.penalty
    scores = fitted.cv_balanced_accuracy
    assert scores == plain.cv_balanced_accuracy
    assert scores[str(fitted.penalty)] < scores[str(plain.penalty)]   # slightly worse, within one standard error


def test_fit_target_keeps_the_cross_validated_penalty_when_weaker_ones_score_worse_beyond_the_noise():
    features, labels = _weak_signal(4)
    plain = fit_linear_probe(features, labels, 4, seed=0)
    fitted = fit_linear_probe(features, labels, 4, LinearProbeConfig(fit_target=0.95), seed=0)
    assert plain.training_accuracy(features, labels) < 0.95
    assert fitted.penalty == plain.penalty


@pytest.mark.parametrize("target", [-0.1, 1.5, True, "0.9"])
def test_fit_target_must_be_a_share(target):
    with pytest.raises(ConfigError, match="fit_target"):
        LinearProbeConfig(fit_target=target)


def test_linear_probe_with_one_image_per_class_uses_the_default_penalty():
    train_x, train_y = _clusters(1, seed=2)
    probe = fit_linear_probe(train_x, train_y, 3)
    assert probe.cv_balanced_accuracy == {} and probe.penalty == 1e-2
    assert (probe.logits(train_x).argmax(1) == train_y).all()


def test_nearest_class_mean_assigns_points_to_their_cluster():
    train_x, train_y = _clusters(5, seed=1)
    test_x, test_y = _clusters(20, seed=1)
    logits = nearest_class_mean_logits(train_x, train_y, test_x, 3)
    assert (logits.argmax(1) == test_y).mean() > 0.9


def test_frozen_features_are_cached_on_disk(tiny_backbone, tiny_data, tmp_path):
    _, data = tiny_data
    cache = tmp_path / "cache" / "features.npz"
    first = frozen_features(tiny_backbone, data, batch_size=4, cache=cache)
    assert cache.is_file() and first.shape == (len(data), tiny_backbone.embed_dim)
    with np.load(cache) as stored:
        stored_features = stored["features"]
    np.testing.assert_array_equal(stored_features, first)


# -- runner ----------------------------------------------------------------------------
def test_benchmark_runs_every_cell_and_resumes_without_recomputing(tiny_backbone, tiny_data, tmp_path,
                                                                   monkeypatch):
    _, data = tiny_data
    config = BenchConfig(shots=(1, 2), seeds=(0,), inits=("random", "mean_pool"), baselines=("linear", "class_mean"),
                         train=QUICK)
    out = tmp_path / "bench"
    cells = run_benchmark(tiny_backbone, data, config, out, log=lambda m: None)
    assert len(cells) == 8 and all(c["status"] == "done" for c in cells)
    assert {c["key"] for c in cells} == {p.stem for p in (out / "cells").glob("*.json")}
    two_shot = [c for c in cells if c["shots"] == 2]
    assert all(c["excluded_classes"] == {"dent": 2} for c in two_shot)
    for cell in cells:
        assert 0 <= cell["balanced_accuracy"] <= 1 and cell["test_images"] == sum(map(sum, cell["confusion"]))

    import vpt_engine.bench.runner as runner

    def must_not_train(*args, **kwargs):
        raise AssertionError("a finished cell was measured again")

    monkeypatch.setattr(runner, "train", must_not_train)
    again = run_benchmark(tiny_backbone, data, config, out, log=lambda m: None)
    assert [c["accuracy"] for c in again] == [c["accuracy"] for c in cells]


def test_cells_measured_with_other_settings_are_refused(tiny_backbone, tiny_data, tmp_path):
    _, data = tiny_data
    config = BenchConfig(shots=(1,), seeds=(0,), inits=("random",), baselines=(), train=QUICK)
    run_benchmark(tiny_backbone, data, config, tmp_path, log=lambda m: None)
    changed = BenchConfig(shots=(1,), seeds=(0,), inits=("random",), baselines=(),
                          train=TrainConfig(steps=3, batch_size=4, device="cpu"))
    with pytest.raises(ConfigError, match="k1-s0-vpt-deep-10-random.json"):
        run_benchmark(tiny_backbone, data, changed, tmp_path, log=lambda m: None)


def test_interrupted_benchmark_keeps_finished_cells(tiny_backbone, tiny_data, tmp_path):
    _, data = tiny_data
    cancel = threading.Event()
    messages = []

    def log(message):
        messages.append(message)
        if "accuracy" in message:       # the first cell has finished: ask to stop
            cancel.set()

    config = BenchConfig(shots=(1,), seeds=(0, 1), inits=("random",), baselines=("class_mean",), train=QUICK)
    with pytest.raises(BenchInterrupted):
        run_benchmark(tiny_backbone, data, config, tmp_path, log=log, cancel=cancel)
    assert [p.stem for p in (tmp_path / "cells").glob("*.json")] == ["k1-s0-class_mean"]
    assert not list((tmp_path / "cells").glob("*.claim"))


def test_a_cell_claimed_by_a_live_process_is_left_to_it(tmp_path):
    store = CellStore(tmp_path)
    assert store.claim("k1-s0-linear")
    assert not store.claim("k1-s0-linear")        # this (live) process holds it
    (tmp_path / "cells" / "k1-s0-class_mean.claim").write_text("%s 999999999\n" % __import__("socket").gethostname())
    assert store.claim("k1-s0-class_mean")        # a dead process's claim is taken over
    store.release("k1-s0-linear")
    assert store.claim("k1-s0-linear")


# -- report ------------------------------------------------------------------------------
def _cell(shots, seed, method, accuracy, balanced, init=None):
    cell = {"key": f"k{shots}-s{seed}-{method}", "shots": shots, "seed": seed, "method": method, "status": "done",
            "accuracy": accuracy, "balanced_accuracy": balanced, "wall_seconds": 1.0}
    if init:
        cell["prompt_config"] = {"init": init, "num_prompts": 10}
    return cell


def _synthetic_cells():
    rng = np.random.default_rng(0)
    cells = []
    for seed in range(3):
        for method in ("linear", "vpt-deep-10-random", "vpt-deep-10-mean_pool", "vpt-deep-auto-auto"):
            cells.append(_cell(5, seed, method, float(rng.uniform(0.3, 0.9)), float(rng.uniform(0.3, 0.9)),
                               init="kmeans" if "auto" in method else None))
    return cells


def test_summary_gives_mean_and_sample_std_per_shot_and_method():
    cells = _synthetic_cells()
    rows = {r.method: r for r in summarise(cells)}
    values = [c["accuracy"] for c in cells if c["method"] == "vpt-deep-10-random"]
    assert rows["vpt-deep-10-random"].accuracy_mean == pytest.approx(statistics.fmean(values))
    assert rows["vpt-deep-10-random"].accuracy_std == pytest.approx(statistics.stdev(values))
    assert rows["linear"].seeds == [0, 1, 2]
    only_two = {r.method: r for r in summarise(cells, seeds=[0, 1])}
    assert only_two["linear"].seeds == [0, 1]
    table = format_tables(summarise(cells))
    assert "linear probe" in table and "VPT mean_pool" in table and "Balanced accuracy" in table


def test_auto_comparison_is_paired_against_the_best_fixed_strategy():
    cells = _synthetic_cells()
    (comparison,) = auto_comparison(cells)
    fixed = ("vpt-deep-10-random", "vpt-deep-10-mean_pool")
    means = {m: statistics.fmean(c["accuracy"] for c in cells if c["method"] == m) for m in fixed}
    best = max(means, key=means.get)
    entry = comparison["accuracy"]
    assert entry["best_fixed"] == best
    auto = [c["accuracy"] for c in cells if c["method"] == "vpt-deep-auto-auto"]
    best_values = [c["accuracy"] for c in cells if c["method"] == best]
    verdict = entry["auto_minus_best_fixed"]
    differences = [a - b for a, b in zip(auto, best_values)]
    assert verdict["mean"] == pytest.approx(statistics.fmean(auto) - means[best])
    assert verdict["max"] == pytest.approx(max(differences))
    bound = statistics.fmean(differences) - 2.920 * statistics.stdev(differences) / 3 ** 0.5   # t(0.95, 2 df)
    assert verdict["lower_bound_95"] == pytest.approx(bound)
    assert verdict["verdict"] == ("met" if bound >= -0.01 else "not shown" if verdict["mean"] >= -0.01 else "missed")
    assert comparison["chosen"] == ["kmeans/P=10"] * 3


def test_a_verdict_needs_the_lower_bound_not_just_the_mean():
    from vpt_engine.bench.report import paired_verdict

    steady = paired_verdict([0.50, 0.52, 0.54], [0.45, 0.47, 0.49], margin=0.03)      # +5 points every seed
    assert steady["verdict"] == "met" and steady["lower_bound_95"] == pytest.approx(0.05)
    noisy = paired_verdict([0.60, 0.40, 0.55], [0.45, 0.47, 0.49], margin=0.03)       # +4.7 on average, spread 10
    assert noisy["verdict"] == "not shown" and noisy["mean"] > 0.03 > noisy["lower_bound_95"]
    behind = paired_verdict([0.44, 0.46, 0.48], [0.45, 0.47, 0.49], margin=0.0)
    assert behind["verdict"] == "missed"
    assert paired_verdict([0.9], [0.1], margin=0.0)["verdict"] == "not shown"       # one seed proves nothing


def test_auto_that_kept_the_default_in_every_seed_is_reported_as_no_result():
    cells = []
    for seed in range(3):
        cells.append(_cell(5, seed, "vpt-deep-10-mean_pool", 0.5 + seed / 10, 0.5))
        cells.append(_cell(5, seed, "vpt-deep-auto-auto", 0.5 + seed / 10, 0.5, init="mean_pool"))
    (comparison,) = auto_comparison(cells)
    assert comparison["accuracy"]["same_as_best_fixed"] is True
    assert "auto_minus_best_fixed" not in comparison["accuracy"]
    from vpt_engine.bench.report import format_auto_comparison

    assert "compares a method with itself: no result" in format_auto_comparison([comparison])


def test_report_writes_markdown_json_and_png(tmp_path):
    from PIL import Image

    cells = _synthetic_cells()
    paths = write_report(tmp_path, cells, {"title": "synthetic"})
    document = json.loads(paths["json"].read_text())
    assert len(document["rows"]) == 4 and document["auto_comparison"]
    assert "auto against the fixed strategies" in paths["markdown"].read_text()
    with Image.open(paths["png"]) as image:
        assert image.format == "PNG" and image.width > 500
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16)) > 5   # something was drawn


# -- command line ------------------------------------------------------------------------
def test_vpt_bench_command_writes_results_and_resumes(make_image_folder, tmp_path, capsys):
    from conftest import TINY_MODEL_KWARGS
    from vpt_core.cli import main

    data = make_image_folder({"ok": 4, "bad": 4})
    model_args = [f"--model-arg={k}={v}" for k, v in TINY_MODEL_KWARGS.items()]
    argv = ["bench", str(data), "--backbone", "vit_tiny_patch16_224", "--random-init", *model_args,
            "--shots", "1,2", "--seeds", "1", "--inits", "random", "--depth", "deep,shallow", "--baselines", "class_mean",
            "--steps", "1", "--batch-size", "4", "--device", "cpu", "--out", str(tmp_path / "b"), "--json"]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert {(r["shots"], r["method"]) for r in document["rows"]} == {
        (k, m) for k in (1, 2) for m in ("class_mean", "vpt-deep-10-random", "vpt-shallow-10-random")}
    assert (tmp_path / "b" / "results.png").is_file()
    assert main(argv[:-1] + ["--report-only"]) == 0


def test_vpt_bench_command_reports_bad_values(make_image_folder, tmp_path, capsys):
    from vpt_core.cli import main

    data = make_image_folder({"ok": 2, "bad": 2})
    code = main(["bench", str(data), "--backbone", "vit_tiny_patch16_224", "--random-init", "--shots", "1,x",
                 "--out", str(tmp_path)])
    error = capsys.readouterr().err
    assert code == 2 and "shots" in error and "'x'" in error


def test_full_fine_tuning_trains_a_copy_and_leaves_the_shared_backbone_frozen(tiny_backbone, tiny_data):
    from vpt_engine.bench.baselines import full_finetune
    from vpt_engine.bench.config import FullFinetuneConfig

    _, data = tiny_data
    before = {k: v.clone() for k, v in tiny_backbone.model.state_dict().items()}
    model = full_finetune(tiny_backbone, data, QUICK, FullFinetuneConfig())
    after = tiny_backbone.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(p.requires_grad for p in tiny_backbone.model.parameters())
    tuned = dict(model.vit.named_parameters())
    assert any(not torch.equal(tuned[k], before[k]) for k in tuned)   # the copy did learn
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 32, 32)).shape == (2, len(data.classes))


def test_balanced_accuracy_averages_recall_over_the_classes_present():
    from vpt_core.metrics import classification_report

    labels = np.array([0, 0, 0, 0, 2, 2])           # class 1 has no images: it does not count
    predictions = np.array([0, 0, 0, 1, 2, 0])
    assert balanced_accuracy(labels, predictions) == pytest.approx((3 / 4 + 1 / 2) / 2)
    report = classification_report(["a", "b", "c"], labels, np.eye(3)[predictions])
    assert report.balanced_accuracy == pytest.approx(balanced_accuracy(labels, predictions))
    assert report.per_class_accuracy["b"] is None
    assert balanced_accuracy(np.array([], int), np.array([], int)) == 0.0


def test_every_baseline_and_named_variants_get_a_label_and_a_place_in_the_report(tmp_path):
    from vpt_engine.bench.config import Baseline

    def cell(method, seed, value):
        return {"key": f"k5-s{seed}-{method}", "shots": 5, "seed": seed, "method": method, "status": "done",
                "accuracy": value, "balanced_accuracy": value, "wall_seconds": 1.0}

    methods = [b.value for b in Baseline] + ["vpt-default", "vpt-batch_32", "vpt-deep-10-random"]
    cells = [cell(m, s, 0.3 + 0.01 * i + 0.001 * s) for i, m in enumerate(methods) for s in range(2)]
    paths = write_report(tmp_path, cells, {"title": "t"})
    table = paths["markdown"].read_text()
    for label in ("linear probe, pooled + mean patch", "nearest class mean", "full fine-tuning", "VPT default",
                  "VPT batch_32", "VPT random"):
        assert label in table
    assert table.index("linear probe") < table.index("VPT default")
