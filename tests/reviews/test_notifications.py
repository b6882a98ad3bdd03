"""E-mail about reviews and suggestions, each after its write commits and through the outbox: to the voters who
asked when a suggestion's status changes (recorded, once each, merged votes' voters told where their vote went), to
a review's author when the moderators decide on it, to a supplier's owners and editors when a new review or
suggestion arrives. People's words are quoted as written in the text and escaped once in the HTML."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils.html import escape

from core import outbox
from core.models import OutboxMessage
from products.models import SupplierMember
from reviews import notifications, services
from reviews.models import Review, StatusChange, VoterNotice
from tests.accounts.factories import UserFactory
from tests.core.conftest import celery_eager
from tests.products.factories import SupplierMemberFactory
from tests.reviews.factories import Shop, buyer, delivered, review, shop, suggestion
from tests.reviews.review_urls import review_urls  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("review_urls")]

OWNER, EDITOR, VIEWER = "owner@cocoa.example", "editor@cocoa.example", "viewer@cocoa.example"


@pytest.fixture(autouse=True)
def _embedded_mode(settings):
    """Work runs in-process after commit (also where REDIS_URL names a broker), with no remembered outage."""
    settings.SITE_URL = "https://shop.example.org"
    outbox.broker.reset()
    with celery_eager(True):
        yield
    outbox.broker.reset()


@pytest.fixture
def sent(django_capture_on_commit_callbacks) -> Callable[[Callable[[], object]], list]:
    """Run a write, let its transaction's work run after it (the outbox's hand-off), and return the e-mails sent."""

    def run(write: Callable[[], object]) -> list:
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            write()
        return mail.outbox[before:]

    return run


@pytest.fixture
def cocoa() -> Shop:
    """A shop whose news reaches its owner and editor, not its viewer."""
    owner = UserFactory(email=OWNER, display_name="Abena")
    s = shop(owner=None)
    s.supplier.members.all().delete()
    SupplierMemberFactory(supplier=s.supplier, user=owner, role=SupplierMember.Role.OWNER)
    SupplierMemberFactory(supplier=s.supplier, user=UserFactory(email=EDITOR), role=SupplierMember.Role.EDITOR)
    SupplierMemberFactory(supplier=s.supplier, user=UserFactory(email=VIEWER), role=SupplierMember.Role.VIEWER)
    s.supplier.legal_name = "Kakao & Söhne Ltd"
    s.supplier.public_email = "hello@cocoa.example"
    s.supplier.save()
    s.owner = owner
    return s


class _Rollback(Exception):
    pass


def rolled_back(write: Callable[[], object]) -> None:
    """Run a write in a transaction that then rolls back."""
    with contextlib.suppress(_Rollback), transaction.atomic():
        write()
        raise _Rollback


def by_recipient(messages: list) -> dict[str, object]:
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in messages), "each recipient gets a mail of their own"
    recipients = [m.to[0] for m in messages]
    assert len(recipients) == len(set(recipients)), f"someone got two e-mails: {recipients}"
    return {m.to[0]: m for m in messages}


def html(message) -> str:
    [(body, kind)] = message.alternatives
    assert kind == "text/html"
    return body


def page(name: str, pk: int) -> str:
    """Where an e-mail must link: the site's address and the row's page, however the project routes it."""
    key = "review_id" if name == "review" else "suggestion_id"
    return settings.SITE_URL + reverse(f"reviews:{name}", kwargs={key: pk})


# Voters, when a suggestion's status changes ------------------------------------------------------------------------


def voters(s: Shop, idea, *wants: bool):
    people = []
    for notify in wants:
        who = UserFactory()
        services.suggestion_vote(voter=who, suggestion_id=idea.pk, notify=notify)
        people.append(who)
    return people


def test_every_voter_who_asked_is_mailed_once_and_the_others_not(cocoa, sent):
    author = UserFactory(email="kwame@shoppers.example")
    idea = services.suggestion_create(
        author=author,
        product_id=cocoa.batch.product_id,
        title="Sell nibs in 1 kg bags",
        body="For bakers.",
        notify=True,
    )
    asked, silent, also_asked = voters(cocoa, idea, True, False, True)
    mails = by_recipient(
        sent(
            lambda: services.suggestion_status_set(
                actor=cocoa.owner, suggestion_id=idea.pk, status="planned", response="From March."
            )
        )
    )
    assert set(mails) == {author.email, asked.email, also_asked.email}
    change = idea.history.get(status="planned")
    notices = VoterNotice.objects.filter(change=change)
    assert {(n.voter_id, n.recipient) for n in notices} == {
        (author.pk, author.email),
        (asked.pk, asked.email),
        (also_asked.pk, also_asked.email),
    }
    assert all(n.subject == "“Sell nibs in 1 kg bags” is now planned" for n in notices)
    assert all(mails[n.recipient].body == n.body for n in notices)
    assert not VoterNotice.objects.filter(voter=silent).exists()


def test_a_repeated_delivery_sends_nothing_twice(cocoa, sent):
    idea = suggestion(cocoa)
    voters(cocoa, idea, True, True)
    first = sent(
        lambda: services.suggestion_status_set(
            actor=cocoa.owner, suggestion_id=idea.pk, status="under_review", response="Looking."
        )
    )
    assert len(first) == 2
    change = idea.history.get(status="under_review")
    message = OutboxMessage.objects.get(task_name="reviews.tasks.voters_notify", args=[change.pk])
    assert message.state == OutboxMessage.State.DONE
    # the outbox delivering it again, and the task run again by hand: neither sends a thing
    assert sent(lambda: outbox.deliver(message_id=message.pk)) == []
    assert sent(lambda: notifications.voters_notify(change.pk)) == []
    assert VoterNotice.objects.filter(change=change).count() == 2


def test_a_voter_who_joins_after_a_change_hears_only_of_the_next(cocoa, sent):
    idea = suggestion(cocoa)
    [early] = voters(cocoa, idea, True)
    sent(
        lambda: services.suggestion_status_set(
            actor=cocoa.owner, suggestion_id=idea.pk, status="planned", response="Yes"
        )
    )
    [late] = voters(cocoa, idea, True)
    mails = by_recipient(
        sent(
            lambda: services.suggestion_status_set(
                actor=cocoa.owner, suggestion_id=idea.pk, status="started", response="Go"
            )
        )
    )
    assert set(mails) == {early.email, late.email}
    assert VoterNotice.objects.filter(voter=late).count() == 1


def test_the_opening_of_a_suggestion_mails_no_voter(cocoa, sent):
    author = UserFactory()
    mails = sent(
        lambda: services.suggestion_create(
            author=author, product_id=cocoa.batch.product_id, title="Smaller bars", body="50 g.", notify=True
        )
    )
    assert author.email not in {m.to[0] for m in mails}  # the supplier hears of it (below); its author knows
    assert not VoterNotice.objects.exists()


def test_the_voters_of_a_merged_duplicate_are_told_where_their_vote_went(cocoa, sent):
    kept = suggestion(cocoa, title="Paper wrappers")
    duplicate = suggestion(cocoa, title="No more plastic")
    [kept_voter] = voters(cocoa, kept, True)
    moved, moved_quiet, both = voters(cocoa, duplicate, True, False, True)
    services.suggestion_vote(voter=both, suggestion_id=kept.pk, notify=True)

    mails = by_recipient(
        sent(
            lambda: services.suggestion_status_set(
                actor=cocoa.owner,
                suggestion_id=duplicate.pk,
                status="duplicate",
                response="The same wish; we answer it there.",
                duplicate_of_id=kept.pk,
            )
        )
    )
    # the votes that moved, of those who asked (the one who had voted for both keeps their vote where it was)
    assert set(mails) == {moved.email}
    letter = mails[moved.email]
    assert (
        "It duplicates “Paper wrappers”, and your vote has moved there: " + page("suggestion", kept.pk) in letter.body
    )
    assert f'<a href="{page("suggestion", kept.pk)}">' in html(letter)
    assert "is now duplicate (it was open)" in letter.body

    # from now on they hear of the suggestion their vote is on
    mails = by_recipient(
        sent(
            lambda: services.suggestion_status_set(
                actor=cocoa.owner, suggestion_id=kept.pk, status="planned", response="Yes"
            )
        )
    )
    assert set(mails) == {kept_voter.email, moved.email, both.email}  # the authors' votes asked for no e-mail
    assert moved_quiet.email not in mails


def test_voters_letter_quotes_the_words_as_written_and_escapes_them_in_html(cocoa, sent):
    idea = suggestion(cocoa, title='Bars "without" <palm> & co', body="Please.")
    [voter] = voters(cocoa, idea, True)
    [letter] = sent(
        lambda: services.suggestion_status_set(
            actor=cocoa.owner,
            suggestion_id=idea.pk,
            status="declined",
            response="We use no palm oil at all.\nSee the <ingredients> & the lab report.",
        )
    )
    assert letter.to == [voter.email]
    assert letter.subject == '“Bars "without" <palm> & co” is now declined'
    text = letter.body
    assert "You voted for a suggestion for " + cocoa.batch.product.name + " by Kakao & Söhne Ltd:" in text
    assert '  Bars "without" <palm> & co' in text
    assert "It is now declined (it was open)." in text
    assert "Kakao & Söhne Ltd wrote:\n\nWe use no palm oil at all.\nSee the <ingredients> & the lab report." in text
    assert "The suggestion and its whole history: " + page("suggestion", idea.pk) in text
    assert "&amp;" not in text
    assert "&lt;" not in text
    body = html(letter)
    assert escape('Bars "without" <palm> & co') in body
    assert "We use no palm oil at all.<br>See the &lt;ingredients&gt; &amp; the lab report." in body
    assert "Kakao &amp; Söhne Ltd wrote:" in body
    assert "<palm>" not in body
    assert "<ingredients>" not in body


def test_an_operators_answer_is_signed_by_the_operators(cocoa, sent, operator):
    idea = suggestion(cocoa)
    voters(cocoa, idea, True)
    [letter] = sent(
        lambda: services.suggestion_status_set(
            actor=operator.user, suggestion_id=idea.pk, status="under_review", response="We asked the supplier."
        )
    )
    assert "The network's operators wrote:\n\nWe asked the supplier." in letter.body


def test_a_change_rolled_back_mails_nobody(cocoa, sent):
    idea = suggestion(cocoa)
    voters(cocoa, idea, True)

    def write():
        services.suggestion_status_set(actor=cocoa.owner, suggestion_id=idea.pk, status="planned", response="Y")

    assert sent(lambda: rolled_back(write)) == []
    assert not StatusChange.objects.filter(suggestion=idea, status="planned").exists()
    assert not VoterNotice.objects.exists()


# A review's author, when the moderators decide -------------------------------------------------------------------


DECIDED = {
    "keep": ("Your review of {product} was checked and stays up", "kept it as you wrote it", "Your review"),
    "remove": ("Your review of {product} was removed by the moderators", "It is not deleted", "Your review"),
    "edit": ("The moderators ask you to edit your review of {product}", "published again", "Edit your review"),
}


@pytest.mark.parametrize("outcome", DECIDED)
def test_the_author_hears_the_moderators_decision_with_their_reason_and_a_link(cocoa, sent, operator, outcome):
    author = buyer(email="efua@shoppers.example", display_name="Efua")
    made = review(cocoa, author, rating=1, verified=True, title="Sour & chalky", body="Tasted of <soap>.")
    services.flag_create(flagger=UserFactory(), review_id=made.pk, reason="not_genuine")
    services.flag_create(flagger=cocoa.owner, review_id=made.pk, reason="advertising")
    mails = by_recipient(
        sent(
            lambda: services.review_decide(
                moderator=operator.user, review_id=made.pk, outcome=outcome, reason="It names <a rival> & shop."
            )
        )
    )
    assert set(mails) == {author.email}  # not the flaggers, not the supplier
    letter = mails[author.email]
    subject, says, label = DECIDED[outcome]
    product = cocoa.batch.product.name
    assert letter.subject == subject.format(product=product)
    text = letter.body
    assert text.startswith("Hello Efua,\n")
    assert f"your review “Sour & chalky” of {product} (lot {cocoa.batch.lot})" in text
    assert "It was reported as: advertising or promotion, not based on a genuine experience." in text
    assert says in text
    assert "The moderators' reason:\n> It names <a rival> & shop." in text
    assert f"{label}: {page('review', made.pk)}" in text
    body = html(letter)
    assert "It names &lt;a rival&gt; &amp; shop." in body
    assert f'<a href="{page("review", made.pk)}"' in body


def test_a_decision_without_flags_says_nothing_of_reports(cocoa, sent, operator):
    made = review(cocoa)
    [letter] = sent(
        lambda: services.review_decide(moderator=operator.user, review_id=made.pk, outcome="edit", reason="Typo.")
    )
    assert "reported" not in letter.body


# The supplier, when a new review or suggestion arrives -------------------------------------------------------------


def test_a_new_review_reaches_the_suppliers_owners_and_editors_with_the_days_to_answer(cocoa, sent):
    author = buyer(display_name="Yaw")
    delivered(cocoa, author)  # its own e-mails are the order's
    mails = by_recipient(
        sent(lambda: review(cocoa, author, rating=2, title="Melted <again>", body="Grey bloom & a torn wrapper."))
    )
    assert set(mails) == {OWNER, EDITOR}  # not the viewer, not the public address (it answers no one)
    made = author.reviews.get()
    letter = mails[OWNER]
    product = cocoa.batch.product.name
    assert letter.subject == f"New review of {product}: 2 of 5 stars, “Melted <again>”"
    text = letter.body
    assert text.startswith("Hello Kakao & Söhne Ltd,\n")
    assert f"Yaw reviewed {product}, lot {cocoa.batch.lot}, on " in text
    assert "2 out of 5 stars (verified purchase)" in text
    assert "Their title:\n> Melted <again>" in text
    assert "Their review:\n> Grey bloom & a torn wrapper." in text
    deadline = notifications.when(made.created_at + timedelta(days=7))
    assert (
        f"Reply in public by {deadline}: your public page shows the share of reviews you answer within 7 days" in text
    )
    assert f"Read and reply: {page('review', made.pk)}" in text
    assert "You get this e-mail as an owner or editor of Kakao & Söhne Ltd." in text
    body = html(letter)
    assert "Melted &lt;again&gt;" in body
    assert "Grey bloom &amp; a torn wrapper." in body
    assert mails[EDITOR].body == text


def test_a_new_suggestion_reaches_the_suppliers_owners_and_editors(cocoa, sent):
    author = UserFactory(display_name="Adjoa")
    mails = by_recipient(
        sent(
            lambda: services.suggestion_create(
                author=author,
                product_id=cocoa.batch.product_id,
                title="A 50 g bar",
                body="The 100 g bar is too much for\nschool lunches.",
            )
        )
    )
    assert set(mails) == {OWNER, EDITOR}
    made = author.suggestions.get()
    text = mails[OWNER].body
    assert mails[OWNER].subject == f"New suggestion for {cocoa.batch.product.name}: “A 50 g bar”"
    assert "Adjoa made a suggestion for" in text
    assert "Their suggestion:\n> The 100 g bar is too much for\n> school lunches." in text
    assert f"Answer it in public by {notifications.when(made.created_at + timedelta(days=7))}" in text
    assert f"Read and answer: {page('suggestion', made.pk)}" in text
    assert "The 100 g bar is too much for<br>school lunches." in html(mails[OWNER])


def test_inactive_members_are_not_mailed(cocoa, sent):
    editor = SupplierMember.objects.get(user__email=EDITOR).user
    editor.is_active = False
    editor.save()
    assert set(by_recipient(sent(lambda: review(cocoa)))) == {OWNER}


def test_each_arrival_is_mailed_once_however_often_it_is_delivered(cocoa, sent):
    assert len(sent(lambda: review(cocoa))) == 2
    message = OutboxMessage.objects.get(task_name="reviews.tasks.review_arrived_notify")
    assert message.state == OutboxMessage.State.DONE
    assert sent(lambda: outbox.deliver(message_id=message.pk)) == []


def test_an_edit_or_a_reply_mails_nobody(cocoa, sent):
    made = review(cocoa)
    assert sent(lambda: services.review_edit(author=made.author, review_id=made.pk, rating=1)) == []
    assert sent(lambda: services.reply_save(author=cocoa.owner, review_id=made.pk, body="Thank you.")) == []


def test_a_review_rolled_back_mails_nobody(cocoa, sent):
    assert sent(lambda: rolled_back(lambda: review(cocoa))) == []
    assert not Review.objects.exists()


def test_links_are_the_site_address_and_the_rows_page(cocoa):
    made, idea = review(cocoa), suggestion(cocoa)
    assert notifications.link_to(made) == page("review", made.pk)
    assert notifications.link_to(idea) == page("suggestion", idea.pk)
    assert notifications.link_to(made).startswith("https://shop.example.org/")


def test_when_is_in_the_platforms_time_zone(settings):
    moment = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
    assert notifications.when(moment) == "Saturday 5 December 2026, 13:00"
