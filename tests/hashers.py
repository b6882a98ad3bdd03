"""A password hasher for the test run: Django's PBKDF2 (the same algorithm name, so any process with the default
hashers — gunicorn and the worker in the production-stack tests — verifies its hashes, which carry their own
iteration count) at 1,000 iterations instead of Django's 1,000,000, which cost about half a second per user made."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
