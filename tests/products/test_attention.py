"""The dashboard's home, for the catalog: drafts that cannot be published, declarations whose evidence runs out."""

import datetime

import pytest
from django.utils import timezone

from core.dashboard import AttentionItem
from products.models import Declaration
from tests.products.factories import DeclarationFactory, ProductFactory, public_product

pytestmark = pytest.mark.django_db

HOME = "/dashboard/"


def at(day: int, month: int = 1) -> datetime.datetime:
    return datetime.datetime(2026, month, day, 9, 0, tzinfo=datetime.UTC)


def home(client) -> list[AttentionItem]:
    response = client.get(HOME)
    assert response.status_code == 200
    return list(response.context["attention"])


def opened(client, item: AttentionItem):
    """Follow an item's link: the dashboard page it opens, and the object on it."""
    response = client.get(item.url)
    assert response.status_code == 200, item
    return response.context.get("original")


def test_owner_sees_own_drafts_that_cannot_be_published_oldest_first(owner, other_supplier):
    no_risk = ProductFactory(supplier=owner.supplier, name="Cocoa nibs", created_at=at(10))
    DeclarationFactory(product=no_risk, kind=Declaration.Kind.BENEFIT)
    no_benefit = ProductFactory(supplier=owner.supplier, name="Cocoa butter", created_at=at(20))
    DeclarationFactory(product=no_benefit, kind=Declaration.Kind.RISK)
    bare = ProductFactory(supplier=owner.supplier, name="Cocoa husk tea", created_at=at(2))
    ready = ProductFactory(supplier=owner.supplier, name="Ready to publish", created_at=at(1))
    DeclarationFactory(product=ready, kind=Declaration.Kind.RISK)
    DeclarationFactory(product=ready, kind=Declaration.Kind.BENEFIT)
    public_product(supplier=owner.supplier, name="Already public")
    ProductFactory(supplier=other_supplier, name="Linen shirt", created_at=at(5))

    items = home(owner.client)

    assert [(item.title, item.action) for item in items] == [
        ("Cocoa husk tea cannot be published yet", "Add a risk and a benefit"),
        ("Cocoa nibs cannot be published yet", "Add a risk"),
        ("Cocoa butter cannot be published yet", "Add a benefit"),
    ]
    assert [item.detail.split(".")[0] for item in items] == [
        "It declares neither a risk nor a benefit",
        "It declares no risk",
        "It declares no benefit",
    ]
    assert [opened(owner.client, item) for item in items] == [bare, no_risk, no_benefit]
    assert all(item.url.endswith("#declarations-group") for item in items)
    page = owner.client.get(HOME).content.decode()
    assert "Needs your attention" in page
    assert "Cocoa nibs cannot be published yet" in page
    assert "Linen shirt" not in page
    assert "Since 2 Jan 2026" in page


def test_draft_item_disappears_once_the_missing_risk_is_added(owner):
    product = ProductFactory(supplier=owner.supplier, name="Cocoa nibs")
    DeclarationFactory(product=product, kind=Declaration.Kind.BENEFIT)
    assert [item.title for item in home(owner.client)] == ["Cocoa nibs cannot be published yet"]

    DeclarationFactory(product=product, kind=Declaration.Kind.RISK)

    assert home(owner.client) == []
    assert "Nothing needs attention right now." in owner.client.get(HOME).content.decode()


