"""The community's pages: writing a review of a batch, a review's own page (every version, the supplier's reply and
its versions, the moderators' decisions; editing, replying and flagging), a product's reviews in a stated order, a
suggestion's page with its permanent history (voting, and answering it), and a product's suggestions.

The pages work without JavaScript. Every write goes through a service (reviews.services) with the keyed hash of the
request's address; a refusal is shown on the form that was sent, next to the field it concerns, and nothing was
changed; a success is a message and a redirect. The batch page (storefront) links here: its shared copy carries no
CSRF token, so its buttons are links to these pages, which ask an anonymous visitor to log in first.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.addresses import client_address
from core.text import clean_text
from products.access import access_for
from products.models import Product
from reviews import selectors, services
from reviews.forms import FlagForm, ReplyForm, ReviewForm, StatusForm, SuggestionForm, VoteForm, refused
from reviews.models import Origin, Review, Suggestion
from reviews.refusals import ReviewRefused

REVIEWS_PER_PAGE = 20
SUGGESTIONS_PER_PAGE = 30
# A review's page has three forms: their fields' ids differ.
EDIT_ID, REPLY_ID, FLAG_ID = "edit-%s", "reply-%s", "flag-%s"
# The HTTP status of a refused write, by the refusal's code (as the API maps them).
STATUS = {
    "not_found": 404,
    "permission_denied": 403,
    "wrong_state": 409,
    "already_reviewed": 409,
    "already_flagged": 409,
    "rate_limited": 429,
}


def _status(refusal: ReviewRefused) -> int:
    return STATUS.get(refusal.code, 400)


def _product_or_404(supplier_slug: str, product_slug: str) -> Product:
    product = selectors.public_product(supplier_slug, product_slug)
    if product is None:
        raise Http404("No such product.")
    return product


# Writing a review --------------------------------------------------------------------------------------------------


def _write_page(request: HttpRequest, batch: Any, form: ReviewForm, *, status: int = 200) -> HttpResponse:
    access = access_for(request.user)
    context = {
        "batch": batch,
        "product": batch.product,
        "supplier": batch.product.supplier,
        "form": form,
        "verified_units": selectors.verified_units_left(request.user, batch.pk),
        "own_reviews": selectors.reviews_by(request.user, batch.pk),
        "own_people": access.can_read(batch.product.supplier_id) and not access.operator,
        "verified_label": Origin.VERIFIED_PURCHASE.label,
        "unverified_label": Origin.UNVERIFIED.label,
    }
    return render(request, "reviews/write.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def write(request: HttpRequest, batch_id: int) -> HttpResponse:
    try:
        batch = services.public_batch(batch_id)
    except ReviewRefused:
        raise Http404("No such batch.") from None
    if request.method == "GET":
        return _write_page(request, batch, ReviewForm())
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _write_page(request, batch, form, status=400)
    try:
        review = services.review_create(
            author=request.user, batch_id=batch.pk, address=client_address(request), **form.service_kwargs()
        )
    except ReviewRefused as refusal:
        refused(form, refusal)
        return _write_page(request, batch, form, status=_status(refusal))
    messages.success(request, f"Thank you: your review is published, labelled “{review.get_origin_display()}”.")
    return redirect(review)


# A review's page ---------------------------------------------------------------------------------------------------


def _review_or_404(request: HttpRequest, review_id: int) -> Review:
    review = selectors.review_detail(review_id)
    if review is None or not (review.product.is_public or access_for(request.user).can_read(review.supplier_id)):
        raise Http404("No such review.")
    return review


def _review_page(
    request: HttpRequest,
    review: Review,
    *,
    edit: ReviewForm | None = None,
    reply: ReplyForm | None = None,
    flag: FlagForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    sent = edit or reply or flag
    shown = selectors.card(review)
    is_author = user.is_authenticated and review.author_id == user.pk
    open_to_change = review.state != Review.State.REMOVED
    flagged = review.pk in selectors.flagged_by(user, [review.pk])
    context = {
        "review": review,
        "card": shown,
        "product": review.product,
        "supplier": review.product.supplier,
        "revisions": list(review.revisions.all()),
        "reply_revisions": list(shown.reply.revisions.all()) if shown.reply else [],
        "decisions": list(review.decisions.all()),
        "is_author": is_author,
        "text_visible": review.is_shown or is_author,
        "may_edit": is_author and open_to_change,
        "may_reply": open_to_change and services.may_reply(user, review),
        "may_flag": user.is_authenticated and not is_author and not flagged and open_to_change,
        "flagged": flagged,
        "edit_form": edit
        or ReviewForm(auto_id=EDIT_ID, initial={"rating": review.rating, "title": review.title, "body": review.body}),
        "reply_form": reply or ReplyForm(auto_id=REPLY_ID, initial={"body": shown.reply.body} if shown.reply else None),
        "flag_form": flag or FlagForm(auto_id=FLAG_ID),
        # A refusal of the form sent, at the top: whatever the review's state now lets the page show.
        "problems": list(sent.non_field_errors()) if sent is not None else [],
    }
    return render(request, "reviews/review.html", context, status=status)


@require_safe
def review(request: HttpRequest, review_id: int) -> HttpResponse:
    response = _review_page(request, _review_or_404(request, review_id))
    response["Cache-Control"] = "private, no-cache"
    return response


def _back_to(review: Review, anchor: str) -> HttpResponse:
    return redirect(f"{review.get_absolute_url()}#{anchor}")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, review_id: int) -> HttpResponse:
    found = _review_or_404(request, review_id)
    if request.method == "GET":
        return _back_to(found, "edit")
    form = ReviewForm(request.POST, auto_id=EDIT_ID)
    if form.is_valid():
        try:
            services.review_edit(
                author=request.user, review_id=found.pk, address=client_address(request), **form.service_kwargs()
            )
        except ReviewRefused as refusal:
            refused(form, refusal)
            return _review_page(request, found, edit=form, status=_status(refusal))
        messages.success(request, "Your review is changed; the version before stays in its history.")
        return redirect(found)
    return _review_page(request, found, edit=form, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def review_reply(request: HttpRequest, review_id: int) -> HttpResponse:
    found = _review_or_404(request, review_id)
    if request.method == "GET":
        return _back_to(found, "reply")
    form = ReplyForm(request.POST, auto_id=REPLY_ID)
    if form.is_valid():
        try:
            services.reply_save(author=request.user, review_id=found.pk, body=form.cleaned_data["body"])
        except ReviewRefused as refusal:
            refused(form, refusal)
            return _review_page(request, found, reply=form, status=_status(refusal))
        messages.success(request, f"Your reply is published under the review, as {found.supplier.legal_name}'s.")
        return redirect(found)
    return _review_page(request, found, reply=form, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def review_flag(request: HttpRequest, review_id: int) -> HttpResponse:
    found = _review_or_404(request, review_id)
    if request.method == "GET":
        return _back_to(found, "flag")
    form = FlagForm(request.POST, auto_id=FLAG_ID)
    if form.is_valid():
        try:
            flag = services.flag_create(
                flagger=request.user, review_id=found.pk, address=client_address(request), **form.cleaned_data
            )
        except ReviewRefused as refusal:
            refused(form, refusal)
            return _review_page(request, found, flag=form, status=_status(refusal))
        if flag.review.state == Review.State.HELD:
            said = "The review is hidden while the network's moderators check it."
        else:
            said = "The review stays on the page while the network's moderators check it."
        messages.success(request, f"Thank you: your report is with the moderators. {said}")
        return redirect(found)
    return _review_page(request, found, flag=form, status=400)


# A product's reviews -----------------------------------------------------------------------------------------------


@require_safe
def product_reviews(request: HttpRequest, supplier_slug: str, product_slug: str) -> HttpResponse:
    product = _product_or_404(supplier_slug, product_slug)
    summary = selectors.rating_summary(product_id=product.pk)
    order = request.GET.get("order", selectors.DEFAULT_ORDER)
    if order not in selectors.ORDERS:
        order = selectors.DEFAULT_ORDER
    page = Paginator(selectors.reviews_of_product(product.pk, order=order), REVIEWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "product": product,
        "supplier": product.supplier,
        "summary": summary,
        "verified_percent": round(100 * summary.verified / summary.count) if summary.count else 0,
        "page": page,
        "cards": [selectors.card(review) for review in page],
        "order": order,
        "orders": list(selectors.ORDER_LABELS.items()),
        "order_label": selectors.ORDER_LABELS[order],
    }
    return render(request, "reviews/product_reviews.html", context)


# Suggestions -------------------------------------------------------------------------------------------------------


def _suggest_page(request: HttpRequest, product: Product, form: SuggestionForm, *, status: int = 200) -> HttpResponse:
    context = {"product": product, "supplier": product.supplier, "form": form}
    return render(request, "reviews/suggest.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def suggest(request: HttpRequest, supplier_slug: str, product_slug: str) -> HttpResponse:
    product = _product_or_404(supplier_slug, product_slug)
    if request.method == "GET":
        return _suggest_page(request, product, SuggestionForm())
    form = SuggestionForm(request.POST)
    if not form.is_valid():
        return _suggest_page(request, product, form, status=400)
    try:
        made = services.suggestion_create(
            author=request.user, product_id=product.pk, address=client_address(request), **form.cleaned_data
        )
    except ReviewRefused as refusal:
        refused(form, refusal)
        return _suggest_page(request, product, form, status=_status(refusal))
    messages.success(
        request, f"Your suggestion is published, with your vote. {product.supplier.legal_name} answers it."
    )
    return redirect(made)


@require_safe
def product_suggestions(request: HttpRequest, supplier_slug: str, product_slug: str) -> HttpResponse:
    product = _product_or_404(supplier_slug, product_slug)
    page = Paginator(selectors.suggestions_of_product(product.pk), SUGGESTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    voted = selectors.voted_by(request.user, [s.pk for s in page])
    for each in page:
        answered = [change for change in each.history.all() if change.response]
        each.latest_response = answered[-1].response if answered else ""
        each.latest_response_at = answered[-1].created_at if answered else None
    context = {
        "product": product,
        "supplier": product.supplier,
        "page": page,
        "rows": [(each, voted.get(each.pk)) for each in page],
        "own_people": not services.may_vote(request.user, product.supplier_id),
    }
    return render(request, "reviews/product_suggestions.html", context)


def _suggestion_or_404(suggestion_id: int) -> Suggestion:
    found = selectors.suggestion_detail(suggestion_id)
    if found is None or not found.product.is_public:
        raise Http404("No such suggestion.")
    return found


def _who(change: Any) -> str:
    if change.by_supplier_id:
        return change.by_supplier.legal_name
    if not change.previous:
        return f"{clean_text(change.by.public_name, multiline=False)}, who suggested it"
    return "The network's operators"


def _suggestion_page(
    request: HttpRequest,
    suggestion: Suggestion,
    *,
    vote: VoteForm | None = None,
    answer: StatusForm | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    answering = suggestion.status != Suggestion.Status.DUPLICATE and services.may_answer(user, suggestion)
    mine = selectors.voted_by(user, [suggestion.pk]).get(suggestion.pk)
    context = {
        "suggestion": suggestion,
        "product": suggestion.product,
        "supplier": suggestion.product.supplier,
        "history": [(change, _who(change)) for change in suggestion.history.all()],
        "vote": mine,
        "own_people": not services.may_vote(user, suggestion.supplier_id),
        "vote_form": vote or VoteForm(initial={"notify": mine.notify if mine else False}),
        "may_answer": answering,
        "status_form": answer
        or (
            StatusForm(targets=selectors.merge_targets(suggestion), initial={"status": suggestion.status})
            if answering
            else None
        ),
        "problems": problems or [],
    }
    return render(request, "reviews/suggestion.html", context, status=status)


@require_safe
def suggestion(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    response = _suggestion_page(request, _suggestion_or_404(suggestion_id))
    response["Cache-Control"] = "private, no-cache"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def suggestion_vote(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    found = _suggestion_or_404(suggestion_id)
    if request.method == "GET":
        return redirect(f"{found.get_absolute_url()}#vote")
    form = VoteForm(request.POST)
    form.is_valid()  # a checkbox: always valid
    try:
        voted = services.suggestion_vote(
            voter=request.user,
            suggestion_id=found.pk,
            notify=form.cleaned_data.get("notify", False),
            address=client_address(request),
        )
    except ReviewRefused as refusal:
        return _suggestion_page(request, found, vote=form, problems=refusal.messages, status=_status(refusal))
    tell = " You will be e-mailed when its status changes." if voted.vote.notify else ""
    if voted.created:
        messages.success(request, f"Your vote for “{found.title}” is counted.{tell}")
    else:
        messages.success(request, f"You had already voted for “{found.title}”; your vote counts once.{tell}")
    return _next_or(request, found.get_absolute_url())


@login_required
@require_POST
def suggestion_unvote(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    found = _suggestion_or_404(suggestion_id)
    try:
        services.suggestion_unvote(voter=request.user, suggestion_id=found.pk)
    except ReviewRefused as refusal:
        return _suggestion_page(request, found, problems=refusal.messages, status=_status(refusal))
    messages.success(request, f"Your vote for “{found.title}” is taken back.")
    return _next_or(request, found.get_absolute_url())


@login_required
@require_POST
def suggestion_status(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    found = _suggestion_or_404(suggestion_id)
    form = StatusForm(request.POST, targets=selectors.merge_targets(found))
    if form.is_valid():
        try:
            change = services.suggestion_status_set(actor=request.user, suggestion_id=found.pk, **form.service_kwargs())
        except ReviewRefused as refusal:
            refused(form, refusal)
            return _suggestion_page(request, found, answer=form, status=_status(refusal))
        moved = f" {change.votes_moved} votes moved to it." if change.duplicate_of_id else ""
        messages.success(request, f"The suggestion is now “{change.get_status_display()}”, in its history.{moved}")
        return redirect(found)
    return _suggestion_page(request, found, answer=form, status=400)


def _next_or(request: HttpRequest, default: str) -> HttpResponse:
    """Back to `next` when it is a page of this site (the batch page's inline vote buttons), else to `default`."""
    wanted = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(wanted if wanted and safe else default)
