from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from core.dashboard import attention_provider
        from products import attention, pages

        attention_provider(attention.drafts_missing_a_declaration)
        attention_provider(attention.public_declarations_running_out)
        pages.register()
