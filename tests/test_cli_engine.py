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
    code = main(["train", str(data), *TINY_ARGS, "--prompts", "4", "--epochs", "2", "--out", str(out), "--json"])
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


def test_predict_json_gives_label_and_confidence_and_names_bad_files(trained_task, capsys, tmp_path):
    out, data, _ = trained_task
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"nope")
    image = next((data / "good").iterdir())
    assert main(["predict", str(out), str(image), str(broken), "--json"]) == 1
    predictions = json.loads(capsys.readouterr().out)["predictions"]
    assert predictions[0]["label"] in ("good", "bad") and 0.5 <= predictions[0]["confidence"] <= 1.0
    assert predictions[1]["label"] is None and "broken.png" in predictions[1]["error"]


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
    assert main(["train", str(data), *TINY_ARGS, "--image-fit", "whole", "--prompts", "2", "--epochs", "1",
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
