"""Rebuilds on PostgreSQL: readers never see a half-done build, and kills lose nothing.

One scenario, run once for the module (as dbt's adapter tests build a project once per
class), then checked by the tests below:
1. `dbt build` publishes the marts as of AS_OF (the clean reference build);
2. start three analyst sessions that query every mart in a loop, bounded in rounds
   and time, against the local server only: one reads the marts with one statement
   each in one transaction per round (a dashboard refresh), one does the same in a
   REPEATABLE READ transaction, the third with a single statement per round;
3. a full rebuild publishes the marts as of OTHER_AS_OF;
4. `dbt build` as of AS_OF is killed with SIGKILL (no cleanup code runs) at five
   points, each build starting from what the previous one left behind:
   - early: as the build's first node starts;
   - after the first mart: as the first pending mart is created;
   - mid-model: as the mart user_ltv starts building;
   - during tests: as the first data test of user_ltv starts;
   - during the switch: inside the publishing transaction, the published marts
     partly locked, while it waits for an analyst who is still reading a mart;
5. an uninterrupted rebuild publishes the marts as of AS_OF again.
Checks: every reader round saw whole marts (the row counts a build published) of one
build (one as-of date across every mart), with no error; after each kill the published
marts are the same relations with the same rows, and the analyst reads them all; the
last rebuild's marts are new relations with exactly the rows of step 1.
"""

import re
import threading
import time
from datetime import date
from typing import NamedTuple

import psycopg2
import pytest
from psycopg2 import sql

from harness.dbt_runs import mart_names
from reliability_support import (
    ANALYST_ROLE,
    AS_OF,
    MART_SCHEMA,
    OTHER_AS_OF,
    PostgresDatabase,
    analyst_session,
    generated_dataset,
    kill_process_group,
    mart_as_of_dates,
    run_build,
    start_build,
)

PENDING_SCHEMA = f"{MART_SCHEMA}_pending"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Kill point -> the line of dbt's output to kill at.
KILL_LINES = {
    "early": re.compile(r"\bSTART\b"),
    "after_first_mart": re.compile(r"OK created sql mart model"),
    "mid_model": re.compile(rf"START sql mart model {MART_SCHEMA}\.user_ltv\b"),
    "during_tests": re.compile(r"START test \S*user_ltv"),
    "during_switch": re.compile(r"START hook: ltv\.on-run-end"),
}
WAIT_SECONDS = 180
MAX_ROUNDS = 200_000
MAX_SECONDS = 1200  # bounded: the scenario runs five builds and five kills
PAUSE_SECONDS = 0.01  # between rounds: leaves the 2 cores to the build


READER_MODES = ("statement_per_mart", "repeatable_read", "single_statement")


class Reader(threading.Thread):
    """An analyst session that reads every mart in rounds until told to stop: one
    statement per mart in a READ COMMITTED transaction, the same in a REPEATABLE READ
    one, or one statement for all marts."""

    def __init__(self, database: PostgresDatabase, marts: list, mode: str):
        super().__init__(daemon=True)
        self.database = database
        self.marts = marts
        self.mode = mode
        self.stop = threading.Event()
        self.rounds = []  # each: {mart: (rows, distinct as_of_dates, as_of_date)}
        self.errors = []

    def statements(self) -> list:
        per_mart = [
            sql.SQL(
                "select {name}, count(*), count(distinct as_of_date), min(as_of_date) "
                "from {schema}.{mart}"
            ).format(
                name=sql.Literal(mart),
                schema=sql.Identifier(MART_SCHEMA),
                mart=sql.Identifier(mart),
            )
            for mart in self.marts
        ]
        if self.mode == "single_statement":
            return [sql.SQL(" union all ").join(per_mart)]
        return per_mart

    def run(self) -> None:
        connection = self.database.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("set role {}").format(sql.Identifier(ANALYST_ROLE))
                )
            connection.commit()
            if self.mode == "repeatable_read":
                connection.set_session(isolation_level="REPEATABLE READ")
            statements = self.statements()
            deadline = time.monotonic() + MAX_SECONDS
            while (
                not self.stop.is_set()
                and len(self.rounds) < MAX_ROUNDS
                and time.monotonic() < deadline
            ):
                reading = {}
                with connection.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement)
                        for mart, rows, dates, as_of in cursor.fetchall():
                            reading[mart] = (rows, dates, as_of)
                connection.commit()  # one transaction per round
                self.rounds.append(reading)
                time.sleep(PAUSE_SECONDS)
        except psycopg2.Error as error:
            self.errors.append(repr(error))
        finally:
            connection.close()


