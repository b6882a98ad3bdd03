import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_integrator_gets_a_token_with_email_and_password_and_uses_it(owner):
    response = APIClient().post("/api/v1/auth/token/", {"email": owner.user.email, "password": PASSWORD})
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(user=owner.user).key == key
    again = APIClient().post("/api/v1/auth/token/", {"email": owner.user.email, "password": PASSWORD})
    assert again.json()["token"] == key  # the same token until it is rotated or revoked
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert (
        client.patch(f"/api/v1/suppliers/{owner.supplier.slug}/", {"website": "https://own.example"}).status_code == 200
    )


def test_wrong_password_gets_a_401_and_no_token(owner):
    response = APIClient().post("/api/v1/auth/token/", {"email": owner.user.email, "password": "wrong"})
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert not Token.objects.exists()


def test_token_requests_are_throttled_like_log_ins_with_a_json_429(owner, settings):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"email": owner.user.email, "password": "wrong"})
    response = client.post("/api/v1/auth/token/", {"email": owner.user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "login_locked_out"
    assert not Token.objects.exists()
