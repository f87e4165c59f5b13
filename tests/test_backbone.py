"""Backbone building, weight loading as published, freezing and fingerprints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vpt_engine.backbone import BackboneConfig, assert_frozen, load_backbone, weights_digest
from vpt_core.errors import BackboneError, ConfigError, FrozenBackboneError
from vpt_engine.prompted_vit import PromptedViT
from vpt_engine.prompts import PromptConfig

from conftest import TINY_MODEL_KWARGS, tiny_backbone_config


def _source_state(seed=5):
    """A state dict of the tiny architecture with distinctive (non-default) weights."""
    return load_backbone(tiny_backbone_config(), seed=seed).model.state_dict()


def _load(path, **overrides):
    return load_backbone(BackboneConfig("vit_tiny_patch16_224", weights=str(path),
                                        model_kwargs={**TINY_MODEL_KWARGS, **overrides}))


def _with_prefix(state, prefix):
    return {prefix + k: v for k, v in state.items()}


PUBLISHED_LAYOUTS = {
    "plain": lambda s: s,
    "nested_model_mae": lambda s: {"model": s, "epoch": 799},
    "nested_state_dict": lambda s: {"state_dict": s, "optimizer": {"lr": 0.1}},
    "ddp_prefix": lambda s: _with_prefix(s, "module."),
    "moco_v3": lambda s: {"state_dict": {**_with_prefix(s, "module.base_encoder."),
                                         **_with_prefix({k: v + 1 for k, v in s.items()}, "module.momentum_encoder."),
                                         "module.predictor.0.weight": torch.zeros(4, 4)}},
    "with_classifier_head": lambda s: {**s, "head.weight": torch.zeros(1000, 48), "head.bias": torch.zeros(1000)},
    "fp16_no_head": lambda s: {k: v.half() for k, v in s.items()},
}


@pytest.mark.parametrize("layout", sorted(PUBLISHED_LAYOUTS))
@pytest.mark.parametrize("suffix", [".pth", ".bin"])
def test_published_checkpoint_layouts_load(tmp_path, layout, suffix):
    state = _source_state()
    path = tmp_path / f"weights{suffix}"
    torch.save(PUBLISHED_LAYOUTS[layout](state), path)
    backbone = _load(path)
    loaded = backbone.model.state_dict()
    for key, value in state.items():
        tolerance = 1e-3 if layout == "fp16_no_head" else 0
        assert torch.allclose(loaded[key], value, atol=tolerance), key
    report = "\n".join(backbone.report.lines())
    if layout == "moco_v3":
        assert "module.base_encoder." in report and "module.momentum_encoder" in report
    if layout == "with_classifier_head":
        assert "head.weight" in report
    if layout == "fp16_no_head":
        assert "float16" in report


def test_safetensors_weights_give_the_same_fingerprint(tmp_path):
    from safetensors.torch import save_file

    state = _source_state()
    torch.save(state, tmp_path / "w.pth")
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "w.safetensors"))
    from_pickle, from_safetensors = _load(tmp_path / "w.pth"), _load(tmp_path / "w.safetensors")
    assert from_pickle.fingerprint.weights_sha256 == from_safetensors.fingerprint.weights_sha256
    fingerprint = from_pickle.fingerprint
    assert fingerprint.timm_name == "vit_tiny_patch16_224" and fingerprint.timm_version
    assert len(fingerprint.weights_sha256) == 64


def test_weights_of_another_architecture_are_refused_naming_the_tensor(tmp_path):
    torch.save(_source_state(), tmp_path / "tiny.pth")
    with pytest.raises(BackboneError, match=r"tiny.pth does not fit.*shape"):
        _load(tmp_path / "tiny.pth", embed_dim=64, num_heads=4)


def test_incomplete_weights_are_refused(tmp_path):
    state = {k: v for k, v in _source_state().items() if not k.startswith("blocks.1.")}
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(BackboneError, match=r"missing .*blocks\.1\."):
        _load(tmp_path / "partial.pth")


@pytest.mark.parametrize("content,match", [(b"garbage", "cannot read weights"), (None, "not found")])
def test_unreadable_weights_file(tmp_path, content, match):
    path = tmp_path / "broken.pth"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BackboneError, match=match):
        _load(path)


def test_non_vit_and_unknown_names_are_refused():
    with pytest.raises(BackboneError, match="not a timm VisionTransformer"):
        load_backbone(BackboneConfig("resnet18", random_init=True))
    with pytest.raises(BackboneError, match="unknown timm model"):
        load_backbone(BackboneConfig("vit_does_not_exist", random_init=True))


def test_missing_weight_source_says_what_to_do():
    with pytest.raises(ConfigError, match="--weights FILE.*--pretrained"):
        BackboneConfig("vit_small_patch16_224")


def test_pretrained_download_failure_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    with pytest.raises(BackboneError, match="cannot fetch pretrained weights.*--weights") as caught:
        load_backbone(BackboneConfig("vit_tiny_patch16_224.augreg_in21k", pretrained=True,
                                     model_kwargs=TINY_MODEL_KWARGS))
    assert "\n" not in str(caught.value)


def test_pretrained_weights_in_the_hub_cache_load_offline(monkeypatch, tmp_path):
    from safetensors.torch import save_file

    snapshot = tmp_path / "models--timm--vit_tiny_patch16_224.augreg_in21k" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    state = _source_state(seed=9)
    save_file({k: v.contiguous() for k, v in state.items()}, str(snapshot / "model.safetensors"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backbone = load_backbone(BackboneConfig("vit_tiny_patch16_224.augreg_in21k", pretrained=True,
                                            model_kwargs=TINY_MODEL_KWARGS))
    assert torch.equal(backbone.model.state_dict()["blocks.1.attn.qkv.weight"], state["blocks.1.attn.qkv.weight"])


def test_backbone_is_frozen_and_stays_in_eval_mode(tiny_backbone):
    assert not any(p.requires_grad for p in tiny_backbone.model.parameters())
    model = PromptedViT(tiny_backbone, PromptConfig(num_prompts=2), 3)
    model.train()
    assert model.training and not any(m.training for m in tiny_backbone.model.modules())
    model.check_frozen()


def test_frozen_check_fails_loudly(tmp_path):
    backbone = load_backbone(tiny_backbone_config())
    model = PromptedViT(backbone, PromptConfig(num_prompts=2), 3)
    backbone.model.blocks[0].mlp.fc1.weight.requires_grad_(True)
    with pytest.raises(FrozenBackboneError, match="blocks.0.mlp.fc1.weight"):
        model.check_frozen()
    backbone.model.blocks[0].mlp.fc1.weight.requires_grad_(False)
    backbone.model.blocks[1].train()
    with pytest.raises(FrozenBackboneError, match="training mode"):
        assert_frozen(backbone.model, model)


def test_fingerprint_tracks_weights():
    a = load_backbone(tiny_backbone_config(), seed=0)
    b = load_backbone(tiny_backbone_config(), seed=1)
    assert a.fingerprint.weights_sha256 != b.fingerprint.weights_sha256
    assert weights_digest(a.model) == a.fingerprint.weights_sha256


@pytest.mark.parametrize("size", [(37, 80), (300, 120), (64, 64)])
def test_preprocessing_matches_timm_eval_transform(tiny_backbone, size):
    from vpt_engine import _timm_compat

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    ours = tiny_backbone.preprocess(rgb)
    theirs = _timm_compat.reference_eval_transform(tiny_backbone.model)(Image.fromarray(rgb)).numpy()
    assert ours.shape == theirs.shape == (3, 32, 32)
    assert np.abs(ours - theirs).max() < 1e-5


def test_real_fdsl_backbone_loads(fdsl_weights):
    backbone = load_backbone(BackboneConfig("vit_tiny_patch16_224", weights=str(fdsl_weights)))
    assert backbone.embed_dim == 192 and backbone.depth == 12
    assert backbone.preprocess.input_size == (3, 224, 224)
    assert any("float16" in line for line in backbone.report.lines())
    assert next(backbone.model.parameters()).dtype == torch.float32