def published_counts(database: PostgresDatabase, marts: list) -> dict:
    return {
        mart: count
        for mart, (count, _) in database.fingerprint(MART_SCHEMA, marts).items()
    }


def relation_ids(database: PostgresDatabase, schema: str) -> dict:
    return dict(
        database.query(
            """
            select relname::text, oid::bigint from pg_catalog.pg_class
            where relnamespace = (
                select oid from pg_catalog.pg_namespace where nspname = %s
            )
            """,
            [schema],
        )
    )


def run_until(process, pattern: re.Pattern) -> list:
    """Read the process's output up to the first line matching pattern."""
    lines = []
    deadline = time.monotonic() + WAIT_SECONDS
    for line in process.stdout:
        line = ANSI.sub("", line).rstrip()
        lines.append(line)
        if pattern.search(line):
            return lines
        assert time.monotonic() < deadline, "the kill point never came"
    raise AssertionError(
        "the build ended before the kill point:\n" + "\n".join(lines[-40:])
    )


def wait_for_switch_to_wait(database: PostgresDatabase) -> None:
    """Until the switch of the build (a dbt session) waits for a lock on a mart."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        ((holds, waits),) = database.query(
            """
            select
                coalesce(
                    bool_or(locks.granted and locks.mode = 'AccessExclusiveLock'), false
                ),
                coalesce(bool_or(not locks.granted), false)
            from pg_catalog.pg_locks as locks
            inner join pg_catalog.pg_stat_activity as activity
                on locks.pid = activity.pid
            where activity.application_name = 'dbt'
                and activity.datname = current_database()
            """
        )
        if holds and waits:
            return
        time.sleep(0.02)
    raise AssertionError("the switch never waited inside its transaction")


def interrupt(database: PostgresDatabase, work_dir, point: str) -> list:
    """Start a build as of AS_OF and kill it at the point; its output."""
    blocker = None
    if point == "during_switch":
        # An analyst in the middle of reading: the switch must wait for them.
        blocker = analyst_session(database)
        with blocker.cursor() as cursor:
            cursor.execute(
                sql.SQL("select count(*) from {}.user_ltv").format(
                    sql.Identifier(MART_SCHEMA)
                )
            )
    process = start_build(database, work_dir, f"killed_{point}", AS_OF)
    try:
        lines = run_until(process, KILL_LINES[point])
        if blocker is not None:
            wait_for_switch_to_wait(database)
    finally:
        kill_process_group(process)
        if blocker is not None:
            blocker.rollback()
            blocker.close()
    return lines


def assert_analyst_reads(database, marts, fingerprint) -> None:
    """The analyst reads every mart, whole."""
    analyst = analyst_session(database)
    try:
        for mart in marts:
            with analyst.cursor() as cursor:
                cursor.execute(
                    sql.SQL("select count(*) from {}.{}").format(
                        sql.Identifier(MART_SCHEMA), sql.Identifier(mart)
                    )
                )
                assert cursor.fetchone()[0] == fingerprint[mart][0]
            analyst.commit()
    finally:
        analyst.close()


class Published(NamedTuple):
    fingerprint: dict  # mart -> (rows, md5)
    ids: dict  # relation -> oid
    as_of_dates: set


class Scenario(NamedTuple):
    marts: list
    expected_counts: dict  # as_of_date -> {mart: rows}
    readers: list
    reference: Published  # step 1
    before_kills: Published  # step 3
    after_kills: dict  # kill point -> Published
    kill_outputs: dict  # kill point -> output lines
    recovered: object  # DbtRun of step 5
    after_recovery: Published
    pending_after_recovery: dict


def published_state(database: PostgresDatabase, marts: list) -> Published:
    """The marts' rows, relations and as-of dates. Only the marts' relations: the
    semantic layer's calendar beside them is a table every build rebuilds in place
    (the same days each time)."""
    ids = relation_ids(database, MART_SCHEMA)
    return Published(
        database.fingerprint(MART_SCHEMA, marts),
        {mart: ids[mart] for mart in marts},
        mart_as_of_dates(database, MART_SCHEMA, marts),
    )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("rebuilds")
    database = PostgresDatabase("rebuilds")
    readers = []
    try:
        database.load_raw(generated_dataset())
        first = run_build(database, work_dir, "first", AS_OF)
        assert first.returncode == 0, first.output[-4000:]
        # Without a fit of this source the CLV marts are empty (no as-of date to
        # read): the readers check the others.
        clv_marts = (
            "clv_model_parameters", "user_clv", "clv_backtest",
            "clv_backtest_measures", "clv_backtest_deciles",
        )
        marts = [mart for mart in mart_names(first) if mart not in clv_marts]
        reference = published_state(database, marts)
        expected_counts = {AS_OF: published_counts(database, marts)}

        readers = [Reader(database, marts, mode) for mode in READER_MODES]
        for reader in readers:
            reader.start()

        rebuilt = run_build(database, work_dir, "rebuilt", OTHER_AS_OF)
        assert rebuilt.returncode == 0, rebuilt.output[-4000:]
        expected_counts[OTHER_AS_OF] = published_counts(database, marts)
        before_kills = published_state(database, marts)

        after_kills, kill_outputs = {}, {}
        for point in KILL_LINES:
            kill_outputs[point] = interrupt(database, work_dir, point)
            after_kills[point] = published_state(database, marts)
            assert_analyst_reads(database, marts, before_kills.fingerprint)

        recovered = run_build(database, work_dir, "recovered", AS_OF)
        after_recovery = published_state(database, marts)
        pending = database.relations(PENDING_SCHEMA)
        assert expected_counts[AS_OF] == published_counts(database, marts)
    finally:
        for reader in readers:
            reader.stop.set()
        for reader in readers:
            reader.join(timeout=60)
        database.drop_database()
    yield Scenario(
        marts, expected_counts, readers, reference, before_kills, after_kills,
        kill_outputs, recovered, after_recovery, pending,
    )


def test_the_builds_are_told_apart(scenario):
    counts = scenario.expected_counts
    assert scenario.before_kills.as_of_dates == {OTHER_AS_OF}
    assert counts[AS_OF] != counts[OTHER_AS_OF]


@pytest.mark.parametrize("mode", READER_MODES)
def test_readers_see_whole_marts_of_one_build(scenario, mode):
    (reader,) = [r for r in scenario.readers if r.mode == mode]
    assert reader.errors == []
    assert len(reader.rounds) >= 20, "the reader hardly ran"
    expected = scenario.expected_counts
    seen = []
    for reading in reader.rounds:
        assert set(reading) == set(scenario.marts)
        assert all(dates == 1 for _, dates, _ in reading.values()), reading
        as_of_dates = {as_of for _, _, as_of in reading.values()}
        assert len(as_of_dates) == 1, f"marts of two builds: {reading}"
        (as_of,) = as_of_dates
        assert isinstance(as_of, date) and as_of in expected
        rows = {mart: count for mart, (count, _, _) in reading.items()}
        assert rows == expected[as_of], f"partial or empty marts: {reading}"
        if not seen or seen[-1] != as_of:
            seen.append(as_of)
    # Before and after each of the two switches (the killed builds publish nothing).
    assert seen == [AS_OF, OTHER_AS_OF, AS_OF]
    print(f"{len(reader.rounds)} rounds, no error")


@pytest.mark.parametrize("point", list(KILL_LINES))
def test_a_killed_build_leaves_the_published_marts_intact(scenario, point):
    lines = scenario.kill_outputs[point]
    assert KILL_LINES[point].search(lines[-1])
    assert not any("Published the" in line for line in lines)
    # The same relations, with the same rows, of one as-of date.
    assert scenario.after_kills[point] == scenario.before_kills


def test_the_next_build_completes_with_correct_results(scenario):
    recovered = scenario.recovered
    assert recovered.returncode == 0, recovered.output[-4000:]
    after, reference = scenario.after_recovery, scenario.reference
    # New relations, with exactly the rows of the clean build of the same inputs.
    assert all(after.ids[mart] != reference.ids[mart] for mart in scenario.marts)
    assert all(
        after.ids[mart] != scenario.before_kills.ids[mart] for mart in scenario.marts
    )
    assert after.fingerprint == reference.fingerprint
    assert after.as_of_dates == {AS_OF}
    # Nothing left behind: every pending mart was switched in.
    assert scenario.pending_after_recovery == {}
