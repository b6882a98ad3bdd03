from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("batches/<int:batch_id>/review/", views.write, name="write"),
    path("reviews/<int:review_id>/", views.review, name="review"),
    path("reviews/<int:review_id>/edit/", views.review_edit, name="edit"),
    path("reviews/<int:review_id>/reply/", views.review_reply, name="reply"),
    path("reviews/<int:review_id>/flag/", views.review_flag, name="flag"),
    path("products/<slug:supplier_slug>/<slug:product_slug>/reviews/", views.product_reviews, name="product_reviews"),
    path(
        "products/<slug:supplier_slug>/<slug:product_slug>/suggestions/",
        views.product_suggestions,
        name="product_suggestions",
    ),
    path("products/<slug:supplier_slug>/<slug:product_slug>/suggest/", views.suggest, name="suggest"),
    path("suggestions/<int:suggestion_id>/", views.suggestion, name="suggestion"),
    path("suggestions/<int:suggestion_id>/vote/", views.suggestion_vote, name="vote"),
    path("suggestions/<int:suggestion_id>/unvote/", views.suggestion_unvote, name="unvote"),
    path("suggestions/<int:suggestion_id>/status/", views.suggestion_status, name="status"),
]
