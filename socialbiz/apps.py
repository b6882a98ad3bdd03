from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SocialbizConfig(AppConfig):
    name = "socialbiz"
    verbose_name = "socialbiz"


class DashboardAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with the supplier dashboard site (supplier members as well as operators)."""

    default = False
    default_site = "socialbiz.admin.SocialbizDashboard"
