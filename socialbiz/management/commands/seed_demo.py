import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from accounts.models import User
from network_credits import demo as credits_demo
from products import demo as catalog_demo
from products.models import Supplier
from provenance import demo as chains_demo
from purchases import demo as shop_demo
from reviews import demo as community_demo


@contextlib.contextmanager
def demo_mail_kept_in_memory() -> Iterator[None]:
    """The demo orders' e-mails (a few hundred, to the demo's example addresses) go to Django's in-memory mailbox
    instead of the embedded mode's console, where they would bury the banner; each is still recorded as a
    Notification. In production mode the workers send them later, with their own settings."""
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    try:
        yield
    finally:
        settings.EMAIL_BACKEND = backend


class Command(BaseCommand):
    help = (
        "Load the demo network (suppliers, products, batches, people). Safe to run again: it adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if the database already has suppliers.")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where the site is served, for the banner.")

    def handle(self, *args: Any, if_empty: bool, url: str, **options: Any) -> None:
        if if_empty and Supplier.objects.exists():
            self.stdout.write("The database already has data; demo data not loaded again.")
        else:
            summary = catalog_demo.seed()
            self.stdout.write(self.style.SUCCESS(f"Demo data: {summary}."))
            self.stdout.write(self.style.SUCCESS(f"Demo supply chains: {chains_demo.seed()}."))
            self.stdout.write(self.style.SUCCESS(f"Demo credits: {self.seed_credits()}."))
            with demo_mail_kept_in_memory():
                self.stdout.write(self.style.SUCCESS(f"Demo orders: {shop_demo.seed()}."))
                self.stdout.write(self.style.SUCCESS(f"Demo reviews and suggestions: {community_demo.seed()}."))
        self.stdout.write(self.banner(url.rstrip("/")))

    def seed_credits(self) -> object:
        """The ledger knows no people or suppliers of its own: the project hands them over."""
        emails = [email for email, _ in catalog_demo.DEMO_LOGINS]
        people = {user.email: user for user in User.objects.filter(email__in=emails)}
        members = {email: user for email, user in people.items() if "@shoppers." in email}
        suppliers = {
            slug: (pk, name)
            for pk, slug, name in Supplier.objects.filter(slug__in=[s["slug"] for s in catalog_demo.SUPPLIERS])
            .order_by("pk")
            .values_list("pk", "slug", "legal_name")
        }
        operator = User.objects.filter(is_staff=True, email__in=emails).order_by("pk").first()
        return credits_demo.seed(members=members, suppliers=suppliers, operator=operator)

    def banner(self, url: str) -> str:
        lines = [
            "",
            "socialbiz is ready:",
            f"  shop            {url}/",
            f"  dashboard       {url}/dashboard/",
            f"  my credits      {url}/credits/",
            f"  my orders       {url}/orders/",
            f"  health          {url}/healthz",
            "",
            f"Demo logins (password for all: {catalog_demo.DEMO_PASSWORD}):",
        ]
        lines += [f"  {email:<36} {what}" for email, what in catalog_demo.DEMO_LOGINS]
        return "\n".join(lines) + "\n"
