"""The input/output contract, runtime input checks, TensorRT profiles and trtexec commands (no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from vpt_core.contract import BundleContract
from vpt_core.errors import BundleError, BundleInputError, VptError
from export.runtime.trt_profiles import (ShapeProfile, format_command, ort_tensorrt_options, shape_spec,
                                         trtexec_command, trtexec_precision_flags)

CONTRACT = BundleContract.for_backbone((3, 224, 224), 12, 10, 384, num_patches=196, num_prefix_tokens=1)


def task(prompts=10, classes=3, width=384, seed=0):
    rng = np.random.default_rng(seed)
    return CONTRACT.task_tensors(rng.normal(size=(12, prompts, 384)), rng.normal(size=(classes, width)),
                                 rng.normal(size=classes))


def feed(batch=2, contract=CONTRACT):
    rng = np.random.default_rng(0)
    images = rng.normal(size=contract.concrete_shape("images", batch=batch)).astype(np.float32)
    return contract.feed(images, task())


def test_tables_resolve_to_the_documented_shapes():
    assert CONTRACT.input_names == ["images", "prompts", "prompt_mask"]
    assert CONTRACT.output_names == ["features"]
    assert CONTRACT.symbolic_shape("images") == ("batch", 3, 224, 224)
    assert CONTRACT.symbolic_shape("prompts") == ("batch", 12, 10, 384)
    assert CONTRACT.symbolic_shape("prompt_mask") == ("batch", 10)
    assert CONTRACT.symbolic_shape("features") == ("batch", (2 + 12) * 384)   # pooled, mean, 12 block maxima
    assert CONTRACT.concrete_shape("prompts", batch=5) == (5, 12, 10, 384)
    assert CONTRACT.dynamic_axes() == {"images": {0: "batch"}, "prompts": {0: "batch"},
                                       "prompt_mask": {0: "batch"}, "features": {0: "batch"}}


def test_contract_round_trips_through_the_manifest_form():
    document = CONTRACT.to_dict()
    assert document["version"] == 3 and document["feature_dim"] == 14 * 384 and document["depth"] == 12
    assert document["feature_parts"] == ["pooled", "patch_mean", "block_max"]
    assert [entry["shape"] for entry in document["inputs"]][0] == ["batch", 3, 224, 224]
    assert BundleContract.from_dict(document) == CONTRACT


def test_a_bundle_of_the_first_contract_is_refused_with_what_to_do():
    old = {"channels": 3, "height": 224, "width": 224, "prompt_layers": 12, "num_prompts": 10, "embed_dim": 384,
           "inputs": [{"name": "images"}, {"name": "prompts"}, {"name": "head_weight"}, {"name": "head_bias"}]}
    with pytest.raises(BundleError, match="contract 1.*Re-export it with 'vpt export'"):
        BundleContract.from_dict(old)


def test_a_bundle_of_the_second_contract_is_refused_saying_what_changed():
    document = {**CONTRACT.to_dict(), "version": 2}
    with pytest.raises(BundleError, match="contract 2 \\(features without the block maxima\\).*Re-export"):
        BundleContract.from_dict(document)


def test_contract_needs_positive_whole_sizes():
    with pytest.raises(BundleError, match="embed_dim"):
        BundleContract.for_backbone((3, 224, 224), 12, 10, 0)
    document = CONTRACT.to_dict()
    document["height"] = "224"
    with pytest.raises(BundleError, match="height must be a whole number"):
        BundleContract.from_dict(document)


def test_task_tensors_pad_prompts_mask_unused_slots_and_widen_a_pooled_head():
    tensors = task(prompts=3, classes=4, width=384)
    assert tensors.prompts.shape == (12, 10, 384) and np.all(tensors.prompts[:, 3:] == 0)
    assert tensors.prompt_mask.tolist() == [1, 1, 1] + [0] * 7 and tensors.num_prompts == 3
    assert tensors.head_weight.shape == (4, 14 * 384) and np.all(tensors.head_weight[:, 384:] == 0)
    assert all(not array.flags.writeable and array.flags.c_contiguous and array.dtype == np.float32
               for array in (tensors.prompts, tensors.prompt_mask, tensors.head_weight, tensors.head_bias))
    features = np.random.default_rng(1).normal(size=(2, 14 * 384)).astype(np.float32)
    np.testing.assert_allclose(tensors.logits(features),
                               features[:, :384] @ tensors.head_weight[:, :384].T + tensors.head_bias, rtol=1e-5)
    probe = task(prompts=0)
    assert probe.num_prompts == 0 and not probe.prompt_mask.any()


def test_each_head_reads_its_own_columns_and_zero_weights_elsewhere():
    rng = np.random.default_rng(2)
    prompts, bias = rng.normal(size=(12, 2, 384)), rng.normal(size=3)
    features = rng.normal(size=(5, 14 * 384)).astype(np.float32)
    for head_features, columns in (("pooled", slice(0, 384)), ("pooled+mean", slice(0, 768)),
                                   ("block_max", slice(768, 14 * 384))):
        weight = rng.normal(size=(3, columns.stop - columns.start))
        tensors = CONTRACT.task_tensors(prompts, weight, bias, head_features=head_features)
        assert CONTRACT.head_columns(head_features) == columns
        outside = np.delete(tensors.head_weight, np.arange(columns.start, columns.stop), axis=1)
        assert not outside.any()
        np.testing.assert_allclose(tensors.logits(features), features[:, columns] @ weight.T + bias, rtol=1e-4)
    with pytest.raises(BundleError, match="'block_max' features of width 4608"):
        CONTRACT.task_tensors(prompts, rng.normal(size=(3, 384)), bias, head_features="block_max")
    with pytest.raises(BundleError, match="unknown head features 'cls'"):
        CONTRACT.task_tensors(prompts, rng.normal(size=(3, 384)), bias, head_features="cls")


@pytest.mark.parametrize("prompts, head, message", [
    (np.zeros((1, 10, 384)), np.zeros((3, 384)), "shallow and deep tasks need separate bundles"),
    (np.zeros((12, 11, 384)), np.zeros((3, 384)), "11 prompts, but this bundle has 10 prompt slots.*--prompt-slots 11"),
    (np.zeros((12, 10, 192)), np.zeros((3, 384)), "do not fit"),
    (np.zeros((12, 10, 384)), np.zeros((3, 500)), "head \\[3, 500\\]"),
    (np.zeros((12, 10, 384)), np.zeros((1, 384)), "at least 2 classes"),
    (np.zeros((10, 384)), np.zeros((3, 384)), "prompts must be \\[layers, prompts, width\\]"),
])
def test_task_tensors_that_do_not_fit_are_refused_naming_the_source(prompts, head, message):
    with pytest.raises(BundleError, match=message):
        CONTRACT.task_tensors(prompts, head, np.zeros(head.shape[0]), source="tasks/x.vptask")


def test_a_feed_carries_one_task_for_all_images_or_one_per_image():
    images = np.zeros((3, 3, 224, 224), np.float32)
    single = CONTRACT.feed(images, task(prompts=4))
    assert single["prompts"].shape == (3, 12, 10, 384) and single["prompt_mask"].sum(axis=1).tolist() == [4, 4, 4]
    mixed = CONTRACT.feed(images, [task(prompts=4), task(prompts=0), task(prompts=10)])
    assert mixed["prompt_mask"].sum(axis=1).tolist() == [4, 0, 10]
    assert CONTRACT.check_feed(mixed) == {"batch": 3}
    with pytest.raises(BundleInputError, match="3 images but 2 tasks"):
        CONTRACT.feed(images, [task(), task()])


def test_a_correct_feed_reports_its_dynamic_sizes():
    assert CONTRACT.check_feed(feed(batch=4)) == {"batch": 4}


@pytest.mark.parametrize("change, message", [
    (lambda f: f.pop("prompt_mask"), "missing \\['prompt_mask'\\]"),
    (lambda f: f.update(extra=np.zeros(1, np.float32)), "unexpected \\['extra'\\]"),
    (lambda f: f.update(images=f["images"].astype(np.float64)), "'images' must be float32"),
    (lambda f: f.update(prompts=np.zeros((2, 12, 5, 384), np.float32)), "'prompts' must have shape"),
    (lambda f: f.update(images=np.zeros((2, 224, 224), np.float32)), "'images' must have shape"),
    (lambda f: f.update(prompt_mask=np.ones((3, 10), np.float32)), "batch differs between inputs: 2 and 3"),
    (lambda f: f.update(prompt_mask=np.full((2, 10), 0.5, np.float32)), "only 0 and 1"),
    (lambda f: f.update(images=np.zeros((0, 3, 224, 224), np.float32),
                        prompts=np.zeros((0, 12, 10, 384), np.float32),
                        prompt_mask=np.zeros((0, 10), np.float32)), "batch is 0"),
    (lambda f: f.update(prompts=[[0.0]]), "'prompts' must be a numpy array"),
])
def test_a_broken_feed_is_refused_naming_the_tensor(change, message):
    bad = dict(feed())
    change(bad)
    with pytest.raises(BundleInputError, match=message):
        CONTRACT.check_feed(bad)


def test_limits_narrow_the_dynamic_ranges():
    with pytest.raises(BundleInputError, match="batch is 9, but this runner accepts 1..8"):
        CONTRACT.check_feed(feed(batch=9), limits={"batch": (1, 8)})


def test_profile_shapes_follow_the_contract():
    profile = ShapeProfile.from_contract(CONTRACT, max_batch=16, opt_batch=4)
    shapes = profile.input_shapes()
    assert shapes["images"] == ((1, 3, 224, 224), (4, 3, 224, 224), (16, 3, 224, 224))
    assert shapes["prompts"] == ((1, 12, 10, 384), (4, 12, 10, 384), (16, 12, 10, 384))
    assert shapes["prompt_mask"] == ((1, 10), (4, 10), (16, 10))
    assert profile.limits() == {"batch": (1, 16)}
    assert profile.max_shape("features") == (16, 14 * 384)
    assert ShapeProfile.from_dict(CONTRACT, profile.to_dict()) == profile


def test_profile_refuses_impossible_ranges():
    with pytest.raises(VptError, match="--max-batch"):
        ShapeProfile.from_contract(CONTRACT, max_batch=0)


def test_trtexec_command_has_shapes_for_every_input_and_fp32_layers():
    profile = ShapeProfile.from_contract(CONTRACT, max_batch=8)
    command = trtexec_command("backbone.onnx", "engines/b.engine", profile, "fp16",
                              ["node_layer_norm", "node_Softmax_7"], "engines/timing.cache")
    assert command[:3] == ["trtexec", "--onnx=backbone.onnx", "--saveEngine=engines/b.engine"]
    assert "--minShapes=images:1x3x224x224,prompts:1x12x10x384,prompt_mask:1x10" in command
    assert "--maxShapes=images:8x3x224x224,prompts:8x12x10x384,prompt_mask:8x10" in command
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
    profile = ShapeProfile.from_contract(CONTRACT, max_batch=4)
    options = ort_tensorrt_options(profile, str(tmp_path))
    assert options["trt_profile_max_shapes"] == shape_spec({n: s[2] for n, s in profile.input_shapes().items()})
    assert options["trt_profile_min_shapes"].startswith("images:1x3x224x224,")
    assert options["trt_engine_cache_path"] == str(tmp_path) and options["trt_fp16_enable"] is True
