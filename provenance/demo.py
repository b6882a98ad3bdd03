"""The demo supply chains: where the demo catalog's products come from, from farm to batch, as EPCIS 2.0 events.

Each demo supplier records its own chain: the farms, mills, warehouses and workshops it buys from or runs, the
harvests, shipments, receipts, transformations and inspections between them, and the evidence behind them. Every
chain ends in a TransformationEvent whose output is exactly a demo batch's GS1 Digital Link, so that lineage from a
batch on a shelf reaches the farms. Written through the services, like real data; run it again and it adds nothing
(facilities are found by location_uri, events by their fixed eventIDs, evidence by its URL).

Quantities are realistic and balance: no transformation puts out more mass than went in (see UNIT_MASS_KG).
"""

import io
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction

from core import gs1, identifiers
from products import demo as catalog_demo
from products.demo import Writer
from products.models import Batch, Declaration, Supplier, SupplierMember
from provenance import services
from provenance.epcis import epcis_document
from provenance.models import Evidence, Facility, TraceEvent
from provenance.simple_events import CONTEXT, Amount, SimpleKind, simple_event

# Fixed, so that every run names the same events and facilities the same way.
NAMESPACE = uuid.UUID("8f0c2b1e-6d4a-5e7f-9b3c-1a2d3e4f5a6b")
EVIDENCE = catalog_demo.EVIDENCE
FARM_KINDS = frozenset({"farm", "mine"})

HARVEST, SHIP, RECEIVE, TRANSFORM, INSPECT = (
    SimpleKind.HARVEST,
    SimpleKind.SHIP,
    SimpleKind.RECEIVE,
    SimpleKind.TRANSFORM,
    SimpleKind.INSPECT,
)
Level = Declaration.EvidenceLevel


def _gtin(item: str) -> str:
    # GS1's prefix 952 is for examples and demonstrations, as in the catalog demo.
    return gs1.gtin_with_check_digit("952" + item)


def _gln(location: str) -> str:
    return gs1.gtin_with_check_digit("952" + location)[1:]


@dataclass(frozen=True)
class Material:
    """A raw material or intermediate good traded along a chain, identified by lot under its own GTIN."""

    gtin: str
    uom: str
    kg_per_unit: Decimal = Decimal(1)


MATERIALS: dict[str, Material] = {
    # cocoa
    "wet-cocoa-beans": Material(_gtin("910000001"), "KGM"),
    "dried-cocoa-beans": Material(_gtin("910000002"), "KGM"),
    "cocoa-nibs": Material(_gtin("910000003"), "KGM"),
    "cocoa-shells": Material(_gtin("910000004"), "KGM"),
    "cocoa-butter": Material(_gtin("910000005"), "KGM"),
    "cocoa-press-cake": Material(_gtin("910000006"), "KGM"),
    "cane-sugar": Material(_gtin("910000007"), "KGM"),
    # cotton
    "seed-cotton": Material(_gtin("920000001"), "KGM"),
    "cotton-lint": Material(_gtin("920000002"), "KGM"),
    "cotton-seed": Material(_gtin("920000003"), "KGM"),
    "yarn-ne20": Material(_gtin("920000004"), "KGM"),
    "comber-noil": Material(_gtin("920000005"), "KGM"),
    "yarn-ne12": Material(_gtin("920000006"), "KGM"),
    "spinning-waste": Material(_gtin("920000007"), "KGM"),
    "greige-twill": Material(_gtin("920000008"), "MTR", Decimal("0.27")),  # 150 cm wide, 180 g/m²
    "indigo-dye": Material(_gtin("920000009"), "KGM"),
    "indigo-twill": Material(_gtin("920000010"), "MTR", Decimal("0.27")),
    "towelling": Material(_gtin("920000011"), "MTR", Decimal("0.1375")),  # 55 cm wide, 250 g/m²
    "corozo-buttons": Material(_gtin("920000012"), "EA", Decimal("0.002")),
    # soap
    "coconuts": Material(_gtin("930000001"), "EA", Decimal("0.6")),  # dehusked
    "copra": Material(_gtin("930000002"), "KGM"),
    "coconut-oil": Material(_gtin("930000003"), "LTR", Decimal("0.92")),
    "copra-cake": Material(_gtin("930000004"), "KGM"),
    "palm-kernel-oil": Material(_gtin("930000005"), "LTR", Decimal("0.91")),
    "lye-solution": Material(_gtin("930000006"), "LTR", Decimal("1.33")),  # 30 % caustic soda in water
    "shea-kernels": Material(_gtin("930000007"), "KGM"),
    "shea-butter": Material(_gtin("930000008"), "KGM"),
    "lemongrass": Material(_gtin("930000009"), "KGM"),
    "lemongrass-oil": Material(_gtin("930000010"), "LTR", Decimal("0.89")),
}

# Net mass of one unit of each demo product the chains end in, by the catalog demo's product slug.
PRODUCT_UNIT_KG: dict[str, Decimal] = {
    "dark-chocolate-70": Decimal("0.08"),
    "organic-cotton-work-shirt": Decimal("0.30"),
    "undyed-cotton-tea-towels": Decimal("0.18"),
    "kitchen-laundry-bar-soap": Decimal("0.25"),
    "shea-lemongrass-hand-soap": Decimal("0.10"),
}
_CATALOG_GTINS = {spec["data"]["slug"]: spec["data"].get("gtin") for spec in catalog_demo.PRODUCTS}

# Kilograms per unit of measure of everything the demo chains name, by GTIN: what mass balance is checked in.
UNIT_MASS_KG: dict[str, Decimal] = {material.gtin: material.kg_per_unit for material in MATERIALS.values()} | {
    _CATALOG_GTINS[slug]: kg for slug, kg in PRODUCT_UNIT_KG.items() if _CATALOG_GTINS.get(slug)
}


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    kind: str
    address: str
    country: str
    latitude: str
    longitude: str
    zone: str
    gln: str = ""


class Part(NamedTuple):
    """A quantity of a lot: of a material (MATERIALS key) or of a demo product's batch (its slug)."""

    material: str
    lot: str
    quantity: Decimal | int


