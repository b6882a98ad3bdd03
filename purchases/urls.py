from django.urls import path

from purchases import views

app_name = "purchases"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("checkout/<int:batch_id>/", views.checkout, name="checkout"),
    path("<int:order_id>/", views.order, name="order"),
    path("<int:order_id>/received/", views.order_deliver, name="deliver"),
    path("<int:order_id>/cancel/", views.order_cancel, name="cancel"),
    path("<int:order_id>/change/", views.order_reschedule, name="reschedule"),
    path("<int:order_id>/problem/", views.order_dispute, name="dispute"),
]
