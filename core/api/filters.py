import django_filters


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet that refuses what django-filter would quietly ignore: empty, repeated or unreadable values.

    A client asking for `?is_public=maybe` should hear that the filter was not applied, not get every row.
    """

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            raw = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            raw = [value for value in raw if value is not None]
            if not raw or name in self.form.errors:
                continue
            if len(raw) > 1:
                self.form.add_error(name, "Give this filter once.")
            elif self.form.cleaned_data.get(name) in (None, ""):
                self.form.add_error(name, "This is not a value this filter understands.")
        return valid and not self.form.errors