@dataclass(frozen=True)
class Step:
    key: str  # unique within the supplier's chain: the eventID is derived from it
    kind: str
    at: str  # a Site key
    day: date
    hour: int
    items: tuple[Part, ...] = ()
    outputs: tuple[Part, ...] = ()
    other: str = ""  # a Site key: where a shipment goes, or where a receipt came from
    result: str = ""
    note: str = ""


@dataclass(frozen=True)
class Proof:
    """Evidence, and the steps it backs; declarations citing the same URL are linked to it too."""

    title: str
    issuer: str
    level: str
    url: str
    steps: tuple[str, ...]
    scheme: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    revoked_reason: str = ""


@dataclass(frozen=True)
class Chain:
    sites: tuple[Site, ...]
    steps: tuple[Step, ...]
    proofs: tuple[Proof, ...]


def _up(value: Decimal) -> int:
    return math.ceil(value)


def _down(value: Decimal) -> int:
    return math.floor(value)


# Kakao Kollektiv: cocoa from two farmer groups in Ashanti, fermented and dried near the farms, stored in Kumasi,
# roasted, pressed and made into bars in Kumasi; cane sugar comes in through Tema.

KAKAO_SITES = (
    Site("bekwai-farms", "Bekwai cocoa farms (Nyame Bekyere farmer group)", "farm",
         "Bekwai Municipal District, Ashanti Region", "GH", "6.453100", "-1.577000", "Africa/Accra"),
    Site("juaso-farms", "Juaso cocoa farms (Asante Akim farmer group)", "farm",
         "Asante Akim South District, Ashanti Region", "GH", "6.586900", "-1.120300", "Africa/Accra"),
    Site("fermentary", "Bekwai fermentation and drying centre", "fermentation and drying centre",
         "Bekwai–Kumasi road, Bekwai, Ashanti Region", "GH", "6.460000", "-1.585000", "Africa/Accra",
         _gln("100000011")),
    Site("kumasi-depot", "Kumasi cocoa depot", "warehouse", "Asokwa, Kumasi", "GH", "6.670000", "-1.609000",
         "Africa/Accra"),
    Site("tema-warehouse", "Tema port warehouse", "port warehouse", "Community 1, Tema", "GH", "5.639000",
         "0.016700", "Africa/Accra", _gln("100000028")),
    Site("roastery", "Kakao Kollektiv roastery", "roastery", "Ahinsan Industrial Area, Kumasi", "GH", "6.657300",
         "-1.600300", "Africa/Accra"),
    Site("bar-factory", "Kakao Kollektiv bar factory", "factory", "Ahinsan Industrial Area, Kumasi", "GH",
         "6.658000", "-1.599500", "Africa/Accra", _gln("100000035")),
)  # fmt: skip


def _chocolate_steps(lot: str, made: date, bars: int) -> list[Step]:
    """From two farmer groups' wet beans to `bars` 80 g bars of 70 % chocolate (nibs, cocoa butter, cane sugar)."""
    chocolate = bars * PRODUCT_UNIT_KG["dark-chocolate-70"]
    # 70 % chocolate: 62.5 % nibs and 8 % cocoa butter (with a little to spare for what sticks to the machines),
    # 30 % cane sugar.
    nibs_in_bars = _up(chocolate * Decimal("0.625"))
    butter = _up(chocolate * Decimal("0.08"))
    sugar = _up(chocolate * Decimal("0.30"))
    pressed = _up(butter / Decimal("0.42"))  # a press gets about 42 % of the nibs' weight out as butter
    cake = _down(pressed * Decimal("0.55"))
    nibs = nibs_in_bars + pressed
    dried = _up(nibs / Decimal("0.78"))  # roasting and winnowing keep about 78 % as nibs, 17 % are shells
    shells = _down(dried * Decimal("0.17"))
    wet = _up(dried / Decimal("0.40"))  # fermentation and sun-drying leave 40 % of the wet beans' weight
    wet_bekwai = _up(wet * Decimal("0.58"))
    code = lot.removeprefix("CH")

    def day(before: int) -> date:
        return made - timedelta(days=before)

    def key(name: str) -> str:
        return f"{lot}/{name}"

    bekwai = Part("wet-cocoa-beans", f"WB{code}-BK", wet_bekwai)
    juaso = Part("wet-cocoa-beans", f"WB{code}-JS", wet - wet_bekwai)
    beans = Part("dried-cocoa-beans", f"DB{code}", dried)
    all_nibs = Part("cocoa-nibs", f"CN{code}", nibs)
    cane = Part("cane-sugar", f"SU{code}", sugar)
    cocoa_butter = Part("cocoa-butter", f"CB{code}", butter)
    return [
        Step(key("harvest-bekwai"), HARVEST, "bekwai-farms", day(150), 15, outputs=(bekwai,)),
        Step(key("harvest-juaso"), HARVEST, "juaso-farms", day(150), 16, outputs=(juaso,)),
        Step(key("ship-bekwai"), SHIP, "bekwai-farms", day(149), 7, items=(bekwai,), other="fermentary"),
        Step(key("ship-juaso"), SHIP, "juaso-farms", day(149), 6, items=(juaso,), other="fermentary"),
        Step(key("receive-bekwai"), RECEIVE, "fermentary", day(149), 10, items=(bekwai,), other="bekwai-farms"),
        Step(key("receive-juaso"), RECEIVE, "fermentary", day(149), 13, items=(juaso,), other="juaso-farms"),
        Step(key("ferment-dry"), TRANSFORM, "fermentary", day(137), 11, items=(bekwai, juaso), outputs=(beans,)),
        Step(
            key("cut-test"), INSPECT, "fermentary", day(136), 9, items=(beans,), result="conformant",
            note="Cut test of 300 beans: 84 % well fermented, 3 % slaty, none mouldy; moisture 7.1 %.",
        ),
        Step(key("ship-depot"), SHIP, "fermentary", day(135), 8, items=(beans,), other="kumasi-depot"),
        Step(key("receive-depot"), RECEIVE, "kumasi-depot", day(135), 14, items=(beans,), other="fermentary"),
        Step(key("ship-roastery"), SHIP, "kumasi-depot", day(70), 8, items=(beans,), other="roastery"),
        Step(key("receive-roastery"), RECEIVE, "roastery", day(70), 11, items=(beans,), other="kumasi-depot"),
        Step(
            key("roast-winnow"), TRANSFORM, "roastery", day(62), 12, items=(beans,),
            outputs=(all_nibs, Part("cocoa-shells", f"CS{code}", shells)),
        ),
        Step(
            key("press"), TRANSFORM, "roastery", day(60), 10, items=(all_nibs._replace(quantity=pressed),),
            outputs=(cocoa_butter, Part("cocoa-press-cake", f"PC{code}", cake)),
        ),
        Step(
            key("ship-factory"), SHIP, "roastery", day(58), 8,
            items=(all_nibs._replace(quantity=nibs_in_bars), cocoa_butter), other="bar-factory",
        ),
        Step(
            key("receive-factory"), RECEIVE, "bar-factory", day(58), 9,
            items=(all_nibs._replace(quantity=nibs_in_bars), cocoa_butter), other="roastery",
        ),
        Step(key("receive-sugar"), RECEIVE, "tema-warehouse", day(80), 10, items=(cane._replace(quantity=_up(
            Decimal(sugar) / 50) * 50),)),
        Step(key("ship-sugar"), SHIP, "tema-warehouse", day(66), 7, items=(cane,), other="bar-factory"),
        Step(key("receive-sugar-factory"), RECEIVE, "bar-factory", day(65), 15, items=(cane,),
             other="tema-warehouse"),
        Step(
            key("make-bars"), TRANSFORM, "bar-factory", made, 14,
            items=(all_nibs._replace(quantity=nibs_in_bars), cocoa_butter, cane),
            outputs=(Part("dark-chocolate-70", lot, bars),),
        ),
        Step(
            key("cadmium-test"), INSPECT, "bar-factory", made + timedelta(days=9), 11,
            items=(Part("dark-chocolate-70", lot, 3),), result="conformant",
            note="Cadmium 0.31 mg/kg by ICP-MS, under the EU limit of 0.80 mg/kg for chocolate with ≥ 50 % cocoa.",
        ),
    ]  # fmt: skip


