"""The orders resource: list and read, place an order, and take each step of its life (see purchases.api)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.api.errors import APIError, error_body
from core.api.filters import StrictFilterSet
from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import KEY_PATTERN, idempotent_call
from products.access import access_for_request
from purchases import selectors, services
from purchases.api.bodies import (
    AnswerIn,
    CancelIn,
    CashReceivedIn,
    DecideIn,
    DisputeIn,
    NoteIn,
    OrderIn,
    RescheduleIn,
    validated,
)
from purchases.api.representation import ADDRESS_PARTS, OrderOut
from purchases.models import Dispute, Means, Order
from purchases.refusals import OrderRefused

ERROR_REF = {"$ref": "#/components/schemas/Error"}  # the shape core.api.errors documents
# Refusal codes about the request's own values (400), the order's state (409), or who asks (403, 404); every other
# code is a rule of sale or of the ledger the request is well-formed against but may not pass now (422).
REFUSAL_STATUS = {"invalid": 400, "permission_denied": 403, "not_found": 404, "wrong_state": 409}
# Where the services' field errors are in the bodies: checkout names an address's parts "address.city", ….
CHECKOUT_PATHS: dict[str, tuple[str, ...]] = {
    "address": ("fulfilment", "address"),
    **{f"address.{part}": ("fulfilment", "address", part) for part in ADDRESS_PARTS},
}
RESCHEDULE_PATHS: dict[str, tuple[str, ...]] = {"fulfilment": ("facility",)}

REFUSED_CHECKOUT = (
    "Refused, nothing written (no order, no stock or credits held). `code` says why: out_of_stock (the message names "
    "each lot and what is left), not_for_sale, insufficient_credit, date_unavailable (the message gives the days "
    "offered), idempotency_key_reused, or a ledger code (account_frozen, …)."
)
REFUSED_STEP = (
    "Refused, nothing written: the Idempotency-Key was used for a different request (`idempotency_key_reused`), the "
    "credits reserved for the order were released (`hold_expired`), or the ledger refused (its code)."
)
CONFLICT = "The order's state does not allow this step now (`wrong_state`, with the reason); nothing was written."

KEY_REQUIRED = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=True,
    description="Required: 1 to 255 visible ASCII characters, new for each new request. A repeat with the same key "
    "and body returns the first response (header `Idempotent-Replayed: true`) without doing anything again; the "
    "same key with a different body is a 422 `idempotency_key_reused`.",
)


def refused(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_REF, description=description)


def body_errors(errors: dict[str, list[str]], paths: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """A refusal's field errors at the places the request's body has those fields."""
    placed: dict[str, Any] = {}
    for name, messages in errors.items():
        path = paths.get(name, (api_settings.NON_FIELD_ERRORS_KEY if name == "__all__" else name,))
        here = placed
        for part in path[:-1]:
            here = here.setdefault(part, {})
        here[path[-1]] = messages
    return placed


class OrderFilter(StrictFilterSet):
    state = django_filters.ChoiceFilter(choices=Order.State.choices)
    supplier = django_filters.CharFilter(field_name="supplier__slug", help_text="A supplier's slug.")
    payment = django_filters.ChoiceFilter(choices=Means.choices)

    class Meta:
        model = Order
        fields = ["state", "supplier", "payment"]


def step(summary: str, description: str, request: type[serializers.Serializer] | None = None) -> Any:
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={200: OrderOut, 409: refused(CONFLICT), 422: refused(REFUSED_STEP)},
        parameters=[KEY_REQUIRED],
    )


@extend_schema(tags=["orders"])
@extend_schema_view(
    list=extend_schema(
        summary="Orders you may see",
        description="Your own orders as a buyer, your suppliers' orders as a member, every order as an operator; "
        "newest first.",
    ),
    retrieve=extend_schema(summary="An order, with its timeline"),
    create=extend_schema(
        summary="Place an order",
        description="Units of one supplier's batches, paid in cash or credits, picked up at one of its facilities or "
        "delivered, as soon as possible or on a day its calendar offers. Stock is held at once; credits are "
        "reserved from your account and paid to the supplier when you confirm receipt (or when the confirmation "
        "window ends). A batch that does not exist is a 400 on `lines`.",
        request=OrderIn,
        responses={201: OrderOut, 422: refused(REFUSED_CHECKOUT)},
        parameters=[KEY_REQUIRED],
    ),
    confirm=step("Confirm an order (the supplier)", "The supplier accepts a placed order."),
    dispatch_order=step("Dispatch a delivery (the supplier)", "The order is on its way; `note` for the buyer.", NoteIn),
    ready=step("Have a pick-up ready (the supplier)", "The order waits at its pick-up point.", NoteIn),
    deliver=step(
        "Mark an order delivered",
        "By the buyer: receipt confirmed, and credits are paid to the supplier now. By the supplier: handed over; "
        "credits are paid when the buyer confirms or the confirmation window ends. A buyer may confirm an order "
        "the supplier marked delivered.",
    ),
    cancel=step(
        "Cancel an order",
        "Before it is handed over: the buyer until the cut-off (an order for now: until the supplier confirms it), "
        "the supplier or an operator with a reason. Stock and credits come back.",
        CancelIn,
    ),
    dispute=step(
        "Report a problem (the buyer)",
        "After hand-over, within the dispute window. For credits, nothing is paid to the supplier meanwhile.",
        DisputeIn,
    ),
    cash_received=step(
        "Record a cash payment (the supplier)",
        "The supplier received the order's total in hard currency; card and bank payments with the provider's "
        "reference.",
        CashReceivedIn,
    ),
    reschedule=step(
        "Move an order to another day (the buyer)",
        "Until the cut-off, to a day the calendar offers (or, for a pick-up, to another pick-up point).",
        RescheduleIn,
    ),
    dispute_answer=step("Answer a dispute (the supplier)", "Shown to the buyer and the deciding operator.", AnswerIn),
    dispute_decide=step(
        "Decide a dispute (operators)",
        "Upheld: the buyer gets their credits back at once, from the hold if not yet paid, else from the network's "
        "guarantee fund, which claims them back from the supplier. The order is closed either way.",
        DecideIn,
    ),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderOut
    filterset_class = OrderFilter
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = "[0-9]{1,18}"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        visible = selectors.orders_visible(user=self.request.user, access=access_for_request(self.request))
        return selectors.with_timelines(visible)

    def get_object(self) -> Order:
        order = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if order is None:
            raise exceptions.NotFound()  # someone else's: not confirmed to exist
        return order

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, OrderRefused):
            return self.refusal_response(exc)
        return super().handle_exception(exc)

    def refusal_response(self, refusal: OrderRefused) -> Response:
        code = refusal.code or "refused"
        if self.action == "create" and code == "not_found":
            code = "invalid"  # a batch the body names does not exist: a field error, as for any other id in a body
        http_status = REFUSAL_STATUS.get(code, 422)
        paths = CHECKOUT_PATHS if self.action == "create" else RESCHEDULE_PATHS if self.action == "reschedule" else {}
        errors = body_errors(refusal.message_dict, paths) if hasattr(refusal, "error_dict") else None
        return Response(error_body(http_status, code, " ".join(refusal.messages), errors), status=http_status)

    def respond(self, order_id: int, code: int = status.HTTP_200_OK, headers: dict[str, str] | None = None) -> Response:
        order = self.get_queryset().get(pk=order_id)
        return Response(self.get_serializer(order).data, status=code, headers=headers)

    def create(self, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            raise APIError(
                status_code=400,
                code="idempotency_key_required",
                message=f"Placing an order needs an {IDEMPOTENCY_HEADER} header.",
            )
        if not KEY_PATTERN.match(key):
            raise APIError(
                status_code=400,
                code="idempotency_key_invalid",
                message=f"An {IDEMPOTENCY_HEADER} is 1 to 255 visible ASCII characters, without spaces.",
            )
        data = validated(OrderIn, request.data)
        placed = services.checkout(
            buyer=request.user,
            lines=[services.LineIn(line["batch"], line["quantity"]) for line in data["lines"]],
            payment=data["payment"],
            cash_method=data["cash_method"],
            fulfilment=data["fulfilment"],
            day=data["date"],
            key=key,
        )
        headers = {"Location": f"{request.path}{placed.order.pk}/"}
        if placed.replayed:
            headers["Idempotent-Replayed"] = "true"
        return self.respond(placed.order.pk, status.HTTP_201_CREATED, headers)

    def take_step(self, request: Request, do: Callable[[Order, dict[str, Any]], Any], body: Any = None) -> Response:
        """Run one step on an order the user can see, once per Idempotency-Key, and answer the order as it is now."""

        def work() -> Response:
            order = self.get_object()
            data = validated(body, request.data) if body else {}
            try:
                do(order, data)
            except OrderRefused as refusal:
                if refusal.code == "not_found":  # seen but not theirs to change: a supplier's viewer
                    raise exceptions.PermissionDenied(
                        "You may read this order; only its buyer, the supplier's owners and editors, or an operator "
                        "may change it."
                    ) from None
                raise
            return self.respond(order.pk)

        return idempotent_call(request, work, required=True)

    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        return self.take_step(request, lambda order, _: services.order_confirm(order=order, actor=request.user))

    # Not named `dispatch`: that is the method every Django view answers requests with.
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_order(self, request: Request, pk: str) -> Response:
        return self.take_step(
            request, lambda order, data: services.order_dispatch(order=order, actor=request.user, **data), NoteIn
        )

    @action(detail=True, methods=["post"])
    def ready(self, request: Request, pk: str) -> Response:
        return self.take_step(
            request, lambda order, data: services.order_ready(order=order, actor=request.user, **data), NoteIn
        )

    @action(detail=True, methods=["post"])
    def deliver(self, request: Request, pk: str) -> Response:
        return self.take_step(request, lambda order, _: services.order_deliver(order=order, actor=request.user))

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self.take_step(
            request, lambda order, data: services.order_cancel(order=order, actor=request.user, **data), CancelIn
        )

    @action(detail=True, methods=["post"])
    def dispute(self, request: Request, pk: str) -> Response:
        return self.take_step(
            request, lambda order, data: services.dispute_open(order=order, actor=request.user, **data), DisputeIn
        )

    @action(detail=True, methods=["post"], url_path="cash-received")
    def cash_received(self, request: Request, pk: str) -> Response:
        return self.take_step(
            request, lambda order, data: services.cash_receive(order=order, actor=request.user, **data), CashReceivedIn
        )

    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str) -> Response:
        def do(order: Order, data: dict[str, Any]) -> Order:
            return services.order_reschedule(
                order=order, actor=request.user, day=data["date"], facility_id=data.get("facility")
            )

        return self.take_step(request, do, RescheduleIn)

    @action(detail=True, methods=["post"], url_path="dispute/answer")
    def dispute_answer(self, request: Request, pk: str) -> Response:
        def do(order: Order, data: dict[str, Any]) -> Dispute:
            return services.dispute_answer(dispute=dispute_of(order), actor=request.user, response=data["response"])

        return self.take_step(request, do, AnswerIn)

    @action(detail=True, methods=["post"], url_path="dispute/decide")
    def dispute_decide(self, request: Request, pk: str) -> Response:
        def do(order: Order, data: dict[str, Any]) -> Dispute:
            return services.dispute_decide(dispute=dispute_of(order), actor=request.user, **data)

        return self.take_step(request, do, DecideIn)


def dispute_of(order: Order) -> Dispute:
    dispute = getattr(order, "dispute", None)
    if dispute is None:
        raise OrderRefused(f"Order #{order.pk} has no dispute.", code="wrong_state")
    return dispute
