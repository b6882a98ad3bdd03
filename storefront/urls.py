from django.urls import include, path

from storefront import views

app_name = "storefront"

urlpatterns = [
    path("", views.home, name="home"),
    path("products/<slug:supplier_slug>/<slug:product_slug>/", views.product, name="product"),
    path("batches/<int:batch_id>/", views.batch, name="batch"),
    path("suppliers/<slug:supplier_slug>/", views.supplier, name="supplier"),
    path("how-reviews-work/", views.how_reviews_work, name="how-reviews-work"),
    # GS1 Digital Link resolver (/01/…, /p/…, /.well-known/gs1resolver) and its QR images: last, it claims paths.
    path("", include("storefront.resolver_urls")),
]
