"""The ledger's services, one behaviour at a time: what each does to balances, and what it refuses."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from core.models import AuditEntry
from network_credits import services
from network_credits.models import Account, CreditLimitChange, Entry, ExternalPayment, Hold, Transfer
from network_credits.services import LedgerRefusal
from tests.network_credits.factories import fresh, member_account, supplier_account

pytestmark = pytest.mark.django_db
SIM = "tests"  # the system job name the tests move credits as (no person behind them)


def pay(payer: Account, payee: Account, amount: int, key: str, **kwargs) -> services.Moved:
    return services.transfer(payer=payer, payee=payee, amount=amount, key=key, system=SIM, **kwargs)


def refused(code: str):
    """pytest.raises for a LedgerRefusal with this code."""

    class _Refused:
        def __enter__(self):
            self.raises = pytest.raises(LedgerRefusal)
            self.info = self.raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.raises.__exit__(*exc)
            assert self.info.value.code == code, self.info.value
            return handled

    return _Refused()


def ledger_state() -> tuple:
    """Everything a refusal must leave untouched."""
    return (
        list(
            Account.objects.order_by("pk").values_list("pk", "balance", "pending_debits", "pending_credits", "status")
        ),
        Transfer.objects.count(),
        Entry.objects.count(),
        list(Hold.objects.order_by("pk").values_list("pk", "state")),
        ExternalPayment.objects.count(),
    )


def assert_zero_sum() -> None:
    totals = Account.objects.aggregate(b=Sum("balance"), pd=Sum("pending_debits"), pc=Sum("pending_credits"))
    assert (totals["b"] or 0) == 0
    assert (totals["pd"] or 0) == (totals["pc"] or 0)


@pytest.fixture
def alice():
    return member_account(credit_limit=10_000)


@pytest.fixture
def bob():
    return member_account(credit_limit=10_000)


@pytest.fixture
def shop():
    return supplier_account(credit_limit=0)


# Accounts -----------------------------------------------------------------------------------------------------------


def test_member_account_opens_at_zero_with_the_default_limit(shopper, settings):
    account = services.account_open_for_member(user=shopper.user)
    stored = fresh(account)
    assert (stored.balance, stored.pending_debits, stored.pending_credits) == (0, 0, 0)
    assert stored.credit_limit == settings.CREDITS_DEFAULT_MEMBER_LIMIT
    assert stored.status == Account.Status.ACTIVE
    assert services.account_open_for_member(user=shopper.user).pk == account.pk


def test_supplier_account_opens_at_zero_once():
    account = services.account_open_for_supplier(supplier_id=4242, name="Cocoa")
    again = services.account_open_for_supplier(supplier_id=4242, name="Cocoa Renamed")
    assert again.pk == account.pk
    assert fresh(account).balance == 0
    assert fresh(account).name == "Cocoa Renamed"


def test_system_account_opens_at_zero_once():
    issuance = services.system_account(Account.System.ISSUANCE)
    assert services.system_account(Account.System.ISSUANCE).pk == issuance.pk
    assert (fresh(issuance).balance, fresh(issuance).floor) == (0, None)


def test_account_by_number_accepts_spaces_and_refuses_a_mistyped_digit(alice):
    written = f"{alice.number[:4]} {alice.number[4:8]}-{alice.number[8:]}"
    assert services.account_by_number(written).pk == alice.pk
    wrong = alice.number[:-1] + str((int(alice.number[-1]) + 1) % 10)
    with pytest.raises(ValidationError):
        services.account_by_number(wrong)


# Transfers ----------------------------------------------------------------------------------------------------------


def test_transfer_moves_the_amount_and_writes_two_entries(alice, bob):
    moved = pay(alice, bob, 2_500, "k1", memo="Lunch")
    assert not moved.replayed
    assert (fresh(alice).balance, fresh(bob).balance) == (-2_500, 2_500)
    entries = list(moved.transfer.entries.order_by("side"))
    assert [(e.side, e.account_id, e.amount, e.balance_after) for e in entries] == [
        ("credit", bob.pk, 2_500, 2_500),
        ("debit", alice.pk, -2_500, -2_500),
    ]
    assert (alice.balance, bob.balance) == (-2_500, 2_500)  # the caller's instances follow
    assert_zero_sum()


def test_spending_exactly_to_the_limit_is_allowed(alice, bob):
    pay(alice, bob, 10_000, "all")
    assert fresh(alice).balance == -10_000
    assert fresh(alice).available == 0


def test_spending_one_hundredth_past_the_limit_is_refused_and_writes_nothing(alice, bob):
    pay(alice, bob, 9_999, "most")
    before = ledger_state()
    with refused("insufficient_credit"):
        pay(alice, bob, 2, "past")
    assert ledger_state() == before


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None, 1_000_000_001])
def test_a_bad_amount_is_refused(alice, bob, amount):
    before = ledger_state()
    with refused("amount_invalid"):
        pay(alice, bob, amount, "bad")
    assert ledger_state() == before


def test_an_account_cannot_pay_itself(alice):
    with refused("same_account"):
        pay(alice, fresh(alice), 10, "self")
    assert Transfer.objects.count() == 0


def test_the_same_key_and_request_returns_the_first_transfer(alice, bob):
    first = pay(alice, bob, 700, "once", memo="Tea")
    again = pay(fresh(alice), fresh(bob), 700, "once", memo="Tea")
    assert again.replayed
    assert again.transfer.pk == first.transfer.pk
    assert Transfer.objects.count() == 1
    assert (fresh(alice).balance, fresh(bob).balance) == (-700, 700)


@pytest.mark.parametrize(
    "change", [{"amount": 701}, {"memo": "Coffee"}, {"payee": "shop"}], ids=["amount", "memo", "payee"]
)
def test_the_same_key_for_another_request_is_refused_and_writes_nothing(alice, bob, shop, change):
    pay(alice, bob, 700, "once", memo="Tea")
    before = ledger_state()
    payee = shop if change.get("payee") == "shop" else bob
    with refused("idempotency_key_reused"):
        pay(alice, payee, change.get("amount", 700), "once", memo=change.get("memo", "Tea"))
    assert ledger_state() == before


def test_keys_belong_to_their_initiator(alice, bob, operator):
    pay(alice, bob, 100, "shared")
    moved = services.transfer(payer=alice, payee=bob, amount=100, key="shared", actor=operator.user)
    assert not moved.replayed
    assert Transfer.objects.count() == 2


def test_a_refused_request_leaves_its_key_free(alice, bob):
    with refused("insufficient_credit"):
        pay(alice, bob, 10_001, "retry-me")
    moved = pay(alice, bob, 10_001 - 1, "retry-me")  # a different request: the key was never claimed
    assert not moved.replayed


# Limits -------------------------------------------------------------------------------------------------------------


def test_credit_limit_set_is_logged_with_who_and_why(alice, operator):
    change = services.credit_limit_set(
        account=alice, credit_limit=25_000, reason="Long-standing member", actor=operator.user
    )
    assert fresh(alice).credit_limit == 25_000
    logged = CreditLimitChange.objects.get(pk=change.pk)
    assert (logged.credit_limit_before, logged.credit_limit) == (10_000, 25_000)
    assert (logged.changed_by_id, logged.changed_by_name, logged.reason) == (
        operator.user.pk,
        operator.user.email,
        "Long-standing member",
    )
    audit = AuditEntry.objects.filter(action="credits.limit_changed", target_id=str(alice.pk)).latest("id")
    assert audit.actor_id == operator.user.pk
    assert audit.changes["credit_limit"] == [10_000, 25_000]
    assert audit.reason == "Long-standing member"


def test_credit_limit_set_needs_a_reason_and_a_whole_non_negative_amount(alice):
    with pytest.raises(ValidationError):
        services.credit_limit_set(account=alice, credit_limit=5_000, reason="  ")
    with refused("amount_invalid"):
        services.credit_limit_set(account=alice, credit_limit=-1, reason="Oops")
    assert fresh(alice).credit_limit == 10_000
    assert CreditLimitChange.objects.filter(account=alice).count() == 1  # the fixture's


def test_system_accounts_have_no_limit_to_set():
    with refused("system_account"):
        services.credit_limit_set(account=services.system_account(Account.System.FEES), credit_limit=1, reason="No")


def test_a_lowered_limit_never_traps_a_member(alice, bob, shop):
    pay(alice, shop, 8_000, "spend")
    services.credit_limit_set(account=alice, credit_limit=2_000, reason="Risk review")
    assert fresh(alice).balance == -8_000  # lowering below the debt is allowed
    with refused("insufficient_credit"):  # spending further: refused
        pay(alice, bob, 1, "more")
    pay(bob, alice, 1_000, "earn")  # earning: allowed, although still below the floor after it
    assert fresh(alice).balance == -7_000
    with refused("insufficient_credit"):
        pay(alice, bob, 500, "spend-what-was-earned")
    pay(bob, alice, 8_000, "earn-more")
    assert fresh(alice).balance == 1_000
    pay(alice, bob, 3_000, "exactly-to-the-new-floor")
    assert fresh(alice).balance == -2_000
    with refused("insufficient_credit"):
        pay(alice, bob, 1, "past-the-new-floor")
    assert_zero_sum()


def test_a_transfer_that_improves_an_over_limit_balance_is_allowed(alice, shop):
    pay(alice, shop, 8_000, "spend")
    services.credit_limit_set(account=alice, credit_limit=0, reason="Limit withdrawn")
    refund = services.refund(original=Transfer.objects.get(idempotency_key="spend"), amount=3_000, key="r", system=SIM)
    assert not refund.replayed
    assert fresh(alice).balance == -5_000
    with refused("insufficient_credit"):
        pay(alice, shop, 1, "still-trapped-below")


def test_upper_limit_refuses_what_would_go_above_it(alice, bob):
    services.credit_limit_set(account=bob, credit_limit=10_000, upper_limit=1_000, reason="Cap")
    pay(alice, bob, 1_000, "to-cap")
    with refused("over_upper_limit"):
        pay(alice, bob, 1, "over-cap")
    assert fresh(bob).balance == 1_000


# Holds --------------------------------------------------------------------------------------------------------------


def hold(payer: Account, payee: Account, amount: int, key: str, **kwargs) -> Hold:
    return services.hold(payer=payer, payee=payee, amount=amount, key=key, system=SIM, **kwargs)


def test_a_hold_reserves_without_paying(alice, shop):
    held = hold(alice, shop, 3_000, "h")
    a, s = fresh(alice), fresh(shop)
    assert (a.balance, a.pending_debits, a.available) == (0, 3_000, 7_000)
    assert (s.balance, s.pending_credits) == (0, 3_000)
    assert held.state == Hold.State.PENDING
    assert_zero_sum()


def test_a_hold_counts_against_what_can_be_spent(alice, shop, bob):
    hold(alice, shop, 6_000, "h")
    with refused("insufficient_credit"):
        pay(alice, bob, 4_001, "too-much")
    pay(alice, bob, 4_000, "exactly")
    assert fresh(alice).available == 0


def test_hold_replayed_with_the_same_key_is_the_same_hold(alice, shop):
    first = hold(alice, shop, 3_000, "h")
    assert hold(alice, shop, 3_000, "h").pk == first.pk
    assert fresh(alice).pending_debits == 3_000


def test_a_hold_in_the_past_is_refused(alice, shop):
    with refused("expiry_invalid"):
        hold(alice, shop, 1, "h", expires_at=timezone.now() - timedelta(seconds=1))


def test_posting_part_of_a_hold_pays_that_part_and_returns_the_rest(alice, shop):
    held = hold(alice, shop, 3_000, "h")
    moved = services.hold_post(hold=held, amount=1_200, key="p", system=SIM)
    a, s = fresh(alice), fresh(shop)
    assert (a.balance, a.pending_debits, a.available) == (-1_200, 0, 8_800)
    assert (s.balance, s.pending_credits) == (1_200, 0)
    assert moved.transfer.kind == Transfer.Kind.POST
    assert moved.transfer.amount == 1_200
    stored = Hold.objects.get(pk=held.pk)
    assert (stored.state, stored.posted_amount) == (Hold.State.POSTED, 1_200)
    assert_zero_sum()


def test_posting_without_an_amount_posts_all_of_it(alice, shop):
    held = hold(alice, shop, 3_000, "h")
    services.hold_post(hold=held, key="p", system=SIM)
    assert (fresh(alice).balance, fresh(shop).balance) == (-3_000, 3_000)


def test_posting_more_than_held_is_refused(alice, shop):
    held = hold(alice, shop, 3_000, "h")
    before = ledger_state()
    with refused("hold_amount_exceeded"):
        services.hold_post(hold=held, amount=3_001, key="p", system=SIM)
    assert ledger_state() == before


def test_a_hold_resolves_once(alice, shop):
    held = hold(alice, shop, 3_000, "h")
    services.hold_post(hold=held, amount=1_000, key="p", system=SIM)
    before = ledger_state()
    with refused("hold_not_pending"):
        services.hold_post(hold=Hold.objects.get(pk=held.pk), amount=500, key="p2", system=SIM)
    with refused("hold_not_pending"):
        services.hold_void(hold=Hold.objects.get(pk=held.pk), key="v", system=SIM)
    assert ledger_state() == before


def test_a_hold_post_repeated_with_its_key_is_replayed(alice, shop):
    held = hold(alice, shop, 3_000, "h")
    first = services.hold_post(hold=held, amount=1_000, key="p", system=SIM)
    again = services.hold_post(hold=Hold.objects.get(pk=held.pk), amount=1_000, key="p", system=SIM)
    assert again.replayed
    assert again.transfer.pk == first.transfer.pk
    assert fresh(alice).balance == -1_000


def test_voiding_a_hold_returns_everything(alice, shop):
    held = hold(alice, shop, 3_000, "h")
    moved = services.hold_void(hold=held, key="v", system=SIM)
    assert moved.transfer.kind == Transfer.Kind.VOID
    a, s = fresh(alice), fresh(shop)
    assert (a.balance, a.pending_debits, s.balance, s.pending_credits) == (0, 0, 0, 0)
    assert Hold.objects.get(pk=held.pk).state == Hold.State.VOIDED


def test_holds_past_expiry_are_released_once(alice, shop):
    soon = hold(alice, shop, 1_000, "soon", expires_at=timezone.now() + timedelta(hours=1))
    later = hold(alice, shop, 2_000, "later", expires_at=timezone.now() + timedelta(days=3))
    in_two_hours = timezone.now() + timedelta(hours=2)
    assert services.holds_expire(now=in_two_hours) == 1
    assert Hold.objects.get(pk=soon.pk).state == Hold.State.EXPIRED
    assert Hold.objects.get(pk=later.pk).state == Hold.State.PENDING
    assert fresh(alice).pending_debits == 2_000
    before = ledger_state()
    assert services.holds_expire(now=in_two_hours) == 0
    assert ledger_state() == before


def test_holds_expire_skips_a_hold_resolved_meanwhile(alice, shop):
    held = hold(alice, shop, 1_000, "h", expires_at=timezone.now() + timedelta(hours=1))
    services.hold_post(hold=held, key="p", system=SIM)
    assert services.holds_expire(now=timezone.now() + timedelta(days=1)) == 0
    assert fresh(alice).balance == -1_000


def test_a_hold_cannot_be_posted_after_it_expired(alice, shop):
    held = hold(alice, shop, 1_000, "h", expires_at=timezone.now() + timedelta(hours=1))
    services.holds_expire(now=timezone.now() + timedelta(hours=2))
    with refused("hold_not_pending"):
        services.hold_post(hold=Hold.objects.get(pk=held.pk), key="p", system=SIM)
    assert fresh(alice).balance == 0


# Refunds and reversals ----------------------------------------------------------------------------------------------


def test_refunds_never_exceed_the_original_summed_over_several(alice, shop):
    original = pay(alice, shop, 3_000, "buy").transfer
    services.refund(original=original, amount=1_000, key="r1", system=SIM)
    services.refund(original=original, amount=1_500, key="r2", system=SIM)
    before = ledger_state()
    with refused("refund_exceeds_original"):
        services.refund(original=original, amount=501, key="r3", system=SIM)
    assert ledger_state() == before
    rest = services.refund(original=original, key="r4", system=SIM)  # no amount: what is left
    assert rest.transfer.amount == 500
    with refused("refund_exceeds_original"):
        services.refund(original=original, key="r5", system=SIM)
    assert (fresh(alice).balance, fresh(shop).balance) == (0, 0)


def test_a_refund_goes_back_from_payee_to_payer(alice, shop):
    original = pay(alice, shop, 3_000, "buy").transfer
    refund = services.refund(original=original, amount=1_000, key="r", system=SIM).transfer
    assert (refund.debit_account_id, refund.credit_account_id) == (shop.pk, alice.pk)
    assert refund.original_id == original.pk
    assert refund.kind == Transfer.Kind.REFUND


def test_a_refund_repeated_with_its_key_is_replayed(alice, shop):
    original = pay(alice, shop, 3_000, "buy").transfer
    first = services.refund(original=original, amount=1_000, key="r", system=SIM)
    again = services.refund(original=original, amount=1_000, key="r", system=SIM)
    assert again.replayed
    assert again.transfer.pk == first.transfer.pk
    assert fresh(alice).balance == -2_000


def test_a_posted_hold_can_be_refunded_up_to_what_was_posted(alice, shop):
    held = hold(alice, shop, 3_000, "h")
    post = services.hold_post(hold=held, amount=2_000, key="p", system=SIM).transfer
    with refused("refund_exceeds_original"):
        services.refund(original=post, amount=2_001, key="r", system=SIM)
    services.refund(original=post, amount=2_000, key="r2", system=SIM)
    assert fresh(alice).balance == 0


@pytest.mark.parametrize("kind", ["hold", "refund", "void"])
def test_holds_voids_and_refunds_cannot_be_refunded(alice, shop, kind):
    held = hold(alice, shop, 1_000, "h")
    original = {
        "hold": lambda: held.transfer,
        "void": lambda: services.hold_void(hold=held, key="v", system=SIM).transfer,
        "refund": lambda: (
            services.refund(original=pay(alice, shop, 100, "buy").transfer, amount=50, key="r", system=SIM).transfer
        ),
    }[kind]()
    with refused("not_returnable"):
        services.refund(original=original, amount=1, key="again", system=SIM)


def test_a_refund_the_payee_cannot_afford_is_refused(alice, shop):
    original = pay(alice, shop, 3_000, "buy").transfer
    pay(shop, alice, 3_000, "spent-it")  # the shop's limit is 0: it has nothing left to give back
    with refused("insufficient_credit"):
        services.refund(original=original, amount=1, key="r", system=SIM)


def test_a_reversal_undoes_what_is_left_and_is_audited(alice, shop, operator):
    original = pay(alice, shop, 3_000, "buy").transfer
    services.refund(original=original, amount=1_000, key="r", system=SIM)
    moved = services.reversal(original=original, reason="Charged twice", key="rev", actor=operator.user)
    assert moved.transfer.amount == 2_000
    assert moved.transfer.kind == Transfer.Kind.REVERSAL
    assert (fresh(alice).balance, fresh(shop).balance) == (0, 0)
    audit = AuditEntry.objects.get(action="credits.reversed")
    assert (audit.actor_id, audit.reason, audit.target_id) == (
        operator.user.pk,
        "Charged twice",
        str(moved.transfer.pk),
    )
    with refused("refund_exceeds_original"):
        services.reversal(original=original, reason="Again", key="rev2", actor=operator.user)
    again = services.reversal(original=original, reason="Charged twice", key="rev", actor=operator.user)
    assert again.replayed
    assert AuditEntry.objects.filter(action="credits.reversed").count() == 1


def test_a_reversal_needs_a_person_and_a_reason(alice, shop, operator):
    original = pay(alice, shop, 3_000, "buy").transfer
    with pytest.raises(ValidationError):
        services.reversal(original=original, reason="", key="rev", actor=operator.user)
    with pytest.raises(ValueError, match="system job"):
        services.reversal(original=original, reason="Why", key="rev", actor=None)
    assert fresh(shop).balance == 3_000


def test_an_adjustment_is_audited_once(alice, bob, operator):
    moved = services.adjustment(payer=bob, payee=alice, amount=400, reason="Goodwill", key="adj", actor=operator.user)
    services.adjustment(payer=bob, payee=alice, amount=400, reason="Goodwill", key="adj", actor=operator.user)
    assert (moved.transfer.kind, moved.transfer.memo) == (Transfer.Kind.ADJUSTMENT, "Goodwill")
    assert fresh(alice).balance == 400
    assert AuditEntry.objects.filter(action="credits.adjusted").count() == 1


# Top-ups ------------------------------------------------------------------------------------------------------------


def top_up(account: Account, amount: int, reference: str, key: str, **kwargs) -> services.Moved:
    values = {"provider": "card", "currency": "EUR", "amount_minor": amount} | kwargs
    return services.top_up(account=account, amount=amount, reference=reference, key=key, system=SIM, **values)


def test_a_top_up_credits_the_member_and_the_issuance_account_goes_down_by_as_much(alice):
    moved = top_up(alice, 5_000, "pi_123", "t1")
    issuance = services.system_account(Account.System.ISSUANCE)
    assert (fresh(alice).balance, fresh(issuance).balance) == (5_000, -5_000)
    payment = ExternalPayment.objects.get(transfer=moved.transfer)
    assert (payment.provider, payment.reference, payment.currency, payment.amount_minor) == (
        "card",
        "pi_123",
        "EUR",
        5_000,
    )
    assert moved.transfer.kind == Transfer.Kind.TOP_UP
    assert_zero_sum()


def test_the_same_payment_reference_never_buys_twice(alice, bob):
    top_up(alice, 5_000, "pi_123", "t1")
    before = ledger_state()
    with refused("external_payment_used"):
        top_up(alice, 5_000, "pi_123", "t2")
    with refused("external_payment_used"):
        top_up(bob, 5_000, "pi_123", "t3")
    assert ledger_state() == before


def test_a_top_up_repeated_with_its_key_is_replayed(alice):
    first = top_up(alice, 5_000, "pi_123", "t1")
    again = top_up(alice, 5_000, "pi_123", "t1")
    assert again.replayed
    assert again.transfer.pk == first.transfer.pk
    assert fresh(alice).balance == 5_000
    assert ExternalPayment.objects.count() == 1


def test_a_top_up_key_reused_for_another_amount_paid_is_refused(alice):
    top_up(alice, 5_000, "pi_123", "t1", amount_minor=5_000)
    before = ledger_state()
    with refused("idempotency_key_reused"):
        top_up(alice, 5_000, "pi_123", "t1", amount_minor=4_000)
    assert ledger_state() == before


def test_system_accounts_are_not_topped_up():
    with refused("system_account"):
        top_up(services.system_account(Account.System.FEES), 100, "pi_1", "t")


# Freezing -----------------------------------------------------------------------------------------------------------


def test_freeze_and_unfreeze_are_audited(alice, operator):
    services.account_freeze(account=alice, reason="Fraud check", actor=operator.user)
    assert fresh(alice).status == Account.Status.FROZEN
    services.account_unfreeze(account=alice, reason="Cleared", actor=operator.user)
    assert fresh(alice).status == Account.Status.ACTIVE
    actions = list(AuditEntry.objects.filter(target_id=str(alice.pk)).order_by("id").values_list("action", "reason"))
    assert actions[-2:] == [("credits.account_frozen", "Fraud check"), ("credits.account_unfrozen", "Cleared")]


def test_a_frozen_account_receives_nothing(alice, shop):
    services.account_freeze(account=shop, reason="Suspended")
    services.system_account(Account.System.ISSUANCE)
    before = ledger_state()
    with refused("account_frozen"):
        pay(alice, shop, 100, "pay")
    with refused("account_frozen"):
        hold(alice, shop, 100, "hold")
    with refused("account_frozen"):
        top_up(shop, 100, "pi_1", "top")
    assert ledger_state() == before


def test_a_frozen_account_cannot_start_a_payment_or_a_hold(alice, bob):
    top_up(alice, 1_000, "pi_1", "top")
    services.account_freeze(account=alice, reason="Fraud check")
    before = ledger_state()
    with refused("account_frozen"):
        pay(alice, bob, 100, "pay")
    with refused("account_frozen"):
        hold(alice, bob, 100, "hold")
    assert ledger_state() == before


def test_a_frozen_account_can_still_refund(alice, shop):
    original = pay(alice, shop, 3_000, "buy").transfer
    services.account_freeze(account=shop, reason="Suspended")
    services.refund(original=original, amount=3_000, key="r", system=SIM)
    assert (fresh(alice).balance, fresh(shop).balance) == (0, 0)


def test_a_hold_for_a_frozen_payee_can_be_voided_but_not_posted(alice, shop):
    held = hold(alice, shop, 1_000, "h")
    services.account_freeze(account=shop, reason="Suspended")
    with refused("account_frozen"):
        services.hold_post(hold=held, key="p", system=SIM)
    services.hold_void(hold=held, key="v", system=SIM)
    assert fresh(alice).pending_debits == 0


def test_a_frozen_payer_s_hold_can_still_be_posted(alice, shop):
    held = hold(alice, shop, 1_000, "h")
    services.account_freeze(account=alice, reason="Fraud check")
    services.hold_post(hold=held, key="p", system=SIM)
    assert fresh(shop).balance == 1_000


def test_an_unfrozen_account_receives_again(alice, shop):
    services.account_freeze(account=shop, reason="Suspended")
    services.account_unfreeze(account=shop, reason="Reinstated")
    pay(alice, shop, 100, "pay")
    assert fresh(shop).balance == 100


def test_a_freeze_needs_a_reason(alice):
    with pytest.raises(ValidationError):
        services.account_freeze(account=alice, reason="")
    assert fresh(alice).status == Account.Status.ACTIVE


# Statements ---------------------------------------------------------------------------------------------------------


def at(moment: datetime):
    """Make the ledger's clock read `moment` (entries are stamped when they are applied)."""
    return services.clock(lambda: moment)


