"""The exported ONNX graph: checks, TensorRT operator list, dynamic axes, parity with PyTorch."""

from __future__ import annotations

import collections
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from vpt_core.contract import BundleContract
from vpt_core.errors import ParityError, UnsupportedGraphError
from export.onnx_checks import (FP32_SENSITIVE_OPS, TENSORRT_ONNX_OPS, check_backbone_model, check_io,
                                check_tensorrt_operators, unsupported_operators)
from export.runtime.runners import OnnxRuntimeRunner
from test_export_support import shared_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture(scope="module")
def model(bundle):
    return onnx.load(str(bundle["bundle"] / "backbone.onnx"))


@pytest.fixture(scope="module")
def contract(bundle):
    import json

    return BundleContract.from_dict(json.loads((bundle["bundle"] / "manifest.json").read_text())["contract"])


def test_graph_passes_every_check_and_uses_only_tensorrt_operators(bundle, model, contract):
    report = check_backbone_model(bundle["bundle"] / "backbone.onnx", contract)
    assert 17 <= report.opset <= 20
    assert set(report.op_counts) <= TENSORRT_ONNX_OPS
    assert unsupported_operators(model) == []
    assert all(node.domain in ("", "ai.onnx") for node in model.graph.node)
    # One LayerNormalization per norm: 2 per block plus the final norm, none decomposed.
    # two per block, the final norm, and the final norm again on the first block's patches (its maximum)
    assert report.op_counts["LayerNormalization"] == 2 * 2 + 1 + 1
    assert "Identity" not in report.op_counts and "Where" not in report.op_counts


def test_graph_io_is_the_contract_with_a_symbolic_batch(model, contract):
    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    inputs = {value.name: dims(value) for value in model.graph.input}
    outputs = {value.name: dims(value) for value in model.graph.output}
    assert list(inputs) == contract.input_names and list(outputs) == contract.output_names
    assert inputs == {"images": ["batch", 3, 32, 32], "prompts": ["batch", 2, 4, 48], "prompt_mask": ["batch", 4]}
    assert outputs == {"features": ["batch", 192]}   # (2 + depth 2) x 48


def test_nodes_are_named_uniquely_and_fp32_names_are_the_real_nodes(bundle, model):
    names = [node.name for node in model.graph.node]
    assert all(names) and len(set(names)) == len(names)
    assert not any(node.metadata_props for node in model.graph.node)  # no stack traces with local paths
    manifest_names = __import__("json").loads((bundle["bundle"] / "manifest.json").read_text())["backbone"]["fp32_nodes"]
    expected = [node.name for node in model.graph.node if node.op_type in FP32_SENSITIVE_OPS]
    assert manifest_names == expected
    counts = collections.Counter(node.op_type for node in model.graph.node if node.name in manifest_names)
    # ReduceMean: the patch mean; ReduceMax: one maximum per block
    assert counts == {"LayerNormalization": 6, "Softmax": 2, "ReduceMean": 1, "ReduceMax": 2}


@pytest.mark.parametrize("batch", [1, 5])
def test_batch_is_dynamic_and_per_image_prompts_match_pytorch(bundle, contract, tiny_backbone, batch):
    import torch

    from vpt_engine.prompted_vit import bundle_features

    rng = np.random.default_rng(batch)
    images = rng.normal(size=(batch, 3, 32, 32)).astype(np.float32)
    prompts = rng.normal(0, 0.2, (batch, *contract.prompt_shape)).astype(np.float32)
    mask = (rng.random((batch, contract.prompt_slots)) < 0.6).astype(np.float32)
    runner = OnnxRuntimeRunner(bundle["bundle"] / "backbone.onnx", contract, ["CPUExecutionProvider"])
    features = runner.infer({"images": images, "prompts": prompts, "prompt_mask": mask})["features"]
    with torch.no_grad():
        reference = bundle_features(tiny_backbone.model, *(torch.from_numpy(a) for a in (images, prompts, mask)))
    assert features.shape == (batch, (2 + 2) * 48)   # pooled, patch mean, one maximum per block
    np.testing.assert_allclose(features, reference.numpy(), atol=1e-4)


def test_a_masked_prompt_slot_is_exactly_as_if_the_token_were_not_there(bundle, contract, tiny_backbone):
    """Masked slots get zero attention: the graph with two of four slots masked equals PyTorch with two prompts."""
    import torch

    from vpt_engine.prompted_vit import prompted_features

    rng = np.random.default_rng(7)
    images = rng.normal(size=(3, 3, 32, 32)).astype(np.float32)
    two = rng.normal(0, 0.5, (contract.prompt_layers, 2, 48)).astype(np.float32)
    tensors = contract.task_tensors(two, np.eye(3, 48), np.zeros(3))
    junk = np.array(tensors.prompts)
    junk[:, 2:] = 50.0       # whatever sits in a masked slot must not matter
    runner = OnnxRuntimeRunner(bundle["bundle"] / "backbone.onnx", contract, ["CPUExecutionProvider"])
    feed = contract.feed(images, tensors)
    feed["prompts"] = np.ascontiguousarray(np.broadcast_to(junk, feed["prompts"].shape))
    features = runner.infer(feed)["features"]
    with torch.no_grad():
        reference = prompted_features(tiny_backbone.model, torch.from_numpy(images), torch.from_numpy(two))
        no_prompts = prompted_features(tiny_backbone.model, torch.from_numpy(images),
                                       torch.zeros(contract.prompt_layers, 0, 48))
    np.testing.assert_allclose(features, reference.numpy(), atol=1e-4)
    all_masked = contract.feed(images, contract.task_tensors(np.zeros((contract.prompt_layers, 0, 48)),
                                                             np.eye(3, 48), np.zeros(3)))
    np.testing.assert_allclose(runner.infer(all_masked)["features"], no_prompts.numpy(), atol=1e-4)


