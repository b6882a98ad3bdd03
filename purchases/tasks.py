"""Thin Celery tasks: each loads by id and calls one service (purchases.services, purchases.notifications)."""

from celery import shared_task

from purchases import notifications, services


@shared_task(name="purchases.tasks.orders_enforce")
def orders_enforce() -> dict[str, int]:
    return services.orders_enforce()


@shared_task(name="purchases.tasks.guarantee_claims_recover")
def guarantee_claims_recover() -> int:
    return services.guarantee_claims_recover()


@shared_task(name="purchases.tasks.order_notify")
def order_notify(event_id: int) -> int:
    """E-mail the buyer and the supplier about a step of an order (from the outbox, once, after commit)."""
    return notifications.order_event_notify(event_id=event_id)


@shared_task(name="purchases.tasks.credit_sale_record")
def credit_sale_record(order_id: int) -> None:
    """Record a sale paid in credits in the product's chain (provenance, wired in by the project)."""
    for record in services.credit_sale_recorders:
        record(order_id)
