"""Every write of purchases: checkout, each step of an order's life, cash receipts, disputes and the guarantee, and
the background jobs. A refusal is an OrderRefused with a code (the API's error code; `wrong_state` is a 409) and
changes nothing: each service is one transaction.
"""

from purchases.refusals import OrderRefused
from purchases.services.checkout import (
    Address,
    Fulfilment,
    LineIn,
    Placed,
    checkout,
    not_for_sale_reason,
    offer_for,
    order_reschedule,
)
from purchases.services.disputes import dispute_answer, dispute_decide, dispute_open, guarantee_claims_recover
from purchases.services.jobs import orders_enforce, orders_void_for_supplier
from purchases.services.shop import (
    closure_delete,
    closure_save,
    offer_save,
    price_split_save,
    sales_terms_save,
    window_save,
)
from purchases.services.steps import (
    SYSTEM,
    buyer_may_change,
    cash_receive,
    credit_sale_recorders,
    order_cancel,
    order_confirm,
    order_deliver,
    order_dispatch,
    order_ready,
    role_of,
)

__all__ = [
    "SYSTEM",
    "Address",
    "Fulfilment",
    "LineIn",
    "OrderRefused",
    "Placed",
    "buyer_may_change",
    "cash_receive",
    "checkout",
    "closure_delete",
    "closure_save",
    "credit_sale_recorders",
    "dispute_answer",
    "dispute_decide",
    "dispute_open",
    "guarantee_claims_recover",
    "not_for_sale_reason",
    "offer_for",
    "offer_save",
    "order_cancel",
    "order_confirm",
    "order_deliver",
    "order_dispatch",
    "order_ready",
    "order_reschedule",
    "orders_enforce",
    "orders_void_for_supplier",
    "price_split_save",
    "role_of",
    "sales_terms_save",
    "window_save",
]
