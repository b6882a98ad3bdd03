from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

# Imported for its side effect: it registers DRF's TokenAdmin, which is replaced below. Importing it here makes
# the replacement independent of the order in which autodiscover reaches the apps.
from rest_framework.authtoken import admin as drf_token_admin
from rest_framework.authtoken.models import TokenProxy

from accounts import services
from accounts.models import ApiToken, User
from core.access import NOBODY, Access
from core.dashboard import DashboardSite


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Operators manage people; supplier members never see this (they hold no model permissions)."""

    ordering = ["email"]
    list_display = ["email", "display_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "display_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name", "first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class TokenAdmin(drf_token_admin.TokenAdmin):
    """API tokens. Operators see and manage everyone's, by Django's model permissions; a supplier member sees,
    makes and revokes only their own. A new token's key is shown once, on the page that follows its creation.

    Writes go through accounts.services, so a new token always replaces the user's old one.
    """

    list_display = ["user", "created", "masked_key"]
    list_select_related = ["user"]
    change_readonly = ["user", "masked_key", "created"]

    @admin.display(description="Key")
    def masked_key(self, obj: ApiToken) -> str:
        return str(obj)  # masked: see ApiToken

    def _access(self, request: HttpRequest) -> Access:
        site = self.admin_site
        return site.access(request) if isinstance(site, DashboardSite) else NOBODY

    def _is_own(self, request: HttpRequest, obj: models.Model | None) -> bool:
        return obj is None or obj.user_id == request.user.pk  # type: ignore[attr-defined]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[ApiToken]:
        queryset = super().get_queryset(request)
        return queryset if self._access(request).operator else queryset.filter(user=request.user.pk)

    def has_module_permission(self, request: HttpRequest) -> bool:
        access = self._access(request)
        return super().has_module_permission(request) if access.operator else access.member

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        access = self._access(request)
        if access.operator:
            return super().has_view_permission(request, obj)
        return access.member and self._is_own(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        access = self._access(request)
        return super().has_add_permission(request) if access.operator else access.member

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        # A token has nothing to change (a new key is a new token), so members only view theirs.
        access = self._access(request)
        return super().has_change_permission(request, obj) if access.operator else False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        access = self._access(request)
        if access.operator:
            return super().has_delete_permission(request, obj)
        return access.member and self._is_own(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return self.change_readonly
        # A member makes a token only for themself, so there is nothing to choose.
        return ["user"] if self._access(request).operator else []

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.change_readonly if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        description = None
        if obj is None:
            whose = "the user has" if self._access(request).operator else "you have"
            description = f"A new token replaces any token {whose}, which stops working at once."
        return [(None, {"fields": self.get_fields(request, obj), "description": description})]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # every field is read-only
        user = obj.user if self._access(request).operator else cast(User, request.user)
        token = services.api_token_rotate(user=user)
        # The admin goes on to log and redirect with `obj`: make it the token the service created.
        obj.key, obj.user, obj.created = token.key, token.user, token.created
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        services.api_token_revoke(user=obj.user)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[ApiToken]) -> None:
        for token in queryset.select_related("user"):
            services.api_token_revoke(user=token.user)

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Token created",
            "token": obj,
            "changelist_url": reverse(f"{self.admin_site.name}:accounts_apitoken_changelist"),
        }
        return TemplateResponse(request, "admin/accounts/apitoken/created.html", context)
