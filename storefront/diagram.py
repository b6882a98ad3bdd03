"""The origin chain of a batch drawn for shoppers: a vertical flow of steps and a map of places, as inline SVG.

Drawn on the server, so it shows without JavaScript and costs no extra request; styled by site.css (classes, no
inline styles), so the markup stays small. This module lays the drawings out — dataclasses with coordinates and
texts — and templates/storefront/_chain.svg and _map.svg turn them into markup, autoescaped like the rest of the
page. Each drawing has role="img" with a <title> and a <desc>; the page puts an ordered list with the same content
right next to it, for screen readers and for reading.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from typing import Any

from django.utils.translation import get_language
from django_countries.fields import Country

from products.models import Declaration
from provenance.lineage import Hop
from provenance.models import Facility, TraceEvent

Level = Declaration.EvidenceLevel

# What a shopper reads for a CBV business step; others are shown as written, underscores as spaces.
STEP_ACTIONS = {
    "commissioning": "Produced",
    "creating_class_instance": "Produced",
    "shipping": "Shipped",
    "departing": "Departed",
    "arriving": "Arrived",
    "receiving": "Received",
    "accepting": "Accepted",
    "inspecting": "Inspected",
    "sampling": "Sampled",
    "storing": "Stored",
    "stocking": "Stocked",
    "packing": "Packed",
    "unpacking": "Unpacked",
    "repackaging": "Repacked",
    "loading": "Loaded",
    "unloading": "Unloaded",
    "transporting": "Transported",
    "retail_selling": "Sold",
    "assembling": "Assembled",
    "disassembling": "Taken apart",
    "repairing": "Repaired",
    "decommissioning": "Taken out of use",
    "destroying": "Destroyed",
}
# The badge of a step with no current evidence, and the short words badges use.
NO_EVIDENCE = "none"
BADGE_TEXT = {
    Level.THIRD_PARTY_VERIFIED: "Verified",
    Level.DOCUMENTED: "Documented",
    Level.SELF_DECLARED: "Self-declared",
    Level.EXPIRED: "Expired",
    Level.REVOKED: "Revoked",
    NO_EVIDENCE: "No evidence",
}
# Strongest first: a step's main badge is its strongest evidence that still holds.
CURRENT_LEVELS = (Level.THIRD_PARTY_VERIFIED, Level.DOCUMENTED, Level.SELF_DECLARED)
LAPSED_LEVELS = (Level.REVOKED, Level.EXPIRED)


def country_name(code: str) -> str:
    """A country's name in the active language: looked up once per language (django-countries translates each
    time it is asked, and a chain asks for every step and box)."""
    return _country_name(code, get_language())


@cache
def _country_name(code: str, language: str | None) -> str:
    return str(Country(code).name)


def step_action(event: TraceEvent) -> str:
    """What happened at a step, in a word or two."""
    if event.type == TraceEvent.Type.TRANSFORMATION:
        return "Processed"
    step = event.biz_step.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]  # a non-CBV step is a URI
    if not step:
        return "Recorded"
    return STEP_ACTIONS.get(step, step.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Step:
    """One hop of the chain as the page shows it."""

    number: int
    action: str
    date: date
    facility: Facility | None
    levels: tuple[str, ...]

    @property
    def place(self) -> str:
        return self.facility.name if self.facility else "Place not recorded"

    @cached_property
    def country(self) -> str:
        return country_name(self.facility.country.code) if self.facility else ""

    @property
    def badge(self) -> str:
        """The strongest evidence level that still holds, or `none`."""
        return next((level for level in CURRENT_LEVELS if level in self.levels), NO_EVIDENCE)

    @property
    def lapsed(self) -> str | None:
        """`revoked` or `expired` when some evidence cited for this step no longer holds (shown, never hidden)."""
        return next((level for level in LAPSED_LEVELS if level in self.levels), None)

    @property
    def evidence(self) -> list[tuple[str, str]]:
        """(level, label) of each piece of evidence cited for this step."""
        return [(level, Level(level).label) for level in self.levels]


def steps(hops: Iterable[Hop]) -> list[Step]:
    return [
        Step(number=n, action=step_action(hop.event), date=hop.date, facility=hop.facility, levels=hop.evidence_levels)
        for n, hop in enumerate(hops, start=1)
    ]


def _fit(text: str, length: int) -> str:
    """Text cut to fit a line of the drawing (SVG text does not wrap); the list beside it has it in full."""
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


# The chain ---------------------------------------------------------------------------------------------------------

CHAIN_WIDTH = 340
BOX_HEIGHT = 60
GAP = 18  # between boxes: the arrow
BOX_LEFT, BOX_RIGHT = 4, CHAIN_WIDTH - 8


@dataclass(frozen=True)
class Badge:
    """A rounded label at the right edge of a box: where its rectangle starts, its width, where its text is centred."""

    text: str
    x: int
    width: int
    text_x: int


def _badge(text: str) -> Badge:
    width = 10 + 6.4 * len(text)
    return Badge(text=text, x=round(BOX_RIGHT - 6 - width), width=round(width), text_x=round(BOX_RIGHT - 6 - width / 2))


@dataclass(frozen=True)
class ChainBox:
    """One step's box, `top` pixels down the drawing (the template lays out its inside), its texts and badges."""

    step: Step
    top: int
    what: str
    where: str
    country: str
    badge: Badge
    lapsed: Badge | None  # evidence that no longer holds gets its own badge: shown, never hidden


