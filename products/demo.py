"""The demo catalog: three fictional suppliers, their products, declarations, batches and people, created through
the services so that the demo obeys the same rules as real data."""

import io
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Protocol

from django.db import transaction

from accounts.models import User
from accounts.services import user_sign_up
from core import gs1
from products.models import Batch, Declaration, Product, Supplier, SupplierMember
from products.services import (
    batch_create,
    declaration_create,
    product_create,
    product_publish,
    supplier_create,
    supplier_member_add,
)

DEMO_PASSWORD = "demo-pass-2026"

Role = SupplierMember.Role
Category = Product.Category
Topic = Declaration.Topic
Level = Declaration.EvidenceLevel

EVIDENCE = "https://evidence.example.org"


def _gtin(item: str) -> str:
    # 952 is GS1's prefix for examples and demonstrations, so these GTINs can never clash with a real company's.
    return gs1.gtin_with_check_digit("952" + item)


def _risk(
    topic: str, statement: str, level: str = Level.SELF_DECLARED, url: str = "", until: date | None = None
) -> dict[str, Any]:
    return {
        "kind": Declaration.Kind.RISK,
        "topic": topic,
        "statement": statement,
        "evidence_level": level,
        "evidence_url": url,
        "valid_until": until,
    }


def _benefit(
    topic: str, statement: str, level: str = Level.SELF_DECLARED, url: str = "", until: date | None = None
) -> dict[str, Any]:
    return {**_risk(topic, statement, level, url, until), "kind": Declaration.Kind.BENEFIT}


USERS: tuple[dict[str, Any], ...] = (
    {
        "email": "operator@socialbiz.example",
        "display_name": "Network operator",
        "about": "operator — sees everything in the dashboard",
        "operator": True,
    },
    {
        "email": "owner@kakao-kollektiv.example",
        "display_name": "Abena Asare",
        "about": "owner of Kakao Kollektiv (chocolate, Ghana)",
    },
    {
        "email": "editor@kakao-kollektiv.example",
        "display_name": "Kojo Mensah",
        "about": "editor at Kakao Kollektiv — keeps the catalog, cannot manage members",
    },
    {
        "email": "owner@fio-lento.example",
        "display_name": "Inês Carvalho",
        "about": "owner of Fio Lento (organic cotton, Portugal)",
    },
    {
        "email": "owner@mwangaza-home.example",
        "display_name": "Wanjiru Kamau",
        "about": "owner of Mwangaza Home Works (soap and enamelware, Kenya)",
    },
    {"email": "ana@shoppers.example", "display_name": "Ana", "about": "shopper"},
    {"email": "ben@shoppers.example", "display_name": "Ben T.", "about": "shopper"},
    {"email": "chioma@shoppers.example", "display_name": "Chioma", "about": "shopper"},
)

DEMO_LOGINS: list[tuple[str, str]] = [(user["email"], user["about"]) for user in USERS]

SUPPLIERS: tuple[dict[str, Any], ...] = (
    {
        "slug": "kakao-kollektiv",
        "data": {
            "legal_name": "Kakao Kollektiv Ghana Ltd.",
            "country": "GH",
            "description": (
                "A bean-to-bar chocolate maker in Kumasi, Ghana. We buy cocoa from 140 smallholder farms in the "
                "Ashanti region and make the chocolate in the country where the beans grow."
            ),
            "public_email": "hello@kakao-kollektiv.example",
            "website": "https://kakao-kollektiv.example",
        },
        "members": (("owner@kakao-kollektiv.example", Role.OWNER), ("editor@kakao-kollektiv.example", Role.EDITOR)),
    },
    {
        "slug": "fio-lento",
        "data": {
            "legal_name": "Fio Lento Têxteis, Lda.",
            "country": "PT",
            "description": (
                "A workshop of eleven people in Guimarães, Portugal, cutting and sewing organic cotton into shirts "
                "and kitchen textiles. The cotton grows in Gujarat, India; it is spun, woven and dyed in northern "
                "Portugal."
            ),
            "public_email": "ola@fio-lento.example",
            "website": "https://fio-lento.example",
        },
        "members": (("owner@fio-lento.example", Role.OWNER),),
    },
    {
        "slug": "mwangaza-home",
        "data": {
            "legal_name": "Mwangaza Home Works Ltd.",
            "country": "KE",
            "description": (
                "A household-goods maker in Nairobi, Kenya: cold-process bar soap and enamel kitchenware, made by "
                "22 people in one workshop."
            ),
            "public_email": "karibu@mwangaza-home.example",
            "website": "https://mwangaza-home.example",
        },
        "members": (("owner@mwangaza-home.example", Role.OWNER),),
    },
)

