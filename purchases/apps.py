from django.apps import AppConfig


class PurchasesConfig(AppConfig):
    name = "purchases"
    verbose_name = "Purchases"

    def ready(self) -> None:
        from purchases import pages

        pages.register()