@dataclass(frozen=True)
class ChainDrawing:
    title: str
    desc: str
    height: int
    boxes: list[ChainBox]
    width: int = CHAIN_WIDTH
    box_width: int = BOX_RIGHT - BOX_LEFT


def chain_drawing(chain: Sequence[Step]) -> ChainDrawing | None:
    """The steps from raw material to shelf, top to bottom, one box each, joined by arrows; None without steps."""
    if not chain:
        return None
    first, last = chain[0], chain[-1]
    title = f"Where it comes from: {len(chain)} step{'s' if len(chain) != 1 else ''}"
    desc = (
        f"From {first.place}{', ' + first.country if first.country else ''} on {_date(first.date)} "
        f"to {last.place}{', ' + last.country if last.country else ''} on {_date(last.date)}. "
        "The list next to this drawing gives every step in the same order."
    )
    boxes = []
    for index, step in enumerate(chain):
        top = 4 + index * (BOX_HEIGHT + GAP)
        boxes.append(
            ChainBox(
                step=step,
                top=top,
                what=f"{step.action} · {_date(step.date)}",
                where=_fit(step.place, 42),
                country=_fit(step.country, 26),
                badge=_badge(BADGE_TEXT[step.badge]),
                lapsed=_badge(BADGE_TEXT[step.lapsed]) if step.lapsed else None,
            )
        )
    return ChainDrawing(title=title, desc=desc, height=8 + len(chain) * (BOX_HEIGHT + GAP) - GAP, boxes=boxes)


# The map -----------------------------------------------------------------------------------------------------------

MAP_WIDTH = 340
MAP_MARGIN = 18
MAP_MIN_HEIGHT, MAP_MAX_HEIGHT = 150, 300
CLUSTER_PX = 14  # places closer than this on the drawing share one dot


@dataclass(frozen=True)
class Place:
    """A facility of the chain, numbered in the order the chain first reaches it."""

    number: int
    facility: Facility

    @property
    def coordinates(self) -> tuple[float, float] | None:
        f = self.facility
        return (float(f.latitude), float(f.longitude)) if f.latitude is not None and f.longitude is not None else None

    @property
    def position(self) -> str:
        """Latitude and longitude as people write them: 6.69° N, 1.62° W."""
        if self.coordinates is None:
            return ""
        lat, lon = self.coordinates
        return f"{abs(lat):.2f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.2f}° {'E' if lon >= 0 else 'W'}"


def places(chain: Iterable[Step]) -> list[Place]:
    facilities = dict.fromkeys(step.facility for step in chain if step.facility)
    return [Place(number=n, facility=facility) for n, facility in enumerate(facilities, start=1)]


def _ranges(numbers: list[int]) -> str:
    """1,2,3,5 → 1–3,5"""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ",".join(f"{run[0]}–{run[-1]}" if len(run) > 2 else ",".join(map(str, run)) for run in runs)


Box = tuple[float, float, float, float]
# Where a label may go, by preference: right of its dot, left, then above or below on either side.
LABEL_SPOTS = ((8, 4, False), (-8, 4, True), (8, -8, False), (8, 16, False), (-8, -8, True), (-8, 16, True))


def _label_place(x: float, y: float, width: float, taken: list[Box], height: float) -> tuple[float, float, bool, Box]:
    """(x, y, anchored at its end, box) of a label for the dot at x, y."""
    fits = []
    for dx, dy, end in LABEL_SPOTS:
        left = x + dx - width if end else x + dx
        box = (left, y + dy - 10, left + width, y + dy + 2)
        if box[0] >= 0 and box[2] <= MAP_WIDTH and box[1] >= 0 and box[3] <= height:
            free = not any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken)
            if free:
                return x + dx, y + dy, end, box
            fits.append((x + dx, y + dy, end, box))
    return fits[0] if fits else (x + 8, y + 4, False, (x + 8, y - 6, x + 8 + width, y + 6))


