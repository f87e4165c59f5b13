"""Task packs: round trip, size, refusal of mismatched backbones, damaged files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vpt_engine import events as ev
from vpt_engine.backbone import load_backbone
from vpt_engine.dataset import load_images, scan_image_folder
from vpt_core.errors import IncompatibleTaskError, TaskPackError
from vpt_core.packformat import BackboneFingerprint, TaskPackData, read_task_pack
from vpt_engine.prompts import PromptConfig
from vpt_engine.taskpack import load_task, save_task
from vpt_engine.training import TrainConfig, train

from conftest import tiny_backbone_config


@pytest.fixture
def trained(tiny_backbone, make_image_folder):
    data = load_images(scan_image_folder(make_image_folder({"ok": 4, "scratch": 4, "dent": 4})),
                       tiny_backbone.preprocess)
    events = list(train(tiny_backbone, data, PromptConfig(num_prompts=3), TrainConfig(steps=2, batch_size=4)))
    return next(e.result for e in events if isinstance(e, ev.Finished))


def test_round_trip_gives_identical_logits(tiny_backbone, trained, tmp_path):
    path = save_task(trained, tiny_backbone, tmp_path / "inspect.vptask")
    task = load_task(path, backbone=tiny_backbone)
    images = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(task.model(images), trained.model(images))
    pack = read_task_pack(path)
    assert pack.classes == ["dent", "ok", "scratch"]
    assert pack.backbone.weights_sha256 == tiny_backbone.fingerprint.weights_sha256
    assert pack.training["steps"] == 2 and pack.metrics["steps"] == 2 and len(pack.training["history"]) == 2
    assert pack.prompt_config["num_prompts"] == 3 and pack.preprocess["input_size"] == [3, 32, 32]
    assert pack.library_version and pack.created


def test_pack_rebuilds_its_random_backbone_from_the_description(tiny_backbone, trained, tmp_path):
    path = save_task(trained, tiny_backbone, tmp_path / "t.vptask")
    task = load_task(path)  # no backbone given: rebuilt from the recorded config
    assert task.backbone.fingerprint.weights_sha256 == tiny_backbone.fingerprint.weights_sha256


def test_vit_base_deep_10_prompts_pack_is_under_one_megabyte(tmp_path):
    fingerprint = BackboneFingerprint("vit_base_patch16_224", {}, "0" * 64, 768, 12, 1, 196, (16, 16), "token")
    head_width = PromptConfig().head_features.width(768, 12)
    pack = TaskPackData(prompts=np.zeros((12, 10, 768)), head_weight=np.zeros((10, head_width)),
                        head_bias=np.zeros(10), classes=[f"class{i}" for i in range(10)], backbone=fingerprint,
                        prompt_config=PromptConfig().to_dict(), preprocess={"input_size": [3, 224, 224]},
                        training={"history": [{"epoch": e, "train_loss": 0.1} for e in range(100)]})
    path = pack.save(tmp_path / "vitb.vptask")
    assert path.stat().st_size < 1_000_000


@pytest.mark.parametrize("head_features, width", [("block_max", 2 * 48), ("pooled", 48), ("pooled+mean", 2 * 48)])
def test_every_head_kind_round_trips_and_reads_its_recorded_features(tiny_backbone, make_image_folder, tmp_path,
                                                                     head_features, width):
    data = load_images(scan_image_folder(make_image_folder({"ok": 3, "dent": 3})), tiny_backbone.preprocess)
    events = list(train(tiny_backbone, data, PromptConfig(num_prompts=2, head_features=head_features),
                        TrainConfig(steps=1, batch_size=6)))
    result = next(e.result for e in events if isinstance(e, ev.Finished))
    pack = read_task_pack(save_task(result, tiny_backbone, tmp_path / "t.vptask"))
    assert pack.head_features == head_features and pack.head_weight.shape == (2, width)   # tiny: 2 blocks of 48
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(load_task(tmp_path / "t.vptask", backbone=tiny_backbone).model(images),
                           result.model(images))


def test_a_pack_from_before_head_features_reads_the_pooled_token_and_a_wrong_width_is_named(tiny_backbone):
    common = dict(prompts=np.zeros((2, 1, 48)), head_bias=np.zeros(2), classes=["a", "b"],
                  backbone=tiny_backbone.fingerprint, preprocess={"input_size": [3, 32, 32]})
    old = TaskPackData(head_weight=np.zeros((2, 48)), prompt_config={"num_prompts": 1, "depth": "deep"}, **common)
    assert old.head_features == "pooled" and PromptConfig.from_dict(old.prompt_config).head_features.value == "pooled"
    with pytest.raises(TaskPackError, match="reading 'block_max' features of width 96"):
        TaskPackData(head_weight=np.zeros((2, 48)), prompt_config={"num_prompts": 1, "head_features": "block_max"},
                     **common)
    with pytest.raises(TaskPackError, match="unknown head features 'patch_max'.*newer version"):
        TaskPackData(head_weight=np.zeros((2, 48)), prompt_config={"head_features": "patch_max"}, **common)


def test_pack_for_other_weights_is_refused_saying_what_differs(tiny_backbone, trained, tmp_path):
    path = save_task(trained, tiny_backbone, tmp_path / "t.vptask")
    other_weights = load_backbone(tiny_backbone_config(), seed=123)
    with pytest.raises(IncompatibleTaskError, match="weights differ"):
        load_task(path, backbone=other_weights)


def test_pack_for_other_architecture_is_refused(tiny_backbone, trained, tmp_path):
    path = save_task(trained, tiny_backbone, tmp_path / "t.vptask")
    wider = load_backbone(tiny_backbone_config(embed_dim=96, num_heads=3))
    with pytest.raises(IncompatibleTaskError, match="embed_dim: 48 vs 96"):
        load_task(path, backbone=wider)


def test_pack_with_another_prompt_shape_is_refused(tiny_backbone, trained, tmp_path):
    path = save_task(trained, tiny_backbone, tmp_path / "t.vptask")
    pack = read_task_pack(path)
    with pytest.raises(IncompatibleTaskError, match="prompt shape"):
        pack.check_compatible(tiny_backbone.fingerprint, prompt_shape=(2, 10, 48))
    pack.prompt_config["num_prompts"] = 5  # description and tensor disagree
    pack.save(tmp_path / "edited.vptask")
    with pytest.raises(IncompatibleTaskError, match="does not match its configuration"):
        load_task(tmp_path / "edited.vptask", backbone=tiny_backbone)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "not_a_pack", "future_format"])
def test_damaged_packs_give_a_clear_error(tiny_backbone, trained, tmp_path, damage):
    from safetensors.numpy import save_file

    path = save_task(trained, tiny_backbone, tmp_path / "t.vptask")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 64)
    elif damage == "not_a_pack":
        save_file({"x": np.zeros(3, np.float32)}, str(path))
    else:
        pack = read_task_pack(path)
        metadata = pack.metadata()
        metadata["format_version"] = 99
        tensors = {"prompts": pack.prompts, "head.weight": pack.head_weight, "head.bias": pack.head_bias}
        save_file(tensors, str(path), metadata={"vptask": json.dumps(metadata)})
    with pytest.raises(TaskPackError, match="t.vptask"):
        read_task_pack(path)


def test_failed_save_leaves_the_previous_pack_intact(tiny_backbone, trained, tmp_path, monkeypatch):
    import errno
    import os

    path = save_task(trained, tiny_backbone, tmp_path / "t.vptask")
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    from vpt_core.errors import DiskWriteError

    with pytest.raises(DiskWriteError, match="t.vptask: the disk is full"):
        save_task(trained, tiny_backbone, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.glob("*t.vptask*")] == ["t.vptask"]  # no temporary file left behind


def test_feature_standardisation_is_folded_into_the_saved_head(tiny_backbone, make_image_folder, tmp_path):
    data = load_images(scan_image_folder(make_image_folder({"ok": 4, "bad": 4})), tiny_backbone.preprocess)
    config = TrainConfig(steps=2, batch_size=4, standardize_features=True)
    result = next(e.result for e in train(tiny_backbone, data, PromptConfig(num_prompts=3), config)
                  if isinstance(e, ev.Finished))
    assert not torch.all(result.model.feature_scale == 1)  # standardisation was really in use
    task = load_task(save_task(result, tiny_backbone, tmp_path / "std.vptask"), backbone=tiny_backbone)
    assert torch.all(task.model.feature_scale == 1) and torch.all(task.model.feature_shift == 0)
    images = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(task.model(images), result.model(images), atol=1e-5)


def test_a_pack_of_the_embedded_model_finds_it_by_key_wherever_the_package_is(tiny_backbone, trained, tmp_path):
    import dataclasses

    from vpt_engine.embedded import DEFAULT_MODEL
    from vpt_engine.taskpack import backbone_config_for, pack_from_result

    embedded = dataclasses.replace(tiny_backbone, config=dataclasses.replace(
        tiny_backbone.config, random_init=False, weights=str(DEFAULT_MODEL.path)))
    pack = pack_from_result(trained, embedded)
    assert pack.backbone.weights_source == f"embedded:{DEFAULT_MODEL.key}"   # no machine-specific path
    assert backbone_config_for(pack).weights == str(DEFAULT_MODEL.path)
