"""``Station.reload_tasks``: bundle changes picked up with the same backbone session."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vpt_core.errors import BundleError
from export.runtime import Station
from export.runtime.bundle_edit import add_task, remove_task, rollback_task
from export.runtime.runners import OnnxRuntimeRunner
from test_export_support import copy_bundle, make_pack, shared_bundle


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


def rgb(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (40, 56, 3), dtype=np.uint8)


def test_reload_adds_replaces_and_removes_tasks_keeping_the_session(bundle, tmp_path, monkeypatch):
    station = Station(bundle)
    runner, surface = station.runner, station.tasks["surface"]

    def forbidden(*args, **kwargs):
        raise AssertionError("reload_tasks must not open another backbone session")

    monkeypatch.setattr(OnnxRuntimeRunner, "__init__", forbidden)
    add_task(bundle, make_pack(tmp_path / "welds.vptask", "welds", 2, seed=5), runner=runner)
    add_task(bundle, make_pack(tmp_path / "variant.vptask", "variant", 3, seed=9, num_prompts=2), replace=True,
             runner=runner)
    remove_task(bundle, "surface")
    changes = station.reload_tasks()
    assert (changes.added, changes.replaced, changes.removed) == (("welds",), ("variant",), ("surface",))
    assert station.runner is runner and station.task_names == ["variant", "welds"]
    # The current task was removed: the first usable task is current now.
    assert changes.current == station.current_task == "variant"
    assert station.predict_mixed([(rgb(), "welds")])[0].label.startswith("welds_")
    # An image prepared before the change still runs with the version it was prepared for.
    assert surface.name == "surface" and surface.tensors.num_classes == 4


def test_unchanged_tasks_keep_their_prepared_arrays(bundle, tmp_path):
    station = Station(bundle)
    before = station.tasks["surface"].tensors
    add_task(bundle, make_pack(tmp_path / "welds.vptask", "welds", 2, seed=5))
    changes = station.reload_tasks()
    assert station.tasks["surface"].tensors is before and changes.replaced == ()
    assert not Station(bundle).reload_tasks().changed


def test_a_rolled_back_task_answers_like_its_earlier_version(bundle, tmp_path):
    station = Station(bundle)
    image = rgb(3)
    original = station.predict_mixed([(image, "variant")])[0]
    add_task(bundle, make_pack(tmp_path / "variant.vptask", "variant", 3, seed=9, num_prompts=2), replace=True)
    station.reload_tasks()
    replaced = station.predict_mixed([(image, "variant")])[0]
    rollback_task(bundle, "variant")
    station.reload_tasks()
    restored = station.predict_mixed([(image, "variant")])[0]
    assert replaced.task_sha256 != original.task_sha256 == restored.task_sha256
    np.testing.assert_allclose(restored.probabilities, original.probabilities, atol=1e-6)


def test_a_bundle_naming_another_backbone_is_refused_and_nothing_changes(bundle):
    station = Station(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["backbone"]["sha256"] = "f" * 64
    manifest["tasks"] = manifest["tasks"][:1]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="names another backbone .* restart the station"):
        station.reload_tasks()
    assert station.task_names == ["surface", "variant"]


def test_prepared_images_of_several_tasks_share_one_run(bundle):
    station = Station(bundle)
    items = [station.prepare(rgb(i), task) for i, task in enumerate(["surface", "variant", "surface"])]
    results = station.predict_prepared(items)
    for i, (task, result) in enumerate(zip(["surface", "variant", "surface"], results)):
        alone = station.predict_mixed([(rgb(i), task)])[0]
        assert result.task == task and result.task_sha256 == station.tasks[task].sha256
        np.testing.assert_allclose(result.probabilities, alone.probabilities, atol=1e-5)


def test_a_cpu_station_runs_one_picture_at_a_time_by_default(bundle):
    pytest.importorskip("fastapi", reason="vpt serve needs the station extra")
    from export.runtime.serve.engine import GPU_BATCH, auto_max_batch

    station = Station(bundle, backend="onnxruntime", providers=["CPUExecutionProvider"])
    assert auto_max_batch(station) == 1

    class GpuRunner:
        backend, providers = "onnxruntime", ["CUDAExecutionProvider", "CPUExecutionProvider"]

    station.runner = GpuRunner()
    assert auto_max_batch(station) == GPU_BATCH
