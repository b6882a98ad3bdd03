"""A review's and a reply's revisions, moderators' decisions and suggestions' status histories are never rewritten:
the database refuses UPDATE (and, on PostgreSQL, DELETE) of them (core/append_only.py)."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]

    operations = [
        append_only(
            [
                "reviews_reviewrevision",
                "reviews_replyrevision",
                "reviews_decision",
                "reviews_statuschange",
            ],
            function="reviews_append_only",
        )
    ]
