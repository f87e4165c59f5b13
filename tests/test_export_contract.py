"""The input/output contract, runtime input checks, TensorRT profiles and trtexec commands (no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from vpt_core.contract import BundleContract, task_feed
from vpt_core.errors import BundleError, BundleInputError, VptError
from export.runtime.trt_profiles import (ShapeProfile, format_command, ort_tensorrt_options, shape_spec,
                                         trtexec_command, trtexec_precision_flags)

CONTRACT = BundleContract.for_task((3, 224, 224), (12, 10, 384), num_patches=196, num_prefix_tokens=1)


def feed(batch=2, classes=3, contract=CONTRACT):
    rng = np.random.default_rng(0)
    return {
        "images": rng.normal(size=contract.concrete_shape("images", batch=batch)).astype(np.float32),
        "prompts": rng.normal(size=contract.prompt_shape).astype(np.float32),
        "head_weight": rng.normal(size=(classes, contract.embed_dim)).astype(np.float32),
        "head_bias": np.zeros(classes, np.float32),
    }


def test_tables_resolve_to_the_documented_shapes():
    assert CONTRACT.input_names == ["images", "prompts", "head_weight", "head_bias"]
    assert CONTRACT.output_names == ["logits", "features"]
    assert CONTRACT.symbolic_shape("images") == ("batch", 3, 224, 224)
    assert CONTRACT.symbolic_shape("prompts") == (12, 10, 384)
    assert CONTRACT.symbolic_shape("head_weight") == ("classes", 384)
    assert CONTRACT.symbolic_shape("logits") == ("batch", "classes")
    assert CONTRACT.symbolic_shape("features") == ("batch", 384)
    assert CONTRACT.concrete_shape("head_bias", classes=5) == (5,)
    assert CONTRACT.dynamic_axes() == {"images": {0: "batch"}, "head_weight": {0: "classes"},
                                       "head_bias": {0: "classes"}, "logits": {0: "batch", 1: "classes"},
                                       "features": {0: "batch"}}


def test_contract_round_trips_through_the_manifest_form():
    document = CONTRACT.to_dict()
    assert [entry["shape"] for entry in document["inputs"]][0] == ["batch", 3, 224, 224]
    assert BundleContract.from_dict(document) == CONTRACT


def test_contract_from_another_version_is_refused():
    document = CONTRACT.to_dict()
    document["inputs"][0]["name"] = "pixel_values"
    with pytest.raises(BundleError, match="re-export"):
        BundleContract.from_dict(document)


def test_contract_needs_positive_sizes():
    with pytest.raises(BundleError, match="embed_dim"):
        BundleContract.for_task((3, 224, 224), (12, 10, 0))


def test_a_correct_feed_reports_its_dynamic_sizes():
    assert CONTRACT.check_feed(feed(batch=4, classes=7)) == {"batch": 4, "classes": 7}


@pytest.mark.parametrize("change, message", [
    (lambda f: f.pop("head_bias"), "missing \\['head_bias'\\]"),
    (lambda f: f.update(extra=np.zeros(1, np.float32)), "unexpected \\['extra'\\]"),
    (lambda f: f.update(images=f["images"].astype(np.float64)), "'images' must be float32"),
    (lambda f: f.update(prompts=np.zeros((12, 5, 384), np.float32)), "'prompts' must have shape \\[12, 10, 384\\]"),
    (lambda f: f.update(images=np.zeros((2, 224, 224), np.float32)), "'images' must have shape"),
    (lambda f: f.update(head_bias=np.zeros(4, np.float32)), "classes differs between inputs: 3 and 4"),
    (lambda f: f.update(head_weight=np.zeros((1, 384), np.float32), head_bias=np.zeros(1, np.float32)),
     "classes is 1, but this runner accepts at least 2"),
    (lambda f: f.update(images=np.zeros((0, 3, 224, 224), np.float32)), "batch is 0"),
    (lambda f: f.update(prompts=[[0.0]]), "'prompts' must be a numpy array"),
])
def test_a_broken_feed_is_refused_naming_the_tensor(change, message):
    bad = feed()
    change(bad)
    with pytest.raises(BundleInputError, match=message):
        CONTRACT.check_feed(bad)


def test_limits_narrow_the_dynamic_ranges():
    with pytest.raises(BundleInputError, match="batch is 9, but this runner accepts 1..8"):
        CONTRACT.check_feed(feed(batch=9), limits={"batch": (1, 8)})


def test_task_feed_is_read_only_and_contiguous():
    tensors = task_feed(np.ones((12, 10, 384)), np.ones((3, 384)), np.zeros(3))
    assert all(not array.flags.writeable and array.flags.c_contiguous and array.dtype == np.float32
               for array in tensors.values())
    CONTRACT.check_feed({"images": feed()["images"], **tensors})


def test_profile_shapes_follow_the_contract():
    profile = ShapeProfile.from_contract(CONTRACT, max_batch=16, max_classes=32, opt_batch=4, opt_classes=6)
    shapes = profile.input_shapes()
    assert shapes["images"] == ((1, 3, 224, 224), (4, 3, 224, 224), (16, 3, 224, 224))
    assert shapes["prompts"] == ((12, 10, 384),) * 3
    assert shapes["head_weight"] == ((2, 384), (6, 384), (32, 384))
    assert shapes["head_bias"] == ((2,), (6,), (32,))
    assert profile.limits() == {"batch": (1, 16), "classes": (2, 32)}
    assert profile.max_shape("logits") == (16, 32)
    assert ShapeProfile.from_dict(CONTRACT, profile.to_dict()) == profile


def test_profile_refuses_impossible_ranges():
    with pytest.raises(VptError, match="--max-classes must be at least 2"):
        ShapeProfile.from_contract(CONTRACT, max_classes=1)
    with pytest.raises(VptError, match="--max-batch"):
        ShapeProfile.from_contract(CONTRACT, max_batch=0)


def test_trtexec_command_has_shapes_for_every_input_and_fp32_layers():
    profile = ShapeProfile.from_contract(CONTRACT, max_batch=8, max_classes=64)
    command = trtexec_command("backbone.onnx", "engines/b.engine", profile, "fp16",
                              ["node_layer_norm", "node_Softmax_7"], "engines/timing.cache")
    assert command[:3] == ["trtexec", "--onnx=backbone.onnx", "--saveEngine=engines/b.engine"]
    assert ("--minShapes=images:1x3x224x224,prompts:12x10x384,head_weight:2x384,head_bias:2") in command
    assert ("--maxShapes=images:8x3x224x224,prompts:12x10x384,head_weight:64x384,head_bias:64") in command
    assert "--fp16" in command and "--precisionConstraints=obey" in command
    assert "--layerPrecisions=node_layer_norm:fp32,node_Softmax_7:fp32" in command
    assert "--layerOutputTypes=node_layer_norm:fp32,node_Softmax_7:fp32" in command
    assert command[-1] == "--timingCacheFile=engines/timing.cache"
    assert format_command(command).startswith("trtexec --onnx=backbone.onnx")


def test_trtexec_fp32_has_no_precision_flags_and_int8_is_refused():
    assert trtexec_precision_flags("fp32", ["x"]) == []
    with pytest.raises(VptError, match="calibration"):
        trtexec_precision_flags("int8", ["x"])


def test_onnxruntime_tensorrt_provider_gets_the_same_profile(tmp_path):
    profile = ShapeProfile.from_contract(CONTRACT, max_batch=4, max_classes=10)
    options = ort_tensorrt_options(profile, str(tmp_path))
    assert options["trt_profile_max_shapes"] == shape_spec({n: s[2] for n, s in profile.input_shapes().items()})
    assert options["trt_profile_min_shapes"].startswith("images:1x3x224x224,")
    assert options["trt_engine_cache_path"] == str(tmp_path) and options["trt_fp16_enable"] is True
