"""A shop to buy from: a supplier with an owner, a public product and batch on offer in cash and credits, a pick-up
point with a Saturday window, a delivery window, and buyers with credits to spend."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from network_credits import services as ledger
from network_credits.models import Account
from products.models import Batch, Supplier, SupplierMember
from provenance.models import Facility
from provenance.services import facility_create
from purchases import services
from purchases.models import Means, Method, Offer, Order, SalesTerms, Window
from purchases.services import Address, Fulfilment, LineIn
from tests.accounts.factories import UserFactory
from tests.products.factories import BatchFactory, SupplierFactory, SupplierMemberFactory, public_product

_keys = itertools.count(1)
ADDRESS = Address(name="Ama Mensah", line1="12 Palm Street", city="Kumasi", postcode="AK-039", country="GH")


@dataclass
class Shop:
    supplier: Supplier
    owner: Any
    batch: Batch
    offer: Offer
    facility: Facility
    pickup: Window
    delivery: Window
    terms: SalesTerms


def shop(
    *,
    quantity: int = 10,
    price: int | None = 450,
    currency: str = "EUR",
    price_credits: int | None = 500,
    supplier: Supplier | None = None,
    owner: Any = None,
) -> Shop:
    supplier = supplier or SupplierFactory()
    if owner is None:
        owner = UserFactory()
        SupplierMemberFactory(supplier=supplier, user=owner, role=SupplierMember.Role.OWNER)
    product = public_product(supplier=supplier)
    batch = BatchFactory(product=product, quantity=quantity, produced_on=datetime.date(2026, 9, 1))
    offer = Offer.objects.create(
        product=product, price=price, currency=currency if price else "", price_credits=price_credits
    )
    place = facility_create(
        owner=supplier, name=f"{supplier.legal_name} shop", country="GH", address="1 Market Road, Kumasi"
    )
    pickup = Window.objects.create(
        supplier=supplier,
        method=Method.PICKUP,
        facility_id=place.pk,
        weekday=Window.Weekday.SATURDAY,
        starts_at=datetime.time(9),
        ends_at=datetime.time(13),
        cutoff_hours=24,
    )
    delivery = Window.objects.create(
        supplier=supplier,
        method=Method.DELIVERY,
        facility_id=place.pk,
        weekday=Window.Weekday.WEDNESDAY,
        starts_at=datetime.time(14),
        ends_at=datetime.time(18),
        cutoff_hours=48,
    )
    terms, _ = SalesTerms.objects.update_or_create(
        supplier=supplier,
        defaults={
            "delivery_flat": 300,
            "delivery_flat_credits": 300,
            "delivery_free_above": 5000,
            "currency": currency,
        },
    )
    return Shop(supplier, owner, batch, offer, place, pickup, delivery, terms)


def buyer(*, credits: int = 10_000, **fields: Any) -> Any:
    """A shopper whose credit account holds `credits` hundredths (topped up with hard currency)."""
    user = UserFactory(**fields)
    account = ledger.account_open_for_member(user=user)
    if credits:
        ledger.top_up(
            account=account,
            amount=credits,
            provider="cash",
            reference=f"top-up-{next(_keys)}",
            currency="EUR",
            amount_minor=credits,
            key=f"top-up-{next(_keys)}",
            system="tests",
        )
    return user


def account_of(user: Any) -> Account:
    return Account.objects.get(kind=Account.Kind.MEMBER, user=user)


def supplier_account_of(supplier: Supplier) -> Account:
    return Account.objects.get(kind=Account.Kind.SUPPLIER, supplier_id=supplier.pk)


def next_weekday(weekday: int, *, after: datetime.date | None = None) -> datetime.date:
    """The next such weekday at least two days ahead (past any cut-off of a day or so)."""
    day = (after or timezone.localdate()) + datetime.timedelta(days=2)
    while day.weekday() != weekday:
        day += datetime.timedelta(days=1)
    return day


def order(
    s: Shop,
    who: Any,
    *,
    quantity: int = 1,
    payment: str = Means.CREDITS,
    method: str = Method.PICKUP,
    day: datetime.date | None = None,
    key: str | None = None,
    cash_method: str = Order.CashMethod.CASH_AT_PICKUP,
) -> Order:
    fulfilment = (
        Fulfilment(Method.PICKUP, facility_id=s.facility.pk)
        if method == Method.PICKUP
        else Fulfilment(Method.DELIVERY, address=ADDRESS)
    )
    return services.checkout(
        buyer=who,
        lines=[LineIn(s.batch.pk, quantity)],
        payment=payment,
        fulfilment=fulfilment,
        day=day,
        key=key or f"key-{next(_keys)}",
        cash_method=cash_method,
    ).order
