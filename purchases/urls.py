from django.urls import path

from purchases import views

app_name = "purchases"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("<int:order_id>/", views.order, name="order"),
]
