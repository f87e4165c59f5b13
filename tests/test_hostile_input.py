"""Bad input is refused or skipped with one line naming the file or value (issue 14, cases 4-9).

Each test feeds what a hostile user tried: decompression bombs, absurd aspect
ratios, edited task packs, hand-edited manifests and project files, negative
counts, empty sources, broken and looping links. Everything must end in one
line (or one named skip), never a traceback, and nothing already there may be
damaged.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from export.runtime import Bundle, Station
from vpt_core.cli import main
from vpt_core.errors import BundleError, ImageReadError, TaskPackError
from vpt_core.imagefiles import list_images
from vpt_core.images import read_image_rgb
from vpt_core.manifest import sha256_file
from vpt_core.packformat import read_task_pack
from vpt_core.preprocess import PreprocessSpec
from test_export_support import copy_bundle, shared_bundle, write_mixed_images

SPEC_224 = PreprocessSpec((3, 224, 224), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle_copy(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


def run_cli(args) -> tuple[int, str, str]:
    """``vpt ARGS`` in this process: exit code, stdout, stderr."""
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def png_bomb(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A valid 1-bit PNG declaring width x height pixels in a few tens of kilobytes."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    data = zlib.compress(row * height, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


# -- case 4: decompression bombs ------------------------------------------------------------------
def test_a_decompression_bomb_is_an_unreadable_image_named_by_its_file(tmp_path):
    bomb = png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ImageReadError, match="bomb.png: image is too large"):
        read_image_rgb(bomb)


def test_vpt_infer_skips_a_bomb_and_goes_on_with_the_next_frame(shared, tmp_path):
    folder = tmp_path / "frames"
    write_mixed_images(folder, count_per_kind=1)
    png_bomb(folder / "a_bomb.png")   # first in name order
    code, out, err = run_cli(["infer", shared["bundle"], "--task", "surface", "--source", folder, "--json"])
    assert code == 0, err
    *frames, summary = [json.loads(line) for line in out.splitlines()]
    assert len(frames) == 5 and summary["skipped"] == 1
    assert "a_bomb.png: image is too large" in summary["skipped_reasons"][0]


def test_parity_images_skip_a_bomb_with_its_name(tmp_path):
    from export.parity import collect_parity_images

    folder = tmp_path / "parity"
    write_mixed_images(folder, count_per_kind=1)
    png_bomb(folder / "bomb.png")
    images = collect_parity_images(folder)
    assert len(images.images) == 5 and any("bomb.png: image is too large" in s for s in images.skipped)


# -- case 5: extreme aspect ratios -------------------------------------------------------------------
MEMORY_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from vpt_core.preprocess import PreprocessSpec
    resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))   # the old resize needed 1.5-6 GB here
    spec = PreprocessSpec((3, 224, 224), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    for width in (8000, 30000):
        started = time.perf_counter()
        out = spec(np.full((1, width, 3), 128, np.uint8))
        resized = spec.resize(np.full((width, 1, 3), 128, np.uint8))
        print(json.dumps({"width": width, "out": out.shape, "resized": resized.shape,
                          "seconds": time.perf_counter() - started}))
""")


def test_one_pixel_high_pictures_preprocess_in_bounded_memory_and_time(tmp_path):
    script = tmp_path / "memory.py"
    script.write_text(MEMORY_SCRIPT)
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(repo)})
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["width"] for r in results] == [8000, 30000]
    for result in results:
        assert result["out"] == [3, 224, 224]
        assert result["resized"] == [1024, 256, 3]   # what training keeps per image: not 7.68 million x 256
        assert result["seconds"] < 2.0


def test_bounded_resize_gives_the_same_crop_as_the_whole_resize(tmp_path):
    """For elongated pictures the bounded path must not change what the model sees (within one grey level)."""
    from vpt_core.preprocess import _PIL_FILTERS, _shorter_side_size

    rng = np.random.default_rng(3)
    for height, width in [(1, 2000), (37, 4000), (2000, 7), (120, 2900), (300, 1500)]:
        for interpolation in ("bicubic", "bilinear", "lanczos"):
            spec = PreprocessSpec((3, 224, 224), (0.5,) * 3, (0.5,) * 3, interpolation=interpolation)
            rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            image = Image.fromarray(rgb)
            whole = np.asarray(image.resize(_shorter_side_size(image.size, spec.scale_size()),
                                            _PIL_FILTERS[interpolation]))
            bounded = spec.resize(rgb)
            assert max(bounded.shape[:2]) <= 4 * 256
            difference = np.abs(spec.crop(whole).astype(int) - spec.crop(bounded).astype(int))
            assert difference.max() <= 1, (height, width, interpolation)


def test_vpt_infer_on_a_one_pixel_high_picture_takes_one_frame(shared, tmp_path):
    folder = tmp_path / "wide"
    folder.mkdir()
    Image.fromarray(np.full((1, 30000, 3), 128, np.uint8)).save(folder / "w30000.png")
    code, out, err = run_cli(["infer", shared["bundle"], "--task", "surface", "--source", folder, "--json"])
    assert code == 0, err
    frame, summary = [json.loads(line) for line in out.splitlines()]
    assert frame["name"] == "w30000.png" and summary["frames"] == 1