def test_parity_catches_a_changed_graph_and_names_the_task(bundle, contract, tiny_backbone, tmp_path):
    from vpt_engine.taskpack import load_task

    from export.parity import ParityTask, collect_parity_images, compare_task, raise_on_failures

    tampered = onnx.load(str(bundle["bundle"] / "backbone.onnx"))
    weight = max(tampered.graph.initializer, key=lambda t: np.prod(t.dims))
    values = onnx.numpy_helper.to_array(weight) * 1.05
    weight.CopyFrom(onnx.numpy_helper.from_array(values.astype(np.float32), weight.name))
    onnx.save(tampered, str(tmp_path / "tampered.onnx"))
    runner = OnnxRuntimeRunner(tmp_path / "tampered.onnx", contract, ["CPUExecutionProvider"])
    loaded = load_task(bundle["packs"]["surface"], backbone=tiny_backbone)
    pack = loaded.pack
    task = ParityTask("surface", loaded.model, pack,
                      pack.bundle_tensors(contract, "surface"))
    images = collect_parity_images(bundle["images"])
    result = compare_task(task, runner, contract, images)
    assert not result.passed and result.max_logit_diff > 1e-4 and images.real
    with pytest.raises(ParityError, match="task 'surface': logits differ by up to") as caught:
        raise_on_failures([result])
    assert caught.value.task == "surface" and caught.value.max_logit_diff == result.max_logit_diff


def test_parity_of_the_exported_bundle_was_within_tolerance_on_real_images(bundle):
    report = bundle["report"]
    for name in ("surface", "variant"):
        parity = report["parity"][name]
        assert parity["passed"] and parity["max_logit_diff"] <= 1e-4
        assert parity["top1_matches"] == parity["images"] == 10
    assert report["parity_images"] == str(bundle["images"])


def test_a_batch_mixing_both_tasks_matched_each_image_alone(bundle):
    import json

    mixed = json.loads((bundle["bundle"] / "manifest.json").read_text())["export"]["mixed_task_parity"]
    assert mixed["task"] == "surface+variant" and mixed["passed"]
    assert mixed["max_logit_diff"] <= 1e-4 and mixed["top1_matches"] == mixed["images"] == 10


# -- the checks themselves, on small hand-made graphs ---------------------------------------------
def _graph(nodes, inputs, outputs, initializers=(), opset=18):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_operators_outside_the_tensorrt_list_are_refused():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    custom = _graph([helper.make_node("FastGelu", ["x"], ["y"], domain="com.microsoft", name="fused")], [x], [y])
    with pytest.raises(UnsupportedGraphError, match="com.microsoft::FastGelu"):
        check_tensorrt_operators(custom, "custom.onnx")
    missing = _graph([helper.make_node("StringNormalizer", ["x"], ["y"], name="s")], [x], [y])
    assert unsupported_operators(missing) == ["ai.onnx::StringNormalizer"]


def test_computed_axes_are_refused_because_tensorrt_needs_constants():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    axes_in = helper.make_tensor_value_info("axes", TensorProto.INT64, [1])
    computed = _graph([helper.make_node("Squeeze", ["x", "axes"], ["y"], name="sq")], [x, axes_in], [y])
    with pytest.raises(UnsupportedGraphError, match="'sq'.*constant"):
        check_tensorrt_operators(computed, "m.onnx")
    constant = _graph([helper.make_node("Squeeze", ["x", "axes"], ["y"], name="sq")], [x], [y],
                      [helper.make_tensor("axes", TensorProto.INT64, [1], [0])])
    check_tensorrt_operators(constant, "m.onnx")


def test_io_that_breaks_the_contract_is_refused(contract):
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [4, 3, 32, 32])
    features = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 96])
    model = _graph([helper.make_node("Identity", ["images"], ["features"])], [images], [features])
    with pytest.raises(UnsupportedGraphError, match="graph inputs are \\['images'\\]"):
        check_io(model, contract, "m.onnx")


def test_old_opset_and_damaged_files_are_refused(bundle, contract, tmp_path):
    model = onnx.load(str(bundle["bundle"] / "backbone.onnx"))
    model.opset_import[0].version = 16
    old = tmp_path / "old.onnx"
    onnx.save(model, str(old))
    with pytest.raises(UnsupportedGraphError, match="old.onnx"):
        check_backbone_model(old, contract)
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(UnsupportedGraphError, match="damaged.onnx"):
        check_backbone_model(damaged, contract)


def test_onnx_runtime_refuses_a_model_with_other_io(bundle, contract, tmp_path):
    from vpt_core.errors import BundleError

    shutil.copy(bundle["bundle"] / "backbone.onnx", tmp_path / "renamed.onnx")
    model = onnx.load(str(tmp_path / "renamed.onnx"))
    old = model.graph.output[0].name
    model.graph.output[0].name = "embedding"
    for node in model.graph.node:
        node.output[:] = ["embedding" if name == old else name for name in node.output]
        node.input[:] = ["embedding" if name == old else name for name in node.input]
    onnx.save(model, str(tmp_path / "renamed.onnx"))
    with pytest.raises(BundleError, match="outputs \\['embedding'\\]"):
        OnnxRuntimeRunner(tmp_path / "renamed.onnx", contract, ["CPUExecutionProvider"])
