"""Deploy bundles: export, add-task, build_engine.sh and the INT8 CPU model."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from export.bundle_builder import add_task, export_bundle
from vpt_core.errors import (BundleError, ExportError, IncompatibleTaskError, ParityError,
                           QuantizationRefusedError)
from vpt_core.manifest import sha256_file
from export.runtime import Bundle, Station
from test_export_support import copy_bundle, make_pack, shared_bundle, write_mixed_images
from vpt_core.cli import main


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle_copy(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


def test_bundle_holds_backbone_tasks_manifest_script_and_readme(shared):
    root = shared["bundle"]
    manifest = json.loads((root / "manifest.json").read_text())
    assert {p.name for p in root.iterdir()} == {"backbone.onnx", "tasks", "manifest.json", "build_engine.sh",
                                                "README.txt"}
    assert manifest["backbone"]["sha256"] == sha256_file(root / "backbone.onnx")
    assert manifest["backbone"]["size_bytes"] == shared["report"]["backbone_bytes"]
    assert [t["name"] for t in manifest["tasks"]] == ["surface", "variant"]
    for task in manifest["tasks"]:
        path = root / task["file"]
        assert path.read_bytes() == shared["packs"][task["name"]].read_bytes()
        assert task["sha256"] == sha256_file(path) and task["size_bytes"] == shared["report"]["task_bytes"][task["name"]]
        assert task["parity"]["passed"]
    assert manifest["contract"]["prompt_layers"] == 2 and manifest["contract"]["prompt_slots"] == 4
    readme = (root / "README.txt").read_text()
    assert "surface" in readme and "variant" in readme and "What was run where" in readme
    assert os.access(root / "build_engine.sh", os.X_OK)


def test_export_api_reports_sizes_parity_and_progress_for_shallow_prompts(tmp_path):
    pack = make_pack(tmp_path / "shallow.vptask", "shallow", 2, seed=5, layers=1)
    images = tmp_path / "images"
    write_mixed_images(images, count_per_kind=1)
    steps = []
    report = export_bundle([pack], tmp_path / "out", parity_images=images,
                           on_progress=lambda stage, fraction: steps.append((stage, fraction)))
    assert report.bundle_dir == tmp_path / "out"
    assert report.backbone_bytes == (tmp_path / "out" / "backbone.onnx").stat().st_size
    assert report.task_bytes == {"shallow": pack.stat().st_size}
    assert report.parity["shallow"]["passed"] and report.parity["shallow"]["images"] == 5
    assert report.graph["operators"]["LayerNormalization"] == 6   # 2 per block, final norm, first block's maximum
    fractions = [fraction for _, fraction in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert Bundle.open(tmp_path / "out").contract.prompt_layers == 1


def test_parity_defaults_to_the_tasks_own_training_images(tmp_path):
    images = tmp_path / "training-data"
    write_mixed_images(images / "some_class", count_per_kind=1)
    pack = make_pack(tmp_path / "t.vptask", "t", 2, seed=2, training={"data": {"data_dir": str(images)}})
    report = export_bundle([pack], tmp_path / "out")
    assert report.parity_images == str(images)
    assert report.parity["t"]["images"] == 5
    assert not any("synthetic" in note for note in report.notes)


def test_failed_parity_leaves_no_bundle_behind(tmp_path):
    pack = make_pack(tmp_path / "t.vptask", "t", 3, seed=6)
    with pytest.raises(ParityError, match="task 't'"):
        export_bundle([pack], tmp_path / "out", tolerance=1e-12)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["t.vptask"]


def test_packs_for_different_backbones_or_prompt_depths_cannot_share_a_bundle(tmp_path):
    first = make_pack(tmp_path / "a.vptask", "a", 2)
    other_weights = make_pack(tmp_path / "b.vptask", "b", 2, fingerprint_overrides={"weights_sha256": "f" * 64})
    shallow = make_pack(tmp_path / "c.vptask", "c", 2, layers=1)
    with pytest.raises(IncompatibleTaskError, match="b.vptask cannot share a bundle.*weights differ"):
        export_bundle([first, other_weights], tmp_path / "out")
    with pytest.raises(IncompatibleTaskError, match="c.vptask.*prompt layers 1 vs 2 \\(deep and shallow"):
        export_bundle([first, shallow], tmp_path / "out")
    with pytest.raises(ExportError, match="--prompt-slots must be a whole number of at least 4"):
        export_bundle([first], tmp_path / "out", prompt_slots=3)
    with pytest.raises(ExportError, match="two packs are named 'a'"):
        export_bundle([first, first], tmp_path / "out")


def test_export_will_not_overwrite_by_accident(shared, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    with pytest.raises(ExportError, match="not empty and not a bundle"):
        export_bundle([shared["packs"]["surface"]], tmp_path / "busy")
    with pytest.raises(ExportError, match="already holds a bundle"):
        export_bundle([shared["packs"]["surface"]], shared["bundle"])


def test_add_task_keeps_backbone_byte_identical_and_the_station_sees_it(bundle_copy, tmp_path):
    before = (bundle_copy / "backbone.onnx").read_bytes()
    new = make_pack(tmp_path / "holes.vptask", "holes", 5, seed=9)
    entry = add_task(bundle_copy, new)
    assert (bundle_copy / "backbone.onnx").read_bytes() == before
    assert entry["name"] == "holes" and entry["parity"] is None
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    assert [t["name"] for t in manifest["tasks"]] == ["surface", "variant", "holes"]
    assert manifest["backbone"]["sha256"] == sha256_file(bundle_copy / "backbone.onnx")
    station = Station(bundle_copy)
    station.set_task("holes")
    assert station.classes == [f"holes_{i}" for i in range(5)]
    assert len(station.predict_rgb(np.zeros((20, 30, 3), np.uint8)).probabilities) == 5


def test_add_task_with_parity_compares_against_pytorch(bundle_copy, shared, tmp_path):
    new = make_pack(tmp_path / "checked.vptask", "checked", 3, seed=10)
    entry = add_task(bundle_copy, new, parity=True, parity_images=shared["images"])
    assert entry["parity"]["passed"] and entry["parity"]["images"] == 10


def test_add_task_refuses_other_backbones_prompt_shapes_and_duplicates(bundle_copy, tmp_path, capsys):
    before = sha256_file(bundle_copy / "manifest.json")
    other = make_pack(tmp_path / "other.vptask", "other", 2, fingerprint_overrides={"weights_sha256": "e" * 64})
    with pytest.raises(IncompatibleTaskError, match="other.vptask was made for.*weights differ"):
        add_task(bundle_copy, other)
    shape = make_pack(tmp_path / "shape.vptask", "shape", 2, num_prompts=8)
    with pytest.raises(BundleError, match="8 prompts, but this bundle has 4 prompt slots.*--prompt-slots 8"):
        add_task(bundle_copy, shape)
    again = make_pack(tmp_path / "surface.vptask", "surface", 2, seed=3)
    with pytest.raises(BundleError, match="already has a task 'surface'; pass --replace"):
        add_task(bundle_copy, again)
    assert sha256_file(bundle_copy / "manifest.json") == before
    assert main(["bundle", "add-task", str(bundle_copy), str(shape)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and error.startswith("vpt bundle: error:") and "prompt slots" in error
    add_task(bundle_copy, again, replace=True)
    assert Bundle.open(bundle_copy).task("surface").classes == ["surface_0", "surface_1"]


def test_a_changed_task_pack_or_backbone_is_detected(bundle_copy):
    pack = bundle_copy / "tasks" / "variant.vptask"
    data = bytearray(pack.read_bytes())
    data[-1] ^= 0xFF
    pack.write_bytes(bytes(data))
    bundle = Bundle.open(bundle_copy)   # the other task still serves; the changed one is named
    assert list(bundle.tasks) == ["surface"]
    assert "variant.vptask: changed after it was added" in bundle.problems["variant"]
    with pytest.raises(BundleError, match="task 'variant' cannot be used: .*changed after it was added"):
        Station(bundle_copy).set_task("variant")
    with open(bundle_copy / "backbone.onnx", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match="sha256 differs from the manifest"):
        Bundle.open(bundle_copy)


def test_int8_cpu_model_is_written_only_when_top1_agrees(bundle_copy, tmp_path):
    from export.runtime.quantize import quantize_cpu

    images = tmp_path / "task_images"
    write_mixed_images(images, count_per_kind=5, seed=4)
    with pytest.raises(QuantizationRefusedError, match=r"agreement with fp32 on task 'surface' is .*% \(\d+/25 "):
        quantize_cpu(bundle_copy, "surface", images, min_agreement=1.01)
    assert not (bundle_copy / "backbone.int8-cpu.onnx").exists()
    assert json.loads((bundle_copy / "manifest.json").read_text())["int8_cpu"] is None
    report = quantize_cpu(bundle_copy, "surface", images, min_agreement=0.0)
    assert report.passed and report.images == 25 and report.int8_bytes < report.fp32_bytes
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    assert manifest["int8_cpu"]["sha256"] == sha256_file(bundle_copy / "backbone.int8-cpu.onnx")
    assert manifest["int8_cpu"]["agreement"]["surface"]["matches"] == report.matches
    station = Station(bundle_copy, int8_cpu=True)
    assert station.current_task == "surface" and "backbone.int8-cpu.onnx" in str(station.runner.path)
    with pytest.raises(BundleError, match="'variant' was not checked against the INT8 CPU model"):
        station.set_task("variant")


def test_int8_check_needs_enough_images(bundle_copy, tmp_path):
    from export.runtime.quantize import quantize_cpu

    images = tmp_path / "few"
    write_mixed_images(images, count_per_kind=1)
    with pytest.raises(QuantizationRefusedError, match="at least 20 readable images.*found 5"):
        quantize_cpu(bundle_copy, "variant", images, min_agreement=0.0)


def test_a_full_disk_is_reported_in_one_line_and_leaves_nothing_half_written(bundle_copy, tmp_path, monkeypatch):
    import errno

    from vpt_core.errors import DiskWriteError

    pack = make_pack(tmp_path / "full.vptask", "full", 2, seed=12)
    manifest_before = (bundle_copy / "manifest.json").read_bytes()

    def disk_full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("vpt_core.atomicio._fsync_file", disk_full)
    with pytest.raises(DiskWriteError, match="backbone.onnx: the disk is full"):
        export_bundle([pack], tmp_path / "out", parity=False)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    with pytest.raises(DiskWriteError, match="full.vptask: the disk is full"):
        add_task(bundle_copy, pack)
    assert (bundle_copy / "manifest.json").read_bytes() == manifest_before
    assert not (bundle_copy / "tasks" / "full.vptask").exists()


@pytest.mark.slow
def test_parity_with_pretrained_weights_on_magnetic_tiles(fdsl_weights, magnetic_tile_dir, tmp_path):
    """The real case: a pretrained backbone from a weights file, real grayscale JPEGs of many sizes."""
    from vpt_engine.backbone import BackboneConfig, load_backbone
    from vpt_core.packformat import BackboneFingerprint, TaskPackData
    from vpt_engine.taskpack import weights_source

    config = BackboneConfig("vit_tiny_patch16_224", weights=str(fdsl_weights))
    backbone = load_backbone(config)
    fingerprint = BackboneFingerprint.from_dict({**backbone.fingerprint.to_dict(),
                                                 "weights_source": weights_source(config)})
    rng = np.random.default_rng(0)
    classes = sorted(p.name for p in magnetic_tile_dir.iterdir() if p.is_dir())
    pack = TaskPackData(prompts=rng.normal(0, 0.05, (backbone.depth, 10, backbone.embed_dim)),
                        head_weight=rng.normal(0, 0.1, (len(classes), backbone.embed_dim)),
                        head_bias=np.zeros(len(classes)), classes=classes, backbone=fingerprint,
                        prompt_config={"num_prompts": 10, "depth": "deep"},
                        preprocess=backbone.preprocess.to_dict(), name="tiles").save(tmp_path / "tiles.vptask")
    report = export_bundle([pack], tmp_path / "bundle", parity_images=magnetic_tile_dir)
    parity = report.parity["tiles"]
    assert parity["passed"] and parity["images"] == 16 and parity["max_logit_diff"] <= 1e-4
    assert report.backbone_bytes > 20e6 and report.task_bytes["tiles"] < 200e3


def test_replace_then_rollback_and_remove_from_the_command_line(bundle_copy, tmp_path, capsys):
    before = Bundle.open(bundle_copy).task("surface")
    newer = make_pack(tmp_path / "surface.vptask", "surface", 2, seed=9)
    assert main(["bundle", "add-task", str(bundle_copy), str(newer), "--replace"]) == 0
    assert Bundle.open(bundle_copy).task("surface").classes == ["surface_0", "surface_1"]
    assert main(["bundle", "rollback-task", str(bundle_copy), "surface"]) == 0
    restored = Bundle.open(bundle_copy).task("surface")
    assert restored.classes == before.classes and restored.entry["sha256"] == before.entry["sha256"]
    assert main(["bundle", "remove-task", str(bundle_copy), "variant"]) == 0
    assert Bundle.open(bundle_copy).task_names == ["surface"]
    capsys.readouterr()
    assert main(["bundle", "remove-task", str(bundle_copy), "surface"]) == 2
    assert "only task" in capsys.readouterr().err
