"""The chain diagram and the origin map: laid out in storefront/diagram.py, drawn by autoescaped SVG templates."""

import datetime
import xml.etree.ElementTree as ET
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation

from provenance.models import Facility
from storefront import diagram

SVG = "{http://www.w3.org/2000/svg}"


def farm(pk: int, name: str, lat: str, lon: str, country: str = "GH") -> Facility:
    return Facility(pk=pk, name=name, country=country, latitude=Decimal(lat), longitude=Decimal(lon))


def steps() -> list[diagram.Step]:
    places = [
        farm(1, "<b>Farm</b> & Sons", "6.6885", "-1.6244"),
        farm(2, "Tema port", "5.63", "0.01"),
        farm(3, "Antwerp works", "51.2194", "4.4025", "BE"),
    ]
    return [
        diagram.Step(1, "Produced", datetime.date(2026, 1, 5), places[0], ("third_party_verified", "revoked")),
        diagram.Step(2, "Shipped", datetime.date(2026, 1, 7), places[1], ()),
        diagram.Step(3, "Processed", datetime.date(2026, 1, 9), places[2], ("documented",)),
    ]


def chain_svg(chain: list[diagram.Step]) -> ET.Element:
    return ET.fromstring(render_to_string("storefront/_chain.svg", {"drawing": diagram.chain_drawing(chain)}))


def map_svg(chain: list[diagram.Step]) -> ET.Element:
    drawing = diagram.map_drawing(diagram.places(chain))
    return ET.fromstring(render_to_string("storefront/_map.svg", {"drawing": drawing}))


def test_chain_draws_a_box_per_step_joined_by_arrows_with_title_and_description():
    svg = chain_svg(steps())

    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Where it comes from: 3 steps"
    assert svg.find(f"{SVG}desc").text.startswith("From <b>Farm</b> & Sons, Ghana on 5 Jan 2026 to Antwerp works")
    assert [g.get("class") for g in svg.iter(f"{SVG}g")] == [
        "hop level-third_party_verified",
        "hop level-none",
        "hop level-documented",
    ]
    assert len([p for p in svg.iter(f"{SVG}path") if p.get("class") == "arrow"]) == 2
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Produced · 5 Jan 2026" in texts
    badges = [t for t in texts if t in diagram.BADGE_TEXT.values()]
    assert badges == ["Verified", "Revoked", "No evidence", "Documented"]


def test_chain_escapes_what_suppliers_write():
    markup = render_to_string("storefront/_chain.svg", {"drawing": diagram.chain_drawing(steps())})

    assert "<b>" not in markup
    assert "&lt;b&gt;Farm&lt;/b&gt; &amp; Sons" in markup


def test_no_steps_and_no_coordinates_draw_nothing():
    assert diagram.chain_drawing([]) is None
    unplaced = [diagram.Step(1, "Produced", datetime.date(2026, 1, 5), None, ())]
    assert diagram.map_drawing(diagram.places(unplaced)) is None


def test_map_numbers_the_places_and_joins_them_in_chain_order_with_near_places_sharing_a_dot():
    svg = map_svg(steps())

    assert svg.find(f"{SVG}title").text == "Map of the 3 places this batch went through"
    assert len(list(svg.iter(f"{SVG}circle"))) == 2  # the farm and the port are one dot at this scale
    route = next(p for p in svg.iter(f"{SVG}path") if p.get("class") == "route")
    assert route.get("d").startswith("M")
    assert route.get("d").count("L") == 1
    assert [t.text for t in svg.iter(f"{SVG}text")] == ["1,2 Ghana", "3 Belgium"]


def test_coordinates_are_never_written_with_a_decimal_comma():
    with translation.override("fr"):
        markup = render_to_string("storefront/_map.svg", {"drawing": diagram.map_drawing(diagram.places(steps()))})
    svg = ET.fromstring(markup)

    numbers = [svg.get("viewBox"), *(c.get("cx") for c in svg.iter(f"{SVG}circle"))]
    numbers += [p.get("d") for p in svg.iter(f"{SVG}path")]
    assert not any("," in value for value in numbers)
    assert all("." in circle.get("cx") for circle in svg.iter(f"{SVG}circle"))
