"""Cursor pages over a stated order, keyed on every field of it.

DRF's cursor keeps only the order's first field in the cursor and counts ties with an offset, capped at 1000: a
product with more 5-star reviews than that, or a board with more one-vote suggestions, could not be paged through
by rating or by votes. Here the cursor holds the whole key of the row a page ended on (each order ends with the id,
so the key is unique), and the next page is the rows after it in the order, found through the same indexes,
however deep a client pages and whatever ties there are.
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
from functools import reduce
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from core.api.pagination import CursorPagination
from reviews import selectors

INVALID = "This is not a cursor from this list: follow the `next` and `previous` links as they are."


class KeysetPagination(CursorPagination):
    """Pages in one of `orders` (chosen with the query parameter `order_param`, when there is one); `next` and
    `previous` links as DRF's cursor pages have."""

    orders: dict[str, tuple[str, ...]] = {}
    default_order = ""
    order_param: str | None = None

    def order_name(self, request: Request) -> str:
        # The filter set has already refused an unknown order; an empty one is the default.
        if self.order_param is None:
            return self.default_order
        return request.query_params.get(self.order_param) or self.default_order

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.order = self.order_name(request)
        self.fields = self.orders[self.order]
        reverse, position = self.decode(request, queryset.model)
        ordering = [_flipped(field) for field in self.fields] if reverse else list(self.fields)
        rows = queryset.order_by(*ordering)
        if position is not None:
            rows = rows.filter(_after(ordering, position))
        fetched = list(rows[: self.page_size + 1])
        more = len(fetched) > self.page_size
        self.page = fetched[: self.page_size]
        if reverse:
            self.page.reverse()
        self.has_next, self.has_previous = (True, more) if reverse else (more, position is not None)
        self.display_page_controls = self.has_next or self.has_previous
        return self.page

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        return self.link(self.page[-1], reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous or not self.page:
            return None
        return self.link(self.page[0], reverse=True)

    def link(self, row: Model, *, reverse: bool) -> str:
        key = [_plain(getattr(row, field.lstrip("-"))) for field in self.fields]
        payload = json.dumps({"o": self.order, "r": int(reverse), "p": key}, separators=(",", ":"))
        cursor = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return replace_query_param(str(self.base_url), self.cursor_query_param, cursor)

    def decode(self, request: Request, model: type[Model]) -> tuple[bool, list[Any] | None]:
        values = request.query_params.getlist(self.cursor_query_param)
        if not values:
            return False, None
        try:
            if len(values) > 1:
                raise ValueError
            text = values[0]
            payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            if not isinstance(payload, dict) or payload.get("r") not in (0, 1):
                raise ValueError
            key = payload.get("p")
            if not isinstance(key, list) or len(key) != len(self.fields):
                raise ValueError
            fields: list[Any] = [model._meta.get_field(field.lstrip("-")) for field in self.fields]
            position = [field.to_python(value) for field, value in zip(fields, key, strict=True)]
            if any(value is None for value in position):
                raise ValueError
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, DjangoValidationError):
            raise exceptions.ValidationError({self.cursor_query_param: [INVALID]}) from None
        if payload.get("o") != self.order:
            raise exceptions.ValidationError(
                {self.cursor_query_param: ["This cursor pages another order: start again from the first page."]}
            )
        return bool(payload["r"]), position


def _flipped(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


def _plain(value: Any) -> Any:
    return value if isinstance(value, int) else value.isoformat() if hasattr(value, "isoformat") else str(value)


def _after(ordering: list[str], key: list[Any]) -> Q:
    """The rows that come after `key` in `ordering`: equal on the first fields and beyond it on the next one."""
    alternatives = []
    for depth, field in enumerate(ordering):
        equal = {name.lstrip("-"): value for name, value in zip(ordering[:depth], key[:depth], strict=True)}
        beyond = "lt" if field.startswith("-") else "gt"
        alternatives.append(Q(**equal, **{f"{field.lstrip('-')}__{beyond}": key[depth]}))
    return reduce(operator.or_, alternatives)


class ReviewPagination(KeysetPagination):
    """Reviews: newest first unless the reader asks for another of the stated orders."""

    orders = selectors.ORDERS
    default_order = selectors.DEFAULT_ORDER
    order_param = "order"


class SuggestionPagination(KeysetPagination):
    """Suggestions: most votes first, then the oldest; nobody chooses another."""

    orders = {"votes": ("-vote_count", "created_at", "id")}
    default_order = "votes"
