"""Integrator API for the catalog: suppliers, products with their declarations, and batches.

Reads follow the public pages (plus a member's own unpublished rows); writes go through products.services, the
same as the dashboard, and are allowed by products.access.SupplierPermission.
"""

from collections.abc import Callable
from typing import Any

import django_filters
from django.db.models import Manager, Model, QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core import gs1
from core.api.filters import StrictFilterSet
from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import idempotent_call
from products import selectors, services
from products.access import SupplierPermission, access_for_request
from products.models import Batch, Declaration, Product, Supplier

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Optional here: a repeat with the same key and body returns the first response without doing the "
    "work again; the same key with a different body is a 422.",
)
IDEMPOTENT = {"parameters": [IDEMPOTENCY_PARAMETER], "extensions": {"x-idempotent": True}}


def absolute_url(request: Request | None, path: str) -> str:
    return request.build_absolute_uri(path) if request else path


# Each supplier's public credit account number, from the ledger, which the catalog may not import: the project
# plugs in its lookup (socialbiz/apps.py). A lookup takes supplier ids and answers {id: number} in one query, so a
# page of suppliers costs one more query, not one per supplier.
supplier_credit_accounts: list[Callable[[list[int]], dict[int, str]]] = []


def credit_accounts_of(supplier_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for lookup in supplier_credit_accounts:
        found.update(lookup(supplier_ids))
    return found


# How many units of each batch are still for sale, from purchases (which the catalog may not import either): a
# lookup takes batch ids and answers {id: units} in one query.
batch_availability: list[Callable[[list[int]], dict[int, int]]] = []


def available_of(batches: list[Batch]) -> dict[int, int]:
    found = {batch.pk: batch.quantity for batch in batches}
    for lookup in batch_availability:
        found.update(lookup(list(found)))
    return found


# Output


class SupplierListOut(serializers.ListSerializer):
    """A page of suppliers, with their credit account numbers looked up once for the page."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        suppliers = list(data.all() if isinstance(data, Manager) else data)
        self.child.context["credit_accounts"] = credit_accounts_of([supplier.pk for supplier in suppliers])
        return super().to_representation(suppliers)


class SupplierOut(serializers.ModelSerializer):
    country_name = serializers.CharField(source="country.name", read_only=True)
    credit_account = serializers.SerializerMethodField(
        help_text="The supplier's public network-credits account number: anyone may pay it "
        "(POST /api/v1/credits/transfers/ with `to`)."
    )

    class Meta:
        model = Supplier
        fields = [
            "id",
            "slug",
            "legal_name",
            "country",
            "country_name",
            "description",
            "public_email",
            "website",
            "gln",
            "open_supply_hub_id",
            "vat_number",
            "status",
            "status_reason",
            "status_changed_at",
            "credit_account",
        ]
        list_serializer_class = SupplierListOut

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_credit_account(self, supplier: Supplier) -> str | None:
        known = self.context.get("credit_accounts")
        if known is None:  # one supplier, not a page
            known = credit_accounts_of([supplier.pk])
        return known.get(supplier.pk)


class DeclarationOut(serializers.ModelSerializer):
    effective_evidence_level = serializers.ChoiceField(
        choices=Declaration.EvidenceLevel.choices,
        read_only=True,
        help_text="The level to show today: evidence past valid_until counts as expired.",
    )

    class Meta:
        model = Declaration
        fields = [
            "id",
            "product",
            "kind",
            "topic",
            "statement",
            "evidence_level",
            "effective_evidence_level",
            "evidence_url",
            "valid_until",
            "updated_at",
            "withdrawn_at",
            "withdrawn_reason",
        ]


class ProductOut(serializers.ModelSerializer):
    supplier = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    # Declared here, not derived from the model field: the model's default of "" (filled in from the name on save)
    # would be documented as the default of a slug whose pattern rejects "".
    slug = serializers.SlugField(read_only=True)
    is_public = serializers.BooleanField(read_only=True)
    uri = serializers.SerializerMethodField(
        help_text="The product's GS1 Digital Link on the resolver: /01/{gtin14}, or /p/{internal_ref} without a GTIN."
    )
    page_url = serializers.SerializerMethodField(help_text="The product's public page.")
    declarations = DeclarationOut(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "supplier",
            "name",
            "slug",
            "category",
            "description",
            "gtin",
            "internal_ref",
            "use",
            "care",
            "repair",
            "end_of_life",
            "is_public",
            "published_at",
            "updated_at",
            "uri",
            "page_url",
            "declarations",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_uri(self, product: Product) -> str:
        return gs1.product_uri(product)

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, product: Product) -> str:
        return absolute_url(self.context.get("request"), product.get_absolute_url())


class BatchListOut(serializers.ListSerializer):
    """A page of batches, with the units still for sale looked up once for the page."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        batches = list(data.all() if isinstance(data, Manager) else data)
        self.child.context["available"] = available_of(batches)
        return super().to_representation(batches)


class BatchOut(serializers.ModelSerializer):
    available = serializers.SerializerMethodField(
        help_text="Units still for sale: the quantity minus what orders hold (never below zero)."
    )
    uri = serializers.SerializerMethodField(
        help_text="The batch's GS1 Digital Link on the resolver (what its QR code encodes): /01/{gtin14}/10/{lot}, "
        "or /p/{internal_ref}/10/{lot}; the lot is percent-encoded."
    )
    page_url = serializers.SerializerMethodField(help_text="The batch's public page.")
    qr_svg = serializers.SerializerMethodField(help_text="The QR code of `uri`, as SVG (cacheable forever).")
    qr_png = serializers.SerializerMethodField(help_text="The QR code of `uri`, as PNG (cacheable forever).")

    class Meta:
        model = Batch
        fields = [
            "id",
            "product",
            "lot",
            "produced_on",
            "expires_on",
            "quantity",
            "available",
            "created_at",
            "archived_at",
            "archived_reason",
            "uri",
            "page_url",
            "qr_svg",
            "qr_png",
        ]
        list_serializer_class = BatchListOut

    def get_available(self, batch: Batch) -> int:
        known = self.context.get("available")
        if known is None or batch.pk not in known:
            known = available_of([batch])
        return known[batch.pk]

    @extend_schema_field(OpenApiTypes.URI)
    def get_uri(self, batch: Batch) -> str:
        return gs1.batch_uri(batch)

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, batch: Batch) -> str:
        return absolute_url(self.context.get("request"), reverse("storefront:batch", args=[batch.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_qr_svg(self, batch: Batch) -> str:
        return f"{gs1.batch_uri(batch)}/qr.svg"

    @extend_schema_field(OpenApiTypes.URI)
    def get_qr_png(self, batch: Batch) -> str:
        return f"{gs1.batch_uri(batch)}/qr.png"


# Input: only shapes and types here; every rule is checked by the services.


class SupplierProfileIn(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200, required=False)
    country = serializers.CharField(max_length=2, required=False, help_text="ISO 3166-1 alpha-2 code.")
    description = serializers.CharField(required=False, allow_blank=True)
    public_email = serializers.EmailField(required=False, allow_blank=True)
    website = serializers.URLField(required=False, allow_blank=True)
    gln = serializers.CharField(max_length=13, required=False, allow_blank=True)
    open_supply_hub_id = serializers.CharField(max_length=20, required=False, allow_blank=True)
    vat_number = serializers.CharField(max_length=20, required=False, allow_blank=True)


class ProductFieldsIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Product.Category.choices)
    description = serializers.CharField(required=False, allow_blank=True)
    gtin = serializers.CharField(
        max_length=20, required=False, allow_blank=True, allow_null=True, help_text="GTIN-8/12/13/14; stored as 14."
    )
    use = serializers.CharField(required=False, allow_blank=True)
    care = serializers.CharField(required=False, allow_blank=True)
    repair = serializers.CharField(required=False, allow_blank=True)
    end_of_life = serializers.CharField(required=False, allow_blank=True)


class ProductCreateIn(ProductFieldsIn):
    supplier = serializers.SlugField(help_text="The slug of a supplier you may edit.")


class DeclarationIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Declaration.Kind.choices)
    topic = serializers.ChoiceField(choices=Declaration.Topic.choices)
    statement = serializers.CharField(max_length=1000)
    evidence_level = serializers.ChoiceField(choices=Declaration.EvidenceLevel.choices, required=False)
    evidence_url = serializers.URLField(required=False, allow_blank=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Why it changes: shown with the change in the product's public history.",
    )


class BatchIn(serializers.Serializer):
    product = serializers.IntegerField(help_text="The id of a product you may edit.")
    lot = serializers.CharField(max_length=20, help_text="GS1 AI 10: up to 20 characters of GS1's CSET 82.")
    produced_on = serializers.DateField()
    expires_on = serializers.DateField(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=2_147_483_647)


class BatchUpdateIn(BatchIn):
    product = None  # type: ignore[assignment]  # a batch never moves to another product


def validated_input(serializer_class: type[serializers.Serializer], request: Request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def editable_object(model_queryset: QuerySet[Any], request: Request, field: str, **lookup: Any) -> Any:
    """The object a write names in its body, if it exists and the user may edit its supplier; else a clear 400/403."""
    obj = model_queryset.filter(**lookup).first()
    if obj is None:
        raise exceptions.ValidationError({field: ["No such object, or you may not see it."]})
    supplier_id = obj.pk if isinstance(obj, Supplier) else obj.supplier_id
    if not access_for_request(request).can_edit(supplier_id):
        raise exceptions.PermissionDenied(SupplierPermission.message)
    return obj


class SupplierScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, SupplierPermission]
    supplier_path = "supplier_id"

    def supplier_id_of(self, obj: Model) -> int:
        value: Any = obj
        for part in self.supplier_path.split("."):
            value = getattr(value, part)
        return value

    def respond(self, obj: Model, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(obj).data, status=code)

    def idempotent(self, request: Request, work: Callable[[], Response]) -> Response:
        return idempotent_call(request, work, required=False)


class SupplierFilter(StrictFilterSet):
    class Meta:
        model = Supplier
        fields = ["country", "status"]


@extend_schema_view(
    list=extend_schema(summary="List suppliers", description="Everyone may read who sells on the network."),
    retrieve=extend_schema(summary="A supplier"),
    partial_update=extend_schema(summary="Change a supplier's profile (owners)", request=SupplierProfileIn),
)
class SupplierViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SupplierScopedViewSet):
    serializer_class = SupplierOut
    filterset_class = SupplierFilter
    lookup_field = "slug"
    supplier_path = "pk"
    owner_only = True
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Supplier]:
        return selectors.supplier_list()

    def partial_update(self, request: Request, slug: str) -> Response:
        supplier = self.get_object()
        data = validated_input(SupplierProfileIn, request, partial=True)
        return self.respond(services.supplier_update(supplier=supplier, **data))