def test_statement_has_running_balances_and_honours_the_period_boundaries(alice, bob):
    utc = timezone.get_current_timezone()
    with at(datetime(2031, 1, 10, 23, 59, 59, tzinfo=utc)):
        pay(alice, bob, 1_000, "day-before")
    with at(datetime(2031, 1, 11, 0, 0, 0, tzinfo=utc)):
        pay(bob, alice, 300, "first-moment")
    with at(datetime(2031, 1, 12, 23, 59, 59, tzinfo=utc)):
        pay(alice, bob, 200, "last-moment")
    with at(datetime(2031, 1, 13, 0, 0, 0, tzinfo=utc)):
        pay(alice, bob, 50, "day-after")

    period = services.statement(account=alice, start=date(2031, 1, 11), end=date(2031, 1, 12))
    assert period.opening_balance == -1_000
    assert [(e.transfer.idempotency_key, e.amount, e.balance_after) for e in period.entries] == [
        ("first-moment", 300, -700),
        ("last-moment", -200, -900),
    ]
    assert period.closing_balance == -900
    assert (period.total_in, period.total_out) == (300, 200)

    everything = services.statement(account=alice, start=date(2031, 1, 1), end=date(2031, 1, 31))
    running = everything.opening_balance
    for entry in everything.entries:
        running += entry.amount
        assert entry.balance_after == running
    assert everything.opening_balance == 0
    assert everything.closing_balance == fresh(alice).balance == -950


