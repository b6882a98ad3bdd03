"""Trace events, their lines and error declarations are append-only, enforced by the database itself (see
core/append_only.py)."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("provenance", "0001_initial")]
    operations = [
        append_only(
            ["provenance_traceevent", "provenance_eventline", "provenance_errordeclaration"],
            function="provenance_refuse_change",
        )
    ]
