"""The library every app shares: GS1 identifiers and Digital Link, QR images, idempotency keys, the outbox, the
audit log, the API's errors/filters/pagination, health checks and the dashboard framework.

It imports no app of the project (import-linter enforces it, see pyproject.toml): apps build on it, never the
other way round.
"""
