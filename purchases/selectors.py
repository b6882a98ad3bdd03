"""Reads of purchases that pages, the dashboard and the API share; they decide the queries."""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from core.access import Access
from core.spreadsheet import safe_cell
from products.models import Batch, Supplier
from purchases import calendar, facilities, money
from purchases.models import Means, Method, Offer, Order, OrderEvent, OrderLine, PriceSplit, SalesTerms, Stock
from purchases.services import not_for_sale_reason, offer_for


def available_of(batches: Iterable[Batch]) -> dict[int, int]:
    """Units of each batch still for sale: its quantity minus what orders hold (never below zero). One query."""
    batches = list(batches)
    held = dict(Stock.objects.filter(batch_id__in=[b.pk for b in batches]).values_list("batch_id", "held"))
    return {b.pk: max(0, b.quantity - held.get(b.pk, 0)) for b in batches}


def available_by_id(batch_ids: Iterable[int]) -> dict[int, int]:
    """Units still for sale, by batch id (for the API's batch resources). One query."""
    rows = Batch.objects.filter(pk__in=list(batch_ids)).values_list("pk", "quantity", "stock__held")
    return {pk: max(0, quantity - (held or 0)) for pk, quantity, held in rows}


@dataclass(frozen=True)
class Price:
    means: str
    amount: int
    currency: str = ""

    @property
    def text(self) -> str:
        return (
            money.text(self.amount, currency=self.currency) if self.means == Means.CASH else money.credits(self.amount)
        )


@dataclass
class BuyBox:
    """What the batch page says about buying it, and what its checkout needs."""

    batch: Batch
    available: int
    prices: list[Price]
    reason: str  # why it cannot be bought now ('' when it can)
    pickup_points: list[facilities.Place]
    delivers: bool
    delivery_fees: dict[str, str]
    next_days: list[date]
    price_split: PriceSplit | None
    credit_sales: int
    terms: SalesTerms | None = None
    other_batches: list[tuple[Batch, list[Price], int]] = field(default_factory=list)

    @property
    def for_sale(self) -> bool:
        return not self.reason and self.available > 0 and bool(self.prices)

    def price(self, means: str) -> Price | None:
        return next((p for p in self.prices if p.means == means), None)


def _prices(offer: Offer | None) -> list[Price]:
    if offer is None:
        return []
    prices = []
    if offer.price is not None:
        prices.append(Price(Means.CASH, offer.price, offer.currency))
    if offer.price_credits is not None:
        prices.append(Price(Means.CREDITS, offer.price_credits))
    return prices


def _fee_text(terms: SalesTerms, means: str, currency: str) -> str:
    fmt = (lambda v: money.text(v, currency=currency)) if means == Means.CASH else money.credits
    flat, per_item, free_above = (
        (terms.delivery_flat, terms.delivery_per_item, terms.delivery_free_above)
        if means == Means.CASH
        else (terms.delivery_flat_credits, terms.delivery_per_item_credits, terms.delivery_free_above_credits)
    )
    if not flat and not per_item:
        return "free"
    parts = [fmt(flat)] if flat else []
    if per_item:
        parts.append(f"{fmt(per_item)} per item")
    text = " + ".join(parts)
    if free_above is not None:
        text += f"; free from {fmt(free_above)}"
    return text


def buy_box(batch: Batch, *, now: datetime | None = None, with_others: bool = False) -> BuyBox:
    """The batch page's buy box (a batch from products.selectors.batch_page): a fixed number of queries, whatever the
    number of orders."""
    now = now or timezone.now()
    product, supplier = batch.product, batch.product.supplier
    offers = list(Offer.objects.filter(product=product))
    offer = offer_for(batch, offers)
    prices = _prices(offer)
    available = available_of([batch])[batch.pk]
    reason = not_for_sale_reason(batch, today=timezone.localdate(now))
    terms = SalesTerms.objects.filter(supplier=supplier).first()
    delivers = terms.delivers if terms else True
    cash = next((p for p in prices if p.means == Means.CASH), None)
    fees: dict[str, str] = {}
    if delivers:
        shown = terms or SalesTerms(supplier=supplier)
        for price in prices:
            fees[price.means] = _fee_text(shown, price.means, cash.currency if cash else "")
    offered = calendar.offered_by_place(supplier_id=supplier.pk, now=now)
    points = sorted(pk for method, pk in offered if method == Method.PICKUP and pk is not None)
    places = facilities.places_of(supplier.pk, points) if points else {}
    if not delivers:
        offered.pop((Method.DELIVERY, None), None)
    next_days = sorted({day for days in offered.values() for day in days})[:6]
    split = PriceSplit.objects.filter(product=product).first()
    sales = OrderLine.objects.filter(batch=batch, order__payment=Means.CREDITS, order__paid_at__isnull=False).count()
    box = BuyBox(
        batch=batch,
        available=available,
        prices=prices,
        reason=reason or ("" if prices else "Not offered for sale."),
        pickup_points=[places[pk] for pk in points if pk in places],
        delivers=delivers,
        delivery_fees=fees,
        next_days=next_days,
        price_split=split,
        credit_sales=sales,
        terms=terms,
    )
    if with_others:
        box.other_batches = _other_batches(batch)
    return box


