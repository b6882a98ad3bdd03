"""The catalog through the integrator API: public reads, writes only by the owning supplier's members."""

import io
from urllib.parse import urlsplit

import pytest
import zxingcpp
from django.conf import settings
from django.urls import reverse
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import gs1
from products.models import Batch, Declaration, Product, Supplier, SupplierMember
from tests.accounts.factories import UserFactory
from tests.products.factories import (
    BatchFactory,
    DeclarationFactory,
    ProductFactory,
    SupplierMemberFactory,
    public_product,
)

pytestmark = pytest.mark.django_db


def api(persona) -> APIClient:
    """An API client authenticated the way integrators are: with the persona's token."""
    client = APIClient()
    if persona.user is not None:
        token, _ = Token.objects.get_or_create(user=persona.user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_anyone_lists_public_products_with_their_declarations(stranger, django_assert_num_queries):
    for _ in range(5):
        product = public_product()
        DeclarationFactory(product=product, kind="benefit", topic="climate")
    ProductFactory(name="Unpublished draft")
    with django_assert_num_queries(2):  # the page of products with suppliers, their declarations
        response = api(stranger).get("/api/v1/products/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 5
    assert {len(p["declarations"]) for p in results} == {3}
    assert all(p["is_public"] for p in results)
    assert "Unpublished draft" not in response.content.decode()


def test_members_also_see_their_own_unpublished_products_but_not_others(owner, other_member):
    mine = ProductFactory(supplier=owner.supplier)
    theirs = ProductFactory(supplier=other_member.supplier)
    ids = {p["id"] for p in api(owner).get("/api/v1/products/").json()["results"]}
    assert mine.pk in ids
    assert theirs.pk not in ids
    assert api(owner).get(f"/api/v1/products/{theirs.pk}/").status_code == 404


def test_products_are_filtered_by_supplier_and_category(stranger):
    wanted = public_product(category="textile")
    public_product(category="food", supplier=wanted.supplier)
    public_product(category="textile")
    response = api(stranger).get("/api/v1/products/", {"supplier": wanted.supplier.slug, "category": "textile"})
    assert [p["id"] for p in response.json()["results"]] == [wanted.pk]


def test_cursor_pagination_walks_every_product_once(stranger):
    made = {public_product().pk for _ in range(7)}
    seen, url = [], "/api/v1/products/?page_size=3"
    while url:
        page = api(stranger).get(url).json()
        seen += [p["id"] for p in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(made)


def test_owner_creates_a_product_then_declares_and_publishes_it(owner):
    client = api(owner)
    gtin = gs1.gtin_with_check_digit("952000000555")
    response = client.post(
        "/api/v1/products/", {"supplier": owner.supplier.slug, "name": "Cocoa butter", "category": "food", "gtin": gtin}
    )
    assert response.status_code == 201, response.json()
    product_id = response.json()["id"]
    assert response.json()["is_public"] is False

    refused = client.post(f"/api/v1/products/{product_id}/publish/")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert "at least one risk" in str(refused.json()["errors"])

    for kind in ("risk", "benefit"):
        declared = client.post(
            f"/api/v1/products/{product_id}/declarations/",
            {"kind": kind, "topic": "health", "statement": f"A {kind}."},
        )
        assert declared.status_code == 201, declared.json()
    published = client.post(f"/api/v1/products/{product_id}/publish/")
    assert published.status_code == 200
    assert published.json()["is_public"] is True
    assert Product.objects.public().filter(pk=product_id).exists()


def test_invalid_product_gets_field_errors_and_creates_nothing(owner):
    response = api(owner).post(
        "/api/v1/products/",
        {"supplier": owner.supplier.slug, "name": "Soap", "category": "household", "gtin": "9520000000021"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert "check digit" in body["errors"]["gtin"][0]
    assert not Product.objects.exists()


@pytest.mark.parametrize("persona", ["other_member", "shopper"])
def test_only_the_owning_suppliers_members_create_its_products(persona, request, owner):
    response = api(request.getfixturevalue(persona)).post(
        "/api/v1/products/", {"supplier": owner.supplier.slug, "name": "Fake", "category": "food"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Product.objects.exists()


def test_anonymous_writes_are_refused_with_401(stranger, owner):
    product = ProductFactory(supplier=owner.supplier)
    for method, url, body in [
        ("post", "/api/v1/products/", {"supplier": owner.supplier.slug, "name": "X", "category": "food"}),
        ("patch", f"/api/v1/products/{product.pk}/", {"name": "X"}),
        ("post", "/api/v1/batches/", {"product": product.pk, "lot": "L1", "produced_on": "2026-01-01", "quantity": 1}),
        ("patch", f"/api/v1/suppliers/{owner.supplier.slug}/", {"legal_name": "X"}),
    ]:
        response = getattr(api(stranger), method)(url, body)
        assert response.status_code == 401, url
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"
    product.refresh_from_db()
    assert product.name != "X"
    assert not Batch.objects.exists()


def test_member_of_other_supplier_cannot_change_or_withdraw_anything(owner, other_member):
    product = public_product(supplier=owner.supplier, name="Original")
    extra = DeclarationFactory(product=product, kind="risk", statement="Stays.")
    batch = BatchFactory(product=product, quantity=10)
    client = api(other_member)
    assert client.patch(f"/api/v1/products/{product.pk}/", {"name": "Hijacked"}).status_code == 403
    assert client.post(f"/api/v1/products/{product.pk}/unpublish/").status_code == 403
    assert client.post(f"/api/v1/products/{product.pk}/declarations/", {}).status_code == 403
    assert client.patch(f"/api/v1/declarations/{extra.pk}/", {"statement": "Gone"}).status_code == 403
    assert client.delete(f"/api/v1/declarations/{extra.pk}/").status_code == 403
    assert client.patch(f"/api/v1/batches/{batch.pk}/", {"quantity": 1}).status_code == 403
    assert client.patch(f"/api/v1/suppliers/{owner.supplier.slug}/", {"legal_name": "X"}).status_code == 403
    product.refresh_from_db()
    batch.refresh_from_db()
    assert (product.name, product.is_public, batch.quantity) == ("Original", True, 10)
    assert Declaration.objects.get(pk=extra.pk).statement == "Stays."
    assert Supplier.objects.get(pk=owner.supplier.pk).legal_name == "Own Cocoa Co"


def test_member_cannot_add_a_batch_to_another_suppliers_unpublished_product(owner, other_member):
    hidden = ProductFactory(supplier=owner.supplier)
    response = api(other_member).post(
        "/api/v1/batches/", {"product": hidden.pk, "lot": "L1", "produced_on": "2026-01-01", "quantity": 5}
    )
    assert response.status_code == 400  # as if it did not exist: no hint that the id is taken
    assert "product" in response.json()["errors"]
    assert not Batch.objects.exists()


def test_editor_records_and_corrects_a_batch(own_supplier):
    editor = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=editor, role=SupplierMember.Role.EDITOR)
    product = ProductFactory(supplier=own_supplier)
    client = api(type("P", (), {"user": editor}))
    created = client.post(
        "/api/v1/batches/",
        {"product": product.pk, "lot": "CH26-0001", "produced_on": "2026-02-01", "quantity": 100},
    )
    assert created.status_code == 201, created.json()
    batch_id = created.json()["id"]
    bad = client.patch(f"/api/v1/batches/{batch_id}/", {"expires_on": "2026-01-01"})
    assert bad.status_code == 400
    assert "expires_on" in bad.json()["errors"]
    fixed = client.patch(f"/api/v1/batches/{batch_id}/", {"quantity": 120, "expires_on": "2026-12-31"})
    assert fixed.status_code == 200
    batch = Batch.objects.get(pk=batch_id)
    assert (batch.quantity, str(batch.expires_on)) == (120, "2026-12-31")


def test_viewer_reads_own_drafts_but_cannot_write(own_supplier):
    viewer = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    product = ProductFactory(supplier=own_supplier, name="Draft")
    client = api(type("P", (), {"user": viewer}))
    assert client.get(f"/api/v1/products/{product.pk}/").status_code == 200
    assert client.patch(f"/api/v1/products/{product.pk}/", {"name": "X"}).status_code == 403
    assert Product.objects.get(pk=product.pk).name == "Draft"


def test_public_products_last_risk_cannot_be_withdrawn_through_the_api(owner):
    product = public_product(supplier=owner.supplier)
    risk = product.declarations.get(kind="risk")
    response = api(owner).delete(f"/api/v1/declarations/{risk.pk}/")
    assert response.status_code == 400
    assert "at least one risk" in str(response.json()["errors"])
    assert Declaration.objects.filter(pk=risk.pk).exists()


def test_owner_changes_the_supplier_profile_but_not_its_status(owner):
    url = f"/api/v1/suppliers/{owner.supplier.slug}/"
    response = api(owner).patch(url, {"public_email": "hello@own.example", "status": "active"})
    assert response.status_code == 200
    owner.supplier.refresh_from_db()
    assert owner.supplier.public_email == "hello@own.example"
    bad = api(owner).patch(url, {"gln": "1234567890123"})
    assert bad.status_code == 400
    assert "gln" in bad.json()["errors"]


def test_operator_may_change_any_supplier_product(operator, owner):
    product = ProductFactory(supplier=owner.supplier)
    response = api(operator).patch(f"/api/v1/products/{product.pk}/", {"name": "Renamed by the network"})
    assert response.status_code == 200
    assert Product.objects.get(pk=product.pk).name == "Renamed by the network"


def test_batches_are_listed_for_public_products_and_filtered(stranger, django_assert_num_queries):
    product = public_product()
    BatchFactory(product=product, lot="A1", produced_on="2026-01-10")
    for n in range(5):
        BatchFactory(product=public_product() if n % 2 else product, lot=f"A2-{n}", produced_on="2026-03-10")
    BatchFactory(product=ProductFactory(), lot="HIDDEN")
    # The page of batches with their products, and the units still for sale (purchases): links and QR codes need no
    # more.
    with django_assert_num_queries(2):
        response = api(stranger).get("/api/v1/batches/", {"produced_after": "2026-02-01"})
    results = response.json()["results"]
    assert sorted(b["lot"] for b in results) == [f"A2-{n}" for n in range(5)]
    assert all(b["uri"] and b["page_url"] and b["qr_svg"] and b["qr_png"] for b in results)
    assert "HIDDEN" not in api(stranger).get("/api/v1/batches/").content.decode()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def decode_qr(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0].text


def test_batch_uri_percent_encodes_the_lot(stranger):
    gtin = gs1.gtin_with_check_digit("952000000666")
    batch = BatchFactory(product=public_product(gtin=gtin), lot="CH26/01%A")
    body = api(stranger).get(f"/api/v1/batches/{batch.pk}/").json()
    assert body["uri"] == f"{settings.RESOLVER_ROOT}/01/{gtin}/10/CH26%2F01%25A"
    assert body["qr_svg"] == f"{settings.RESOLVER_ROOT}/01/{gtin}/10/CH26%2F01%25A/qr.svg"


def test_batch_resource_links_its_digital_link_page_and_qr_codes(stranger, client):
    gtin = gs1.gtin_with_check_digit("952000000777")
    batch = BatchFactory(product=public_product(gtin=gtin), lot="CH26-0212")
    body = api(stranger).get(f"/api/v1/batches/{batch.pk}/").json()

    assert body["uri"] == f"{settings.RESOLVER_ROOT}/01/{gtin}/10/CH26-0212"
    assert body["page_url"] == f"http://testserver/batches/{batch.pk}/"
    assert (body["qr_svg"], body["qr_png"]) == (f"{body['uri']}/qr.svg", f"{body['uri']}/qr.png")
    # Each address answers: the Digital Link resolves to the batch page, which opens; the QR codes encode the link.
    resolved = client.get(path_of(body["uri"]))
    assert resolved.status_code == 307
    assert path_of(resolved["Location"]) == path_of(body["page_url"])
    assert client.get(path_of(body["page_url"])).status_code == 200
    svg = client.get(path_of(body["qr_svg"]))
    assert (svg.status_code, svg["Content-Type"].split(";")[0]) == (200, "image/svg+xml")
    png = client.get(path_of(body["qr_png"]))
    assert png.status_code == 200
    assert decode_qr(png.content) == body["uri"]


def test_batch_of_a_product_without_gtin_links_by_its_internal_reference(stranger):
    product = public_product(gtin=None)
    batch = BatchFactory(product=product, lot="HANDMADE-1")
    body = api(stranger).get(f"/api/v1/batches/{batch.pk}/").json()
    assert body["uri"] == f"{settings.RESOLVER_ROOT}/p/{product.internal_ref}/10/HANDMADE-1"
    assert body["qr_png"] == f"{body['uri']}/qr.png"


def test_product_resources_carry_their_digital_link(stranger):
    with_gtin = public_product(gtin=gs1.gtin_with_check_digit("952000000888"))
    without = public_product(gtin=None)
    by_id = {p["id"]: p for p in api(stranger).get("/api/v1/products/").json()["results"]}
    assert by_id[with_gtin.pk]["uri"] == f"{settings.RESOLVER_ROOT}/01/{with_gtin.gtin}"
    assert by_id[without.pk]["uri"] == f"{settings.RESOLVER_ROOT}/p/{without.internal_ref}"
    detail = api(stranger).get(f"/api/v1/products/{with_gtin.pk}/").json()
    assert detail["uri"] == by_id[with_gtin.pk]["uri"]
    assert detail["page_url"].endswith(with_gtin.get_absolute_url())


def test_suppliers_are_public_and_filtered_by_country(stranger, own_supplier, other_supplier):
    response = api(stranger).get("/api/v1/suppliers/", {"country": "GH"})
    assert [s["slug"] for s in response.json()["results"]] == [own_supplier.slug]
    detail = api(stranger).get(reverse("api:supplier-detail", args=[other_supplier.slug]))
    assert detail.json()["country_name"] == "Portugal"


WRITES = [
    ("post", "/api/v1/products/", lambda w: {"supplier": w["supplier"].slug, "name": "Intruder", "category": "food"}),
    ("patch", "/api/v1/products/{product}/", lambda w: {"name": "Intruder"}),
    ("post", "/api/v1/products/{product}/publish/", lambda w: {}),
    ("post", "/api/v1/products/{public}/unpublish/", lambda w: {}),
    (
        "post",
        "/api/v1/products/{public}/declarations/",
        lambda w: {"kind": "risk", "topic": "health", "statement": "x"},
    ),
    ("patch", "/api/v1/declarations/{declaration}/", lambda w: {"statement": "Intruder"}),
    ("delete", "/api/v1/declarations/{declaration}/", lambda w: None),
    (
        "post",
        "/api/v1/batches/",
        lambda w: {"product": w["public"].pk, "lot": "X1", "produced_on": "2026-01-01", "quantity": 1},
    ),
    ("patch", "/api/v1/batches/{batch}/", lambda w: {"quantity": 1}),
    ("patch", "/api/v1/suppliers/{slug}/", lambda w: {"legal_name": "Intruder"}),
]


def database_state():
    return (
        list(Product.objects.order_by("pk").values_list("name", "published_at")),
        list(Declaration.objects.order_by("pk").values_list("kind", "statement")),
        list(Batch.objects.order_by("pk").values_list("lot", "quantity")),
        list(Supplier.objects.order_by("pk").values_list("legal_name", "status")),
    )


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
@pytest.mark.parametrize("persona", ["other_member", "shopper", "stranger"])
def test_every_write_endpoint_refuses_everyone_but_the_suppliers_editors(persona, method, path, body, request, owner):
    client = api(request.getfixturevalue(persona))
    draft = ProductFactory(supplier=owner.supplier)
    DeclarationFactory(product=draft, kind="risk")
    DeclarationFactory(product=draft, kind="benefit")
    public = public_product(supplier=owner.supplier)
    world = {
        "supplier": owner.supplier,
        "public": public,
        "product": draft.pk,
        "declaration": DeclarationFactory(product=public, kind="risk", statement="Second risk.").pk,
        "batch": BatchFactory(product=public, quantity=50).pk,
        "slug": owner.supplier.slug,
    }
    before = database_state()
    url = path.format(**{k: (v.pk if hasattr(v, "pk") else v) for k, v in world.items()})
    response = getattr(client, method)(url, body(world))
    expected = {401} if persona == "stranger" else {403, 404}
    assert response.status_code in expected, response.content
    assert database_state() == before
