"""My orders and an order's page: the list, the whole timeline with who and when, the guarantee, deadlines in words,
and the buyer's actions — each a POST form with CSRF, shown only in the state that allows it. Someone else's order
is a 404."""

import datetime
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from network_credits.models import Hold
from purchases import services
from purchases.models import Dispute, Means, Method, Order, Stock, Window
from tests.accounts.factories import UserFactory
from tests.purchases.factories import account_of, buyer, next_weekday, order, shop, supplier_account_of

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def text(html: str) -> str:
    """The words of some HTML, as read: tags dropped, spaces collapsed, none before a full stop or comma."""
    return re.sub(r" ([.,;:])", r"\1", " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split()))


def shown(client, placed: Order) -> str:
    response = client.get(placed.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def post(client, placed: Order, action: str, data: dict | None = None, **kwargs):
    """Send one of the order page's forms as a browser would: with the CSRF token the page gave."""
    body = shown(client, placed)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    path = reverse(f"purchases:{action}", kwargs={"order_id": placed.pk})
    return client.post(path, {"csrfmiddlewaretoken": token, **(data or {})}, **kwargs)


def forms_on(body: str) -> set[str]:
    """Which of the buyer's actions the page offers (by the forms' targets)."""
    return set(re.findall(r'action="/orders/\d+/(received|cancel|change|problem)/"', body))


@pytest.fixture
def s():
    return shop(quantity=10)


# My orders


def test_my_orders_lists_each_order_with_its_state_supplier_total_and_date(s):
    who = buyer()
    first = order(s, who, quantity=2, day=next_weekday(5))
    second = order(s, who, payment=Means.CASH, method=Method.DELIVERY)
    order(s, buyer())  # someone else's

    response = signed_in(who).get(reverse("purchases:mine"))

    body = response.content.decode()
    cards = re.findall(r'<li class="order-card state-(\w+)">(.*?)</li>', body, re.S)
    assert [state for state, _ in cards] == ["placed", "placed"]
    newest, oldest = (text(card) for _, card in cards)
    assert f"Order #{second.pk}" in newest
    assert f"Order #{first.pk}" in oldest
    assert s.supplier.legal_name in newest
    assert "€7.50" in newest
    assert "delivery, as soon as possible" in newest
    assert "10.00 credits, guaranteed by the network" in oldest
    assert f"pick-up at {s.facility.name} on {next_weekday(5):%a} {next_weekday(5).day}" in oldest
    assert timezone.localdate().strftime("%-d %b %Y") in oldest
    assert 'href="/orders/"' in body  # "My orders" in the site's navigation
    assert ">My orders</a>" in body


def test_my_orders_says_when_there_are_none():
    body = signed_in(UserFactory()).get(reverse("purchases:mine")).content.decode()

    assert "You have not ordered anything yet." in body


@pytest.mark.parametrize("count", [1, 6])
def test_my_orders_costs_a_fixed_number_of_queries(s, django_assert_num_queries, count):
    who = buyer()
    for n in range(count):
        order(s, who, payment=Means.CREDITS if n % 2 else Means.CASH)
    client = signed_in(who)

    # The session and its user, whether the user is a supplier's member (the navigation), the count for the pages,
    # the orders with their supplier, buyer, hold, dispute and cash payment, and their lines with batch and product.
    with django_assert_num_queries(6):
        body = client.get(reverse("purchases:mine")).content.decode()

    assert body.count('class="order-card') == count


def test_my_orders_needs_a_log_in():
    response = Client().get(reverse("purchases:mine"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/orders/"


# An order's page


def test_the_order_page_shows_the_lines_the_way_the_day_the_guarantee_and_deadlines_in_words(s):
    who = buyer()
    saturday = next_weekday(5)
    placed = order(s, who, quantity=2, day=saturday)

    body = shown(signed_in(who), placed)

    page = text(body)
    assert f"Order #{placed.pk}" in page
    assert "Placed" in page
    assert f"2 × {s.batch.product.name}, lot {s.batch.lot} 5.00 credits each 10.00 credits" in page
    assert f"Pick-up at {s.facility.name}, 1 Market Road, Kumasi" in page
    assert f"{saturday:%A} {saturday.day} {saturday:%B %Y}, 09:00–13:00" in page
    assert "Bought with network credits: guaranteed by the network." in page
    cutoff = timezone.localtime(placed.changeable_until)
    assert f"You can change or cancel it until {cutoff:%A} {cutoff.day} {cutoff:%B, %H:%M}." in page
    assert "has it ready for pick-up by" in page
    assert "and your credits come back" in page
    assert "Your 10.00 credits are held, not paid" in page


def test_the_timeline_says_who_did_what_and_when_with_notes(s):
    who = buyer(credits=0)
    placed = order(s, who, payment=Means.CASH, day=next_weekday(5))
    services.order_confirm(order=placed, actor=s.owner)
    services.order_reschedule(order=placed, actor=who, day=next_weekday(5) + datetime.timedelta(days=7))
    services.order_ready(order=placed, actor=s.owner, note="On the shelf by the door.")

    body = shown(signed_in(who), placed)

    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', body, re.S).group(1)
    steps = [text(step) for step in re.findall(r'<li class="step[^"]*">(.*?)</li>', timeline, re.S)]
    assert [step.split(" by ")[0].split(", ", 1)[1].split(" ", 1)[1] for step in steps] == [
        "Ordered",
        "Confirmed",
        "Changed",
        "Ready for pick-up",
    ]
    assert steps[0].endswith("by You")
    assert "by " + s.supplier.legal_name in steps[1]
    assert "Now for" in steps[2]
    assert "On the shelf by the door." in steps[3]
    assert timezone.localtime(placed.placed_at).strftime("%-d %b %Y, %H:%M") in steps[0]


def test_a_cash_order_has_no_guarantee_line_and_says_how_to_pay(s):
    s.terms.payment_instructions = "Pay by transfer to PT50 0002 0123 1234 5678 9015 4."
    s.terms.save()
    who = buyer(credits=0)
    placed = order(s, who, payment=Means.CASH, method=Method.DELIVERY, cash_method="bank_transfer")

    page = text(shown(signed_in(who), placed))

    assert "guaranteed by the network" not in page
    assert f"Pay the €7.50 by bank transfer. {s.supplier.legal_name} says how: Pay by transfer to PT50" in page
    assert "Card numbers are never asked for here." in page
    assert "Delivery to Ama Mensah, 12 Palm Street, AK-039 Kumasi, Ghana" in page
    assert "Delivery €3.00" in page
    assert "Total €7.50" in page


def test_someone_elses_order_is_a_404_to_read_and_to_act_on(s, other_member):
    placed = order(s, buyer(), day=next_weekday(5))
    intruder = signed_in(buyer())
    token_page = intruder.get(reverse("purchases:mine")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', token_page).group(1)

    assert intruder.get(placed.get_absolute_url()).status_code == 404
    assert other_member.client.get(placed.get_absolute_url()).status_code == 404
    for action in ("deliver", "cancel", "reschedule", "dispute"):
        path = reverse(f"purchases:{action}", kwargs={"order_id": placed.pk})
        assert intruder.post(path, {"csrfmiddlewaretoken": token, "reason": "x"}).status_code == 404, action
    placed.refresh_from_db()
    assert placed.state == Order.State.PLACED


def test_the_suppliers_owner_reads_the_order_without_the_buyers_forms(s):
    placed = order(s, buyer(), day=next_weekday(5))
    client = Client()
    client.force_login(s.owner)

    body = shown(client, placed)

    assert forms_on(body) == set()
    assert "act on it in the dashboard" in body


def test_actions_need_a_csrf_token(s):
    who = buyer()
    placed = order(s, who, day=next_weekday(5))

    response = signed_in(who).post(reverse("purchases:cancel", kwargs={"order_id": placed.pk}))

    assert response.status_code == 403
    placed.refresh_from_db()
    assert placed.state == Order.State.PLACED


def test_everything_people_write_on_an_order_is_escaped(s):
    who = buyer()
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner, note="<script>alert('note')</script>")
    services.dispute_open(order=placed, actor=who, reason="not_as_described", description="<img src=x onerror=1>")

    body = shown(signed_in(who), placed)

    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=1&gt;" in body


# The right forms in the right state


def test_a_placed_order_can_be_changed_or_cancelled_not_received_or_disputed(s):
    who = buyer()
    placed = order(s, who, day=next_weekday(5))

    assert forms_on(shown(signed_in(who), placed)) == {"change", "cancel"}


def test_an_order_ready_for_pick_up_can_be_received_or_disputed_not_cancelled(s):
    who = buyer()
    placed = order(s, who, day=next_weekday(5))
    services.order_ready(order=placed, actor=s.owner)

    body = shown(signed_in(who), placed)

    assert forms_on(body) == {"received", "problem"}
    assert "You can change or cancel" not in body
    assert "the credits are paid to the supplier on" in text(body)
    assert "unless you report a problem" in text(body)


def test_an_order_the_supplier_marked_delivered_can_still_be_confirmed_to_pay_the_credits(s):
    who = buyer()
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=s.owner)  # the supplier records the hand-over: nothing paid yet

    assert forms_on(shown(signed_in(who), placed)) == {"received", "problem"}


def test_a_paid_and_received_order_can_only_be_disputed(s):
    who = buyer()
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=who)

    body = shown(signed_in(who), placed)

    assert forms_on(body) == {"problem"}
    assert "were paid to" in text(body)
    assert "You can report a problem until" in text(body)


def test_a_cancelled_order_offers_nothing_and_says_the_credits_came_back(s):
    who = buyer()
    placed = order(s, who, day=next_weekday(5))
    services.order_cancel(order=placed, actor=who)

    body = shown(signed_in(who), placed)

    assert forms_on(body) == set()
    assert "came back to your credit account" in text(body)
    assert "Nothing more happens to this order." in text(body)


def test_an_order_past_its_cut_off_can_no_longer_be_changed(s):
    who = buyer()
    placed = order(s, who, day=next_weekday(5))
    Order.objects.filter(pk=placed.pk).update(changeable_until=timezone.now() - datetime.timedelta(minutes=1))

    body = shown(signed_in(who), placed)

    assert forms_on(body) == set()
    assert "It can no longer be changed or cancelled from here" in text(body)


# The buyer's actions


def test_confirming_receipt_pays_the_supplier_and_says_so(s):
    who = buyer()
    placed = order(s, who, quantity=2, day=next_weekday(5))
    services.order_ready(order=placed, actor=s.owner)
    client = signed_in(who)

    response = post(client, placed, "deliver", follow=True)

    placed.refresh_from_db()
    assert placed.state == Order.State.DELIVERED
    assert placed.paid_at is not None
    assert supplier_account_of(s.supplier).balance == 1000
    assert "you confirmed you received order" in response.content.decode()
    assert "The credits are paid to the supplier now." in response.content.decode()


def test_confirming_receipt_twice_shows_the_refusal(s):
    who = buyer()
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    client = signed_in(who)
    post(client, placed, "deliver")
    path = reverse("purchases:deliver", kwargs={"order_id": placed.pk})
    token = client.cookies["csrftoken"].value

    response = client.post(path, {"csrfmiddlewaretoken": token})

    assert response.status_code == 409
    assert f"Order #{placed.pk} is delivered: it cannot be marked delivered now." in response.content.decode()
    assert Order.objects.get(pk=placed.pk).events.filter(action="deliver").count() == 1


def test_cancelling_gives_the_stock_and_the_credits_back(s):
    who = buyer()
    placed = order(s, who, quantity=3, day=next_weekday(5))
    client = signed_in(who)

    response = post(client, placed, "cancel", {"reason": "Plans changed."}, follow=True)

    placed.refresh_from_db()
    assert placed.state == Order.State.CANCELLED
    assert placed.hold.state == Hold.State.VOIDED
    assert Stock.objects.get(batch=s.batch).held == 0
    assert account_of(who).pending_debits == 0
    body = response.content.decode()
    assert f"Order #{placed.pk} is cancelled. Your credits are back in your account." in body
    assert "Plans changed." in body


def test_cancelling_a_confirmed_order_for_now_is_refused_in_plain_words(s):
    who = buyer()
    placed = order(s, who)
    client = signed_in(who)
    body = shown(client, placed)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    services.order_confirm(order=placed, actor=s.owner)  # between the page and the click

    response = client.post(reverse("purchases:cancel", kwargs={"order_id": placed.pk}), {"csrfmiddlewaretoken": token})

    assert response.status_code == 409
    assert f"{s.supplier.legal_name} has confirmed order #{placed.pk}; ask them to cancel it." in unescape(
        response.content.decode()
    )
    assert Order.objects.get(pk=placed.pk).state == Order.State.CONFIRMED


def test_changing_the_day_moves_the_order_and_its_deadlines(s):
    who = buyer()
    saturday = next_weekday(5)
    placed = order(s, who, day=saturday)
    later = saturday + datetime.timedelta(days=7)

    response = post(signed_in(who), placed, "reschedule", {"day": later.isoformat()}, follow=True)

    placed.refresh_from_db()
    assert placed.scheduled_for == later
    assert placed.changeable_until.date() == later - datetime.timedelta(days=1)  # the window's cut-off: a day before
    assert f"is now for {later:%A} {later.day} {later:%B}." in response.content.decode()


def test_changing_to_a_day_not_offered_there_is_refused_by_the_day_field(s):
    who = buyer()
    placed = order(s, who, day=next_weekday(5))
    monday = next_weekday(0)

    response = post(signed_in(who), placed, "reschedule", {"day": monday.isoformat()})

    assert response.status_code == 400
    assert re.search(r'id="id_day_error"><p>Select a valid choice', response.content.decode())
    placed.refresh_from_db()
    assert placed.scheduled_for == next_weekday(5)


def test_changing_the_pick_up_point_to_another_of_the_suppliers(s):
    from provenance.services import facility_create

    second = facility_create(owner=s.supplier, name="Market stall", country="GH", address="Stall 4, Central Market")
    Window.objects.create(
        supplier=s.supplier,
        method=Method.PICKUP,
        facility_id=second.pk,
        weekday=Window.Weekday.SATURDAY,
        starts_at=datetime.time(8),
        ends_at=datetime.time(12),
    )
    who = buyer()
    placed = order(s, who, day=next_weekday(5))
    client = signed_in(who)
    assert "Market stall" in shown(client, placed)

    post(client, placed, "reschedule", {"where": f"pickup-{second.pk}", "day": next_weekday(5).isoformat()})

    placed.refresh_from_db()
    assert (placed.facility_id, placed.place_name) == (second.pk, "Market stall")


def test_reporting_a_problem_opens_a_dispute_and_shows_it(s):
    who = buyer()
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)

    response = post(
        signed_in(who),
        placed,
        "dispute",
        {
            "reason": "not_as_described",
            "description": "The bar was broken and melted.",
            "evidence_url": "https://photos.example.org/bar",
        },
        follow=True,
    )

    dispute = Dispute.objects.get(order=placed)
    assert (dispute.reason, dispute.evidence_url) == ("not_as_described", "https://photos.example.org/bar")
    assert Order.objects.get(pk=placed.pk).state == Order.State.DISPUTED
    page = text(response.content.decode())
    assert "Your report on order" in page
    assert "Not as described: The bar was broken and melted." in page
    assert "Open: waiting for the supplier" in page
    assert forms_on(response.content.decode()) == set()


def test_a_report_without_a_description_is_refused_on_its_field(s):
    who = buyer()
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)

    response = post(signed_in(who), placed, "dispute", {"reason": "not_received", "description": ""})

    body = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_description_error"><p>This field is required', body)
    assert '<details class="action" open>' in body
    assert not Dispute.objects.exists()


