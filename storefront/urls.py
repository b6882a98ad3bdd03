from django.urls import path

from storefront import views

app_name = "storefront"

urlpatterns = [
    path("", views.home, name="home"),
    path("products/<slug:supplier_slug>/<slug:product_slug>/", views.product, name="product"),
]
