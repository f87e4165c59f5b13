"""Decode image files and camera frames to 8-bit RGB arrays.

Torch-free: training, evaluation, the GUI and the station runtime all decode
through here, so a grayscale, RGBA, 16-bit or EXIF-rotated photo looks the same
to the model everywhere.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageReadError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})

# Refuse absurd sizes before decoding instead of exhausting memory: 100 megapixels is above any inspection
# camera in use and below Pillow's own decompression-bomb error (about 179 megapixels), which is caught too.
MAX_PIXELS = 100_000_000


def is_image_file(path: str | os.PathLike) -> bool:
    name = Path(path).name
    return not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES


def read_image_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read a file as an ``HxWx3`` uint8 RGB array, upright according to its EXIF tag."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                check_pixel_count(image.width, image.height, path)
                image.load()
                image = ImageOps.exif_transpose(image)
                return pil_to_rgb(image)
    except ImageReadError:
        raise
    except Image.DecompressionBombError as error:   # not an OSError: Pillow refused to open it at all
        raise ImageReadError(f"{path}: image is too large to decode safely ({error})") from error
    except FileNotFoundError as error:
        raise ImageReadError(f"{path}: file not found") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, MemoryError) as error:
        raise ImageReadError(f"{path}: not a readable image ({type(error).__name__}: {error})") from error


def check_pixel_count(width: int, height: int, source: object) -> None:
    if width * height > MAX_PIXELS:
        raise ImageReadError(f"{source}: image is too large ({width}x{height} pixels; at most "
                             f"{MAX_PIXELS // 1_000_000} megapixels)")


def pil_to_rgb(image: Image.Image) -> np.ndarray:
    """Convert any PIL mode to uint8 RGB; 16-bit and float data are scaled, alpha is dropped."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        data = np.asarray(image, dtype=np.float64)
        return gray_to_rgb(_scale_to_uint8(data, 65535.0))
    if image.mode == "F":
        return gray_to_rgb(_scale_to_uint8(np.asarray(image, dtype=np.float64), 1.0))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Composite on black rather than keeping arbitrary colours under transparent pixels.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def frame_to_rgb(frame: np.ndarray, *, bgr: bool = True) -> np.ndarray:
    """Convert a camera frame (OpenCV gives BGR, maybe gray, BGRA or 16-bit) to uint8 RGB."""
    array = np.asarray(frame)
    if array.dtype == np.uint16:
        array = _scale_to_uint8(array.astype(np.float64), 65535.0)
    elif array.dtype != np.uint8:
        raise ImageReadError(f"unsupported frame type {array.dtype}")
    if array.ndim == 2:
        return gray_to_rgb(array)
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ImageReadError(f"unsupported frame shape {array.shape}")
    if array.shape[2] == 1:
        return gray_to_rgb(array[:, :, 0])
    array = array[:, :, :3]
    return np.ascontiguousarray(array[:, :, ::-1] if bgr else array)


def gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def _scale_to_uint8(data: np.ndarray, full_scale: float) -> np.ndarray:
    # A fixed full scale (not per-image min/max) keeps brightness comparable
    # between images, which defect inspection depends on.
    return np.clip(np.rint(data * (255.0 / full_scale)), 0, 255).astype(np.uint8)
