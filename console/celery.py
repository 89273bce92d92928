"""The Celery app: configured from Django settings (CELERY_*), tasks found in each feature's `jobs` module."""

import os

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")


@worker_ready.connect
def _start_worker_heartbeat(sender=None, **kwargs):
    """Tell the web side this worker is alive (console.core.worker)."""
    from console.core import worker

    worker.on_worker_ready(sender=sender, **kwargs)


@worker_shutdown.connect
def _stop_worker_heartbeat(sender=None, **kwargs):
    from console.core import worker

    worker.on_worker_shutdown(sender=sender, **kwargs)
