"""A payment in one round trip on PostgreSQL: credits_payment() does in the database what services._move does for a
payment, so that network_credits.services.transfer sends one statement instead of about eight (network_credits/
postgres.py calls it). Nothing here replaces a check of migration 0002: the function writes the same rows through
the same triggers, which still enforce every invariant; its own checks come first only to give the same clear
refusals as the Python path.

credits_payment(id, payer, payee, amount, memo, initiator, key, request_hash, created_by, created_at, applied_at):
1. claims the idempotency key: INSERT of the transfer ... ON CONFLICT (initiator, idempotency_key) DO NOTHING. A twin
   sent at the same moment waits on the unique index for the first to commit or roll back; when the key is taken,
   the stored transfer is returned (`replayed`), or, for a different request_hash, SQLSTATE CR001;
2. locks the two accounts in id order (FOR NO KEY UPDATE: the foreign keys of the transfer and its entries take KEY
   SHARE locks on the same rows) and checks them with the rules of services._check; a refusal raises SQLSTATE CR000
   with the rule's code as its message and the two locked accounts as JSON in its detail, from which the caller
   words the refusal exactly as the Python path does — and the statement's failure undoes the claim of the key;
3. inserts the two entries (the triggers apply them to the accounts and check the transfer at commit), stamped with
   the database's clock under the locks, so that an account's entries are in time order as well as id order (or
   with `applied_at` when the ledger's clock is set: services.clock, for the demo's history and for tests);
4. returns whether it was replayed, the transfer's columns, and both accounts' positions after it.

SQLite: nothing (services.transfer takes the Python path there).
"""

from typing import Any

from django.db import migrations

POSTGRES = r"""
CREATE FUNCTION credits_payment(
    p_id uuid, p_payer bigint, p_payee bigint, p_amount bigint, p_memo text, p_initiator text, p_key text,
    p_request_hash text, p_created_by bigint, p_created_at timestamptz, p_applied_at timestamptz,
    OUT replayed boolean, OUT transfer network_credits_transfer,
    OUT payer_balance bigint, OUT payer_pending_debits bigint, OUT payer_pending_credits bigint, OUT payer_status text,
    OUT payee_balance bigint, OUT payee_pending_debits bigint, OUT payee_pending_credits bigint, OUT payee_status text
) AS $$
DECLARE
    locked network_credits_account;
    payer network_credits_account;
    payee network_credits_account;
    refusal text;
    applied timestamptz;
BEGIN
    INSERT INTO network_credits_transfer AS t (id, kind, debit_account_id, credit_account_id, amount, memo, hold_id,
            original_id, initiator, idempotency_key, request_hash, created_by_id, created_at)
        VALUES (p_id, 'payment', p_payer, p_payee, p_amount, p_memo, NULL, NULL, p_initiator, p_key, p_request_hash,
            p_created_by, p_created_at)
        ON CONFLICT (initiator, idempotency_key) DO NOTHING
        RETURNING t.* INTO transfer;
    IF NOT FOUND THEN
        -- A new snapshot (READ COMMITTED): the twin that held the key has committed.
        SELECT * INTO transfer FROM network_credits_transfer t
            WHERE t.initiator = p_initiator AND t.idempotency_key = p_key;
        IF transfer.request_hash <> p_request_hash THEN
            RAISE EXCEPTION 'idempotency_key_reused' USING ERRCODE = 'CR001';
        END IF;
        replayed := true;
        RETURN;
    END IF;
    replayed := false;

    FOR locked IN SELECT * FROM network_credits_account a WHERE a.id IN (p_payer, p_payee) ORDER BY a.id
            FOR NO KEY UPDATE LOOP
        IF locked.id = p_payer THEN
            payer := locked;
        ELSE
            payee := locked;
        END IF;
    END LOOP;

    -- services._check, the payer's side (a payment starts a movement), then the payee's.
    IF payer.status = 'closed' THEN
        refusal := 'account_closed';
    ELSIF payer.status <> 'active' THEN
        refusal := 'account_frozen';
    ELSIF payer.kind <> 'system' AND payer.balance - payer.pending_debits - p_amount < -payer.credit_limit THEN
        refusal := 'insufficient_credit';
    ELSIF payee.status = 'closed' THEN
        refusal := 'account_closed';
    ELSIF payee.status <> 'active' THEN
        refusal := 'account_frozen';
    ELSIF payee.kind <> 'system' AND payee.upper_limit IS NOT NULL
            AND payee.balance + payee.pending_credits + p_amount > payee.upper_limit THEN
        refusal := 'over_upper_limit';
    END IF;
    IF refusal IS NOT NULL THEN
        RAISE EXCEPTION '%', refusal USING ERRCODE = 'CR000',
            DETAIL = json_build_object('payer', to_jsonb(payer), 'payee', to_jsonb(payee))::text;
    END IF;

    applied := coalesce(p_applied_at, clock_timestamp());  -- the database's clock under the locks, unless set
    INSERT INTO network_credits_entry (transfer_id, account_id, side, amount, pending, balance_after,
            pending_debits_after, created_at)
        VALUES (p_id, p_payer, 'debit', -p_amount, 0, payer.balance - p_amount, payer.pending_debits, applied),
               (p_id, p_payee, 'credit', p_amount, 0, payee.balance + p_amount, payee.pending_debits, applied);
    payer_balance := payer.balance - p_amount;
    payer_pending_debits := payer.pending_debits;
    payer_pending_credits := payer.pending_credits;
    payer_status := payer.status;
    payee_balance := payee.balance + p_amount;
    payee_pending_debits := payee.pending_debits;
    payee_pending_credits := payee.pending_credits;
    payee_status := payee.status;
END $$ LANGUAGE plpgsql;
"""

POSTGRES_DROP = """
DROP FUNCTION IF EXISTS credits_payment(uuid, bigint, bigint, bigint, text, text, text, text, bigint, timestamptz,
    timestamptz);
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES, None)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, None)


class Migration(migrations.Migration):
    dependencies = [("network_credits", "0003_supplier_accounts")]
    operations = [migrations.RunPython(create, drop)]
