"""My credits: a person's accounts, their statements (also as CSV), paying someone by account number, topping up.

The pages work without JavaScript. Every form that moves credits carries a key made when it was shown, so sending
it twice (a double click, a refresh, the back button) moves the credits once. The rules are the services'; a
refusal is shown on the form, and nothing was moved.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from core.access import Access
from core.dashboard import add_service_error
from network_credits import selectors, services
from network_credits.forms import PayForm, PeriodForm, TopUpForm
from network_credits.models import Account
from network_credits.services import LedgerRefusal

credits_text = selectors.credits_text


def _access(request: HttpRequest) -> Access:
    return admin.site.access(request)  # type: ignore[attr-defined]


def _payable(request: HttpRequest) -> list[Account]:
    """The person's accounts they may spend from (and top up)."""
    access = _access(request)
    accounts = selectors.accounts_of(user=request.user, access=access)
    return [account for account in accounts if selectors.can_pay_from(account, user=request.user, access=access)]


def _statement_url(account: Account) -> str:
    return reverse("network_credits:statement", args=[account.number])


def _refused(form: Any, refusal: LedgerRefusal) -> None:
    """Put a service's refusal on the form (the ledger words its refusals in credits)."""
    if refusal.code == "idempotency_key_reused":
        form.add_error(
            None, "This form was already used for another payment: check the statement, then send this one again."
        )
        form.data = form.data.copy()
        form.data["key"] = form.fields["key"].initial  # a fresh key, made when this form was built
    else:
        add_service_error(form, refusal)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":  # the page's one form: open the person's own account
        user: Any = request.user
        account = services.account_open_for_member(user=user, name=getattr(user, "public_name", ""))
        messages.success(request, f"Your credit account {account.formatted_number} is open.")
        return redirect("network_credits:mine")
    access = _access(request)
    accounts = list(selectors.accounts_of(user=request.user, access=access))
    context = {
        "accounts": accounts,
        "has_member_account": any(account.kind == Account.Kind.MEMBER for account in accounts),
        "can_pay": any(selectors.can_pay_from(account, user=request.user, access=access) for account in accounts),
    }
    return render(request, "network_credits/mine.html", context)


@never_cache
@login_required
@require_safe
def statement(request: HttpRequest, number: str) -> HttpResponse:
    try:
        account = services.account_by_number(number)
    except ValidationError:
        raise Http404("No such account.") from None
    if not selectors.can_read(account, user=request.user, access=_access(request)):
        raise Http404("No such account.")  # someone else's: as if it did not exist
    period = PeriodForm(request.GET or None, today=timezone.localdate())
    start, end = period.period()
    found = selectors.statement(account=account, start=start, end=end)
    if request.GET.get("format") == "csv" and not period.errors:
        filename = f"credits-{account.number}-{start.isoformat()}-{end.isoformat()}.csv"
        return HttpResponse(
            selectors.statement_csv(found),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    context = {
        "account": account,
        "statement": found,
        "period": period,
        "csv_query": f"from={start.isoformat()}&to={end.isoformat()}&format=csv",
    }
    return render(request, "network_credits/statement.html", context, status=400 if period.errors else 200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest) -> HttpResponse:
    """Pay someone by account number: the form, then a confirmation naming the payee, then the payment."""
    accounts = _payable(request)
    if not accounts:
        return render(request, "network_credits/pay.html", {"form": None})
    form = PayForm(request.POST or None, accounts=accounts, initial={"to_account": request.GET.get("to", "")})
    action = request.POST.get("action")
    if request.method == "POST" and action != "edit" and form.is_valid():
        data = form.cleaned_data
        payer, payee = data["from_account"], data["to_account"]
        if action != "pay":
            return render(request, "network_credits/pay_confirm.html", {"form": form, "payer": payer, "payee": payee})
        try:
            moved = services.transfer(
                payer=payer,
                payee=payee,
                amount=data["amount"],
                key=form.idempotency_key,
                actor=request.user,
                memo=data["memo"],
            )
        except LedgerRefusal as refusal:
            _refused(form, refusal)
        else:
            paid = f"{credits_text(moved.transfer.amount)} credits to {payee.name} ({payee.formatted_number})"
            if moved.replayed:
                messages.success(request, f"This payment was already made, once: {paid}.")
            else:
                messages.success(request, f"Paid {paid}.")
            return redirect(_statement_url(payer))
    return render(request, "network_credits/pay.html", {"form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def top_up(request: HttpRequest) -> HttpResponse:
    """Buy credits with hard currency: one credit for one unit of CREDITS_CURRENCY, recorded as an external
    payment under the provider's reference."""
    accounts = _payable(request)
    currency = settings.CREDITS_CURRENCY
    context: dict[str, Any] = {
        "currency": currency,
        "daily_max": settings.CREDITS_TOP_UP_DAILY_MAX,
        "form": None,
        "accounts": accounts,
        "self_service": settings.CREDITS_TOP_UP_SELF_SERVICE,
        "instructions": settings.CREDITS_TOP_UP_INSTRUCTIONS,
    }
    if not accounts or not settings.CREDITS_TOP_UP_SELF_SERVICE:
        # On a live network only operators record top-ups, once the money has arrived: the page says how to pay.
        return render(request, "network_credits/top_up.html", context)
    form = TopUpForm(request.POST or None, accounts=accounts, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account = data["account"]
        try:
            moved = services.top_up(
                account=account,
                amount=data["amount"],
                provider=data["provider"],
                reference=data["reference"],
                currency=currency,
                amount_minor=data["amount"],  # one credit for one unit of the currency: hundredths are cents
                key=form.idempotency_key,
                actor=request.user,
            )
        except LedgerRefusal as refusal:
            _refused(form, refusal)
        else:
            bought = f"{credits_text(moved.transfer.amount)} credits for {currency} {credits_text(data['amount'])}"
            if moved.replayed:
                messages.success(request, f"This top-up was already recorded, once: {bought}.")
            else:
                messages.success(request, f"Bought {bought} (reference {data['reference']}).")
            return redirect(_statement_url(account))
    context["form"] = form
    return render(request, "network_credits/top_up.html", context)
