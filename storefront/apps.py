from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = "Storefront"

    def ready(self) -> None:
        # The pages it caches, and how each is rendered (storefront/pages.py); which rows appear on them is said by
        # the apps that own the rows (products/pages.py, provenance/pages.py).
        from storefront import (
            pages,  # noqa: F401
            supplier_page,  # noqa: F401
        )
