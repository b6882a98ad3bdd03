"""The origin chain of a batch drawn for shoppers: a vertical flow of steps and a map of places, as inline SVG.

Drawn on the server, so it shows without JavaScript and costs no extra request; styled by site.css (classes, no
inline styles), so the markup stays small. Every text that comes from data is escaped here: the SVG is marked safe
for the template. Each drawing has role="img" with a <title> and a <desc>; the page puts an ordered list with the
same content right next to it, for screen readers and for reading.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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

    @property
    def country(self) -> str:
        return self.facility.country.name if self.facility else ""

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


def _svg(kind: str, width: int, height: int, title: str, desc: str, body: Sequence[str]) -> SafeString:
    return mark_safe(  # every text from data is escaped by the callers, the titles here
        f'<svg class="{kind}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{kind}-title"'
        f' aria-describedby="{kind}-desc"'
        f' xmlns="http://www.w3.org/2000/svg"><title id="{kind}-title">{escape(title)}</title>'
        f'<desc id="{kind}-desc">{escape(desc)}</desc>{"".join(body)}</svg>'
    )


# The chain ---------------------------------------------------------------------------------------------------------

CHAIN_WIDTH = 340
BOX_HEIGHT = 60
GAP = 18  # between boxes: the arrow


def chain_svg(chain: Sequence[Step]) -> SafeString:
    """The steps from raw material to shelf, top to bottom, one box each, joined by arrows."""
    if not chain:
        return mark_safe("")
    first, last = chain[0], chain[-1]
    title = f"Where it comes from: {len(chain)} step{'s' if len(chain) != 1 else ''}"
    desc = (
        f"From {first.place}{', ' + first.country if first.country else ''} on {_date(first.date)} "
        f"to {last.place}{', ' + last.country if last.country else ''} on {_date(last.date)}. "
        "The list next to this drawing gives every step in the same order."
    )
    body = ['<defs><marker id="chain-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8"'
            ' orient="auto"><path d="M0 0L8 4L0 8z"/></marker></defs>']  # fmt: skip
    right = CHAIN_WIDTH - 8
    for index, step in enumerate(chain):
        top = 4 + index * (BOX_HEIGHT + GAP)
        if index:
            body.append(f'<path class="arrow" d="M24 {top - GAP}V{top - 1}"/>')
        badge = BADGE_TEXT[step.badge]
        badge_width = 10 + 6.4 * len(badge)
        parts = [
            f'<g class="hop level-{step.badge}"><rect x="4" y="{top}" width="{right - 4}" height="{BOX_HEIGHT}"'
            f' rx="8"/><circle cx="24" cy="{top + 20}" r="11"/>'
            f'<text class="n" x="24" y="{top + 24}">{step.number}</text>',
            f'<text class="what" x="44" y="{top + 19}">{escape(step.action)} · {_date(step.date)}</text>',
            f'<text class="where" x="44" y="{top + 36}">{escape(_fit(step.place, 42))}</text>',
            f'<text class="country" x="44" y="{top + 53}">{escape(_fit(step.country, 26))}</text>',
            f'<rect class="badge" x="{right - 6 - badge_width:.0f}" y="{top + 6}" width="{badge_width:.0f}"'
            f' height="18" rx="9"/><text class="badge" x="{right - 6 - badge_width / 2:.0f}" y="{top + 19}">'
            f"{badge}</text>",
        ]
        if step.lapsed:  # evidence that no longer holds gets its own badge: shown, never hidden
            lapsed = BADGE_TEXT[step.lapsed]
            lapsed_width = 10 + 6.4 * len(lapsed)
            parts.append(
                f'<rect class="badge lapsed" x="{right - 6 - lapsed_width:.0f}" y="{top + 40}"'
                f' width="{lapsed_width:.0f}" height="16" rx="8"/><text class="badge lapsed"'
                f' x="{right - 6 - lapsed_width / 2:.0f}" y="{top + 52}">{lapsed}</text>'
            )
        parts.append("</g>")
        body.append("".join(parts))
    height = 8 + len(chain) * (BOX_HEIGHT + GAP) - GAP
    return _svg("chain", CHAIN_WIDTH, height, title, desc, body)


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


def origin_map_svg(points: Sequence[Place]) -> SafeString:
    """The places on an equirectangular projection fitted to them: numbered dots on a graticule, joined in chain
    order. No tiles and no outline data: the numbered list beside it names each place."""
    located = [(place, place.coordinates) for place in points if place.coordinates]
    if not located:
        return mark_safe("")
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

    body = []
    grid = _grid_step(MAP_WIDTH / scale)
    lines = [
        f"M{x(lon):.1f} 0V{height:.0f}"
        for lon in range(math.ceil(west / grid) * grid, math.floor(west + MAP_WIDTH / scale) + 1, grid)
    ] + [
        f"M0 {y(lat):.1f}H{MAP_WIDTH}"
        for lat in range(math.ceil((north - height / scale) / grid) * grid, math.floor(north) + 1, grid)
        if -90 <= lat <= 90
    ]
    body.append(f'<rect class="sea" width="{MAP_WIDTH}" height="{height:.0f}"/>')
    body.append(f'<path class="grid" d="{"".join(lines)}"/>')

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
    if len(route) > 1:
        line = "L".join(f"{dot['x']:.1f} {dot['y']:.1f}" for dot in route)
        body.append(f'<path class="route" d="M{line}"/>')
    country_of = {place.number: place.facility.country.name for place, _ in located}
    # Dots first, labels over them; each label goes where it covers no dot and no other label, if it can.
    taken = [(dot["x"] - 6, dot["y"] - 6, dot["x"] + 6, dot["y"] + 6) for dot in dots]
    labels = []
    for dot in dots:
        body.append(f'<circle cx="{dot["x"]:.1f}" cy="{dot["y"]:.1f}" r="5"/>')
        label = _ranges(dot["numbers"])
        countries_here = {country_of[number] for number in dot["numbers"]}
        if len(countries_here) == 1:
            label += f" {countries_here.pop()}"
        x_text, y_text, end, box = _label_place(dot["x"], dot["y"], 7.5 * len(label), taken, height)
        taken.append(box)
        anchor = ' text-anchor="end"' if end else ""
        labels.append(f'<text x="{x_text:.1f}" y="{y_text:.1f}"{anchor}>{escape(label)}</text>')
    body.extend(labels)
    countries = list(dict.fromkeys(place.facility.country.name for place, _ in located))
    title = f"Map of the {len(located)} place{'s' if len(located) != 1 else ''} this batch went through"
    desc = f"Numbered dots in {', '.join(countries)}, joined in the order of the chain; the list next to it names them."
    return _svg("origin-map", MAP_WIDTH, round(height), title, desc, body)
