"""/api/: version 1 of the integrator API, its OpenAPI schema and its self-hosted docs."""

from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from core.api import errors
from network_credits import api as credits_api
from products import api as products_api
from provenance import api_resources as provenance_api
from provenance import lineage_api
from purchases import api as purchases_api
from reviews import api as reviews_api

router = DefaultRouter()
router.register("suppliers", products_api.SupplierViewSet, basename="supplier")
router.register("products", products_api.ProductViewSet, basename="product")
router.register("declarations", products_api.DeclarationViewSet, basename="declaration")
router.register("batches", products_api.BatchViewSet, basename="batch")
router.register("facilities", provenance_api.FacilityViewSet, basename="facility")
router.register("evidence", provenance_api.EvidenceViewSet, basename="evidence")
router.register("credits/accounts", credits_api.AccountViewSet, basename="credit-account")
router.register("credits/transfers", credits_api.TransferViewSet, basename="credit-transfer")
router.register("credits/adjustments", credits_api.AdjustmentViewSet, basename="credit-adjustment")
router.register("orders", purchases_api.OrderViewSet, basename="order")
router.register("reviews", reviews_api.ReviewViewSet, basename="review")
router.register("suggestions", reviews_api.SuggestionViewSet, basename="suggestion")

app_name = "api"

urlpatterns = [
    path("v1/auth/token/", accounts_api.TokenView.as_view(), name="token"),
    path("v1/", include(router.urls)),
    path("v1/", include(lineage_api.urlpatterns)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    # Anything else under /api/ is the API's JSON 404, also with DEBUG on (where Django shows its own HTML page).
    re_path(r"", csrf_exempt(errors.api_not_found)),
]
