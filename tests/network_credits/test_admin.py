"""The ledger in the dashboard: suppliers see their own account and what moved on it, operators everything; nothing
there can change a balance, a transfer, an entry or a hold, and limits and freezes go through the services."""

import re
import uuid

import pytest
from django.urls import reverse

from core.models import AuditEntry
from network_credits import services
from network_credits.models import Account, CreditLimitChange, Entry, ExternalPayment, Hold, Transfer

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"admin:network_credits_{name}", args=args)


@pytest.fixture
def ledger(shopper, own_supplier, other_supplier):
    """A shopper who pays both suppliers, one payment and one hold each."""
    member = services.account_open_for_member(user=shopper.user, name="Ama")
    own = services.account_open_for_supplier(supplier_id=own_supplier.pk, name=own_supplier.legal_name)
    other = services.account_open_for_supplier(supplier_id=other_supplier.pk, name=other_supplier.legal_name)
    services.top_up(
        account=member,
        amount=10_000,
        provider=ExternalPayment.Provider.CARD,
        reference="pi_1",
        currency="EUR",
        amount_minor=10_000,
        key="top",
        actor=shopper.user,
    )
    to_own = services.transfer(payer=member, payee=own, amount=1000, key="a", actor=shopper.user).transfer
    to_other = services.transfer(payer=member, payee=other, amount=2000, key="b", actor=shopper.user).transfer
    services.hold(payer=member, payee=own, amount=300, key="c", actor=shopper.user)
    services.hold(payer=member, payee=other, amount=400, key="d", actor=shopper.user)
    return {"member": member, "own": own, "other": other, "to_own": to_own, "to_other": to_other}


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def test_a_supplier_sees_only_its_own_account(owner, ledger):
    response = owner.client.get(url("account_changelist"))
    assert response.status_code == 200
    assert listed(response) == [ledger["own"]]
    body = response.content.decode()
    assert ledger["own"].formatted_number in body
    assert ledger["other"].formatted_number not in body
    assert ledger["member"].formatted_number not in body


def test_a_supplier_cannot_open_another_suppliers_or_a_members_account(owner, ledger):
    for account in (ledger["other"], ledger["member"], services.system_account(Account.System.ISSUANCE)):
        response = owner.client.get(url("account_change", account.pk))
        assert response.status_code == 302
        assert response.url == reverse("admin:index")