KAKAO_BATCHES = (("CH26-0212", date(2026, 2, 12), 2400), ("CH26-0604", date(2026, 6, 4), 3000),
                 ("CH26-1015", date(2026, 10, 15), 3600))  # fmt: skip


def _kakao() -> Chain:
    steps = [step for batch in KAKAO_BATCHES for step in _chocolate_steps(*batch)]

    def every(name: str) -> tuple[str, ...]:
        return tuple(f"{lot}/{name}" for lot, _, _ in KAKAO_BATCHES)

    kk = f"{EVIDENCE}/kakao-kollektiv"
    proofs = (
        Proof("Fairtrade certificate, Nyame Bekyere farmer group", "FLOCERT", Level.THIRD_PARTY_VERIFIED,
              f"{kk}/fairtrade-certificate-nyame-bekyere", every("harvest-bekwai"), "Fairtrade",
              date(2025, 4, 1), date(2028, 3, 31)),
        Proof("Rainforest Alliance farm certificate, Asante Akim farmer group", "Rainforest Alliance",
              Level.THIRD_PARTY_VERIFIED, f"{kk}/rainforest-alliance-asante-akim", every("harvest-juaso"),
              "Rainforest Alliance", date(2025, 7, 1), date(2028, 6, 30)),
        Proof("Farm maps and deforestation check 2026", "Kakao Kollektiv", Level.DOCUMENTED,
              f"{kk}/farm-maps-2026", every("harvest-bekwai") + every("harvest-juaso")),
        Proof("Child labour monitoring visits 2025", "Kakao Kollektiv community monitor", Level.DOCUMENTED,
              f"{kk}/child-labour-monitoring-2025", ("CH26-0212/harvest-bekwai", "CH26-0212/harvest-juaso")),
        Proof("Cadmium lab report, lot CH26-0604", "Ghana Standards Authority laboratory", Level.THIRD_PARTY_VERIFIED,
              f"{kk}/cadmium-lab-report-ch26-0604", ("CH26-0604/cadmium-test",), "ISO/IEC 17025",
              date(2026, 6, 13), date(2027, 6, 30)),
        Proof("Cut-test records, Bekwai fermentation centre", "Kakao Kollektiv", Level.SELF_DECLARED,
              f"{kk}/cut-test-records-2026", every("cut-test")),
    )  # fmt: skip
    return Chain(KAKAO_SITES, tuple(steps), proofs)


# Fio Lento: organic cotton from two farmer groups in Gujarat, ginned near the farms, shipped from Mundra to Leixões,
# spun, woven and dyed in northern Portugal, sewn in Guimarães. The tea towels are woven partly from the shirts' yarn.

FIO_SITES = (
    Site("wadhwan-farms", "Wadhwan organic cotton farms (farmer group)", "farm",
         "Wadhwan taluka, Surendranagar district, Gujarat", "IN", "22.700000", "71.680000", "Asia/Kolkata"),
    Site("limbdi-farms", "Limbdi organic cotton farms (farmer group)", "farm",
         "Limbdi taluka, Surendranagar district, Gujarat", "IN", "22.570000", "71.810000", "Asia/Kolkata"),
    Site("ginning-mill", "Saurashtra organic ginning mill", "ginning mill", "Rajkot highway, Surendranagar, Gujarat",
         "IN", "22.728000", "71.637000", "Asia/Kolkata", _gln("200000015")),
    Site("mundra-port", "Mundra port container freight station", "port warehouse", "Mundra, Kutch, Gujarat", "IN",
         "22.739000", "69.705000", "Asia/Kolkata"),
    Site("leixoes-port", "Leixões port warehouse", "port warehouse", "Porto de Leixões, Matosinhos", "PT",
         "41.185000", "-8.702000", "Europe/Lisbon"),
    Site("spinning-mill", "Fiação do Ave spinning mill", "spinning mill", "Vila Nova de Famalicão", "PT",
         "41.408000", "-8.520000", "Europe/Lisbon", _gln("200000022")),
    Site("weaving-mill", "Tecelagem do Minho weaving mill", "weaving mill", "Guimarães", "PT", "41.443000",
         "-8.296000", "Europe/Lisbon"),
    Site("dyehouse", "Tinturaria de Barcelos", "dyehouse", "Barcelos", "PT", "41.532000", "-8.615000",
         "Europe/Lisbon"),
    Site("sewing-workshop", "Fio Lento sewing workshop", "sewing workshop", "Rua de Santo António, Guimarães", "PT",
         "41.442000", "-8.292000", "Europe/Lisbon", _gln("200000039")),
)  # fmt: skip


