"""Shared personas: a supplier owner, a member of another supplier, a shopper, an operator, a stranger."""

import os
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import User
from products.models import Supplier, SupplierMember
from tests.accounts.factories import UserFactory
from tests.products.factories import SupplierFactory, SupplierMemberFactory


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Every test makes users; Django's default PBKDF2 costs about half a second each (tests/hashers.py).
    settings.PASSWORD_HASHERS = ["tests.hashers.FastPBKDF2PasswordHasher"]


@dataclass
class Persona:
    user: User | None
    client: Client
    supplier: Supplier | None = None


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def own_supplier(db) -> Supplier:
    return SupplierFactory(legal_name="Own Cocoa Co", slug="own-cocoa", country="GH")


@pytest.fixture
def other_supplier(db) -> Supplier:
    return SupplierFactory(legal_name="Other Textiles SA", slug="other-textiles", country="PT")


@pytest.fixture
def owner(own_supplier) -> Persona:
    """The owner of own_supplier."""
    user = UserFactory(email="owner@own.example")
    SupplierMemberFactory(supplier=own_supplier, user=user, role=SupplierMember.Role.OWNER)
    return Persona(user=user, client=_logged_in(user), supplier=own_supplier)


@pytest.fixture
def other_member(other_supplier) -> Persona:
    """An owner at another supplier: must never see or change own_supplier's rows."""
    user = UserFactory(email="owner@other.example")
    SupplierMemberFactory(supplier=other_supplier, user=user, role=SupplierMember.Role.OWNER)
    return Persona(user=user, client=_logged_in(user), supplier=other_supplier)


@pytest.fixture
def shopper(db) -> Persona:
    user = UserFactory(email="shopper@example.org")
    return Persona(user=user, client=_logged_in(user))


@pytest.fixture
def operator(db) -> Persona:
    user = UserFactory(email="operator@example.org", is_staff=True, is_superuser=True)
    return Persona(user=user, client=_logged_in(user))


@pytest.fixture
def stranger() -> Persona:
    return Persona(user=None, client=Client())


def database_is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: throttling counters and cached pages never leak between tests."""
    from django.core.cache import cache

    cache.clear()
