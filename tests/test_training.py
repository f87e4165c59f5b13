"""Training: the step budget, events, determinism, cancellation, heads, check pictures, awkward datasets."""

from __future__ import annotations

import math
import threading

import cv2
import numpy as np
import pytest
import torch

from vpt_core.errors import ConfigError, DatasetError
from vpt_engine import events as ev
from vpt_engine.augment import AugmentConfig
from vpt_engine.dataset import load_images, scan_image_folder
from vpt_engine.fitting import Schedule
from vpt_engine.prompts import PromptConfig
from vpt_engine.train_config import TrainConfig
from vpt_engine.training import train

FAST = dict(steps=6, batch_size=4)


def _data(backbone, folder):
    return load_images(scan_image_folder(folder), backbone.preprocess)


def _run(backbone, data, prompt=None, cancel=None, **train_kwargs):
    config = TrainConfig(**{**FAST, **train_kwargs})
    return list(train(backbone, data, prompt or PromptConfig(num_prompts=3), config, cancel=cancel))


def _finished(events):
    done = [e for e in events if isinstance(e, ev.Finished)]
    assert len(done) == 1, [type(e).__name__ for e in events]
    return done[0].result


# -- the budget ---------------------------------------------------------------------------------
@pytest.mark.parametrize("images, expected", [(20, 180), (35, 103), (60, 60), (70, 60), (300, 235),
                                              (10_000, 3000)])
def test_the_default_budget_has_floors_in_steps_and_picture_passes_and_a_ceiling(images, expected):
    config = TrainConfig()
    assert config.batch_for(images) == min(images, 64)
    assert config.planned_steps(images) == expected


def test_steps_override_the_budget_and_epochs_mean_looks_per_picture():
    assert TrainConfig(steps=7).planned_steps(500) == 7
    epochs = TrainConfig(passes_per_image=3, min_steps=1, min_image_passes=0, batch_size=4)
    assert epochs.planned_steps(10) == math.ceil(3 * 10 / 4)


def test_every_step_sees_every_training_picture_up_to_the_cap(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 5, "b": 5}))
    events = _run(tiny_backbone, data, batch_size=64, steps=3)
    result = _finished(events)
    assert result.metrics["steps"] == 3 and result.metrics["image_passes"] == 3 * 10


def test_warmup_then_cosine_schedule_reaches_its_floor():
    schedule = Schedule(steps=10, kind="cosine", warmup_fraction=0.2, min_ratio=0.1)
    factors = [schedule.factor(step) for step in range(10)]
    assert factors[:2] == [0.5, 1.0]                                      # linear warm-up over 2 steps
    assert all(a >= b for a, b in zip(factors[1:], factors[2:]))          # then never rises
    assert factors[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 7 / 8)))
    assert Schedule(steps=10).factor(9) == 1.0                            # constant


# -- events ---------------------------------------------------------------------------------------
def test_event_stream_reports_phases_steps_and_one_progress_for_the_whole_run(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 6, "b": 6}))
    events = _run(tiny_backbone, data)
    phases = [e.phase for e in events if isinstance(e, ev.PhaseStarted)]
    assert phases == ["prototypes", "train", "eval"]
    steps = [e for e in events if isinstance(e, ev.TrainStep)]
    assert [s.step for s in steps] == list(range(1, 7))
    assert all(np.isfinite(s.loss) and s.learning_rate > 0 for s in steps)
    progress = [e.fraction for e in events if isinstance(e, ev.RunProgress)]
    assert progress[-1] == pytest.approx(1.0) and all(a <= b for a, b in zip(progress, progress[1:]))
    result = _finished(events)
    assert result.metrics["start_seconds"] >= 0 and result.metrics["total_seconds"] >= result.metrics["train_seconds"]


def test_training_fits_its_own_pictures(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 8, "b": 8}))
    events = _run(tiny_backbone, data, steps=40, augment=AugmentConfig(enabled=False), refit_head=False,
                  prompt=PromptConfig(num_prompts=3, head_init="normal"))
    losses = [e.loss for e in events if isinstance(e, ev.TrainStep)]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert _finished(events).metrics["train_accuracy"] == 1.0


def test_same_seed_same_result_other_seed_other_result(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 5, "b": 5}))
    first, again, other = (_finished(_run(tiny_backbone, data, seed=s)) for s in (7, 7, 8))
    assert torch.equal(first.model.prompts, again.model.prompts)
    assert torch.equal(first.model.head.weight, again.model.head.weight)
    assert [h["loss"] for h in first.history] == [h["loss"] for h in again.history]
    assert not torch.equal(first.model.prompts, other.model.prompts)


def test_backbone_weights_do_not_change(tiny_backbone, make_image_folder):
    from vpt_engine.backbone import weights_digest

    data = _data(tiny_backbone, make_image_folder({"a": 4, "b": 4}))
    _finished(_run(tiny_backbone, data))
    assert weights_digest(tiny_backbone.model) == tiny_backbone.fingerprint.weights_sha256