def _fio() -> Chain:
    wadhwan, limbdi = Part("seed-cotton", "SC25-WD", 1000), Part("seed-cotton", "SC25-LB", 800)
    lint = Part("cotton-lint", "LT25-11", 612)
    ne20, ne12 = Part("yarn-ne20", "Y20-2601", 300), Part("yarn-ne12", "Y12-2601", 150)
    indigo, buttons = Part("indigo-dye", "IND-2601", 25), Part("corozo-buttons", "BT-2601", 5000)
    greige1, dyed1 = Part("greige-twill", "GT-2602", 300), Part("indigo-twill", "DT-2602", 294)
    greige2, dyed2 = Part("greige-twill", "GT-2605", 400), Part("indigo-twill", "DT-2606", 392)
    towelling1, towelling2 = Part("towelling", "TW-2603", 750), Part("towelling", "TW-2609", 900)
    shirt, towels = "organic-cotton-work-shirt", "undyed-cotton-tea-towels"
    steps = (
        Step("harvest-wadhwan", HARVEST, "wadhwan-farms", date(2025, 11, 10), 17, outputs=(wadhwan,)),
        Step("harvest-limbdi", HARVEST, "limbdi-farms", date(2025, 11, 13), 17, outputs=(limbdi,)),
        Step("ship-wadhwan", SHIP, "wadhwan-farms", date(2025, 11, 18), 8, items=(wadhwan,), other="ginning-mill"),
        Step("ship-limbdi", SHIP, "limbdi-farms", date(2025, 11, 18), 9, items=(limbdi,), other="ginning-mill"),
        Step("receive-wadhwan", RECEIVE, "ginning-mill", date(2025, 11, 18), 14, items=(wadhwan,),
             other="wadhwan-farms"),
        Step("receive-limbdi", RECEIVE, "ginning-mill", date(2025, 11, 18), 16, items=(limbdi,),
             other="limbdi-farms"),
        Step("gin", TRANSFORM, "ginning-mill", date(2025, 11, 27), 10, items=(wadhwan, limbdi),
             outputs=(lint, Part("cotton-seed", "CSD25-11", 1080))),
        Step("gmo-test", INSPECT, "ginning-mill", date(2025, 11, 28), 12, items=(lint._replace(quantity=1),),
             result="conformant", note="GMO screening by PCR: negative. Staple 29 mm, micronaire 4.1."),
        Step("ship-mundra", SHIP, "ginning-mill", date(2025, 12, 2), 7, items=(lint,), other="mundra-port"),
        Step("receive-mundra", RECEIVE, "mundra-port", date(2025, 12, 4), 11, items=(lint,), other="ginning-mill"),
        Step("ship-leixoes", SHIP, "mundra-port", date(2025, 12, 9), 18, items=(lint,), other="leixoes-port"),
        Step("receive-leixoes", RECEIVE, "leixoes-port", date(2026, 1, 12), 9, items=(lint,), other="mundra-port"),
        Step("ship-spinner", SHIP, "leixoes-port", date(2026, 1, 14), 8, items=(lint,), other="spinning-mill"),
        Step("receive-spinner", RECEIVE, "spinning-mill", date(2026, 1, 14), 15, items=(lint,),
             other="leixoes-port"),
        Step("spin-ne20", TRANSFORM, "spinning-mill", date(2026, 1, 22), 18, items=(lint._replace(quantity=360),),
             outputs=(ne20, Part("comber-noil", "NOIL-2601", 45))),
        Step("spin-ne12", TRANSFORM, "spinning-mill", date(2026, 1, 26), 18, items=(lint._replace(quantity=180),),
             outputs=(ne12, Part("spinning-waste", "SW-2601", 25))),
        Step("ship-yarn", SHIP, "spinning-mill", date(2026, 1, 29), 8, items=(ne20, ne12), other="weaving-mill"),
        Step("receive-yarn", RECEIVE, "weaving-mill", date(2026, 1, 29), 11, items=(ne20, ne12),
             other="spinning-mill"),
        Step("receive-indigo", RECEIVE, "dyehouse", date(2026, 1, 20), 10, items=(indigo,)),
        Step("receive-buttons", RECEIVE, "sewing-workshop", date(2026, 2, 20), 10, items=(buttons,)),
        # Shirts, lot SH26/014
        Step("weave-gt2602", TRANSFORM, "weaving-mill", date(2026, 2, 3), 17, items=(ne20._replace(quantity=86),),
             outputs=(greige1,)),
        Step("ship-gt2602", SHIP, "weaving-mill", date(2026, 2, 5), 8, items=(greige1,), other="dyehouse"),
        Step("receive-gt2602", RECEIVE, "dyehouse", date(2026, 2, 5), 12, items=(greige1,), other="weaving-mill"),
        Step("dye-dt2602", TRANSFORM, "dyehouse", date(2026, 2, 11), 16,
             items=(greige1, indigo._replace(quantity=3)), outputs=(dyed1,)),
        Step("fastness-dt2602", INSPECT, "dyehouse", date(2026, 2, 12), 10, items=(dyed1._replace(quantity=2),),
             result="conformant", note="Colour fastness to washing (ISO 105-C06): grade 4. Shrinkage 2.6 %."),
        Step("ship-dt2602", SHIP, "dyehouse", date(2026, 2, 16), 8, items=(dyed1,), other="sewing-workshop"),
        Step("receive-dt2602", RECEIVE, "sewing-workshop", date(2026, 2, 16), 14, items=(dyed1,), other="dyehouse"),
        Step("sew-sh26-014", TRANSFORM, "sewing-workshop", date(2026, 3, 2), 17,
             items=(dyed1._replace(quantity=288), buttons._replace(quantity=1980)),
             outputs=(Part(shirt, "SH26/014", 180),)),
        # Tea towels, lot TT26-A: 40 % of the yarn is left over from the shirts
        Step("weave-tw2603", TRANSFORM, "weaving-mill", date(2026, 3, 16), 17,
             items=(ne20._replace(quantity=42), ne12._replace(quantity=66)), outputs=(towelling1,)),
        Step("ship-tw2603", SHIP, "weaving-mill", date(2026, 3, 19), 8, items=(towelling1,),
             other="sewing-workshop"),
        Step("receive-tw2603", RECEIVE, "sewing-workshop", date(2026, 3, 19), 13, items=(towelling1,),
             other="weaving-mill"),
        Step("sew-tt26-a", TRANSFORM, "sewing-workshop", date(2026, 4, 15), 17, items=(towelling1,),
             outputs=(Part(towels, "TT26-A", 500),)),
        # Shirts, lot SH26/031
        Step("weave-gt2605", TRANSFORM, "weaving-mill", date(2026, 5, 25), 17, items=(ne20._replace(quantity=114),),
             outputs=(greige2,)),
        Step("ship-gt2605", SHIP, "weaving-mill", date(2026, 5, 28), 8, items=(greige2,), other="dyehouse"),
        Step("receive-gt2605", RECEIVE, "dyehouse", date(2026, 5, 28), 12, items=(greige2,), other="weaving-mill"),
        Step("dye-dt2606", TRANSFORM, "dyehouse", date(2026, 6, 9), 16,
             items=(greige2, indigo._replace(quantity=4)), outputs=(dyed2,)),
        Step("fastness-dt2606", INSPECT, "dyehouse", date(2026, 6, 10), 10, items=(dyed2._replace(quantity=2),),
             result="conformant", note="Colour fastness to washing (ISO 105-C06): grade 4–5. Shrinkage 2.4 %."),
        Step("ship-dt2606", SHIP, "dyehouse", date(2026, 6, 15), 8, items=(dyed2,), other="sewing-workshop"),
        Step("receive-dt2606", RECEIVE, "sewing-workshop", date(2026, 6, 15), 14, items=(dyed2,), other="dyehouse"),
        Step("sew-sh26-031", TRANSFORM, "sewing-workshop", date(2026, 7, 20), 17,
             items=(dyed2._replace(quantity=384), buttons._replace(quantity=2640)),
             outputs=(Part(shirt, "SH26/031", 240),)),
        # Tea towels, lot TT26-B
        Step("weave-tw2609", TRANSFORM, "weaving-mill", date(2026, 9, 1), 17,
             items=(ne20._replace(quantity=52), ne12._replace(quantity=78)), outputs=(towelling2,)),
        Step("ship-tw2609", SHIP, "weaving-mill", date(2026, 9, 4), 8, items=(towelling2,),
             other="sewing-workshop"),
        Step("receive-tw2609", RECEIVE, "sewing-workshop", date(2026, 9, 4), 13, items=(towelling2,),
             other="weaving-mill"),
        Step("sew-tt26-b", TRANSFORM, "sewing-workshop", date(2026, 9, 30), 17, items=(towelling2,),
             outputs=(Part(towels, "TT26-B", 600),)),
    )  # fmt: skip
    fl = f"{EVIDENCE}/fio-lento"
    harvests = ("harvest-wadhwan", "harvest-limbdi")
    proofs = (
        Proof("Organic cotton certificate 2026 (farms to finished goods)", "GOTS-approved certification body",
              Level.THIRD_PARTY_VERIFIED, f"{fl}/organic-cotton-certificate-2026",
              (*harvests, "sew-sh26-014", "sew-sh26-031", "sew-tt26-a", "sew-tt26-b"), "GOTS",
              date(2025, 6, 1), date(2027, 5, 31)),
        Proof("GOTS scope certificate 2025, Saurashtra organic ginning mill", "GOTS-approved certification body",
              Level.THIRD_PARTY_VERIFIED, f"{fl}/gots-scope-certificate-ginning-2025", ("gin", "gmo-test"), "GOTS",
              date(2025, 1, 1), date(2025, 12, 31)),
        Proof("Dyehouse waste-water tests 2026", "Accredited environmental laboratory, Braga",
              Level.THIRD_PARTY_VERIFIED, f"{fl}/dyehouse-wastewater-tests-2026", ("dye-dt2602", "dye-dt2606"),
              "ISO/IEC 17025", date(2026, 1, 31), date(2027, 1, 31)),
        Proof("Water footprint of our cotton 2026", "Fio Lento", Level.DOCUMENTED, f"{fl}/water-footprint-2026",
              harvests),
        Proof("Farm visit notes, Limbdi farmer group, November 2025", "Fio Lento", Level.SELF_DECLARED,
              f"{fl}/limbdi-farm-visit-2025-11", ("harvest-limbdi",)),
        Proof("Yarn reuse record 2026", "Fio Lento", Level.DOCUMENTED, f"{fl}/yarn-reuse-2026",
              ("weave-tw2603", "weave-tw2609")),
        Proof("Workshop pay summary 2026", "Fio Lento", Level.DOCUMENTED, f"{fl}/pay-summary-2026",
              ("sew-sh26-014", "sew-sh26-031", "sew-tt26-a", "sew-tt26-b")),
    )  # fmt: skip
    return Chain(FIO_SITES, steps, proofs)


