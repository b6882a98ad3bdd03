"""What purchases puts on the dashboard's home: orders to confirm and to hand over (soonest deadline first, with
the deadline), disputes waiting for the supplier's answer, and for operators disputes waiting for a decision."""

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from core.dashboard import AttentionItem
from purchases import services
from purchases.models import Means
from tests.products.factories import SupplierFactory
from tests.purchases.factories import buyer, next_weekday, order, shop

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")


def home(client) -> list[AttentionItem]:
    response = client.get(HOME)
    assert response.status_code == 200
    return list(response.context["attention"])


def of_purchases(items: list[AttentionItem]) -> list[AttentionItem]:
    return [item for item in items if "/purchases/" in item.url]


def deadline(placed) -> str:
    return dateformat.format(timezone.localtime(placed.dispatch_by), "D j M, H:i")


@pytest.fixture
def own_shop(owner):
    return shop(supplier=owner.supplier, owner=owner.user, quantity=100)


@pytest.fixture
def other_shop(other_member):
    return shop(supplier=other_member.supplier, owner=other_member.user, quantity=100)


def disputed(s):
    who = buyer()
    placed = order(s, who)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=who)
    return services.dispute_open(order=placed, actor=who, reason="unsafe", description="The seal was broken.")


def test_an_order_to_confirm_links_to_its_page_with_its_deadline(owner, own_shop):
    placed = order(own_shop, buyer(), payment=Means.CASH)
    [item] = of_purchases(home(owner.client))
    assert item.title == f"Order #{placed.pk} to confirm"
    assert f"Hand it over by {deadline(placed)}, or it is cancelled." in item.detail
    assert "€4.50, pick-up as soon as possible" in item.detail
    assert item.url == reverse("admin:purchases_order_change", args=[placed.pk])
    assert item.action == "Confirm it"
    assert item.day == timezone.localdate(placed.placed_at)
    assert owner.client.get(item.url).status_code == 200


def test_several_orders_are_one_item_soonest_deadline_first(owner, own_shop):
    later = order(own_shop, buyer(), day=next_weekday(5))
    sooner = [order(own_shop, buyer()) for _ in range(2)]
    [item] = of_purchases(home(owner.client))
    assert item.title == "3 orders to confirm"
    expected = sorted([later, *sooner], key=lambda o: (o.dispatch_by, o.pk))
    listed = "; ".join(f"#{o.pk} by {deadline(o)}" for o in expected)
    assert item.detail == f"Soonest deadline first: {listed}. An order not handed over by then is cancelled."
    response = owner.client.get(item.url)
    assert list(response.context["cl"].result_list) == expected


def test_confirmed_orders_are_to_hand_over_and_handed_over_ones_leave_the_home(owner, own_shop):
    placed = [order(own_shop, buyer()) for _ in range(7)]
    for one in placed[:6]:
        services.order_confirm(order=one, actor=owner.user)
    services.order_ready(order=placed[0], actor=owner.user)
    items = {item.title: item for item in of_purchases(home(owner.client))}
    assert set(items) == {f"Order #{placed[6].pk} to confirm", "5 orders to hand over"}
    assert items["5 orders to hand over"].action == "Hand them over"
    assert items["5 orders to hand over"].detail.count("#") == 5


def test_more_orders_than_shown_say_how_many_more(owner, own_shop):
    for _ in range(7):
        order(own_shop, buyer())
    [item] = of_purchases(home(owner.client))
    assert item.title == "7 orders to confirm"
    assert "; and 2 more." in item.detail


def test_another_suppliers_orders_and_disputes_stay_off_the_home(owner, other_member, own_shop, other_shop):
    order(other_shop, buyer())
    disputed(other_shop)
    assert of_purchases(home(owner.client)) == []
    assert {item.supplier_name for item in of_purchases(home(other_member.client))} == {"Other Textiles SA"}


def test_an_open_dispute_asks_the_supplier_to_answer(owner, own_shop):
    dispute = disputed(own_shop)
    [item] = of_purchases(home(owner.client))
    assert item.title == f"A problem reported with order #{dispute.order_id}: unsafe"
    assert "“The seal was broken.”" in item.detail
    assert item.url == reverse("admin:purchases_dispute_change", args=[dispute.pk])
    assert item.action == "Answer"
    services.dispute_answer(dispute=dispute, actor=owner.user, response="We recalled the lot.")
    assert of_purchases(home(owner.client)) == []


def test_operators_see_disputes_waiting_for_a_decision(operator, owner, own_shop, other_shop):
    answered = disputed(own_shop)
    services.dispute_answer(dispute=answered, actor=owner.user, response="We recalled the lot.")
    unanswered = disputed(other_shop)
    items = [item for item in of_purchases(home(operator.client)) if item.action == "Decide"]
    assert {item.url for item in items} == {
        reverse("admin:purchases_dispute_change", args=[answered.pk]),
        reverse("admin:purchases_dispute_change", args=[unanswered.pk]),
    }
    texts = " ".join(item.detail for item in items)
    assert "Own Cocoa Co has answered: “We recalled the lot.”" in texts
    assert "Not answered by Other Textiles SA yet." in texts
    assert not [item for item in of_purchases(home(operator.client)) if item.action == "Answer"]


def _orders_and_disputes(s, n: int) -> None:
    for _ in range(n):
        order(s, buyer(), payment=Means.CASH)
        confirmed = order(s, buyer())
        services.order_confirm(order=confirmed, actor=s.owner)
    disputed(s)


# The session, the user, the access, every app's providers (purchases: one for the orders, one for the disputes), the
# permissions for the app list (members only), the recent actions.
@pytest.mark.parametrize(("persona", "queries"), [("owner", 16), ("operator", 13)])  # reviews: +2 (+1)
def test_home_query_count_does_not_grow_with_orders_or_disputes(
    persona, queries, request, owner, operator, own_shop, other_shop, django_assert_num_queries
):
    client = request.getfixturevalue(persona).client
    _orders_and_disputes(own_shop, 1)
    _orders_and_disputes(other_shop, 1)
    client.get(HOME)
    with django_assert_num_queries(queries):
        few = of_purchases(home(client))
    more = shop(supplier=SupplierFactory(), quantity=100)
    for s in (own_shop, other_shop, more):
        _orders_and_disputes(s, 4)
    with django_assert_num_queries(queries):
        many = of_purchases(home(client))
    assert len(many) > len(few)
