"""Evaluation preprocessing, described by the backbone's own timm data config.

The numbers (input size, mean, std, interpolation, crop) are read from
``timm.data.resolve_model_data_config`` when the backbone is built and stored in
every task pack; this module only *applies* them, with numpy and Pillow, so the
station runtime produces exactly the tensors training saw without torch.
The resize and crop arithmetic mirrors timm's ``transforms_imagenet_eval`` on PIL
images (tests compare against it).

One geometric choice is the user's, not the backbone's: the *image fit*.
``crop`` keeps the backbone's own resize and centre crop (what it was evaluated
with); it cuts off the border and, on elongated parts, a lot more. ``whole``
scales the whole image to the input size (aspect ratio not kept) and ``pad``
fits the whole image inside it, padding with the mean colour; with either, a
defect at the edge of the picture is still seen.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image

from .errors import ConfigError

_PIL_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}
_CROP_MODES = ("center", "squash", "border")
CROP_MODES = _CROP_MODES
INTERPOLATIONS = tuple(_PIL_FILTERS)
IMAGE_FITS = ("crop", "whole", "pad")
# The backbone's resize scales the shorter side, so a 8000x1 picture would become 256 x 2,048,000 pixels before
# the centre crop keeps 224 of them. ``resize`` keeps at most this many times the scaled size along each side
# (the centre, which holds the crop): memory and time stay bounded whatever the shape.
MAX_RESIZE_ASPECT = 4
_FIT_CROP_MODES = {"whole": "squash", "pad": "border"}


@dataclass(frozen=True)
class PreprocessSpec:
    input_size: tuple[int, int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"
    crop_pct: float = 0.875
    crop_mode: str = "center"
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.input_size) != 3 or self.input_size[0] != 3 or min(self.input_size) <= 0:
            raise ConfigError(f"input_size must be (3, H, W), got {self.input_size}")
        if self.interpolation not in _PIL_FILTERS:
            raise ConfigError(f"unknown interpolation {self.interpolation!r}; use one of {sorted(_PIL_FILTERS)}")
        if not 0 < self.crop_pct <= 1.5:
            raise ConfigError(f"crop_pct must be in (0, 1.5], got {self.crop_pct}")
        if self.crop_mode not in _CROP_MODES:
            raise ConfigError(f"unknown crop_mode {self.crop_mode!r}; use one of {_CROP_MODES}")
        if any(s <= 0 for s in self.std):
            raise ConfigError(f"std must be positive, got {self.std}")

    @classmethod
    def from_data_config(cls, config: Mapping[str, Any]) -> "PreprocessSpec":
        """Build from a timm data config (the dict ``resolve_model_data_config`` returns)."""
        return cls(
            input_size=tuple(int(v) for v in config["input_size"]),
            mean=_triple(config["mean"]),
            std=_triple(config["std"]),
            interpolation=str(config.get("interpolation") or "bilinear"),
            crop_pct=float(config.get("crop_pct") or 0.875),
            crop_mode=str(config.get("crop_mode") or "center"),
        )

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "PreprocessSpec":
        return cls.from_data_config(document)

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document.pop("extra")
        document["input_size"] = list(self.input_size)
        document["mean"] = list(self.mean)
        document["std"] = list(self.std)
        return document

    def fitted(self, image_fit: str) -> "PreprocessSpec":
        """This spec with the given image fit; ``crop`` keeps the backbone's own geometry unchanged."""
        image_fit = check_image_fit(image_fit)
        if image_fit == "crop":
            return self
        return replace(self, crop_mode=_FIT_CROP_MODES[image_fit], crop_pct=1.0)

    @property
    def image_fit(self) -> str:
        if self.crop_pct == 1.0:
            for fit, mode in _FIT_CROP_MODES.items():
                if self.crop_mode == mode:
                    return fit
        return "crop"

    @property
    def height(self) -> int:
        return self.input_size[1]

    @property
    def width(self) -> int:
        return self.input_size[2]

    def scale_size(self) -> tuple[int, int]:
        return math.floor(self.height / self.crop_pct), math.floor(self.width / self.crop_pct)

    def resize(self, rgb: np.ndarray) -> np.ndarray:
        """First geometric step: scale the image for the crop (uint8 HxWx3 in and out)."""
        image = Image.fromarray(_as_uint8_rgb(rgb))
        resample = _PIL_FILTERS[self.interpolation]
        if self.crop_mode == "squash":
            size = self.scale_size()[::-1]
        elif self.crop_mode == "border":
            scale_h, scale_w = self.scale_size()
            ratio = max(image.height / scale_h, image.width / scale_w)
            size = (max(1, round(image.width / ratio)), max(1, round(image.height / ratio)))
        else:
            size = _shorter_side_size(image.size, self.scale_size())
            window = _centre_window(size, MAX_RESIZE_ASPECT * max(self.scale_size()))
            if window is not None:
                return np.asarray(_resize_window(image, size, window, resample))
        return np.asarray(image.resize(size, resample))

    def crop(self, resized: np.ndarray) -> np.ndarray:
        """Second geometric step: centre crop to the input size, padding with the mean colour if needed."""
        return _center_crop(resized, self.height, self.width, fill=tuple(round(255 * m) for m in self.mean))

    def resize_and_crop(self, rgb: np.ndarray) -> np.ndarray:
        """Geometric part only: uint8 ``HxWx3`` in, uint8 ``input_size`` image out."""
        return self.crop(self.resize(rgb))

    def normalize(self, rgb_uint8: np.ndarray) -> np.ndarray:
        """uint8 ``HxWx3`` -> float32 ``3xHxW``, scaled to [0, 1] then standardised."""
        mean = np.asarray(self.mean, dtype=np.float32).reshape(3, 1, 1)
        std = np.asarray(self.std, dtype=np.float32).reshape(3, 1, 1)
        chw = np.asarray(rgb_uint8, dtype=np.float32).transpose(2, 0, 1) / np.float32(255.0)
        return (chw - mean) / std

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self.normalize(self.resize_and_crop(rgb))

    def batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, *self.input_size), dtype=np.float32)
        return np.stack([self(image) for image in images]).astype(np.float32, copy=False)