# Mwangaza Home Works: coconut oil from Kilifi smallholders pressed in Mombasa, shea butter made by women's groups in
# northern Uganda, lemongrass oil distilled in Meru, palm-kernel oil bought from a Mombasa refinery (not traceable
# further), all made into soap in Nairobi.

MWANGAZA_SITES = (
    Site("kilifi-farms", "Kilifi coconut farms (smallholder group)", "farm", "Kilifi County", "KE", "-3.510700",
         "39.909300", "Africa/Nairobi"),
    Site("copra-yard", "Kilifi copra drying yard", "copra drying yard", "Mnarani, Kilifi", "KE", "-3.630500",
         "39.849900", "Africa/Nairobi"),
    Site("coconut-mill", "Mombasa coconut oil mill", "oil mill", "Changamwe, Mombasa", "KE", "-4.024000",
         "39.615000", "Africa/Nairobi", _gln("300000012")),
    Site("pko-refinery", "Mombasa palm-kernel oil refinery", "refinery", "Shimanzi, Mombasa", "KE", "-4.050000",
         "39.660000", "Africa/Nairobi"),
    Site("otuke-parklands", "Otuke shea parklands (women's groups)", "farm", "Otuke District, Northern Uganda", "UG",
         "2.500000", "33.350000", "Africa/Kampala"),
    Site("lira-shea-centre", "Lira shea butter centre", "shea butter processing centre", "Lira City, Northern Uganda",
         "UG", "2.249000", "32.899000", "Africa/Kampala", _gln("300000029")),
    Site("meru-lemongrass", "Meru lemongrass farm and still", "farm", "Imenti North, Meru County", "KE", "0.050000",
         "37.650000", "Africa/Nairobi"),
    Site("soap-works", "Mwangaza soap works", "soap works", "Enterprise Road, Industrial Area, Nairobi", "KE",
         "-1.308000", "36.851000", "Africa/Nairobi", _gln("300000036")),
)  # fmt: skip


