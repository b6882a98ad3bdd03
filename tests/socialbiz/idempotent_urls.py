"""A URLconf for tests of the idempotency machinery in its `required` mode (as orders and credits will use it)."""

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent_call
from products import services


class SupplierRegistration(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        def work() -> Response:
            supplier = services.supplier_create(**{"legal_name": request.data["name"], "country": "GH"})
            return Response({"id": supplier.pk, "slug": supplier.slug}, status=201)

        return idempotent_call(request, work, required=True)


urlpatterns = [path("register/", SupplierRegistration.as_view())]
