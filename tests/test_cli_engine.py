"""``vpt train``, ``vpt eval`` and ``vpt predict`` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from vpt_core.cli import main

from conftest import TINY_MODEL_KWARGS

TINY_ARGS = ["--backbone", "vit_tiny_patch16_224", "--random-init"] + [
    f"--model-arg={k}={v}" for k, v in TINY_MODEL_KWARGS.items()]


@pytest.fixture
def trained_task(make_image_folder, tmp_path, capsys):
    data = make_image_folder({"good": 5, "bad": 5})
    out = tmp_path / "task.vptask"
    code = main(["train", str(data), *TINY_ARGS, "--prompts", "4", "--steps", "2", "--out", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    return out, data, summary


def test_train_writes_a_pack_and_prints_one_json_document(trained_task):
    out, _, summary = trained_task
    assert out.is_file() and summary["task"] == str(out)
    assert summary["classes"] == ["bad", "good"] and summary["prompt"]["num_prompts"] == 4
    assert summary["size_bytes"] == out.stat().st_size


def test_eval_json_reports_accuracy_per_class_and_confusion(trained_task, capsys):
    out, data, _ = trained_task
    assert main(["eval", str(out), str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 10 and 0.0 <= report["accuracy"] <= 1.0
    assert set(report["per_class_accuracy"]) == {"bad", "good"}
    assert sum(map(sum, report["confusion_matrix"])) == 10
    from vpt_core.packformat import read_task_pack

    uncertain = report["uncertain"]
    assert uncertain["min_confidence"] == read_task_pack(out).min_confidence
    assert 0 <= uncertain["routed"] <= 10 and 0.0 <= uncertain["routed_fraction"] <= 1.0


def test_routing_counts_what_falls_below_the_threshold():
    import numpy as np

    from vpt_core.metrics import classification_report

    logits = np.log(np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]]))
    report = classification_report(["a", "b"], np.array([0, 1, 1, 0]), logits)
    routing = report.routing(0.65)
    assert routing["routed"] == 2 and routing["routed_fraction"] == 0.5
    assert routing["accuracy_of_rest"] == 1.0 and routing["accuracy_of_routed"] == 0.0


def test_predict_json_gives_label_and_confidence_and_names_bad_files(trained_task, capsys, tmp_path):
    out, data, _ = trained_task
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"nope")
    image = next((data / "good").iterdir())
    assert main(["predict", str(out), str(image), str(broken), "--json"]) == 1
    predictions = json.loads(capsys.readouterr().out)["predictions"]
    assert predictions[0]["label"] in ("good", "bad") and 0.5 <= predictions[0]["confidence"] <= 1.0
    assert predictions[1]["label"] is None and "broken.png" in predictions[1]["error"]


def test_train_refuses_to_overwrite_a_task_unless_told(trained_task, make_image_folder, capsys):
    out, data, _ = trained_task
    before = out.read_bytes()
    argv = ["train", str(data), *TINY_ARGS, "--prompts", "4", "--steps", "1", "--out", str(out)]
    assert main(argv) == 2
    assert "already a file; choose another --out or pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main(argv + ["--overwrite"]) == 0 and out.read_bytes() != before


def test_train_without_a_backbone_uses_the_embedded_model_offline(make_image_folder, tmp_path, capsys, monkeypatch):
    from vpt_core.packformat import read_task_pack
    from vpt_engine.embedded import DEFAULT_MODEL

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = make_image_folder({"good": 2, "bad": 2})
    out = tmp_path / "embedded.vptask"
    assert main(["train", str(data), "--steps", "1", "--out", str(out)]) == 0
    pack = read_task_pack(out)
    assert pack.backbone.timm_name == DEFAULT_MODEL.timm_name
    assert pack.backbone.weights_source == f"embedded:{DEFAULT_MODEL.key}"
    assert pack.preprocess_spec.image_fit == "whole"


def test_eval_refuses_unknown_class_folders(trained_task, capsys):
    out, data, _ = trained_task
    shutil.copytree(data / "good", data / "rusty")
    assert main(["eval", str(out), str(data)]) == 2
    assert "rusty" in capsys.readouterr().err


def test_errors_are_one_line_on_stderr_with_nonzero_exit(make_image_folder, tmp_path):
    data = make_image_folder({"a": 2, "b": 2})
    command = [sys.executable, "-m", "vpt_core.cli", "train", str(data), "--backbone", "vit_tiny_patch16_224",
               "--weights", str(tmp_path / "missing.pth"), "--out", str(tmp_path / "t.vptask"), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("vpt train: error:") and "missing.pth" in last
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "t.vptask").exists()


def test_missing_weights_source_is_explained(make_image_folder, tmp_path, capsys):
    data = make_image_folder({"a": 2, "b": 2})
    code = main(["train", str(data), "--backbone", "vit_small_patch16_224", "--out", str(tmp_path / "t.vptask")])
    assert code == 2
    assert "--weights FILE" in capsys.readouterr().err


def test_train_with_whole_picture_fit_records_it_and_predict_uses_it(make_image_folder, tmp_path, capsys):
    from vpt_core.packformat import read_task_pack

    data = make_image_folder({"good": 3, "bad": 3})
    out = tmp_path / "whole.vptask"
    assert main(["train", str(data), *TINY_ARGS, "--image-fit", "whole", "--prompts", "2", "--steps", "1",
                 "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    preprocess = read_task_pack(out).preprocess
    assert (preprocess["crop_mode"], preprocess["crop_pct"]) == ("squash", 1.0)
    image = next((data / "good").iterdir())
    assert main(["predict", str(out), str(image), "--json"]) == 0
    probabilities = json.loads(capsys.readouterr().out)["predictions"][0]["probabilities"]

    import torch

    from vpt_core.images import read_image_rgb
    from vpt_core.preprocess import PreprocessSpec
    from vpt_engine.taskpack import load_task

    task = load_task(out)
    whole = PreprocessSpec.from_dict(preprocess)
    with torch.no_grad():
        expected = task.model(torch.from_numpy(whole(read_image_rgb(image))[None])).softmax(1)[0]
    assert [probabilities[c] for c in task.pack.classes] == pytest.approx(expected.tolist(), abs=1e-5)


def test_keep_trained_head_is_recorded_in_the_pack(make_image_folder, tmp_path, capsys):
    from vpt_core.packformat import read_task_pack

    data = make_image_folder({"good": 4, "bad": 4})
    for flags, expected in (([], True), (["--keep-trained-head"], False)):
        out = tmp_path / f"task{len(flags)}.vptask"
        assert main(["train", str(data), *TINY_ARGS, "--prompts", "2", "--steps", "1", "--out", str(out),
                     *flags]) == 0
        assert read_task_pack(out).training["refit_head"] is expected
