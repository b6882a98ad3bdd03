"""Every supplier registered before the ledger existed gets its account (later ones get it when registered).

The ledger imports no other app; this migration reads the catalog's suppliers through the migration state only.
"""

from typing import Any

from django.conf import settings
from django.db import migrations

from network_credits.models import new_account_number


def open_accounts(apps: Any, schema_editor: Any) -> None:
    Supplier = apps.get_model("products", "Supplier")
    Account = apps.get_model("network_credits", "Account")
    have = set(Account.objects.filter(kind="supplier").values_list("supplier_id", flat=True))
    for supplier_id, name in Supplier.objects.values_list("pk", "legal_name"):
        if supplier_id not in have:
            Account.objects.create(
                number=new_account_number(),
                kind="supplier",
                supplier_id=supplier_id,
                name=name[:200],
                credit_limit=settings.CREDITS_DEFAULT_SUPPLIER_LIMIT,
            )


class Migration(migrations.Migration):
    dependencies = [("network_credits", "0002_ledger_invariants"), ("products", "0002_withdrawn_archived_first_published")]
    operations = [migrations.RunPython(open_accounts, migrations.RunPython.noop)]
