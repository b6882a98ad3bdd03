"""QR images decode back to their URI with a real decoder (zxing-cpp), from the PNG and from the SVG alike."""

import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from core.qr import qr_png, qr_svg

ROOT = "http://127.0.0.1:8000"
URIS = {
    "gtin only": f"{ROOT}/01/09506000134352",
    "lot with a slash": f"{ROOT}/01/09506000134352/10/2026%2F03-A",
    "serial": f"{ROOT}/01/09506000134352/10/ABC123/21/SN-000042",
    "no gtin": f"{ROOT}/p/7K2M9X4QRT/10/LOT-00001",
    "long": (
        "https://id.socialbiz.example.org/01/09506000134352/10/COOP-ASHANTI%2F2026-03/21/"
        "SERIAL-00000000000042?linkType=gs1:traceability&utm_source=shelf-label&utm_medium=qr&lang=en-GB&ref=pack-front-left"
    ),
}
SVG = "{http://www.w3.org/2000/svg}"
# What qrcode's SvgPathImage draws for one dark module: "M4,4H5V5H4z" (a unit square, in module coordinates).
MODULE_PATH = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H(\d+)z")
QUIET_ZONE = 4
PX_PER_MODULE = 10


def decode(image: Image.Image) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected one QR code, the decoder found {len(found)}"
    return found[0]


def png_image(uri: str) -> Image.Image:
    image = Image.open(io.BytesIO(qr_png(uri)))
    assert image.format == "PNG"
    return image.convert("L")


def svg_dark_modules(svg: bytes) -> tuple[int, set[tuple[int, int]]]:
    """The SVG's size in modules and its dark modules (column, row), read from its viewBox and its path."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert "width" not in root.attrib
    assert "height" not in root.attrib
    x0, y0, width, height = root.attrib["viewBox"].split()
    assert (x0, y0) == ("0", "0")
    assert width == height
    background = root.find(f"{SVG}rect")
    assert background is not None
    assert background.attrib["fill"] == "white"
    assert (background.attrib["width"], background.attrib["height"]) == ("100%", "100%")
    (path,) = root.findall(f"{SVG}path")
    assert path.attrib["fill"] == "#000000"
    d = path.attrib["d"]
    segments = list(MODULE_PATH.finditer(d))
    assert "".join(m.group(0) for m in segments) == d, "the path has segments this renderer does not understand"
    dark = set()
    for m in segments:
        x, y, right, bottom, back = map(int, m.groups())
        assert (right, bottom, back) == (x + 1, y + 1, x)
        dark.add((x, y))
    return int(width), dark


def render_svg(svg: bytes, px_per_module: int = PX_PER_MODULE) -> Image.Image:
    """A raster of the SVG: a white canvas with every path square filled black."""
    size, dark = svg_dark_modules(svg)
    image = Image.new("L", (size * px_per_module, size * px_per_module), 255)
    draw = ImageDraw.Draw(image)
    for x, y in dark:
        draw.rectangle(
            [x * px_per_module, y * px_per_module, (x + 1) * px_per_module - 1, (y + 1) * px_per_module - 1], fill=0
        )
    return image


def png_dark_modules(image: Image.Image) -> tuple[int, set[tuple[int, int]]]:
    """The PNG's size in modules and its dark modules, sampled at the centre of each module's square."""
    width, height = image.size
    assert width == height
    assert width % PX_PER_MODULE == 0
    size = width // PX_PER_MODULE
    centre = PX_PER_MODULE // 2
    dark = {
        (x, y)
        for y in range(size)
        for x in range(size)
        if image.getpixel((x * PX_PER_MODULE + centre, y * PX_PER_MODULE + centre)) < 128
    }
    return size, dark


def test_long_uri_is_near_two_hundred_characters():
    assert 190 <= len(URIS["long"]) <= 200


@pytest.mark.parametrize("uri", URIS.values(), ids=URIS.keys())
def test_png_decodes_back_to_the_uri_at_level_q(uri):
    result = decode(png_image(uri))
    assert result.text == uri
    assert result.ec_level == "Q"


@pytest.mark.parametrize("uri", URIS.values(), ids=URIS.keys())
def test_svg_decodes_back_to_the_uri_at_level_q(uri):
    result = decode(render_svg(qr_svg(uri)))
    assert result.text == uri
    assert result.ec_level == "Q"


@pytest.mark.parametrize("uri", URIS.values(), ids=URIS.keys())
def test_svg_and_png_draw_the_same_modules(uri):
    assert svg_dark_modules(qr_svg(uri)) == png_dark_modules(png_image(uri))


@pytest.mark.parametrize("uri", URIS.values(), ids=URIS.keys())
def test_png_is_black_on_white_at_ten_pixels_a_module(uri):
    image = Image.open(io.BytesIO(qr_png(uri))).convert("RGB")
    assert {colour for _, colour in image.getcolors()} == {(0, 0, 0), (255, 255, 255)}
    size, _ = png_dark_modules(image.convert("L"))
    symbol = size - 2 * QUIET_ZONE
    assert 21 <= symbol <= 177
    assert (symbol - 21) % 4 == 0, "a QR symbol is 17 + 4 × version modules wide"


@pytest.mark.parametrize("uri", URIS.values(), ids=URIS.keys())
@pytest.mark.parametrize("source", ["png", "svg"])
def test_quiet_zone_is_four_light_modules(uri, source):
    size, dark = svg_dark_modules(qr_svg(uri)) if source == "svg" else png_dark_modules(png_image(uri))
    margin = {(x, y) for y in range(size) for x in range(size) if min(x, y, size - 1 - x, size - 1 - y) < QUIET_ZONE}
    assert not dark & margin
    # Exactly four: the finder patterns start right after the margin, in three corners.
    first, last = QUIET_ZONE, size - 1 - QUIET_ZONE
    assert {(first, first), (last, first), (first, last)} <= dark


@pytest.mark.parametrize("make", [qr_png, qr_svg])
def test_same_uri_gives_identical_bytes(make):
    uri = URIS["lot with a slash"]
    assert make(uri) == make(uri)
    assert make(uri) != make(URIS["gtin only"])


def test_png_carries_no_metadata():
    image = Image.open(io.BytesIO(qr_png(URIS["gtin only"])))
    assert not image.info.keys() - {"dpi"}
    assert not getattr(image, "text", {})


@pytest.mark.parametrize("make", [qr_png, qr_svg])
def test_empty_uri_is_refused(make):
    with pytest.raises(ValueError, match="non-empty"):
        make("")
