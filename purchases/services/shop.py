"""The supplier's shop: offers, terms of sale, the calendar (windows and closures) and price splits.

Each service writes rows of the one supplier it is given: another supplier's product, batch, facility or row is
refused with a clear message, whoever asks (the dashboard offers only the person's own choices; this is the rule).
One function per kind of row creates it (without the row) or changes it (with the row, given as stored, and only
the fields to change), in one transaction; a refusal is an OrderRefused and changes nothing.
"""

from datetime import date, time
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from core.changes import assign_changes, save_changes
from products.models import Batch, Product, Supplier
from purchases import facilities
from purchases.models import Closure, Offer, PriceSplit, SalesTerms, Window
from purchases.refusals import OrderRefused


class OfferFields(TypedDict, total=False):
    batch: Batch | None
    price: int | None  # minor units of `currency`
    currency: str
    price_credits: int | None  # hundredths of a credit
    active: bool


class SalesTermsFields(TypedDict, total=False):
    delivers: bool
    currency: str
    delivery_flat: int
    delivery_per_item: int
    delivery_free_above: int | None
    delivery_flat_credits: int
    delivery_per_item_credits: int
    delivery_free_above_credits: int | None
    dispatch_hours: int
    payment_instructions: str


class WindowFields(TypedDict, total=False):
    method: str
    facility_id: int
    weekday: int
    starts_at: time
    ends_at: time
    cutoff_hours: int
    active: bool


class ClosureFields(TypedDict, total=False):
    day: date
    reason: str


class PriceSplitFields(TypedDict, total=False):
    producers: int
    processing: int
    transport: int
    retail: int
    evidence_level: str
    evidence_url: str
    valid_until: date | None
    note: str


OFFER_FIELDS = frozenset(OfferFields.__annotations__)
SALES_TERMS_FIELDS = frozenset(SalesTermsFields.__annotations__)
WINDOW_FIELDS = frozenset(WindowFields.__annotations__)
CLOSURE_FIELDS = frozenset(ClosureFields.__annotations__)
PRICE_SPLIT_FIELDS = frozenset(PriceSplitFields.__annotations__)