def check_image_fit(value: str) -> str:
    if value not in IMAGE_FITS:
        raise ConfigError(f"unknown image fit {value!r}; use one of {', '.join(IMAGE_FITS)}")
    return value


def _triple(values: Any) -> tuple[float, float, float]:
    values = tuple(float(v) for v in (values if isinstance(values, (list, tuple)) else [values] * 3))
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise ConfigError(f"expected 3 channel values, got {values}")
    return values


def _as_uint8_rgb(rgb: np.ndarray) -> np.ndarray:
    array = np.asarray(rgb)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ConfigError(f"expected a uint8 HxWx3 RGB image, got {array.dtype} {array.shape}")
    return array


def _shorter_side_size(size: tuple[int, int], scale: tuple[int, int]) -> tuple[int, int]:
    """PIL (width, height) after resizing the shorter side, as torchvision computes it."""
    width, height = size
    if scale[0] != scale[1]:
        ratio = max(scale[0] / height, scale[1] / width)
        return round(width * ratio), round(height * ratio)
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = scale[0], int(scale[0] * long / short)
    return (new_short, new_long) if width <= height else (new_long, new_short)


def _centre_window(size: tuple[int, int], limit: int) -> tuple[int, int, int, int] | None:
    """The centre (left, top, width, height) of a ``size`` resize, at most ``limit`` long; None if it all fits.

    Offsets are even, so the centre crop taken from the window lands on the same pixels as from the whole
    resize (the crop rounds half to even, and shifting by an even number keeps that rounding).
    """
    width, height = size
    if width <= limit and height <= limit:
        return None
    left = 2 * math.ceil((width - limit) / 4) if width > limit else 0
    top = 2 * math.ceil((height - limit) / 4) if height > limit else 0
    return left, top, width - 2 * left, height - 2 * top


def _resize_window(image: Image.Image, size: tuple[int, int], window: tuple[int, int, int, int], resample):
    """``window`` of ``image.resize(size)``, computed from the matching part of the source alone.

    The source is first cut to that part plus the filter's reach (so every pixel the filter would use is
    there), and the rest of the window is given to Pillow relative to the cut: Pillow holds the box in single
    precision, and small coordinates keep it exact to well below a pixel (results within one grey level of the
    whole resize for the smooth filters; nearest-neighbour may pick the neighbouring pixel at an exact tie).
    """
    left, top, width, height = window
    scale_x, scale_y = image.width / size[0], image.height / size[1]
    box = (left * scale_x, top * scale_y, (left + width) * scale_x, (top + height) * scale_y)
    reach_x, reach_y = (math.ceil(_FILTER_REACH * max(scale, 1.0)) + 1 for scale in (scale_x, scale_y))
    cut = (max(0, math.floor(box[0]) - reach_x), max(0, math.floor(box[1]) - reach_y),
           min(image.width, math.ceil(box[2]) + reach_x), min(image.height, math.ceil(box[3]) + reach_y))
    relative = (box[0] - cut[0], box[1] - cut[1], box[2] - cut[0], box[3] - cut[1])
    return image.crop(cut).resize((width, height), resample, box=relative)


_FILTER_REACH = 3   # source pixels each side at scale 1: Lanczos' support, the widest of Pillow's filters


def _center_crop(array: np.ndarray, height: int, width: int, fill) -> np.ndarray:
    """Crop (or pad with ``fill``) the centre to ``height x width``, rounding like torchvision."""
    if array.shape[0] < height or array.shape[1] < width:
        pad_h, pad_w = max(0, height - array.shape[0]), max(0, width - array.shape[1])
        top, left = pad_h // 2, pad_w // 2
        padded = np.empty((array.shape[0] + pad_h, array.shape[1] + pad_w, 3), dtype=np.uint8)
        padded[...] = np.asarray(fill if fill is not None else (0, 0, 0), dtype=np.uint8)
        padded[top:top + array.shape[0], left:left + array.shape[1]] = array
        array = padded
    top = int(round((array.shape[0] - height) / 2.0))
    left = int(round((array.shape[1] - width) / 2.0))
    return np.ascontiguousarray(array[top:top + height, left:left + width])