@pytest.mark.parametrize("cancel_after", [ev.PhaseStarted, ev.TrainStep])
def test_cancel_stops_without_finishing(tiny_backbone, make_image_folder, cancel_after):
    data = _data(tiny_backbone, make_image_folder({"a": 8, "b": 8}))
    cancel = threading.Event()
    seen = []
    for event in train(tiny_backbone, data, PromptConfig(num_prompts=3), TrainConfig(steps=50, batch_size=4),
                       cancel=cancel):
        seen.append(event)
        if isinstance(event, cancel_after):
            cancel.set()
    assert isinstance(seen[-1], ev.Cancelled)
    assert not any(isinstance(e, ev.Finished) for e in seen)
    assert sum(isinstance(e, ev.TrainStep) for e in seen) <= 1


# -- heads ------------------------------------------------------------------------------------------
def test_probe_head_starts_from_a_linear_probe_on_the_starting_features(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 6, "b": 6}))
    result = _finished(_run(tiny_backbone, data, steps=1, learning_rate=1e-9, refit_head=False,
                            prompt=PromptConfig(num_prompts=3, head_init="probe", init="random")))
    # After one step at a negligible learning rate the head is still the probe, which separates these pictures.
    assert result.metrics["train_accuracy"] == 1.0


def test_the_head_is_re_solved_for_the_trained_prompts_unless_asked_not_to(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 6, "b": 6, "c": 6}))
    # One step at a negligible learning rate: the optimizer's head is still its random start.
    untouched = _finished(_run(tiny_backbone, data, steps=1, learning_rate=1e-9, refit_head=False,
                               prompt=PromptConfig(num_prompts=3, head_init="normal")))
    refit = _finished(_run(tiny_backbone, data, steps=1, learning_rate=1e-9,
                           prompt=PromptConfig(num_prompts=3, head_init="normal")))
    assert torch.equal(untouched.model.prompts, refit.model.prompts)
    assert untouched.metrics["train_accuracy"] < 1.0 and "head_refit_penalty" not in untouched.metrics
    assert refit.metrics["train_accuracy"] == 1.0 and refit.metrics["head_refit_penalty"] > 0
    assert not torch.allclose(untouched.model.head.weight, refit.model.head.weight)


def test_the_re_solved_head_fits_its_pictures_when_a_penalty_within_the_noise_allows_it(tiny_backbone, tmp_path):
    rng = np.random.default_rng(3)   # pictures of pure noise: nothing to learn, so cross-validation favours a
    for name in "abc":               # strong penalty, which then gets many training pictures wrong
        (tmp_path / name).mkdir()
        for index in range(8):
            cv2.imwrite(str(tmp_path / name / f"{index}.png"), (rng.random((32, 32, 3)) * 255).astype(np.uint8))
    data = _data(tiny_backbone, tmp_path)
    pooled = PromptConfig(num_prompts=3, head_features="pooled")   # 48 numbers: the noise is not separable there
    cross_validated = _finished(_run(tiny_backbone, data, pooled, steps=2, batch_size=8, fit_target=0.0))
    fitted = _finished(_run(tiny_backbone, data, pooled, steps=2, batch_size=8))
    assert cross_validated.metrics["train_accuracy"] < 0.95
    assert fitted.metrics["train_accuracy"] >= 0.95
    assert fitted.metrics["head_refit_penalty"] < cross_validated.metrics["head_refit_penalty"]


def test_a_task_without_prompts_is_a_linear_probe_and_runs_no_steps(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 6, "b": 6, "c": 6}))
    events = _run(tiny_backbone, data, prompt=PromptConfig(num_prompts=0))
    result = _finished(events)
    assert not any(isinstance(e, ev.TrainStep) for e in events)
    assert result.model.prompts.shape == (tiny_backbone.depth, 0, tiny_backbone.embed_dim)
    assert result.metrics["steps"] == 0 and result.metrics["train_accuracy"] == 1.0


def test_pooled_and_mean_head_reads_twice_the_width(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 4, "b": 4}))
    result = _finished(_run(tiny_backbone, data, prompt=PromptConfig(num_prompts=3, head_features="pooled+mean")))
    assert result.model.head.weight.shape == (2, 2 * tiny_backbone.embed_dim)


def test_class_balanced_loss_weights_follow_inverse_frequency(tiny_backbone, make_image_folder, monkeypatch):
    import vpt_engine.training as training

    seen = {}
    original = training.nn.CrossEntropyLoss

    def recording(weight=None, **kwargs):
        seen["weight"] = weight
        return original(weight=weight, **kwargs)

    monkeypatch.setattr(training.nn, "CrossEntropyLoss", recording)
    data = _data(tiny_backbone, make_image_folder({"a": 2, "b": 6}))
    _finished(_run(tiny_backbone, data, steps=1))
    assert seen["weight"].tolist() == pytest.approx([8 / (2 * 2), 8 / (2 * 6)])
    _finished(_run(tiny_backbone, data, steps=1, balance_classes=False))
    assert seen["weight"] is None


