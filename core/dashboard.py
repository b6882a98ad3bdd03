"""The dashboard framework: the Django admin as the suppliers' dashboard, and the base class every app's admin uses.

- `DashboardSite` answers "what may this request see" once (`site.access(request)`, an `core.access.Access`); the
  project plugs in how that is worked out (socialbiz/admin.py). It lets in operators and supplier members, and its
  home lists what needs the person's attention, from every app's attention providers (oldest first, capped).
- An attention provider is `provider(access) -> Iterable[AttentionItem]`, registered with `attention_provider` in
  its app's `AppConfig.ready()`. It is called only for operators and supplier members; it lists what needs doing
  within `access` (every supplier for an operator, `access.readable` otherwise: `readable_rows` does that), in any
  order, each item with its supplier and a dashboard URL that opens the page where it is fixed. It runs a bounded
  number of queries however many rows there are (the home page pins its query count).
- `ScopedAdmin` scopes a model's rows to the suppliers the person works for (reached by `supplier_path`), scopes
  foreign-key choices the same way, and writes through services: `service_save` (and `service_delete`, without
  which nothing is deleted). A `ValidationError` a service raises becomes an error on the right field of the form
  that was sent (or of the inline row it came from), and nothing of the request is kept.

Rules live in the services; the admin never repeats one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from core.access import NOBODY, Access

# What needs attention ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionItem:
    """Something a supplier (or the network) should do: shown on the dashboard's home, oldest first."""

    since: date | datetime  # when it started to need attention
    title: str
    detail: str
    url: str  # the dashboard page (or filtered list) where it is fixed
    supplier_id: int | None = None
    supplier_name: str = ""
    action: str = "Fix it"  # the link's text: what the person does there

    @property
    def day(self) -> date:
        return self.since.date() if isinstance(self.since, datetime) else self.since


AttentionProvider = Callable[[Access], Iterable[AttentionItem]]
_providers: list[AttentionProvider] = []
ATTENTION_LIMIT = 100


def attention_provider(provider: AttentionProvider) -> AttentionProvider:
    """Register a function that lists what needs attention, for one person's access (apps call it in ready())."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def attention_items(access: Access) -> list[AttentionItem]:
    """Everything the registered providers list for this access, oldest first."""
    if not (access.operator or access.member):
        return []
    items = [item for provider in _providers for item in provider(access)]
    return sorted(items, key=lambda item: (item.day, item.supplier_name, item.title))


def readable_rows(queryset: models.QuerySet[Any], access: Access, supplier_path: str) -> models.QuerySet[Any]:
    """The rows of `queryset` whose supplier (reached by `supplier_path`, e.g. "product__supplier") the person may
    read: all of them for an operator."""
    return queryset if access.operator else queryset.filter(**{f"{supplier_path}__in": access.readable})


# The site ---------------------------------------------------------------------------------------------------------


class DashboardLoginForm(AuthenticationForm):
    """The admin's log-in, open to supplier members as well as operators (the admin's own wants is_staff)."""

    dashboard: DashboardSite

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        access = self.dashboard.access_for(user)
        if not (access.operator or access.member):
            raise forms.ValidationError(
                "This account has no access to the dashboard: it is for suppliers' staff and the network's operators.",
                code="no_dashboard_access",
            )


class DashboardSite(admin.AdminSite):
    """The Django admin as the suppliers' dashboard: open to operators and to members of a supplier."""

    site_header = "socialbiz dashboard"
    site_title = "socialbiz dashboard"
    index_title = "Dashboard"
    site_url = "/"
    index_template = "admin/dashboard_index.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self.login_form = type("DashboardLoginForm", (DashboardLoginForm,), {"dashboard": self})

    def access_for(self, user: Any) -> Access:
        """Work out a person's access; the project says how (the library knows no memberships)."""
        return NOBODY

    def access(self, request: HttpRequest) -> Access:
        """The request user's access, worked out once per request."""
        cached = getattr(request, "_dashboard_access", None)
        if cached is None or cached[0] is not request.user:
            cached = (request.user, self.access_for(request.user))
            request._dashboard_access = cached  # type: ignore[attr-defined]
        return cached[1]

    def has_permission(self, request: HttpRequest) -> bool:
        access = self.access(request)
        return access.operator or access.member

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        access = self.access(request)
        items = attention_items(access)
        context = {
            "attention": items[:ATTENTION_LIMIT],
            "attention_more": max(0, len(items) - ATTENTION_LIMIT),
            "attention_network": access.operator,
            **(extra_context or {}),
        }
        return super().index(request, context)