def test_an_upheld_dispute_after_payment_shows_the_guarantee_refund(s, operator):
    who = buyer()
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=who)
    dispute = services.dispute_open(order=placed, actor=who, reason="unsafe", description="It made me ill.")
    services.dispute_answer(dispute=dispute, actor=s.owner, response="We are sorry.")
    services.dispute_decide(dispute=dispute, actor=operator.user, upheld=True, reason="The lab found mould.")

    page = text(shown(signed_in(who), placed))

    assert "We are sorry." in page
    assert "The lab found mould." in page
    assert "Refunded 5.00 credits, at once, by the network's guarantee fund" in page
    assert "Dispute upheld by The network" in page


@pytest.mark.parametrize("changes", [0, 5])
def test_the_order_page_costs_a_fixed_number_of_queries_however_long_its_timeline(
    s, django_assert_num_queries, changes
):
    who = buyer()
    saturday = next_weekday(5)
    placed = order(s, who, quantity=2, day=saturday)
    for n in range(changes):
        services.order_reschedule(order=placed, actor=who, day=saturday + datetime.timedelta(days=7 * ((n + 1) % 2)))
    client = signed_in(who)

    # The session and its user; who the viewer works for (the order may be their supplier's); the order with its
    # supplier, hold, dispute and cash payment, and its lines with batch and product; the timeline with its actors;
    # the supplier's pick-up points, their facilities, and the point's windows and closures (the days to move to);
    # the navigation's membership check; the order's window.
    with django_assert_num_queries(12):
        body = client.get(placed.get_absolute_url()).content.decode()

    assert body.count('<li class="step') == 1 + changes


def test_a_received_order_links_each_line_to_its_review_form_for_the_buyer_alone(s):
    who = buyer()
    placed = order(s, who)
    review_form = f'href="/batches/{s.batch.pk}/review/"'
    assert review_form not in shown(signed_in(who), placed)  # nothing received yet
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=who)

    assert review_form in shown(signed_in(who), placed)
    assert review_form not in shown(signed_in(s.owner), placed)
