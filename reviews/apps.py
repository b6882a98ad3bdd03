from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self) -> None:
        from core.dashboard import attention_provider
        from reviews import attention, pages

        attention_provider(attention.reviews_to_answer)
        attention_provider(attention.suggestions_to_answer)
        attention_provider(attention.flags_to_decide)
        pages.register()
