from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = "Storefront"

    def ready(self) -> None:
        # What the cached batch page shows: any change makes every cached page stale (storefront/cache.py).
        # Trace events and error declarations are written by bulk_create, which sends no signal; the capture that
        # wrote them is saved last, in the same transaction, and that save makes the pages stale.
        from products.models import Batch, Declaration, Product, Supplier
        from provenance.models import Capture, ErrorDeclaration, Evidence, Facility, TraceEvent
        from storefront.cache import content_changed

        for model in (Supplier, Product, Declaration, Batch, Facility, Capture, TraceEvent, ErrorDeclaration, Evidence):
            post_save.connect(content_changed, sender=model, dispatch_uid=f"storefront-page-{model._meta.label}-save")
            post_delete.connect(content_changed, sender=model, dispatch_uid=f"storefront-page-{model._meta.label}-del")
        for through in (Evidence.events.through, Evidence.declarations.through):
            m2m_changed.connect(content_changed, sender=through, dispatch_uid=f"storefront-page-{through._meta.label}")