def test_statement_of_a_quiet_period_carries_the_balance(alice, bob):
    utc = timezone.get_current_timezone()
    with at(datetime(2031, 1, 10, 12, tzinfo=utc)):
        pay(alice, bob, 1_000, "k")
    quiet = services.statement(account=alice, start=date(2031, 2, 1), end=date(2031, 2, 28))
    assert (quiet.opening_balance, quiet.closing_balance, quiet.entries) == (-1_000, -1_000, [])
    before = services.statement(account=alice, start=date(2030, 1, 1), end=date(2030, 12, 31))
    assert (before.opening_balance, before.closing_balance) == (0, 0)


def test_statement_shows_holds_without_changing_the_balance(alice, shop):
    held = hold(alice, shop, 1_000, "h")
    services.hold_post(hold=held, amount=400, key="p", system=SIM)
    today = timezone.now().date()
    lines = services.statement(account=alice, start=today, end=today).entries
    assert [(e.transfer.kind, e.amount, e.pending, e.balance_after, e.pending_debits_after) for e in lines] == [
        ("hold", 0, -1_000, 0, 1_000),
        ("post", -400, 1_000, -400, 0),
    ]


def test_statement_period_must_not_end_before_it_starts(alice):
    with pytest.raises(ValidationError):
        services.statement(account=alice, start=date(2031, 1, 2), end=date(2031, 1, 1))


