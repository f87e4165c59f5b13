"""The station API: opening bundles, switching tasks without reloading, predictions equal to training's."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vpt_core.errors import BundleError, BundleInputError
from export.runtime import Bundle, Station, StationResult
from export.runtime.runners import OnnxRuntimeRunner, resolve_providers
from test_export_support import copy_bundle, shared_bundle, write_mixed_images


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture(scope="module")
def station(shared):
    return Station(shared["bundle"])


def rgb(height=40, width=56, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_station_lists_tasks_and_switches_between_them(station):
    assert station.task_names == ["surface", "variant"]
    assert station.current_task == "surface" and station.classes == [f"surface_{i}" for i in range(4)]
    station.set_task("variant")
    assert station.current_task == "variant" and station.classes == ["variant_0", "variant_1", "variant_2"]
    assert station.backend == "onnxruntime" and "CPUExecutionProvider" in station.description
    station.set_task("surface")


def test_prediction_fields_are_consistent(station):
    result = station.predict_rgb(rgb())
    assert isinstance(result, StationResult)
    assert result.label == station.classes[result.index]
    assert result.confidence == pytest.approx(float(result.probabilities.max()))
    assert result.probabilities.shape == (4,) and result.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert result.preprocess_ms > 0 and result.inference_ms > 0
    document = result.to_dict(station.classes)
    assert set(document["probabilities"]) == set(station.classes)


def test_batch_prediction_equals_one_by_one(station):
    images = [rgb(30 + 7 * i, 50, seed=i) for i in range(5)]
    batch = station.predict_batch(images)
    single = [station.predict_rgb(image) for image in images]
    assert [r.label for r in batch] == [r.label for r in single]
    np.testing.assert_allclose([r.probabilities for r in batch], [r.probabilities for r in single], atol=1e-5)
    assert station.predict_batch([]) == []


def test_switching_task_changes_the_answer_without_reloading_anything(shared, monkeypatch):
    station = Station(shared["bundle"])
    runner = station.runner

    def forbidden(*args, **kwargs):
        raise AssertionError("set_task must not read files or build runners")

    monkeypatch.setattr("export.runtime.bundle.read_task_pack", forbidden)
    monkeypatch.setattr("vpt_core.packformat.read_task_pack", forbidden)
    monkeypatch.setattr(OnnxRuntimeRunner, "__init__", forbidden)
    image = rgb(seed=3)
    answers = {}
    for name in ["surface", "variant"] * 50:
        station.set_task(name)
        answers.setdefault(name, station.predict_rgb(image).probabilities)
    assert station.runner is runner
    assert answers["surface"].shape == (4,) and answers["variant"].shape == (3,)


def test_unknown_task_is_named_with_the_choices(station):
    with pytest.raises(BundleError, match="no task 'welds' in this bundle; tasks: surface, variant"):
        station.set_task("welds")


def test_station_matches_pytorch_on_real_files_of_every_kind(shared, station, tiny_backbone, tmp_path):
    """JPEG and PNG, gray, RGB and RGBA, several sizes: the same logits as training's own code path."""
    from vpt_core.images import read_image_rgb
    from vpt_engine.inference import predict_files
    from vpt_engine.taskpack import load_task

    paths = write_mixed_images(tmp_path / "mixed", count_per_kind=2, seed=7)
    for name in ("surface", "variant"):
        task = load_task(shared["packs"][name], backbone=tiny_backbone)
        expected = predict_files(task, paths)
        station.set_task(name)
        results = station.predict_batch([read_image_rgb(p) for p in paths])
        for want, got in zip(expected, results):
            assert got.label == want.label
            np.testing.assert_allclose(got.probabilities, [want.probabilities[c] for c in station.classes],
                                       atol=1e-4)
    station.set_task("surface")


def test_station_matches_pytorch_on_magnetic_tiles(shared, station, tiny_backbone, magnetic_tile_dir):
    from vpt_core.images import read_image_rgb
    from vpt_engine.inference import predict_files
    from vpt_engine.taskpack import load_task

    paths = [sorted((magnetic_tile_dir / name).glob("*.jpg"))[0] for name in ("blowhole", "crack", "free")]
    task = load_task(shared["packs"]["surface"], backbone=tiny_backbone)
    expected = predict_files(task, paths)
    station.set_task("surface")
    for want, got in zip(expected, station.predict_batch([read_image_rgb(p) for p in paths])):
        assert got.label == want.label
        np.testing.assert_allclose(got.probabilities, list(want.probabilities.values()), atol=1e-4)


def test_runner_checks_its_inputs_against_the_contract(station):
    feed = {"images": np.zeros((1, 3, 32, 32), np.float32), "prompts": np.zeros((1, 2, 5, 48), np.float32),
            "prompt_mask": np.ones((1, 4), np.float32)}
    with pytest.raises(BundleInputError, match="'prompts' must have shape \\['batch', 2, 4, 48\\], got \\[1, 2, 5, 48\\]"):
        station.runner.infer(feed)


