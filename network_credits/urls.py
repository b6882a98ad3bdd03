from django.urls import path

from network_credits import views

app_name = "network_credits"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("pay/", views.pay, name="pay"),
    path("top-up/", views.top_up, name="top_up"),
    path("<str:number>/statement/", views.statement, name="statement"),
]
