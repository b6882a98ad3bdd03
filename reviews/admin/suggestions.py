"""Suggestions in the dashboard: the supplier's owners and editors (and operators) answer one by moving it to a new
status with a public response — the suggestion's page is that form, written through services.suggestion_status_set.
Its history is shown as it stands (a field, not an inline: nothing in it is ever changed). A suggestion merged as
a duplicate is read-only."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from purchases.admin.wording import when
from reviews import services
from reviews.admin.forms import StatusForm
from reviews.admin.scoped import ReviewsScoped, written
from reviews.models import StatusChange, Suggestion


class AnsweredFilter(admin.SimpleListFilter):
    title = "answer"
    parameter_name = "answered"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Not answered yet"), ("yes", "Answered")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Suggestion]) -> models.QuerySet[Suggestion]:
        answered = StatusChange.objects.exclude(previous="").values("suggestion_id")
        if self.value() == "no":
            return queryset.filter(status=Suggestion.Status.OPEN).exclude(pk__in=answered)
        if self.value() == "yes":
            return queryset.filter(pk__in=answered)
        return queryset


@admin.register(Suggestion)
class SuggestionAdmin(ReviewsScoped):
    supplier_path = "supplier"
    list_display = ["title", "product_name", "status", "vote_count", "received"]
    list_filter = [AnsweredFilter, "status"]
    list_select_related = ["product", "supplier"]
    search_fields = ["title", "body"]
    shown = [
        "product_name", "author_name", "title", "text", "current_status", "vote_count", "received", "merged_into",
        "history",
    ]  # fmt: skip

    @admin.display(description="product", ordering="product__name")
    def product_name(self, obj: Suggestion) -> str:
        return obj.product.name

    @admin.display(description="status")
    def current_status(self, obj: Suggestion) -> str:
        return obj.get_status_display()

    @admin.display(description="by")
    def author_name(self, obj: Suggestion) -> str:
        return obj.author.public_name

    @admin.display(description="suggestion")
    def text(self, obj: Suggestion) -> Any:
        return written(obj.body)

    @admin.display(description="received", ordering="created_at")
    def received(self, obj: Suggestion) -> str:
        return when(obj.created_at)

    @admin.display(description="merged into")
    def merged_into(self, obj: Suggestion) -> str:
        return f"#{obj.duplicate_of_id}: {obj.duplicate_of.title}" if obj.duplicate_of_id else "—"

    @admin.display(description="public history")
    def history(self, obj: Suggestion) -> Any:
        """Every status it has had, with its public response: read, never changed."""
        steps = obj.history.select_related("by_supplier").order_by("created_at", "id")
        return format_html(
            '<ol class="status-history">{}</ol>',
            format_html_join(
                "",
                "<li><strong>{}</strong> · {} · by {}{}</li>",
                (
                    (
                        f"{Suggestion.Status(step.previous).label} → {step.get_status_display()}"
                        if step.previous
                        else "Opened",
                        when(step.created_at),
                        step.by_supplier.legal_name if step.by_supplier_id else "the network",
                        written(step.response) if step.response else "",
                    )
                    for step in steps
                ),
            ),
        )

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Suggestion]:
        return super().get_queryset(request).select_related("product", "supplier", "author", "duplicate_of")

    def get_ordering(self, request: HttpRequest) -> Any:
        # The inbox is worked through oldest first; otherwise most votes first, as on the product's page.
        return ["created_at", "id"] if request.GET.get("answered") == "no" else ["-vote_count", "created_at", "id"]

    def get_list_display(self, request: HttpRequest) -> Any:
        access = self.access(request)
        several = access.operator or len(access.readable) > 1
        return [*self.list_display, "supplier"] if several else self.list_display

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # shoppers suggest, on the product's page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status == Suggestion.Status.DUPLICATE:
            return False  # merged: its answer is the one it was merged into
        return super().has_change_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None and self.has_change_permission(request, obj):
            others = Suggestion.objects.filter(product_id=obj.product_id).exclude(pk=obj.pk).exclude(status="duplicate")
            kwargs["form"] = type("StatusForm", (StatusForm,), {"others": others.order_by("-vote_count", "id")})
            kwargs["fields"] = []
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[Any] = [(None, {"fields": self.shown})]
        if obj is not None and self.has_change_permission(request, obj):
            fieldsets.append(("Answer it", {"fields": ["status", "response", "duplicate_of"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.shown

    def service_save(self, request: HttpRequest, obj: Suggestion, form: forms.ModelForm, change: bool) -> Any:
        data = form.cleaned_data
        duplicate_of = data.get("duplicate_of")
        return services.suggestion_status_set(
            actor=request.user,
            suggestion_id=obj.pk,
            status=data["status"],
            response=data.get("response", ""),
            duplicate_of_id=duplicate_of.pk if duplicate_of else None,
        )

    def response_change(self, request: HttpRequest, obj: Suggestion) -> HttpResponseRedirect:
        obj.refresh_from_db()
        self.message_user(
            request,
            f"“{obj.title}” is now {obj.get_status_display().lower()}: your response is public.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:reviews_suggestion_change", args=[obj.pk]))