class ProductFilter(StrictFilterSet):
    supplier = django_filters.CharFilter(field_name="supplier__slug", help_text="A supplier's slug.")
    is_public = django_filters.BooleanFilter(
        field_name="published_at", lookup_expr="isnull", exclude=True, widget=django_filters.widgets.BooleanWidget()
    )

    class Meta:
        model = Product
        fields = ["supplier", "category", "gtin", "is_public"]


@extend_schema_view(
    list=extend_schema(summary="List products", description="Public products, and all of your own suppliers'."),
    retrieve=extend_schema(summary="A product with its declared risks and benefits"),
    create=extend_schema(summary="Add an unpublished product", request=ProductCreateIn, **IDEMPOTENT),
    partial_update=extend_schema(summary="Change a product", request=ProductFieldsIn),
    publish=extend_schema(summary="Publish (needs at least one risk and one benefit)", request=None),
    unpublish=extend_schema(summary="Take off public view", request=None),
    declarations=extend_schema(
        summary="Declare a risk or a benefit", request=DeclarationIn, responses={201: DeclarationOut}, **IDEMPOTENT
    ),
)
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, SupplierScopedViewSet):
    serializer_class = ProductOut
    filterset_class = ProductFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list_for(access_for_request(self.request))

    def create(self, request: Request) -> Response:
        def work() -> Response:
            data = validated_input(ProductCreateIn, request)
            supplier = editable_object(Supplier.objects.all(), request, "supplier", slug=data.pop("supplier"))
            return self.respond(services.product_create(supplier=supplier, **data), status.HTTP_201_CREATED)

        return self.idempotent(request, work)

    def partial_update(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        data = validated_input(ProductFieldsIn, request, partial=True)
        return self.respond(services.product_update(product=product, **data))

    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        services.product_publish(product=product, actor=request.user)
        return self.respond(self.get_queryset().get(pk=product.pk))

    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        services.product_unpublish(product=product, actor=request.user)
        return self.respond(self.get_queryset().get(pk=product.pk))

    @action(detail=True, methods=["post"], serializer_class=DeclarationOut)
    def declarations(self, request: Request, pk: str) -> Response:
        product = self.get_object()

        def work() -> Response:
            data = validated_input(DeclarationIn, request)
            data.pop("reason", None)
            declaration = services.declaration_create(product=product, actor=request.user, **data)
            return Response(DeclarationOut(declaration).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, work)


@extend_schema_view(
    retrieve=extend_schema(summary="A declaration"),
    partial_update=extend_schema(summary="Change a declaration", request=DeclarationIn),
    destroy=extend_schema(
        summary="Withdraw a declaration (not a public product's last risk or benefit)",
        description="The declaration stays in the product's public history, marked withdrawn, with the reason.",
        parameters=[OpenApiParameter("reason", str, description="Why it is withdrawn (shown publicly).")],
    ),
)
class DeclarationViewSet(mixins.RetrieveModelMixin, SupplierScopedViewSet):
    serializer_class = DeclarationOut
    supplier_path = "product.supplier_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Declaration]:
        return selectors.declaration_list_for(access_for_request(self.request))

    def partial_update(self, request: Request, pk: str) -> Response:
        declaration = self.get_object()
        data = validated_input(DeclarationIn, request, partial=True)
        reason = data.pop("reason", "")
        return self.respond(
            services.declaration_update(declaration=declaration, actor=request.user, reason=reason, **data)
        )

    def destroy(self, request: Request, pk: str) -> Response:
        reason = request.query_params.get("reason", "")
        services.declaration_withdraw(declaration=self.get_object(), actor=request.user, reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchFilter(StrictFilterSet):
    produced_after = django_filters.DateFilter(field_name="produced_on", lookup_expr="gte")
    produced_before = django_filters.DateFilter(field_name="produced_on", lookup_expr="lte")

    class Meta:
        model = Batch
        fields = ["product", "lot", "produced_after", "produced_before"]


@extend_schema_view(
    list=extend_schema(summary="List batches", description="Batches of the products you may read."),
    retrieve=extend_schema(summary="A batch"),
    create=extend_schema(summary="Record a batch", request=BatchIn, **IDEMPOTENT),
    partial_update=extend_schema(summary="Change a batch", request=BatchUpdateIn),
)
class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, SupplierScopedViewSet):
    serializer_class = BatchOut
    filterset_class = BatchFilter
    supplier_path = "product.supplier_id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Batch]:
        return selectors.batch_list_for(access_for_request(self.request))

    def create(self, request: Request) -> Response:
        def work() -> Response:
            data = validated_input(BatchIn, request)
            product = editable_object(
                selectors.product_list_for(access_for_request(request)), request, "product", pk=data.pop("product")
            )
            return self.respond(services.batch_create(product=product, **data), status.HTTP_201_CREATED)

        return self.idempotent(request, work)

    def partial_update(self, request: Request, pk: str) -> Response:
        batch = self.get_object()
        data = validated_input(BatchUpdateIn, request, partial=True)
        return self.respond(services.batch_update(batch=batch, **data))
