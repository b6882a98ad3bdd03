from django.contrib import admin
from django.urls import include, path

from socialbiz import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("dashboard/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("storefront.urls")),
]