def test_attention_pooled_backbones_train_too(make_image_folder):
    from vpt_engine.backbone import BackboneConfig, load_backbone

    backbone = load_backbone(BackboneConfig("vit_tiny_patch16_224", random_init=True, model_kwargs={
        "img_size": 32, "patch_size": 8, "embed_dim": 48, "depth": 2, "num_heads": 2, "global_pool": "map"}))
    assert backbone.architecture.global_pool == "map"
    data = _data(backbone, make_image_folder({"a": 4, "b": 4}))
    result = _finished(_run(backbone, data, prompt=PromptConfig(num_prompts=2, head_features="pooled+mean")))
    assert result.model.head.weight.shape == (2, 96) and np.isfinite(result.metrics["train_accuracy"])


# -- check pictures and odd data ------------------------------------------------------------------
def test_check_pictures_are_set_aside_and_measure_the_task(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 10, "b": 10}))
    result = _finished(_run(tiny_backbone, data, check_fraction=0.3))
    assert result.data_summary["train_images"] == 14 and result.data_summary["check_images"] == 6
    assert result.metrics["check_images"] == 6 and result.metrics["check_method"] == "held-out"
    assert 0.0 <= result.metrics["check_accuracy"] <= 1.0


def test_one_image_per_class_trains_and_says_checking_is_impossible(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 1, "b": 1, "c": 1}))
    events = _run(tiny_backbone, data, check_fraction=0.3)
    notices = {e.key: e.message for e in events if isinstance(e, ev.Notice)}
    assert "no check pictures" in notices["no_validation_split"] and "only one image" in notices["single_image_class"]
    result = _finished(events)
    assert "check_accuracy" not in result.metrics and result.data_summary["train_images"] == 3
    assert result.rejection["min_confidence"] == 0.0   # nothing to calibrate on


def test_corrupt_file_is_skipped_and_named(tiny_backbone, make_image_folder):
    folder = make_image_folder({"a": 3, "b": 3})
    (folder / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    data = _data(tiny_backbone, folder)
    assert len(data) == 6 and data.skipped[0][0].name == "broken.jpg"
    notices = [e for e in _run(tiny_backbone, data) if isinstance(e, ev.Notice)]
    assert any("broken.jpg" in n.message and n.key == "skipped_file" for n in notices)


def test_class_left_without_images_is_an_error(tiny_backbone, make_image_folder):
    folder = make_image_folder({"a": 3, "b": 0})
    with pytest.raises(DatasetError, match="no usable images in class folder\\(s\\) b"):
        _data(tiny_backbone, folder)
    (folder / "b" / "x.png").write_bytes(b"corrupt")
    with pytest.raises(DatasetError, match="b.*1 unreadable"):
        _data(tiny_backbone, folder)


def test_single_class_is_an_error(tmp_path, make_image_folder):
    with pytest.raises(DatasetError, match="at least two class folders"):
        scan_image_folder(make_image_folder({"only": 3}))


@pytest.mark.parametrize("bad", [dict(steps=0), dict(steps=2.5), dict(learning_rate=-1.0), dict(check_fraction=1.5),
                                 dict(precision="fp8"), dict(seed=-1), dict(schedule="linear"),
                                 dict(min_steps=10, max_steps=5), dict(passes_per_image=0), dict(refit_head="yes"),
                                 dict(fit_target=1.5), dict(fit_target=True)])
def test_invalid_training_settings_are_refused(bad):
    with pytest.raises(ConfigError):
        TrainConfig(**bad)


@pytest.mark.parametrize("bad", [dict(num_prompts=-1), dict(num_prompts=True), dict(init="magic"),
                                 dict(depth="medium"), dict(dropout=1.0), dict(head_features="cls")])
def test_invalid_prompt_settings_are_refused(bad):
    with pytest.raises(ConfigError):
        PromptConfig(**bad)


def test_a_class_folder_linked_into_the_data_folder_is_refused_and_broken_links_are_named(tmp_path,
                                                                                           make_image_folder,
                                                                                           tiny_backbone):
    root = make_image_folder({"ok": 2, "bad": 2})
    (root / "ok" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    index = scan_image_folder(root)
    assert len(index.files) == 4 and "gone.png: a broken link" in index.skipped[0]
    data = load_images(index, tiny_backbone.preprocess)
    assert any("gone.png" in reason for _, reason in data.skipped)
    (root / "zz_all").symlink_to(root, target_is_directory=True)
    with pytest.raises(DatasetError, match="zz_all: the class folder is a link to .*inside \\(or above\\)"):
        scan_image_folder(root)
