"""What the dashboard's forms post, built from the rows they show (for tests that drive the admin)."""

from collections.abc import Iterable

from products.models import Declaration, Product


def product_form(product: Product, *, declarations: Iterable[Declaration] = (), extra: int = 0, **overrides: object):
    """A product's change form as sent back unchanged, with these declarations as its inline rows (and `extra` empty
    ones), then `overrides`."""
    declarations = list(declarations)
    data: dict[str, object] = {
        "name": product.name,
        "slug": product.slug,
        "category": product.category,
        "description": product.description,
        "gtin": product.gtin or "",
        "use": "",
        "care": "",
        "repair": "",
        "end_of_life": "",
        "declarations-TOTAL_FORMS": str(len(declarations) + extra),
        "declarations-INITIAL_FORMS": str(len(declarations)),
        "declarations-MIN_NUM_FORMS": "0",
        "declarations-MAX_NUM_FORMS": "1000",
    }
    for i, declaration in enumerate(declarations):
        data |= {
            f"declarations-{i}-id": declaration.pk,
            f"declarations-{i}-product": product.pk,
            f"declarations-{i}-kind": declaration.kind,
            f"declarations-{i}-topic": declaration.topic,
            f"declarations-{i}-statement": declaration.statement,
            f"declarations-{i}-evidence_level": declaration.evidence_level,
        }
    data.update(overrides)
    return data
