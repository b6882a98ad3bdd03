"""The ledger's invariants, kept by the database itself, whatever code (or person with a SQL prompt) writes to it.

PostgreSQL:
- transfers, entries, limit changes and external payments are append-only (UPDATE and DELETE refused);
- an account opens at 0, and its balance and pending amounts change only by entries: inserting an entry applies it
  to its account (and records the position after it); an UPDATE of those columns that does not come from an entry
  is refused;
- an entry's account is its transfer's payer (debit side) or payee (credit side);
- at commit, every transfer has exactly its two entries, whose amounts and pending changes each sum to 0 and match
  the transfer's amount — so all balances sum to 0, always;
- a non-system account's balance minus its holds never goes below −credit limit, unless the change improves it (a
  lowered limit never traps a member), nor above its upper limit unless the change lowers it;
- an account that is not active receives nothing; a closed account never reopens;
- a hold opens pending, as its own hold transfer reserved it; it changes state once, from pending, to what its
  post or void did, and that post or void moves credits between the hold's own payer and payee;
- a refund or reversal goes back along its original, and all of them together never exceed it.

SQLite (the embedded mode, one writer at a time): the same append-only rule for UPDATE, entries applied to their
accounts by a trigger, and the floor, upper limit and frozen rules on accounts; the services check the rest.
"""

from typing import Any

from django.db import migrations

from core.append_only import append_only

APPEND_ONLY = [
    "network_credits_transfer",
    "network_credits_entry",
    "network_credits_creditlimitchange",
    "network_credits_externalpayment",
]