PRODUCTS: tuple[dict[str, Any], ...] = (
    {
        "supplier": "kakao-kollektiv",
        "publish": True,
        "data": {
            "name": "Dark Chocolate 70 % — Ashanti",
            "slug": "dark-chocolate-70",
            "category": Category.FOOD,
            "gtin": _gtin("100010001"),
            "description": (
                "An 80 g bar of 70 % dark chocolate. The beans are fermented, dried, roasted and ground within 60 km "
                "of the farms they grew on. Ingredients: cocoa beans, cane sugar, cocoa butter."
            ),
            "use": (
                "Eat it as it is, or chop it for baking: it melts evenly at about 45 °C in a bowl over simmering "
                "water. A bar is about four servings."
            ),
            "care": (
                "Keep it dry, dark and cool (16–18 °C), away from strong smells. In the fridge it takes on moisture "
                "and turns white on the surface. Once opened, fold the foil back and eat it within a month."
            ),
            "repair": (
                "A bar that has melted in the heat or turned white (bloom) is still safe to eat: melt it gently and "
                "use it for baking or hot chocolate."
            ),
            "end_of_life": (
                "The inner wrap is aluminium foil: press it into a ball and recycle it with metal packaging. The "
                "outer sleeve is uncoated paper: recycle it with paper or compost it at home."
            ),
        },
        "declarations": (
            _risk(
                Topic.LABOUR,
                "Child labour is common on cocoa farms in Ghana. We buy only from 140 farms we know by name, and a "
                "community monitor visits each one twice a year. In 2025 she found three children carrying heavy "
                "loads and followed each case up with the family. We cannot promise the risk is zero.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/kakao-kollektiv/child-labour-monitoring-2025",
            ),
            _risk(
                Topic.HEALTH,
                "Cocoa plants take up cadmium, a heavy metal, from the soil. A lab tests every lot: the last result "
                "was 0.31 mg/kg, under the EU limit of 0.80 mg/kg. Small children should still not eat much dark "
                "chocolate.",
                Level.THIRD_PARTY_VERIFIED,
                f"{EVIDENCE}/kakao-kollektiv/cadmium-lab-report-ch26-0604",
                date(2027, 6, 30),
            ),
            _risk(
                Topic.HEALTH,
                "About a third of the bar is sugar: 30 g in every 100 g, so four squares (20 g) hold 6 g of sugar.",
            ),
            _benefit(
                Topic.COMMUNITY,
                "We pay farmers 25 % above Ghana's official farm-gate price for their cocoa. An independent auditor "
                "checks our purchase records every year.",
                Level.THIRD_PARTY_VERIFIED,
                f"{EVIDENCE}/kakao-kollektiv/price-audit-2026",
                date(2027, 3, 31),
            ),
            _benefit(
                Topic.COMMUNITY,
                "Making the chocolate in Ghana rather than exporting raw beans keeps 38 factory jobs and more of "
                "the price you pay in the region where the cocoa grows.",
            ),
            _benefit(
                Topic.ENVIRONMENT,
                "Every farm we buy from is mapped, and satellite images show none of them cleared forest after 2020.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/kakao-kollektiv/farm-maps-2026",
            ),
        ),
        "batches": (
            {"lot": "CH26-0212", "produced_on": date(2026, 2, 12), "expires_on": date(2027, 8, 12), "quantity": 2400},
            {"lot": "CH26-0604", "produced_on": date(2026, 6, 4), "expires_on": date(2027, 12, 4), "quantity": 3000},
            {"lot": "CH26-1015", "produced_on": date(2026, 10, 15), "expires_on": date(2028, 4, 15), "quantity": 3600},
        ),
    },
    {
        "supplier": "kakao-kollektiv",
        # Left as a draft so the dashboard shows a product that shoppers cannot see yet, next to public ones.
        "publish": False,
        "data": {
            "name": "Roasted Cocoa Nibs",
            "slug": "roasted-cocoa-nibs",
            "category": Category.FOOD,
            "gtin": _gtin("100010002"),
            "description": (
                "A 200 g pouch of roasted, cracked and winnowed cocoa beans from the same farms as our chocolate. "
                "Nothing is added."
            ),
            "use": (
                "Sprinkle a spoonful over porridge, yoghurt or salad, or stir into cookie dough. They taste bitter "
                "and nutty, like unsweetened chocolate with a crunch."
            ),
            "care": (
                "Reseal the pouch after opening and keep it cool and dry. The nibs are rich in fat and go stale in "
                "warm air; eat within three months of opening."
            ),
            "repair": "Nibs that have gone soft can be crisped again for five minutes in an oven at 120 °C.",
            "end_of_life": (
                "The pouch is made of paper and plant-based film and is certified for home composting: tear it up "
                "and add it to the compost heap. Remove the label first."
            ),
        },
        "declarations": (
            _risk(
                Topic.HEALTH,
                "Nibs are pure cocoa, so a gram of nibs carries more cadmium than a gram of chocolate; our last test "
                "found 0.52 mg/kg. Use them as a topping, a spoonful a day, not a snack by the bowl, and do not give "
                "them to small children.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/kakao-kollektiv/cadmium-lab-report-nb26-0320",
            ),
            _risk(
                Topic.SAFETY,
                "Nibs are hard: small pieces can crack a weak tooth, and children under four can choke on them.",
            ),
            _benefit(Topic.HEALTH, "No added sugar: the only ingredient is roasted cocoa beans."),
            _benefit(
                Topic.LABOUR,
                "An independent auditor visited our partner farms in the 2024/25 season and found no child labour.",
                Level.THIRD_PARTY_VERIFIED,
                f"{EVIDENCE}/kakao-kollektiv/labour-audit-2024-25",
                date(2026, 6, 30),
            ),
        ),
        "batches": (
            {"lot": "NB26-0320", "produced_on": date(2026, 3, 20), "expires_on": date(2027, 3, 20), "quantity": 800},
            {"lot": "NB26-0911", "produced_on": date(2026, 9, 11), "expires_on": date(2027, 9, 11), "quantity": 900},
        ),
    },
    {
        "supplier": "fio-lento",
        "publish": True,
        "data": {
            "name": "Organic Cotton Work Shirt",
            "slug": "organic-cotton-work-shirt",
            "category": Category.TEXTILE,
            "gtin": _gtin("200020001"),
            "description": (
                "A long-sleeved shirt in indigo-dyed organic cotton twill (180 g/m²), with flat-felled seams, "
                "corozo-nut buttons and extra seam allowance so it can be let out at the sides."
            ),
            "use": (
                "An everyday shirt for work and weekends; the twill stands up to rolled sleeves and bag straps. "
                "It shrinks by up to 3 % in the first warm wash, so choose your usual size."
            ),
            "care": (
                "Wash at 30 °C inside out with dark colours, in a wash bag that catches fibres. Hang it to dry and "
                "iron it while still damp. Hot washes and tumble-drying fade the dye and wear it out sooner."
            ),
            "repair": (
                "Spare buttons and a patch of the same cloth are sewn inside the hem. We repair seams and replace "
                "collars for the cost of postage for as long as we make this shirt; any tailor can turn a worn "
                "collar."
            ),
            "end_of_life": (
                "Pass it on while it can still be worn. When it is worn out, cut off the buttons (corozo nut, they "
                "can go in the compost) and take the cloth to a textile collection point for recycling into new "
                "yarn, or use it as rags."
            ),
        },
        "declarations": (
            _risk(
                Topic.ENVIRONMENT,
                "Growing the cotton for one shirt took about 1,500 litres of water. About a third of it was pumped "
                "from the ground in Gujarat, a dry region where groundwater levels are falling.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/fio-lento/water-footprint-2026",
            ),
            _risk(
                Topic.ENVIRONMENT,
                "The blue is a synthetic indigo dye. Our dyehouse cleans and tests its waste water, but dyeing is "
                "still the biggest pollution risk in making this shirt.",
                Level.THIRD_PARTY_VERIFIED,
                f"{EVIDENCE}/fio-lento/dyehouse-wastewater-tests-2026",
                date(2027, 1, 31),
            ),
            _risk(
                Topic.ENVIRONMENT,
                "Every wash sheds tiny cotton fibres into the drain. Cotton breaks down far sooner than polyester, "
                "but dyed fibres still reach rivers; a wash bag or washing-machine filter catches most of them.",
            ),
            _benefit(
                Topic.ENVIRONMENT,
                "The cotton is certified organic: grown without synthetic pesticides or fertilisers.",
                Level.THIRD_PARTY_VERIFIED,
                f"{EVIDENCE}/fio-lento/organic-cotton-certificate-2026",
                date(2027, 5, 31),
            ),
            _benefit(
                Topic.LABOUR,
                "Everyone in our workshop has a permanent contract and earns at least 30 % more than Portugal's "
                "minimum wage.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/fio-lento/pay-summary-2026",
            ),
            _benefit(
                Topic.ENVIRONMENT,
                "Made to be mended: free seam and collar repairs, and a shirt worn twice as long halves its "
                "footprint per wear.",
            ),
        ),
        "batches": (
            {"lot": "SH26/014", "produced_on": date(2026, 3, 2), "quantity": 180},
            {"lot": "SH26/031", "produced_on": date(2026, 7, 20), "quantity": 240},
        ),
    },
    {
        "supplier": "fio-lento",
        "publish": True,
        "data": {
            "name": "Undyed Cotton Tea Towels, set of two",
            "slug": "undyed-cotton-tea-towels",
            "category": Category.TEXTILE,
            "gtin": _gtin("200020002"),
            "description": (
                "Two 50 × 70 cm tea towels in undyed organic cotton herringbone, woven partly from yarn left over "
                "from our shirts, with a hanging loop."
            ),
            "use": (
                "Dry dishes and glasses, cover rising dough or line a bread basket. New towels absorb better after "
                "two or three washes."
            ),
            "care": (
                "Wash at 60 °C to kill germs from kitchen use and hang to dry. Skip fabric softener: it coats the "
                "fibres and stops them soaking up water."
            ),
            "repair": (
                "Darn small holes with cotton thread before they spread. A frayed hem can be folded over and "
                "re-stitched by hand in ten minutes."
            ),
            "end_of_life": (
                "Old towels make good cleaning rags. Being undyed cotton sewn with cotton thread, they can be cut "
                "into strips and composted at home, or taken to a textile collection point."
            ),
        },
        "declarations": (
            _risk(
                Topic.LABOUR,
                "We do not know who picked this cotton. Our spinner buys from a cooperative of 600 farms in "
                "Gujarat; the organic certificate covers how it is grown, not wages, and seasonal pickers there "
                "are often paid less than the legal minimum.",
            ),
            _risk(
                Topic.ENVIRONMENT,
                "Growing the cotton for the two towels took about 1,000 litres of water, a third of it pumped from "
                "falling groundwater in a dry region.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/fio-lento/water-footprint-2026",
            ),
            _risk(Topic.SAFETY, "Cotton burns easily: never leave a towel on or next to a hot hob."),
            _benefit(
                Topic.ENVIRONMENT,
                "Left undyed, so no dye chemicals were used and no dye waste water was made for these towels.",
            ),
            _benefit(
                Topic.ENVIRONMENT,
                "About 40 % of the yarn is left over from our shirt production and would otherwise be thrown away.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/fio-lento/yarn-reuse-2026",
            ),
        ),
        "batches": (
            {"lot": "TT26-A", "produced_on": date(2026, 4, 15), "quantity": 500},
            {"lot": "TT26-B", "produced_on": date(2026, 9, 30), "quantity": 600},
        ),
    },
    {
        "supplier": "mwangaza-home",
        "publish": True,
        "data": {
            "name": "Kitchen & Laundry Bar Soap",
            "slug": "kitchen-laundry-bar-soap",
            "category": Category.HOUSEHOLD,
            "gtin": _gtin("300030001"),
            "description": (
                "A 250 g hard bar for washing dishes, hand-washing clothes and rubbing out stains. Cold-process soap "
                "of palm-kernel and coconut oil, caustic soda and water, cured for six weeks. Unscented."
            ),
            "use": (
                "Rub the wet bar onto a damp brush, cloth or stain, scrub, then rinse well. One bar washes about 150 "
                "loads of dishes by hand. It is not meant for washing skin."
            ),
            "care": (
                "Keep it on a draining soap dish: a bar left in water goes soft and wastes away. Cut it into thirds "
                "and use one piece at a time."
            ),
            "repair": (
                "Soft or cracked bars work just as well. Collect the small ends in a mesh bag, or dissolve them in "
                "hot water to make liquid laundry soap."
            ),
            "end_of_life": (
                "The soap breaks down in a working sewage system or septic tank. The wrapper is unbleached paper: "
                "compost it or recycle it with paper."
            ),
        },
        "declarations": (
            _risk(
                Topic.ENVIRONMENT,
                "The main oil is palm-kernel oil, which comes from oil palm. Oil palm plantations have replaced "
                "tropical forest; our refiner in Mombasa buys from plantations in Southeast Asia and we cannot yet "
                "trace the oil back to one.",
            ),
            _risk(
                Topic.HEALTH,
                "Soap made with caustic soda is alkaline (about pH 10). Used often, it dries and cracks the skin, "
                "and it stings the eyes: wear gloves for long sessions of washing up.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/mwangaza-home/ph-tests-2026",
            ),
            _benefit(
                Topic.ENVIRONMENT,
                "No phosphates, optical brighteners or synthetic fragrance, which harm rivers and lakes after they "
                "go down the drain.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/mwangaza-home/ingredient-analysis-2026",
            ),
            _benefit(
                Topic.ENVIRONMENT,
                "Our palm-kernel oil is bought under a certification scheme for sustainable palm oil.",
                Level.REVOKED,
                f"{EVIDENCE}/mwangaza-home/palm-certificate-withdrawn-2026",
            ),
            _benefit(
                Topic.COMMUNITY,
                "All 22 people who make it live within walking distance of the workshop, and each year we train "
                "four school leavers as soap makers.",
            ),
        ),
        "batches": (
            {"lot": "KS-2026-05", "produced_on": date(2026, 5, 6), "quantity": 1500},
            {"lot": "KS-2026-08", "produced_on": date(2026, 8, 19), "quantity": 2000},
            {"lot": "KS-2026-11", "produced_on": date(2026, 11, 3), "quantity": 1800},
        ),
    },
    {
        "supplier": "mwangaza-home",
        "publish": True,
        # No GTIN: sold at markets without a barcode, so it is found by its internal identifier under /p/<id>.
        "data": {
            "name": "Enamel Mug 350 ml",
            "slug": "enamel-mug-350",
            "category": Category.HOUSEHOLD,
            "description": (
                "A 350 ml mug of sheet steel coated inside and out with glass enamel fired at 820 °C, with a rolled "
                "stainless-steel rim. Made in small runs in white, with a blue rim."
            ),
            "use": (
                "For hot and cold drinks at home or when camping. It can stand on a camping stove or embers to warm "
                "a drink; it must not go in a microwave."
            ),
            "care": (
                "Dishwasher-safe, though washing by hand keeps the gloss longer. Enamel is glass: knocks against "
                "stone or a fall onto a hard floor can chip it."
            ),
            "repair": (
                "A chip on the outside can be sealed with a dab of enamel repair paint to stop rust. A chip inside "
                "cannot be repaired safely: keep the mug for pens or plants instead."
            ),
            "end_of_life": (
                "Put it in scrap-metal collection: the enamel burns off in the furnace and the steel is recycled."
            ),
        },
        "declarations": (
            _risk(
                Topic.SAFETY,
                "Metal carries heat: with a hot drink the mug and its handle get hot, and hotter still on a stove. "
                "Hold it with a cloth.",
            ),
            _risk(
                Topic.HEALTH,
                "If the enamel inside chips, the steel beneath rusts and the loose chips are sharp glass. Stop "
                "drinking from a mug that is chipped inside.",
            ),
            _risk(
                Topic.HEALTH,
                "Some enamels contain lead or cadmium. A lab tested what our enamel releases into hot, acidic "
                "drinks and found neither above its detection limit.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/mwangaza-home/enamel-leach-test-2026",
            ),
            _benefit(
                Topic.HEALTH,
                "No plastic or coating touches your drink, only glass enamel, which does not take on tastes or smells.",
            ),
            _benefit(
                Topic.ENVIRONMENT,
                "If it is not dropped, it lasts for decades and replaces many paper or plastic cups.",
            ),
        ),
        "batches": (
            {"lot": "EM-2601", "produced_on": date(2026, 1, 28), "quantity": 300},
            {"lot": "EM-2607", "produced_on": date(2026, 7, 9), "quantity": 450},
        ),
    },
    {
        "supplier": "mwangaza-home",
        "publish": True,
        "data": {
            "name": "Shea & Lemongrass Hand Soap",
            "slug": "shea-lemongrass-hand-soap",
            "category": Category.PERSONAL_CARE,
            "gtin": _gtin("300030002"),
            "description": (
                "A 100 g bar of hand soap made with shea butter from women's groups in northern Uganda, coconut "
                "and palm-kernel oil, scented with lemongrass oil."
            ),
            "use": "For washing hands and body. Lather between wet hands for 20 seconds, then rinse.",
            "care": (
                "Let it dry between uses on a soap dish with drainage holes; it lasts about six weeks of daily "
                "hand washing in a family of four."
            ),
            "repair": "Press the last thin sliver onto the wet face of a new bar and it will fuse with it.",
            "end_of_life": (
                "The soap breaks down in a working sewage system. The paper band can be composted or recycled with "
                "paper."
            ),
        },
        "declarations": (
            _risk(
                Topic.HEALTH,
                "Lemongrass oil contains citral and limonene, which cause allergic skin reactions in some people. "
                "If perfumes irritate your skin, try the soap on a small patch first.",
            ),
            _risk(
                Topic.ENVIRONMENT,
                "It contains palm-kernel oil from plantations in Southeast Asia that we cannot yet trace; oil palm "
                "plantations have replaced tropical forest.",
            ),
            _benefit(
                Topic.COMMUNITY,
                "We agree the price for shea butter with the women's groups before each season and pay half of it "
                "in advance, when cash is scarcest.",
                Level.DOCUMENTED,
                f"{EVIDENCE}/mwangaza-home/shea-contracts-2026",
            ),
            _benefit(
                Topic.HEALTH,
                "Some of the shea butter is left unreacted in the bar, so it dries the skin less than ordinary soap.",
            ),
        ),
        "batches": (
            {"lot": "HS26-03", "produced_on": date(2026, 3, 11), "quantity": 900},
            {"lot": "HS26-09", "produced_on": date(2026, 9, 2), "quantity": 1200},
        ),
    },
)


