import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from core import outbox
from core.models import OutboxMessage
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_creates_an_account_and_logs_in(client):
    response = client.post(
        reverse("accounts:sign_up"),
        {"email": "Ama@Example.org", "display_name": "Ama", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="Ama@example.org")
    assert user.check_password(PASSWORD)
    assert not user.is_staff
    assert client.get(reverse("storefront:home")).context["user"] == user


def test_sign_up_with_a_weak_password_or_taken_email_is_refused(client):
    UserFactory(email="taken@example.org")
    response = client.post(
        reverse("accounts:sign_up"),
        {"email": "taken@example.org", "display_name": "", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "email" in errors
    assert "password2" in errors
    assert User.objects.count() == 1


def test_log_in_and_log_out(client):
    user = UserFactory(email="shopper@example.org")
    response = client.post(reverse("accounts:login"), {"username": "shopper@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("storefront:home")).context["user"] == user
    assert client.get(reverse("accounts:logout")).status_code == 405  # logging out takes a POST with CSRF
    client.post(reverse("accounts:logout"))
    assert not client.get(reverse("storefront:home")).context["user"].is_authenticated


def test_repeated_failed_logins_are_throttled(client, settings):
    UserFactory(email="target@example.org")
    statuses = [
        client.post(reverse("accounts:login"), {"username": "target@example.org", "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    # Even the right password is refused while the pause lasts.
    response = client.post(reverse("accounts:login"), {"username": "target@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert not client.get(reverse("storefront:home")).context["user"].is_authenticated


def test_password_reset_by_email_sets_a_new_password(client):
    user = UserFactory(email="forgetful@example.org")
    client.post(reverse("accounts:password_reset"), {"email": "forgetful@example.org"})
    queued = OutboxMessage.objects.get(task_name="core.tasks.mail_send")  # sent through the outbox, after commit
    assert (queued.kwargs["to"], mail.outbox) == (["forgetful@example.org"], [])
    assert outbox.deliver(message_id=queued.pk)
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    new_password = "a-brand-new-passphrase-2026"
    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_reset_for_an_unknown_address_sends_nothing_but_looks_the_same(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_change_needs_the_old_password(shopper):
    response = shopper.client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": "x-new-pass-2026-x", "new_password2": "x-new-pass-2026-x"},
    )
    assert response.status_code == 200
    shopper.user.refresh_from_db()
    assert shopper.user.check_password(PASSWORD)


def test_password_change_is_for_logged_in_people(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
