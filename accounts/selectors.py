"""Reads about people, shared by the account pages and the dashboard."""

from rest_framework.authtoken.models import Token

from accounts.models import User


def api_token_of(*, user: User) -> Token | None:
    return Token.objects.filter(user=user).first()
