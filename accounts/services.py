"""Writes about people: sign-up."""

from django.db import transaction

from accounts.models import User


@transaction.atomic
def user_sign_up(*, email: str, password: str, display_name: str = "") -> User:
    """Create a shopper's account (passwords are validated by the sign-up form before this)."""
    user = User(email=User.objects.normalize_email(email), display_name=display_name.strip())
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user