class Writer(Protocol):
    def write(self, msg: str, /) -> object: ...


@dataclass
class DemoSummary:
    """What one run of `seed` created; all zero when the demo catalog was already there."""

    suppliers: int = 0
    members: int = 0
    products: int = 0
    declarations: int = 0
    batches: int = 0
    users: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, field.name) for field in fields(self))

    def __str__(self) -> str:
        if not self.total:
            return "nothing to do: the demo catalog is already there"
        counts = (f"{getattr(self, field.name)} {field.name}" for field in fields(self) if getattr(self, field.name))
        return "created " + ", ".join(counts)


def _user(spec: Mapping[str, Any], summary: DemoSummary, say: Writer) -> User:
    user = User.objects.filter(email=spec["email"]).first()
    if user is None:
        user = user_sign_up(email=spec["email"], password=DEMO_PASSWORD, display_name=spec["display_name"])
        summary.users += 1
        say.write(f"user {user.email}\n")
    if spec.get("operator") and not (user.is_staff and user.is_superuser):
        # Operator rights are granted by whoever deploys the network, never through a shopper-facing service, so
        # there is no service for it; this is the one write the demo makes directly.
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return user


def _supplier(spec: Mapping[str, Any], users: Mapping[str, User], summary: DemoSummary, say: Writer) -> Supplier:
    supplier = Supplier.objects.filter(slug=spec["slug"]).first()
    if supplier is None:
        supplier = supplier_create(slug=spec["slug"], **spec["data"])
        summary.suppliers += 1
        say.write(f"supplier {supplier.legal_name}\n")
    for email, role in spec["members"]:
        # An existing membership is left alone, even with another role: re-seeding must not undo changes made in
        # the dashboard.
        if not SupplierMember.objects.filter(supplier=supplier, user=users[email]).exists():
            supplier_member_add(supplier=supplier, email=email, role=role, actor=None)
            summary.members += 1
    return supplier


