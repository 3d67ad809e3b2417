"""The snapshot: PostgreSQL reads as the read-only analyst role; health with and
without ltv_builds; a snapshot swapped only when the published marts change."""

from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from serve.app.core.snapshot import DuckDbSource, PostgresSource, SnapshotStore
from serve.app.main import create_app


def test_postgres_reads_as_the_analyst_role_read_only(demos):
    demo = demos("postgres")
    connection = PostgresSource(demo.settings).connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("select current_user, current_setting('transaction_read_only')")
            assert cursor.fetchone() == ("ltv_analyst", "on")
    finally:
        connection.close()


class CountingSource:
    """A source whose published version the test sets; counts the copies."""

    def __init__(self, source):
        self.source, self.published, self.loads = source, "one", 0

    def version(self):
        return self.published

    def load(self, version):
        self.loads += 1
        return self.source.load(version)


def test_a_snapshot_is_copied_again_only_for_a_new_build(demos):
    demo = demos("duckdb")
    source = CountingSource(DuckDbSource(demo.settings))
    store = SnapshotStore(source, 3600)
    assert store.refresh() and source.loads == 1
    first = store.current
    assert not store.refresh() and store.current is first
    source.published = "two"
    assert store.refresh() and store.current is not first and source.loads == 2


@pytest.fixture
def with_builds_table(demos):
    """The DuckDB demo with an ltv_builds log of two builds: published, then failed."""
    demo = demos("duckdb")
    demo.warehouse.execute(
        "create table ltv_serve.ltv_builds_kept as select * from ltv_serve.ltv_builds",
        "delete from ltv_serve.ltv_builds",
        "insert into ltv_serve.ltv_builds values"
        " ('a', 'build', '2026-07-01 01:00:00', '2026-07-01 01:05:00',"
        "  '2026-07-01', true, 'every node passed'),"
        " ('b', 'build', '2026-07-02 01:00:00', '2026-07-02 01:04:00',"
        "  '2026-07-02', false, '1 node(s) did not pass: user_ltv (fail)')",
    )
    yield demo
    demo.warehouse.execute(
        "delete from ltv_serve.ltv_builds",
        "insert into ltv_serve.ltv_builds select * from ltv_serve.ltv_builds_kept",
        "drop table ltv_serve.ltv_builds_kept",
    )


def test_health_reads_the_builds_log(with_builds_table):
    with TestClient(create_app(with_builds_table.settings)) as client:
        body = client.get("/api/v1/ltv/health").json()
    assert body["status"] == "degraded"
    assert body["last_build_passed"] is False
    assert body["last_build"]["invocation_id"] == "b"
    published = datetime.fromisoformat(body["published_at"])  # ltv_builds is in UTC
    assert published.replace(tzinfo=published.tzinfo or timezone.utc) == datetime(
        2026, 7, 1, 1, 5, tzinfo=timezone.utc
    )
