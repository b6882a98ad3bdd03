"""Writing only what changed: the helpers every app's update services use, so that two people changing different
fields of one row keep both changes."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


def assign_changes(instance: models.Model, changes: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    """Set the given fields; return the names of those whose value changed. Unknown fields are an error."""
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    changed = []
    for field, value in changes.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    return changed


def save_changes(instance: models.Model, changed: list[str]) -> None:
    """Validate the whole row, then write only the changed columns (and any auto_now column)."""
    instance.full_clean()
    if not changed:
        return
    auto_now = [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]
    instance.save(update_fields=sorted({*changed, *auto_now}))