def _coconut_oil_steps(code: str, harvested: date, nuts: int) -> list[Step]:
    """Dehusked coconuts to copra (about 250 g a nut) to cold-pressed oil (62 % of the copra's weight)."""
    coconuts = Part("coconuts", f"CN-{code}", nuts)
    copra = Part("copra", f"CP-{code}", _down(nuts * Decimal("0.25")))
    oil_kg = copra.quantity * Decimal("0.57")
    oil = Part("coconut-oil", f"CO-{code}", _down(oil_kg / MATERIALS["coconut-oil"].kg_per_unit))
    cake = Part("copra-cake", f"CC-{code}", _down(copra.quantity * Decimal("0.38")))

    def day(after: int) -> date:
        return harvested + timedelta(days=after)

    return [
        Step(f"{code}/harvest-coconuts", HARVEST, "kilifi-farms", harvested, 16, outputs=(coconuts,)),
        Step(f"{code}/ship-coconuts", SHIP, "kilifi-farms", day(2), 7, items=(coconuts,), other="copra-yard"),
        Step(f"{code}/receive-coconuts", RECEIVE, "copra-yard", day(2), 10, items=(coconuts,), other="kilifi-farms"),
        Step(f"{code}/dry-copra", TRANSFORM, "copra-yard", day(12), 15, items=(coconuts,), outputs=(copra,)),
        Step(f"{code}/ship-copra", SHIP, "copra-yard", day(14), 7, items=(copra,), other="coconut-mill"),
        Step(f"{code}/receive-copra", RECEIVE, "coconut-mill", day(14), 12, items=(copra,), other="copra-yard"),
        Step(f"{code}/press-oil", TRANSFORM, "coconut-mill", day(16), 14, items=(copra,), outputs=(oil, cake)),
        Step(f"{code}/ship-oil", SHIP, "coconut-mill", day(19), 6, items=(oil,), other="soap-works"),
        Step(f"{code}/receive-oil", RECEIVE, "soap-works", day(20), 11, items=(oil,), other="coconut-mill"),
    ]  # fmt: skip


def _litres(material: str, kg: Decimal) -> int:
    return _up(kg / MATERIALS[material].kg_per_unit)


def _soap_steps(slug: str, lot: str, made: date, bars: int, oils: dict[str, str], *, cured: bool = True) -> list[Step]:
    """A cold-process soap batch from the lots in `oils` (material → lot code); pH-tested once `cured` (six weeks)."""
    soap_kg = bars * PRODUCT_UNIT_KG[slug]
    # Per kg of cured soap; the water of the lye solution partly evaporates while the bars cure.
    recipe = {
        "kitchen-laundry-bar-soap": {"palm-kernel-oil": "0.50", "coconut-oil": "0.22", "lye-solution": "0.42"},
        "shea-lemongrass-hand-soap": {
            "shea-butter": "0.25", "coconut-oil": "0.28", "palm-kernel-oil": "0.17", "lye-solution": "0.38",
            "lemongrass-oil": "0.015",
        },
    }[slug]  # fmt: skip
    items = []
    for material, per_kg in recipe.items():
        kg = soap_kg * Decimal(per_kg)
        quantity: Decimal | int = _up(kg) if MATERIALS[material].uom == "KGM" else _litres(material, kg)
        if material == "lemongrass-oil":
            quantity = (kg / MATERIALS[material].kg_per_unit).quantize(Decimal("0.1"), rounding="ROUND_UP")
        items.append(Part(material, oils[material], quantity))
    steps = [Step(f"{lot}/make-soap", TRANSFORM, "soap-works", made, 15, items=tuple(items),
                  outputs=(Part(slug, lot, bars),))]  # fmt: skip
    if not cured:
        return steps
    steps.append(
        Step(
            f"{lot}/ph-test",
            INSPECT,
            "soap-works",
            made + timedelta(days=43),
            10,
            items=(Part(slug, lot, 2),),
            result="conformant",
            note=f"After six weeks' cure: pH {'9.9' if bars > 1000 else '9.6'}, free alkali 0.02 %, no lye pockets.",
        )  # fmt: skip
    )
    return steps