def _assign(row: models.Model, fields: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    try:
        return assign_changes(row, fields, allowed)
    except ValidationError as error:
        raise OrderRefused(error.messages, code="invalid") from None


def _write(row: models.Model, changed: list[str], *, conflict: str) -> None:
    """Validate the whole row and write it (a new row, or its changed fields); `conflict` is what to say when a
    concurrent write took its place first."""
    try:
        with transaction.atomic():
            if row._state.adding:
                row.full_clean()
                row.save()
            else:
                save_changes(row, changed)
    except ValidationError as error:
        messages = error.message_dict if hasattr(error, "error_dict") else error.messages
        raise OrderRefused(messages, code="invalid") from None
    except IntegrityError:
        raise OrderRefused(conflict, code="invalid") from None


def _not_yours(supplier: Supplier, what: str) -> OrderRefused:
    return OrderRefused(f"This {what} is not {supplier.legal_name}'s.", code="not_found")


def _locked(row: models.Model) -> Any:
    return type(row)._default_manager.select_for_update().get(pk=row.pk)


# Offers ---------------------------------------------------------------------------------------------------------------


@transaction.atomic
def offer_save(
    *, supplier: Supplier, offer: Offer | None = None, product: Product | None = None, **fields: Unpack[OfferFields]
) -> Offer:
    """Offer one of the supplier's products (every batch of it, or one batch) at a price in hard currency (minor
    units) and/or in credits (hundredths); with `offer`, change that offer (it stays with its product)."""
    if offer is None:
        if product is None:
            raise OrderRefused({"product": "Choose the product to offer."}, code="invalid")
        offer = Offer(product=product)
    else:
        offer = _locked(offer)
        if product is not None and product.pk != offer.product_id:
            raise OrderRefused({"product": "An offer stays with its product: make a new offer."}, code="invalid")
    product = offer.product
    if product.supplier_id != supplier.pk:
        if offer.pk:
            raise _not_yours(supplier, "offer")
        raise OrderRefused({"product": f"{product.name} is not a product of {supplier.legal_name}."}, code="invalid")
    if "currency" in fields:
        fields["currency"] = (fields["currency"] or "").strip().upper()
    changed = _assign(offer, dict(fields), OFFER_FIELDS)
    if offer.price is None:
        offer.currency = ""  # no price in hard currency: no currency either (the database insists)
    batch = offer.batch
    if batch is not None and batch.product_id != product.pk:
        raise OrderRefused({"batch": f"Lot {batch.lot} is not a batch of {product.name}."}, code="invalid")
    others = Offer.objects.exclude(pk=offer.pk)
    if batch is None and others.filter(product=product, batch__isnull=True).exists():
        raise OrderRefused(
            {"batch": f"{product.name} already has an offer for every batch: change that one, or choose a batch."},
            code="invalid",
        )
    if batch is not None and others.filter(batch=batch).exists():
        raise OrderRefused({"batch": f"Lot {batch.lot} already has its own offer: change that one."}, code="invalid")
    _write(offer, [*changed, "currency"], conflict="Someone offered this at the same moment: reload and check.")
    return offer


# Terms of sale --------------------------------------------------------------------------------------------------------


@transaction.atomic
def sales_terms_save(*, supplier: Supplier, **fields: Unpack[SalesTermsFields]) -> SalesTerms:
    """Set the supplier's terms of sale (one row per supplier: created the first time, changed after): delivery
    fees in both means (minor units and hundredths of a credit), free-above thresholds, dispatch time, how to pay."""
    terms = SalesTerms.objects.select_for_update().filter(supplier=supplier).first() or SalesTerms(supplier=supplier)
    if "currency" in fields:
        fields["currency"] = (fields["currency"] or "").strip().upper()
    changed = _assign(terms, dict(fields), SALES_TERMS_FIELDS)
    _write(terms, changed, conflict=f"{supplier.legal_name}'s terms were saved at the same moment: reload and check.")
    return terms


# The calendar ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def window_save(*, supplier: Supplier, window: Window | None = None, **fields: Unpack[WindowFields]) -> Window:
    """Open a weekly pick-up or delivery window at one of the supplier's facilities, with its order cut-off; with
    `window`, change it. Orders already placed keep the deadlines they were given."""
    if window is None:
        window = Window(supplier=supplier)
    else:
        window = _locked(window)
        if window.supplier_id != supplier.pk:
            raise _not_yours(supplier, "window")
    changed = _assign(window, dict(fields), WINDOW_FIELDS)
    if window.facility_id is None:
        raise OrderRefused({"facility_id": "Choose the facility."}, code="invalid")
    if window.facility_id not in facilities.places_of(supplier.pk, [window.facility_id]):
        raise OrderRefused(
            {"facility_id": f"Facility {window.facility_id} is not one of {supplier.legal_name}'s facilities."},
            code="invalid",
        )
    _write(window, changed, conflict="This window was changed at the same moment: reload and check.")
    return window


@transaction.atomic
def closure_save(*, supplier: Supplier, closure: Closure | None = None, **fields: Unpack[ClosureFields]) -> Closure:
    """Close the supplier on a day (no pick-up or delivery is offered then, whatever the windows say); with
    `closure`, change it. Orders already scheduled for that day are not moved."""
    if closure is None:
        closure = Closure(supplier=supplier)
    else:
        closure = _locked(closure)
        if closure.supplier_id != supplier.pk:
            raise _not_yours(supplier, "closure")
    changed = _assign(closure, dict(fields), CLOSURE_FIELDS)
    closure.reason = " ".join((closure.reason or "").split())
    if closure.day is None:
        raise OrderRefused({"day": "Choose the day."}, code="invalid")
    if (closure._state.adding or "day" in changed) and closure.day < timezone.localdate():
        raise OrderRefused({"day": "That day is past: choose today or a day ahead."}, code="invalid")
    closed_on = f"{supplier.legal_name} is already closed on {closure.day:%d %b %Y}."
    if Closure.objects.filter(supplier=supplier, day=closure.day).exclude(pk=closure.pk).exists():
        raise OrderRefused({"day": closed_on}, code="invalid")
    _write(closure, [*changed, "reason"], conflict=closed_on)
    return closure


@transaction.atomic
def closure_delete(*, supplier: Supplier, closure: Closure) -> None:
    """Open the supplier again on a day it had closed."""
    locked = _locked(closure)
    if locked.supplier_id != supplier.pk:
        raise _not_yours(supplier, "closure")
    locked.delete()


# Where the money goes -------------------------------------------------------------------------------------------------


@transaction.atomic
def price_split_save(
    *,
    supplier: Supplier,
    product: Product | None = None,
    split: PriceSplit | None = None,
    **fields: Unpack[PriceSplitFields],
) -> PriceSplit:
    """Declare where the price of one of the supplier's products goes along its chain (one split per product:
    created the first time, changed after); the shares add up to 100 %."""
    if split is not None:
        split = _locked(split)
        if product is not None and product.pk != split.product_id:
            raise OrderRefused({"product": "A price split stays with its product."}, code="invalid")
        product = split.product
    elif product is None:
        raise OrderRefused({"product": "Choose the product."}, code="invalid")
    if product.supplier_id != supplier.pk:
        if split is not None:
            raise _not_yours(supplier, "price split")
        raise OrderRefused({"product": f"{product.name} is not a product of {supplier.legal_name}."}, code="invalid")
    if split is None:
        split = PriceSplit.objects.select_for_update().filter(product=product).first() or PriceSplit(product=product)
    changed = _assign(split, dict(fields), PRICE_SPLIT_FIELDS)
    _write(split, changed, conflict=f"The price split of {product.name} was saved at the same moment: reload.")
    return split
