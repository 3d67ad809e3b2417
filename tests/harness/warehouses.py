"""One DuckDB and one PostgreSQL warehouse: create and drop the database, load raw
tables in a column layout, execute, query, and the environment that points
profiles.yml at it.

PostgreSQL is reached with PGHOST/PGPORT/PGUSER/PGPASSWORD (defaults 127.0.0.1, 5432,
postgres, empty), as in profiles.yml.example.
"""

import csv
import io
import os
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd
import psycopg2
from psycopg2 import sql

import harness  # noqa: F401  (puts scripts/ on the path)
from demo_data import as_text
from ensure_postgres import connection_settings
from harness.datasets import RAW_COLUMNS, Dataset


class Table(NamedTuple):
    """A relation as read back from the warehouse."""

    columns: list
    rows: list  # of dicts


def rows_as_table(description, records) -> Table:
    columns = [column[0] for column in description]
    return Table(columns, [dict(zip(columns, record)) for record in records])


def text_rows(rows: list, columns: list) -> list:
    return [[as_text(row.get(column)) for column in columns] for row in rows]


def csv_stream(rows: list) -> io.StringIO:
    """CSV for COPY: null as an unquoted \\N, so '' and ' Paid' stay text."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    for row in rows:
        writer.writerow(["\\N" if value is None else value for value in row])
    stream.seek(0)
    return stream


def quoted(name: str) -> str:
    """An identifier quoted as both engines read it: a schema named `sh'op` loads."""
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(schema: str, table: str, types: dict) -> str:
    columns = ", ".join(f"{name} {type_}" for name, type_ in types.items())
    return f"create table {quoted(schema)}.{table} ({columns})"


class Warehouse:
    """What both engines share. `schema` is where dbt builds, `raw_schema` where
    load_raw loads unless told otherwise."""

    target = ""

    def __init__(self, schema: str, raw_schema: str | None):
        self.schema = schema
        self.raw_schema = raw_schema

    def env(self, schema: str | None = None) -> dict:
        """The whole environment of a dbt subprocess on this warehouse."""
        return {**os.environ, **self.dbt_env(schema), "DBT_TARGET": self.target}

    def query(self, statement, params=None) -> list:
        """The rows, as tuples."""
        return self.fetch(statement, params)[1]

    def query_table(self, statement, params=None) -> Table:
        return rows_as_table(*self.fetch(statement, params))

    def read_table(self, schema: str, name: str) -> Table:
        return self.query_table(f"select * from {schema}.{name}")


class DuckDbWarehouse(Warehouse):
    """A DuckDB file in `work_dir`."""

    target = "duckdb"

    def __init__(self, work_dir: Path, schema: str, raw_schema: str | None = None):
        super().__init__(schema, raw_schema)
        self.path = work_dir / "warehouse.duckdb"

    def create_database(self) -> None:
        """An empty file: any earlier one is removed."""
        self.drop_database()

    def drop_database(self) -> None:
        self.path.unlink(missing_ok=True)

    def dbt_env(self, schema: str | None = None) -> dict:
        """The variables that point profiles.yml at this warehouse."""
        return {"DBT_DUCKDB_PATH": str(self.path), "DBT_SCHEMA": schema or self.schema}

    def load_raw(self, dataset: Dataset, columns: dict = RAW_COLUMNS,
                 schema: str | None = None) -> None:
        schema = schema or self.raw_schema
        with duckdb.connect(str(self.path)) as connection:
            connection.execute(f"create schema {quoted(schema)}")
            for table, types in columns.items():
                connection.execute(create_table_sql(schema, table, types))
                rows = dataset.rows(table)
                if not rows:
                    continue
                names = list(types)
                incoming = pd.DataFrame(
                    text_rows(rows, names), columns=names, dtype=object
                )
                # Text in, the column types cast it: as COPY does on PostgreSQL.
                casts = ", ".join(f"cast({name} as {types[name]})" for name in names)
                connection.register("incoming", incoming)
                connection.execute(
                    f"insert into {quoted(schema)}.{table} select {casts} from incoming"
                )
                connection.unregister("incoming")

    def execute(self, *statements: str) -> None:
        with duckdb.connect(str(self.path)) as connection:
            for statement in statements:
                connection.execute(statement)

    def fetch(self, statement: str, params=None) -> tuple:
        """The cursor's description and records of one statement."""
        with duckdb.connect(str(self.path)) as connection:
            cursor = connection.execute(statement, params)
            return cursor.description, cursor.fetchall()


class PostgresWarehouse(Warehouse):
    """A database of its own on the server."""

    target = "postgres"

    def __init__(self, database: str, schema: str, raw_schema: str | None = None):
        super().__init__(schema, raw_schema)
        self.database = database
        self.server = connection_settings()

    def connect(self, database: str | None = None, autocommit: bool = False,
                **options):
        connection = psycopg2.connect(
            dbname=database or self.database, **self.server, **options
        )
        connection.autocommit = autocommit
        return connection

    def create_database(self) -> None:
        """An empty database: any earlier one of the name is dropped."""
        self.drop_database()
        self.admin("create database {}")

    def drop_database(self) -> None:
        self.admin("drop database if exists {} with (force)")

    def admin(self, statement: str) -> None:
        """A statement about this database, run from the `postgres` database."""
        connection = self.connect("postgres", autocommit=True)
        with connection.cursor() as cursor:
            # Quoted: a suffix in capitals (LTV_TEST_DB_SUFFIX) must keep its case.
            cursor.execute(sql.SQL(statement).format(sql.Identifier(self.database)))
        connection.close()

    def dbt_env(self, schema: str | None = None) -> dict:
        """The variables that point profiles.yml at this database."""
        return {"PGDATABASE": self.database, "DBT_SCHEMA": schema or self.schema}

    def load_raw(self, dataset: Dataset, columns: dict = RAW_COLUMNS,
                 schema: str | None = None) -> None:
        schema = schema or self.raw_schema
        connection = self.connect()
        with connection, connection.cursor() as cursor:
            cursor.execute(f"create schema {quoted(schema)}")
            for table, types in columns.items():
                names = list(types)
                cursor.execute(create_table_sql(schema, table, types))
                cursor.copy_expert(
                    f"copy {quoted(schema)}.{table} ({', '.join(names)}) "
                    "from stdin with (format csv, null '\\N')",
                    csv_stream(text_rows(dataset.rows(table), names)),
                )
        connection.close()

    def execute(self, *statements) -> None:
        connection = self.connect()
        with connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        connection.close()

    def fetch(self, statement, params=None) -> tuple:
        """The cursor's description and records of one statement."""
        connection = self.connect()
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.description, cursor.fetchall()
        finally:
            connection.close()

    def relations(self, schema: str) -> dict:
        """Name -> relkind of the tables and views of a schema."""
        return dict(
            self.query(
                """
                select relname, relkind::text from pg_catalog.pg_class
                where relnamespace = (
                    select oid from pg_catalog.pg_namespace where nspname = %s
                )
                and relkind in ('r', 'v', 'm', 'p')
                """,
                [schema],
            )
        )

    def schemas(self) -> set:
        rows = self.query("select nspname from pg_catalog.pg_namespace")
        return {row[0] for row in rows}

    def fingerprint(self, schema: str, relations: list) -> dict:
        """Relation -> (row count, md5 of its sorted rows): equal means same content."""
        result = {}
        for relation in relations:
            result[relation] = self.query(
                sql.SQL(
                    "select count(*), md5(coalesce(string_agg(t::text, '|' "
                    "order by t::text), '')) from {}.{} as t"
                ).format(sql.Identifier(schema), sql.Identifier(relation))
            )[0]
        return result
