"""What the storefront's pages show, composed from the other apps' selectors; the views only render it."""

import re
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import unquote, urljoin

from django.urls import reverse
from django.utils.encoding import iri_to_uri

from core.gs1 import batch_uri
from core.text import clean_text
from products import selectors as catalog
from products.access import access_for
from products.models import Batch, Declaration, Product, Supplier
from provenance import epcis
from provenance.lineage import Hop, Lineage, batch_lineage
from provenance.models import Evidence
from provenance.selectors import chains_status, evidence_for_declarations, evidence_for_events
from purchases import selectors as purchases
from purchases.models import Means, PriceSplit
from purchases.selectors import BuyBox, Price
from reviews import selectors as community
from reviews.models import Suggestion, Vote
from reviews.selectors import RatingSummary, ReviewCard
from storefront import diagram, price_split, rating
from storefront.rating import RatingDrawing

# The batch page shows its product's newest reviews and the suggestions with the most votes, each list linking to all.
LATEST_REVIEWS = 20
TOP_SUGGESTIONS = 10
# A canonical identifier (lineage's form) of a GTIN, with its lot if it has one.
GTIN_LOT = re.compile(r"^https://id\.gs1\.org/01/(\d{14})(?:/10/([^/]+))?")
CERTIFICATE_STATUS = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked", "not_yet_valid": "Not yet valid"}


@dataclass
class Certificate:
    """A piece of evidence and what it is cited for on this page."""

    evidence: Evidence
    declarations: list[Declaration] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.evidence.status()

    @property
    def status_label(self) -> str:
        return CERTIFICATE_STATUS[self.status]

    @property
    def link(self) -> str:
        return self.evidence.url or (self.evidence.document.url if self.evidence.document else "")


@dataclass(frozen=True)
class Origin:
    """A raw material of the batch (what nothing recorded went into), with the step where it first appears."""

    identifier: str
    gtin: str  # with the lot, when the identifier is a GS1 batch; else both empty
    lot: str
    step: diagram.Step | None


@dataclass(frozen=True)
class MassBalance:
    """A step that put out more than went in, in words a shopper reads."""

    step: diagram.Step | None
    inputs: str
    outputs: str
    unit: str


