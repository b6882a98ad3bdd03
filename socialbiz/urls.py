from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from reviews.feeds import ProductFeed
from socialbiz import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("dashboard/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", include("socialbiz.api_urls")),
    path("epcis/", include("provenance.urls")),
    path("credits/", include("network_credits.urls")),
    path("orders/", include("purchases.urls")),
    path("products/<slug:supplier_slug>/<slug:product_slug>/feed.atom", ProductFeed(), name="product_feed"),
    path("", include("reviews.urls")),
    path("", include("storefront.urls")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),  # embedded mode only (DEBUG)
]

handler404 = "socialbiz.views.page_not_found"
handler500 = "socialbiz.views.server_error"
