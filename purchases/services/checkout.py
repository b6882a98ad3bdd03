"""Checkout and rescheduling: an order for one supplier's batches, in cash or credits, picked up or delivered, now
or later.

Stock rows are locked in batch order and checked under the lock: two shoppers can never both buy the last unit;
the database refuses stock above a batch's quantity besides (migration 0002).
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_countries import countries

from core import pages
from network_credits import services as ledger
from network_credits.models import Hold
from network_credits.services import LedgerRefusal
from products.models import Batch, Supplier
from purchases import calendar, facilities, money
from purchases.models import (
    Means,
    Method,
    Offer,
    Order,
    OrderLine,
    SalesTerms,
    Stock,
)
from purchases.refusals import OrderRefused
from purchases.services.steps import (
    Role,
    State,
    _accounts,
    _event,
    _locked,
    _move,
    _require,
    _stock_locked,
    _wrong_state,
    buyer_may_change,
)

MAX_LINES = 50
MAX_UNITS = 10_000


@dataclass(frozen=True)
class LineIn:
    batch_id: int
    quantity: int


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postcode: str
    country: str
    line2: str = ""


@dataclass(frozen=True)
class Fulfilment:
    method: str
    facility_id: int | None = None
    address: Address | None = None


@dataclass(frozen=True)
class Placed:
    order: Order
    replayed: bool = False


def offer_for(batch: Batch, offers: Iterable[Offer]) -> Offer | None:
    """The batch's own active offer, else its product's (from the offers of its product)."""
    by_batch = product_offer = None
    for offer in offers:
        if offer.batch_id == batch.pk:
            by_batch = offer
        elif offer.batch_id is None and offer.product_id == batch.product_id:
            product_offer = offer
    chosen = by_batch or product_offer
    return chosen if chosen is not None and chosen.active else None


def not_for_sale_reason(batch: Batch, *, today: date | None = None) -> str:
    """Why a batch cannot be bought now ('' when it can), before stock and offers."""
    product, supplier = batch.product, batch.product.supplier
    if supplier.status != Supplier.Status.ACTIVE:
        return f"{supplier.legal_name} is {supplier.get_status_display().lower()} and takes no orders."
    if not product.is_public:
        return f"{product.name} is not published."
    if batch.is_archived:
        return f"Lot {batch.lot} is withdrawn from sale."
    if batch.is_expired(today):
        return f"Lot {batch.lot} is past its expiry date."
    return ""


def _request_hash(**request: Any) -> str:
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _lines_clean(lines: Iterable[LineIn]) -> list[LineIn]:
    merged: dict[int, int] = {}
    for line in lines:
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
            raise OrderRefused({"lines": "Each line buys at least one unit."}, code="invalid")
        merged[line.batch_id] = merged.get(line.batch_id, 0) + line.quantity
    if not merged:
        raise OrderRefused({"lines": "An order buys at least one batch."}, code="invalid")
    if len(merged) > MAX_LINES or sum(merged.values()) > MAX_UNITS:
        raise OrderRefused({"lines": f"An order has at most {MAX_LINES} lines and {MAX_UNITS} units."}, code="invalid")
    return [LineIn(batch_id, quantity) for batch_id, quantity in sorted(merged.items())]


def _address_clean(address: Address | None) -> Address:
    if address is None:
        raise OrderRefused({"address": "A delivery needs an address."}, code="invalid")
    fields = {
        "name": (address.name, 200),
        "line1": (address.line1, 200),
        "line2": (address.line2, 200),
        "city": (address.city, 100),
        "postcode": (address.postcode, 20),
    }
    errors = {}
    cleaned = {}
    for name, (value, limit) in fields.items():
        value = " ".join(str(value or "").split())
        if not value and name != "line2":
            errors[f"address.{name}"] = "This part of the address is required."
        elif len(value) > limit:
            errors[f"address.{name}"] = f"At most {limit} characters."
        cleaned[name] = value
    country = str(address.country or "").strip().upper()
    if country not in dict(countries):
        errors["address.country"] = "Give the country as its two-letter ISO 3166 code, such as GH or PT."
    if errors:
        raise OrderRefused(errors, code="invalid")
    return Address(country=country, **cleaned)


def checkout(
    *,
    buyer: Any,
    lines: Iterable[LineIn],
    payment: str,
    fulfilment: Fulfilment,
    day: date | None,
    key: str,
    cash_method: str = Order.CashMethod.CASH_AT_PICKUP,
    now: datetime | None = None,
) -> Placed:
    """Place an order for units of one supplier's batches, paid in cash or credits, picked up or delivered, now or on
    a day the supplier's calendar offers. The same key (per buyer) returns the first order: a double click or a
    retried request never buys twice."""
    if not 1 <= len(key or "") <= 255:
        raise OrderRefused({"idempotency_key": "An idempotency key is 1 to 255 characters."}, code="invalid")
    if payment not in Means.values:
        raise OrderRefused({"payment": "Pay in cash or in credits."}, code="invalid")
    if fulfilment.method not in Method.values:
        raise OrderRefused({"fulfilment": "Choose pick-up or delivery."}, code="invalid")
    if payment == Means.CASH and cash_method not in Order.CashMethod.values:
        raise OrderRefused({"cash_method": "Pay cash at pick-up, by card or by bank transfer."}, code="invalid")
    cleaned = _lines_clean(lines)
    address = _address_clean(fulfilment.address) if fulfilment.method == Method.DELIVERY else None
    digest = _request_hash(
        lines=[(line.batch_id, line.quantity) for line in cleaned],
        payment=payment,
        cash_method=cash_method if payment == Means.CASH else "",
        method=fulfilment.method,
        facility=fulfilment.facility_id if fulfilment.method == Method.PICKUP else None,
        address=address,
        day=day,
    )
    earlier = _replay(buyer, key, digest)
    if earlier is not None:
        return Placed(earlier, replayed=True)
    try:
        return _checkout(
            buyer=buyer,
            lines=cleaned,
            payment=payment,
            cash_method=cash_method,
            fulfilment=fulfilment,
            address=address,
            day=day,
            key=key,
            digest=digest,
            now=now or timezone.now(),
        )
    except IntegrityError:
        # The same key, sent twice at once: the first committed; this one returns its order.
        earlier = _replay(buyer, key, digest)
        if earlier is None:
            raise
        return Placed(earlier, replayed=True)


def _replay(buyer: Any, key: str, digest: str) -> Order | None:
    earlier = Order.objects.filter(buyer=buyer, idempotency_key=key).first()
    if earlier is not None and earlier.request_hash != digest:
        raise OrderRefused(
            "This idempotency key was already used for a different order; use a new key for a new order.",
            code="idempotency_key_reused",
        )
    return earlier


@transaction.atomic
def _checkout(
    *,
    buyer: Any,
    lines: list[LineIn],
    payment: str,
    cash_method: str,
    fulfilment: Fulfilment,
    address: Address | None,
    day: date | None,
    key: str,
    digest: str,
    now: datetime,
) -> Placed:
    batches = Batch.objects.select_related("product__supplier").in_bulk([line.batch_id for line in lines])
    # An unpublished product's batch is as unknown as a missing one: its name is not for strangers.
    missing = [
        line.batch_id for line in lines if line.batch_id not in batches or not batches[line.batch_id].product.is_public
    ]
    if missing:
        raise OrderRefused({"lines": f"There is no batch {missing[0]} for sale."}, code="not_found")
    supplier_ids = {batch.product.supplier_id for batch in batches.values()}
    if len(supplier_ids) > 1:
        raise OrderRefused({"lines": "An order buys from one supplier; place one order per supplier."}, code="invalid")
    supplier = next(iter(batches.values())).product.supplier
    for line in lines:
        reason = not_for_sale_reason(batches[line.batch_id], today=timezone.localdate(now))
        if reason:
            raise OrderRefused({"lines": reason}, code="not_for_sale")
    offers = list(Offer.objects.filter(product_id__in={b.product_id for b in batches.values()}))
    prices: dict[int, int] = {}
    currencies = set()
    for line in lines:
        batch = batches[line.batch_id]
        offer = offer_for(batch, offers)
        price = offer.price_in(payment) if offer else None
        if offer is None or price is None:
            means = "in credits" if payment == Means.CREDITS else "in hard currency"
            raise OrderRefused(
                {"payment": f"{batch.product.name}, lot {batch.lot}, is not sold {means}."}, code="not_for_sale"
            )
        prices[line.batch_id] = price
        if payment == Means.CASH:
            currencies.add(offer.currency)
    if len(currencies) > 1:
        raise OrderRefused(
            {"lines": "These batches are priced in different currencies; order them apart."}, code="invalid"
        )
    terms = SalesTerms.objects.filter(supplier=supplier).first() or SalesTerms(supplier=supplier)
    place = _place(supplier, fulfilment, terms)
    slot = calendar.slot_for(
        supplier_id=supplier.pk,
        method=fulfilment.method,
        facility_id=place.id if place else None,
        day=day,
        now=now,
        dispatch_hours=terms.dispatch_hours,
    )

    subtotal = sum(prices[line.batch_id] * line.quantity for line in lines)
    units = sum(line.quantity for line in lines)
    fee = (
        terms.delivery_fee(means=payment, subtotal=subtotal, units=units) if fulfilment.method == Method.DELIVERY else 0
    )
    currency = currencies.pop() if payment == Means.CASH else ""
    if payment == Means.CASH and fee and terms.currency != currency:
        raise OrderRefused(
            {"fulfilment": f"Delivery is charged in {terms.currency}, these batches in {currency}: choose pick-up."},
            code="invalid",
        )
    order = Order(
        buyer=buyer,
        supplier=supplier,
        payment=payment,
        cash_method=cash_method if payment == Means.CASH else "",
        currency=currency,
        subtotal=subtotal,
        delivery_fee=fee,
        total=subtotal + fee,
        fulfilment=fulfilment.method,
        window=slot.window,
        facility_id=place.id if place else None,
        place_name=place.name if place else "",
        place_address=place.address if place else "",
        scheduled_for=day,
        changeable_until=slot.changeable_until,
        dispatch_by=slot.dispatch_by,
        placed_at=now,
        idempotency_key=key,
        request_hash=digest,
    )
    if address is not None:
        order.address_name, order.address_line1, order.address_line2 = address.name, address.line1, address.line2
        order.address_city, order.address_postcode, order.address_country = (
            address.city,
            address.postcode,
            address.country,
        )
    # The key is claimed first: a concurrent repeat waits on the unique index and then finds this order.
    with transaction.atomic():
        order.save()

    stock = _stock_locked([line.batch_id for line in lines])
    short = []
    for line in lines:
        batch = batches[line.batch_id]
        left = max(0, batch.quantity - stock[line.batch_id].held)
        if line.quantity > left:
            short.append(
                f"{batch.product.name}, lot {batch.lot}, has sold out."
                if left == 0
                else f"Only {left} of {batch.product.name}, lot {batch.lot}, {'is' if left == 1 else 'are'} left; "
                f"you asked for {line.quantity}."
            )
    if short:
        raise OrderRefused({"lines": short}, code="out_of_stock")
    for line in lines:
        Stock.objects.filter(pk=line.batch_id).update(held=F("held") + line.quantity)
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                batch_id=line.batch_id,
                quantity=line.quantity,
                unit_price=prices[line.batch_id],
                line_total=prices[line.batch_id] * line.quantity,
            )
            for line in lines
        ]
    )
    if payment == Means.CREDITS:
        order.hold = _hold(order, buyer=buyer, supplier=supplier, expires_at=hold_expiry(slot, now))
        order.save(update_fields=["hold"])
    _event(order, action="place", to_state=State.PLACED, actor=buyer, role=Role.BUYER)
    pages.changed([("batch", line.batch_id) for line in lines])
    return Placed(order)


def hold_expiry(slot: calendar.Slot, now: datetime) -> datetime:
    """When an order's hold lapses if nothing resolved it: after the latest day the order could be moved to and its
    confirmation window, so that rescheduling never outlives the reservation; the beat task pays or voids it first."""
    horizon = now + timedelta(days=settings.PURCHASES_CALENDAR_DAYS + 1 + settings.PURCHASES_CONFIRM_DAYS)
    return max(slot.settle_by, horizon) + timedelta(days=2)


def _place(supplier: Supplier, fulfilment: Fulfilment, terms: SalesTerms) -> facilities.Place | None:
    if fulfilment.method == Method.DELIVERY:
        if not terms.delivers:
            raise OrderRefused(
                {"fulfilment": f"{supplier.legal_name} does not deliver; choose pick-up."}, code="invalid"
            )
        return None
    if fulfilment.facility_id is None:
        raise OrderRefused({"fulfilment": "Choose where to pick up."}, code="invalid")
    place = facilities.places_of(supplier.pk, [fulfilment.facility_id]).get(fulfilment.facility_id)
    if place is None or not calendar.is_pickup_point(supplier_id=supplier.pk, facility_id=place.id):
        raise OrderRefused(
            {"fulfilment": f"{supplier.legal_name} has no pick-up point {fulfilment.facility_id}."}, code="invalid"
        )
    return place


def _hold(order: Order, *, buyer: Any, supplier: Supplier, expires_at: datetime) -> Hold:
    payer, payee = _accounts(buyer, supplier)
    try:
        return ledger.hold(
            payer=payer,
            payee=payee,
            amount=order.total,
            key=f"order-{order.pk}-hold",
            expires_at=expires_at,
            actor=buyer,
            memo=f"Order #{order.pk}",
        )
    except LedgerRefusal as refusal:
        if refusal.code == "insufficient_credit":
            spendable, costs = money.credits(max(payer.available, 0)), money.credits(order.total)
            raise OrderRefused(
                {"payment": f"Your credit account has {spendable} to spend; this order costs {costs}."},
                code="insufficient_credit",
            ) from refusal
        raise OrderRefused({"payment": refusal.messages}, code=refusal.code or "refused") from refusal


@transaction.atomic
def order_reschedule(
    *, order: Order, actor: Any, day: date | None, facility_id: int | None = None, now: datetime | None = None
) -> Order:
    """The buyer moves their order to another day the calendar offers (or another pick-up point), until the cut-off."""
    now = now or timezone.now()
    locked = _locked(order)
    role = _require(locked, actor, Role.BUYER)
    if locked.state not in (State.PLACED, State.CONFIRMED) or not buyer_may_change(locked, now=now):
        raise _wrong_state(locked, "changed")
    terms = SalesTerms.objects.filter(supplier=locked.supplier).first() or SalesTerms(supplier=locked.supplier)
    place_id = locked.facility_id
    fields: dict[str, Any] = {}
    if locked.fulfilment == Method.PICKUP and facility_id is not None and facility_id != locked.facility_id:
        place = _place(locked.supplier, Fulfilment(Method.PICKUP, facility_id=facility_id), terms)
        assert place is not None
        place_id = place.id
        fields |= {"facility_id": place.id, "place_name": place.name, "place_address": place.address}
    slot = calendar.slot_for(
        supplier_id=locked.supplier_id,
        method=locked.fulfilment,
        facility_id=place_id,
        day=day,
        now=now,
        dispatch_hours=terms.dispatch_hours,
    )
    if locked.hold is not None and slot.settle_by + timedelta(days=2) > locked.hold.expires_at:
        raise OrderRefused(
            {
                "date": "The credits for this order are reserved until "
                f"{timezone.localtime(locked.hold.expires_at):%d %b %Y}; "
                "choose an earlier day, or cancel and order again."
            },
            code="invalid",
        )
    when = f"{day:%A %d %B %Y}" if day else "as soon as possible"
    return _move(
        locked,
        to_state=locked.state,
        action="reschedule",
        actor=actor,
        role=role,
        note=f"Now for {when}" + (f" at {fields['place_name']}" if "place_name" in fields else "") + ".",
        scheduled_for=day,
        window=slot.window,
        changeable_until=slot.changeable_until,
        dispatch_by=slot.dispatch_by,
        **fields,
    )