@dataclass(frozen=True)
class BatchTrace:
    """The batch page's section on where it comes from: what changes only when its lineage does (an event, a
    facility, evidence cited for a step, a supplier along the chain), so it is cached apart from the rest."""

    batch: Batch
    product: Product
    epcis_url: str
    chain: list[diagram.Step]
    chain_drawing: diagram.ChainDrawing | None
    places: list[diagram.Place]
    map_drawing: diagram.MapDrawing | None
    countries: int
    origins: list[Origin]
    mass_balance: list[MassBalance]
    records_verified: list[str]  # names of the suppliers along the chain whose hash chain verifies
    records_broken: list[str]
    steps: list[tuple[int, int]]  # (trace event pk, step number): what the page's certificates are cited for

    def as_context(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class MoneySplit:
    """Where the money goes, as the supplier declares it: the shares, their drawing, and their evidence level like
    every other claim on the page (expired once past its date)."""

    split: PriceSplit
    drawing: price_split.SplitDrawing
    level: str
    level_label: str


@dataclass(frozen=True)
class Community:
    """The page's section on what people say: the product's rating and its drawing, this lot's share of it, the
    newest reviews and the suggestions with the most votes; for a signed-in visitor (their own render), their votes
    and whether they may reply for the supplier."""

    rating: RatingSummary
    drawing: RatingDrawing | None
    verified_percent: int
    batch_count: int
    reviews: list[ReviewCard]
    reviews_total: int
    suggestions: list[tuple[Suggestion, Vote | None]]  # each with the visitor's vote
    suggestions_total: int
    reviews_url: str
    suggestions_url: str
    write_url: str
    suggest_url: str
    signed_in: bool
    may_reply: bool
    own_people: bool  # the visitor works for the supplier: answers suggestions, does not vote on them


@dataclass(frozen=True)
class BatchPage:
    """Everything else the batch page shows: the template's context around the trace section."""

    batch: Batch
    product: Product
    supplier: Supplier
    canonical: str
    digital_link: str
    epcis_url: str
    image_url: str
    json_ld: dict[str, Any]  # schema.org Product
    risks: list[tuple[Declaration, list[Certificate]]]  # each with the certificates cited for it
    benefits: list[tuple[Declaration, list[Certificate]]]
    fit: list[tuple[str, str]]
    certificates: list[Certificate]
    buy: BuyBox
    cash_price: Price | None
    credit_price: Price | None
    checkout_url: str
    money_split: MoneySplit | None
    community: Community

    def as_context(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class BatchLink:
    """A batch as the product page lists it: with its page, its Digital Link and its QR code (served by the
    resolver under the Digital Link)."""

    batch: Batch
    page_url: str
    digital_link: str

    @property
    def qr_svg(self) -> str:
        return f"{self.digital_link}/qr.svg"

    @property
    def qr_png(self) -> str:
        return f"{self.digital_link}/qr.png"


def product_batches(product: Product) -> list[BatchLink]:
    """A product's batches with their links; no query when they were prefetched (products.selectors.product_detail)."""
    return [
        BatchLink(
            batch=batch,
            page_url=reverse("storefront:batch", kwargs={"batch_id": batch.pk}),
            digital_link=batch_uri(batch),
        )
        for batch in product.batches.all()
    ]


def _certificates(
    declarations: list[Declaration],
    steps: list[tuple[int, int]],
    for_declaration: dict[int, list[Evidence]],
    for_event: dict[int, list[Evidence]],
) -> list[Certificate]:
    found: dict[int, Certificate] = {}
    for declaration in declarations:
        for evidence in for_declaration.get(declaration.pk, []):
            found.setdefault(evidence.pk, Certificate(evidence)).declarations.append(declaration)
    for event_id, number in steps:
        for evidence in for_event.get(event_id, []):
            found.setdefault(evidence.pk, Certificate(evidence)).steps.append(number)
    return sorted(found.values(), key=lambda c: (c.evidence.title.lower(), c.evidence.pk))


def _origins(lineage: Lineage, chain: list[diagram.Step], hops: list[Hop]) -> list[Origin]:
    origins = []
    for identifier in sorted(lineage.origins - {lineage.identifier or ""}):
        first = next(
            (
                step
                for step, hop in zip(chain, hops, strict=True)
                if any(line.identifier == identifier for line in lineage.lines.get(hop.event.pk, ()))
            ),
            None,
        )
        match = GTIN_LOT.match(identifier)
        gtin, lot = (match.group(1), unquote(match.group(2) or "")) if match else ("", "")
        origins.append(Origin(identifier=identifier, gtin=gtin, lot=lot, step=first))
    return sorted(origins, key=lambda origin: origin.step.number if origin.step else 0)


def _mass_balance(lineage: Lineage, chain: list[diagram.Step], hops: list[Hop]) -> list[MassBalance]:
    """The warnings about steps of this chain (not about what was later made from the batch)."""
    step_of = {hop.event.pk: step for step, hop in zip(chain, hops, strict=True)}
    return [
        MassBalance(
            step=step_of[warning.event.pk],
            inputs=format(warning.inputs.normalize(), "f"),
            outputs=format(warning.outputs.normalize(), "f"),
            unit=epcis.unit_label(warning.uom),
        )
        for warning in lineage.mass_balance
        if warning.event.pk in step_of
    ]


def _records(hops: list[Hop]) -> list[tuple[str, bool]]:
    """(legal name, whether its hash chain is intact) of each supplier that recorded a step, by name: two queries
    however many suppliers there are (a chain whose latest events are still to be checked counts as intact)."""
    supplier_ids = {hop.event.supplier_id for hop in hops}
    recorders = catalog.supplier_list().filter(pk__in=supplier_ids).values_list("pk", "legal_name")
    status = chains_status(supplier_ids)
    return [(name, status[pk].intact) for pk, name in recorders.order_by("legal_name")]


def batch_trace(batch: Batch) -> BatchTrace:
    """The trace section of a batch's page (a batch from products.selectors.batch_page)."""
    lineage = batch_lineage(batch)
    hops = lineage.chain_hops()
    chain = diagram.steps(hops)
    places = diagram.places(chain)
    records = _records(hops)
    return BatchTrace(
        batch=batch,
        product=batch.product,
        epcis_url=reverse("api:batch-epcis", kwargs={"batch_id": batch.pk}),
        chain=chain,
        chain_drawing=diagram.chain_drawing(chain),
        places=places,
        map_drawing=diagram.map_drawing(places),
        countries=len({place.facility.country.code for place in places}),
        origins=_origins(lineage, chain, hops),
        mass_balance=_mass_balance(lineage, chain, hops),
        records_verified=[name for name, verified in records if verified],
        records_broken=[name for name, verified in records if not verified],
        steps=[(hop.event.pk, step.number) for step, hop in zip(chain, hops, strict=True)],
    )


def _community(batch: Batch, viewer: Any) -> Community:
    """Three queries for everyone (the rating, the newest reviews, the top suggestions); a signed-in visitor's own
    render adds their votes and their memberships."""
    product = batch.product
    summary, batch_count = community.product_rating(product.pk, batch.pk)
    cards, reviews_total = community.latest_reviews(product.pk, limit=LATEST_REVIEWS)
    suggestions, suggestions_total = community.top_suggestions(product.pk, limit=TOP_SUGGESTIONS)
    signed_in = bool(getattr(viewer, "is_authenticated", False))
    access = access_for(viewer) if signed_in else None
    votes = community.voted_by(viewer, [s.pk for s in suggestions]) if signed_in and suggestions else {}
    slugs = {"supplier_slug": product.supplier.slug, "product_slug": product.slug}
    return Community(
        rating=summary,
        drawing=rating.rating_drawing(summary),
        verified_percent=rating.verified_percent(summary),
        batch_count=batch_count,
        reviews=cards,
        reviews_total=reviews_total,
        suggestions=[(suggestion, votes.get(suggestion.pk)) for suggestion in suggestions],
        suggestions_total=suggestions_total,
        reviews_url=reverse("reviews:product_reviews", kwargs=slugs),
        suggestions_url=reverse("reviews:product_suggestions", kwargs=slugs),
        write_url=reverse("reviews:write", kwargs={"batch_id": batch.pk}),
        suggest_url=reverse("reviews:suggest", kwargs=slugs),
        signed_in=signed_in,
        may_reply=access is not None and product.supplier_id in access.editable,
        own_people=access is not None and access.can_read(product.supplier_id) and not access.operator,
    )


def _rating_json_ld(section: Community) -> dict[str, Any]:
    """schema.org AggregateRating and the reviews shown (their text only where the page shows it)."""
    if not section.rating.count:
        return {}
    reviews = [
        {
            "@type": "Review",
            "author": {"@type": "Person", "name": clean_text(card.review.author.public_name, multiline=False)},
            "datePublished": card.review.created_at.date(),
            "name": card.review.title,
            "reviewBody": card.review.body,
            "reviewRating": {"@type": "Rating", "ratingValue": card.review.rating, "bestRating": 5, "worstRating": 1},
        }
        for card in section.reviews
        if card.review.is_shown
    ]
    data: dict[str, Any] = {
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": str(section.rating.average),
            "reviewCount": section.rating.count,
            "bestRating": 5,
            "worstRating": 1,
        }
    }
    if reviews:
        data["review"] = reviews
    return data


def batch_page(*, batch: Batch, origin: str, steps: list[tuple[int, int]], viewer: Any = None) -> BatchPage:
    """The rest of a batch's page (a batch from products.selectors.batch_page, which checks who may see it), around
    its trace section, whose `steps` say what its certificates are cited for; `origin` (scheme://host/) makes its
    links absolute; `viewer` is the signed-in person whose own render it is (None: the shared page)."""
    product, supplier = batch.product, batch.product.supplier
    declarations = list(product.declarations.all())
    for_declaration = evidence_for_declarations([d.pk for d in declarations]) if declarations else {}
    for_event = evidence_for_events([event_id for event_id, _ in steps]) if steps else {}
    certificates = _certificates(declarations, steps, for_declaration, for_event)
    by_evidence = {certificate.evidence.pk: certificate for certificate in certificates}
    declared = [
        (declaration, [by_evidence[evidence.pk] for evidence in for_declaration.get(declaration.pk, [])])
        for declaration in declarations
    ]

    canonical = iri_to_uri(urljoin(origin, reverse("storefront:batch", kwargs={"batch_id": batch.pk})))
    image_url = iri_to_uri(urljoin(origin, product.image.url)) if product.image else ""
    digital_link = batch_uri(batch)
    json_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": digital_link,
        "url": canonical,
        "name": product.name,
        "description": product.description,
        "category": product.get_category_display(),
        "sku": batch.lot,
        "productionDate": batch.produced_on,
        "brand": {"@type": "Brand", "name": supplier.legal_name},
        "manufacturer": {"@type": "Organization", "name": supplier.legal_name},
    }
    if product.gtin:
        json_ld["gtin14"] = product.gtin
    if image_url:
        json_ld["image"] = image_url
    said = _community(batch, viewer)
    json_ld |= _rating_json_ld(said)
    buy = purchases.buy_box(batch)
    return BatchPage(
        batch=batch,
        product=product,
        supplier=supplier,
        canonical=canonical,
        digital_link=digital_link,
        epcis_url=reverse("api:batch-epcis", kwargs={"batch_id": batch.pk}),
        image_url=image_url,
        json_ld=json_ld,
        risks=[pair for pair in declared if pair[0].kind == Declaration.Kind.RISK],
        benefits=[pair for pair in declared if pair[0].kind == Declaration.Kind.BENEFIT],
        fit=[
            ("Use", product.use),
            ("Care", product.care),
            ("Repair", product.repair),
            ("End of life", product.end_of_life),
        ],
        certificates=certificates,
        buy=buy,
        cash_price=buy.price(Means.CASH),
        credit_price=buy.price(Means.CREDITS),
        checkout_url=reverse("purchases:checkout", kwargs={"batch_id": batch.pk}),
        money_split=_money_split(buy.price_split, supplier_name=supplier.legal_name),
        community=said,
    )


def _money_split(split: PriceSplit | None, *, supplier_name: str) -> MoneySplit | None:
    if split is None:
        return None
    level = split.effective_evidence_level()
    return MoneySplit(
        split=split,
        drawing=price_split.split_drawing(split, supplier_name=supplier_name),
        level=level,
        level_label=Declaration.EvidenceLevel(level).label,
    )