def test_providers_are_checked_and_chosen_by_preference():
    assert resolve_providers(None, ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert resolve_providers(None, ["CPUExecutionProvider", "CUDAExecutionProvider"]) == [
        "CUDAExecutionProvider", "CPUExecutionProvider"]
    with pytest.raises(BundleError, match="no CUDAExecutionProvider; available: CPUExecutionProvider"):
        resolve_providers(["CUDAExecutionProvider"], ["CPUExecutionProvider"])


@pytest.mark.parametrize("damage, message", [
    (lambda root: (root / "manifest.json").unlink(), "not a deploy bundle \\(no manifest.json\\)"),
    (lambda root: (root / "manifest.json").write_text("{not json"), "damaged manifest"),
    (lambda root: (root / "backbone.onnx").unlink(), "backbone.onnx is missing"),
    (lambda root: _edit_manifest(root, format_version=99), "newer version"),
    (lambda root: _edit_manifest(root, format="something-else"), "not a vpt bundle manifest"),
    (lambda root: [(root / "tasks" / f"{name}.vptask").write_bytes(b"junk") for name in ("surface", "variant")],
     "no task of the bundle can be used: .*surface.vptask: changed after it was added"),
])
def test_damaged_bundles_are_refused_with_the_file_named(shared, tmp_path, damage, message):
    root = copy_bundle(shared["bundle"], tmp_path / "b")
    damage(root)
    with pytest.raises(BundleError, match=message):
        Bundle.open(root)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(BundleError, match="nowhere: bundle folder not found"):
        Station(tmp_path / "nowhere")


def _edit_manifest(root, **changes):
    manifest = json.loads((root / "manifest.json").read_text())
    manifest.update(changes)
    (root / "manifest.json").write_text(json.dumps(manifest))


def test_unsupported_backend_is_refused(shared):
    with pytest.raises(BundleError, match="unknown backend 'openvino'"):
        Station(shared["bundle"], backend="openvino")


def test_station_images_may_be_any_size(station):
    for shape in [(8, 8, 3), (480, 640, 3), (31, 500, 3)]:
        assert station.predict_rgb(np.full(shape, 128, np.uint8)).label in station.classes


def test_predict_rejects_a_non_rgb_array(station):
    from vpt_core.errors import ConfigError

    with pytest.raises(ConfigError, match="uint8 HxWx3"):
        station.predict_rgb(np.zeros((20, 20), np.uint8))


def test_tensorrt_provider_gets_the_bundle_profile_and_a_cache_in_the_bundle(shared):
    from export.runtime.runners import with_tensorrt_provider_options

    bundle = Bundle.open(shared["bundle"])
    expanded = with_tensorrt_provider_options(["TensorrtExecutionProvider", "CPUExecutionProvider"], bundle)
    name, options = expanded[0]
    assert name == "TensorrtExecutionProvider" and expanded[1] == "CPUExecutionProvider"
    assert options["trt_profile_min_shapes"] == "images:1x3x32x32,prompts:1x2x4x48,prompt_mask:1x4"
    assert options["trt_engine_cache_path"] == str(shared["bundle"] / "engines" / "onnxruntime-trt-cache")
    custom = ("TensorrtExecutionProvider", {"trt_fp16_enable": False})
    assert with_tensorrt_provider_options([custom], bundle) == [custom]  # explicit options are left alone
    assert with_tensorrt_provider_options(None, bundle) is None


class EngineLimitedRunner:
    """ONNX Runtime standing in for an engine built for batch <= 2."""

    backend, description = "tensorrt", "engine stand-in"

    def __init__(self, inner):
        self.inner, self.batches = inner, []

    def limits(self):
        return {"batch": (1, 2)}

    def infer(self, feed):
        self.inner.contract.check_feed(feed, limits=self.limits())
        self.batches.append(feed["images"].shape[0])
        return self.inner.infer(feed)

    def close(self):
        self.inner.close()


def test_station_splits_batches_to_the_engine_limit(shared, monkeypatch):
    def limited(bundle, backend, providers, threads, int8_cpu):
        inner = OnnxRuntimeRunner(bundle.backbone_path, bundle.contract, ["CPUExecutionProvider"])
        return EngineLimitedRunner(inner), []

    monkeypatch.setattr("export.runtime.station.open_runner", limited)
    station = Station(shared["bundle"])
    results = station.predict_batch([rgb(seed=i) for i in range(5)])
    assert len(results) == 5 and station.runner.batches == [2, 2, 1]


def test_mixed_task_batches_answer_each_image_as_its_task_alone(shared):
    station = Station(shared["bundle"])
    images = [rgb(seed=i) for i in range(6)]
    tasks = ["surface", "variant", "variant", "surface", "variant", "surface"]
    mixed = station.predict_mixed(list(zip(images, tasks)))
    for image, task, result in zip(images, tasks, mixed):
        station.set_task(task)
        alone = station.predict_rgb(image)
        assert result.label == alone.label and result.label.startswith(task)
        np.testing.assert_allclose(result.probabilities, alone.probabilities, atol=1e-5)
    with pytest.raises(BundleError, match="no task 'welds'"):
        station.predict_mixed([(images[0], "welds")])
