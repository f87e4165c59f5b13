"""Automatic choice of initialisation and prompt count by cross-validation on the training images."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import vpt_engine.autoselect as autoselect
from vpt_core.errors import ConfigError
from vpt_core.splits import stratified_folds
from vpt_engine.autoselect import (SELECT_PHASE, AutoSelectConfig, Candidate, _Search, rank_candidates,
                                   select_prompt_config, train_auto)
from vpt_engine.dataset import load_images, scan_image_folder
from vpt_engine.events import Cancelled, Finished, PhaseStarted, Progress, RunProgress
from vpt_engine.prompts import PromptConfig, PromptInit
from vpt_engine.train_config import TrainConfig

QUICK = TrainConfig(steps=3, batch_size=4, device="cpu", seed=0)
SMALL = dict(candidate_inits=("random", "sample", "mean_pool"), candidate_prompts=(2, 4), folds=2,
             min_steps=1, time_budget_s=600.0)


@pytest.fixture
def train_set(make_image_folder, tiny_backbone):
    root = make_image_folder({"ok": 4, "scratch": 4, "dent": 4})
    return load_images(scan_image_folder(root), tiny_backbone.preprocess)


def run_selection(backbone, data, auto, cancel=None, prompt_config=PromptConfig(num_prompts=4)):
    events, generator = [], select_prompt_config(backbone, data, prompt_config, QUICK, auto,
                                                 cancel or threading.Event())
    try:
        while True:
            events.append(next(generator))
    except StopIteration as stop:
        return stop.value, events


# -- configuration -------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"choose_init": False, "choose_prompts": False}, "choose_init or choose_prompts"),
    ({"folds": 1}, "folds"), ({"keep_fraction": 1.0}, "keep_fraction"), ({"time_budget_s": 0}, "budget"),
    ({"candidate_prompts": (5, 5)}, "prompt counts"), ({"candidate_prompts": (-1,)}, "prompt counts"),
    ({"candidate_inits": ("warm",)}, "warm"), ({"steps_fraction": 0}, "steps_fraction"),
    ({"tie_margin": -0.1}, "tie_margin"), ({"budget_factor": 0}, "budget_factor"),
    ({"evidence_z": -1}, "evidence_z"),
])
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        AutoSelectConfig(**kwargs)


def test_config_round_trips_through_json():
    config = AutoSelectConfig(candidate_inits=("kmeans", "random"), candidate_prompts=(3, 7), time_budget_s=30.0)
    assert AutoSelectConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.candidate_inits == (PromptInit.KMEANS, PromptInit.RANDOM)


def test_candidate_steps_are_a_fraction_of_training_but_at_least_the_minimum():
    config = AutoSelectConfig(steps_fraction=0.25, min_steps=3)
    assert config.candidate_steps(40) == 10 and config.candidate_steps(4) == 3 and config.candidate_steps(2) == 2


# -- pure parts ------------------------------------------------------------------------
def test_folds_are_stratified_and_balanced():
    labels = np.repeat([0, 1, 2], [5, 7, 3])
    folds = stratified_folds(labels, 3, seed=1)
    for label in range(3):
        sizes = np.bincount(folds[labels == label], minlength=3)
        assert sizes.max() - sizes.min() <= 1
    total = np.bincount(folds, minlength=3)
    assert total.max() - total.min() <= 1


def test_ranking_prefers_lower_loss_among_tied_accuracies_and_accuracy_otherwise():
    scores = {"a": (0.80, 0.9), "b": (0.79, 0.5), "c": (0.70, 0.1), "d": (0.75, 0.2)}
    assert rank_candidates(scores, tie_margin=0.02) == ["b", "a", "d", "c"]
    assert rank_candidates(scores, tie_margin=0.0) == ["a", "b", "d", "c"]
    assert rank_candidates(scores, tie_margin=0.2)[0] == "c"


# -- the search -------------------------------------------------------------------------
def test_selection_uses_only_training_images_and_reports_its_reasons(tiny_backbone, train_set, monkeypatch):
    seen = []
    real_train = autoselect.train

    def recording_train(backbone, data, *args, **kwargs):
        seen.append(set(map(str, data.paths)))
        return real_train(backbone, data, *args, **kwargs)

    monkeypatch.setattr(autoselect, "train", recording_train)
    (config, report), events = run_selection(tiny_backbone, train_set, AutoSelectConfig(**SMALL))
    allowed = set(map(str, train_set.paths))
    assert seen and all(paths < allowed for paths in seen)      # strict subsets: a fold is always held out
    assert config.init.value in SMALL["candidate_inits"] and config.num_prompts in SMALL["candidate_prompts"]
    assert report["chosen"] == {"init": config.init.value, "num_prompts": config.num_prompts}
    assert [s["choose"] for s in report["stages"]] == ["init", "prompts"]
    init_stage = report["stages"][0]
    assert set(init_stage["scores"]) == {f"{i}/P=4" for i in SMALL["candidate_inits"]}
    assert sum(report["fold_sizes"]) == len(train_set) and report["budget_exhausted"] is False
    assert report["trainings"] == len(seen)
    assert config.init.value in report["reason"]
    json.dumps(report)                                           # stored in the task pack as JSON
    assert any(isinstance(e, PhaseStarted) and e.phase == SELECT_PHASE for e in events)
    assert any(isinstance(e, Progress) and e.phase == SELECT_PHASE for e in events)


def test_successive_halving_measures_fewer_candidates_on_later_folds(tiny_backbone, train_set):
    auto = AutoSelectConfig(**{**SMALL, "choose_prompts": False, "keep_fraction": 0.34})
    (_, report), _ = run_selection(tiny_backbone, train_set, auto)
    rounds = report["stages"][0]["rounds"]
    assert len(rounds[0]["measured"]) == 3 and len(rounds[0]["kept"]) == 2
    assert len(rounds[1]["measured"]) == 2
    assert report["trainings"] == 5


def test_exhausted_budget_decides_with_what_was_measured_and_says_so(tiny_backbone, train_set):
    auto = AutoSelectConfig(**{**SMALL, "time_budget_s": 1e-3})
    (config, report), _ = run_selection(tiny_backbone, train_set, auto)
    assert report["budget_exhausted"] is True and "budget" in report["reason"]
    assert report["trainings"] == 0
    assert (config.init, config.num_prompts) == (PromptConfig().init, 4)   # nothing measured: the starting point


def test_one_image_per_class_keeps_the_starting_configuration(tiny_backbone, make_image_folder):
    root = make_image_folder({"a": 1, "b": 1})
    data = load_images(scan_image_folder(root), tiny_backbone.preprocess)
    start = PromptConfig(num_prompts=3, init="kmeans")
    (config, report), _ = run_selection(tiny_backbone, data, AutoSelectConfig(**SMALL), prompt_config=start)
    assert config == start and "single training image" in report["reason"]


def test_cancelling_returns_none(tiny_backbone, train_set):
    cancel = threading.Event()
    cancel.set()
    result, _ = run_selection(tiny_backbone, train_set, AutoSelectConfig(**SMALL), cancel=cancel)
    assert result is None


def test_training_with_auto_trains_the_chosen_configuration(tiny_backbone, train_set):
    auto = AutoSelectConfig(**{**SMALL, "choose_init": False})
    events = list(train_auto(tiny_backbone, train_set, PromptConfig(num_prompts=4, init="sample"), QUICK, auto))
    result = next(e for e in events if isinstance(e, Finished)).result
    chosen = result.auto_report["chosen"]
    assert result.prompt_config.num_prompts == chosen["num_prompts"] and result.prompt_config.init.value == "sample"
    assert result.model.prompts.shape[1] == chosen["num_prompts"]
    assert not any(isinstance(e, Cancelled) for e in events)
    # One bar for search and training together, and the cross-validated score is the check accuracy.
    progress = [e.fraction for e in events if isinstance(e, RunProgress)]
    assert progress[-1] == pytest.approx(1.0) and all(a <= b + 1e-9 for a, b in zip(progress, progress[1:]))
    assert any(e.stage == "choose" for e in events if isinstance(e, RunProgress))
    assert result.metrics["check_method"] == "cross-validation"
    assert result.metrics["check_images"] == result.auto_report["chosen_score"]["images"]


def test_no_prompts_is_a_candidate_and_runs_no_training_steps(tiny_backbone, train_set, monkeypatch):
    steps = {}
    real_train = autoselect.train

    def counting_train(backbone, data, prompt_config, *args, **kwargs):
        for event in real_train(backbone, data, prompt_config, *args, **kwargs):
            if type(event).__name__ == "TrainStep":
                steps[prompt_config.num_prompts] = steps.get(prompt_config.num_prompts, 0) + 1
            yield event

    monkeypatch.setattr(autoselect, "train", counting_train)
    auto = AutoSelectConfig(**{**SMALL, "choose_init": False, "candidate_prompts": (0, 4)})
    (config, report), _ = run_selection(tiny_backbone, train_set, auto)
    scores = report["stages"][0]["scores"]
    assert set(scores) == {"no prompts", f"{PromptConfig().init.value}/P=4"}
    assert scores["no prompts"]["folds"] >= 1 and 0 not in steps and steps[4] > 0   # a probe: no steps at all
    assert config.num_prompts in (0, 4)


def test_vpt_train_auto_records_the_choice_in_the_task_pack(make_image_folder, tmp_path):
    from conftest import TINY_MODEL_KWARGS
    from vpt_core.cli import main
    from vpt_core.packformat import read_task_pack

    data = make_image_folder({"ok": 4, "bad": 4})
    pack = tmp_path / "auto.vptask"
    model_args = [f"--model-arg={k}={v}" for k, v in TINY_MODEL_KWARGS.items()]
    assert main(["train", str(data), "--backbone", "vit_tiny_patch16_224", "--random-init", *model_args,
                 "--init", "auto", "--prompts", "auto", "--steps", "3", "--batch-size", "4", "--device", "cpu",
                 "--auto-budget", "600", "--out", str(pack)]) == 0
    stored = read_task_pack(pack)
    selection = stored.extra["auto_selection"]
    assert selection["chosen"] == {"init": stored.prompt_config["init"],
                                   "num_prompts": stored.prompt_config["num_prompts"]}
    assert selection["budget_source"] == "set by the user" and selection["stages"]


def test_default_budget_follows_the_measured_training_speed(tiny_backbone, train_set):
    # Three-step trainings are mostly fixed costs (probe, checks), so the factor here is larger than the default.
    auto = AutoSelectConfig(**{**SMALL, "time_budget_s": None, "choose_prompts": False, "budget_factor": 20})
    (_, report), _ = run_selection(tiny_backbone, train_set, auto)
    assert report["budget_source"].startswith("default: 20 x")
    assert report["budget_s"] > 0 and report["budget_exhausted"] is False
    assert report["trainings"] >= len(SMALL["candidate_inits"])


def test_a_challenger_must_beat_the_start_by_more_than_the_noise_of_the_held_out_images(tiny_backbone, train_set):
    search = _Search(tiny_backbone, train_set, PromptConfig(num_prompts=4), QUICK, AutoSelectConfig(**SMALL),
                     threading.Event())
    start, strong, slight = (Candidate(PromptInit(i), 4) for i in ("mean_pool", "random", "sample"))
    search.scores = {start: {0: {"balanced_accuracy": 0.5}, 1: {"balanced_accuracy": 0.5}},
                     strong: {0: {"balanced_accuracy": 0.9}, 1: {"balanced_accuracy": 0.9}},
                     slight: {0: {"balanced_accuracy": 0.6}}}
    strong_evidence = search._evidence_against_start(strong, start)
    # 12 images over both folds; binomial standard error at 0.7: sqrt(0.21 / 12) = 0.132
    assert strong_evidence["images"] == 12 and strong_evidence["margin"] == pytest.approx(0.132, abs=1e-3)
    assert strong_evidence["clearly_better"] is True
    slight_evidence = search._evidence_against_start(slight, start)
    assert slight_evidence["folds"] == [0] and slight_evidence["images"] == 6      # compared where both were measured
    assert slight_evidence["gain"] == pytest.approx(0.1) and slight_evidence["clearly_better"] is False
    assert search._evidence_against_start(start, start) is None


def test_without_clear_evidence_the_starting_configuration_is_kept_and_said(tiny_backbone, train_set):
    cautious = AutoSelectConfig(**{**SMALL, "evidence_z": 5.0})     # 5 standard errors: nothing here is that clear
    (config, report), _ = run_selection(tiny_backbone, train_set, cautious)
    assert (config.init, config.num_prompts) == (PromptConfig().init, 4)
    kept = [s for s in report["stages"] if "evidence" in s]
    assert kept and all(not s["evidence"]["clearly_better"] for s in kept)
    assert "kept the starting" in report["reason"]

    eager = AutoSelectConfig(**{**SMALL, "evidence_z": 0.0, "tie_margin": 0.0})
    (_, report), _ = run_selection(tiny_backbone, train_set, eager)
    for stage in report["stages"]:
        evidence = stage.get("evidence")
        if evidence:   # with no margin, any gain switches
            assert evidence["clearly_better"] == (evidence["gain"] > 0)
            assert stage["chosen"] == (evidence["challenger"] if evidence["gain"] > 0 else evidence["start"])