# Service errors on forms ------------------------------------------------------------------------------------------


class ServiceRefused(Exception):
    """A service refused a write the dashboard asked for: its errors, by the prefix of the form they belong to
    (None for the page's main form)."""

    def __init__(self, errors: dict[str | None, ValidationError]) -> None:
        super().__init__(errors)
        self.errors = errors


def add_service_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on a form: each field's messages on that field when the form has it, the
    rest (and fields shown read-only) as the form's own errors."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            form.add_error(target, errors)
    else:
        form.add_error(None, error)


@contextmanager
def refusal_for(form: forms.BaseForm) -> Iterator[None]:
    """Inside: a ValidationError is the refusal of this form (an inline row, say), not of the page's main form."""
    try:
        yield
    except ValidationError as error:
        raise ServiceRefused({form.prefix: error}) from error


def _with_service_errors(form_class: type[Any], errors: dict[str | None, ValidationError], key: str | None) -> Any:
    if key not in errors:
        return form_class

    def clean(self: Any) -> Any:
        data = form_class.clean(self)
        add_service_error(self, errors[key])
        return data

    new_class = type(form_class.__name__, (form_class,), {"clean": clean})
    return new_class


def _formset_with_service_errors(formset_class: type[Any], errors: dict[str | None, ValidationError]) -> Any:
    def clean(self: Any) -> None:
        formset_class.clean(self)
        refused = []
        for form in self.forms:
            if form.prefix in errors:
                add_service_error(form, errors[form.prefix])
                if self.can_delete and self._should_delete_form(form):
                    refused += errors[form.prefix].messages  # a row being deleted is not validated: say it here
        if self.prefix in errors:
            refused += errors[self.prefix].messages
        if refused:
            raise ValidationError(refused)

    new_class = type(formset_class.__name__, (formset_class,), {"clean": clean})
    return new_class


def _service_errors(request: HttpRequest) -> dict[str | None, ValidationError]:
    return getattr(request, "_service_errors", {})


# The admin base classes -------------------------------------------------------------------------------------------


def keep_what_was_shown(form_class: Any) -> None:
    """Make a change form compare what is sent with what it showed (hidden initial values), not with the row as it
    is now: two people editing different fields of one row at once then change only their own fields."""
    for field in form_class.base_fields.values():
        if not isinstance(field, forms.FileField | forms.ModelMultipleChoiceField):
            field.show_hidden_initial = True


def stored(obj: models.Model) -> Any:
    """The row as the database has it. A ModelForm writes every field into its instance while it validates, so a
    service handed that instance could not tell what changed (and would write back what the form showed)."""
    return type(obj)._default_manager.get(pk=obj.pk)


def form_changes(form: forms.BaseForm, fields: Iterable[str], change: bool) -> dict[str, Any]:
    """What a dashboard form gives a service: the changed fields on a change, all of them on an add."""
    allowed = set(fields)
    names = form.changed_data if change else list(form.cleaned_data)
    return {name: form.cleaned_data[name] for name in names if name in allowed}


class ScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows belong to a supplier, reached from the model by `supplier_path` ("id" for the
    supplier itself). Writes go through `service_save`; deletes through `service_delete`, or not at all."""

    supplier_path = "supplier"

    # Scope

    def access(self, request: HttpRequest) -> Access:
        site = self.admin_site
        return site.access(request) if isinstance(site, DashboardSite) else NOBODY

    def supplier_id_of(self, obj: models.Model) -> int:
        if self.supplier_path in ("id", "pk"):
            return obj.pk
        return operator.attrgetter(self.supplier_path.replace("__", ".") + "_id")(obj)

    def writable_ids(self, access: Access) -> frozenset[int]:
        return access.editable

    def scoped(self, queryset: models.QuerySet[Any], access: Access, ids: frozenset[int]) -> models.QuerySet[Any]:
        """The rows of `queryset` (of this admin's model) whose supplier is in `ids`; all of them for operators."""
        return queryset if access.operator else queryset.filter(**{f"{self.supplier_path}__in": ids})

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        access = self.access(request)
        return self.scoped(super().get_queryset(request), access, access.readable)

    def has_module_permission(self, request: HttpRequest) -> bool:
        access = self.access(request)
        return super().has_module_permission(request) if access.operator else access.member

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        access = self.access(request)
        if access.operator:
            return super().has_view_permission(request, obj)
        return access.member if obj is None else self.supplier_id_of(obj) in access.readable

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        access = self.access(request)
        return super().has_add_permission(request, *args) if access.operator else bool(self.writable_ids(access))

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        access = self.access(request)
        if access.operator:
            return super().has_change_permission(request, obj)
        writable = self.writable_ids(access)
        return bool(writable) if obj is None else self.supplier_id_of(obj) in writable

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if type(self).service_delete is ScopedAdmin.service_delete:
            return False  # no service deletes this model: nothing is deleted through the dashboard
        access = self.access(request)
        if access.operator:
            return super().has_delete_permission(request, obj)
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A foreign key to another scoped model offers only the rows the person may write to.
        related = self.admin_site._registry.get(db_field.related_model)
        access = self.access(request)
        if isinstance(related, ScopedAdmin) and not access.operator and "queryset" not in kwargs:
            queryset = db_field.related_model._default_manager.all()
            kwargs["queryset"] = related.scoped(queryset, access, self.writable_ids(access))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A member of one supplier adds rows for that supplier: preselect it.
        initial = super().get_changeform_initial_data(request)
        editable = self.access(request).editable
        if len(editable) == 1 and "__" not in self.supplier_path and self.supplier_path not in ("id", "pk"):
            initial.setdefault(self.supplier_path, str(next(iter(editable))))
        return initial

    # Writes

    def service_save(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} must save through a service")

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        # The form has already written every field into `obj`; the service gets the row as stored and the changes.
        saved = self.service_save(request, stored(obj) if change else obj, form, change)
        if not change:
            # The admin goes on to save inlines against `obj`: make it the row the service created.
            obj.pk = saved.pk
            obj._state.adding = False
            obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.service_delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        with transaction.atomic():  # all of the selection, or none of it
            for obj in queryset:
                self.service_delete(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            keep_what_was_shown(form_class)
        return _with_service_errors(form_class, _service_errors(request), None)

    def get_formsets_with_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        errors = _service_errors(request)
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            yield (_formset_with_service_errors(formset, errors) if errors else formset), inline

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            errors = refused.errors
        except ValidationError as error:  # from service_save or save_related: the main form's
            errors = {None: error}
        # Everything the request did was rolled back with the refusal; show the same form again, with the errors.
        request._service_errors = errors  # type: ignore[attr-defined]
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )

    def response_action(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        try:
            return super().response_action(request, queryset)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ScopedInline(admin.options.InlineModelAdmin):
    """An inline of a ScopedAdmin's page: its rows belong to the parent's supplier, and go through services."""

    def access(self, request: HttpRequest) -> Access:
        site = self.admin_site
        return site.access(request) if isinstance(site, DashboardSite) else NOBODY

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # the parent admin already limits which objects can be opened
