"""Image fit: the backbone's own centre crop, or the whole picture (stretched or padded), end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vpt_engine.backbone import BackboneConfig, load_backbone
from vpt_engine.dataset import load_images, scan_image_folder
from vpt_core.errors import ConfigError
from vpt_engine.events import Finished
from vpt_core.preprocess import PreprocessSpec
from vpt_engine.prompts import PromptConfig
from vpt_engine.taskpack import load_task, save_task
from vpt_engine.training import TrainConfig, train

from conftest import TINY_MODEL_KWARGS, tiny_backbone_config

SPEC = PreprocessSpec(input_size=(3, 32, 32), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), crop_pct=0.875)


def elongated_part_with_edge_defect() -> np.ndarray:
    """A dark 40x120 picture with a red mark at its far left edge: where centre crops cut."""
    image = np.full((40, 120, 3), 60, np.uint8)
    image[:, :8] = (255, 0, 0)
    return image


def red_pixels(rgb: np.ndarray) -> int:
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] < 60)).sum())


def test_crop_cuts_off_an_edge_defect_and_whole_picture_fits_keep_it():
    image = elongated_part_with_edge_defect()
    assert red_pixels(SPEC.resize_and_crop(image)) == 0
    whole, pad = SPEC.fitted("whole"), SPEC.fitted("pad")
    assert whole.resize_and_crop(image).shape == pad.resize_and_crop(image).shape == (32, 32, 3)
    # Stretched: the mark keeps its share of the width over the full height.
    assert red_pixels(whole.resize_and_crop(image)) == pytest.approx(32 * 32 * 8 / 120, rel=0.25)
    padded = pad.resize_and_crop(image)
    assert red_pixels(padded) > 0
    # Padded: the picture keeps its shape (about 11 of 32 rows), the rest is the mean colour (128).
    picture_rows = np.flatnonzero(np.abs(padded[:, 16].astype(int) - 128).max(axis=1) > 20)
    assert 9 <= len(picture_rows) <= 13


def test_fit_round_trips_through_the_stored_description():
    for fit in ("crop", "whole", "pad"):
        spec = SPEC.fitted(fit)
        assert spec.image_fit == fit
        assert PreprocessSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert SPEC.fitted("crop") == SPEC


def test_unknown_fit_is_refused_naming_the_value():
    with pytest.raises(ConfigError, match="'stretch'"):
        SPEC.fitted("stretch")
    with pytest.raises(ConfigError, match="'stretch'"):
        BackboneConfig("vit_tiny_patch16_224", random_init=True, image_fit="stretch")


def test_backbone_config_applies_and_records_the_fit():
    config = tiny_backbone_config()
    whole = BackboneConfig.from_dict({**config.to_dict(), "image_fit": "whole"})
    assert BackboneConfig.from_dict(whole.to_dict()) == whole
    assert load_backbone(whole).preprocess.image_fit == "whole"
    assert load_backbone(config).preprocess.image_fit == "crop"
    assert BackboneConfig.from_dict({k: v for k, v in config.to_dict().items() if k != "image_fit"}) == config


def test_a_task_keeps_its_fit_whatever_backbone_it_is_loaded_on(make_image_folder, tmp_path):
    folder = make_image_folder({"a": 3, "b": 3})
    backbone = load_backbone(BackboneConfig("vit_tiny_patch16_224", random_init=True, model_kwargs=TINY_MODEL_KWARGS,
                                            image_fit="pad"))
    data = load_images(scan_image_folder(folder), backbone.preprocess)
    result = next(e for e in train(backbone, data, PromptConfig(num_prompts=2),
                                   TrainConfig(steps=1, batch_size=4, device="cpu"))
                  if isinstance(e, Finished)).result
    path = save_task(result, backbone, tmp_path / "padded.vptask")

    rebuilt = load_task(path)
    assert rebuilt.backbone.preprocess.image_fit == "pad"
    assert rebuilt.backbone.config.image_fit == "pad"
    crop_backbone = load_backbone(tiny_backbone_config())
    shared = load_task(path, backbone=crop_backbone)
    assert shared.backbone.preprocess.image_fit == "pad"
    assert crop_backbone.preprocess.image_fit == "crop"   # the shared backbone itself is left as it was