def _other_batches(batch: Batch) -> list[tuple[Batch, list[Price], int]]:
    """The supplier's other batches for sale, to add to the same order."""
    supplier_id = batch.product.supplier_id
    others = list(
        Batch.objects.select_related("product__supplier")
        .filter(product__supplier_id=supplier_id, product__published_at__isnull=False, archived_at__isnull=True)
        .exclude(pk=batch.pk)
        .order_by("product__name", "-produced_on")[:20]
    )
    if not others:
        return []
    all_offers = list(Offer.objects.filter(product_id__in={b.product_id for b in others}))
    available = available_of(others)
    today = timezone.localdate()
    rows = []
    for other in others:
        prices = _prices(offer_for(other, all_offers))
        if prices and available[other.pk] > 0 and not not_for_sale_reason(other, today=today):
            rows.append((other, prices, available[other.pk]))
    return rows


# Orders ---------------------------------------------------------------------------------------------------------------


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related("supplier", "buyer", "hold", "dispute", "cash_payment").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("batch__product").order_by("id"))
    )


def orders_visible(*, user: Any, access: Access) -> QuerySet[Order]:
    """A buyer's own orders, a supplier member's orders to their suppliers, every order for operators."""
    if not getattr(user, "is_authenticated", False):
        return Order.objects.none()
    if access.operator:
        return _orders()
    return _orders().filter(Q(buyer=user) | Q(supplier_id__in=access.readable))


def orders_of_buyer(user: Any) -> QuerySet[Order]:
    return _orders().filter(buyer=user)


def order_visible(*, order_id: int, user: Any, access: Access) -> Order | None:
    return orders_visible(user=user, access=access).filter(pk=order_id).first()


def timeline(order: Order) -> list[Any]:
    return list(order.events.select_related("actor").order_by("at", "id"))


def with_timelines(orders: QuerySet[Order]) -> QuerySet[Order]:
    """The orders with each one's timeline as `order.timeline_events` (steps with their actors), in one more query
    for all of them."""
    steps = OrderEvent.objects.select_related("actor").order_by("at", "id")
    return orders.prefetch_related(Prefetch("events", queryset=steps, to_attr="timeline_events"))


@dataclass(frozen=True)
class PickRow:
    product: str
    lot: str
    quantity: int
    orders: list[int]


def pick_list(*, supplier: Supplier, day: date, facility_id: int | None = None) -> tuple[list[PickRow], list[Order]]:
    """What to pick and pack for a day: the units per batch, and the orders (with lines) to pack them into."""
    orders = list(
        _orders()
        .filter(
            supplier=supplier,
            state__in=[Order.State.PLACED, Order.State.CONFIRMED, Order.State.READY, Order.State.DISPATCHED],
        )
        .filter(Q(scheduled_for=day) | Q(scheduled_for__isnull=True, dispatch_by__date__lte=day))
        .filter(**({"facility_id": facility_id} if facility_id is not None else {}))
        .order_by("fulfilment", "pk")
    )
    totals: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, []])
    for order in orders:
        for line in order.lines.all():
            entry = totals[(line.batch.product.name, line.batch.lot)]
            entry[0] += line.quantity
            entry[1].append(order.pk)
    rows = [PickRow(product, lot, qty, ids) for (product, lot), (qty, ids) in sorted(totals.items())]
    return rows, orders


CSV_HEADER = [
    "order",
    "placed_at",
    "state",
    "buyer",
    "payment",
    "currency",
    "subtotal",
    "delivery_fee",
    "total",
    "paid_at",
    "fulfilment",
    "place_or_address",
    "scheduled_for",
    "dispatch_by",
    "lines",
]


def orders_csv(orders: Iterable[Order]) -> str:
    """Orders as CSV for the supplier's own books: amounts in the smallest unit, dates in ISO 8601."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for order in orders:
        writer.writerow(
            [
                safe_cell(x)
                for x in (
                    order.pk,
                    order.placed_at.isoformat(),
                    order.state,
                    order.buyer.email,
                    order.payment,
                    order.currency or "credits",
                    order.subtotal,
                    order.delivery_fee,
                    order.total,
                    order.paid_at.isoformat() if order.paid_at else "",
                    order.fulfilment,
                    order.place_name if order.fulfilment == Method.PICKUP else order.delivery_address(),
                    order.scheduled_for.isoformat() if order.scheduled_for else "",
                    order.dispatch_by.isoformat(),
                    "; ".join(
                        f"{line.quantity} x {line.batch.product.name} lot {line.batch.lot}"
                        for line in order.lines.all()
                    ),
                )
            ]
        )
    return out.getvalue()
