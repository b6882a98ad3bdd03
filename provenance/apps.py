from django.apps import AppConfig


class ProvenanceConfig(AppConfig):
    name = "provenance"
    verbose_name = "Provenance"

    def ready(self) -> None:
        from products import services as catalog
        from provenance.selectors import batch_is_traced

        # A batch that trace events name is archived, never deleted (products cannot ask provenance itself).
        if batch_is_traced not in catalog.batch_references:
            catalog.batch_references.append(batch_is_traced)
