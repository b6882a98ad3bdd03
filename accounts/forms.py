from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.template import loader

from accounts.models import User
from core import mail


class SignUpForm(UserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name"]
        help_texts = {"display_name": "Optional. Shown next to your reviews and suggestions."}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["email"].widget = forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, with the e-mail sent through the outbox: the request never waits for the mail server."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html_body = loader.render_to_string(html_email_template_name, context) if html_email_template_name else None
        with transaction.atomic():
            mail.mail_queue(subject=subject, body=body, to=[to_email], from_email=from_email, html_body=html_body)
