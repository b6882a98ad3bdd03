from django.apps import AppConfig


class NetworkCreditsConfig(AppConfig):
    name = "network_credits"
    verbose_name = "Network credits"
