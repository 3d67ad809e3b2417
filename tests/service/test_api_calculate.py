"""POST /calculate: the token, one build at a time, progress, and the marts served
throughout. A stand-in build (a script printing dbt's lines) shows the rules; one
real `dbt build` on the DuckDB demo shows the service and a build share the file."""

import sys
import time

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from harness.dbt_runs import copy_profiles
from serve.app.main import create_app

CALCULATE = "/api/v1/ltv/calculate"
# A build that reports one node, waits for its gate file, then ends as told.
STAND_IN = """
import pathlib, sys, time
gate, outcome = pathlib.Path(sys.argv[1]), sys.argv[2]
print("01:00:00  1 of 2 START hook: ltv.on-run-start.0 ....... [RUN]", flush=True)
print("01:00:01  1 of 3 OK created sql table model ltv.user_ltv ....... [OK]", flush=True)
while not gate.exists():
    time.sleep(0.05)
print("01:00:02  3 of 3 PASS not_null_user_ltv_user_id ....... [PASS]", flush=True)
if outcome == "published":
    print("01:00:03  Published the 11 marts of this build (as of 2026-07-01).")
else:
    print("01:00:03  Nothing published: 1 node(s) did not pass: user_ltv (fail).")
    sys.exit(1)
"""


def wait_for(client, job_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"{CALCULATE}/{job_id}").json()
        if job["state"] != "running":
            return job
        time.sleep(0.2)
    raise AssertionError(f"build {job_id} still running")


@pytest.fixture
def stand_in(demos, tmp_path):
    """A client whose builds are the stand-in, and the gate that ends them."""
    demo = demos("duckdb")
    gate = tmp_path / "gate"

    def client(outcome="published", token=SecretStr("test-token")):
        command = [sys.executable, "-c", STAND_IN, str(gate), outcome]
        settings = demo.settings.model_copy(update={"ltv_serve_token": token})
        return TestClient(create_app(settings, build_command=command))

    return client, gate


def auth(token="test-token") -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_build_needs_the_token(stand_in):
    make_client, _ = stand_in
    with make_client() as client:
        assert client.post(CALCULATE).status_code == 401
        assert client.post(CALCULATE, headers=auth("wrong")).status_code == 401
    with make_client(token=None) as client:
        assert client.post(CALCULATE, headers=auth()).status_code == 503


def test_one_build_at_a_time_and_the_marts_serve_throughout(stand_in):
    make_client, gate = stand_in
    with make_client() as client:
        started = client.post(CALCULATE, headers=auth())
        assert started.status_code == 202
        job_id = started.json()["job_id"]
        assert started.json()["status_url"] == f"{CALCULATE}/{job_id}"
        assert client.post(CALCULATE, headers=auth()).status_code == 409
        deadline = time.monotonic() + 30
        while client.get(f"{CALCULATE}/{job_id}").json()["nodes_done"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        job = client.get(f"{CALCULATE}/{job_id}").json()
        assert (job["state"], job["nodes_done"], job["nodes_total"]) == ("running", 1, 3)
        assert job["published"] is None
        assert client.get("/api/v1/ltv/users").status_code == 200
        gate.touch()
        job = wait_for(client, job_id)
        assert (job["state"], job["nodes_done"], job["published"]) == ("succeeded", 3, True)
        assert job["message"].startswith("Published the 11 marts")
        again = client.post(CALCULATE, headers=auth())
        assert again.status_code == 202
        assert wait_for(client, again.json()["job_id"])["state"] == "succeeded"
        assert client.get(f"{CALCULATE}/no-such-job").status_code == 404


def test_a_build_that_publishes_nothing_failed(stand_in):
    make_client, gate = stand_in
    gate.touch()
    with make_client(outcome="nothing") as client:
        job = wait_for(client, client.post(CALCULATE, headers=auth()).json()["job_id"])
    assert (job["state"], job["published"]) == ("failed", False)
    assert job["message"].startswith("Nothing published: 1 node(s)")


def test_a_real_build_publishes_and_the_service_serves_it(demos, tmp_path, monkeypatch):
    """`dbt build` on the DuckDB file the service reads: the old snapshot serves
    while the build holds the file, and the new one once it has published."""
    demo = demos("duckdb")
    monkeypatch.setenv("DBT_PROFILES_DIR", str(copy_profiles(tmp_path / "profiles")))
    with TestClient(create_app(demo.settings)) as client:
        store = client.app.state.store
        before = store.current
        job_id = client.post(CALCULATE, headers=auth()).json()["job_id"]
        while client.get(f"{CALCULATE}/{job_id}").json()["state"] == "running":
            assert client.get("/api/v1/ltv/users", params={"page_size": 25}).status_code == 200
            time.sleep(0.5)
        job = client.get(f"{CALCULATE}/{job_id}").json()
        assert job["state"] == "succeeded", job
        assert job["nodes_done"] == job["nodes_total"] > 100
        deadline = time.monotonic() + 60
        while store.current is before:
            assert time.monotonic() < deadline, store.last_error
            time.sleep(0.2)
        assert client.get("/api/v1/ltv/health").json()["as_of_date"] == "2026-07-01"
