# Load the Celery app with Django so that @shared_task and delay_on_commit use its configuration.
from socialbiz.celery import app as celery_app

__all__ = ["celery_app"]