# Rules added after review -------------------------------------------------------------------------------------------


def test_payments_never_touch_the_networks_own_accounts(alice):
    issuance = services.system_account(Account.System.ISSUANCE)
    fees = services.system_account(Account.System.FEES)
    before = ledger_state()
    with refused("system_account"):
        pay(alice, issuance, 100, "into-issuance")
    with refused("system_account"):
        pay(fees, alice, 100, "out-of-fees")
    assert ledger_state() == before


def test_a_payee_refunds_payments_but_only_an_operator_reverses_a_top_up(alice, operator):
    bought = top_up(alice, 2_000, "pi_refund_me", "t").transfer
    before = ledger_state()
    with refused("not_returnable"):
        services.refund(original=bought, key="r", system=SIM)
    assert ledger_state() == before
    undone = services.reversal(original=bought, reason="Card payment charged back", key="rev", actor=operator.user)
    assert undone.transfer.amount == 2_000
    assert fresh(alice).balance == 0
    assert services.system_account(Account.System.ISSUANCE).balance == 0


def test_top_ups_stop_at_the_daily_maximum_of_the_account(alice, settings):
    settings.CREDITS_TOP_UP_DAILY_MAX = 5_000
    top_up(alice, 3_000, "pi_day_1", "t1")
    before = ledger_state()
    with refused("top_up_daily_max") as info:
        top_up(alice, 2_001, "pi_day_2", "t2")
    assert "at most 20.00 more" in str(info.value)
    assert ledger_state() == before
    top_up(alice, 2_000, "pi_day_3", "t3")  # exactly to the cap
    tomorrow = timezone.now() + timedelta(days=1)
    with services.clock(lambda: tomorrow):
        top_up(alice, 5_000, "pi_day_4", "t4")  # a new day
    assert fresh(alice).balance == 10_000
