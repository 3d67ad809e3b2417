"""Builds that POST /calculate starts: `dbt build` as a subprocess, one at a time.

The build writes pending marts and publishes them in its last hook only when all of
it passed (macros/publish/); meanwhile the service keeps serving its snapshot, and
looks for the new marts as soon as the build ends. Progress is read from dbt's log
lines ("12 of 180 OK ...").
"""

import os
import re
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from serve.app.core.config import PROJECT_DIR, Settings

# A node's end in dbt's log: "  12 of 180 OK created sql table model ..." (not START).
NODE_DONE = re.compile(r"\b(\d+) of (\d+) (?!START\b)[A-Z]")
PUBLISHED = "Published the "
NOT_PUBLISHED = "Nothing published: "


class BuildAlreadyRunning(Exception):
    """A build of the service's own is running: one at a time."""


@dataclass
class Job:
    job_id: str
    started_at: datetime
    state: str = "running"
    finished_at: datetime | None = None
    nodes_done: int = 0
    nodes_total: int | None = None
    published: bool | None = None
    message: str | None = None
    output: list = field(default_factory=list)

    def read_line(self, line: str) -> None:
        """Progress and outcome from one line of dbt's output."""
        self.output.append(line)
        match = NODE_DONE.search(line)
        if match:
            done, total = int(match[1]), int(match[2])
            # Hooks count "1 of 2": the nodes are the largest count.
            if self.nodes_total is None or total >= self.nodes_total:
                self.nodes_total = total
                self.nodes_done = max(self.nodes_done, done)
        if PUBLISHED in line:
            self.published = True
            self.message = line[line.index(PUBLISHED):].strip()
        elif NOT_PUBLISHED in line:
            self.published = False
            self.message = line[line.index(NOT_PUBLISHED):].strip()


def dbt_build_command(settings: Settings) -> list:
    """`dbt build` on the service's target, with its artifacts apart from target/.
    dbt finds its profile as on the command line (DBT_PROFILES_DIR, else the
    project directory, the build's working directory)."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    return [
        dbt, "build", "--target", settings.dbt_target, "--vars", settings.dbt_vars,
        "--project-dir", str(PROJECT_DIR),
        "--target-path", str(PROJECT_DIR / "target" / "serve"),
        "--log-path", str(PROJECT_DIR / "logs" / "serve"), "--no-use-colors",
    ]  # fmt: skip


def build_env(settings: Settings) -> dict:
    """The environment of a build: the warehouse the service reads (profiles.yml
    reads these variables), whatever the service's own environment says."""
    return {
        **os.environ,
        "DBT_TARGET": settings.dbt_target,
        "DBT_DUCKDB_PATH": str(settings.duckdb_path),
        "DBT_SCHEMA": settings.dbt_schema,
        "PGHOST": settings.pghost,
        "PGPORT": str(settings.pgport),
        "PGUSER": settings.pguser,
        "PGPASSWORD": settings.pgpassword.get_secret_value(),
        "PGDATABASE": settings.pgdatabase,
    }


class BuildRunner:
    """Starts builds, at most one at a time, and remembers every job."""

    def __init__(self, command: list, env: dict | None = None, on_finished=None):
        self.command = command
        self.env = env
        self.on_finished = on_finished or (lambda job: None)
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._running: Job | None = None

    def start(self) -> Job:
        with self._lock:
            if self._running is not None:
                raise BuildAlreadyRunning(self._running.job_id)
            job = Job(uuid.uuid4().hex, datetime.now(timezone.utc))
            self.jobs[job.job_id] = job
            self._running = job
        threading.Thread(target=self._run, args=(job,), daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        try:
            process = subprocess.Popen(
                self.command, cwd=PROJECT_DIR, env=self.env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
            for line in process.stdout:
                job.read_line(line)
            returncode = process.wait()
            job.state = "succeeded" if returncode == 0 and job.published else "failed"
            if job.message is None:
                job.message = f"dbt exited with {returncode}"
        except OSError as error:
            job.state, job.message = "failed", str(error)
        finally:
            if job.published is None:
                job.published = False
            job.finished_at = datetime.now(timezone.utc)
            with self._lock:
                self._running = None
            self.on_finished(job)
