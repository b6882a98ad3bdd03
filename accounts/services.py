"""Writes about people: sign-up and API tokens."""

from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import User
from core.text import clean_text


@transaction.atomic
def user_sign_up(*, email: str, password: str, display_name: str = "") -> User:
    """Create a shopper's account (passwords are validated by the sign-up form before this)."""
    user = User(email=User.objects.normalize_email(email), display_name=clean_text(display_name, multiline=False))
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def api_token_get_or_create(*, user: User) -> Token:
    """The user's API token, made if they have none."""
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def api_token_rotate(*, user: User) -> Token:
    """Replace the user's API token with a new one; the old one stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


@transaction.atomic
def api_token_revoke(*, user: User) -> None:
    """Delete the user's API token: it stops working at once."""
    Token.objects.filter(user=user).delete()
