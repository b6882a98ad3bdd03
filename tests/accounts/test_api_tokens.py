"""API tokens: each person manages their own on the account page; supplier members also in the dashboard;
integrators get theirs from the token endpoint with their email and password."""

import re
from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("accounts:api_token")
API = "/api/v1/products/"
CHANGELIST = reverse("admin:accounts_apitoken_changelist")
ADD = reverse("admin:accounts_apitoken_add")


def api_status(key: str) -> int:
    return Client().get(API, HTTP_AUTHORIZATION=f"Token {key}").status_code


def shown_key(response) -> str:
    match = re.search(r'<code id="api-token-key">([0-9a-f]+)</code>', response.content.decode())
    assert match, "the page shows no key"
    return match.group(1)


def change_url(user) -> str:
    return reverse("admin:accounts_apitoken_change", args=[user.pk])  # the admin keys tokens by user id


def delete_url(user) -> str:
    return reverse("admin:accounts_apitoken_delete", args=[user.pk])


# The account page


def test_stranger_is_sent_to_log_in_and_comes_back_to_the_token_page(stranger):
    UserFactory(email="integrator@example.org")
    response = stranger.client.get(PAGE)
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={PAGE}"
    response = stranger.client.post(
        reverse("accounts:login"), {"username": "integrator@example.org", "password": PASSWORD, "next": PAGE}
    )
    assert response.url == PAGE
    assert "Create a new token" in stranger.client.get(PAGE).content.decode()


def test_stranger_cannot_create_a_token(stranger):
    response = stranger.client.post(PAGE, {"action": "create"})
    assert response.status_code == 302
    assert not Token.objects.exists()


def test_page_explains_the_api_and_says_when_there_is_no_token(shopper, django_assert_num_queries):
    with django_assert_num_queries(4):  # session, user, token, the nav's dashboard check
        response = shopper.client.get(PAGE)
    page = response.content.decode()
    assert response.status_code == 200
    assert "/api/v1/" in page
    assert "Authorization: Token &lt;key&gt;" in page
    assert 'href="/api/docs/"' in page
    assert "You have no API token." in page
    assert 'value="revoke"' not in page  # nothing to revoke


def test_creating_a_token_shows_the_whole_key_once(shopper):
    response = shopper.client.post(PAGE, {"action": "create"})
    assert response.status_code == 200
    key = shown_key(response)
    assert Token.objects.get(user=shopper.user).key == key
    assert "will not be shown again" in response.content.decode()
    assert "no-store" in response["Cache-Control"]

    page = shopper.client.get(PAGE).content.decode()
    assert key not in page
    assert f"{key[:6]}…" in page
    assert 'id="api-token-key"' not in page


def test_page_never_shows_the_whole_key_of_an_existing_token(owner):
    token = services.api_token_get_or_create(user=owner.user)
    page = owner.client.get(PAGE).content.decode()
    assert token.key not in page
    assert f"<code>{token.key[:6]}…</code>" in page
    assert token.created.strftime("%Y") in page


def test_creating_a_new_token_makes_the_old_one_stop_working(shopper):
    old_key = shown_key(shopper.client.post(PAGE, {"action": "create"}))
    assert api_status(old_key) == 200

    response = shopper.client.post(PAGE, {"action": "create"})
    new_key = shown_key(response)
    assert new_key != old_key
    assert "any token you had before has stopped working" in response.content.decode().lower()
    assert api_status(old_key) == 401
    assert api_status(new_key) == 200
    assert list(Token.objects.filter(user=shopper.user).values_list("key", flat=True)) == [new_key]


def test_revoking_deletes_the_token_and_says_so(shopper):
    key = services.api_token_get_or_create(user=shopper.user).key
    response = shopper.client.post(PAGE, {"action": "revoke"}, follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert "Your API token is revoked" in response.content.decode()
    assert "You have no API token." in response.content.decode()
    assert not Token.objects.filter(user=shopper.user).exists()
    assert api_status(key) == 401


def test_revoking_leaves_other_peoples_tokens_alone(shopper, owner):
    theirs = services.api_token_get_or_create(user=owner.user)
    shopper.client.post(PAGE, {"action": "revoke"})
    assert Token.objects.get(user=owner.user) == theirs


def test_token_forms_need_csrf(shopper):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper.user)
    assert client.post(PAGE, {"action": "create"}).status_code == 403
    assert not Token.objects.exists()
    page = client.get(PAGE).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 2  # log-out form and the create form


def test_an_unknown_action_changes_nothing(shopper):
    token = services.api_token_get_or_create(user=shopper.user)
    assert shopper.client.post(PAGE, {"action": "steal"}).status_code == 400
    assert Token.objects.get(user=shopper.user) == token


def test_nav_links_to_the_token_page_when_logged_in(shopper, stranger):
    home = reverse("storefront:home")
    assert f'href="{PAGE}"' in shopper.client.get(home).content.decode()
    assert f'href="{PAGE}"' not in stranger.client.get(home).content.decode()


