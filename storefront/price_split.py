"""Where the money goes, drawn for shoppers: the supplier's declared price split as a stacked bar, as inline SVG.

Like storefront/diagram.py: laid out here (a dataclass with coordinates and texts), turned into markup by
templates/storefront/_split.svg, styled by site.css (classes, no inline styles). The drawing has role="img" with a
<title> and a <desc> that says every share in words; its legend is drawn too, so the bar is labelled on a phone where
the narrow segments have no room for their numbers.

The network takes no fee on sales (there is no fee to set): the drawing says so in a row of its own, at 0 %.
"""

from __future__ import annotations

from dataclasses import dataclass

from purchases.models import PriceSplit

WIDTH = 340
BAR_HEIGHT = 34
ROW_HEIGHT = 24
LEGEND_TOP = BAR_HEIGHT + 14
# A segment shows its percentage inside when the number fits ("100 %" at 13px needs about 40px).
LABEL_MIN_WIDTH = 40
# The tiers in the order of the chain, each with the class that colours its segment and swatch.
TIERS = ("producers", "processing", "transport", "retail")
NETWORK_FEE = "The network's fee"


@dataclass(frozen=True)
class Segment:
    tier: str  # the CSS class: producers, processing, transport, retail
    label: str
    share: int  # per cent
    x: float
    width: float
    text_x: float
    labelled: bool  # the percentage fits inside


@dataclass(frozen=True)
class LegendRow:
    tier: str
    label: str
    share: int
    y: int  # the row's top


@dataclass(frozen=True)
class SplitDrawing:
    title: str
    desc: str
    height: int
    segments: list[Segment]
    legend: list[LegendRow]
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT


def split_drawing(split: PriceSplit, *, supplier_name: str) -> SplitDrawing:
    """The stacked bar of a price split, left to right from raw materials to the shelf, and its legend."""
    shares = list(zip(TIERS, split.shares(), strict=True))
    segments = []
    x = 0.0
    for tier, (label, share) in shares:
        if share <= 0:
            continue
        width = WIDTH * share / 100
        segments.append(
            Segment(
                tier=tier,
                label=label,
                share=share,
                x=round(x, 1),
                width=round(width, 1),
                text_x=round(x + width / 2, 1),
                labelled=width >= LABEL_MIN_WIDTH,
            )
        )
        x += width
    rows = [(tier, label, share) for tier, (label, share) in shares] + [("network", NETWORK_FEE, 0)]
    legend = [
        LegendRow(tier=tier, label=label, share=share, y=LEGEND_TOP + n * ROW_HEIGHT)
        for n, (tier, label, share) in enumerate(rows)
    ]
    said = ", ".join(f"{label.lower()} {share} %" for _, (label, share) in shares)
    return SplitDrawing(
        title="Where the money goes",
        desc=f"Of every price paid, as {supplier_name} declares: {said}. The network takes no fee (0 %).",
        height=LEGEND_TOP + len(legend) * ROW_HEIGHT,
        segments=segments,
        legend=legend,
    )
