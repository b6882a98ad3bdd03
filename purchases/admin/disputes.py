"""Disputes in the dashboard: the supplier reads the buyer's complaint and answers it; an operator decides (upheld or
rejected, with written reasons) and sees what the network's guarantee refunded, recovered and is still owed.

The answer and the decision are fields of the dispute's own page, written through services.dispute_answer and
services.dispute_decide; a decided dispute is read-only for everyone.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from purchases import money, services
from purchases.admin.forms import DisputeAnswerForm, DisputeDecisionForm
from purchases.admin.scoped import PurchasesAdmin, ReadOnlyInline
from purchases.admin.wording import when
from purchases.models import Dispute, Means, Recovery

UNDECIDED = (Dispute.State.OPEN, Dispute.State.ANSWERED)


class RecoveryInline(ReadOnlyInline, admin.TabularInline):
    """What the network claimed back from the supplier for its guarantee's refund."""

    model = Recovery
    verbose_name = "claimed back from the supplier"
    verbose_name_plural = "claimed back from the supplier"
    fields = ["at", "amount_credits"]
    readonly_fields = fields

    @admin.display(description="credits")
    def amount_credits(self, obj: Recovery) -> str:
        return money.credits(obj.amount)


def guarantee_text(dispute: Dispute) -> str:
    """What the network's guarantee does, or did, for this dispute."""
    order = dispute.order
    if order.payment == Means.CASH:
        if dispute.state == Dispute.State.UPHELD:
            return f"Paid in hard currency: the supplier refunds the {order.total_text()} to the buyer."
        return "Paid in hard currency: if the dispute is upheld, the supplier refunds the buyer."
    if dispute.state == Dispute.State.REJECTED:
        return "Rejected: the supplier keeps the credits."
    if dispute.state == Dispute.State.UPHELD and dispute.refunded:
        owed = (
            f" The supplier still owes the network {money.credits(dispute.outstanding)}: it is claimed again as "
            "its balance allows."
            if dispute.outstanding
            else " The supplier has paid it all back."
        )
        return (
            f"The network's guarantee fund refunded {money.credits(dispute.refunded)} to the buyer at once, and "
            f"claimed {money.credits(dispute.recovered)} back from the supplier.{owed}"
        )
    if dispute.state == Dispute.State.UPHELD:
        return "The credits reserved for the order went back to the buyer; the supplier was not paid."
    return (
        "Paid in network credits, guaranteed by the network: if the dispute is upheld the buyer gets them back at "
        "once, from the credits still reserved or else from the network's guarantee fund, which claims them back "
        "from the supplier."
    )