def _grid_step(span: float) -> int:
    return next((step for step in (1, 2, 5, 10, 15, 30) if span / step <= 6), 45)


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Label:
    """A dot's label: the numbers of its places (and their country, when they share one), anchored at its start or
    at its end."""

    x: float
    y: float
    text: str
    anchor_end: bool


@dataclass(frozen=True)
class MapDrawing:
    title: str
    desc: str
    height: int
    meridians: list[float]  # x of each vertical grid line
    parallels: list[float]  # y of each horizontal grid line
    route: list[Point]  # the dots in chain order; empty when there is only one
    dots: list[Point]
    labels: list[Label]
    width: int = MAP_WIDTH


def map_drawing(points: Sequence[Place]) -> MapDrawing | None:
    """The places on an equirectangular projection fitted to them: numbered dots on a graticule, joined in chain
    order; None when no place has coordinates. No tiles and no outline data: the numbered list beside it names each
    place."""
    located = [(place, place.coordinates) for place in points if place.coordinates]
    if not located:
        return None
    lats = [lat for _, (lat, _lon) in located]
    lons = [lon for _, (_lat, lon) in located]
    # Fit the box of the places (with some room around, and a minimum size so one farm is not a whole map) ...
    span_lon = max(max(lons) - min(lons), 4.0) * 1.3
    span_lat = max(max(lats) - min(lats), 3.0) * 1.3
    scale = (MAP_WIDTH - 2 * MAP_MARGIN) / span_lon
    # ... then keep the height readable: taller boxes are shown with a wider one, flat ones with more latitude.
    height = span_lat * scale + 2 * MAP_MARGIN
    if height > MAP_MAX_HEIGHT:
        scale = (MAP_MAX_HEIGHT - 2 * MAP_MARGIN) / span_lat
        height = MAP_MAX_HEIGHT
    height = max(height, MAP_MIN_HEIGHT)
    center_lon, center_lat = (max(lons) + min(lons)) / 2, (max(lats) + min(lats)) / 2
    west = center_lon - MAP_WIDTH / 2 / scale
    north = center_lat + height / 2 / scale

    def x(lon: float) -> float:
        return (lon - west) * scale

    def y(lat: float) -> float:
        return (north - lat) * scale

    grid = _grid_step(MAP_WIDTH / scale)
    meridians = [
        round(x(lon), 1) for lon in range(math.ceil(west / grid) * grid, math.floor(west + MAP_WIDTH / scale) + 1, grid)
    ]
    parallels = [
        round(y(lat), 1)
        for lat in range(math.ceil((north - height / scale) / grid) * grid, math.floor(north) + 1, grid)
        if -90 <= lat <= 90
    ]

    dots: list[dict[str, Any]] = []  # places near each other on the drawing share a dot
    dot_of: dict[int, dict[str, Any]] = {}
    for place, (lat, lon) in located:
        px, py = x(lon), y(lat)
        dot = next((dot for dot in dots if math.hypot(dot["x"] - px, dot["y"] - py) < CLUSTER_PX), None)
        if dot is None:
            dot = {"x": px, "y": py, "numbers": []}
            dots.append(dot)
        dot["numbers"].append(place.number)
        dot_of[place.number] = dot
    route: list[dict[str, Any]] = []
    for number in sorted(dot_of):
        if not route or route[-1] is not dot_of[number]:
            route.append(dot_of[number])
    country_of = {place.number: country_name(place.facility.country.code) for place, _ in located}
    # Labels go over the dots; each where it covers no dot and no other label, if it can.
    taken = [(dot["x"] - 6, dot["y"] - 6, dot["x"] + 6, dot["y"] + 6) for dot in dots]
    labels = []
    for dot in dots:
        text = _ranges(dot["numbers"])
        countries_here = {country_of[number] for number in dot["numbers"]}
        if len(countries_here) == 1:
            text += f" {countries_here.pop()}"
        x_text, y_text, end, box = _label_place(dot["x"], dot["y"], 7.5 * len(text), taken, height)
        taken.append(box)
        labels.append(Label(x=round(x_text, 1), y=round(y_text, 1), text=text, anchor_end=end))
    countries = list(dict.fromkeys(country_of[place.number] for place, _ in located))
    return MapDrawing(
        title=f"Map of the {len(located)} place{'s' if len(located) != 1 else ''} this batch went through",
        desc=f"Numbered dots in {', '.join(countries)}, joined in the order of the chain; the list next to it names "
        "them.",
        height=round(height),
        meridians=meridians,
        parallels=parallels,
        route=[Point(round(dot["x"], 1), round(dot["y"], 1)) for dot in route] if len(route) > 1 else [],
        dots=[Point(round(dot["x"], 1), round(dot["y"], 1)) for dot in dots],
        labels=labels,
    )
