"""Builds over HTTP: start one (bearer token), follow it."""

from fastapi import APIRouter, Depends, HTTPException, Request, status

from serve.app.api.deps import RunnerDep, require_token
from serve.app.core.builds import BuildAlreadyRunning
from serve.app.models import Job, JobAccepted

router = APIRouter(prefix="/ltv/calculate", tags=["calculate"])


def job_view(job) -> Job:
    return Job(
        job_id=job.job_id, state=job.state, started_at=job.started_at,
        finished_at=job.finished_at, nodes_done=job.nodes_done,
        nodes_total=job.nodes_total, published=job.published, message=job.message,
    )  # fmt: skip


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    dependencies=[Depends(require_token)],
    responses={409: {"description": "A build is already running."}},
)
def calculate(runner: RunnerDep, request: Request):
    """Start `dbt build` in the background. The published marts keep serving until
    the build publishes new ones; a second start while one runs is a 409."""
    try:
        job = runner.start()
    except BuildAlreadyRunning as running:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"Build {running} is running; one at a time."
        ) from None
    url = request.url_for("calculate_status", job_id=job.job_id)
    return JobAccepted(job_id=job.job_id, status_url=url.path)


@router.get("/{job_id}", response_model=Job, name="calculate_status")
def calculate_status(job_id: str, runner: RunnerDep):
    """A build's state (running, succeeded: published, failed) and progress."""
    job = runner.jobs.get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No build {job_id}.")
    return job_view(job)
