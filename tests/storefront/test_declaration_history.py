"""The product page keeps each declaration's history: a risk that was withdrawn or softened stays visible as such."""

import pytest
from django.urls import reverse

from products import services
from tests.products.factories import DeclarationFactory, public_product

pytestmark = pytest.mark.django_db


def test_a_softened_and_a_withdrawn_risk_stay_visible_with_date_and_reason(client, owner):
    product = public_product(supplier=owner.supplier)
    risk = product.declarations.get(kind="risk")
    second = DeclarationFactory(product=product, kind="risk", topic="safety", statement="Foil edges are sharp.")
    services.declaration_update(
        declaration=risk, actor=owner.user, reason="Moved to a nut-free line.", statement="Made on a nut-free line."
    )
    services.declaration_withdraw(declaration=second, actor=owner.user, reason="Foil replaced by paper.")
    page = client.get(product.get_absolute_url()).content.decode()
    history = page[page.index('id="history"') :]
    assert "Risk withdrawn" in history
    assert "Foil edges are sharp." in history
    assert "Reason given: Foil replaced by paper." in history
    assert "Risk changed" in history
    assert "was “Contains traces of nuts.”, now “Made on a nut-free line.”" in history
    assert "Reason given: Moved to a nut-free line." in history
    # The withdrawn risk is no longer among the declarations in force.
    in_force = page[: page.index('id="history"')]
    assert "Foil edges are sharp." not in in_force


def test_the_history_costs_a_fixed_number_of_queries(client, owner, django_assert_num_queries):
    product = public_product(supplier=owner.supplier)
    for n in range(4):
        declaration = DeclarationFactory(product=product, kind="benefit", statement=f"Benefit {n}.")
        services.declaration_update(declaration=declaration, actor=owner.user, statement=f"Better benefit {n}.")
    url = reverse("storefront:product", kwargs={"supplier_slug": product.supplier.slug, "product_slug": product.slug})
    with django_assert_num_queries(5):  # product with supplier, declarations, batches, history, rating
        response = client.get(url)
    assert response.content.decode().count("Benefit changed") == 4
