"""user_clv's SQL scoring against exact values, and the fit against the papers.

The scoring SQL is user_clv as dbt compiles it for the engine, run on a grid of
(x, t_x, T) rows and fits in place of user_rfm and clv_model_parameters (their
relation names are swapped for grid tables, whose RFM columns are doubles, so the
published fractional-week examples fit too). The reference is lifetimes' formulas
(spec, "Predictive CLV") evaluated with mpmath at 40 digits, 2F1 included; scipy's
hyp2f1 loses digits at the hard corners (large x, z near 1) that mpmath does not.
The grid reaches x = 1,000, T = 0 with z = t / (alpha + T + t) up to 0.999, a < 1,
a = 1, a just above 1, a > 2 and a + b < 1 + r (negative upper parameter).
"""

import json
import math
import re
import subprocess

import duckdb
import mpmath
import numpy as np
import pytest

from conftest import MART_SCHEMA, POSTGRES_DATABASE
from harness import PROJECT_DIR
from harness.dbt_runs import invoke_dbt
from harness.warehouses import PostgresWarehouse

import fit_clv  # scripts/, on the path through harness

mpmath.mp.dps = 40
RELATIVE_TOLERANCE = 1e-9
# Values below this are compared absolutely (the probabilities of users long gone).
ABSOLUTE_TOLERANCE = 1e-290
DISCOUNT_RATE = 0.01
COLUMNS = (
    "probability_alive", "expected_purchases_90d", "expected_purchases_365d",
    "expected_order_value", "predicted_clv_12m",
)
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
FITS = {  # name -> r, alpha (days), a, b
    "cdnow_paper": (0.243, 4.414 * 7, 0.793, 2.426),
    "z_near_one_a_below_one": (0.5, 0.37, 0.3, 0.4),
    "a_equal_to_one": (2.0, 10.0, 1.0, 3.0),
    "a_just_above_one": (0.1, 0.5, 1 + 1e-7, 0.8),
    "a_above_two": (1.0, 1.0, 3.5, 5.0),
    "negative_upper_parameter": (1.5, 2.0, 0.4, 0.3),
}
FREQUENCIES = (0, 1, 2, 5, 30, 200, 1000)
AGES = (0, 1, 10, 100, 1000)


