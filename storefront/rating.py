"""The community's rating, drawn for shoppers: how many reviews gave each number of stars, as horizontal bars in
inline SVG, from 5 stars down to 1.

Like storefront/price_split.py: laid out here (a dataclass with coordinates and texts), turned into markup by
templates/storefront/_rating.svg, styled by site.css (classes, no inline styles). The drawing has role="img" with a
<title> and a <desc> that says every count in words (its text alternative); each bar is labelled with its stars on
the left and its count and share on the right, so nothing is told by length or colour alone.

Each bar's length is its share of all ratings that count, on the same scale for every number of stars: a run of
1-star reviews is drawn as long as a run of 5-star ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviews.selectors import RatingSummary

WIDTH = 340
ROW_HEIGHT = 26
BAR_HEIGHT = 14
LABEL_WIDTH = 58  # "5 stars"
COUNT_WIDTH = 78  # "1,234 · 100 %"
BAR_X = LABEL_WIDTH
BAR_WIDTH = WIDTH - LABEL_WIDTH - COUNT_WIDTH


@dataclass(frozen=True)
class Bar:
    stars: int
    label: str  # "5 stars"
    count: int
    percent: int
    y: int  # the row's top
    width: float  # the filled part of the track


@dataclass(frozen=True)
class RatingDrawing:
    title: str
    desc: str
    height: int
    bars: list[Bar]
    width: int = WIDTH
    bar_x: int = BAR_X
    bar_width: int = BAR_WIDTH
    bar_height: int = BAR_HEIGHT


def stars_label(stars: int) -> str:
    return "1 star" if stars == 1 else f"{stars} stars"


def rating_drawing(summary: RatingSummary) -> RatingDrawing | None:
    """The distribution of a rating's stars, or None when nothing has been rated (no bars to draw)."""
    if not summary.count:
        return None
    bars = [
        Bar(
            stars=stars,
            label=stars_label(stars),
            count=count,
            percent=percent,
            y=n * ROW_HEIGHT,
            width=round(BAR_WIDTH * count / summary.count, 1),
        )
        for n, (stars, count, percent) in enumerate(summary.rows)
    ]
    reviews = "1 rating" if summary.count == 1 else f"{summary.count} ratings"
    said = "; ".join(f"{bar.label}: {bar.count} ({bar.percent} %)" for bar in bars)
    return RatingDrawing(
        title="How many reviews gave each number of stars",
        desc=f"Of {reviews}, averaging {summary.average} out of 5 — {said}.",
        height=len(bars) * ROW_HEIGHT,
        bars=bars,
    )


def verified_percent(summary: RatingSummary) -> int:
    """The share of the ratings that count given by verified buyers, in whole per cent."""
    return round(100 * summary.verified / summary.count) if summary.count else 0
