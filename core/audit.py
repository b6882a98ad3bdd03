"""The audit log: every change that matters to trust, written by the service that makes it, never rewritten.

    audit_record(actor=user, action="declaration.changed", target=declaration, supplier_id=supplier.pk,
                 changes=changes_between(before, snapshot(declaration, FIELDS)), reason="New lab test")

Services call `audit_record` inside their own transaction, so an entry exists exactly when the change does.
The table is append-only in the database (core/migrations/0002_audit_append_only.py).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import AuditEntry


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "code"):  # django-countries' Country
        return value.code
    if value is not None and not isinstance(value, str | int | float | bool | list | dict):
        return str(value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of some fields of an instance, as JSON can hold them (dates as ISO text, decimals as text)."""
    return {name: _json_value(getattr(instance, name)) for name in fields}


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field → [before, after] for every field whose value differs."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    supplier_id: int | None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Write one entry to the audit log (inside the caller's transaction)."""
    person = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=person,
        actor_name=(getattr(person, "email", "") or str(person)) if person else "",
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        supplier_id=supplier_id,
        changes=changes or {},
        reason=reason.strip(),
    )


def history_of(model: type[models.Model], ids: Iterable[Any]) -> models.QuerySet[AuditEntry]:
    """The entries about these rows of a model, oldest first: one query."""
    opts = model._meta
    return AuditEntry.objects.filter(
        target_type__app_label=opts.app_label, target_type__model=opts.model_name, target_id__in=[str(pk) for pk in ids]
    ).order_by("at", "id")