def grid_rows():
    rows = []
    for x in FREQUENCIES:
        for age in AGES:
            for t_x in sorted({0, age // 2, age}):
                if (x == 0) != (t_x == 0) and not (x > 0 and age == 0):
                    continue
                m = 0.0 if x == 0 else 35.5
                rows.append((len(rows) + 1, float(x), float(t_x), float(age), m))
    return rows


def expected(t, x, t_x, age, r, alpha, a, b):
    """lifetimes' conditional_expected_number_of_purchases_up_to_time, exactly."""
    if a == 1:  # the formula's limit: a 1e-30 off 1, at 40 more digits
        with mpmath.workdps(80):
            return +expected(t, x, t_x, age, r, alpha, mpmath.mpf(1) + mpmath.mpf(10) ** -30, b)
    r, alpha, a, b = (mpmath.mpf(value) for value in (r, alpha, a, b))
    z = t / (alpha + age + t)
    hyp = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (
        1 - hyp * ((alpha + age) / (alpha + age + t)) ** (r + x)
    )
    return numerator / dropout_denominator(x, t_x, age, r, alpha, a, b)


def dropout_denominator(x, t_x, age, r, alpha, a, b):
    if x == 0:
        return mpmath.mpf(1)
    return 1 + a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x)


def reference(row, fit, gamma_gamma=GAMMA_GAMMA):
    _, x, t_x, age, m = row
    r, alpha, a, b = fit
    p, q, v = (mpmath.mpf(gamma_gamma[name]) for name in ("p", "q", "v"))
    order_value = p * (v + x * m) / (p * x + q - 1)
    months = [mpmath.mpf(0)] + [
        expected(30 * k, x, t_x, age, r, alpha, a, b) for k in range(1, 13)
    ]
    clv = sum(
        order_value * (months[k] - months[k - 1]) / (1 + mpmath.mpf(DISCOUNT_RATE)) ** k
        for k in range(1, 13)
    )
    return {
        "probability_alive": 1 / dropout_denominator(
            x, t_x, age, *(mpmath.mpf(value) for value in fit)
        ),
        "expected_purchases_90d": months[3],
        "expected_purchases_365d": expected(365, x, t_x, age, r, alpha, a, b),
        "expected_order_value": order_value,
        "predicted_clv_12m": clv,
    }


# --------------------------------------------------------------------- the SQL


@pytest.fixture(scope="module")
def compiled_sql(profiles_dir, tmp_path_factory):
    """Per engine, the SQL of int_rfm_groups_scored and of user_clv, reading the grid
    tables (user_clv reads the first one's result as table grid_groups)."""
    sqls = {}
    for engine in ("duckdb", "postgres"):
        work_dir = tmp_path_factory.mktemp(f"compile_{engine}")
        with pytest.MonkeyPatch.context() as env:
            env.setenv("DBT_DUCKDB_PATH", str(work_dir / "compile.duckdb"))
            env.setenv("PGDATABASE", "postgres")
            invoke_dbt([
                "compile", "--select", "int_rfm_groups_scored", "user_clv",
                "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles_dir),
                "--target", engine,
                "--vars", json.dumps({"ltv_as_of_date": "2026-07-01"}),
                "--target-path", str(work_dir / "target"),
                "--log-path", str(work_dir / "logs"),
            ])
        compiled = work_dir / "target" / "compiled" / "ltv" / "models"
        sqls[engine] = []
        for path, swaps in (
            ("intermediate/int_rfm_groups_scored.sql",
             (("int_users_rfm", "grid_rfm"), ("int_clv_fit_chosen", "grid_parameters"))),
            ("marts/user_clv.sql",
             (("user_rfm", "grid_rfm"), ("clv_model_parameters", "grid_parameters"),
              ("int_rfm_groups_scored", "grid_groups"))),
        ):
            sql = (compiled / path).read_text()
            for name, grid in swaps:
                sql, count = re.subn(r'("[^"]*"\.)?"[^"]*"\."' + name + '"', grid, sql)
                assert count == 1, f"{name} not found once in the compiled {path}"
            sqls[engine].append(sql)
    return sqls


def parameter_rows(fit, gamma_gamma=GAMMA_GAMMA):
    r, alpha, a, b = fit
    return [("bg_nbd", "r", r), ("bg_nbd", "alpha", alpha), ("bg_nbd", "a", a),
            ("bg_nbd", "b", b)] + [
        ("gamma_gamma", name, gamma_gamma[name]) for name in ("p", "q", "v")
    ]


def score_duckdb(sqls, rows, fit):
    groups_sql, user_clv_sql = sqls
    with duckdb.connect() as connection:
        load_grid(connection, rows, fit, "double")
        connection.execute(f"create table grid_groups as {groups_sql}")
        cursor = connection.execute(user_clv_sql)
        return as_dicts(cursor)


def score_postgres(sqls, rows, fit):
    groups_sql, user_clv_sql = sqls
    warehouse = PostgresWarehouse(POSTGRES_DATABASE + "_clv_grid", MART_SCHEMA)
    connection = warehouse.connect(warehouse.database)
    try:
        with connection, connection.cursor() as cursor:
            load_grid(cursor, rows, fit, "double precision")
            cursor.execute("drop table if exists grid_groups")
            cursor.execute("begin")
            cursor.execute("set local jit = off")  # as the model's pre-hook
            cursor.execute(f"create temporary table grid_groups as {groups_sql}")
            cursor.execute(user_clv_sql)
            return as_dicts(cursor)
    finally:
        connection.close()


def load_grid(cursor, rows, fit, double):
    cursor.execute("drop table if exists grid_rfm")
    cursor.execute("drop table if exists grid_parameters")
    cursor.execute(
        f"create table grid_rfm (user_id bigint, as_of_date date, frequency {double},"
        f" recency {double}, t {double}, monetary_value {double})"
    )
    for user_id, x, t_x, age, m in rows:
        cursor.execute(
            f"insert into grid_rfm values ({user_id}, date '2026-07-01', {x!r},"
            f" {t_x!r}, {age!r}, {m!r})"
        )
    cursor.execute(
        f"create table grid_parameters (model varchar(20), parameter varchar(10),"
        f" value {double})"
    )
    for model, parameter, value in parameter_rows(fit):
        cursor.execute(
            f"insert into grid_parameters values ('{model}', '{parameter}', {value!r})"
        )


def as_dicts(cursor):
    names = [column[0] for column in cursor.description]
    return {row[0]: dict(zip(names, row)) for row in cursor.fetchall()}


@pytest.fixture(scope="module")
def postgres_grid_database():
    PostgresWarehouse(POSTGRES_DATABASE + "_clv_grid", MART_SCHEMA).create_database()


def mismatches(scored, rows, fit):
    problems = []
    for row in rows:
        want = reference(row, fit)
        got = scored[row[0]]
        for column in COLUMNS:
            exact = float(want[column])
            value = got[column]
            if value is None or not math.isclose(
                value, exact, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE
            ):
                problems.append(
                    f"x={row[1]:g} t_x={row[2]:g} T={row[3]:g} {column}: "
                    f"expected {exact!r}, got {value!r}"
                )
    return problems


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
@pytest.mark.parametrize("fit_name", sorted(FITS))
def test_scoring_is_exact_on_the_grid(engine, fit_name, compiled_sql,
                                      postgres_grid_database):
    fit = FITS[fit_name]
    rows = grid_rows()
    score = score_duckdb if engine == "duckdb" else score_postgres
    scored = score(compiled_sql[engine], rows, fit)
    assert len(scored) == len(rows)
    problems = mismatches(scored, rows, fit)
    assert not problems, f"{len(problems)} values off:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_published_conditional_expectation(engine, compiled_sql, postgres_grid_database):
    """Fader, Hardie and Lee (2005) and the tests of lifetimes and BTYD: with the
    paper's weekly fit, E(39 weeks) = 1.226 for x = 2, t_x = 30.43, T = 38.86 weeks.
    In units of 39/90 weeks, 39 weeks are the 90 days of expected_purchases_90d."""
    unit = 39 / 90
    fit = (0.243, 4.414 / unit, 0.793, 2.426)
    rows = [(1, 2.0, 30.43 / unit, 38.86 / unit, 35.5)]
    score = score_duckdb if engine == "duckdb" else score_postgres
    scored = score(compiled_sql[engine], rows, fit)
    assert round(scored[1]["expected_purchases_90d"], 3) == 1.226


# --------------------------------------------------------------------- the fit


LIFETIMES_PYTHON = PROJECT_DIR / ".venv-lifetimes" / "bin" / "python"


@pytest.fixture(scope="module")
def cdnow_sample(tmp_path_factory):
    """The RFM summary (days) of CDNOW_sample.txt observed to 1997-09-30."""
    import pandas as pd

    path = tmp_path_factory.mktemp("cdnow_sample") / "sample.csv"
    subprocess.run(
        [str(LIFETIMES_PYTHON), str(PROJECT_DIR / "tests" / "python"
                                    / "clv_lifetimes_reference.py"), "sample", str(path)],
        check=True,
    )
    return pd.read_csv(path)


def test_fit_reproduces_the_papers(cdnow_sample):
    """BG/NBD (2005): r = 0.243, alpha = 4.414 weeks, a = 0.793, b = 2.426,
    LL = -9582.4 (weeks); Gamma-Gamma (2013): p = 6.25, q = 3.74, v = 15.44."""
    sample = cdnow_sample
    assert len(sample) == 2357
    bg = fit_clv.fit_bg_nbd(sample["frequency"], sample["recency"], sample["T"])
    assert round(bg.parameters["r"], 3) == 0.243
    assert round(bg.parameters["alpha"] / 7, 3) == 4.414
    assert round(bg.parameters["alpha"], 2) == 30.90
    assert round(bg.parameters["a"], 3) == 0.793
    assert round(bg.parameters["b"], 3) == 2.426
    weeks = bg.log_likelihood + sample["frequency"].sum() * math.log(7)
    assert round(weeks, 1) == -9582.4
    assert bg.customers == 2357 and bg.notes == []
    repeat = sample[(sample["frequency"] > 0) & (sample["monetary_value"] > 0)]
    gg = fit_clv.fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
    assert round(gg.parameters["p"], 2) == 6.25
    assert round(gg.parameters["q"], 2) == 3.74
    assert round(gg.parameters["v"], 2) == 15.44


def poisson_customers(rng, customers, days=365):
    """RFM rows (x, t_x, T) of customers who never drop out: each buys at a gamma
    distributed rate per day (a Poisson process) from day 0 to T."""
    T = rng.integers(30, days, customers).astype(float)
    rates = rng.gamma(0.5, 0.05, customers)
    x = rng.poisson(rates * T).astype(float)
    # The last of x uniform purchase times on (0, T).
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), 1), 0.0)
    return np.floor(x), np.floor(t_x), T


def test_a_fit_without_dropout_stops_at_the_limit_and_says_so():
    """Data with no dropout: the likelihood grows as the chance to drop out, a / (a
    + b), runs to 0. The fit stops within its bounds and names the limit."""
    x, t_x, T = poisson_customers(np.random.default_rng(3), 20000)
    fit = fit_clv.fit_bg_nbd(x, t_x, T)
    a, b = fit.parameters["a"], fit.parameters["b"]
    assert a / (a + b) < 1e-6
    assert any("the data shows almost no dropout" in note for note in fit.notes)
    assert math.isfinite(fit.log_likelihood)
    again = fit_clv.fit_bg_nbd(x, t_x, T)
    assert again.parameters == fit.parameters  # same data, same fit