# -- case 6: a pack the bundle cannot run ----------------------------------------------------------
def edited_pack(source: Path, target: Path, edit) -> Path:
    """A copy of a task pack whose JSON description ``edit(document)`` changed (tensors kept)."""
    from safetensors.numpy import load, save_file

    from vpt_core.packformat import _safetensors_metadata

    data = source.read_bytes()
    document = json.loads(_safetensors_metadata(data, str(source))["vptask"])
    document = edit(document) or document
    save_file(load(data), str(target), metadata={"vptask": json.dumps(document)})
    return target


def test_a_pack_edited_to_another_input_size_is_refused_and_the_bundle_keeps_serving(shared, bundle_copy, tmp_path):
    def smaller(document):
        document["preprocess"]["input_size"] = [3, 16, 16]
        document["name"] = "small"

    pack = edited_pack(shared["packs"]["surface"], tmp_path / "small.vptask", smaller)
    before = sha256_file(bundle_copy / "manifest.json")
    code, _, err = run_cli(["bundle", "add-task", bundle_copy, pack])
    assert "small.vptask: preprocess.input_size [3, 16, 16] does not fit the backbone" in one_line_error(code, err)
    assert sha256_file(bundle_copy / "manifest.json") == before and not (bundle_copy / "tasks" / "small.vptask").exists()
    station = Station(bundle_copy)
    for name in ("surface", "variant"):
        station.set_task(name)
        assert np.isfinite(station.predict_rgb(np.zeros((30, 30, 3), np.uint8)).probabilities).all()


def test_one_damaged_task_is_named_and_the_others_serve(shared, bundle_copy, tmp_path):
    def damage(document):
        document["preprocess"]["input_size"] = [3, 16, 16]

    edited_pack(shared["packs"]["variant"], bundle_copy / "tasks" / "variant.vptask", damage)
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    entry = next(e for e in manifest["tasks"] if e["name"] == "variant")
    entry["sha256"] = sha256_file(bundle_copy / "tasks" / "variant.vptask")   # damage that passes the sha256
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    bundle = Bundle.open(bundle_copy)
    assert list(bundle.tasks) == ["surface"] and "does not fit the backbone" in bundle.problems["variant"]
    images = tmp_path / "images"
    write_mixed_images(images, count_per_kind=1)
    code, out, err = run_cli(["infer", bundle_copy, "--task", "surface", "--source", images])
    assert code == 0 and len(out.splitlines()) == 5
    assert "note: task 'variant' left out:" in err
    code, _, err = run_cli(["infer", bundle_copy, "--task", "variant", "--source", images])
    assert "task 'variant' cannot be used:" in one_line_error(code, err)
    code, out, _ = run_cli(["bundle", "info", bundle_copy])
    assert code == 0 and "task surface:" in out and "task 'variant' left out:" in out


def test_a_bundle_with_no_usable_task_is_refused_naming_each(bundle_copy):
    for pack in (bundle_copy / "tasks").iterdir():
        pack.write_bytes(b"junk")
    with pytest.raises(BundleError, match="no task of the bundle can be used: .*surface.*variant"):
        Bundle.open(bundle_copy)


# -- case 8: malformed fields are one line naming the field --------------------------------------------
@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format_version="abc"), "format_version must be a whole number"),
    (lambda d: ["a", "list"], "task pack description must be a JSON object, got list"),
    (lambda d: d.update(classes="abc"), "classes must be a list"),
    (lambda d: d.update(classes=["a", "a"]), "classes\\[1\\] repeats 'a'"),
    (lambda d: d["backbone"].update(embed_dim="x"), "backbone.embed_dim must be a whole number"),
    (lambda d: d["preprocess"].update(std=[0.2, float("nan"), 0.2]), "preprocess.std\\[1\\] must be a finite"),
    (lambda d: d["preprocess"].update(interpolation="cubic"), "preprocess.interpolation must be one of"),
    (lambda d: d.update(rejection="abc"), "rejection must be a JSON object"),
    (lambda d: d.update(rejection={"min_confidence": 2}), "rejection.min_confidence must be a finite number"),
])
def test_malformed_task_pack_fields_are_named(shared, tmp_path, bundle_copy, edit, message):
    pack = edited_pack(shared["packs"]["surface"], tmp_path / "bad.vptask", edit)
    with pytest.raises(TaskPackError, match=f"bad.vptask: {message}"):
        read_task_pack(pack)
    code, _, err = run_cli(["bundle", "add-task", bundle_copy, pack, "--replace"])
    assert "bad.vptask" in one_line_error(code, err)


