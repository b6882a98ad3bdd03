"""Busy networks for bench/batch_page.py's mixed scenario: many batches with demo-like chains across suppliers,
and the writes their suppliers make while shoppers read.

`build(batches, name=…)` adds, beside seed_demo's data, a network of its own: 2 growers (5 farms each), 2 processors (2
mills each) and 2 makers (2 factories and a warehouse each), whose products (10 batches each, with a risk and a benefit)
are made from a raw lot grown at a farm, processed at a mill into an intermediate lot, and made at a factory — with an
ingredient lot that 10 batches share — then stored at the warehouse: 9 events by 3 suppliers for every batch, with
evidence on the growers' harvests. The mixed scenario reads one network's pages while the suppliers of another write:
`write(tag, name=…)` makes one write on a network's data, chosen by the tag: a capture of a new event on a batch's chain
(by the supplier of that stage), an edit of a product's benefit, or an edit of a batch; the mix and the targets are
spread over all suppliers and batches. Both go through the services, as the dashboard and the API do.

`shop_open(name)` puts a network's products on sale (cash and credits, picked up at each maker's warehouse) and gives
its shoppers credits; `write(tag, readers=…)` then also makes orders on the network being read: a checkout of a unit
of one of its batches — spread over them as the reads are (`reading_order`, `zipf_weights`): popular pages sell
more — or the buyer's cancellation of an open order, so that stock comes back. Each changes the batch's available
units, which its page shows. One in four of those shoppers' writes is a review instead (a new one of a batch they
have not reviewed, or an edit of one they have), which changes the pages of every batch of its product.
"""

import random
import uuid
import zlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

ROLES = ("grower", "processor", "maker")
SHOPPERS = 8
ORDER_SHARE = 1 / 3  # of the writes: checkouts, cancellations and reviews on the pages being read
REVIEW_SHARE = 1 / 4  # of those: reviews and their edits
READING_SEED = 9  # the reads' ranking of pages (bench/batch_page.py's mixed_paths) and the orders' use the same one


@dataclass(frozen=True)
class Batches:
    ids: list[int]  # the busy network's batches, in the order build() made them


def _facility(owner, n: int, name: str, country: str, lat: float, long: float):
    from provenance.services import facility_create
    from tests.provenance.factories import gln

    fields = {"name": name, "country": country, "latitude": Decimal(f"{lat:.4f}"), "longitude": Decimal(f"{long:.4f}")}
    return facility_create(owner=owner, **fields, gln=gln(n))


