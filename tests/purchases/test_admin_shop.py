"""The shop in the supplier dashboard (offers, terms of sale, windows, closures, price splits) and the services behind
it: prices typed in major units and credits in credits, the person's own products, batches and facilities only,
another supplier's rows never seen, every rule refused with a message on the form."""

import datetime
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from products.models import SupplierMember
from purchases import services
from purchases.models import Closure, Offer, PriceSplit, SalesTerms, Window
from purchases.refusals import OrderRefused
from tests.accounts.factories import UserFactory
from tests.products.factories import BatchFactory, SupplierFactory, SupplierMemberFactory, public_product
from tests.purchases.factories import next_weekday, shop

pytestmark = pytest.mark.django_db

MODELS = ["offer", "salesterms", "window", "closure", "pricesplit"]


def url(model: str, name: str, *args) -> str:
    return reverse(f"admin:purchases_{model}_{name}", args=args)


class _FormReader(HTMLParser):
    """What a browser sends back for the page's main form, unchanged."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if tag == "option" and self.inside and self.select and "selected" in a:
            self.data[self.select] = a.get("value") or ""
        if not self.inside or not a.get("name"):
            return
        name = a["name"]
        if tag == "input" and a.get("type") not in ("submit", "button", "checkbox", "radio", "file"):
            self.data[name] = a.get("value") or ""
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.data[name] = a.get("value") or "on"
        elif tag == "select":
            self.select = name
            self.data.setdefault(name, "")
        elif tag == "textarea":
            self.textarea = name
            self.data[name] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.data[self.textarea] += data.lstrip("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def sent_back(client: Client, page: str, form_id: str, **changes) -> dict:
    """The form on `page` as its browser sends it back, with `changes` typed in (None: a box left unticked)."""
    reader = _FormReader(form_id)
    reader.feed(client.get(page).content.decode())
    data = {k: v for k, v in reader.data.items() if k != "csrfmiddlewaretoken"}
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def errors_of(response) -> dict:
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


@pytest.fixture
def own_shop(owner):
    return shop(supplier=owner.supplier, owner=owner.user)


@pytest.fixture
def other_shop(other_member):
    return shop(supplier=other_member.supplier, owner=other_member.user)


# Every page, for the owner and for an operator ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "operator"])
def test_every_shop_page_renders(persona, request, own_shop):
    client = request.getfixturevalue(persona).client
    PriceSplit.objects.create(product=own_shop.batch.product, producers=40, processing=30, transport=10, retail=20)
    Closure.objects.create(supplier=own_shop.supplier, day=timezone.localdate() + datetime.timedelta(days=3))
    rows = {
        "offer": own_shop.offer,
        "salesterms": own_shop.terms,
        "window": own_shop.pickup,
        "closure": Closure.objects.get(),
        "pricesplit": PriceSplit.objects.get(),
    }
    for model in MODELS:
        assert client.get(url(model, "changelist")).status_code == 200, model
        assert client.get(url(model, "change", rows[model].pk)).status_code == 200, model
        if model != "salesterms":  # one row per supplier: the owner's is already there
            assert client.get(url(model, "add")).status_code == 200, model


def test_member_of_other_supplier_never_sees_the_shop(other_member, own_shop, other_shop):
    PriceSplit.objects.create(product=own_shop.batch.product, producers=40, processing=30, transport=10, retail=20)
    closure = Closure.objects.create(supplier=own_shop.supplier, day=timezone.localdate())
    rows = {
        "offer": own_shop.offer,
        "salesterms": own_shop.terms,
        "window": own_shop.pickup,
        "closure": closure,
        "pricesplit": PriceSplit.objects.get(),
    }
    client = other_member.client
    for model, row in rows.items():
        listed = list(client.get(url(model, "changelist")).context["cl"].result_list)
        assert row not in listed, model
        assert client.get(url(model, "change", row.pk)).status_code == 404, model
        assert client.post(url(model, "change", row.pk), {"reason": "x", "active": ""}).status_code == 404, model
    assert client.post(url("closure", "delete", closure.pk), {"post": "yes"}).status_code == 404
    assert Closure.objects.filter(pk=closure.pk).exists()
    assert Offer.objects.get(pk=own_shop.offer.pk).active


# Offers ---------------------------------------------------------------------------------------------------------------


def test_owner_offers_a_batch_with_prices_typed_in_major_units(owner, own_shop):
    batch = BatchFactory(product=own_shop.batch.product, lot="CH-0117")
    data = sent_back(
        owner.client,
        url("offer", "add"),
        "offer_form",
        product=str(batch.product_id),
        batch=str(batch.pk),
        price="4.50",
        currency="eur",
        price_credits="5",
    )
    response = owner.client.post(url("offer", "add"), data)
    assert response.status_code == 302, errors_of(response)
    offer = Offer.objects.get(batch=batch)
    assert (offer.price, offer.currency, offer.price_credits, offer.active) == (450, "EUR", 500, True)

    page = owner.client.get(url("offer", "change", offer.pk)).content.decode()
    assert 'value="4.50"' in page
    assert 'value="5.00"' in page
    listed = owner.client.get(url("offer", "changelist")).content.decode()
    assert "€4.50" in listed
    assert "5.00 credits" in listed
    assert "lot CH-0117" in listed


def test_owner_changes_a_price_and_the_currency_with_it(owner, own_shop):
    page = url("offer", "change", own_shop.offer.pk)
    response = owner.client.post(page, sent_back(owner.client, page, "offer_form", price="1200", currency="JPY"))
    assert response.status_code == 302, errors_of(response)
    offer = Offer.objects.get(pk=own_shop.offer.pk)
    assert (offer.price, offer.currency, offer.price_credits) == (1200, "JPY", 500)
    # Only the credits change: the amount in yen stays as typed.
    response = owner.client.post(page, sent_back(owner.client, page, "offer_form", price_credits="7.25"))
    offer.refresh_from_db()
    assert (offer.price, offer.currency, offer.price_credits) == (1200, "JPY", 725)


@pytest.mark.parametrize(
    ("price", "currency", "field", "message"),
    [
        ("4,50", "EUR", "price", "Write the decimals with a point: 4.50."),
        ("4.505", "EUR", "price", "Write an amount of EUR like 4.50 (at most the currency's decimals)."),
        ("4.5", "JPY", "price", "Write an amount of JPY like 4.50 (at most the currency's decimals)."),
        ("four", "EUR", "price", "Write an amount of EUR like 4.50 (at most the currency's decimals)."),
        ("0", "EUR", "price", "A price is more than zero."),
        ("4.50", "", "currency", "Give the currency of the price."),
        ("4.50", "EUX", "currency", "EUX is not an ISO 4217 currency."),
    ],
)
def test_a_price_that_is_not_an_amount_is_refused_on_the_form(owner, own_shop, price, currency, field, message):
    page = url("offer", "change", own_shop.offer.pk)
    response = owner.client.post(page, sent_back(owner.client, page, "offer_form", price=price, currency=currency))
    assert response.status_code == 200
    assert message in errors_of(response)[field]
    assert Offer.objects.get(pk=own_shop.offer.pk).price == 450


def test_an_offer_with_no_price_at_all_is_refused(owner, own_shop):
    page = url("offer", "change", own_shop.offer.pk)
    response = owner.client.post(page, sent_back(owner.client, page, "offer_form", price="", price_credits=""))
    assert response.status_code == 200
    assert "Give a price in hard currency, in credits, or both." in str(errors_of(response))


def test_offer_choices_are_only_the_members_own_products_and_batches(owner, own_shop, other_shop):
    form = owner.client.get(url("offer", "add")).context["adminform"].form
    assert list(form.fields["product"].queryset) == [own_shop.batch.product]
    assert list(form.fields["batch"].queryset) == [own_shop.batch]


def test_an_offer_for_another_suppliers_product_or_batch_is_refused(owner, own_shop, other_shop):
    other_product = other_shop.batch.product
    data = sent_back(owner.client, url("offer", "add"), "offer_form", product=str(other_product.pk), price_credits="5")
    response = owner.client.post(url("offer", "add"), data)
    assert "product" in errors_of(response)
    data |= {"product": str(own_shop.batch.product_id), "batch": str(other_shop.batch.pk)}
    response = owner.client.post(url("offer", "add"), data)
    assert "batch" in errors_of(response)
    assert Offer.objects.count() == 2


def test_a_second_offer_for_every_batch_of_a_product_is_refused_with_a_message(owner, own_shop):
    data = sent_back(
        owner.client, url("offer", "add"), "offer_form", product=str(own_shop.batch.product_id), price_credits="9"
    )
    response = owner.client.post(url("offer", "add"), data)
    assert errors_of(response)["batch"] == [
        f"{own_shop.batch.product.name} already has an offer for every batch: change that one, or choose a batch."
    ]


def test_offer_service_refuses_another_suppliers_product_and_batch(own_shop, other_shop):
    with pytest.raises(OrderRefused) as refused:
        services.offer_save(supplier=own_shop.supplier, product=other_shop.batch.product, price_credits=100)
    assert refused.value.message_dict == {
        "product": [f"{other_shop.batch.product.name} is not a product of {own_shop.supplier.legal_name}."]
    }
    product = public_product(supplier=own_shop.supplier)
    with pytest.raises(OrderRefused) as refused:
        services.offer_save(supplier=own_shop.supplier, product=product, batch=other_shop.batch, price_credits=100)
    assert "batch" in refused.value.message_dict
    with pytest.raises(OrderRefused) as refused:
        services.offer_save(supplier=own_shop.supplier, offer=other_shop.offer, price_credits=100)
    assert refused.value.code == "not_found"
    assert Offer.objects.get(pk=other_shop.offer.pk).price_credits == 500


def test_offer_service_drops_the_currency_with_the_price(own_shop):
    offer = services.offer_save(supplier=own_shop.supplier, offer=own_shop.offer, price=None)
    offer.refresh_from_db()
    assert (offer.price, offer.currency, offer.price_credits) == (None, "", 500)


# Terms of sale --------------------------------------------------------------------------------------------------------


def test_owner_sets_terms_with_fees_in_both_means(owner):
    data = sent_back(
        owner.client,
        url("salesterms", "add"),
        "salesterms_form",
        supplier=str(owner.supplier.pk),
        currency="EUR",
        delivery_flat="3.00",
        delivery_per_item="0.50",
        delivery_free_above="50",
        delivery_flat_credits="2.50",
        delivery_per_item_credits="",
        delivery_free_above_credits="40",
        dispatch_hours="24",
        payment_instructions="IBAN PT50 0002 0123 1234 5678 9015 4",
    )
    response = owner.client.post(url("salesterms", "add"), data)
    assert response.status_code == 302, errors_of(response)
    terms = SalesTerms.objects.get(supplier=owner.supplier)
    assert (terms.delivery_flat, terms.delivery_per_item, terms.delivery_free_above) == (300, 50, 5000)
    assert (terms.delivery_flat_credits, terms.delivery_per_item_credits, terms.delivery_free_above_credits) == (
        250,
        0,
        4000,
    )
    assert terms.dispatch_hours == 24
    listed = owner.client.get(url("salesterms", "changelist")).content.decode()
    assert "€3.00 + €0.50 per unit; free from €50.00" in listed
    assert "2.50 credits; free from 40.00 credits" in listed
    page = owner.client.get(url("salesterms", "change", terms.pk)).content.decode()
    assert 'value="3.00"' in page
    assert 'value="50.00"' in page
    assert 'value="2.50"' in page


def test_a_supplier_with_terms_changes_them_instead_of_adding_more(owner, own_shop):
    response = owner.client.get(url("salesterms", "add"))
    assert response.status_code == 302
    assert response.url == url("salesterms", "change", own_shop.terms.pk)


def test_terms_change_keeps_amounts_with_their_currency(owner, own_shop):
    page = url("salesterms", "change", own_shop.terms.pk)
    response = owner.client.post(page, sent_back(owner.client, page, "salesterms_form", currency="GHS"))
    assert response.status_code == 302, errors_of(response)
    terms = SalesTerms.objects.get(pk=own_shop.terms.pk)
    assert (terms.currency, terms.delivery_flat, terms.delivery_free_above) == ("GHS", 300, 5000)
    response = owner.client.post(page, sent_back(owner.client, page, "salesterms_form", delivery_flat="3,5"))
    assert errors_of(response)["delivery_flat"] == ["Write the decimals with a point: 3.5."]


# Windows --------------------------------------------------------------------------------------------------------------


def test_window_facilities_are_the_suppliers_own(owner, own_shop, other_shop):
    form = owner.client.get(url("window", "add")).context["adminform"].form
    assert [value for value, _ in form.fields["facility_id"].choices if value] == [own_shop.facility.pk]
    data = sent_back(
        owner.client,
        url("window", "add"),
        "window_form",
        supplier=str(owner.supplier.pk),
        method="pickup",
        facility_id=str(other_shop.facility.pk),
        weekday="4",
        starts_at="16:00",
        ends_at="19:00",
        cutoff_hours="12",
    )
    response = owner.client.post(url("window", "add"), data)
    assert "facility_id" in errors_of(response)
    assert not Window.objects.filter(weekday=4).exists()
    data["facility_id"] = str(own_shop.facility.pk)
    response = owner.client.post(url("window", "add"), data)
    assert response.status_code == 302, errors_of(response)
    window = Window.objects.get(weekday=4)
    assert (window.facility_id, window.cutoff_hours, window.starts_at) == (
        own_shop.facility.pk,
        12,
        datetime.time(16),
    )


def test_window_service_refuses_another_suppliers_facility(own_shop, other_shop):
    with pytest.raises(OrderRefused) as refused:
        services.window_save(
            supplier=own_shop.supplier,
            method="pickup",
            facility_id=other_shop.facility.pk,
            weekday=1,
            starts_at=datetime.time(9),
            ends_at=datetime.time(10),
        )
    assert refused.value.message_dict == {
        "facility_id": [f"Facility {other_shop.facility.pk} is not one of {own_shop.supplier.legal_name}'s facilities."]
    }
    with pytest.raises(OrderRefused):
        services.window_save(supplier=own_shop.supplier, window=other_shop.pickup, cutoff_hours=1)
    assert Window.objects.get(pk=other_shop.pickup.pk).cutoff_hours == 24


def test_a_window_ends_after_it_starts(owner, own_shop):
    page = url("window", "change", own_shop.pickup.pk)
    response = owner.client.post(page, sent_back(owner.client, page, "window_form", ends_at="08:00"))
    assert response.status_code == 200
    assert "A window ends after it starts." in str(errors_of(response))


def test_windows_show_the_next_days_they_offer_and_skip_closures(owner, own_shop):
    saturday = next_weekday(5)
    services.closure_save(supplier=own_shop.supplier, day=saturday, reason="Harvest festival")
    listed = owner.client.get(url("window", "changelist")).content.decode()
    after = saturday + datetime.timedelta(days=7)
    assert after.strftime("Sat %-d %b") in listed
    assert saturday.strftime("Sat %-d %b") not in listed
    assert own_shop.facility.name in listed
    page = owner.client.get(url("window", "change", own_shop.pickup.pk)).content.decode()
    assert after.strftime("Sat %-d %b") in page


def test_an_operator_adding_a_window_chooses_the_supplier_first(operator, own_shop):
    page = operator.client.get(url("window", "add"))
    assert page.context["adminform"].form.fields["facility_id"].choices == [("", "---------")]
    data = sent_back(
        operator.client,
        url("window", "add"),
        "window_form",
        supplier=str(own_shop.supplier.pk),
        method="delivery",
        weekday="0",
        starts_at="08:00",
        ends_at="12:00",
        cutoff_hours="24",
    )
    response = operator.client.post(url("window", "add"), data)  # the facility is still to choose: the list now
    assert response.status_code == 200
    choices = response.context["adminform"].form.fields["facility_id"].choices
    assert [value for value, _ in choices if value] == [own_shop.facility.pk]


# Closures -------------------------------------------------------------------------------------------------------------


def test_owner_closes_a_day_and_opens_it_again(owner, own_shop):
    day = timezone.localdate() + datetime.timedelta(days=10)
    data = sent_back(
        owner.client, url("closure", "add"), "closure_form", supplier=str(owner.supplier.pk), day=day.isoformat(),
        reason="  Staff   holiday ",
    )  # fmt: skip
    response = owner.client.post(url("closure", "add"), data)
    assert response.status_code == 302, errors_of(response)
    closure = Closure.objects.get()
    assert (closure.day, closure.reason) == (day, "Staff holiday")
    response = owner.client.post(url("closure", "add"), data)
    assert errors_of(response) == {"__all__": ["Closure with this Supplier and Day already exists."]}
    with pytest.raises(OrderRefused) as refused:
        services.closure_save(supplier=owner.supplier, day=day)
    assert refused.value.message_dict == {"day": [f"{owner.supplier.legal_name} is already closed on {day:%d %b %Y}."]}
    assert owner.client.post(url("closure", "delete", closure.pk), {"post": "yes"}).status_code == 302
    assert not Closure.objects.exists()


def test_a_closure_in_the_past_is_refused(owner, own_shop):
    with pytest.raises(OrderRefused) as refused:
        services.closure_save(supplier=own_shop.supplier, day=timezone.localdate() - datetime.timedelta(days=1))
    assert refused.value.message_dict == {"day": ["That day is past: choose today or a day ahead."]}


def test_closure_service_refuses_another_suppliers_closure(own_shop, other_shop):
    theirs = services.closure_save(supplier=other_shop.supplier, day=timezone.localdate())
    with pytest.raises(OrderRefused):
        services.closure_delete(supplier=own_shop.supplier, closure=theirs)
    assert Closure.objects.filter(pk=theirs.pk).exists()


# Price splits ---------------------------------------------------------------------------------------------------------


def test_price_split_shares_must_add_up_to_100(owner, own_shop):
    product = own_shop.batch.product
    fields = {"product": str(product.pk), "producers": "40", "processing": "30", "transport": "10", "retail": "10"}
    data = sent_back(owner.client, url("pricesplit", "add"), "pricesplit_form", **fields)
    response = owner.client.post(url("pricesplit", "add"), data)
    assert response.status_code == 200
    assert "The shares add up to 90 %; they must add up to 100 %." in str(errors_of(response))
    assert not PriceSplit.objects.exists()
    response = owner.client.post(url("pricesplit", "add"), data | {"retail": "20"})
    assert response.status_code == 302, errors_of(response)
    split = PriceSplit.objects.get(product=product)
    assert [share for _, share in split.shares()] == [40, 30, 10, 20]


def test_price_split_products_are_the_members_own(owner, own_shop, other_shop):
    form = owner.client.get(url("pricesplit", "add")).context["adminform"].form
    assert list(form.fields["product"].queryset) == [own_shop.batch.product]
    with pytest.raises(OrderRefused):
        services.price_split_save(
            supplier=own_shop.supplier,
            product=other_shop.batch.product,
            producers=25,
            processing=25,
            transport=25,
            retail=25,
        )
    assert not PriceSplit.objects.exists()


def test_a_documented_split_needs_its_evidence(own_shop):
    with pytest.raises(OrderRefused) as refused:
        services.price_split_save(
            supplier=own_shop.supplier,
            product=own_shop.batch.product,
            producers=25,
            processing=25,
            transport=25,
            retail=25,
            evidence_level="documented",
        )
    assert "evidence_url" in refused.value.message_dict


def test_viewer_reads_the_shop_but_changes_nothing(own_supplier, owner, own_shop):
    viewer = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    assert client.get(url("offer", "change", own_shop.offer.pk)).status_code == 200
    assert client.get(url("offer", "add")).status_code == 403
    client.post(url("offer", "change", own_shop.offer.pk), {"price": "1.00", "currency": "EUR"})
    assert Offer.objects.get(pk=own_shop.offer.pk).price == 450
    assert client.get(url("window", "add")).status_code == 403


def test_another_supplier_cannot_be_chosen_for_a_closure(owner, other_supplier):
    SupplierFactory()
    form = owner.client.get(url("closure", "add")).context["adminform"].form
    assert list(form.fields["supplier"].queryset) == [owner.supplier]
    data = sent_back(
        owner.client, url("closure", "add"), "closure_form", supplier=str(other_supplier.pk),
        day=timezone.localdate().isoformat(),
    )  # fmt: skip
    response = owner.client.post(url("closure", "add"), data)
    assert "supplier" in errors_of(response)
    assert not Closure.objects.exists()
