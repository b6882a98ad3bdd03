"""The demo community: reviews of the demo shop's products — verified ones by the shoppers whose demo orders were
delivered, unverified ones by a few more people — honest low ratings with what went wrong, edits, the suppliers'
replies, reports and the moderators' decisions; and suggestions in every status, with their votes and histories.

Runs after the purchases demo (socialbiz's seed_demo): a verified review is of a delivered demo order's line, found
by the order's idempotency key. Everything goes through the services, as people would do it, so the demo obeys the
same rules as real data (labels, one review per unit, the abuse limits, votes moved by a merge). Each thing is made
only when missing — a review by its author and batch, a suggestion by its author, product and title, a step of a
history by its place in it — so running it again adds nothing, and what someone changed since is left alone.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from django.db import transaction

from accounts.models import User
from accounts.services import user_sign_up
from products import demo as catalog_demo
from products.demo import Writer
from products.models import Batch, Product
from purchases import demo as shop_demo
from purchases.models import Order
from reviews import services
from reviews.models import Decision, Flag, Reply, Review, Suggestion, Vote
from reviews.refusals import ReviewRefused

ANA, BEN, CHIOMA = shop_demo.ANA, shop_demo.BEN, shop_demo.CHIOMA
OPERATOR = shop_demo.OPERATOR
KAKAO_OWNER, KAKAO_EDITOR = "owner@kakao-kollektiv.example", "editor@kakao-kollektiv.example"
FIO_OWNER, MWANGAZA_OWNER = "owner@fio-lento.example", "owner@mwangaza-home.example"
KWAME, EFUA, JOAO, AMINA, LUCAS = (
    "kwame@shoppers.example",
    "efua@shoppers.example",
    "joao@shoppers.example",
    "amina@shoppers.example",
    "lucas@shoppers.example",
)
# People who review and vote without having bought here (their reviews are labelled unverified).
NEIGHBOURS = {KWAME: "Kwame O.", EFUA: "Efua", JOAO: "João", AMINA: "Amina", LUCAS: "Lucas"}

CHOCOLATE, SHIRT, TOWELS = "dark-chocolate-70", "organic-cotton-work-shirt", "undyed-cotton-tea-towels"
BAR_SOAP, MUG, HAND_SOAP = "kitchen-laundry-bar-soap", "enamel-mug-350", "shea-lemongrass-hand-soap"


@dataclass(frozen=True)
class Text:
    rating: int
    title: str
    body: str


@dataclass(frozen=True)
class DemoReview:
    author: str
    product: str
    versions: tuple[Text, ...]  # the first as posted, then each edit
    order: str = ""  # a delivered demo order's key: the review is of its line (verified)
    replies: tuple[str, ...] = ()  # the supplier's reply, then each edit of it
    replier: str = ""
    flag: tuple[str, str, str] | None = None  # (flagger, reason, note)
    decision: tuple[str, str] | None = None  # (outcome, the moderator's reason)


REVIEWS: tuple[DemoReview, ...] = (
    DemoReview(
        BEN, CHOCOLATE, order="demo-order-10",
        versions=(Text(5, "Deep cocoa, not too sweet", (
            "Dark and fruity, with a long finish and only a little bitterness. It snaps cleanly and melts slowly; "
            "my children ate half a bar each, which says enough. The paper inside the wrapper tells you which "
            "farmer groups the beans came from.")),),
    ),
    DemoReview(
        ANA, CHOCOLATE, order="demo-order-15",
        versions=(Text(2, "Both bars arrived melted and grey", (
            "I collected two bars at the factory shop. Both had melted and set again: grey streaks across the "
            "surface, a crumbly texture and torn wrappers. The taste underneath was fine, but I would not give "
            "these as a present. The guarantee refunded me after the dispute.")),),
        replier=KAKAO_OWNER,
        replies=(
            "We are sorry, Ana. The cooler in our shop failed that Tuesday and we did not notice in time.",
            "We are sorry, Ana. The cooler in our shop failed that Tuesday and we did not notice in time. We have "
            "since replaced it, and we now log the shop's temperature twice a day; the log is on our page.",
        ),
    ),
    DemoReview(
        KWAME, CHOCOLATE,
        versions=(Text(4, "Good bar, a little expensive", (
            "Bought at the Kumasi market, not here. Rich cocoa flavour, less sugar than the usual brands. At 48 "
            "cedis it is a treat, not an everyday bar.")),),
    ),
    DemoReview(
        EFUA, CHOCOLATE,
        versions=(Text(1, "Far too bitter for me", (
            "I expected a milk-chocolate taste and got something sharp and bitter that stayed in my mouth. I gave "
            "the rest of the bar away. Maybe 70 % cocoa is just not for me, but the label could warn people.")),),
        replier=KAKAO_EDITOR,
        replies=("Thank you, Efua. A 70 % bar is bitter by nature; we will say so more plainly on the wrapper.",),
        flag=(KAKAO_EDITOR, "not_genuine", "She says she never finished the bar; this reads like a review of taste."),
        decision=("keep", (
            "This is the author's own experience of the bar, and a low rating is never a reason to remove a review. "
            "It breaks no rule, so it stays as written.")),
    ),
    DemoReview(
        ANA, TOWELS, order="demo-order-09",
        versions=(
            Text(5, "Soft and absorbent from the first use", (
                "Thick, undyed cotton that dries glasses without lint. Neatly hemmed, with a loop for hanging.")),
            Text(3, "Soft and absorbent, but they shrank", (
                "Thick, undyed cotton that dries glasses without lint. Neatly hemmed, with a loop for hanging. "
                "Edit after three washes at 60 °C: each towel shrank by about 4 cm in length. Still useful, but "
                "wash them cool.")),
        ),
        replier=FIO_OWNER,
        replies=("Thank you for the update. Untreated cotton shrinks by up to 6 % at 60 °C; we now say so on the "
                 "label and recommend 40 °C.",),
    ),
    DemoReview(
        BEN, SHIRT, order="demo-order-11",
        versions=(Text(2, "Uneven sleeves, good cloth", (
            "The cotton is heavy and feels like it will last years, but the left sleeve was 3 cm shorter than the "
            "right one and the seam at the cuff was puckered. For a work shirt at this price that should not pass "
            "the final check.")),),
        replier=FIO_OWNER,
        replies=("You are right, Ben, and we are sorry. The shirt came from a Friday batch that skipped the second "
                 "measuring; we are replacing yours and have put that check back on every shirt.",),
    ),
    DemoReview(
        JOAO, SHIRT,
        versions=(Text(5, "Survived a summer on the building site", (
            "A friend lent me his. Four months of daily wear, washed twice a week: no holes, the buttons are "
            "still on, and the spare patch inside the hem saved a torn elbow.")),),
    ),
    DemoReview(
        ANA, BAR_SOAP, order="demo-order-12",
        versions=(Text(1, "My hands stung after one wash", (
            "After washing the dishes with it once, my hands stung and went red for an hour. The bar smells sharp, "
            "not of coconut like the description says. I have stopped using it and reported it as unsafe.")),),
        replier=MWANGAZA_OWNER,
        replies=("Thank you for telling us. We tested the lot again: its pH was 10.8, above our limit of 10. We have "
                 "stopped selling it and the network is handling your dispute.",),
    ),
    DemoReview(
        AMINA, BAR_SOAP,
        versions=(Text(3, "Cleans well; cheaper elsewhere", (
            "It gets grease off pans and stains out of collars. But you can get a similar bar for half the price "
            "at soapdeals dot example, use code AMINA10.")),),
        flag=(LUCAS, "advertising", "The last sentence is an advert with a discount code."),
        decision=("edit", (
            "Your opinion of the soap can stay, but the shop's name and the discount code are advertising. Please "
            "edit the review to take them out.")),
    ),
    DemoReview(
        AMINA, MUG,
        versions=(Text(2, "The enamel chipped at the rim", (
            "Nice weight and it keeps tea hot, but after two weeks a piece of enamel came off the rim, and now the "
            "steel shows and has started to rust. I only washed it by hand.")),),
        replier=MWANGAZA_OWNER,
        replies=("Sorry, Amina. Please bring it to the soap works or send us a photo: we replace chipped mugs "
                 "within a year.",),
    ),
    DemoReview(
        LUCAS, HAND_SOAP,
        versions=(Text(4, "Lemongrass that lasts", (
            "Smells fresh without being strong. Ask for Mary Wanjiku at the Nyali shop, her number is 0722 555 "
            "019; she gave me two bars for the price of one.")),),
        flag=(JOAO, "personal_data", "It gives a shop assistant's full name and phone number."),
        decision=("remove", (
            "It gives a named person's phone number without her consent. Personal data is removed; the author may "
            "post a review without it.")),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Step:
    status: str
    by: str
    response: str
    duplicate_of: str = ""  # the title of the suggestion it duplicates (same product)


@dataclass(frozen=True)
class DemoSuggestion:
    author: str
    product: str
    title: str
    body: str
    votes: tuple[tuple[str, bool], ...] = ()  # (voter, wants e-mail)
    steps: tuple[Step, ...] = ()


SUGGESTIONS: tuple[DemoSuggestion, ...] = (
    DemoSuggestion(
        CHIOMA, CHOCOLATE, "A paper wrapper instead of the plastic film",
        "The inner film is the only part of the pack that cannot be recycled here. Waxed paper or foil would do.",
        votes=((ANA, True), (BEN, False), (KWAME, True), (EFUA, False)),
        steps=(
            Step("under_review", KAKAO_OWNER, "We are testing two papers for how well they keep the bars dry."),
            Step("planned", KAKAO_OWNER, "The waxed paper passed a month in our store room. From the first lot of "
                 "next year."),
            Step("started", KAKAO_OWNER, "The new wrapping machine is in; lot CH26-1015 is half in paper."),
        ),
    ),
    DemoSuggestion(
        JOAO, CHOCOLATE, "Compostable packaging",
        "Could the whole pack go in the compost, like some bars in Europe?",
        votes=((LUCAS, True), (AMINA, False), (KWAME, False)),
        steps=(
            Step("duplicate", KAKAO_OWNER, "The same wish as the paper wrapper: we answer it there, and your votes "
                 "have moved with it.", duplicate_of="A paper wrapper instead of the plastic film"),
        ),
    ),
    DemoSuggestion(
        BEN, CHOCOLATE, "Print the cadmium result of each lot",
        "You say a lab tests every lot for cadmium. Show the figure for my lot, not only that it passed.",
        votes=((ANA, True), (CHIOMA, True), (EFUA, False)),
        steps=(
            Step("under_review", KAKAO_OWNER, "We are asking the lab whether we may publish its reports in full."),
            Step("started", KAKAO_EDITOR, "The lab agreed. We are adding the reports of this year's lots."),
            Step("completed", KAKAO_OWNER, "Every lot's result, in mg/kg, is now on its batch page, with the lab's "
                 "report attached."),
        ),
    ),
    DemoSuggestion(
        EFUA, CHOCOLATE, "A 50 g bar for school lunches",
        "The 100 g bar is too much for a child's lunch box and too dear for every day.",
        votes=((CHIOMA, False), (KWAME, True)),
    ),
    DemoSuggestion(
        ANA, BAR_SOAP, "A fragrance-free bar for sensitive skin",
        "After my hands reacted I would still buy a plain bar without the added scent.",
        votes=((AMINA, True), (CHIOMA, False)),
        steps=(
            Step("under_review", MWANGAZA_OWNER, "We are checking which of our oils caused the reaction."),
            Step("planned", MWANGAZA_OWNER, "A plain coconut bar, tested for pH on every lot, from next month."),
        ),
    ),
    DemoSuggestion(
        CHIOMA, BAR_SOAP, "Sell bars unwrapped, by the kilo",
        "Schools and laundries would buy ten kilos at a time and do not need a paper band on every bar.",
        votes=((BEN, False),),
        steps=(Step("under_review", MWANGAZA_OWNER, "We are working out the price of a 10 kg sack."),),
    ),
    DemoSuggestion(
        BEN, SHIRT, "A long-sleeve version with a button cuff",
        "For welding and cold mornings the short sleeve is not enough.",
        votes=((JOAO, True),),
        steps=(
            Step("under_review", FIO_OWNER, "We asked our weavers about a heavier cloth."),
            Step("declined", FIO_OWNER, "Sorry: the only cloth heavy enough is not organic, and we will not sell "
                 "a shirt we cannot trace. We will look again next year."),
        ),
    ),
    DemoSuggestion(
        ANA, TOWELS, "Say on the label that they shrink at 60 °C",
        "Mine lost 4 cm in length. People should know before they wash them hot.",
        votes=((CHIOMA, True), (LUCAS, False)),
        steps=(
            Step("planned", FIO_OWNER, "You are right. The next print of the labels will say it."),
            Step("completed", FIO_OWNER, "The labels of lot TT26-B say: wash at 40 °C, shrinks up to 6 % at 60 °C."),
        ),
    ),
)  # fmt: skip


@dataclass
class ReviewsDemoSummary:
    people: int = 0
    reviews: int = 0
    edits: int = 0
    replies: int = 0
    flags: int = 0
    decisions: int = 0
    suggestions: int = 0
    votes: int = 0
    status_changes: int = 0
    left_out: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "left_out")

    def __str__(self) -> str:
        counts = [
            f"{getattr(self, f.name)} {f.name.replace('_', ' ')}" for f in fields(self)[:-1] if getattr(self, f.name)
        ]
        text = "created " + ", ".join(counts) if counts else "nothing to do: the demo reviews are already there"
        return text + (f"; left out: {'; '.join(self.left_out)}" if self.left_out else "")


def _neighbours(summary: ReviewsDemoSummary) -> None:
    for email, display_name in NEIGHBOURS.items():
        if not User.objects.filter(email=email).exists():
            user_sign_up(email=email, password=catalog_demo.DEMO_PASSWORD, display_name=display_name)
            summary.people += 1


def _batch(plan: DemoReview, people: Mapping[str, User], products: Mapping[str, Product]) -> tuple[Batch, int | None]:
    """The batch a review is of, and the order line it is of when it is verified."""
    if plan.order:
        line = (
            Order.objects.filter(buyer=people[plan.author], idempotency_key=plan.order)
            .values_list("lines__id", "lines__batch_id")
            .order_by("lines__id")
            .first()
        )
        if line is None or line[0] is None:
            raise ReviewRefused(f"the demo order {plan.order} is missing", code="not_found")
        return Batch.objects.get(pk=line[1]), line[0]
    batch = products[plan.product].batches.order_by("-produced_on", "-id").first()
    if batch is None:
        raise ReviewRefused(f"{plan.product} has no batch", code="not_found")
    return batch, None


def _review(
    plan: DemoReview,
    *,
    people: Mapping[str, User],
    products: Mapping[str, Product],
    operator: User,
    summary: ReviewsDemoSummary,
) -> None:
    author = people[plan.author]
    batch, line_id = _batch(plan, people, products)
    review = Review.objects.filter(author=author, batch=batch).order_by("id").first()
    first = plan.versions[0]
    if review is None:
        review = services.review_create(
            author=author,
            batch_id=batch.pk,
            rating=first.rating,
            title=first.title,
            body=first.body,
            order_line_id=line_id,
        )
        summary.reviews += 1
    for text in plan.versions[review.revision_count :]:
        review = services.review_edit(
            author=author, review_id=review.pk, rating=text.rating, title=text.title, body=text.body
        )
        summary.edits += 1
    if plan.replies:
        reply = Reply.objects.filter(review=review).first()
        for body in plan.replies[reply.revision_count if reply else 0 :]:
            services.reply_save(author=people[plan.replier], review_id=review.pk, body=body)
            summary.replies += 1
    if plan.flag and not Flag.objects.filter(review=review, flagger=people[plan.flag[0]]).exists():
        flagger, reason, note = plan.flag
        services.flag_create(flagger=people[flagger], review_id=review.pk, reason=reason, note=note)
        summary.flags += 1
    if plan.decision and not Decision.objects.filter(review=review).exists():
        outcome, reason = plan.decision
        services.review_decide(moderator=operator, review_id=review.pk, outcome=outcome, reason=reason)
        summary.decisions += 1


def _suggestion(
    plan: DemoSuggestion,
    *,
    people: Mapping[str, User],
    products: Mapping[str, Product],
    summary: ReviewsDemoSummary,
) -> None:
    product = products[plan.product]
    author = people[plan.author]
    made = Suggestion.objects.filter(author=author, product=product, title=plan.title).first()
    if made is None:
        made = services.suggestion_create(
            author=author, product_id=product.pk, title=plan.title, body=plan.body, notify=True
        )
        summary.suggestions += 1
    if not made.votes_locked:
        voted = set(Vote.objects.filter(suggestion=made).values_list("voter__email", flat=True))
        for email, notify in plan.votes:
            if email not in voted:
                services.suggestion_vote(voter=people[email], suggestion_id=made.pk, notify=notify)
                summary.votes += 1
    taken = made.history.count() - 1  # the first entry is its opening
    for step in plan.steps[taken:]:
        into = None
        if step.duplicate_of:
            into = Suggestion.objects.filter(product=product, title=step.duplicate_of).order_by("id").first()
        services.suggestion_status_set(
            actor=people[step.by],
            suggestion_id=made.pk,
            status=step.status,
            response=step.response,
            duplicate_of_id=into.pk if into else None,
        )
        summary.status_changes += 1


@transaction.atomic
def seed(*, stdout: Writer | None = None) -> ReviewsDemoSummary:
    """Create the demo reviews, replies, reports, decisions, suggestions, votes and steps that are missing."""
    say = stdout or io.StringIO()
    summary = ReviewsDemoSummary()
    _neighbours(summary)
    emails = {ANA, BEN, CHIOMA, OPERATOR, KAKAO_OWNER, KAKAO_EDITOR, FIO_OWNER, MWANGAZA_OWNER} | set(NEIGHBOURS)
    people = {user.email: user for user in User.objects.filter(email__in=emails, is_active=True)}
    products = {p.slug: p for p in Product.objects.public().filter(slug__in=shop_demo.PRICES)}
    operator = people.get(OPERATOR)
    if operator is None or not operator.is_staff:
        summary.left_out.append("everything (the demo operator is missing)")
        say.write(f"reviews: {summary}\n")
        return summary
    for plan in REVIEWS:
        if plan.product not in products or {plan.author, plan.replier or plan.author} - set(people):
            summary.left_out.append(f"{plan.author}'s review of {plan.product} (a person or the product is missing)")
            continue
        try:
            with transaction.atomic():
                _review(plan, people=people, products=products, operator=operator, summary=summary)
        except ReviewRefused as refused:
            summary.left_out.append(f"{plan.author}'s review of {plan.product} ({refused.messages[0]})")
    for plan in SUGGESTIONS:
        needed = {plan.author, *(email for email, _ in plan.votes), *(step.by for step in plan.steps)}
        if plan.product not in products or needed - set(people):
            summary.left_out.append(f"the suggestion “{plan.title}” (a person or the product is missing)")
            continue
        try:
            with transaction.atomic():
                _suggestion(plan, people=people, products=products, summary=summary)
        except ReviewRefused as refused:
            summary.left_out.append(f"the suggestion “{plan.title}” ({refused.messages[0]})")
    say.write(f"reviews: {summary}\n")
    return summary