def build(batches: int = 200, *, name: str = "busy", gln_base: int = 500) -> Batches:
    from core.gs1 import gtin_uri, gtin_with_check_digit
    from provenance.models import TraceEvent
    from provenance.services import capture_document, evidence_create
    from tests.products.factories import BatchFactory, SupplierFactory, public_product
    from tests.provenance.factories import epcis_document, event, quantity, transformation

    rng = random.Random(zlib.crc32(name.encode()))
    code = zlib.crc32(name.encode()) % 90 + 10  # keeps the GTINs of two networks apart

    def supplier(role: str, n: int, country: str):
        return SupplierFactory(
            legal_name=f"{name.title()} {role} {n}", slug=f"{name}-{role.lower()}-{n}", country=country
        )

    growers = [supplier("Grower", n, "GH") for n in (1, 2)]
    processors = [supplier("Processor", n, "CI") for n in (1, 2)]
    makers = [supplier("Maker", n, "BE") for n in (1, 2)]
    g0 = gln_base
    farms = [
        _facility(grower, g0 + 10 * g + i, f"Farm {g}.{i}", "GH", 6 + i / 10, -1.5 - g / 10)
        for g, grower in enumerate(growers)
        for i in range(5)
    ]
    mills = [
        _facility(processor, g0 + 100 + 10 * p + i, f"Mill {p}.{i}", "CI", 5.3 + i / 10, -4 - p / 10)
        for p, processor in enumerate(processors)
        for i in range(2)
    ]
    factories = {
        maker.pk: [
            _facility(maker, g0 + 200 + 10 * m + i, f"Factory {m}.{i}", "BE", 51 + i / 10, 4 + m / 10) for i in range(2)
        ]
        for m, maker in enumerate(makers)
    }
    warehouses = {
        maker.pk: _facility(maker, g0 + 290 + m, f"Warehouse {m}", "NL", 52, 4.9) for m, maker in enumerate(makers)
    }
    audits = {
        grower.pk: evidence_create(owner=grower, title="Farm audit", issuer="Certifier", url="https://c.example/audit")
        for grower in growers
    }

    ids: list[int] = []
    documents: dict[int, list[dict]] = {}
    harvests: dict[int, list[str]] = {}
    per_product = 10
    for k in range(batches // per_product):
        maker = makers[k % len(makers)]
        product = public_product(supplier=maker, name=f"{name.title()} product {k}", slug=f"{name}-{k}")
        raw_gtin = gtin_with_check_digit(f"963{code}{k:07d}")
        made_gtin = gtin_with_check_digit(f"964{code}{k:07d}")
        ingredient = gtin_uri(gtin_with_check_digit(f"965{code}{k:07d}"), "SHARED")
        for b in range(per_product):
            batch = BatchFactory(product=product, lot=f"B{k}-{b}")
            ids.append(batch.pk)
            grower, processor = rng.choice(growers), rng.choice(processors)
            farm = rng.choice([f for f in farms if f.owner_id == grower.pk])
            mill = rng.choice([m for m in mills if m.owner_id == processor.pk])
            factory, store = rng.choice(factories[maker.pk]), warehouses[maker.pk]
            raw, made, bar = (
                gtin_uri(raw_gtin, f"R{b}"),
                gtin_uri(made_gtin, f"M{b}"),
                gtin_uri(product.gtin, batch.lot),
            )
            hours = 24 * b
            grown = event("ObjectEvent", hours, action="ADD", bizStep="commissioning", where=farm.location_uri,
                          quantityList=[quantity(raw, 1000)])  # fmt: skip
            documents.setdefault(grower.pk, []).append(grown)
            harvests.setdefault(grower.pk, []).append(grown["eventID"])
            documents[grower.pk].append(
                event(
                    "ObjectEvent",
                    hours + 2,
                    action="OBSERVE",
                    bizStep="shipping",
                    where=farm.location_uri,
                    quantityList=[quantity(raw, 1000)],
                )  # fmt: skip
            )
            documents.setdefault(processor.pk, []).extend([
                event("ObjectEvent", hours + 8, action="OBSERVE", bizStep="receiving", where=mill.location_uri,
                      quantityList=[quantity(raw, 1000)]),
                transformation(hours + 10, [quantity(raw, 1000)], [quantity(made, 900)], where=mill.location_uri),
                event("ObjectEvent", hours + 12, action="OBSERVE", bizStep="shipping", where=mill.location_uri,
                      quantityList=[quantity(made, 900)]),
            ])  # fmt: skip
            documents.setdefault(maker.pk, []).extend([
                event("ObjectEvent", hours + 30, action="OBSERVE", bizStep="receiving", where=factory.location_uri,
                      quantityList=[quantity(made, 900)]),
                transformation(hours + 32, [quantity(made, 900), quantity(ingredient, 10)], [quantity(bar, 1000)],
                               where=factory.location_uri),
                event("ObjectEvent", hours + 34, action="OBSERVE", bizStep="storing", where=store.location_uri,
                      quantityList=[quantity(bar, 1000)]),
            ])  # fmt: skip
            if b == 0:
                documents[grower.pk].append(
                    event(
                        "ObjectEvent",
                        hours + 1,
                        action="ADD",
                        bizStep="commissioning",
                        where=farm.location_uri,
                        quantityList=[quantity(ingredient, 100)],
                    )  # fmt: skip
                )
    suppliers = {s.pk: s for s in growers + processors + makers}
    for supplier_id, events in documents.items():
        capture_document(supplier=suppliers[supplier_id], submitted_by=None, document=epcis_document(*events))
    for grower_id, event_ids in harvests.items():
        audits[grower_id].events.add(*TraceEvent.objects.filter(event_id__in=event_ids[::3]))
    return Batches(ids)


def reading_order(batch_ids: list[int]) -> list[int]:
    """The batches by how popular their pages are, most read first (a fixed shuffle of the build order)."""
    ranked = batch_ids[:]
    random.Random(READING_SEED).shuffle(ranked)
    return ranked


def zipf_weights(count: int) -> list[float]:
    """How often the page of each rank is read (and its batch bought): rank r in proportion to 1/r."""
    return [1 / rank for rank in range(1, count + 1)]


def _shopper_email(name: str, n: int) -> str:
    return f"shopper-{n}@{name}.bench.example"


def shop_open(name: str = "busy", *, shoppers: int = SHOPPERS) -> None:
    """Offer every product of network `name` in cash and credits, picked up at each maker's warehouse any day, and
    open the credit accounts of its shoppers, each with 500 credits to spend (a day's top-up at most)."""
    import datetime

    from network_credits import services as ledger
    from products.models import Product, Supplier
    from provenance.models import Facility
    from purchases.models import Method, Offer, SalesTerms, Window
    from tests.accounts.factories import UserFactory

    for maker in Supplier.objects.filter(slug__startswith=f"{name}-maker-"):
        SalesTerms.objects.get_or_create(supplier=maker, defaults={"currency": "EUR", "delivers": False})
        warehouse = Facility.objects.get(owner=maker, name__startswith="Warehouse")
        Window.objects.bulk_create(
            Window(supplier=maker, method=Method.PICKUP, facility_id=warehouse.pk, weekday=day,
                   starts_at=datetime.time(8), ends_at=datetime.time(20), cutoff_hours=0)
            for day in range(7)
        )  # fmt: skip
    products = Product.objects.filter(slug__startswith=f"{name}-")
    Offer.objects.bulk_create(Offer(product=p, price=450, currency="EUR", price_credits=500) for p in products)
    for n in range(shoppers):
        user = UserFactory(email=_shopper_email(name, n))
        account = ledger.account_open_for_member(user=user)
        ledger.top_up(
            account=account, amount=50_000, provider="cash", reference=f"{name}-shopper-{n}",
            currency="EUR", amount_minor=50_000, key=f"{name}-shopper-{n}", system="bench",
        )  # fmt: skip


@cache
def _read_batches(name: str) -> tuple[list[int], list[float], dict[int, int]]:
    """The batches of network `name` by popularity, their weights, and the pick-up point of each (its maker's
    warehouse): worked out once per process."""
    from products.models import Batch
    from provenance.models import Facility

    rows = list(
        Batch.objects.filter(product__slug__startswith=f"{name}-")
        .order_by("pk")
        .values_list("pk", "product__supplier_id")
    )
    warehouses = dict(
        Facility.objects.filter(name__startswith="Warehouse", owner__slug__startswith=f"{name}-maker-").values_list(
            "owner_id", "pk"
        )
    )
    ranked = reading_order([pk for pk, _ in rows])
    pickup = {pk: warehouses[supplier_id] for pk, supplier_id in rows}
    return ranked, zipf_weights(len(ranked)), pickup


def _order_write(tag: str, rng: random.Random, name: str) -> str:
    """A shopper buys one unit of a batch of network `name` (cash or credits, picked up now), or cancels one of the
    open orders, so that its stock comes back. A refusal (sold out, already cancelled) is an answer, not an error."""
    from accounts.models import User
    from purchases import services
    from purchases.models import Order
    from purchases.services import Fulfilment, LineIn

    shoppers = [_shopper_email(name, n) for n in range(SHOPPERS)]
    if rng.random() < 0.4:
        open_orders = list(
            Order.objects.filter(state=Order.State.PLACED, buyer__email__in=shoppers)
            .order_by("pk")
            .values_list("pk", flat=True)[:20]
        )
        if open_orders:
            placed = Order.objects.select_related("buyer").get(pk=rng.choice(open_orders))
            try:
                services.order_cancel(order=placed, actor=placed.buyer)
            except services.OrderRefused:
                return "cancel-refused"
            return "cancel"
    ranked, weights, pickup = _read_batches(name)
    batch_id = rng.choices(ranked, weights=weights)[0]
    try:
        services.checkout(
            buyer=User.objects.get(email=rng.choice(shoppers)),
            lines=[LineIn(batch_id, 1)],
            payment=rng.choice(["cash", "credits"]),
            fulfilment=Fulfilment("pickup", facility_id=pickup[batch_id]),
            day=None,
            key=f"bench-{tag}",
        )
    except services.OrderRefused:
        return "checkout-refused"
    return "checkout"


def _review_write(tag: str, rng: random.Random, name: str) -> str:
    """A shopper reviews a batch of network `name` (spread over them as the reads are), or edits their review of it;
    a refusal (an abuse limit) is an answer, not an error."""
    from accounts.models import User
    from reviews import services
    from reviews.models import Review

    ranked, weights, _ = _read_batches(name)
    batch_id = rng.choices(ranked, weights=weights)[0]
    shopper = User.objects.get(email=_shopper_email(name, rng.randrange(SHOPPERS)))
    words = " ".join(f"{rng.choice(['smooth', 'bitter', 'fresh', 'late', 'fair', 'dry'])}{rng.randrange(10**6)}"
                     for _ in range(8))  # fmt: skip
    existing = Review.objects.filter(author=shopper, batch_id=batch_id).values_list("pk", flat=True).first()
    try:
        if existing:
            services.review_edit(author=shopper, review_id=existing, rating=rng.randint(1, 5), body=f"Edited: {words}")
            return "review-edit"
        services.review_create(
            author=shopper, batch_id=batch_id, rating=rng.randint(1, 5), title=f"Bench review {tag}", body=words
        )
    except services.ReviewRefused:
        return "review-refused"
    return "review"


def orders_made(name: str = "busy") -> tuple[int, int, str]:
    """(orders placed, orders cancelled) by network `name`'s shoppers, and whether stock and ledger add up after them:
    each batch's held units are what its orders not cancelled hold, within its quantity; the balances sum to zero
    and none is below its floor ("ok" or "broken")."""
    from django.db.models import Sum

    from network_credits.models import Account
    from purchases.models import Order, OrderLine, Stock

    orders = Order.objects.filter(buyer__email__in=[_shopper_email(name, n) for n in range(SHOPPERS)])
    held = dict(
        OrderLine.objects.filter(order__in=orders)
        .exclude(order__state=Order.State.CANCELLED)
        .values("batch_id")
        .annotate(units=Sum("quantity"))
        .values_list("batch_id", "units")
    )
    stock = Stock.objects.filter(batch__product__slug__startswith=f"{name}-").select_related("batch")
    adds_up = all(row.held == held.get(row.batch_id, 0) and row.held <= row.batch.quantity for row in stock)
    adds_up &= Account.objects.aggregate(total=Sum("balance"))["total"] == 0
    adds_up &= all(
        account.is_system or account.balance - account.pending_debits >= -account.credit_limit
        for account in Account.objects.all()
    )
    return orders.count(), orders.filter(state=Order.State.CANCELLED).count(), "ok" if adds_up else "broken"


def reviews_made(name: str = "busy") -> int:
    """How many reviews network `name`'s shoppers have written."""
    from reviews.models import Review

    return Review.objects.filter(author__email__in=[_shopper_email(name, n) for n in range(SHOPPERS)]).count()


@cache
def _handled(name: str) -> dict[int, list[tuple[str, int, str]]]:
    """Batch id → (identifier, supplier id, business location) of what each supplier handled along its chain:
    worked out once per process, so that choosing a capture costs the benchmark nothing."""
    from core.gs1 import gtin_uri
    from products.models import Batch
    from provenance.lineage import UPSTREAM, walk
    from provenance.models import EventLine

    handled = {}
    for batch in Batch.objects.filter(product__slug__startswith=f"{name}-").select_related("product"):
        own = gtin_uri(batch.product.gtin, batch.lot)
        lines = EventLine.objects.filter(identifier__in=walk(own, UPSTREAM) | {own}).exclude(event__biz_location="")
        handled[batch.pk] = sorted(set(lines.values_list("identifier", "event__supplier_id", "event__biz_location")))
    return handled


def write(tag: str, *, name: str = "writers", readers: str = "busy") -> str:
    """One write of the mix, chosen by `tag` (the same tag, the same choice): on network `name`'s data, or an order
    on network `readers`, whose pages are being read (see _order_write); what it did, in a word."""
    from products import services as catalog
    from products.models import Batch, Supplier
    from provenance.services import capture_document
    from tests.provenance.factories import epcis_document, quantity

    rng = random.Random(zlib.crc32(tag.encode()))
    if rng.random() < ORDER_SHARE:
        if rng.random() < REVIEW_SHARE:
            return _review_write(tag, rng, readers)
        return _order_write(tag, rng, readers)
    batches = list(
        Batch.objects.filter(product__slug__startswith=f"{name}-").order_by("pk").values_list("pk", flat=True)
    )
    batch = Batch.objects.select_related("product__supplier").get(pk=rng.choice(batches))
    kind = rng.choices(["capture", "declaration", "batch"], weights=[4, 3, 3])[0]
    if kind == "capture":
        # A new observation by one of the chain's suppliers, of something it handled for this batch.
        identifier, supplier_id, where = rng.choice(_handled(name)[batch.pk])
        supplier = Supplier.objects.get(pk=supplier_id)
        seen = {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:{uuid.uuid4()}",
            "eventTime": "2026-06-01T10:00:00+00:00",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "bizStep": rng.choice(["inspecting", "storing", "sampling"]),
            "quantityList": [quantity(identifier, 1)],
        }
        if where:
            seen["bizLocation"] = {"id": where}
        capture_document(supplier=supplier, submitted_by=None, document=epcis_document(seen))
    elif kind == "declaration":
        benefit = batch.product.declarations.current().filter(kind="benefit").first()
        catalog.declaration_update(declaration=benefit, **{"statement": f"Paid above the living wage ({tag})."})
    else:
        catalog.batch_update(batch=batch, **{"quantity": rng.randint(100, 2000)})
    return kind