POSTGRES = r"""
CREATE FUNCTION credits_account_opens_empty() RETURNS trigger AS $$
BEGIN
    IF NEW.balance <> 0 OR NEW.pending_debits <> 0 OR NEW.pending_credits <> 0 THEN
        RAISE EXCEPTION 'credit account % must open at 0', NEW.number USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER credits_account_opens_empty BEFORE INSERT ON network_credits_account
    FOR EACH ROW EXECUTE FUNCTION credits_account_opens_empty();

CREATE FUNCTION credits_account_guard() RETURNS trigger AS $$
BEGIN
    IF NEW.number <> OLD.number OR NEW.kind <> OLD.kind OR NEW.user_id IS DISTINCT FROM OLD.user_id
       OR NEW.supplier_id IS DISTINCT FROM OLD.supplier_id OR NEW.system <> OLD.system THEN
        RAISE EXCEPTION 'credit account %: its number and owner never change', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
        RAISE EXCEPTION 'credit account % is closed', OLD.number USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.balance = OLD.balance AND NEW.pending_debits = OLD.pending_debits
       AND NEW.pending_credits = OLD.pending_credits THEN
        RETURN NEW;
    END IF;
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'credit account %: balances change only by entries', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status <> 'active' AND (NEW.balance > OLD.balance OR NEW.pending_credits > OLD.pending_credits) THEN
        RAISE EXCEPTION 'credit account % is %: it receives nothing', OLD.number, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.kind <> 'system' THEN
        IF NEW.balance - NEW.pending_debits < -NEW.credit_limit
           AND NEW.balance - NEW.pending_debits < OLD.balance - OLD.pending_debits THEN
            RAISE EXCEPTION 'credit account %: not enough credit', OLD.number USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.upper_limit IS NOT NULL AND NEW.balance + NEW.pending_credits > NEW.upper_limit
           AND NEW.balance + NEW.pending_credits > OLD.balance + OLD.pending_credits THEN
            RAISE EXCEPTION 'credit account %: above its upper limit', OLD.number USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER credits_account_guard BEFORE UPDATE ON network_credits_account
    FOR EACH ROW EXECUTE FUNCTION credits_account_guard();
CREATE FUNCTION credits_account_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credit accounts are closed, never deleted' USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER credits_account_kept BEFORE DELETE ON network_credits_account
    FOR EACH ROW EXECUTE FUNCTION credits_account_kept();

CREATE FUNCTION credits_entry_apply() RETURNS trigger AS $$
DECLARE
    payer bigint;
    payee bigint;
BEGIN
    SELECT debit_account_id, credit_account_id INTO payer, payee FROM network_credits_transfer
        WHERE id = NEW.transfer_id;
    IF (NEW.side = 'debit' AND NEW.account_id IS DISTINCT FROM payer)
       OR (NEW.side = 'credit' AND NEW.account_id IS DISTINCT FROM payee) THEN
        RAISE EXCEPTION 'an entry''s account is its transfer''s payer (debit) or payee (credit)'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.side = 'debit' THEN
        UPDATE network_credits_account
            SET balance = balance + NEW.amount, pending_debits = pending_debits - NEW.pending
            WHERE id = NEW.account_id
            RETURNING balance, pending_debits INTO NEW.balance_after, NEW.pending_debits_after;
    ELSE
        UPDATE network_credits_account
            SET balance = balance + NEW.amount, pending_credits = pending_credits + NEW.pending
            WHERE id = NEW.account_id
            RETURNING balance, pending_debits INTO NEW.balance_after, NEW.pending_debits_after;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER credits_entry_apply BEFORE INSERT ON network_credits_entry
    FOR EACH ROW EXECUTE FUNCTION credits_entry_apply();

CREATE FUNCTION credits_transfer_balanced() RETURNS trigger AS $$
DECLARE
    n integer;
    total bigint;
    total_pending bigint;
    paid bigint;
    reserved bigint;
    held bigint;
    hold_payer bigint;
    hold_payee bigint;
BEGIN
    SELECT count(*), coalesce(sum(amount), 0), coalesce(sum(pending), 0),
           coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0),
           coalesce(sum(pending) FILTER (WHERE side = 'credit'), 0)
        INTO n, total, total_pending, paid, reserved
        FROM network_credits_entry WHERE transfer_id = NEW.id;
    IF n <> 2 OR total <> 0 OR total_pending <> 0 THEN
        RAISE EXCEPTION 'transfer % does not balance: % entries, sum %, pending sum %', NEW.id, n, total,
            total_pending USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.kind = 'hold' THEN
        IF paid <> 0 OR reserved <> NEW.amount THEN
            RAISE EXCEPTION 'hold % entries do not reserve its amount', NEW.id USING ERRCODE = 'check_violation';
        END IF;
    ELSIF NEW.kind IN ('post', 'void') THEN
        SELECT amount, debit_account_id, credit_account_id INTO held, hold_payer, hold_payee
            FROM network_credits_hold WHERE id = NEW.hold_id;
        IF NEW.debit_account_id IS DISTINCT FROM hold_payer OR NEW.credit_account_id IS DISTINCT FROM hold_payee THEN
            RAISE EXCEPTION '% % is not between its hold''s payer and payee', NEW.kind, NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF reserved <> -held OR paid <> (CASE WHEN NEW.kind = 'post' THEN NEW.amount ELSE 0 END) THEN
            RAISE EXCEPTION '% % entries do not match its hold', NEW.kind, NEW.id USING ERRCODE = 'check_violation';
        END IF;
    ELSIF paid <> NEW.amount OR reserved <> 0 THEN
        RAISE EXCEPTION 'transfer % entries do not move its amount', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER credits_transfer_balanced AFTER INSERT ON network_credits_transfer
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION credits_transfer_balanced();

CREATE FUNCTION credits_transfer_returns() RETURNS trigger AS $$
DECLARE
    first record;
    returned bigint;
BEGIN
    SELECT * INTO first FROM network_credits_transfer WHERE id = NEW.original_id FOR UPDATE;
    IF NEW.debit_account_id <> first.credit_account_id OR NEW.credit_account_id <> first.debit_account_id THEN
        RAISE EXCEPTION '% % must go back from the original''s payee to its payer', NEW.kind, NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT coalesce(sum(amount), 0) INTO returned FROM network_credits_transfer WHERE original_id = NEW.original_id;
    IF returned + NEW.amount > first.amount THEN
        RAISE EXCEPTION 'refunds and reversals of % would exceed it', NEW.original_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER credits_transfer_returns BEFORE INSERT ON network_credits_transfer
    FOR EACH ROW WHEN (NEW.original_id IS NOT NULL) EXECUTE FUNCTION credits_transfer_returns();

CREATE FUNCTION credits_hold_opened() RETURNS trigger AS $$
DECLARE
    opening record;
BEGIN
    SELECT kind, debit_account_id, credit_account_id, amount INTO opening
        FROM network_credits_transfer WHERE id = NEW.transfer_id;
    IF opening.kind IS DISTINCT FROM 'hold' OR opening.debit_account_id <> NEW.debit_account_id
       OR opening.credit_account_id <> NEW.credit_account_id OR opening.amount <> NEW.amount
       OR NEW.state <> 'pending' THEN
        RAISE EXCEPTION 'a hold opens pending, as what its own hold transfer % reserved', NEW.transfer_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER credits_hold_opened BEFORE INSERT ON network_credits_hold
    FOR EACH ROW EXECUTE FUNCTION credits_hold_opened();

CREATE FUNCTION credits_hold_resolves_once() RETURNS trigger AS $$
DECLARE
    resolution record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'holds are never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.state <> 'pending' OR NEW.state = 'pending' OR NEW.amount <> OLD.amount
       OR NEW.debit_account_id <> OLD.debit_account_id OR NEW.credit_account_id <> OLD.credit_account_id
       OR NEW.transfer_id <> OLD.transfer_id OR NEW.expires_at <> OLD.expires_at THEN
        RAISE EXCEPTION 'hold % was already % or is being changed in more than its state', OLD.id, OLD.state
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT kind, amount INTO resolution FROM network_credits_transfer WHERE hold_id = OLD.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'hold % is resolved only by its post or void transfer', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.state = 'posted' AND (resolution.kind <> 'post' OR NEW.posted_amount IS DISTINCT FROM resolution.amount))
       OR (NEW.state IN ('voided', 'expired') AND resolution.kind <> 'void') THEN
        RAISE EXCEPTION 'hold % is %, but its resolution was a % of %', OLD.id, NEW.state, resolution.kind,
            resolution.amount USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER credits_hold_resolves_once BEFORE UPDATE OR DELETE ON network_credits_hold
    FOR EACH ROW EXECUTE FUNCTION credits_hold_resolves_once();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS credits_hold_resolves_once ON network_credits_hold;
DROP TRIGGER IF EXISTS credits_hold_opened ON network_credits_hold;
DROP TRIGGER IF EXISTS credits_transfer_returns ON network_credits_transfer;
DROP TRIGGER IF EXISTS credits_transfer_balanced ON network_credits_transfer;
DROP TRIGGER IF EXISTS credits_entry_apply ON network_credits_entry;
DROP TRIGGER IF EXISTS credits_account_kept ON network_credits_account;
DROP TRIGGER IF EXISTS credits_account_guard ON network_credits_account;
DROP TRIGGER IF EXISTS credits_account_opens_empty ON network_credits_account;
DROP FUNCTION IF EXISTS credits_hold_resolves_once(), credits_hold_opened(), credits_transfer_returns(), credits_transfer_balanced(),
    credits_entry_apply(), credits_account_kept(), credits_account_guard(), credits_account_opens_empty();
"""

