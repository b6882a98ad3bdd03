"""Purchases in the supplier dashboard: the shop (offers, terms of sale, the calendar, price splits), orders with
their steps, pick and pack lists and the CSV export, and disputes with the network's guarantee.

Every admin here is a core.dashboard.ScopedAdmin: a member sees only their own suppliers' rows (another supplier's
row is not found: 404), operators see everything. Every write goes through purchases.services; a rule a service
enforces is never repeated here: its refusal shows on the form, or as an error message after a button.
"""

from purchases.admin import disputes, orders, shop

__all__ = ["disputes", "orders", "shop"]
