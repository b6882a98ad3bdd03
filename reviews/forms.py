"""The forms of the review pages: a review, the supplier's reply, a flag, a suggestion, a vote and a suggestion's
status. They parse what was typed; the rules (and the cleaning of the text) are the services' (reviews.services),
and `refused` puts each of their refusals next to the field it concerns."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from reviews.models import BODY_MAX, NOTE_MAX, REPLY_MAX, TITLE_MAX, Flag, Suggestion
from reviews.refusals import ReviewRefused

STARS = [
    (5, "5 stars: excellent"),
    (4, "4 stars: good"),
    (3, "3 stars: fair"),
    (2, "2 stars: poor"),
    (1, "1 star: bad"),
]


def refused(form: forms.Form, refusal: ReviewRefused) -> None:
    """A service's refusal on the form: each key's messages on the field of that name, the rest as the form's own
    errors (shown at its top)."""
    error: ValidationError = refusal
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, errors in error.error_dict.items():
        messages = [message for item in errors for message in item.messages]
        form.add_error(key if key in form.fields else None, messages)


def _text(label: str, limit: int, *, rows: int = 0, required: bool = True, help_text: str = "") -> forms.CharField:
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": rows, "dir": "auto", "maxlength": limit})
        if rows
        else forms.TextInput(attrs={"dir": "auto", "maxlength": limit})
    )
    # No max_length here: the service says how long a text may be, after cleaning it.
    return forms.CharField(label=label, required=required, strip=False, widget=widget, help_text=help_text)


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(label="Your rating", choices=STARS, coerce=int, widget=forms.RadioSelect)
    title = _text("Title", TITLE_MAX, help_text=f"One line, at most {TITLE_MAX} characters.")
    body = _text("Your review", BODY_MAX, rows=8, help_text="What it was like: the good and the bad.")

    def service_kwargs(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in ("rating", "title", "body")}


class ReplyForm(forms.Form):
    body = _text(
        "Your public reply", REPLY_MAX, rows=5, help_text="Everyone sees it under the review, with every version."
    )


class FlagForm(forms.Form):
    reason = forms.ChoiceField(label="What is wrong with it", choices=Flag.Reason.choices, widget=forms.RadioSelect)
    note = _text(
        "A note for the moderators (optional)",
        NOTE_MAX,
        rows=3,
        required=False,
        help_text="Only the network's moderators read it.",
    )


class SuggestionForm(forms.Form):
    title = _text("Your suggestion in a line", TITLE_MAX)
    body = _text("What should change, and why", BODY_MAX, rows=6)
    notify = forms.BooleanField(label="E-mail me when its status changes", required=False)


class VoteForm(forms.Form):
    notify = forms.BooleanField(label="E-mail me when its status changes", required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Suggestion.Status.choices)
    response = _text("Public response", BODY_MAX, rows=4, help_text="Shown in the suggestion's history, for good.")
    duplicate_of = forms.TypedChoiceField(
        label="Duplicate of (when the status is Duplicate)", coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args: Any, targets: list[Suggestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duplicate_of"].choices = [("", "—")] + [
            (target.pk, f"#{target.pk} {target.title} ({target.vote_count} votes)") for target in targets
        ]

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "status": self.cleaned_data["status"],
            "response": self.cleaned_data["response"],
            "duplicate_of_id": self.cleaned_data["duplicate_of"],
        }