def test_drf_create_token_command_gives_a_token_that_works(shopper):
    out = StringIO()
    call_command("drf_create_token", shopper.user.email, stdout=out)
    key = re.search(r"Generated token ([0-9a-f]{40}) for user", out.getvalue()).group(1)
    assert Token.objects.get(user=shopper.user).key == key
    assert api_status(key) == 200
    assert api_status("0" * 40) == 401


# The dashboard


def test_supplier_member_sees_only_their_own_token_in_the_dashboard(owner, other_member, shopper):
    mine = services.api_token_get_or_create(user=owner.user)
    theirs = services.api_token_get_or_create(user=other_member.user)
    services.api_token_get_or_create(user=shopper.user)
    response = owner.client.get(CHANGELIST)
    assert response.status_code == 200
    assert [token.key for token in response.context["cl"].result_list] == [mine.key]
    page = response.content.decode()
    assert f"{mine.key[:6]}…" in page
    assert mine.key not in page
    assert other_member.user.email not in page
    assert theirs.key[:6] not in page


def test_supplier_member_cannot_open_another_members_token(owner, other_member):
    services.api_token_get_or_create(user=other_member.user)
    for url in (change_url(other_member.user), delete_url(other_member.user)):
        response = owner.client.get(url)
        assert response.status_code == 302  # the admin's "does not exist" redirect
        assert response.url == reverse("admin:index")


def test_supplier_member_cannot_delete_another_members_token(owner, other_member):
    theirs = services.api_token_get_or_create(user=other_member.user)
    owner.client.post(delete_url(other_member.user), {"post": "yes"})
    assert Token.objects.get(user=other_member.user) == theirs
    assert api_status(theirs.key) == 200


def test_supplier_member_adds_their_own_token_in_the_dashboard(owner):
    form = owner.client.get(ADD)
    assert form.status_code == 200
    assert 'name="user"' not in form.content.decode()  # nobody else to choose

    old = services.api_token_get_or_create(user=owner.user)
    response = owner.client.post(ADD, {})
    assert response.status_code == 200
    key = shown_key(response)
    assert Token.objects.get(user=owner.user).key == key
    assert "will not be shown again" in response.content.decode()
    assert api_status(old.key) == 401
    assert api_status(key) == 200


def test_supplier_member_cannot_add_a_token_for_someone_else(owner, other_member):
    owner.client.post(ADD, {"user": other_member.user.pk})
    assert Token.objects.filter(user=owner.user).exists()
    assert not Token.objects.filter(user=other_member.user).exists()


def test_supplier_member_revokes_their_own_token_in_the_dashboard(owner):
    key = services.api_token_get_or_create(user=owner.user).key
    assert owner.client.get(delete_url(owner.user)).status_code == 200
    response = owner.client.post(delete_url(owner.user), {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=owner.user).exists()
    assert api_status(key) == 401


def test_supplier_member_views_their_token_without_seeing_the_key(owner):
    token = services.api_token_get_or_create(user=owner.user)
    response = owner.client.get(change_url(owner.user))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{token.key[:6]}…" in page
    assert token.key not in page


def test_dashboard_keeps_whole_keys_out_of_pages_and_the_action_log(owner):
    key = shown_key(owner.client.post(ADD, {}))
    pages = [
        owner.client.get(CHANGELIST),
        owner.client.get(change_url(owner.user)),
        owner.client.get(delete_url(owner.user)),
        owner.client.get(reverse("admin:index")),
    ]
    for response in pages:
        assert key not in response.content.decode()
    owner.client.post(delete_url(owner.user), {"post": "yes"}, follow=True)
    assert LogEntry.objects.count() == 2
    assert not LogEntry.objects.filter(object_repr__contains=key).exists()


def test_shopper_cannot_reach_tokens_in_the_dashboard(shopper):
    response = shopper.client.get(CHANGELIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_operator_sees_all_tokens_and_finds_them_by_email(operator, owner, other_member, django_assert_num_queries):
    tokens = [services.api_token_get_or_create(user=UserFactory()) for _ in range(5)]
    tokens += [services.api_token_get_or_create(user=p.user) for p in (owner, other_member)]
    with django_assert_num_queries(6):
        response = operator.client.get(CHANGELIST)
    assert {token.key for token in response.context["cl"].result_list} == {token.key for token in tokens}

    response = operator.client.get(CHANGELIST, {"q": "owner@other"})
    assert [token.user for token in response.context["cl"].result_list] == [other_member.user]


def test_operator_adds_a_token_for_a_user(operator, shopper):
    response = operator.client.post(ADD, {"user": shopper.user.pk})
    assert response.status_code == 200
    assert Token.objects.get(user=shopper.user).key == shown_key(response)


def test_operator_revokes_a_members_token(operator, owner):
    services.api_token_get_or_create(user=owner.user)
    operator.client.post(delete_url(owner.user), {"post": "yes"})
    assert not Token.objects.filter(user=owner.user).exists()


# The token endpoint


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
