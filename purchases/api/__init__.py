"""Orders through the integrator API: checkout, the orders one may see, and each party's steps of an order's life.
Registered by socialbiz/api_urls.py on the v1 router.

Reads go through purchases.selectors and writes through purchases.services, the same as the pages. Who sees what:
the buyer their own orders, a supplier's members (viewers too) the orders to their supplier, operators every order;
anything else is a 404, so an order's existence is not confirmed to those who may not see it. Who may do what is the
services' rule (services.role_of): the buyer, an owner or editor of the supplier, or an operator, each for their own
steps; one who sees the order but may not take the step gets a 403.

Idempotency: placing an order needs an `Idempotency-Key`, and it is the order's own key (Order.idempotency_key,
unique per buyer), claimed in the checkout's transaction; a repeat with the same body gets the first order back
(201, `Idempotent-Replayed: true`) and holds no more stock or credits; the same key for a different order is a 422
`idempotency_key_reused`. Each step needs a key too, recorded by core.idempotency: a retried step replays its first
response (200, `Idempotent-Replayed: true`) instead of being refused as a step the order is past. A refused request
claims no key and changes nothing.

Refusals (purchases.refusals.OrderRefused) keep their code as the error's `code`: `invalid` is a 400 with the field
errors at the body's own paths, `wrong_state` a 409, the rules of sale and of the ledger a 422 (REFUSAL_STATUS).
"""

from purchases.api.views import OrderViewSet

__all__ = ["OrderViewSet"]