SQLITE = [
    """CREATE TRIGGER credits_account_opens_empty BEFORE INSERT ON network_credits_account
       WHEN NEW.balance <> 0 OR NEW.pending_debits <> 0 OR NEW.pending_credits <> 0
       BEGIN SELECT RAISE(ABORT, 'a credit account must open at 0'); END""",
    """CREATE TRIGGER credits_account_guard BEFORE UPDATE ON network_credits_account
       WHEN NEW.number <> OLD.number OR NEW.kind <> OLD.kind OR NEW.user_id IS NOT OLD.user_id
         OR NEW.supplier_id IS NOT OLD.supplier_id OR NEW.system <> OLD.system
         OR (OLD.status = 'closed' AND NEW.status <> 'closed')
         OR (NEW.status <> 'active' AND (NEW.balance > OLD.balance OR NEW.pending_credits > OLD.pending_credits))
         OR (NEW.kind <> 'system' AND NEW.balance - NEW.pending_debits < -NEW.credit_limit
             AND NEW.balance - NEW.pending_debits < OLD.balance - OLD.pending_debits)
         OR (NEW.kind <> 'system' AND NEW.upper_limit IS NOT NULL
             AND NEW.balance + NEW.pending_credits > NEW.upper_limit
             AND NEW.balance + NEW.pending_credits > OLD.balance + OLD.pending_credits)
       BEGIN SELECT RAISE(ABORT, 'credit account: refused by the ledger''s rules'); END""",
    """CREATE TRIGGER credits_entry_checked BEFORE INSERT ON network_credits_entry
       WHEN NEW.account_id IS NOT (SELECT CASE NEW.side WHEN 'debit' THEN debit_account_id ELSE credit_account_id END
                                   FROM network_credits_transfer WHERE id = NEW.transfer_id)
         OR NEW.balance_after IS NOT (SELECT balance + NEW.amount FROM network_credits_account
                                      WHERE id = NEW.account_id)
       BEGIN SELECT RAISE(ABORT, 'an entry must belong to its transfer''s accounts and follow the balance'); END""",
    """CREATE TRIGGER credits_entry_apply AFTER INSERT ON network_credits_entry
       BEGIN
         UPDATE network_credits_account SET
           balance = balance + NEW.amount,
           pending_debits = pending_debits - CASE NEW.side WHEN 'debit' THEN NEW.pending ELSE 0 END,
           pending_credits = pending_credits + CASE NEW.side WHEN 'credit' THEN NEW.pending ELSE 0 END
         WHERE id = NEW.account_id;
       END""",
    """CREATE TRIGGER credits_hold_resolves_once BEFORE UPDATE ON network_credits_hold
       WHEN OLD.state <> 'pending' OR NEW.state = 'pending' OR NEW.amount <> OLD.amount
       BEGIN SELECT RAISE(ABORT, 'a hold is resolved once'); END""",
]
SQLITE_TRIGGERS = [
    "credits_account_opens_empty",
    "credits_account_guard",
    "credits_entry_checked",
    "credits_entry_apply",
    "credits_hold_resolves_once",
]


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES, None)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, None)
    elif vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("network_credits", "0001_initial")]
    operations = [
        append_only(APPEND_ONLY, function="credits_refuse_change"),
        migrations.RunPython(create, drop),
    ]
