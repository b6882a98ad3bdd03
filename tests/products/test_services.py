import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import gs1
from core.models import AuditEntry
from products import services
from products.models import Batch, Declaration, Product, Supplier, SupplierMember
from tests.accounts.factories import UserFactory
from tests.products.factories import BatchFactory, DeclarationFactory, ProductFactory, SupplierFactory, public_product

pytestmark = pytest.mark.django_db


def declare(product, kind, statement="A statement."):
    return services.declaration_create(
        product=product, **{"kind": kind, "topic": Declaration.Topic.HEALTH, "statement": statement}
    )


def test_product_without_declarations_cannot_be_published():
    product = ProductFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.product_publish(product=product)
    assert excinfo.value.messages == [
        "A public product must declare at least one risk.",
        "A public product must declare at least one benefit.",
    ]
    product.refresh_from_db()
    assert product.published_at is None
    assert not Product.objects.public().exists()


@pytest.mark.parametrize(("present", "missing"), [("risk", "benefit"), ("benefit", "risk")])
def test_product_with_only_one_kind_of_declaration_stays_private(present, missing):
    product = ProductFactory()
    declare(product, present)
    with pytest.raises(ValidationError, match=f"at least one {missing}"):
        services.product_publish(product=product)
    assert not Product.objects.public().exists()


def test_product_with_a_risk_and_a_benefit_is_published():
    product = ProductFactory()
    declare(product, "risk")
    declare(product, "benefit")
    services.product_publish(product=product)
    assert list(Product.objects.public()) == [product]


def test_last_risk_of_a_public_product_cannot_be_withdrawn():
    product = public_product()
    risk = product.declarations.get(kind="risk")
    with pytest.raises(ValidationError, match="at least one risk"):
        services.declaration_withdraw(declaration=risk, reason="Fixed the line.")
    assert product.declarations.current().filter(kind="risk").count() == 1
    assert not AuditEntry.objects.filter(action="declaration.withdrawn").exists()


def test_last_benefit_cannot_be_turned_into_a_risk_while_public():
    product = public_product()
    benefit = product.declarations.get(kind="benefit")
    with pytest.raises(ValidationError, match="at least one benefit"):
        services.declaration_update(declaration=benefit, **{"kind": "risk"})
    assert product.declarations.get(pk=benefit.pk).kind == "benefit"


def test_a_second_risk_can_be_withdrawn_from_a_public_product():
    product = public_product()
    extra = declare(product, "risk", "Second risk.")
    services.declaration_withdraw(declaration=extra, reason="The supplier of that part changed.")
    assert product.declarations.current().filter(kind="risk").count() == 1
    # Withdrawn, not deleted: it stays as the product's history, with the reason.
    extra.refresh_from_db()
    assert extra.withdrawn_at is not None
    assert extra.withdrawn_reason == "The supplier of that part changed."


def test_unpublished_product_may_lose_all_declarations():
    product = ProductFactory()
    risk = declare(product, "risk")
    services.declaration_withdraw(declaration=risk)
    assert not product.declarations.current().exists()


def test_documented_declaration_needs_an_evidence_link():
    product = ProductFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.declaration_create(
            product=product,
            **{"kind": "risk", "topic": "health", "statement": "Tested.", "evidence_level": "documented"},
        )
    assert "evidence_url" in excinfo.value.message_dict
    assert not Declaration.objects.exists()


def test_declaration_past_its_validity_shows_as_expired():
    declaration = DeclarationFactory(
        evidence_level="third_party_verified",
        evidence_url="https://evidence.example.org/1",
        valid_until=datetime.date(2026, 1, 31),
    )
    assert declaration.effective_evidence_level(datetime.date(2026, 1, 31)) == "third_party_verified"
    assert declaration.effective_evidence_level(datetime.date(2026, 2, 1)) == "expired"


def test_database_refuses_a_documented_declaration_without_link():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Declaration.objects.create(
            product=product, kind="risk", topic="health", statement="x", evidence_level="documented"
        )


def test_product_gtin_is_normalised_to_14_digits():
    supplier = SupplierFactory()
    gtin13 = gs1.gtin_with_check_digit("952000000002")[1:]
    product = services.product_create(
        supplier=supplier, **{"name": "Dark chocolate 70%", "category": "food", "gtin": gtin13}
    )
    assert product.gtin == "0" + gtin13
    assert product.slug == "dark-chocolate-70"
    assert len(product.internal_ref) == 10


def test_product_with_a_wrong_gtin_check_digit_is_not_created():
    supplier = SupplierFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.product_create(supplier=supplier, **{"name": "Soap", "category": "household", "gtin": "9520000000021"})
    assert "check digit" in excinfo.value.message_dict["gtin"][0]
    assert not Product.objects.exists()


def test_product_without_gtin_gets_an_internal_identifier_only():
    product = services.product_create(
        supplier=SupplierFactory(), **{"name": "Loose tea", "category": "food", "gtin": ""}
    )
    assert product.gtin is None
    assert product.internal_ref


def test_two_products_of_a_supplier_get_distinct_slugs():
    supplier = SupplierFactory()
    first = services.product_create(supplier=supplier, **{"name": "Towel", "category": "textile"})
    second = services.product_create(supplier=supplier, **{"name": "Towel", "category": "textile"})
    assert (first.slug, second.slug) == ("towel", "towel-2")


def test_services_refuse_fields_they_do_not_own():
    product = ProductFactory()
    with pytest.raises(ValidationError, match="published_at"):
        services.product_update(product=product, **{"published_at": "2026-01-01"})


def test_batch_lot_is_validated_and_nothing_is_stored_on_error():
    product = ProductFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.batch_create(
            product=product, **{"lot": "LOT 2026 Ä", "produced_on": datetime.date(2026, 5, 1), "quantity": 10}
        )
    assert "lot" in excinfo.value.message_dict
    assert not Batch.objects.exists()


def test_batch_cannot_expire_before_it_was_made():
    with pytest.raises(ValidationError) as excinfo:
        services.batch_create(
            product=ProductFactory(),
            **{
                "lot": "L1",
                "produced_on": datetime.date(2026, 5, 1),
                "expires_on": datetime.date(2026, 4, 1),
                "quantity": 10,
            },
        )
    assert "expires_on" in excinfo.value.message_dict


def test_lot_is_unique_per_product():
    batch = BatchFactory()
    with pytest.raises(ValidationError):
        services.batch_create(
            product=batch.product, **{"lot": batch.lot, "produced_on": datetime.date(2026, 6, 1), "quantity": 1}
        )
    assert Batch.objects.count() == 1


def test_supplier_created_with_owner_in_one_step_or_not_at_all():
    owner = UserFactory()
    supplier = services.supplier_create(**{"legal_name": "Kente Weavers", "country": "GH"}, owner=owner)
    assert supplier.slug == "kente-weavers"
    assert SupplierMember.objects.get(supplier=supplier).role == "owner"
    with pytest.raises(ValidationError):
        services.supplier_create(**{"legal_name": "Bad GLN", "country": "GH", "gln": "123"}, owner=owner)
    assert Supplier.objects.count() == 1


def test_suspension_needs_a_written_reason_and_records_when():
    supplier = SupplierFactory()
    with pytest.raises(ValidationError):
        services.supplier_status_set(supplier=supplier, status="suspended", reason="  ")
    supplier.refresh_from_db()
    assert supplier.status == "active"
    services.supplier_status_set(supplier=supplier, status="suspended", reason="Undelivered orders.")
    supplier.refresh_from_db()
    assert (supplier.status, supplier.status_reason) == ("suspended", "Undelivered orders.")
    assert supplier.status_changed_at is not None
