"""Training: events, determinism, cancellation, awkward datasets."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from vpt_engine import events as ev
from vpt_engine.augment import AugmentConfig
from vpt_engine.dataset import load_images, scan_image_folder
from vpt_core.errors import ConfigError, DatasetError
from vpt_engine.prompts import PromptConfig
from vpt_engine.training import TrainConfig, train

FAST = dict(epochs=3, batch_size=4)


def _data(backbone, folder):
    return load_images(scan_image_folder(folder), backbone.preprocess)


def _run(backbone, data, prompt=None, cancel=None, **train_kwargs):
    config = TrainConfig(**{**FAST, **train_kwargs})
    return list(train(backbone, data, prompt or PromptConfig(num_prompts=3), config, cancel=cancel))


def _finished(events):
    done = [e for e in events if isinstance(e, ev.Finished)]
    assert len(done) == 1, [type(e).__name__ for e in events]
    return done[0].result


def test_event_stream_reports_phases_steps_and_epochs(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 6, "b": 6}))
    events = _run(tiny_backbone, data)
    phases = [e.phase for e in events if isinstance(e, ev.PhaseStarted)]
    assert phases == ["prototypes", "train"]
    steps = [e for e in events if isinstance(e, ev.TrainStep)]
    assert [s.step for s in steps] == list(range(1, 3 * 3 + 1))  # 12 images / batch 4 = 3 steps x 3 epochs
    assert steps[-1].eta_seconds == pytest.approx(0.0, abs=1e-6)
    assert all(np.isfinite(s.loss) and s.learning_rate > 0 for s in steps)
    epochs = [e for e in events if isinstance(e, ev.EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    result = _finished(events)
    assert result.metrics["epochs_run"] == 3 and result.metrics["prototype_seconds"] >= 0


def test_training_learns_an_easy_task(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 8, "b": 8}))
    events = _run(tiny_backbone, data, epochs=12, augment=AugmentConfig(enabled=False),
                  prompt=PromptConfig(num_prompts=3, head_init="normal"))
    losses = [e.train_loss for e in events if isinstance(e, ev.EpochEnd)]
    assert losses[-1] < 0.5 * losses[0]
    assert _finished(events).metrics["train_accuracy"] == 1.0


def test_same_seed_same_result_other_seed_other_result(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 5, "b": 5}))
    first, again, other = (_finished(_run(tiny_backbone, data, seed=s)) for s in (7, 7, 8))
    assert torch.equal(first.model.prompts, again.model.prompts)
    assert torch.equal(first.model.head.weight, again.model.head.weight)
    assert [h["train_loss"] for h in first.history] == [h["train_loss"] for h in again.history]
    assert not torch.equal(first.model.prompts, other.model.prompts)


def test_backbone_weights_do_not_change(tiny_backbone, make_image_folder):
    from vpt_engine.backbone import weights_digest

    data = _data(tiny_backbone, make_image_folder({"a": 4, "b": 4}))
    _finished(_run(tiny_backbone, data))
    assert weights_digest(tiny_backbone.model) == tiny_backbone.fingerprint.weights_sha256


@pytest.mark.parametrize("cancel_after", [ev.PhaseStarted, ev.TrainStep])
def test_cancel_stops_without_finishing(tiny_backbone, make_image_folder, tmp_path, cancel_after):
    data = _data(tiny_backbone, make_image_folder({"a": 8, "b": 8}))
    cancel = threading.Event()
    seen = []
    for event in train(tiny_backbone, data, PromptConfig(num_prompts=3), TrainConfig(epochs=50, batch_size=4),
                       cancel=cancel):
        seen.append(event)
        if isinstance(event, cancel_after):
            cancel.set()
    assert isinstance(seen[-1], ev.Cancelled)
    assert not any(isinstance(e, ev.Finished) for e in seen)
    assert sum(isinstance(e, ev.TrainStep) for e in seen) <= 1


def test_one_image_per_class_trains_and_says_validation_is_impossible(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 1, "b": 1, "c": 1}))
    events = _run(tiny_backbone, data, val_fraction=0.3)
    notices = " ".join(e.message for e in events if isinstance(e, ev.Notice))
    assert "no validation split" in notices and "only one image" in notices
    result = _finished(events)
    assert result.metrics["val_accuracy"] is None and result.data_summary["train_images"] == 3


def test_validation_split_and_early_stopping(tiny_backbone, make_image_folder):
    data = _data(tiny_backbone, make_image_folder({"a": 10, "b": 10}))
    # A learning rate this small cannot improve validation by the minimum step.
    events = _run(tiny_backbone, data, epochs=40, val_fraction=0.3, early_stopping_patience=2,
                  learning_rate=1e-9)
    result = _finished(events)
    assert result.data_summary["val_images"] == 6
    assert all(e.val_accuracy is not None for e in events if isinstance(e, ev.EpochEnd))
    stopped = [e for e in events if isinstance(e, ev.Notice) and "early stopping" in e.message]
    assert stopped and result.metrics["epochs_run"] < 40


def test_corrupt_file_is_skipped_and_named(tiny_backbone, make_image_folder):
    folder = make_image_folder({"a": 3, "b": 3})
    (folder / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    data = _data(tiny_backbone, folder)
    assert len(data) == 6 and data.skipped[0][0].name == "broken.jpg"
    notices = [e.message for e in _run(tiny_backbone, data) if isinstance(e, ev.Notice)]
    assert any("broken.jpg" in n for n in notices)


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


@pytest.mark.parametrize("bad", [dict(epochs=0), dict(learning_rate=-1.0), dict(val_fraction=1.5),
                                 dict(precision="fp8")])
def test_invalid_training_settings_are_refused(bad):
    with pytest.raises(ConfigError):
        TrainConfig(**bad)


@pytest.mark.parametrize("bad", [dict(num_prompts=-1), dict(num_prompts=True), dict(init="magic"), dict(depth="medium"),
                                 dict(dropout=1.0)])
def test_invalid_prompt_settings_are_refused(bad):
    with pytest.raises(ConfigError):
        PromptConfig(**bad)
