"""The demo shop: offers on every public demo product, each supplier's terms and calendar, where the money goes, and
the demo shoppers' orders in every state, in cash and in credits.

Runs after the catalog, supply-chain and credits demos (socialbiz's seed_demo): pick-up points are demo facilities
of each supplier (found through purchases.facilities, which the project plugs into provenance), and the shoppers pay
with the credits the credits demo gave them. Everything goes through the services: offers, terms, windows and price
splits as the dashboard saves them, each created only when missing, so that a change made in the dashboard is never
undone; orders each step as its person takes it, with
a fixed idempotency key per order; a step already in an order's timeline is not taken again, so running it again
adds nothing. A step the order can no longer take (the beat cancelled it meanwhile, say) is left out and reported.

Every order is placed and moved on now: the services stamp an order's timeline with the time they run, and the
ledger's entries must follow the credits demo's history in time for the statements to read in order. The days are
the next ones each supplier's calendar offers. Orders close after a dispute is decided; none has yet reached the
end of its dispute window.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from products import demo as catalog_demo
from products.demo import Writer
from products.models import Batch, Declaration, Product, Supplier, SupplierMember
from purchases import calendar, facilities, services
from purchases.models import Dispute, Means, Method, Offer, Order, OrderEvent, PriceSplit, SalesTerms, Window
from purchases.refusals import OrderRefused
from purchases.services import Address, Fulfilment, LineIn

Level = Declaration.EvidenceLevel
Weekday = Window.Weekday
CASH, CREDITS = Means.CASH, Means.CREDITS
PICKUP, DELIVERY = Method.PICKUP, Method.DELIVERY
CashMethod = Order.CashMethod
OPERATOR = "operator@socialbiz.example"
EVIDENCE = catalog_demo.EVIDENCE

# Product slug → (price in the currency's minor units, currency, price in hundredths of a credit).
PRICES: dict[str, tuple[int, str, int]] = {
    "dark-chocolate-70": (4_800, "GHS", 420),
    "roasted-cocoa-nibs": (6_500, "GHS", 560),
    "organic-cotton-work-shirt": (4_900, "EUR", 4_500),
    "undyed-cotton-tea-towels": (1_650, "EUR", 1_650),
    "kitchen-laundry-bar-soap": (38_000, "KES", 320),
    "enamel-mug-350": (115_000, "KES", 960),
    "shea-lemongrass-hand-soap": (35_000, "KES", 300),
}


@dataclass(frozen=True)
class Calendar:
    """A supplier's terms of sale and weekly windows, at the demo facility named `place` (a provenance demo site)."""

    place: str
    currency: str
    delivery_flat: int
    delivery_flat_credits: int
    free_above: int
    free_above_credits: int
    dispatch_hours: int
    payment_instructions: str
    # (method, weekday, start hour, end hour, cut-off hours)
    windows: tuple[tuple[str, int, int, int, int], ...]


CALENDARS: dict[str, Calendar] = {
    "kakao-kollektiv": Calendar(
        place="Kakao Kollektiv bar factory",
        currency="GHS",
        delivery_flat=1_500,
        delivery_flat_credits=150,
        free_above=20_000,
        free_above_credits=2_000,
        dispatch_hours=48,
        payment_instructions=(
            "Mobile money to 024 555 0199 (Kakao Kollektiv Ghana Ltd.), with your order number as the reference; "
            "or bank transfer to GCB Bank, account 1021130045671, branch Adum, Kumasi."
        ),
        windows=(
            (PICKUP, Weekday.SATURDAY, 10, 14, 24),
            (PICKUP, Weekday.WEDNESDAY, 15, 18, 24),
            (DELIVERY, Weekday.THURSDAY, 14, 18, 48),
        ),
    ),
    "fio-lento": Calendar(
        place="Fio Lento sewing workshop",
        currency="EUR",
        delivery_flat=490,
        delivery_flat_credits=490,
        free_above=6_000,
        free_above_credits=6_000,
        dispatch_hours=72,
        payment_instructions=(
            "Bank transfer to IBAN PT50 0035 0651 0000 1234 5678 9 (Fio Lento Têxteis, Lda.), with your order number "
            "as the reference. Card payments: we send you a payment link by e-mail."
        ),
        windows=(
            (PICKUP, Weekday.FRIDAY, 16, 19, 24),
            (DELIVERY, Weekday.TUESDAY, 9, 13, 72),
        ),
    ),
    "mwangaza-home": Calendar(
        place="Mwangaza soap works",
        currency="KES",
        delivery_flat=25_000,
        delivery_flat_credits=200,
        free_above=300_000,
        free_above_credits=2_500,
        dispatch_hours=48,
        payment_instructions="M-Pesa to till number 5123401 (Mwangaza Home Works), with your order number.",
        windows=(
            (PICKUP, Weekday.SATURDAY, 9, 12, 24),
            (DELIVERY, Weekday.WEDNESDAY, 14, 17, 48),
        ),
    ),
}

