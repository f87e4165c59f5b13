"""The station runtime works where torch (and Qt, and TensorRT) cannot even be imported."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from test_export_support import copy_bundle, make_pack, python_without, shared_bundle, write_mixed_images

BLOCKED = ("torch", "torchvision", "timm", "PySide6", "PyQt5", "PyQt6", "tensorrt")

STATION_SCRIPT = textwrap.dedent("""
    import io, json, sys
    from contextlib import redirect_stdout
    import numpy as np

    try:
        import torch
    except ImportError as error:
        torch_error = str(error)
    else:
        raise SystemExit("torch imported although it is blocked")

    import vpt_engine
    from vpt_engine import read_task_pack, TaskPackData          # lazy names of the package
    import vpt_core.packformat, vpt_core.preprocess, vpt_core.images, vpt_core.metrics, vpt_core.atomicio
    import export, export.cli, vpt_core.contract, vpt_core.manifest, export.runtime.quantize
    import export.runtime.bundle_texts, export.runtime.bundle_edit
    import export.runtime.trt_build, export.runtime.trt_runner, export.runtime.trt_sidecar
    import export.runtime.trt_calibrator, export.runtime.trt_profiles, vpt_core.frames
    from export.runtime import Bundle, Station

    bundle_dir, images_dir = sys.argv[2], sys.argv[3]
    pack = read_task_pack(bundle_dir + "/tasks/surface.vptask")
    station = Station(bundle_dir)
    station.set_task("variant")
    result = station.predict_rgb(np.full((40, 60, 3), 90, np.uint8))

    from vpt_core.cli import main
    out = io.StringIO()
    with redirect_stdout(out):
        infer_code = main(["infer", bundle_dir, "--task", "surface", "--source", images_dir, "--json",
                           "--max-frames", "3"])
    build_code = main(["deploy", "build-engine", bundle_dir, "--fp16"])
    copy_dir, new_pack = sys.argv[4], sys.argv[5]
    add_code = main(["bundle", "add-task", copy_dir, new_pack])
    added = Station(copy_dir).task_names
    loaded = sorted({name.split(".")[0] for name in sys.modules} & {%s})
    print(json.dumps({"torch_error": torch_error, "label": result.label, "classes": station.classes,
                      "pack_classes": pack.classes, "infer_code": infer_code, "build_code": build_code,
                      "infer_lines": out.getvalue().splitlines(), "loaded": loaded,
                      "add_code": add_code, "added": added}))
""" % ", ".join(repr(name) for name in BLOCKED))


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


def test_station_and_vpt_infer_run_without_torch_qt_or_tensorrt(shared, tmp_path):
    script = tmp_path / "station_script.py"
    script.write_text(STATION_SCRIPT)
    images = tmp_path / "images"
    write_mixed_images(images, count_per_kind=1)
    copy = copy_bundle(shared["bundle"], tmp_path / "copy")
    new_pack = make_pack(tmp_path / "station_added.vptask", "station_added", 2, seed=11)
    done = subprocess.run([*python_without(BLOCKED), str(script), str(shared["bundle"]), str(images), str(copy),
                           str(new_pack)],
                          capture_output=True, text=True, timeout=120, cwd=str(shared["root"]))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "blocked" in result["torch_error"]
    assert result["loaded"] == []
    assert result["classes"] == ["variant_0", "variant_1", "variant_2"] and result["label"] in result["classes"]
    assert result["pack_classes"] == ["surface_0", "surface_1", "surface_2", "surface_3"]
    assert result["infer_code"] == 0
    *frames, summary = [json.loads(line) for line in result["infer_lines"]]
    assert len(frames) == 3 and all(frame["label"].startswith("surface_") for frame in frames)
    assert summary["summary"] and summary["frames"] == 3 and summary["stopped_by"] == "--max-frames 3"
    # TensorRT cannot be imported here: a clear one-line refusal, not a traceback.
    assert result["build_code"] == 2
    assert "the tensorrt Python package is not installed" in done.stderr
    # Adding a task is a station-side operation too.
    assert result["add_code"] == 0 and result["added"] == ["surface", "variant", "station_added"]