def _mwangaza() -> Chain:
    shea_kernels, shea_butter = Part("shea-kernels", "SK-2507", 300), Part("shea-butter", "SB-2509", 95)
    lemongrass, lemongrass_oil = Part("lemongrass", "LG-2601", 500), Part("lemongrass-oil", "LGO-2601", 4)
    pko1, pko2 = Part("palm-kernel-oil", "PK-2602", 1000), Part("palm-kernel-oil", "PK-2607", 1000)
    lye1, lye2 = Part("lye-solution", "LY-2602", 600), Part("lye-solution", "LY-2607", 600)
    steps = [
        Step("harvest-shea", HARVEST, "otuke-parklands", date(2025, 7, 20), 16, outputs=(shea_kernels,)),
        Step("ship-shea-kernels", SHIP, "otuke-parklands", date(2025, 8, 10), 7, items=(shea_kernels,),
             other="lira-shea-centre"),
        Step("receive-shea-kernels", RECEIVE, "lira-shea-centre", date(2025, 8, 10), 12, items=(shea_kernels,),
             other="otuke-parklands"),
        Step("make-shea-butter", TRANSFORM, "lira-shea-centre", date(2025, 9, 1), 15, items=(shea_kernels,),
             outputs=(shea_butter,)),
        Step("test-shea-butter", INSPECT, "lira-shea-centre", date(2025, 9, 3), 10,
             items=(shea_butter._replace(quantity=1),), result="conformant",
             note="Free fatty acids 1.8 %, moisture 0.05 %, no impurities: grade 1."),
        Step("ship-shea-butter", SHIP, "lira-shea-centre", date(2025, 9, 10), 6, items=(shea_butter,),
             other="soap-works"),
        Step("receive-shea-butter", RECEIVE, "soap-works", date(2025, 9, 16), 14, items=(shea_butter,),
             other="lira-shea-centre"),
        Step("harvest-lemongrass", HARVEST, "meru-lemongrass", date(2026, 1, 5), 9, outputs=(lemongrass,)),
        Step("distil-lemongrass", TRANSFORM, "meru-lemongrass", date(2026, 1, 6), 16, items=(lemongrass,),
             outputs=(lemongrass_oil,)),
        Step("ship-lemongrass-oil", SHIP, "meru-lemongrass", date(2026, 1, 12), 8, items=(lemongrass_oil,),
             other="soap-works"),
        Step("receive-lemongrass-oil", RECEIVE, "soap-works", date(2026, 1, 13), 11, items=(lemongrass_oil,),
             other="meru-lemongrass"),
        Step("receive-pk2602", RECEIVE, "soap-works", date(2026, 2, 9), 10, items=(pko1,), other="pko-refinery"),
        Step("receive-ly2602", RECEIVE, "soap-works", date(2026, 2, 9), 14, items=(lye1,)),
        Step("receive-pk2607", RECEIVE, "soap-works", date(2026, 7, 14), 10, items=(pko2,), other="pko-refinery"),
        Step("receive-ly2607", RECEIVE, "soap-works", date(2026, 7, 14), 14, items=(lye2,)),
        *_coconut_oil_steps("2601", date(2026, 1, 20), 2000),
        *_coconut_oil_steps("2606", date(2026, 6, 8), 2000),
    ]  # fmt: skip
    first = {"palm-kernel-oil": pko1.lot, "coconut-oil": "CO-2601", "lye-solution": lye1.lot,
             "shea-butter": shea_butter.lot, "lemongrass-oil": lemongrass_oil.lot}  # fmt: skip
    second = first | {"palm-kernel-oil": pko2.lot, "coconut-oil": "CO-2606", "lye-solution": lye2.lot}
    laundry, hand = "kitchen-laundry-bar-soap", "shea-lemongrass-hand-soap"
    steps += _soap_steps(hand, "HS26-03", date(2026, 3, 11), 900, first)
    steps += _soap_steps(laundry, "KS-2026-05", date(2026, 5, 6), 1500, first)
    steps += _soap_steps(laundry, "KS-2026-08", date(2026, 8, 19), 2000, second)
    steps += _soap_steps(hand, "HS26-09", date(2026, 9, 2), 1200, second)
    steps += _soap_steps(laundry, "KS-2026-11", date(2026, 11, 3), 1800, second, cured=False)
    mh = f"{EVIDENCE}/mwangaza-home"
    proofs = (
        Proof("Palm-kernel oil supply-chain certificate, Mombasa refinery", "Palm oil certification body",
              Level.THIRD_PARTY_VERIFIED, f"{mh}/palm-certificate-withdrawn-2026", ("receive-pk2602",),
              "RSPO Mass Balance", date(2025, 4, 1), date(2027, 3, 31),
              revoked_reason="The certification body suspended the refinery's certificate in August 2026, after an "
              "audit found uncertified kernel oil sold under it."),
        Proof("Shea butter price agreements 2026", "Mwangaza Home Works", Level.DOCUMENTED,
              f"{mh}/shea-contracts-2026", ("harvest-shea", "make-shea-butter")),
        Proof("EU organic certificate, Otuke shea collectors", "Organic certification body, Kampala",
              Level.THIRD_PARTY_VERIFIED, f"{mh}/organic-certificate-otuke-shea", ("harvest-shea",), "EU Organic",
              date(2025, 3, 1), date(2027, 2, 28)),
        Proof("pH tests 2026", "Mwangaza Home Works", Level.DOCUMENTED, f"{mh}/ph-tests-2026",
              ("KS-2026-05/ph-test", "KS-2026-08/ph-test")),
        Proof("Farm visit record, Kilifi coconut smallholders", "Mwangaza Home Works", Level.SELF_DECLARED,
              f"{mh}/kilifi-farm-visits-2026", ("2601/harvest-coconuts", "2606/harvest-coconuts")),
    )  # fmt: skip
    return Chain(MWANGAZA_SITES, tuple(steps), proofs)


def chains() -> dict[str, Chain]:
    """The demo chains, by supplier slug."""
    return {"kakao-kollektiv": _kakao(), "fio-lento": _fio(), "mwangaza-home": _mwangaza()}


def event_id(supplier_slug: str, step_key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'event/{supplier_slug}/{step_key}')}"


def facility_location_uri(supplier_slug: str, site: Site) -> str:
    if site.gln:
        return services.facility_location_uri(gln=site.gln)
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'facility/{supplier_slug}/{site.key}')}"


