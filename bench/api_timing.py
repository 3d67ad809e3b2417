"""The service (serve/) timed over HTTP, as a client sees it: warm, keep-alive.

Starts `python -m serve` over one engine's published marts (the build of the run
before it), waits for its first copy of the marts (timed: the seconds before the
service answers), then times, each as the median of `runs` requests after one
warm-up request: every cell of the list grid (bench/query_grid.py: one filter, sort
and page; the answer carries the page and its total), one user (a sample of users,
each asked `runs` times), the summary and the distribution.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import time

import httpx

import query_grid
from common import DBT_SCHEMA, PROJECT_DIR, PYTHON, connection_settings

API = "/api/v1/ltv"
# The targets of issue #31, milliseconds.
TARGETS_MS = {"list page": 50, "one user": 5, "summary": 10, "distribution": 10}
PORT = 8765
START_TIMEOUT_S = 900
USERS_SAMPLED = 50


def service_env(engine: str, ctx: dict) -> dict:
    env = {**ctx["env"], "DBT_TARGET": engine, "DBT_SCHEMA": DBT_SCHEMA,
           "DBT_DUCKDB_PATH": str(ctx["duckdb_path"]), "LTV_SERVE_PORT": str(PORT),
           "LTV_SERVE_RELOAD_SECONDS": "3600"}  # fmt: skip
    if engine == "postgres":
        server = connection_settings()
        env.update(PGHOST=server["host"], PGPORT=str(server["port"]), PGUSER=server["user"],
                   PGDATABASE=ctx["pg_database"])  # fmt: skip
    return env


def wait_until_serving(client: httpx.Client, process: subprocess.Popen) -> float:
    """Seconds from the start until the summary answers 200 (the first copy loaded)."""
    start = time.perf_counter()
    while time.perf_counter() - start < START_TIMEOUT_S:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}")
        try:
            if client.get(f"{API}/summary").status_code == 200:
                return round(time.perf_counter() - start, 2)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the service did not answer within {START_TIMEOUT_S} s")


def median_ms(client: httpx.Client, path: str, params: dict | None, runs: int) -> float:
    return round(query_grid.median_ms(
        lambda: client.get(path, params=params).raise_for_status(), runs
    ), 2)  # fmt: skip


def list_params(cell: dict) -> dict:
    return {**cell["filters"], "sort_by": cell["sort"], "sort_order": cell["direction"],
            "page": cell["page"], "page_size": cell["page_size"]}  # fmt: skip


def time_api(engine: str, ctx: dict, runs: int) -> dict:
    """Start the service over `engine`, time it over HTTP, stop it."""
    log_path = ctx["work_dir"] / engine / "logs" / "serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([PYTHON, "-m", "serve"], cwd=PROJECT_DIR,
                                   env=service_env(engine, ctx), stdout=log_file,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as client:
            result = {"status": "ok", "first_answer_s": wait_until_serving(client, process)}
            cells = []
            for cell in query_grid.grid():
                cells.append({**cell, "ms": median_ms(client, f"{API}/users",
                                                      list_params(cell), runs)})
            cells.sort(key=lambda cell: -cell["ms"])
            first_page = client.get(f"{API}/users", params={"page_size": 100}).json()
            ids = [item["user_id"] for item in first_page["items"]]
            ids += [item["user_id"] for item in client.get(
                f"{API}/users", params={"sort_by": "signup_date", "page_size": 100}
            ).json()["items"]]  # fmt: skip
            sample = random.Random(7).sample(ids, min(USERS_SAMPLED, len(ids)))
            user_ms = [median_ms(client, f"{API}/users/{user_id}", None, runs)
                       for user_id in sample]  # fmt: skip
            result.update(
                list_cells=len(cells),
                list_over_target=sum(cell["ms"] >= TARGETS_MS["list page"] for cell in cells),
                list_median_ms=round(statistics.median(c["ms"] for c in cells), 2),
                list_slowest=[{k: cell[k] for k in ("filter", "sort", "direction", "page",
                                                    "page_size", "ms")}
                              for cell in cells[:10]],
                one_user_median_ms=round(statistics.median(user_ms), 2),
                one_user_max_ms=round(max(user_ms), 2),
                summary_ms=median_ms(client, f"{API}/summary", None, runs),
                distribution_ms=median_ms(client, f"{API}/distribution", None, runs),
                distribution_12m_ms=median_ms(client, f"{API}/distribution",
                                              {"horizon": "12m"}, runs),
            )  # fmt: skip
            return result
    except Exception as error:  # noqa: BLE001  (recorded in the results)
        return {"status": "error", "error": repr(error)}
    finally:
        process.terminate()
        process.wait(timeout=60)


def api_lines(engine: str, api: dict) -> list:
    """The markdown of one engine's API timings."""
    if api.get("status") != "ok":
        return [f"- {engine}: {api}"]
    slowest = api["list_slowest"][0]
    return [
        f"- **{engine}**: first answer {api['first_answer_s']} s after start (the copy "
        f"of the marts); list: {api['list_cells']} cells, median {api['list_median_ms']}"
        f" ms, slowest {slowest['ms']} ms ({slowest['filter']}, {slowest['sort']} "
        f"{slowest['direction']}, page {slowest['page']} of {slowest['page_size']}), "
        f"{api['list_over_target']} at or over {TARGETS_MS['list page']} ms; one user "
        f"median {api['one_user_median_ms']} ms (max {api['one_user_max_ms']}, target "
        f"{TARGETS_MS['one user']}); summary {api['summary_ms']} ms, distribution "
        f"{api['distribution_ms']} ms (12m only {api['distribution_12m_ms']}; target "
        f"{TARGETS_MS['summary']}).",
    ]


def load_average() -> list:
    return [round(x, 2) for x in os.getloadavg()]
