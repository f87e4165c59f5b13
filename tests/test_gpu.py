"""Training and prototypes on a CUDA GPU (mixed precision). Skipped where no GPU is present."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vpt_engine import events as ev
from vpt_engine.backbone import load_backbone
from vpt_engine.dataset import load_images, scan_image_folder
from vpt_engine.prompts import PromptConfig
from vpt_engine.training import TrainConfig, autocast_dtype, train

from conftest import tiny_backbone_config

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; none is present")]


@pytest.mark.parametrize("precision", ["auto", "fp16", "fp32"])
@pytest.mark.parametrize("init", ["kmeans", "mean_pool"])
def test_training_on_gpu_with_mixed_precision(make_image_folder, precision, init):
    backbone = load_backbone(tiny_backbone_config())  # its own copy: training moves it to the GPU
    data = load_images(scan_image_folder(make_image_folder({"a": 6, "b": 6})), backbone.preprocess)
    config = TrainConfig(steps=3, batch_size=4, device="cuda", precision=precision)
    events = list(train(backbone, data, PromptConfig(num_prompts=3, init=init), config))
    result = next(e.result for e in events if isinstance(e, ev.Finished))
    assert result.metrics["device"].startswith("cuda")
    expected = autocast_dtype(torch.device("cuda"), precision)
    assert result.metrics["precision"] == (str(expected).replace("torch.", "") if expected else "fp32")
    assert all(np.isfinite(e.loss) for e in events if isinstance(e, ev.TrainStep))
    assert result.model.prompts.device.type == "cuda" and result.model.prompts.dtype == torch.float32
