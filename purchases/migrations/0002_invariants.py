"""What the database itself keeps true of purchases, whatever code writes to it.

- A batch's stock never holds more units than the batch has: an UPDATE that raises `held` above the batch's quantity
  is refused (lowering it is always allowed, also when the supplier has since lowered the quantity). Both databases.
- An order's timeline is append-only: UPDATE and DELETE of its events are refused. PostgreSQL (SQLite's test
  databases are emptied with DELETE).
"""

from typing import Any

from django.db import migrations

POSTGRES = """
CREATE FUNCTION purchases_stock_within_quantity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.held > OLD.held AND NEW.held > (SELECT quantity FROM products_batch WHERE id = NEW.batch_id) THEN
        RAISE EXCEPTION 'batch % has fewer units than its orders would hold (%)', NEW.batch_id, NEW.held
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER purchases_stock_within_quantity BEFORE UPDATE OF held ON purchases_stock
    FOR EACH ROW EXECUTE FUNCTION purchases_stock_within_quantity();

CREATE FUNCTION purchases_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER purchases_orderevent_append_only BEFORE UPDATE OR DELETE ON purchases_orderevent
    FOR EACH ROW EXECUTE FUNCTION purchases_append_only();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS purchases_orderevent_append_only ON purchases_orderevent;
DROP FUNCTION IF EXISTS purchases_append_only();
DROP TRIGGER IF EXISTS purchases_stock_within_quantity ON purchases_stock;
DROP FUNCTION IF EXISTS purchases_stock_within_quantity();
"""

SQLITE = """
CREATE TRIGGER purchases_stock_within_quantity BEFORE UPDATE OF held ON purchases_stock
FOR EACH ROW WHEN NEW.held > OLD.held AND NEW.held > (SELECT quantity FROM products_batch WHERE id = NEW.batch_id)
BEGIN
    SELECT RAISE(ABORT, 'a batch has fewer units than its orders would hold');
END
"""


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES, None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE)


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, None)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS purchases_stock_within_quantity")


class Migration(migrations.Migration):
    dependencies = [("purchases", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
