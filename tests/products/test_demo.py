import pytest
from django.core.management import call_command

from accounts.models import User
from products import demo
from products.models import Batch, Declaration, Product, Supplier

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list]:
    return {
        "suppliers": list(Supplier.objects.values_list("slug", "country", "status")),
        "products": list(Product.objects.values_list("slug", "gtin", "published_at")),
        "declarations": list(Declaration.objects.values_list("pk", "kind", "evidence_level")),
        "batches": list(Batch.objects.values_list("pk", "lot", "quantity")),
        "users": list(User.objects.values_list("email", "is_staff")),
    }


def test_seed_demo_builds_a_believable_network_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = snapshot()
    assert len({country for _, country, _ in first["suppliers"]}) >= 3
    assert Product.objects.count() >= 6
    assert set(Product.objects.values_list("category", flat=True)) >= {"food", "textile", "household"}
    for product in Product.objects.public():
        kinds = set(product.declarations.values_list("kind", flat=True))
        assert kinds == {"risk", "benefit"}, product
        assert product.batches.count() >= 2
    levels = set(Declaration.objects.values_list("evidence_level", flat=True))
    assert levels >= {"self_declared", "documented", "third_party_verified", "revoked"}
    assert any(d.effective_evidence_level() == "expired" for d in Declaration.objects.all())
    gtins = [gtin for _, gtin, _ in first["products"] if gtin]
    assert gtins
    assert all(gtin.startswith("0952") for gtin in gtins)
    assert Product.objects.filter(gtin__isnull=True).exists()
    assert User.objects.filter(is_staff=True, email="operator@socialbiz.example").exists()
    assert all(User.objects.get(email=email).check_password(demo.DEMO_PASSWORD) for email, _ in demo.DEMO_LOGINS)

    capsys.readouterr()
    call_command("seed_demo")
    assert snapshot() == first
    assert "nothing to do" in capsys.readouterr().out


def test_seed_demo_if_empty_leaves_an_existing_database_alone(capsys):
    Supplier.objects.create(legal_name="Real supplier", slug="real", country="FR")
    call_command("seed_demo", "--if-empty", "--url", "http://127.0.0.1:9000")
    out = capsys.readouterr().out
    assert Supplier.objects.count() == 1
    assert "demo data not loaded again" in out
    assert "http://127.0.0.1:9000/dashboard/" in out
