"""Tasks for the outbox tests. A real worker imports this module too (`celery worker --include`)."""

from pathlib import Path

from celery import shared_task

from core.models import IdempotencyKey

RUNS: list[str] = []  # what ran in this process, in order


@shared_task
def record(marker: str) -> None:
    RUNS.append(marker)


@shared_task
def explode(marker: str, user_id: int | None = None) -> None:
    """Writes a row, then fails: the write must be rolled back with the work."""
    RUNS.append(marker)
    if user_id is not None:
        IdempotencyKey.objects.create(user_id=user_id, key=marker, fingerprint="x", response_status=200)
    raise RuntimeError(f"the work for {marker} failed")


@shared_task
def append_line(path: str, marker: str) -> None:
    """Append a line to a file: a worker process's runs, counted by the test that started it."""
    with Path(path).open("a") as out:
        out.write(marker + "\n")
