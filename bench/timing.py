"""Running and timing a step: a child process, its CPU and memory, the server's."""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import psycopg2

from common import (
    BENCH_DIR, DBT, PROJECT_DIR, PYTHON, log, pg_connect,
    pg_query, pg_temp_stats, pg_terminate,
)


class PgMonitor(threading.Thread):
    """Polls the server processes of one database: private memory (USS) and CPU.

    A PostgreSQL backend's RSS counts the shared_buffers pages it touched; its USS
    (unique set size) is the memory that process alone holds: sort and hash memory
    (work_mem), caches, parallel workers' too. The peak is the largest sum of USS
    over the database's backends seen by 0.2 s polling.
    """

    def __init__(self, dbname: str, interval: float = 0.2):
        super().__init__(daemon=True)
        self.dbname = dbname
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_uss = 0
        self.peak_backends = 0
        self.cpu_first: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}
        self.connection = pg_connect("postgres")

    def sample(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "select pid from pg_stat_activity "
                "where datname = %s and pid <> pg_backend_pid()",
                (self.dbname,),
            )
            pids = [row[0] for row in cursor.fetchall()]
        total = 0
        for pid in pids:
            try:
                process = psutil.Process(pid)
                total += process.memory_full_info().uss
                times = process.cpu_times()
            except (psutil.Error, OSError):
                continue
            self.cpu_first.setdefault(pid, times.user + times.system)
            self.cpu_last[pid] = times.user + times.system
        self.peak_uss = max(self.peak_uss, total)
        self.peak_backends = max(self.peak_backends, len(pids))

    def run(self) -> None:
        first = True
        while not self.stop_event.is_set():
            try:
                self.sample()
            except psycopg2.Error:
                pass
            if first:  # backends alive before the step: count only their new CPU time
                self.preexisting = set(self.cpu_first)
                first = False
            self.stop_event.wait(self.interval)

    def finish(self) -> dict:
        self.stop_event.set()
        self.join()
        self.connection.close()
        preexisting = getattr(self, "preexisting", set())
        cpu = sum(
            self.cpu_last[pid] - (self.cpu_first[pid] if pid in preexisting else 0.0)
            for pid in self.cpu_last
        )
        return {
            "server_peak_uss_mb": round(self.peak_uss / 2**20, 1),
            "server_peak_backends": self.peak_backends,
            "server_cpu_s": round(cpu, 1),
        }


