"""Print-ready QR codes for resolver URIs: a scalable SVG for the pack designer and a PNG for everything else.

The URI is taken as given: the resolver decides what is a valid GS1 Digital Link, this module only draws it.
Output is deterministic (same URI, same bytes), so the views can derive an ETag from the bytes or the URI alone.
"""

import io
from typing import Any

import qrcode
import qrcode.constants
from PIL.PngImagePlugin import PngInfo
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathFillImage

# Level Q restores up to ~25% of the symbol: packs get scuffed, folded over a seam or half-covered by a price
# sticker on the shelf, and the extra modules over M (~15%) cost little at the lengths a Digital Link has.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
# Four modules of light margin is the minimum ISO/IEC 18004 asks for; less and phone scanners miss the finder.
QUIET_ZONE_MODULES = 4
# ~10 px a module: sharp on screens and in office prints; print shops take the SVG.
PNG_PIXELS_PER_MODULE = 10
# SvgPathImage measures in tenths of box_size, so 10 makes one viewBox unit equal one module.
_SVG_BOX_SIZE = 10


class ScalableSvgImage(SvgPathFillImage):
    """One compact path, black on a white background, with a viewBox and no width or height: it scales to any size."""

    def _svg(self, *args: Any, **kwargs: Any) -> Any:
        svg = super()._svg(*args, **kwargs)
        # qrcode fixes the size in millimetres; without it the artwork sets the printed size.
        svg.attrib.pop("width", None)
        svg.attrib.pop("height", None)
        return svg


def _code(uri: str, *, box_size: int) -> qrcode.QRCode:
    if not uri:
        raise ValueError("A QR code needs a non-empty URI.")
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=box_size, border=QUIET_ZONE_MODULES)
    code.add_data(uri)
    code.make(fit=True)  # the smallest version that holds the URI at level Q
    return code


def qr_svg(uri: str) -> bytes:
    """The URI as a standalone SVG document (UTF-8), one viewBox unit per module."""
    image = _code(uri, box_size=_SVG_BOX_SIZE).make_image(image_factory=ScalableSvgImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_png(uri: str) -> bytes:
    """The URI as a black-on-white PNG at ~10 px a module, with no metadata, so equal URIs give equal bytes."""
    image = _code(uri, box_size=PNG_PIXELS_PER_MODULE).make_image(
        image_factory=PilImage, fill_color="black", back_color="white"
    )
    buffer = io.BytesIO()
    # An empty PngInfo keeps text and time chunks out; optimize only shrinks the deflate stream, deterministically.
    image.save(buffer, format="PNG", pnginfo=PngInfo(), optimize=True)
    return buffer.getvalue()
