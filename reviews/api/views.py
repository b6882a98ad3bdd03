"""The reviews and suggestions resources (see reviews.api)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.access import Access
from core.addresses import client_address
from core.api.errors import error_body
from core.api.filters import StrictFilterSet
from core.idempotency import idempotent_call
from products.access import access_for_request
from reviews import selectors, services
from reviews.api import docs
from reviews.api.bodies import (
    DecisionIn,
    FlagIn,
    ReplyIn,
    ReviewEditIn,
    ReviewIn,
    StatusIn,
    SuggestionIn,
    VoteIn,
    validated,
)
from reviews.api.paging import ReviewPagination, SuggestionPagination
from reviews.api.representation import FlagOut, ReviewDetailOut, ReviewOut, SuggestionOut, VoteOut
from reviews.models import Origin, Review, Suggestion, Vote
from reviews.refusals import ReviewRefused

ID_MAX = 2**63 - 1
# A refusal's code as the error's `code`, with its status: the request's own values (400), who asks (403), what the
# path names (404), the state of things the request is well-formed against but conflicts with (409), the abuse
# limits (429). A near-duplicate of one's own earlier text is a conflict with that text, like a second review of
# the same unit: 409.
REFUSAL_STATUS = {
    "invalid": 400,
    "permission_denied": 403,
    "not_found": 404,
    "wrong_state": 409,
    "already_reviewed": 409,
    "already_flagged": 409,
    "not_delivered": 409,
    "duplicate_text": 409,
    "rate_limited": 429,
}


def visible(queryset: QuerySet[Any], access: Access) -> QuerySet[Any]:
    """What the public pages show (reviews and suggestions of public products), and all of one's own suppliers'."""
    if access.operator:
        return queryset
    return queryset.filter(Q(product__published_at__isnull=False) | Q(supplier_id__in=access.readable))


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id: "1.5" is an error, not 1; one beyond a big integer is an error, not a database crash."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, min_value: int = 1, max_value: int = ID_MAX, **kwargs: Any) -> None:
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)


class ReviewFilter(StrictFilterSet):
    batch = IdFilter(field_name="batch_id", help_text="Reviews of this batch (its id).")
    product = IdFilter(field_name="product_id", help_text="Reviews of this product, every batch's (its id).")
    supplier = django_filters.CharFilter(field_name="supplier__slug", help_text="A supplier's slug.")
    origin = django_filters.ChoiceFilter(choices=Origin.choices)
    rating = IdFilter(field_name="rating", min_value=1, max_value=5, help_text="Reviews of this many stars.")
    order = django_filters.ChoiceFilter(
        choices=list(selectors.ORDER_LABELS.items()),
        method="in_order",
        help_text="newest (the default), oldest, highest or lowest rated (then newest). Every review has the "
        "same weight whatever its rating; nobody else, the supplier included, chooses the order.",
    )

    class Meta:
        model = Review
        fields = ["batch", "product", "supplier", "origin", "rating", "order"]

    def in_order(self, queryset: QuerySet[Review], name: str, value: str) -> QuerySet[Review]:
        return queryset  # the pages put it in order (reviews.api.paging)


class SuggestionFilter(StrictFilterSet):
    product = IdFilter(field_name="product_id", help_text="Suggestions for this product (its id).")
    supplier = django_filters.CharFilter(field_name="supplier__slug", help_text="A supplier's slug.")
    status = django_filters.ChoiceFilter(choices=Suggestion.Status.choices)

    class Meta:
        model = Suggestion
        fields = ["product", "supplier", "status"]


class RefusalsMixin:
    """Answer a ReviewRefused with its code and status; an id in a body that names nothing is a field error."""

    action: str
    request: Any
    body_ids: dict[str, str] = {}  # action → the body's id field its service's not_found is about

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ReviewRefused):
            return self.refusal_response(exc)
        return super().handle_exception(exc)  # type: ignore[misc]

    def refusal_response(self, refusal: ReviewRefused) -> Response:
        code = refusal.code or "invalid"
        errors = None
        if hasattr(refusal, "error_dict"):
            errors = {
                api_settings.NON_FIELD_ERRORS_KEY if name == "__all__" else name: messages
                for name, messages in refusal.message_dict.items()
            }
        if code == "not_found" and self.action in self.body_ids:
            code = "invalid"
            errors = errors or {self.body_ids[self.action]: refusal.messages}
        http_status = REFUSAL_STATUS.get(code, 400)
        headers = {}
        if refusal.retry_after is not None:
            headers["Retry-After"] = str(refusal.retry_after)
        body = error_body(http_status, code, " ".join(refusal.messages), errors)
        return Response(body, status=http_status, headers=headers)

    def address(self) -> str:
        return client_address(self.request)


@extend_schema(tags=["reviews"])
@extend_schema_view(**docs.REVIEWS)
class ReviewViewSet(RefusalsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReviewOut
    filterset_class = ReviewFilter
    pagination_class = ReviewPagination
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    lookup_value_regex = "[0-9]{1,18}"
    # No DELETE, nor PUT: nobody deletes a review (moderators remove one with a reason; it stays, as a note).
    http_method_names = ["get", "post", "patch", "head", "options"]
    body_ids = {"create": "batch"}

    def get_queryset(self) -> QuerySet[Review]:
        return visible(selectors.reviews_list(), access_for_request(self.request))

    def shown_review(self, pk: str) -> Review:
        """The review with every version, if the person may see it; else a 404."""
        review = selectors.review_detail(int(pk))
        if review is None or not (
            review.product.is_public or access_for_request(self.request).can_read(review.supplier_id)
        ):
            raise exceptions.NotFound()
        return review

    def respond(
        self, review_id: int, code: int = status.HTTP_200_OK, headers: dict[str, str] | None = None
    ) -> Response:
        review = selectors.review_detail(review_id)
        return Response(ReviewDetailOut(review, context=self.get_serializer_context()).data, code, headers=headers)

    def retrieve(self, request: Request, pk: str) -> Response:
        review = self.shown_review(pk)
        return Response(ReviewDetailOut(review, context=self.get_serializer_context()).data)

    def create(self, request: Request) -> Response:
        def work() -> Response:
            data = validated(ReviewIn, request.data)
            review = services.review_create(
                author=request.user,
                batch_id=data["batch"],
                rating=data["rating"],
                title=data["title"],
                body=data["body"],
                order_line_id=data["order_line"],
                address=self.address(),
            )
            return self.respond(review.pk, status.HTTP_201_CREATED, {"Location": f"{request.path}{review.pk}/"})

        return idempotent_call(request, work, required=False)

    def partial_update(self, request: Request, pk: str) -> Response:
        review = self.shown_review(pk)
        data = validated(ReviewEditIn, request.data)
        services.review_edit(author=request.user, review_id=review.pk, address=self.address(), **data)
        return self.respond(review.pk)

    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str) -> Response:
        review = self.shown_review(pk)
        data = validated(ReplyIn, request.data)
        first = selectors.reply_of(review) is None
        services.reply_save(author=request.user, review_id=review.pk, body=data["body"])
        return self.respond(review.pk, status.HTTP_201_CREATED if first else status.HTTP_200_OK)

    @action(detail=True, methods=["post"])
    def flags(self, request: Request, pk: str) -> Response:
        review = self.shown_review(pk)
        data = validated(FlagIn, request.data)
        flag = services.flag_create(flagger=request.user, review_id=review.pk, address=self.address(), **data)
        return Response(FlagOut(flag).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def decision(self, request: Request, pk: str) -> Response:
        review = self.shown_review(pk)
        data = validated(DecisionIn, request.data)
        services.review_decide(moderator=request.user, review_id=review.pk, **data)
        return self.respond(review.pk, status.HTTP_201_CREATED)


@extend_schema(tags=["suggestions"])
@extend_schema_view(**docs.SUGGESTIONS)
class SuggestionViewSet(RefusalsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = SuggestionOut
    filterset_class = SuggestionFilter
    pagination_class = SuggestionPagination
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    lookup_value_regex = "[0-9]{1,18}"
    http_method_names = ["get", "post", "delete", "head", "options"]
    body_ids = {"create": "product"}

    def get_queryset(self) -> QuerySet[Suggestion]:
        return visible(selectors.suggestions_list(), access_for_request(self.request))

    def shown_suggestion(self, pk: str | int) -> Suggestion:
        suggestion = selectors.suggestion_detail(int(pk))
        if suggestion is None or not (
            suggestion.product.is_public or access_for_request(self.request).can_read(suggestion.supplier_id)
        ):
            raise exceptions.NotFound()
        return suggestion

    def serialized(self, suggestions: list[Suggestion]) -> Any:
        votes = selectors.voted_by(self.request.user, [suggestion.pk for suggestion in suggestions])
        context = {**self.get_serializer_context(), "votes": votes}
        return SuggestionOut(suggestions, many=True, context=context).data

    def respond(
        self, suggestion_id: int, code: int = status.HTTP_200_OK, headers: dict[str, str] | None = None
    ) -> Response:
        return Response(self.serialized([self.shown_suggestion(suggestion_id)])[0], code, headers=headers)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.serialized(page or []))

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.serialized([self.shown_suggestion(pk)])[0])

    def create(self, request: Request) -> Response:
        def work() -> Response:
            data = validated(SuggestionIn, request.data)
            suggestion = services.suggestion_create(
                author=request.user,
                product_id=data["product"],
                title=data["title"],
                body=data["body"],
                notify=data["notify"],
                address=self.address(),
            )
            location = {"Location": f"{request.path}{suggestion.pk}/"}
            return self.respond(suggestion.pk, status.HTTP_201_CREATED, location)

        return idempotent_call(request, work, required=False)

    @docs.VOTE[0]
    @docs.VOTE[1]
    @action(detail=True, methods=["post", "delete"])
    def vote(self, request: Request, pk: str) -> Response:
        suggestion = self.shown_suggestion(pk)
        if request.method == "DELETE":
            after = services.suggestion_unvote(voter=request.user, suggestion_id=suggestion.pk)
            return self.vote_state(after, None, status.HTTP_200_OK)
        data = validated(VoteIn, request.data)
        voted = services.suggestion_vote(
            voter=request.user, suggestion_id=suggestion.pk, notify=data["notify"], address=self.address()
        )
        after = Suggestion.objects.get(pk=suggestion.pk)
        return self.vote_state(after, voted.vote, status.HTTP_201_CREATED if voted.created else status.HTTP_200_OK)

    @staticmethod
    def vote_state(suggestion: Suggestion, vote: Vote | None, code: int) -> Response:
        body = {
            "suggestion": suggestion.pk,
            "voted": vote is not None,
            "notify": bool(vote and vote.notify),
            "votes": suggestion.vote_count,
        }
        return Response(VoteOut(body).data, status=code)

    @action(detail=True, methods=["post"], url_path="status")
    def status_set(self, request: Request, pk: str) -> Response:
        suggestion = self.shown_suggestion(pk)
        data = validated(StatusIn, request.data)
        services.suggestion_status_set(
            actor=request.user,
            suggestion_id=suggestion.pk,
            status=data["status"],
            response=data["response"],
            duplicate_of_id=data["duplicate_of"],
        )
        return self.respond(suggestion.pk, status.HTTP_201_CREATED)
