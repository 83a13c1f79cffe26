"""Background tasks of the access app. Arguments are ids only, never content.

``run_import_task`` is safe to run twice and after a worker died mid-way (the reaper in
``commonground.core.worker`` re-queues it): see ``services.import_run``.
"""

from __future__ import annotations

from django_tasks import task

from commonground.access import services

RETRY_SECONDS = 60


@task()
def run_import_task(job_id: str) -> dict[str, object]:
    job = services.import_run(job_id)
    if job.state == job.State.DONE:
        # New rows (or a resumed merge): refresh the dashboards' aggregates in the background.
        from commonground.access.aggregates import enqueue_recompute

        enqueue_recompute(job.region_id)
    elif not job.is_finished:
        # The attempt hit an error another attempt may not (a full disk, a lost database
        # connection): try again later, on backends that can defer; the last attempt fails.
        services.schedule_retry(job, RETRY_SECONDS * job.attempts)
    return {"state": job.state, "attempts": job.attempts}


@task()
def recompute_aggregates_task(run_id: int) -> dict[str, object]:
    """Recompute a region's dashboard aggregates (safe to run twice: one atomic replace)."""
    from commonground.access.aggregates import run_recompute

    run = run_recompute(run_id)
    return {"state": run.state, "aggregates": run.aggregates}
