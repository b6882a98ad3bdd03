"""Disputes in the supplier dashboard: the supplier answers on the dispute's page, an operator decides with written
reasons and sees what the network's guarantee refunded, recovered and is still owed; nobody else sees them."""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from network_credits import services as ledger
from products.models import SupplierMember
from purchases import services
from purchases.models import Dispute, Means, Order, Recovery
from tests.accounts.factories import UserFactory
from tests.products.factories import SupplierMemberFactory
from tests.purchases.factories import account_of, buyer, order, shop, supplier_account_of

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"admin:purchases_dispute_{name}", args=args)


@pytest.fixture
def own_shop(owner):
    return shop(supplier=owner.supplier, owner=owner.user)


@pytest.fixture
def ama():
    return buyer(email="ama@example.org")


def disputed(s, who, *, payment: str = Means.CREDITS, quantity: int = 2, reason: str = "not_as_described") -> Dispute:
    """An order received (and so paid, for credits), then disputed by its buyer."""
    placed = order(s, who, payment=payment, quantity=quantity)
    services.order_ready(order=placed, actor=s.owner)
    services.order_deliver(order=placed, actor=who if payment == Means.CREDITS else s.owner)
    return services.dispute_open(
        order=placed,
        actor=who,
        reason=reason,
        description="The bars arrived melted into one block.",
        evidence_url="https://photos.example.org/melted.jpg",
    )


