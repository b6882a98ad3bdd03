"""The audit log is append-only, enforced by the database itself (see core/append_only.py)."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_entry")]
    operations = [append_only(["core_auditentry"], function="core_audit_refuse_change")]