# Product slug → (producers, processing, transport, retail %, evidence level, evidence path, how it was worked out).
SPLITS: dict[str, tuple[int, int, int, int, str, str, str]] = {
    "dark-chocolate-70": (
        38, 27, 9, 26, Level.DOCUMENTED, "/kakao-kollektiv/price-split-2026.pdf",
        "From our 2025 accounts: cocoa is bought from the farmer groups at 1.4 times the farm-gate price.",
    ),
    "organic-cotton-work-shirt": (
        16, 49, 7, 28, Level.THIRD_PARTY_VERIFIED, "/fio-lento/cost-audit-2026.pdf",
        "Audited with our 2025 accounts: spinning, weaving, dyeing and sewing are the processing share.",
    ),
    "undyed-cotton-tea-towels": (
        21, 43, 8, 28, Level.SELF_DECLARED, "", "Worked out from the cloth and the sewing time of one set.",
    ),
    "kitchen-laundry-bar-soap": (
        31, 24, 11, 34, Level.DOCUMENTED, "/mwangaza-home/soap-costs-2026.pdf",
        "Coconut and palm-kernel oil from the Kilifi growers, at the prices on our 2026 purchase records.",
    ),
    "enamel-mug-350": (19, 44, 12, 25, Level.SELF_DECLARED, "", "Steel and enamel bought in Nairobi; our estimate."),
    "shea-lemongrass-hand-soap": (
        35, 22, 10, 33, Level.SELF_DECLARED, "", "Shea butter from the Otuke women's groups is the largest part.",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One step of an order's life, taken by the person it belongs to (see _take)."""

    do: str
    text: str = ""
    method: str = ""  # how cash was paid
    reference: str = ""  # the payment provider's reference
    reason: str = ""  # a dispute's
    upheld: bool = False


@dataclass(frozen=True)
class DemoOrder:
    key: str  # the checkout's idempotency key (the buyer's)
    buyer: str
    supplier: str
    lines: tuple[tuple[str, int], ...]  # (product slug, units)
    payment: str
    method: str
    steps: tuple[Step, ...] = ()
    scheduled: bool = False  # on a day the calendar offers (see _day), else as soon as possible
    weekday: int | None = None  # the day's weekday, when the calendar offers it
    cash_method: str = CashMethod.CASH_AT_PICKUP
    address: Address | None = None


def _to(name: str, line1: str, city: str, postcode: str, country: str) -> Address:
    return Address(name=name, line1=line1, city=city, postcode=postcode, country=country)


KUMASI_BEN = _to("Ben Tetteh", "House 14, Ahodwo Roundabout Road", "Kumasi", "AK-039-5028", "GH")
PORTO = _to("Marta Carvalho", "Rua do Almada 212, 2.º esq.", "Porto", "4050-032", "PT")
BRAGA = _to("Rui Tetteh", "Avenida da Liberdade 480", "Braga", "4710-249", "PT")
NAIROBI = _to("Wanjiru Kamau", "Ngong Road, Kilimani, Apartment 3B", "Nairobi", "00100", "KE")
MOMBASA = _to("Grace Mensah", "Nyali Road 27", "Mombasa", "80118", "KE")

ANA, BEN, CHIOMA = "ana@shoppers.example", "ben@shoppers.example", "chioma@shoppers.example"
KAKAO, FIO, MWANGAZA = "kakao-kollektiv", "fio-lento", "mwangaza-home"
CONFIRM, READY, DISPATCH, HANDED, RECEIVED = (
    Step("confirm"),
    Step("ready"),
    Step("dispatch"),
    Step("deliver"),
    Step("receipt"),
)

# Every state, in cash and in credits, in the order they are placed.
ORDERS: tuple[DemoOrder, ...] = (
    # placed
    DemoOrder(
        "demo-order-01", ANA, KAKAO, (("dark-chocolate-70", 2),), CREDITS, PICKUP, scheduled=True,
        weekday=Weekday.SATURDAY,
    ),
    DemoOrder(
        "demo-order-02", CHIOMA, MWANGAZA, (("kitchen-laundry-bar-soap", 2),), CASH, DELIVERY, scheduled=True,
        address=NAIROBI,
    ),
    # confirmed
    DemoOrder(
        "demo-order-03", BEN, FIO, (("undyed-cotton-tea-towels", 1),), CASH, DELIVERY, (CONFIRM,), scheduled=True,
        cash_method=CashMethod.BANK_TRANSFER, address=PORTO,
    ),
    DemoOrder(
        "demo-order-04", CHIOMA, KAKAO, (("dark-chocolate-70", 1),), CREDITS, PICKUP, (CONFIRM,), scheduled=True,
    ),
    # dispatched
    DemoOrder(
        "demo-order-05", BEN, MWANGAZA, (("kitchen-laundry-bar-soap", 2), ("shea-lemongrass-hand-soap", 1)), CREDITS,
        DELIVERY, (CONFIRM, Step("dispatch", "Sent with G4S courier, parcel KE-448120; it takes two days.")),
        address=MOMBASA,
    ),
    DemoOrder(
        "demo-order-06", ANA, FIO, (("organic-cotton-work-shirt", 1),), CASH, DELIVERY,
        (Step("cash", method=CashMethod.CARD, reference="pi_3QdemoFioLento0006"), CONFIRM,
         Step("dispatch", "Posted with CTT, tracking RR123456785PT.")),
        cash_method=CashMethod.CARD, address=BRAGA,
    ),
    # ready for pick-up
    DemoOrder(
        "demo-order-07", CHIOMA, KAKAO, (("dark-chocolate-70", 3),), CASH, PICKUP,
        (CONFIRM, Step("ready", "At the factory shop, ask at the front desk.")),
    ),
    DemoOrder("demo-order-08", BEN, KAKAO, (("dark-chocolate-70", 1),), CREDITS, PICKUP, (READY,)),
    # delivered
    DemoOrder(
        "demo-order-09", ANA, FIO, (("undyed-cotton-tea-towels", 1),), CREDITS, DELIVERY,
        (CONFIRM, DISPATCH, RECEIVED), address=PORTO,
    ),
    DemoOrder(
        "demo-order-10", BEN, KAKAO, (("dark-chocolate-70", 3),), CASH, DELIVERY,
        (CONFIRM, DISPATCH, HANDED, Step("cash", method=CashMethod.CASH_AT_PICKUP)), address=KUMASI_BEN,
    ),
    # disputed
    DemoOrder(
        "demo-order-11", BEN, FIO, (("organic-cotton-work-shirt", 1),), CREDITS, DELIVERY,
        (DISPATCH, HANDED,
         Step("dispute", "The left sleeve is 3 cm shorter than the right one, and the seam is puckered.",
              reason="not_as_described"),
         Step("answer", "We are sorry. Please send us a photo with a tape measure; we will replace the shirt.")),
        address=PORTO,
    ),
    DemoOrder(
        "demo-order-12", ANA, MWANGAZA, (("kitchen-laundry-bar-soap", 1),), CASH, DELIVERY,
        (DISPATCH, HANDED, Step("cash", method=CashMethod.CASH_AT_PICKUP),
         Step("dispute", "After one wash my hands stung and went red; the bar smells sharp, not of coconut.",
              reason="unsafe")),
        address=NAIROBI,
    ),
    # cancelled
    DemoOrder(
        "demo-order-13", CHIOMA, KAKAO, (("dark-chocolate-70", 2),), CASH, PICKUP, (Step("cancel_by_buyer"),),
    ),
    DemoOrder(
        "demo-order-14", ANA, MWANGAZA, (("shea-lemongrass-hand-soap", 2),), CREDITS, DELIVERY,
        (Step("cancel", "This lot failed our curing check this morning; we will not sell it. Sorry!"),),
        address=NAIROBI,
    ),
    # closed: an upheld dispute after the supplier was paid in credits (the guarantee fund refunds the buyer), and a
    # rejected one in cash
    DemoOrder(
        "demo-order-15", ANA, KAKAO, (("dark-chocolate-70", 2),), CREDITS, PICKUP,
        (READY, RECEIVED,
         Step("dispute", "Both bars had melted and set again: grey streaks, and the wrappers were torn.",
              reason="not_as_described"),
         Step("answer", "Our shop's cooler failed on Tuesday; we did not notice. We apologise."),
         Step("decide", "The photos show heat damage, and the supplier confirms the cooler failed.", upheld=True)),
    ),
    DemoOrder(
        "demo-order-16", CHIOMA, FIO, (("undyed-cotton-tea-towels", 1),), CASH, DELIVERY,
        (Step("cash", method=CashMethod.BANK_TRANSFER, reference="SEPA-DEMO-FIO-0016"), DISPATCH, HANDED,
         Step("dispute", "The parcel never came.", reason="not_received"),
         Step("answer", "CTT's tracking shows it delivered and signed for by M. Carvalho on Monday."),
         Step("decide", "The carrier's proof of delivery is signed at the address given.", upheld=False)),
        address=PORTO,
    ),
)  # fmt: skip


@dataclass
class PurchasesDemoSummary:
    offers: int = 0
    terms: int = 0
    windows: int = 0
    price_splits: int = 0
    orders: int = 0
    steps: int = 0
    left_out: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "left_out")

    def __str__(self) -> str:
        counts = [
            f"{getattr(self, f.name)} {f.name.replace('_', ' ')}" for f in fields(self)[:-1] if getattr(self, f.name)
        ]
        text = "created " + ", ".join(counts) if counts else "nothing to do: the demo shop is already there"
        return text + (f"; left out: {'; '.join(self.left_out)}" if self.left_out else "")


def _offers(products: Mapping[str, Product], summary: PurchasesDemoSummary) -> None:
    for slug, product in products.items():
        if slug not in PRICES or Offer.objects.filter(product=product, batch__isnull=True).exists():
            continue
        price, currency, credits = PRICES[slug]
        services.offer_save(
            supplier=product.supplier, product=product, price=price, currency=currency, price_credits=credits
        )
        summary.offers += 1


def _calendar(supplier: Supplier, plan: Calendar, summary: PurchasesDemoSummary) -> int | None:
    """The supplier's terms and windows; the id of its pick-up point, or None when its demo facility is missing."""
    if not SalesTerms.objects.filter(supplier=supplier).exists():
        services.sales_terms_save(
            supplier=supplier,
            currency=plan.currency,
            delivery_flat=plan.delivery_flat,
            delivery_flat_credits=plan.delivery_flat_credits,
            delivery_free_above=plan.free_above,
            delivery_free_above_credits=plan.free_above_credits,
            dispatch_hours=plan.dispatch_hours,
            payment_instructions=plan.payment_instructions,
        )
        summary.terms += 1
    place = next((p for p in facilities.places_of(supplier.pk).values() if p.name == plan.place), None)
    if place is None:
        summary.left_out.append(f"{supplier.legal_name}'s calendar ({plan.place} is not among its facilities)")
        return None
    for method, weekday, start, end, cutoff in plan.windows:
        where = Window.objects.filter(supplier=supplier, method=method, facility_id=place.id, weekday=weekday)
        if not where.filter(starts_at=time(start)).exists():
            services.window_save(
                supplier=supplier,
                method=method,
                facility_id=place.id,
                weekday=weekday,
                starts_at=time(start),
                ends_at=time(end),
                cutoff_hours=cutoff,
            )
            summary.windows += 1
    return place.id


def _splits(products: Mapping[str, Product], summary: PurchasesDemoSummary) -> None:
    for slug, product in products.items():
        if slug not in SPLITS or PriceSplit.objects.filter(product=product).exists():
            continue
        producers, processing, transport, retail, level, path, note = SPLITS[slug]
        services.price_split_save(
            supplier=product.supplier,
            product=product,
            producers=producers,
            processing=processing,
            transport=transport,
            retail=retail,
            evidence_level=level,
            evidence_url=f"{EVIDENCE}{path}" if path else "",
            note=note,
        )
        summary.price_splits += 1


def _batch_for_sale(product: Product) -> Batch | None:
    """The product's newest batch that can be sold."""
    for batch in product.batches.select_related("product__supplier").order_by("-produced_on", "-id"):
        if not services.not_for_sale_reason(batch):
            return batch
    return None


# (action, role) of the timeline entry each step leaves: a step whose entry is there was taken.
DONE_BY = {
    "confirm": ("confirm", None),
    "ready": ("ready", None),
    "dispatch": ("dispatch", None),
    "deliver": ("deliver", OrderEvent.Role.SUPPLIER),
    "receipt": (("deliver", "confirm_receipt"), OrderEvent.Role.BUYER),
    "cash": ("paid", None),
    "cancel": ("cancel", None),
    "cancel_by_buyer": ("cancel", None),
    "dispute": ("dispute", None),
    "answer": ("answer", None),
    "decide": (("upheld", "rejected"), None),
}


def _taken(placed: Order, step: Step) -> bool:
    actions, role = DONE_BY[step.do]
    events = placed.events.filter(action__in=[actions] if isinstance(actions, str) else list(actions))
    return (events.filter(role=role) if role else events).exists()


def _take(placed: Order, step: Step, *, owner: User, operator: User | None) -> None:
    buyer = placed.buyer
    if step.do == "confirm":
        services.order_confirm(order=placed, actor=owner)
    elif step.do == "ready":
        services.order_ready(order=placed, actor=owner, note=step.text)
    elif step.do == "dispatch":
        services.order_dispatch(order=placed, actor=owner, note=step.text)
    elif step.do == "deliver":
        services.order_deliver(order=placed, actor=owner)
    elif step.do == "receipt":
        services.order_deliver(order=placed, actor=buyer)
    elif step.do == "cash":
        provider = {"card": "Stripe", "bank_transfer": "SEPA"}.get(step.method, "")
        services.cash_receive(
            order=placed, actor=owner, method=step.method, provider=provider, reference=step.reference
        )
    elif step.do == "cancel":
        services.order_cancel(order=placed, actor=owner, reason=step.text)
    elif step.do == "cancel_by_buyer":
        services.order_cancel(order=placed, actor=buyer)
    elif step.do == "dispute":
        services.dispute_open(order=placed, actor=buyer, reason=step.reason, description=step.text)
    elif step.do == "answer":
        services.dispute_answer(dispute=Dispute.objects.get(order=placed), actor=owner, response=step.text)
    elif step.do == "decide":
        if operator is None:
            raise OrderRefused("There is no demo operator to decide.", code="permission_denied")
        dispute = Dispute.objects.get(order=placed)
        services.dispute_decide(dispute=dispute, actor=operator, upheld=step.upheld, reason=step.text)
    else:
        raise ValueError(f"Unknown demo step {step.do!r}")


def _day(supplier: Supplier, plan: DemoOrder, facility_id: int | None) -> date | None:
    """The first day the supplier's calendar offers for the order at least two days ahead (past any cut-off), on the
    plan's weekday if it offers one; None (as soon as possible) if it offers none."""
    offered = calendar.days_offered(supplier_id=supplier.pk, method=plan.method, facility_id=facility_id)
    ahead = [day for day, _ in offered if day >= timezone.localdate() + timedelta(days=2)]
    preferred = [day for day in ahead if day.weekday() == plan.weekday]
    return next(iter(preferred or ahead), None)


def _order(
    plan: DemoOrder,
    *,
    people: Mapping[str, User],
    suppliers: Mapping[str, Supplier],
    products: Mapping[str, Product],
    pickup_points: Mapping[str, int | None],
    operator: User | None,
    summary: PurchasesDemoSummary,
) -> None:
    buyer, supplier = people.get(plan.buyer), suppliers.get(plan.supplier)
    owner = _owner(supplier) if supplier else None
    if buyer is None or supplier is None or owner is None:
        summary.left_out.append(f"{plan.key} (its buyer or supplier is missing)")
        return
    placed = Order.objects.filter(buyer=buyer, idempotency_key=plan.key).first()
    if placed is None:
        lines = []
        for slug, units in plan.lines:
            batch = _batch_for_sale(products[slug]) if slug in products else None
            if batch is None:
                summary.left_out.append(f"{plan.key} ({slug} has no batch for sale)")
                return
            lines.append(LineIn(batch.pk, units))
        facility_id = pickup_points.get(plan.supplier)
        if plan.method == PICKUP and facility_id is None:
            summary.left_out.append(f"{plan.key} ({supplier.legal_name} has no pick-up point)")
            return
        day = _day(supplier, plan, facility_id) if plan.scheduled else None
        fulfilment = (
            Fulfilment(PICKUP, facility_id=facility_id)
            if plan.method == PICKUP
            else Fulfilment(DELIVERY, address=plan.address)
        )
        try:
            placed = services.checkout(
                buyer=buyer,
                lines=lines,
                payment=plan.payment,
                fulfilment=fulfilment,
                day=day,
                key=plan.key,
                cash_method=plan.cash_method if plan.payment == CASH else CashMethod.CASH_AT_PICKUP,
            ).order
        except OrderRefused as refused:
            summary.left_out.append(f"{plan.key} (checkout refused: {refused.messages[0]})")
            return
        summary.orders += 1
    for step in plan.steps:
        if _taken(placed, step):
            continue
        try:
            _take(placed, step, owner=owner, operator=operator)
        except OrderRefused as refused:
            summary.left_out.append(f"{plan.key}: {step.do} ({refused.messages[0]})")
            return
        placed.refresh_from_db()
        summary.steps += 1


def _owner(supplier: Supplier) -> User | None:
    member = supplier.members.filter(role=SupplierMember.Role.OWNER).select_related("user").order_by("pk").first()
    return member.user if member else None


@transaction.atomic
def seed(*, stdout: Writer | None = None) -> PurchasesDemoSummary:
    """Create the demo shop that is missing and take the demo orders' steps not yet taken; idempotent."""
    say = stdout or io.StringIO()
    summary = PurchasesDemoSummary()
    suppliers = {s.slug: s for s in Supplier.objects.filter(slug__in=CALENDARS)}
    products = {
        p.slug: p
        for p in Product.objects.public().filter(supplier__in=suppliers.values()).select_related("supplier")
        if p.slug in PRICES
    }
    _offers(products, summary)
    _splits(products, summary)
    pickup_points = {
        slug: _calendar(supplier, CALENDARS[slug], summary)
        for slug, supplier in suppliers.items()
        if not supplier.is_suspended
    }
    emails = {plan.buyer for plan in ORDERS} | {OPERATOR}
    people = {user.email: user for user in User.objects.filter(email__in=emails)}
    operator = people.pop(OPERATOR, None)
    for plan in ORDERS:
        _order(
            plan,
            people=people,
            suppliers={slug: s for slug, s in suppliers.items() if not s.is_suspended},
            products=products,
            pickup_points=pickup_points,
            operator=operator if operator is not None and operator.is_staff else None,
            summary=summary,
        )
    say.write(f"purchases: {summary}\n")
    return summary
