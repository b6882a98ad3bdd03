"""Reviews in the supplier dashboard: the supplier's people read their reviews and answer them with a public reply,
and answer suggestions by moving them through their statuses; the network's operators decide on reported reviews
from the moderation queue.

Nobody changes, hides or deletes a review here: the review admin has no change or delete permission for anyone
(its reply form posts to a page of its own, through services.reply_save). Every write goes through reviews.services,
and a refusal shows on the form it came from. Another supplier's row is not found (404).
"""

from reviews.admin import moderation, replies, suggestions

__all__ = ["moderation", "replies", "suggestions"]
