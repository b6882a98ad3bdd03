"""An order's amounts as people read them in templates: `{{ order|amount:line.line_total }}` → "€9.00" or
"10.00 credits", in the order's own means."""

from django import template

from purchases.models import Order

register = template.Library()


@register.filter
def amount(order: Order, value: int | None) -> str:
    return "" if value is None else order.amount_text(value)
