"""Reviews in the dashboard: read by the supplier's people, never changed, hidden or deleted by them (no change or
delete permission, for anyone); answered with one public reply, from a form on the review's page that posts to a
page of its own (services.reply_save). Operators read every review; they decide on reported ones from the
moderation queue (reviews/admin/moderation.py)."""

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from core.dashboard import add_service_error
from purchases.admin.wording import when
from reviews import selectors, services
from reviews.admin.forms import ReplyForm
from reviews.admin.scoped import ReviewsScoped, stars, written
from reviews.models import Review
from reviews.refusals import ReviewRefused


class AnsweredFilter(admin.SimpleListFilter):
    title = "reply"
    parameter_name = "answered"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Not answered yet"), ("yes", "Answered")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Review]) -> models.QuerySet[Review]:
        if self.value() == "no":
            return queryset.filter(reply__isnull=True).exclude(state=Review.State.REMOVED)
        if self.value() == "yes":
            return queryset.filter(reply__isnull=False)
        return queryset


@admin.register(Review)
class ReviewAdmin(ReviewsScoped):
    supplier_path = "supplier"
    list_display = ["headline", "stars_shown", "origin", "state", "product_name", "received", "answered"]
    list_filter = [AnsweredFilter, "state", "origin", "rating"]
    list_select_related = ["product", "batch", "supplier", "author", "reply"]
    search_fields = ["title", "body"]
    shown = [
        "product_name", "lot", "author_name", "origin", "stars_shown", "title", "text", "state", "received",
        "edited", "decision",
    ]  # fmt: skip
    fields = shown
    readonly_fields = shown

    # Columns and fields

    @admin.display(description="review", ordering="title")
    def headline(self, obj: Review) -> str:
        return obj.title

    @admin.display(description="rating", ordering="rating")
    def stars_shown(self, obj: Review) -> str:
        return stars(obj.rating)

    @admin.display(description="product", ordering="product__name")
    def product_name(self, obj: Review) -> str:
        return obj.product.name

    @admin.display(description="lot")
    def lot(self, obj: Review) -> str:
        return obj.batch.lot

    @admin.display(description="by")
    def author_name(self, obj: Review) -> str:
        return obj.author.public_name

    @admin.display(description="review")
    def text(self, obj: Review) -> Any:
        return written(obj.body)

    @admin.display(description="received", ordering="created_at")
    def received(self, obj: Review) -> str:
        return when(obj.created_at)

    @admin.display(description="edited")
    def edited(self, obj: Review) -> str:
        return f"{when(obj.edited_at)} ({obj.revision_count} versions)" if obj.is_edited else "Never"

    @admin.display(description="answered", boolean=True)
    def answered(self, obj: Review) -> bool:
        return selectors.reply_of(obj) is not None

    @admin.display(description="moderators' decision")
    def decision(self, obj: Review) -> str:
        decided = selectors.last_decision(obj)
        if decided is None:
            return "None"
        return f"{decided.get_outcome_display()} on {when(decided.created_at)}: {decided.reason}"

    def view_on_site(self, obj: Review) -> str:
        return reverse("storefront:batch", kwargs={"batch_id": obj.batch_id}) + "#reviews"

    # Nobody changes, hides or deletes a review here (authors edit their own on the site; moderators decide)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Review]:
        return (
            super()
            .get_queryset(request)
            .select_related("product", "batch", "supplier", "author", "reply__author")
            .prefetch_related("decisions")
        )

    def get_ordering(self, request: HttpRequest) -> Any:
        # The inbox (not answered yet) is worked through oldest first; otherwise the newest first.
        return ["created_at", "id"] if request.GET.get("answered") == "no" else ["-created_at", "-id"]

    def get_list_display(self, request: HttpRequest) -> Any:
        access = self.access(request)
        several = access.operator or len(access.readable) > 1
        return [*self.list_display, "supplier"] if several else self.list_display

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # The reply

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            context |= self._reply_context(request, obj, None)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _reply_context(self, request: HttpRequest, review: Review, form: ReplyForm | None) -> dict[str, Any]:
        reply = selectors.reply_of(review)
        may = services.may_reply(request.user, review) and review.state != Review.State.REMOVED
        return {
            "review": review,
            "reply": reply,
            "reply_text": written(reply.body) if reply else "",
            "reply_when": when(reply.edited_at or reply.created_at) if reply else "",
            "may_reply": may,
            "reply_form": form or ReplyForm(initial={"body": reply.body if reply else ""}),
            "reply_url": reverse("admin:reviews_review_reply", args=[review.pk]),
        }

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/reply/", view(self.reply_view), name="reviews_review_reply"),
            *super().get_urls(),
        ]

    def reply_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Post, or change, the supplier's public reply to a review; a refusal shows on the form."""
        review = self.get_object(request, object_id)  # another supplier's review: 404
        form = ReplyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            answered_before = selectors.reply_of(review) is not None
            try:
                services.reply_save(author=request.user, review_id=review.pk, body=form.cleaned_data["body"])
            except ReviewRefused as refusal:
                add_service_error(form, refusal)
            else:
                self.log_change(request, review, "Replied (from the dashboard)")
                done = "changed" if answered_before else "published under the review"
                self.message_user(request, f"Your reply to “{review.title}” is {done}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:reviews_review_change", args=[review.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Reply to “{review.title}”",
            "original": review,
            "review_text": written(review.body),
            "review_stars": stars(review.rating),
            "review_when": when(review.created_at),
            **self._reply_context(request, review, form),
        }
        return TemplateResponse(request, "admin/reviews/review/reply.html", context)
