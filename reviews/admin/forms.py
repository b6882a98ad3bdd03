"""The dashboard's forms for reviews: they parse what was typed; the services decide (and their refusals land on
these forms' fields, which are named as the services name them)."""

from typing import Any, ClassVar

from django import forms

from reviews.models import BODY_MAX, REASON_MAX, REPLY_MAX, Decision, Flag, Suggestion


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your public reply",
        required=False,  # the service says what an empty reply is
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
        help_text=(
            "Shown under the review, for everyone to read, with your company's name. You may change it later; "
            "every version is kept."
        ),
    )


class SuggestionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"#{obj.pk}: {obj.title} ({obj.vote_count} vote{'' if obj.vote_count == 1 else 's'})"


class StatusForm(forms.ModelForm):
    """A suggestion's next status, with the public response that comes with it."""

    # The other suggestions of the same product it may duplicate: the admin gives them.
    others: ClassVar[Any] = Suggestion.objects.none()

    status = forms.ChoiceField(label="New status", choices=Suggestion.Status.choices)
    response = forms.CharField(
        label="Public response",
        required=False,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
        help_text="Shown in the suggestion's history for everyone, and e-mailed to the voters who asked for it.",
    )
    duplicate_of = SuggestionChoiceField(
        label="Duplicate of",
        queryset=Suggestion.objects.none(),
        required=False,
        help_text="Only for the status Duplicate: its votes move to this suggestion.",
    )

    class Meta:
        model = Suggestion
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duplicate_of"].queryset = self.others  # type: ignore[attr-defined]
        self.initial.setdefault("status", self.instance.status)


class DecisionForm(forms.ModelForm):
    """A moderator's decision on the reported review, with its written reason."""

    outcome = forms.ChoiceField(label="Decision", widget=forms.RadioSelect, choices=Decision.Outcome.choices)
    reason = forms.CharField(
        label="Written reason",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown where the review is, to everyone, and kept in the audit log.",
    )

    class Meta:
        model = Flag
        fields: list[str] = []