@admin.register(Dispute)
class DisputeAdmin(PurchasesAdmin):
    supplier_path = "order__supplier"
    list_display = ["order_number", "reason", "state", "opened", "refunded_credits", "outstanding_credits"]
    list_filter = ["state", "reason"]
    list_select_related = ["order__supplier", "order__buyer"]
    search_fields = ["order__buyer__email", "description"]
    inlines = [RecoveryInline]
    problem = (
        "The problem",
        {"fields": ["order_link", "buyer", "paid_in", "complaint", "opened", "description", "evidence"]},
    )
    shown = [
        "order_link", "buyer", "paid_in", "complaint", "opened", "description", "evidence", "supplier_response",
        "responded", "state", "decision_reason", "decided", "guarantee", "refunded_credits",
        "recovered_credits", "outstanding_credits", "refund",
    ]  # fmt: skip

    # Columns and fields

    @admin.display(description="order", ordering="order_id")
    def order_number(self, obj: Dispute) -> str:
        return f"#{obj.order_id}"

    @admin.display(description="order")
    def order_link(self, obj: Dispute) -> str:
        url = reverse("admin:purchases_order_change", args=[obj.order_id])
        return format_html('<a href="{}">#{}</a> from {}', url, obj.order_id, obj.order.supplier.legal_name)

    @admin.display(description="buyer")
    def buyer(self, obj: Dispute) -> str:
        return obj.order.buyer.email

    @admin.display(description="paid")
    def paid_in(self, obj: Dispute) -> str:
        order = obj.order
        means = "in network credits" if order.payment == Means.CREDITS else "in hard currency"
        return f"{order.total_text()} {means}"

    @admin.display(description="reason")
    def complaint(self, obj: Dispute) -> str:
        return obj.get_reason_display()  # by another name: "reason" is the decision's written reasons

    @admin.display(description="opened", ordering="opened_at")
    def opened(self, obj: Dispute) -> str:
        return when(obj.opened_at)

    @admin.display(description="answered")
    def responded(self, obj: Dispute) -> str:
        return when(obj.responded_at)

    @admin.display(description="decided")
    def decided(self, obj: Dispute) -> str:
        return when(obj.decided_at)

    @admin.display(description="evidence")
    def evidence(self, obj: Dispute) -> str:
        if not obj.evidence_url:
            return "—"
        return format_html('<a href="{}" rel="noopener noreferrer nofollow">{}</a>', obj.evidence_url, obj.evidence_url)

    @admin.display(description="what the guarantee does")
    def guarantee(self, obj: Dispute) -> str:
        return guarantee_text(obj)

    @admin.display(description="refunded by the guarantee fund", ordering="refunded")
    def refunded_credits(self, obj: Dispute) -> str:
        return money.credits(obj.refunded) if obj.refunded else "—"

    @admin.display(description="recovered from the supplier")
    def recovered_credits(self, obj: Dispute) -> str:
        return money.credits(obj.recovered) if obj.refunded else "—"

    @admin.display(description="still owed by the supplier")
    def outstanding_credits(self, obj: Dispute) -> str:
        return money.credits(obj.outstanding) if obj.refunded else "—"

    @admin.display(description="refund transfer")
    def refund(self, obj: Dispute) -> str:
        if obj.guarantee_refund_id is None:
            return "—"
        return format_html(
            '<a href="{}">transfer #{}</a>',
            reverse("admin:network_credits_transfer_change", args=[obj.guarantee_refund_id]),
            obj.guarantee_refund_id,
        )

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # What was claimed back, once the guarantee fund has refunded something.
        return super().get_inline_instances(request, obj) if obj is not None and obj.refunded else []

    def get_list_display(self, request: HttpRequest) -> Any:
        access = self.access(request)
        several = access.operator or len(access.readable) > 1
        return [*self.list_display, "order__supplier"] if several else self.list_display

    # Who writes what

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Dispute]:
        return super().get_queryset(request).select_related("order__supplier", "order__buyer")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # buyers open disputes, from their order

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.state not in UNDECIDED:
            return False  # decided: read-only for everyone
        return super().has_change_permission(request, obj)

    def _writes(self, request: HttpRequest, obj: Dispute | None) -> str:
        """What the person writes on this dispute's page: "decision" (operators), "answer" (the supplier), or ""."""
        if obj is None or not self.has_change_permission(request, obj):
            return ""
        return "decision" if self.access(request).operator else "answer"

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        writes = self._writes(request, obj)
        if writes:
            kwargs["form"] = DisputeDecisionForm if writes == "decision" else DisputeAnswerForm
            # Only the form's own fields: its "reason" (the services' name for written reasons) is not the model's.
            kwargs["fields"] = []
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        writes = self._writes(request, obj)
        answer = ["response"] if writes == "answer" else ["supplier_response", "responded"]
        decision = ["state", "decision_reason", "decided"]
        if writes == "decision":
            decision = ["state", "decision", "reason"]
        guarantee = ["guarantee"]
        if obj is not None and obj.refunded:
            guarantee += ["refunded_credits", "recovered_credits", "outstanding_credits"]
            if self.access(request).operator:
                guarantee.append("refund")  # the fund's transfer to the buyer: the network's books
        return [
            self.problem,
            ("The supplier's answer", {"fields": answer}),
            ("The network's decision", {"fields": decision}),
            ("The network's guarantee", {"fields": guarantee}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.shown

    def service_save(self, request: HttpRequest, obj: Dispute, form: forms.ModelForm, change: bool) -> Dispute:
        data = form.cleaned_data
        if "decision" in form.fields:
            return services.dispute_decide(
                dispute=obj, actor=request.user, upheld=data["decision"] == "upheld", reason=data.get("reason", "")
            )
        return services.dispute_answer(dispute=obj, actor=request.user, response=data.get("response", ""))

    def response_change(self, request: HttpRequest, obj: Dispute) -> HttpResponseRedirect:
        obj.refresh_from_db()
        if obj.state in UNDECIDED:
            text = f"Your answer on order #{obj.order_id} is recorded: the network decides next."
        else:
            text = f"The dispute on order #{obj.order_id} is {obj.get_state_display().lower()}. {guarantee_text(obj)}"
        self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:purchases_dispute_change", args=[obj.pk]))