def _product(spec: Mapping[str, Any], supplier: Supplier, summary: DemoSummary, say: Writer) -> None:
    product = Product.objects.filter(supplier=supplier, slug=spec["data"]["slug"]).first()
    created = product is None
    if product is None:
        product = product_create(supplier=supplier, **spec["data"])
        summary.products += 1
        say.write(f"product {product.name}\n")
    for declaration in spec["declarations"]:
        key = {name: declaration[name] for name in ("kind", "topic", "statement")}
        if not Declaration.objects.filter(product=product, **key).exists():
            declaration_create(product=product, **declaration)
            summary.declarations += 1
    for batch in spec["batches"]:
        if not Batch.objects.filter(product=product, lot=batch["lot"]).exists():
            batch_create(product=product, **batch)
            summary.batches += 1
    # Only a product made in this run is published, so a demo product someone took off public view stays off.
    if created and spec["publish"]:
        product_publish(product=product)


@transaction.atomic
def seed(*, stdout: Writer | None = None) -> DemoSummary:
    """Create the demo suppliers, people, products, declarations and batches that are missing; idempotent."""
    say = stdout or io.StringIO()
    summary = DemoSummary()
    users = {spec["email"]: _user(spec, summary, say) for spec in USERS}
    suppliers = {spec["slug"]: _supplier(spec, users, summary, say) for spec in SUPPLIERS}
    for spec in PRODUCTS:
        _product(spec, suppliers[spec["supplier"]], summary, say)
    return summary
