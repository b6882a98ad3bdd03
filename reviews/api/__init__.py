"""Reviews and suggestions through the integrator API: public reads, signed-in writes. Registered by
socialbiz/api_urls.py on the v1 router.

Reads show what the public pages show: the reviews and suggestions of public products (and a supplier's members
all of their own supplier's). Held and removed reviews stay listed where they were, with a note instead of their
text; the order is the reader's choice among the stated ones (`order`: newest by default, oldest, highest, lowest),
never the supplier's. Writes go through reviews.services, the same as the pages, with the keyed hash of the
request's address for the abuse limits: nobody deletes a review (no DELETE), only its author edits it, the supplier
replies, operators decide.

Refusals (reviews.refusals.ReviewRefused) keep their code as the error's `code` (views.REFUSAL_STATUS): `invalid`
is a 400 with the field errors at the body's own fields (an id in a body that names nothing too), `permission_denied`
a 403 (anonymous writes are a 401 before that), `not_found` a 404 for what the path names, `wrong_state`,
`already_reviewed`, `already_flagged`, `not_delivered` and `duplicate_text` a 409, `rate_limited` a 429 with
`Retry-After`. Creating a review or a suggestion takes an optional `Idempotency-Key`.
"""

from reviews.api.views import ReviewViewSet, SuggestionViewSet

__all__ = ["ReviewViewSet", "SuggestionViewSet"]