def test_public_declarations_whose_evidence_runs_out_within_30_days_or_has_run_out(owner):
    today = timezone.localdate()
    product = public_product(supplier=owner.supplier, name="Cocoa nibs")
    soon = DeclarationFactory(
        product=product, kind="benefit", statement="Organic.", valid_until=today + datetime.timedelta(days=10)
    )
    DeclarationFactory(
        product=product, kind="risk", statement="Audited.", valid_until=today - datetime.timedelta(days=3)
    )
    DeclarationFactory(product=product, kind="benefit", valid_until=today + datetime.timedelta(days=31))
    revoked = DeclarationFactory(
        product=product,
        kind="benefit",
        statement="Fair trade.",
        evidence_level=Declaration.EvidenceLevel.REVOKED,
        evidence_url="https://evidence.example.org/ft",
    )
    DeclarationFactory(
        product=product,
        kind="risk",
        statement="Recorded as expired.",
        evidence_level=Declaration.EvidenceLevel.EXPIRED,
        valid_until=today + datetime.timedelta(days=90),
    )
    draft = ProductFactory(supplier=owner.supplier, name="Draft with a risk and a benefit")
    DeclarationFactory(product=draft, kind="risk", valid_until=today)
    DeclarationFactory(product=draft, kind="benefit")

    items = home(owner.client)

    titles = {item.title: item for item in items}
    expired_on = (today - datetime.timedelta(days=3)).strftime("%d %b %Y").lstrip("0")
    expires_on = (today + datetime.timedelta(days=10)).strftime("%d %b %Y").lstrip("0")
    assert set(titles) == {
        f"A risk of Cocoa nibs expired on {expired_on}",
        f"A benefit of Cocoa nibs expires on {expires_on}",
        "A benefit of Cocoa nibs is shown with its evidence revoked",
        "A risk of Cocoa nibs is shown with its evidence expired",
    }
    # Oldest first: each counts from the day its 30 days' notice began.
    assert [item.title for item in items][:2] == [
        f"A risk of Cocoa nibs expired on {expired_on}",
        f"A benefit of Cocoa nibs expires on {expires_on}",
    ]
    assert titles[f"A benefit of Cocoa nibs expires on {expires_on}"].since == soon.valid_until - datetime.timedelta(
        days=30
    )
    assert "“Fair trade.”" in titles["A benefit of Cocoa nibs is shown with its evidence revoked"].detail
    assert {opened(owner.client, item) for item in items} == {product}

    soon.valid_until = today + datetime.timedelta(days=365)
    soon.save()
    revoked.delete()
    product.declarations.filter(evidence_level=Declaration.EvidenceLevel.EXPIRED).delete()
    assert [item.title for item in home(owner.client)] == [f"A risk of Cocoa nibs expired on {expired_on}"]


def test_member_never_sees_another_suppliers_items(owner, other_member):
    ProductFactory(supplier=owner.supplier, name="Cocoa nibs")
    DeclarationFactory(
        product=public_product(supplier=owner.supplier, name="Cocoa butter"),
        kind="risk",
        valid_until=timezone.localdate(),
    )

    assert home(other_member.client) == []
    page = other_member.client.get(HOME).content.decode()
    assert "Cocoa" not in page


def test_operator_sees_every_suppliers_items_with_the_suppliers_name(operator, own_supplier, other_supplier):
    ProductFactory(supplier=own_supplier, name="Cocoa nibs", created_at=at(3))
    ProductFactory(supplier=other_supplier, name="Linen shirt", created_at=at(1))

    items = home(operator.client)

    assert [(item.supplier_name, item.title) for item in items] == [
        ("Other Textiles SA", "Linen shirt cannot be published yet"),
        ("Own Cocoa Co", "Cocoa nibs cannot be published yet"),
    ]
    page = operator.client.get(HOME).content.decode()
    assert "Needs attention across the network" in page
    assert '<span class="attention-supplier">Other Textiles SA</span>' in page


def test_the_list_is_capped_and_says_how_many_more(owner, monkeypatch):
    monkeypatch.setattr("core.dashboard.ATTENTION_LIMIT", 3)
    for day in range(1, 6):
        ProductFactory(supplier=owner.supplier, name=f"Draft {day}", created_at=at(day))

    response = owner.client.get(HOME)

    assert [item.title for item in response.context["attention"]] == [
        f"Draft {day} cannot be published yet" for day in (1, 2, 3)
    ]
    assert "… and 2 more (the oldest are shown first)." in response.content.decode()
