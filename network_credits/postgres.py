"""A payment in one round trip on PostgreSQL: services.transfer's path there (the Python path, services._move, stays
the one on SQLite and for every other movement).

The credits_payment function (migration 0004) claims the idempotency key, locks the two accounts in id order, checks
them and writes the transfer and its two entries, in one statement; the triggers of migration 0002 apply and check the
entries as they do for the Python path. Outside a transaction the statement is its own transaction: one round trip. A
refusal comes back as an error with its own SQLSTATE; it is worded here by the Python path's own functions
(services._check, services._replay), so that both paths refuse alike, with the same codes and messages.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import DatabaseError, connection, transaction

from network_credits import services
from network_credits.models import Account, Entry, Transfer

REFUSED = "CR000"  # a rule refused it: the message is the rule's code, the detail the two locked accounts
KEY_REUSED = "CR001"  # the idempotency key was used for a different request

_TRANSFER_FIELDS = [field.attname for field in Transfer._meta.concrete_fields]
_POSITION = ("balance", "pending_debits", "pending_credits", "status")
_CALL = (
    "SELECT p.replayed, "
    + ", ".join(f"(p.transfer).{field.column}" for field in Transfer._meta.concrete_fields)
    + ", "
    + ", ".join(f"p.{side}_{name}" for side in ("payer", "payee") for name in _POSITION)
    + " FROM credits_payment(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) p"
)
_ACCOUNT_FIELDS = {field.attname for field in Account._meta.concrete_fields} - {"opened_at"}


def payment(
    *,
    payer: Account,
    payee: Account,
    amount: int,
    initiator: str,
    key: str,
    request_hash: str,
    actor: Any = None,
    memo: str = "",
) -> services.Moved:
    """What services._payment does (checked amount, key and request hash), in one statement."""
    if payer.pk == payee.pk:
        raise services.LedgerRefusal("An account cannot pay itself.", code="same_account")
    transfer = services.new_transfer(
        kind=Transfer.Kind.PAYMENT,
        payer=payer,
        payee=payee,
        amount=amount,
        initiator=initiator,
        key=key,
        request_hash=request_hash,
        actor=actor,
        memo=memo,
    )
    # Entries are stamped by the database under the locks (as _move stamps them under its locks), unless the
    # ledger's clock is set (services.clock: the demo's history, deterministic tests).
    applied_at = services.ledger_now() if services._clock.get() is not None else None
    params = [
        transfer.pk,
        payer.pk,
        payee.pk,
        amount,
        transfer.memo,
        initiator,
        key,
        request_hash,
        transfer.created_by_id,
        transfer.created_at,
        applied_at,
    ]
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a refusal undoes this payment only, as _move's savepoint does
                row = _call(params)
        else:
            row = _call(params)
    except DatabaseError as error:
        _refuse(error, payer=payer, payee=payee, amount=amount, initiator=initiator, key=key, digest=request_hash)
        raise
    replayed, values, position = row[0], row[1 : 1 + len(_TRANSFER_FIELDS)], row[1 + len(_TRANSFER_FIELDS) :]
    if replayed:
        return services.Moved(Transfer.from_db(connection.alias, _TRANSFER_FIELDS, values), replayed=True)
    transfer._state.adding, transfer._state.db = False, connection.alias
    # The database applied the entries to the accounts; the callers' instances follow.
    for account, start in ((payer, 0), (payee, len(_POSITION))):
        for offset, name in enumerate(_POSITION):
            setattr(account, name, position[start + offset])
    return services.Moved(transfer)


def _call(params: list[Any]) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(_CALL, params)
        return cursor.fetchone()


def _refuse(
    error: DatabaseError, *, payer: Account, payee: Account, amount: int, initiator: str, key: str, digest: str
) -> None:
    """Raise the LedgerRefusal the Python path raises for what credits_payment refused; return if it refused nothing."""
    cause = error.__cause__
    code = getattr(cause, "pgcode", None)
    if code == KEY_REUSED:
        services._replay(initiator, key, digest)  # raises, in the Python path's words
    elif code == REFUSED:
        locked = json.loads(cause.diag.message_detail)  # type: ignore[union-attr]
        payer_locked, payee_locked = (
            Account(**{k: v for k, v in locked[side].items() if k in _ACCOUNT_FIELDS}) for side in ("payer", "payee")
        )
        effect = services._plain(amount)
        services._check(
            payer_locked, side=Entry.Side.DEBIT, amount=effect.debit_amount, pending=0, kind=Transfer.Kind.PAYMENT
        )
        services._check(
            payee_locked, side=Entry.Side.CREDIT, amount=effect.credit_amount, pending=0, kind=Transfer.Kind.PAYMENT
        )
