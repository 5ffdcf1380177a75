import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("spotdesk")
# One configuration module: it reads the tunable values from Django's settings.
app.config_from_object("celery_worker.config")
app.autodiscover_tasks()

# Signals wire logging, correlation ids and checks; control adds on-demand profiling.
from . import control, signals  # noqa: E402, F401