def test_a_supplier_reads_its_account_in_credits_but_changes_nothing(owner, ledger):
    response = owner.client.get(url("account_change", ledger["own"].pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "10.00" in body  # the balance, in credits
    assert "510.00" in body  # available: 10.00 + the default limit of 500.00
    assert "3.00" in body  # held for it by the shopper's hold
    assert 'name="credit_limit_credits"' not in body
    assert 'name="status"' not in body
    response = owner.client.post(url("account_change", ledger["own"].pk), {"status": "frozen", "reason": "x"})
    assert response.status_code == 403
    assert Account.objects.get(pk=ledger["own"].pk).status == Account.Status.ACTIVE


def test_a_supplier_sees_only_transfers_and_holds_on_its_account(owner, ledger):
    transfers = listed(owner.client.get(url("transfer_changelist")))
    assert ledger["to_own"] in transfers
    assert ledger["to_other"] not in transfers
    assert {t.kind for t in transfers} == {"payment", "hold"}  # not the shopper's top-up
    holds = listed(owner.client.get(url("hold_changelist")))
    assert [hold.credit_account_id for hold in holds] == [ledger["own"].pk]
    assert owner.client.get(url("transfer_change", ledger["to_other"].pk)).status_code == 302
    other_hold = Hold.objects.get(credit_account=ledger["other"])
    assert owner.client.get(url("hold_change", other_hold.pk)).status_code == 302


def test_a_supplier_sees_its_own_entry_of_a_transfer_not_the_payers_balance(owner, ledger):
    response = owner.client.get(url("transfer_change", ledger["to_own"].pk))
    body = response.content.decode()
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert [entry.account_id for entry in formset.queryset] == [ledger["own"].pk]
    assert "idempotency" not in body.lower()  # the shopper's key and who typed it are the network's business
    assert "shopper@example.org" not in body


def test_the_other_supplier_sees_none_of_it(other_member, ledger):
    assert listed(other_member.client.get(url("account_changelist"))) == [ledger["other"]]
    assert ledger["to_own"] not in listed(other_member.client.get(url("transfer_changelist")))
    assert other_member.client.get(url("transfer_change", ledger["to_own"].pk)).status_code == 302


def test_shoppers_have_no_dashboard(shopper, ledger):
    response = shopper.client.get(url("account_changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_an_operator_sees_every_account_and_transfer(operator, ledger):
    accounts = listed(operator.client.get(url("account_changelist")))
    assert set(accounts) == set(Account.objects.all())
    assert len(accounts) == 4  # the member, two suppliers, the issuance account
    assert set(listed(operator.client.get(url("transfer_changelist")))) == set(Transfer.objects.all())
    body = operator.client.get(url("transfer_change", ledger["to_own"].pk)).content.decode()
    assert "idempotency key" in body.lower()
    formset = operator.client.get(url("transfer_change", ledger["to_own"].pk)).context["inline_admin_formsets"][0]
    assert len(formset.formset.queryset) == 2


def test_the_account_list_is_searched_by_number_as_people_write_it(operator, ledger):
    number = ledger["own"].formatted_number
    response = operator.client.get(url("account_changelist"), {"q": number})
    assert listed(response) == [ledger["own"]]


def _operator_form(operator, account: Account, **changes) -> dict:
    """The account's change form as the operator's browser sends it back, with `changes`."""
    page = operator.client.get(url("account_change", account.pk))
    body = page.content.decode()
    data = {
        name: value
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body)
        if name != "csrfmiddlewaretoken"
    }
    data |= {
        "credit_limit_credits": f"{account.credit_limit / 100:.2f}",
        "upper_limit_credits": "",
        "status": account.status,
        "reason": "",
        **changes,
    }
    return data


def test_an_operator_sets_a_limit_with_a_reason(operator, ledger):
    account = ledger["member"]
    data = _operator_form(operator, account, credit_limit_credits="25.50", reason="Known to the network since 2024")
    response = operator.client.post(url("account_change", account.pk), data)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.credit_limit == 2550
    change = CreditLimitChange.objects.get(account=account)
    assert (change.credit_limit_before, change.credit_limit, change.reason) == (
        0,
        2550,
        "Known to the network since 2024",
    )
    assert change.changed_by == operator.user
    assert AuditEntry.objects.filter(action="credits.limit_changed").count() == 1
    body = operator.client.get(url("account_change", account.pk)).content.decode()
    assert "Known to the network since 2024" in body  # the limit's history, on the account's page


def test_a_limit_change_without_a_reason_is_refused(operator, ledger):
    account = ledger["member"]
    response = operator.client.post(
        url("account_change", account.pk), _operator_form(operator, account, credit_limit_credits="99")
    )
    assert response.status_code == 200
    assert "Say why" in response.content.decode()
    account.refresh_from_db()
    assert account.credit_limit == 0
    assert not CreditLimitChange.objects.exists()


def test_an_operator_freezes_and_unfreezes_an_account_with_a_reason(operator, ledger):
    account = ledger["own"]
    data = _operator_form(operator, account, status="frozen", reason="Suspended by compliance")
    assert operator.client.post(url("account_change", account.pk), data).status_code == 302
    assert Account.objects.get(pk=account.pk).status == Account.Status.FROZEN
    frozen = Account.objects.get(pk=account.pk)
    data = _operator_form(operator, frozen, status="active", reason="Reinstated")
    assert operator.client.post(url("account_change", account.pk), data).status_code == 302
    assert Account.objects.get(pk=account.pk).status == Account.Status.ACTIVE
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["credits.account_frozen", "credits.account_unfrozen"]


def test_the_dashboard_cannot_change_a_balance(operator, ledger):
    account = ledger["member"]
    before = Account.objects.get(pk=account.pk)
    data = _operator_form(
        operator, account, balance="999999", pending_debits="0", number="1111111116", reason="try", kind="system"
    )
    operator.client.post(url("account_change", account.pk), data)
    after = Account.objects.get(pk=account.pk)
    assert (after.balance, after.pending_debits, after.number, after.kind) == (
        before.balance,
        before.pending_debits,
        before.number,
        before.kind,
    )
    assert operator.client.get(url("account_add")).status_code == 403
    assert operator.client.get(url("account_delete", account.pk)).status_code == 403


def test_the_dashboard_cannot_add_change_or_delete_a_transfer_or_a_hold(operator, ledger):
    transfer = ledger["to_own"]
    assert operator.client.get(url("transfer_add")).status_code == 403
    assert operator.client.post(url("transfer_delete", transfer.pk), {"post": "yes"}).status_code == 403
    response = operator.client.post(url("transfer_change", transfer.pk), {"amount": "1", "memo": "changed"})
    assert response.status_code == 403
    changelist = operator.client.post(
        url("transfer_changelist"), {"action": "delete_selected", "_selected_action": [transfer.pk], "post": "yes"}
    )
    assert changelist.status_code in (200, 302)
    assert Transfer.objects.filter(pk=transfer.pk, amount=1000, memo="").exists()
    assert Entry.objects.filter(transfer=transfer).count() == 2
    hold = Hold.objects.first()
    assert operator.client.post(url("hold_delete", hold.pk), {"post": "yes"}).status_code == 403
    assert operator.client.post(url("hold_change", hold.pk), {"state": "posted"}).status_code == 403
    assert Hold.objects.get(pk=hold.pk).state == Hold.State.PENDING
    limit_change = services.credit_limit_set(account=ledger["member"], credit_limit=100, reason="r", actor=None)
    assert operator.client.post(url("creditlimitchange_delete", limit_change.pk), {"post": "yes"}).status_code == 403


def test_system_accounts_are_shown_to_operators_read_only(operator, ledger):
    issuance = services.system_account(Account.System.ISSUANCE)
    body = operator.client.get(url("account_change", issuance.pk)).content.decode()
    assert "-100.00" in body  # the credits sold: the cash the network holds
    assert 'name="credit_limit_credits"' not in body


def test_a_supplier_sees_the_log_of_its_own_limits_only(owner, ledger):
    services.credit_limit_set(account=ledger["own"], credit_limit=90_000, reason="Good record", actor=None)
    services.credit_limit_set(account=ledger["other"], credit_limit=1, reason="Other's", actor=None)
    services.credit_limit_set(account=ledger["member"], credit_limit=1, reason="Member's", actor=None)
    changes = listed(owner.client.get(url("creditlimitchange_changelist")))
    assert [change.reason for change in changes] == ["Good record"]
    assert owner.client.get(url("creditlimitchange_change", changes[0].pk)).status_code == 200
    theirs = CreditLimitChange.objects.get(reason="Other's")
    assert owner.client.get(url("creditlimitchange_change", theirs.pk)).status_code == 302


def test_the_account_list_query_count_does_not_grow_with_accounts(operator, ledger, django_assert_num_queries):
    for n in range(5):
        services.account_open_for_supplier(supplier_id=10_000 + n, name=f"Supplier {n}")
    # session, user, access, the count of the list and of all accounts, the page of accounts
    with django_assert_num_queries(6):
        response = operator.client.get(url("account_changelist"))
    assert len(listed(response)) == 9


def test_the_transfer_list_query_count_does_not_grow_with_transfers(operator, ledger, django_assert_num_queries):
    member, own = ledger["member"], ledger["own"]
    for _n in range(5):
        services.transfer(payer=member, payee=own, amount=1, key=str(uuid.uuid4()), actor=None, system="tests")
    with django_assert_num_queries(6):
        response = operator.client.get(url("transfer_changelist"))
    assert len(listed(response)) == 10


def test_an_operator_records_a_top_up_once_the_money_has_arrived(operator, ledger):
    account = ledger["member"]
    before = Account.objects.get(pk=account.pk).balance
    data = _operator_form(
        operator, account, top_up_credits="25.00", top_up_provider="bank_transfer", top_up_reference="SEPA-77"
    )
    assert operator.client.post(url("account_change", account.pk), data).status_code == 302
    assert operator.client.post(url("account_change", account.pk), data).status_code in (200, 302)  # sent again
    payment = ExternalPayment.objects.get(reference="SEPA-77")
    assert (payment.provider, payment.amount_minor, payment.transfer.credit_account_id) == (
        "bank_transfer",
        2500,
        account.pk,
    )
    assert payment.transfer.created_by == operator.user
    assert Account.objects.get(pk=account.pk).balance == before + 2500  # bought once


def test_a_top_up_without_its_reference_records_nothing(operator, ledger):
    account = ledger["member"]
    before = (Account.objects.get(pk=account.pk).balance, ExternalPayment.objects.count())
    data = _operator_form(operator, account, top_up_credits="25.00", top_up_provider="cash")
    response = operator.client.post(url("account_change", account.pk), data)
    assert response.status_code == 200
    assert "needs the credits bought" in response.content.decode()
    assert (Account.objects.get(pk=account.pk).balance, ExternalPayment.objects.count()) == before
