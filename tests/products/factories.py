import datetime

import factory

from core import gs1
from products.models import Batch, Declaration, Product, Supplier, SupplierMember
from tests.accounts.factories import UserFactory


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    legal_name = factory.Sequence(lambda n: f"Supplier {n} Ltd")
    slug = factory.Sequence(lambda n: f"supplier-{n}")
    country = "PT"


class SupplierMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierMember

    supplier = factory.SubFactory(SupplierFactory)
    user = factory.SubFactory(UserFactory)
    role = SupplierMember.Role.OWNER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    supplier = factory.SubFactory(SupplierFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = Product.Category.FOOD
    gtin = factory.Sequence(lambda n: gs1.gtin_with_check_digit(f"952{n:09d}"))
    description = "A product made with care."


class DeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Declaration

    product = factory.SubFactory(ProductFactory)
    kind = Declaration.Kind.RISK
    topic = Declaration.Topic.HEALTH
    statement = factory.Sequence(lambda n: f"Declared statement number {n}.")
    evidence_level = Declaration.EvidenceLevel.SELF_DECLARED


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    product = factory.SubFactory(ProductFactory)
    lot = factory.Sequence(lambda n: f"LOT-{n:05d}")
    produced_on = datetime.date(2026, 3, 1)
    quantity = 500


def public_product(**kwargs: object) -> Product:
    """A published product with one risk and one benefit, as shoppers see them."""
    product = ProductFactory(**kwargs)
    DeclarationFactory(product=product, kind=Declaration.Kind.RISK, statement="Contains traces of nuts.")
    DeclarationFactory(
        product=product, kind=Declaration.Kind.BENEFIT, topic="labour", statement="Paid above the living wage."
    )
    product.published_at = product.first_published_at = datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC)
    product.save()
    return product
