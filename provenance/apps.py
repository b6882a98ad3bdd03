from django.apps import AppConfig


class ProvenanceConfig(AppConfig):
    name = "provenance"
    verbose_name = "Provenance"

    def ready(self) -> None:
        from core.dashboard import attention_provider
        from provenance import attention

        attention_provider(attention.evidence_running_out)
        attention_provider(attention.batches_without_events)
        attention_provider(attention.chains_not_verifying)
