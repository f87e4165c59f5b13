"""Uploaded pictures to RGB arrays, refusing what is not a picture with a 4xx and one line.

Only a fixed list of formats is opened (Pillow would otherwise try every
plugin it has, some of which hand the bytes to external programs), the pixel
count is checked from the header before anything is decoded (a small file can
claim a huge picture), and EXIF rotation and odd modes are handled exactly as
files are everywhere else (``vpt_core.images.pil_to_rgb``).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vpt_core.images import pil_to_rgb

from .errors import BadRequest, PayloadTooLarge, UnsupportedMedia

ACCEPTED_FORMATS = ("JPEG", "PNG", "BMP", "TIFF", "WEBP", "PPM")
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp", "TIFF": ".tif", "WEBP": ".webp", "PPM": ".ppm"}
FORMAT_LIST = "JPEG, PNG, BMP, TIFF, WebP or PPM/PGM"


@dataclass(frozen=True)
class DecodedImage:
    rgb: np.ndarray
    format: str

    @property
    def suffix(self) -> str:
        return SUFFIXES.get(self.format, ".img")


def decode_image(data: bytes, max_pixels: int) -> DecodedImage:
    if not data:
        raise BadRequest("the body is empty: send the picture's bytes, or multipart/form-data with the field 'image'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except Image.DecompressionBombError as error:
            raise PayloadTooLarge(f"the picture is far too large ({error})") from error
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise UnsupportedMedia(f"the body ({len(data)} bytes) is not a {FORMAT_LIST} picture") from error
        with image:
            pixels = image.width * image.height
            if pixels > max_pixels:
                raise PayloadTooLarge(f"the picture is {image.width}x{image.height} ({pixels} pixels); this station "
                                      f"accepts at most {max_pixels} pixels (--max-pixels)")
            try:
                image.load()
                upright = ImageOps.exif_transpose(image)
                return DecodedImage(pil_to_rgb(upright), image.format or "")
            except Image.DecompressionBombError as error:
                raise PayloadTooLarge(f"the picture is far too large ({error})") from error
            except (OSError, ValueError, SyntaxError, EOFError) as error:
                raise BadRequest(f"the {image.format} picture is damaged or truncated ({error})") from error