@dataclass
class ChainSummary:
    """What one run of `seed` created; all zero when the demo chains were already there."""

    facilities: int = 0
    events: int = 0
    evidence: int = 0
    evidence_links: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, field.name) for field in fields(self))

    def __str__(self) -> str:
        if not self.total:
            return "nothing to do: the demo supply chains are already there"
        counts = (f"{getattr(self, f.name)} {f.name.replace('_', ' ')}" for f in fields(self) if getattr(self, f.name))
        return "created " + ", ".join(counts)


def _facilities(supplier: Supplier, sites: Iterable[Site], summary: ChainSummary) -> dict[str, Facility]:
    uris = {site.key: facility_location_uri(supplier.slug, site) for site in sites}
    found = {f.location_uri: f for f in Facility.objects.filter(location_uri__in=uris.values())}
    facilities = {}
    for site in sites:
        facility = found.get(uris[site.key])
        if facility is None:
            data: dict[str, Any] = {
                "name": site.name, "kind": site.kind, "address": site.address, "country": site.country,
                "latitude": Decimal(site.latitude), "longitude": Decimal(site.longitude), "gln": site.gln,
            }  # fmt: skip
            if not site.gln:
                data["location_uri"] = uris[site.key]
            facility = services.facility_create(owner=supplier, data=data)
            summary.facilities += 1
        facilities[site.key] = facility
    return facilities


def _events(
    supplier: Supplier, chain: Chain, facilities: dict[str, Facility]
) -> tuple[list[tuple[datetime, dict[str, Any]]], list[str]]:
    """The chain's events; a step naming a demo batch that is missing, unpublished or without GTIN is left out."""
    products = {p.slug: p for p in supplier.products.filter(published_at__isnull=False, gtin__isnull=False)}
    lots = set(Batch.objects.filter(product__in=products.values()).values_list("product__slug", "lot"))
    zones = {site.key: ZoneInfo(site.zone) for site in chain.sites}

    def amount(part: Part) -> Amount | None:
        if part.material in MATERIALS:
            material = MATERIALS[part.material]
            return Amount(identifiers.batch_uri(material.gtin, part.lot), Decimal(part.quantity), material.uom)
        product = products.get(part.material)
        if product is None or not product.gtin or (part.material, part.lot) not in lots:
            return None
        return Amount(identifiers.batch_uri(product.gtin, part.lot), Decimal(part.quantity), "EA")

    events: list[tuple[datetime, dict[str, Any]]] = []
    skipped = []
    for step in chain.steps:
        items, outputs = [amount(p) for p in step.items], [amount(p) for p in step.outputs]
        if None in items or None in outputs:
            skipped.append(step.key)
            continue
        when = datetime(step.day.year, step.day.month, step.day.day, step.hour, tzinfo=zones[step.at])
        events.append(
            (
                when,
                simple_event(
                    kind=step.kind,
                    location=facilities[step.at].location_uri,
                    when=when,
                    items=[a for a in items if a],
                    outputs=[a for a in outputs if a],
                    other_location=facilities[step.other].location_uri if step.other else "",
                    result=step.result,
                    note=step.note,
                    event_id=event_id(supplier.slug, step.key),
                ),
            )
        )
    return events, skipped


def _evidence(supplier: Supplier, proofs: Iterable[Proof], summary: ChainSummary) -> None:
    for proof in proofs:
        evidence = Evidence.objects.filter(owner=supplier, url=proof.url).first()
        if evidence is None:
            data = {
                "title": proof.title, "issuer": proof.issuer, "scheme": proof.scheme, "level": proof.level,
                "url": proof.url, "valid_from": proof.valid_from, "valid_until": proof.valid_until,
            }  # fmt: skip
            evidence = services.evidence_create(owner=supplier, data=data)
            summary.evidence += 1
            # Only evidence made in this run is revoked, as the catalog demo publishes only what it creates.
            if proof.revoked_reason:
                services.evidence_revoke(evidence=evidence, reason=proof.revoked_reason)
        # provenance.services has no service that links evidence to events and declarations yet: these two writes
        # are the demo's only direct ones.
        wanted = {event_id(supplier.slug, key) for key in proof.steps}
        events = TraceEvent.objects.filter(supplier=supplier, event_id__in=wanted).exclude(evidence=evidence)
        declarations = Declaration.objects.filter(product__supplier=supplier, evidence_url=proof.url).exclude(
            evidence=evidence
        )
        new_events, new_declarations = list(events.only("id")), list(declarations.only("id"))
        services.evidence_links_add(evidence=evidence, events=new_events, declarations=new_declarations)
        summary.evidence_links += len(new_events) + len(new_declarations)


@transaction.atomic
def seed(*, stdout: Writer | None = None) -> ChainSummary:
    """Record the demo suppliers' supply chains (facilities, trace events, evidence) that are missing; idempotent.

    Runs after the catalog demo (products.demo.seed): a supplier or batch it cannot find is left out.
    """
    say = stdout or io.StringIO()
    summary = ChainSummary()
    for slug, chain in chains().items():
        supplier = Supplier.objects.filter(slug=slug).first()
        if supplier is None or supplier.is_suspended:
            say.write(f"supply chain of {slug} left out: the supplier is missing or suspended\n")
            continue
        facilities = _facilities(supplier, chain.sites, summary)
        events, skipped = _events(supplier, chain, facilities)
        for key in skipped:
            say.write(f"{slug}: event {key} left out (its demo batch is missing or not public)\n")
        ids = [event["eventID"] for _, event in events]
        stored = set(TraceEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True))
        # In the order they happened, so that each supplier's hash chain reads like its history.
        new = sorted((pair for pair in events if pair[1]["eventID"] not in stored), key=lambda pair: pair[0])
        if new:
            owner = supplier.members.filter(role=SupplierMember.Role.OWNER).select_related("user").first()
            capture = services.capture_document(
                supplier=supplier,
                submitted_by=owner.user if owner else None,
                document=epcis_document([event for _, event in new], context=[CONTEXT]),
            )
            summary.events += capture.event_count
            say.write(f"{supplier.legal_name}: {capture.event_count} trace events\n")
        _evidence(supplier, chain.proofs, summary)
    return summary