def tree_rss(pid: int) -> int:
    """RSS of a process and its descendants, in bytes (0 once it has exited).

    Polled, not wait4's ru_maxrss: Linux starts a child's maxrss at the parent's
    high-water mark (recorded at exec), which would floor every child at this
    process's size.
    """
    try:
        root = psutil.Process(pid)
        processes = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_measured(
    name: str,
    cmd: list,
    env: dict,
    timeout: float,
    log_dir: Path,
    pg_database: str | None = None,
) -> dict:
    """Run cmd as a child; wall time, its peak RSS and CPU (wait4), server stats."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / f"{name}.out"
    stderr_path = log_dir / f"{name}.err"
    monitor = None
    if pg_database:
        temp_before = pg_temp_stats(pg_database)
        monitor = PgMonitor(pg_database)
        monitor.start()
    load_average = [round(x, 2) for x in os.getloadavg()]
    start = time.perf_counter()
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        process = subprocess.Popen(
            [str(c) for c in cmd], env=env, cwd=PROJECT_DIR, stdout=out, stderr=err,
            start_new_session=True,
        )  # fmt: skip
        status = "ok"
        peak_rss = 0
        while True:
            pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_rss = max(peak_rss, tree_rss(process.pid))
            if time.perf_counter() - start > timeout:
                status = "timeout"
                os.killpg(process.pid, signal.SIGTERM)
                if pg_database:
                    pg_terminate(pg_database)
                for _ in range(50):
                    pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
                    if pid:
                        break
                    time.sleep(0.1)
                else:
                    os.killpg(process.pid, signal.SIGKILL)
                    pid, wait_status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.05)
    wall = time.perf_counter() - start
    exit_code = os.waitstatus_to_exitcode(wait_status)
    process.returncode = exit_code  # reaped by wait4: keep Popen from waiting again
    if status == "ok" and exit_code != 0:
        status = "error"
    result = {
        "status": status,
        "wall_s": round(wall, 2),
        "client_peak_rss_mb": round(peak_rss / 2**20, 1),
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average_at_start": load_average,
        "stdout": str(stdout_path),
        "stderr": str(stderr_path),
    }
    if monitor:
        result.update(monitor.finish())
        time.sleep(0.5)  # exited backends flush their statistics
        temp_after = pg_temp_stats(pg_database)
        result["server_temp_files"] = temp_after[0] - temp_before[0]
        result["server_temp_mb"] = round((temp_after[1] - temp_before[1]) / 2**20, 1)
    if status != "ok":
        tail = Path(stderr_path).read_text()[-2000:] or Path(stdout_path).read_text()[-2000:]
        result["error_tail"] = tail
        log(f"  {name}: {status} after {wall:.1f}s")
    return result


def sql_job(
    name: str,
    engine: str,
    steps: list,
    ctx: dict,
    timeout: float | None = None,
) -> dict:
    """Run SQL steps in a child process (bench/exec_sql.py); per-step seconds too."""
    job = {
        "engine": engine,
        "duckdb_path": str(ctx["duckdb_path"]),
        "dbname": ctx["pg_database"],
        "steps": steps,
    }
    job_path = ctx["work_dir"] / engine / f"{name}.job.json"
    job_path.parent.mkdir(parents=True, exist_ok=True)
    job_path.write_text(json.dumps(job, indent=1))
    result = run_measured(
        name,
        [PYTHON, BENCH_DIR / "exec_sql.py", job_path],
        ctx["env"],
        timeout or ctx["timeout"],
        ctx["work_dir"] / engine / "logs",
        ctx["pg_database"] if engine == "postgres" else None,
    )
    if result["status"] == "ok":
        lines = Path(result["stdout"]).read_text().strip().splitlines()
        result["steps"] = {s["name"]: s for s in json.loads(lines[-1])}
    return result


def project_state() -> dict:
    """Which models were measured: git HEAD, uncommitted changes, a content hash."""
    import hashlib

    def git(*args):
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=PROJECT_DIR
        ).stdout.strip()

    digest = hashlib.sha256()
    files = sorted(
        [*PROJECT_DIR.glob("models/**/*"), *PROJECT_DIR.glob("macros/**/*"),
         PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / "profiles.yml.example"]
    )  # fmt: skip
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(PROJECT_DIR)).encode())
            digest.update(path.read_bytes())
    return {
        "git_head": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git(
            "status", "--porcelain", "--", "models", "macros", "dbt_project.yml",
            "profiles.yml.example",
        ).splitlines(),
        "models_sha256": digest.hexdigest()[:16],
    }


def machine_info() -> dict:
    cpu_model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    import duckdb
    import numpy
    import pandas

    dbt_version = subprocess.run(
        [DBT, "--version"], capture_output=True, text=True, cwd=PROJECT_DIR
    ).stdout
    versions = dict(re.findall(r"^\s*-\s*(\w+):\s*([\w.]+)", dbt_version, re.M))
    core = re.search(r"installed:\s*([\w.]+)", dbt_version)
    info = {
        "cpu_model": cpu_model,
        "logical_cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "dbt_core": core.group(1) if core else None,
        "dbt_adapters": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        info["postgres"] = pg_query("postgres", "select version()")[0][0]
        names = (
            "work_mem", "shared_buffers", "effective_cache_size", "maintenance_work_mem",
            "max_parallel_workers_per_gather", "jit", "random_page_cost",
            "default_statistics_target", "autovacuum",
        )  # fmt: skip
        rows = pg_query(
            "postgres",
            "select name, setting, unit from pg_settings where name = any(%s)",
            (list(names),),
        )
        info["postgres_settings"] = {
            name: f"{setting}{' ' + unit if unit else ''}" for name, setting, unit in rows
        }
    except psycopg2.Error as error:
        info["postgres"] = f"unreachable: {error}"
    return info

