"""Decoding of awkward image files and camera frames."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vpt_core.errors import ImageReadError
from vpt_core.images import frame_to_rgb, is_image_file, read_image_rgb
from vpt_engine.dataset import scan_image_folder


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    rgb = read_image_rgb(tmp_path / "g.png")
    assert rgb.shape == (12, 10, 3) and rgb.dtype == np.uint8
    assert np.array_equal(rgb[:, :, 0], gray) and np.array_equal(rgb[:, :, 2], gray)


def test_sixteen_bit_png_is_scaled_to_full_range(tmp_path):
    data = np.array([[0, 65535], [32896, 257]], dtype=np.uint16)
    Image.fromarray(data).save(tmp_path / "deep.png")
    assert read_image_rgb(tmp_path / "deep.png")[:, :, 0].tolist() == [[0, 255], [128, 1]]


def test_rgba_transparent_pixels_become_black(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)
    rgba[1, 1] = (0, 255, 0, 0)  # fully transparent green
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    rgb = read_image_rgb(tmp_path / "a.png")
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[1, 1].tolist() == [0, 0, 0]


def test_exif_orientation_is_applied(tmp_path):
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, :20] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(image).save(tmp_path / "r.jpg", exif=exif, quality=95)
    rgb = read_image_rgb(tmp_path / "r.jpg")
    assert rgb.shape == (40, 20, 3)
    assert rgb[:20].mean() > 200 and rgb[20:].mean() < 50  # white half is now on top


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n truncated"])
def test_corrupt_files_raise_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match="bad.png"):
        read_image_rgb(path)


def test_truncated_jpeg_raises(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "t.jpg")
    data = (tmp_path / "t.jpg").read_bytes()
    (tmp_path / "t.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="t.jpg"):
        read_image_rgb(tmp_path / "t.jpg")


def test_camera_frames_of_every_layout():
    bgr = np.zeros((4, 4, 3), np.uint8)
    bgr[..., 0] = 200  # blue in OpenCV order
    assert frame_to_rgb(bgr)[0, 0].tolist() == [0, 0, 200]
    assert frame_to_rgb(np.full((4, 4), 7, np.uint8))[0, 0].tolist() == [7, 7, 7]
    assert frame_to_rgb(np.zeros((4, 4, 4), np.uint8)).shape == (4, 4, 3)
    assert frame_to_rgb(np.full((2, 2), 65535, np.uint16))[0, 0].tolist() == [255, 255, 255]
    with pytest.raises(ImageReadError, match="frame"):
        frame_to_rgb(np.zeros((4, 4, 2), np.uint8))


def test_folder_scan_ignores_hidden_and_non_image_files(tmp_path):
    for name in ("a/1.png", "a/.hidden.png", "a/notes.txt", "b/2.JPG", "b/sub/3.bmp", ".trash/x.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    index = scan_image_folder(tmp_path)
    assert index.classes == ["a", "b"]
    assert sorted(p.name for p, _ in index.files) == ["1.png", "2.JPG", "3.bmp"]
    assert is_image_file("x.TIFF") and not is_image_file("x.gif")