def _manifest_edit(root: Path, edit) -> None:
    manifest = json.loads((root / "manifest.json").read_text())
    edit(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(tasks="base"), "tasks must be a list, got 'base'"),
    (lambda m: m.update(backbone={}), "backbone.sha256 is missing"),
    (lambda m: m["tasks"][0].pop("file"), "tasks\\[0\\].file is missing"),
    (lambda m: m["tasks"].append(dict(m["tasks"][0])), "tasks\\[2\\].name repeats 'surface'"),
    (lambda m: m["tasks"][0].update(file="../../outside.vptask"), "tasks\\[0\\].file must be a relative path"),
    (lambda m: m["tasks"][0].update(name="../x"), "tasks\\[0\\].name must be a plain task name"),
    (lambda m: m.update(format_version="x"), "format_version must be a whole number"),
    (lambda m: m.update(int8_cpu={"sha256": 5}), "int8_cpu.sha256 must be text"),
])
def test_malformed_manifest_fields_are_named(shared, bundle_copy, edit, message):
    _manifest_edit(bundle_copy, edit)
    with pytest.raises(BundleError, match=f"manifest.json: {message}"):
        Bundle.open(bundle_copy)
    for command in (["bundle", "info", bundle_copy],
                    ["bundle", "add-task", bundle_copy, shared["packs"]["variant"], "--replace"]):
        code, _, err = run_cli(command)
        assert "manifest.json: " in one_line_error(code, err)


@pytest.mark.parametrize("args, message", [
    (["--max-frames", "-1"], "--max-frames must be a whole number of at least 1, got -1"),
    (["--max-frames", "0"], "--max-frames must be a whole number of at least 1, got 0"),
    (["--max-retries", "-1"], "--max-retries must be a whole number of at least 0, got -1"),
    (["--threads", "-1"], "--threads must be a whole number of at least 1, got -1"),
])
def test_impossible_counts_for_vpt_infer_are_refused(shared, tmp_path, args, message):
    code, _, err = run_cli(["infer", shared["bundle"], "--task", "surface", "--source", tmp_path, *args])
    assert message in one_line_error(code, err)


def test_quantize_cpu_refuses_zero_images(bundle_copy, tmp_path):
    code, _, err = run_cli(["bundle", "quantize-cpu", bundle_copy, "--task", "surface", "--images", tmp_path,
                            "--max-images", "0"])
    assert "--max-images must be a whole number of at least 1, got 0" in one_line_error(code, err)


# -- case 9: empty sources and links that lead nowhere ---------------------------------------------
def test_an_empty_source_is_refused_before_anything_is_scanned(shared, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["infer", shared["bundle"], "--task", "surface", "--source", ""])
    assert "the source is empty" in one_line_error(code, err)


def test_broken_and_looping_links_are_named_when_skipped(shared, tmp_path):
    folder = tmp_path / "frames"
    write_mixed_images(folder, count_per_kind=1)
    os.symlink(tmp_path / "gone.png", folder / "broken.png")
    os.symlink(folder / "loop.png", folder / "loop.png")
    os.symlink(folder, folder / "linked_folder")
    skipped: list[str] = []
    assert len(list_images(folder, skipped)) == 5
    assert [Path(reason.split(":")[0]).name for reason in skipped] == ["broken.png", "linked_folder", "loop.png"]
    assert "broken link" in skipped[0] and "loops back" in skipped[2] and "not followed" in skipped[1]
    code, out, err = run_cli(["infer", shared["bundle"], "--task", "surface", "--source", folder, "--json"])
    assert code == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["frames"] == 5 and summary["skipped"] == 2
    assert any("broken.png: a broken link" in r for r in summary["skipped_reasons"])
    assert any("loop.png: a link that loops" in r for r in summary["skipped_reasons"])


def test_a_single_picture_is_a_source_read_like_a_folder_image(shared, tmp_path):
    """A picture given as --source is decoded with the image reader (bomb guard included), not as a video."""
    bomb = png_bomb(tmp_path / "bomb.png")
    code, out, err = run_cli(["infer", shared["bundle"], "--task", "surface", "--source", bomb, "--json"])
    assert code == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["frames"] == 0 and "bomb.png: image is too large" in summary["skipped_reasons"][0]
    picture = write_mixed_images(tmp_path / "one", count_per_kind=1)[0]
    code, out, _ = run_cli(["infer", shared["bundle"], "--task", "surface", "--source", picture])
    assert code == 0 and out.startswith(picture.name)


# -- a write failure inside the pack writer (the full disk during vpt train saves its pack through here) ------
WRITE_LIMIT_SCRIPT = textwrap.dedent("""
    import resource, signal, sys
    import numpy as np
    sys.path.insert(0, "tests")
    from vpt_core.errors import DiskWriteError
    from vpt_core.packformat import read_task_pack
    pack = read_task_pack(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
    try:
        pack.save(sys.argv[2])
    except DiskWriteError as error:
        print("DiskWriteError:", error)
""")


def test_a_failing_disk_while_saving_a_pack_is_the_toolkits_one_line_error(shared, tmp_path):
    script = tmp_path / "limit.py"
    script.write_text(WRITE_LIMIT_SCRIPT)
    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, str(script), str(shared["packs"]["surface"]), str(out / "new.vptask")],
                          capture_output=True, text=True, timeout=60, cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("DiskWriteError: cannot write ") and "new.vptask" in done.stdout
    assert list(out.iterdir()) == []   # no half-written pack, no temporary file
