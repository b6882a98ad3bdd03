"""Suppliers download print-ready QR codes for their own batches from the dashboard, and only for their own."""

import io
import zipfile

import pytest
import zxingcpp
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from core.gs1 import batch_uri
from core.qr import qr_svg
from tests.products.factories import BatchFactory, ProductFactory, public_product

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:products_batch_changelist"


def decode_png(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0].text


def download_qr_codes(client, *batches):
    return client.post(
        reverse(CHANGELIST),
        {"action": "download_qr_codes", "index": "0", "_selected_action": [batch.pk for batch in batches]},
    )


def zip_of(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="qr-codes.zip"'
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_owner_sees_the_uri_and_download_links_for_their_batch(owner):
    batch = BatchFactory(product=public_product(supplier=owner.supplier, gtin="09506000134352"), lot="2026/03-A")
    uri = batch_uri(batch)
    response = owner.client.get(reverse("admin:products_batch_change", args=[batch.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "QR codes" in body
    assert f"<code>{uri}</code>" in body
    assert f'href="{uri}/qr.svg" download="09506000134352-2026_03-A.svg"' in body
    assert f'href="{uri}/qr.png" download="09506000134352-2026_03-A.png"' in body


def test_download_links_serve_the_batchs_qr_codes_once_published(owner):
    batch = BatchFactory(product=public_product(supplier=owner.supplier), lot="L-42")
    uri = batch_uri(batch)
    body = owner.client.get(reverse("admin:products_batch_change", args=[batch.pk])).content.decode()
    assert "once the product is published" not in body
    path = uri.removeprefix(settings.RESOLVER_ROOT)
    png = owner.client.get(f"{path}/qr.png")
    assert png.status_code == 200
    assert decode_png(png.content) == uri
    svg = owner.client.get(f"{path}/qr.svg")
    assert svg.status_code == 200
    assert svg.content == qr_svg(uri)


def test_unpublished_product_without_gtin_names_files_after_its_internal_ref(owner):
    product = ProductFactory(supplier=owner.supplier, gtin=None)
    batch = BatchFactory(product=product, lot="L1")
    uri = batch_uri(batch)
    response = owner.client.get(reverse("admin:products_batch_change", args=[batch.pk]))
    body = response.content.decode()
    assert f'href="{uri}/qr.svg" download="{product.internal_ref}-L1.svg"' in body
    assert f'href="{uri}/qr.png" download="{product.internal_ref}-L1.png"' in body
    assert "These links answer once the product is published" in body


def test_zip_holds_an_svg_and_a_decodable_png_per_batch(owner):
    with_gtin = BatchFactory(product=public_product(supplier=owner.supplier, gtin="09506000134352"), lot="A/7")
    without_gtin = BatchFactory(product=ProductFactory(supplier=owner.supplier, gtin=None), lot="B-1")
    archive = zip_of(download_qr_codes(owner.client, with_gtin, without_gtin))
    ref = without_gtin.product.internal_ref
    assert sorted(archive.namelist()) == sorted(
        ["09506000134352-A_7.svg", "09506000134352-A_7.png", f"{ref}-B-1.svg", f"{ref}-B-1.png"]
    )
    for batch, stem in [(with_gtin, "09506000134352-A_7"), (without_gtin, f"{ref}-B-1")]:
        uri = batch_uri(batch)
        assert decode_png(archive.read(f"{stem}.png")) == uri
        assert archive.read(f"{stem}.svg") == qr_svg(uri)


def test_zip_queries_do_not_grow_with_batches(owner):
    product = public_product(supplier=owner.supplier)
    one = [BatchFactory(product=product)]
    many = [BatchFactory(product=public_product(supplier=owner.supplier)) for _ in range(6)]
    counts = []
    for batches in (one, many):
        with CaptureQueriesContext(connection) as queries:
            zip_of(download_qr_codes(owner.client, *batches))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_zip_names_stay_apart_when_lots_differ_only_in_unsafe_characters(owner):
    product = ProductFactory(supplier=owner.supplier, gtin="09506000134352")
    slash, colon = BatchFactory(product=product, lot="A/1"), BatchFactory(product=product, lot="A:1")
    archive = zip_of(download_qr_codes(owner.client, slash, colon))
    assert len(archive.namelist()) == 4
    pngs = [name for name in archive.namelist() if name.endswith(".png")]
    assert {decode_png(archive.read(name)) for name in pngs} == {batch_uri(slash), batch_uri(colon)}


def test_member_of_other_supplier_cannot_download_someone_elses_qr_codes(owner, other_member):
    theirs = BatchFactory(product=public_product(supplier=owner.supplier))
    response = download_qr_codes(other_member.client, theirs)
    assert response.status_code == 302  # back to the list with a message, no file
    assert response.get("Content-Type", "").split(";")[0] != "application/zip"


def test_member_of_other_supplier_gets_only_their_own_batches_in_the_zip(owner, other_member):
    theirs = BatchFactory(product=public_product(supplier=owner.supplier))
    mine = BatchFactory(product=public_product(supplier=other_member.supplier), lot="MINE-1")
    archive = zip_of(download_qr_codes(other_member.client, mine, theirs))
    stem = f"{mine.product.gtin}-MINE-1"
    assert sorted(archive.namelist()) == [f"{stem}.png", f"{stem}.svg"]
    assert decode_png(archive.read(f"{stem}.png")) == batch_uri(mine)


def test_stranger_cannot_download_qr_codes(owner, stranger):
    batch = BatchFactory(product=public_product(supplier=owner.supplier))
    response = download_qr_codes(stranger.client, batch)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
