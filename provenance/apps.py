from django.apps import AppConfig


class ProvenanceConfig(AppConfig):
    name = "provenance"
    verbose_name = "Provenance"

    def ready(self) -> None:
        from core.dashboard import attention_provider
        from products import services as catalog
        from provenance import attention, pages
        from provenance.selectors import batch_is_traced

        attention_provider(attention.evidence_running_out)
        attention_provider(attention.batches_without_events)
        attention_provider(attention.chains_not_verifying)
        pages.register()
        # A batch that trace events name is archived, never deleted (products cannot ask provenance itself).
        if batch_is_traced not in catalog.batch_references:
            catalog.batch_references.append(batch_is_traced)
