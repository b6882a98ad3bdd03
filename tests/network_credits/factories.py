"""Accounts for the ledger's tests: members with a user of their own, suppliers by a made-up catalog id."""

from __future__ import annotations

import itertools
from typing import Any

from network_credits import services
from network_credits.models import Account
from tests.accounts.factories import UserFactory

_supplier_ids = itertools.count(900_000)


def member_account(*, credit_limit: int = 0, user: Any = None, name: str = "") -> Account:
    """A member's account (a new user unless one is given), with the credit limit set if it is not 0."""
    account = services.account_open_for_member(user=user or UserFactory(password=None), name=name)
    if credit_limit:
        services.credit_limit_set(account=account, credit_limit=credit_limit, reason="Test limit")
    return account


def supplier_account(*, credit_limit: int | None = None, name: str = "") -> Account:
    """A supplier's account; the catalog is not involved (the ledger keeps the supplier id as a number)."""
    supplier_id = next(_supplier_ids)
    account = services.account_open_for_supplier(supplier_id=supplier_id, name=name or f"Supplier {supplier_id}")
    if credit_limit is not None:
        services.credit_limit_set(account=account, credit_limit=credit_limit, reason="Test limit")
    return account


def fresh(account: Account) -> Account:
    """The account as stored now."""
    return Account.objects.get(pk=account.pk)