def form_of(client: Client, dispute: Dispute, **fields) -> dict:
    """The dispute's page as the browser sends it back, with `fields`."""
    body = client.get(url("change", dispute.pk)).content.decode()
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    data.pop("csrfmiddlewaretoken", None)
    return data | fields


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_supplier_reads_the_dispute_and_answers_it(owner, own_shop, ama):
    dispute = disputed(own_shop, ama)
    response = owner.client.get(url("changelist"))
    assert list(response.context["cl"].result_list) == [dispute]
    page = owner.client.get(url("change", dispute.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert "The bars arrived melted into one block." in body
    assert "https://photos.example.org/melted.jpg" in body
    assert 'name="response"' in body
    assert 'name="decision"' not in body  # operators decide

    response = owner.client.post(
        url("change", dispute.pk), form_of(owner.client, dispute, response="We ship in cool boxes; here is a new lot.")
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == Dispute.State.ANSWERED
    assert dispute.supplier_response == "We ship in cool boxes; here is a new lot."
    assert dispute.order.events.filter(action="answer", actor=owner.user).exists()
    assert "the network decides next" in flashed(owner.client.get(response.url))[0]


def test_an_empty_answer_is_refused_on_the_form(owner, own_shop, ama):
    dispute = disputed(own_shop, ama)
    response = owner.client.post(url("change", dispute.pk), form_of(owner.client, dispute, response=" "))
    assert response.status_code == 200
    assert "response" in response.context["adminform"].form.errors
    assert Dispute.objects.get(pk=dispute.pk).state == Dispute.State.OPEN


def test_viewer_reads_the_dispute_but_cannot_answer(own_supplier, owner, own_shop, ama):
    dispute = disputed(own_shop, ama)
    viewer = UserFactory()
    SupplierMemberFactory(supplier=own_supplier, user=viewer, role=SupplierMember.Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    response = client.get(url("change", dispute.pk))
    assert response.status_code == 200
    assert 'name="response"' not in response.content.decode()
    assert client.post(url("change", dispute.pk), {"response": "Not us"}).status_code == 403
    assert Dispute.objects.get(pk=dispute.pk).supplier_response == ""


def test_member_of_other_supplier_gets_404_for_a_dispute(other_member, own_shop, ama):
    dispute = disputed(own_shop, ama)
    assert other_member.client.get(url("change", dispute.pk)).status_code == 404
    assert other_member.client.post(url("change", dispute.pk), {"response": "Ours"}).status_code == 404
    assert list(other_member.client.get(url("changelist")).context["cl"].result_list) == []


def test_operator_upholds_a_dispute_and_sees_the_guarantee_refund_and_recovery(operator, owner, own_shop, ama):
    dispute = disputed(own_shop, ama, quantity=2)  # 10.00 credits, paid to the supplier on receipt
    services.dispute_answer(dispute=dispute, actor=owner.user, response="They left us cold.")
    assert supplier_account_of(own_shop.supplier).balance == 1000
    page = operator.client.get(url("change", dispute.pk)).content.decode()
    assert 'name="decision"' in page
    assert 'name="reason"' in page
    assert "They left us cold." in page

    data = form_of(operator.client, dispute, decision="upheld", reason="The photos show melted bars.")
    response = operator.client.post(url("change", dispute.pk), data)
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == Dispute.State.UPHELD
    assert (dispute.refunded, dispute.recovered, dispute.outstanding) == (1000, 1000, 0)
    assert dispute.order.state == Order.State.CLOSED
    assert account_of(ama).balance == 10_000  # refunded at once by the guarantee fund
    assert Recovery.objects.get(dispute=dispute).amount == 1000
    assert AuditEntry.objects.filter(action="purchases.dispute_decided").count() == 1
    message = flashed(operator.client.get(response.url))[0]
    assert "The network's guarantee fund refunded 10.00 credits to the buyer" in message

    body = operator.client.get(url("change", dispute.pk)).content.decode()
    assert 'name="decision"' not in body  # decided: read-only
    assert "refunded by the guarantee fund" in body.lower()
    assert reverse("admin:network_credits_transfer_change", args=[dispute.guarantee_refund_id]) in body
    supplier_view = owner.client.get(url("change", dispute.pk)).content.decode()
    assert "The supplier has paid it all back." in supplier_view


def test_a_refund_the_supplier_cannot_cover_shows_what_is_still_owed(operator, owner, own_shop, ama):
    dispute = disputed(own_shop, ama, quantity=2)
    account = supplier_account_of(own_shop.supplier)
    account.credit_limit = 0
    account.save(update_fields=["credit_limit"])
    # The supplier spends 6.00 of the 10.00 it was paid before the decision.
    ledger.transfer(payer=account, payee=account_of(ama), amount=600, key="spend", actor=owner.user)
    data = form_of(operator.client, dispute, decision="upheld", reason="Melted on arrival.")
    operator.client.post(url("change", dispute.pk), data)
    dispute.refresh_from_db()
    assert (dispute.refunded, dispute.recovered, dispute.outstanding) == (1000, 400, 600)
    body = operator.client.get(url("change", dispute.pk)).content.decode()
    assert "The supplier still owes the network 6.00 credits" in body
    row = operator.client.get(url("changelist")).content.decode()
    assert "6.00 credits" in row


def test_a_decision_needs_written_reasons(operator, own_shop, ama):
    dispute = disputed(own_shop, ama)
    response = operator.client.post(url("change", dispute.pk), form_of(operator.client, dispute, decision="rejected"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reason"] == ["A decision needs written reasons."]
    assert Dispute.objects.get(pk=dispute.pk).state == Dispute.State.OPEN


def test_operator_rejects_a_dispute_and_the_supplier_is_paid(operator, own_shop):
    who = buyer()
    placed = order(own_shop, who)
    services.order_ready(order=placed, actor=own_shop.owner)
    services.order_deliver(order=placed, actor=own_shop.owner)  # handed over; the buyer has not confirmed
    dispute = services.dispute_open(order=placed, actor=who, reason="not_received", description="Nothing came.")
    data = form_of(operator.client, dispute, decision="rejected", reason="Signed for at the counter.")
    operator.client.post(url("change", dispute.pk), data)
    dispute.refresh_from_db()
    assert dispute.state == Dispute.State.REJECTED
    assert supplier_account_of(own_shop.supplier).balance == 500
    assert "the supplier keeps the credits" in operator.client.get(url("change", dispute.pk)).content.decode()


def test_a_cash_dispute_upheld_is_refunded_by_the_supplier(operator, own_shop, ama):
    dispute = disputed(own_shop, buyer(credits=0), payment=Means.CASH)
    operator.client.post(
        url("change", dispute.pk), form_of(operator.client, dispute, decision="upheld", reason="Wrong product.")
    )
    dispute.refresh_from_db()
    assert (dispute.state, dispute.refunded) == (Dispute.State.UPHELD, 0)
    body = operator.client.get(url("change", dispute.pk)).content.decode()
    assert "the supplier refunds the €9.00 to the buyer" in body


def test_nobody_adds_or_deletes_a_dispute(operator, own_shop, ama):
    dispute = disputed(own_shop, ama)
    assert operator.client.get(url("add")).status_code == 403
    assert operator.client.post(url("delete", dispute.pk), {"post": "yes"}).status_code == 403
    assert Dispute.objects.filter(pk=dispute.pk).exists()
