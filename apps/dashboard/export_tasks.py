from celery import shared_task

from . import export_jobs


@shared_task(ignore_result=True, acks_late=True)
def build_export(job_id: str) -> None:
    """Build a large XLSX/PDF export (queue default, by module routing)."""
    export_jobs.run(job_id)
