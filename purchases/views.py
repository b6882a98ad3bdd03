"""Shoppers' pages of purchases (checkout, My orders, an order and its timeline). Being built: see issue 11."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from products.access import access_for
from purchases import selectors


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return render(request, "purchases/mine.html", {"orders": selectors.orders_of_buyer(request.user)})


@login_required
def order(request: HttpRequest, order_id: int) -> HttpResponse:
    found = selectors.order_visible(order_id=order_id, user=request.user, access=access_for(request.user))
    if found is None:
        raise Http404("No such order.")
    return render(request, "purchases/order.html", {"order": found, "timeline": selectors.timeline(found)})
