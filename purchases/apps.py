from django.apps import AppConfig


class PurchasesConfig(AppConfig):
    name = "purchases"
    verbose_name = "Purchases"

    def ready(self) -> None:
        from core.dashboard import attention_provider
        from purchases import attention, pages

        attention_provider(attention.orders_waiting)
        attention_provider(attention.disputes_to_answer)
        attention_provider(attention.disputes_to_decide)
        pages.register()
