"""Credits as people read them in templates: `{{ account.balance|credits }}`, and what a statement line was."""

from django import template

from network_credits import selectors
from network_credits.models import Entry

register = template.Library()


@register.filter
def credits(hundredths: int | None, unsigned: str = "") -> str:
    """1050 → "10.50"; with `:"unsigned"`, -1050 → "10.50" too; nothing for None."""
    if hundredths is None:
        return ""
    return selectors.credits_text(abs(hundredths) if unsigned else hundredths)


@register.filter
def described(entry: Entry) -> str:
    """ "Payment to 4821 0937 56 Own Cocoa Co: memo"."""
    return selectors.describe(entry)


@register.filter
def held_change(entry: Entry) -> int:
    """How much this entry changed what the account's own open holds reserve (+ reserved, − released)."""
    return -entry.pending if entry.side == Entry.Side.DEBIT else 0
