from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.forms import SignUpForm
from accounts.models import User


@sensitive_post_parameters("password1", "password2")
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("storefront:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("storefront:home")
    return render(request, "accounts/sign_up.html", {"form": form})


@never_cache  # the page can carry a whole key
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # login_required
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            token = services.api_token_rotate(user=user)
            # Shown in this response only: after it, the page shows just the first characters.
            return render(request, "accounts/api_token.html", {"token": token, "new_key": token.key})
        if action == "revoke":
            services.api_token_revoke(user=user)
            messages.success(request, "Your API token is revoked: it no longer works.")
            return redirect("accounts:api_token")
        return HttpResponseBadRequest("Unknown action.")
    return render(request, "accounts/api_token.html", {"token": selectors.api_token_of(user=user)})
