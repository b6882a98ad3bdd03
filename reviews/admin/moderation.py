"""The operators' moderation queue: the reports (flags) not yet decided, harmful-or-illegal first (their reviews are
hidden meanwhile), then the oldest. A flag's page shows the review and every open report of it, and is the decision
form — keep, remove, or ask the author to edit, with a written reason — written through services.review_decide,
which closes every open report of the review at once. Decided reports are read-only. Suppliers never see this
queue (who reported what is for the moderators): their own reports are counted on their public page."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from purchases.admin.wording import when
from reviews import services
from reviews.admin.forms import DecisionForm
from reviews.admin.scoped import ReviewsScoped, stars, written
from reviews.models import Flag


class DecidedFilter(admin.SimpleListFilter):
    """To decide (the default), decided, or all."""

    title = "decision"
    parameter_name = "decided"
    CHOICES = (("open", "To decide"), ("decided", "Decided"), ("all", "All"))

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(self.CHOICES)

    def choices(self, changelist: Any) -> Any:
        current = self.value() or "open"
        for value, label in self.CHOICES:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Flag]) -> models.QuerySet[Flag]:
        value = self.value() or "open"
        if value == "open":
            return queryset.filter(decision__isnull=True)
        if value == "decided":
            return queryset.filter(decision__isnull=False)
        return queryset


# The selectors' rule (reviews.selectors.open_flags): harmful or illegal first, its review hidden meanwhile.
URGENT = Case(When(reason=Flag.Reason.HARMFUL, then=Value(0)), default=Value(1), output_field=IntegerField())


@admin.register(Flag)
class FlagAdmin(ReviewsScoped):
    supplier_path = "review__supplier"
    list_display = ["reported_review", "reason", "by_the_supplier", "supplier_name", "reported", "decided"]
    list_filter = [DecidedFilter, "reason"]
    shown = [
        "review_link", "supplier_name", "review_state", "review_stars", "review_title", "review_text",
        "reported_for", "note_text", "flagger_name", "by_the_supplier", "reported", "other_reports", "decided",
    ]  # fmt: skip

    # Columns and fields

    @admin.display(description="review")
    def reported_review(self, obj: Flag) -> str:
        return obj.review.title

    @admin.display(description="review")
    def review_link(self, obj: Flag) -> str:
        url = reverse("admin:reviews_review_change", args=[obj.review_id])
        return format_html('<a href="{}">“{}”</a> of {}', url, obj.review.title, obj.review.product.name)

    @admin.display(description="supplier")
    def supplier_name(self, obj: Flag) -> str:
        return obj.review.supplier.legal_name

    @admin.display(description="review is")
    def review_state(self, obj: Flag) -> str:
        return obj.review.get_state_display()

    @admin.display(description="rating")
    def review_stars(self, obj: Flag) -> str:
        return stars(obj.review.rating)

    @admin.display(description="title")
    def review_title(self, obj: Flag) -> str:
        return obj.review.title

    @admin.display(description="text")
    def review_text(self, obj: Flag) -> Any:
        return written(obj.review.body)

    @admin.display(description="reported for")
    def reported_for(self, obj: Flag) -> str:
        return obj.get_reason_display()  # by another name: "reason" is the decision's written reason

    @admin.display(description="note")
    def note_text(self, obj: Flag) -> Any:
        return written(obj.note) if obj.note else "—"

    @admin.display(description="reported by")
    def flagger_name(self, obj: Flag) -> str:
        return f"{obj.flagger.public_name} ({obj.flagger.email})"

    @admin.display(description="by the supplier's people", boolean=True)
    def by_the_supplier(self, obj: Flag) -> bool:
        return obj.by_supplier_id is not None

    @admin.display(description="reported", ordering="created_at")
    def reported(self, obj: Flag) -> str:
        return when(obj.created_at)

    @admin.display(description="other open reports of it")
    def other_reports(self, obj: Flag) -> str:
        others = [f for f in obj.review.flags.all() if f.pk != obj.pk and f.decision_id is None]
        if not others:
            return "None"
        return "; ".join(f"{f.get_reason_display()} ({when(f.created_at)})" for f in others)

    @admin.display(description="decision")
    def decided(self, obj: Flag) -> str:
        if obj.decision_id is None:
            return "To decide"
        return f"{obj.decision.get_outcome_display()} on {when(obj.decision.created_at)}: {obj.decision.reason}"

    # Operators only

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Flag]:
        return (
            super()
            .get_queryset(request)
            .select_related("review__product", "review__supplier", "flagger", "decision")
            .prefetch_related("review__flags")
        )

    def get_ordering(self, request: HttpRequest) -> Any:
        return [URGENT.asc(), "created_at", "id"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.access(request).operator

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.access(request).operator

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # people report reviews on the site

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.access(request).operator:
            return False
        return obj is None or obj.decision_id is None

    # The decision

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None and self.has_change_permission(request, obj):
            kwargs["form"] = DecisionForm
            kwargs["fields"] = []
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[Any] = [("The report and the review", {"fields": self.shown})]
        if obj is not None and self.has_change_permission(request, obj):
            fieldsets.append(("Your decision on the review", {"fields": ["outcome", "reason"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.shown

    def service_save(self, request: HttpRequest, obj: Flag, form: forms.ModelForm, change: bool) -> Flag:
        data = form.cleaned_data
        services.review_decide(
            moderator=request.user, review_id=obj.review_id, outcome=data["outcome"], reason=data.get("reason", "")
        )
        return obj

    def response_change(self, request: HttpRequest, obj: Flag) -> HttpResponseRedirect:
        obj.refresh_from_db()
        decision = obj.decision
        what = decision.get_outcome_display() if decision else "Decided"
        self.message_user(
            request,
            f"“{obj.review.title}”: {what}. Every open report of it is closed; the reason is shown where it is.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:reviews_flag_changelist"))
