"""Fit BG/NBD and Gamma-Gamma on a target's data and store both fits of a build.

`make fit-clv` runs this with the build's target and vars:

    .venv/bin/python scripts/fit_clv.py --target postgres --vars '{"ltv_source_schema": "shop_raw"}'

It builds what it reads (`dbt build` of +int_revenue_days_aggregated: a subset
build, which never publishes a mart), then fits twice: as of the build's as-of date
(the fit user_clv scores with) and as of that date minus var
ltv_clv_backtest_holdout_days (the calibration fit of clv_backtest). Each fit reads
the grouped RFM rows, distinct (x, t_x, T) and (x, m) with their counts, through the
engine's own driver (one query, compiled by dbt: macro ltv_clv_fit_groups_sql),
finds the maximum-likelihood estimates (no penalty; spec, "Predictive CLV") with
L-BFGS-B on the log-parameters and analytic gradients, and stores them in the fit
table (source clv.clv_fits) with a parameterized insert, tagged with the source
identity (macro ltv_clv_source_identity) and its as-of date; the next `dbt build`
with the same target and vars scores with them. It prints each parameter with its
unit, the customers fitted and the log-likelihood; -v adds dbt's output and the
timings. `--seed-csv PATH` writes the fits as the demo's seed
(seeds/demo/demo_clv_fit.csv) instead of storing them. Log-likelihoods are totals
over the fitted rows, in days, in the published form; the fitting functions take
plain arrays and are tested on their own.
"""

import argparse
import contextlib
import csv
import datetime
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

# Before numpy loads BLAS: the optimizer's vectors have 3 or 4 entries, and BLAS
# threads only wait for each other (on a busy machine 10 ms per iteration, not 10 us).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.special import digamma, gammaln  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[1]
BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "v")
# The text columns of the grouped rows (macro ltv_clv_fit_groups_sql); others are numbers.
TEXT_COLUMNS = ("fitted_as_of_date", "model")
# Log-parameters stay within e^-25..e^25 (1e-11..7e10), so that a fit that runs to
# a limit of the model (say, no dropout) stops in bounded time and names it.
LOG_BOUND = 25.0
# A parameter above this is "very large": the model's limit, not a finite estimate.
LARGE = 1e6
# The limits of the models that data can reach, as (model, test, what it means):
# parameters that run to infinity or to 0 while the likelihood still grows.
LIMITS = (
    ("bg_nbd", lambda p: p["a"] > LARGE and p["b"] > LARGE,
     "a and b are very large: the data shows almost no dropout"),
    ("bg_nbd", lambda p: p["a"] <= LARGE and p["a"] / (p["a"] + p["b"]) < 1 / LARGE,
     "a / (a + b), the chance to drop out after a purchase, is almost 0: the data "
     "shows almost no dropout"),
    ("bg_nbd", lambda p: p["r"] > LARGE and p["alpha"] > LARGE,
     "r and alpha are very large: purchase rates hardly differ between customers"),
    ("gamma_gamma", lambda p: p["q"] > LARGE and p["v"] > LARGE,
     "q and v are very large: mean spend hardly differs between customers"),
    ("gamma_gamma", lambda p: p["p"] > LARGE,
     "p is very large: a customer's spend hardly differs between purchases"),
)

class Fit(NamedTuple):
    """One model's maximum-likelihood fit."""

    model: str
    parameters: dict  # name -> value
    log_likelihood: float  # total over the fitted rows, in days
    customers: int
    notes: list  # sentences about parameters at a limit of the model


# ------------------------------------------------------------- the models


def _weights(weights, like):
    return np.ones_like(like) if weights is None else np.asarray(weights, dtype=float)


class BgNbdRows:
    """Rows (x, t_x, T) with weights, as the BG/NBD likelihood (Fader, Hardie and Lee
    2005, eq. 7) reads them fast: the terms in x alone once per distinct x, the rows
    without repeat purchases apart.

    Per row the log-likelihood is lnG(r+x) - lnG(r) + r ln(alpha) + lnG(a+b)
    + lnG(b+x) - lnG(b) - lnG(a+b+x) + ln(A + D), A = (alpha+T)^-(r+x) (alive at T),
    D = (x>0) a/(b+x-1) (alpha+t_x)^-(r+x) (dropped after the last purchase); A and D
    are added as logarithms, and their shares of A + D weight the gradient of
    ln(A + D)."""

    def __init__(self, x, t_x, T, weights=None):
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        weights = _weights(weights, x)
        self.total = float(weights.sum())
        self.mean_T = float(np.sum(weights * T) / self.total)
        self.distinct_x, inverse = np.unique(x, return_inverse=True)
        self.weight_per_x = np.bincount(inverse, weights)
        repeat = x > 0
        self.once_T, self.once_weights = T[~repeat], weights[~repeat]
        self.x, self.t_x, self.T = x[repeat], t_x[repeat], T[repeat]
        self.weights = weights[repeat]

    def value_and_gradient(self, params):
        """The total log-likelihood and its gradient in (r, alpha, a, b)."""
        r, alpha, a, b = params
        n, ux, wx = self.total, self.distinct_x, self.weight_per_x
        value = (
            np.dot(wx, gammaln(r + ux) + gammaln(b + ux) - gammaln(a + b + ux))
            + n * (-gammaln(r) + r * np.log(alpha) + gammaln(a + b) - gammaln(b))
        )
        digamma_ab = digamma(a + b + ux)
        gradient = np.array([
            np.dot(wx, digamma(r + ux)) + n * (np.log(alpha) - digamma(r)),
            n * r / alpha,
            n * digamma(a + b) - np.dot(wx, digamma_ab),
            n * (digamma(a + b) - digamma(b)) + np.dot(wx, digamma(b + ux) - digamma_ab),
        ])
        # No repeat purchase: ln(A + D) = -r ln(alpha + T).
        ln_once = np.log(alpha + self.once_T)
        value -= r * np.dot(self.once_weights, ln_once)
        gradient[0] -= np.dot(self.once_weights, ln_once)
        gradient[1] -= r * np.sum(self.once_weights / (alpha + self.once_T))
        # Repeat purchases: A and D.
        w, k = self.weights, r + self.x
        ln_alive_base, ln_dropped_base = np.log(alpha + self.T), np.log(alpha + self.t_x)
        ln_alive = -k * ln_alive_base
        ln_dropped = np.log(a) - np.log(b + self.x - 1) - k * ln_dropped_base
        ln_total = np.logaddexp(ln_alive, ln_dropped)
        alive = w * np.exp(ln_alive - ln_total)
        dropped = w * np.exp(ln_dropped - ln_total)
        value += np.dot(w, ln_total)
        gradient -= [
            np.dot(alive, ln_alive_base) + np.dot(dropped, ln_dropped_base),
            np.dot(k, alive / (alpha + self.T) + dropped / (alpha + self.t_x)),
            -np.sum(dropped) / a,
            np.sum(dropped / (b + self.x - 1)),
        ]
        return float(value), gradient


class GammaGammaRows:
    """Rows (x, m) with x, m > 0 and weights, as the Gamma-Gamma likelihood (Fader
    and Hardie 2013) reads them fast: the terms in x alone once per distinct x, those
    without the parameters summed once. Per row: lnG(px+q) - lnG(px) - lnG(q) + q ln(v)
    + (px-1) ln(m) + px ln(x) - (px+q) ln(xm+v)."""

    def __init__(self, x, m, weights=None):
        x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
        weights = _weights(weights, x)
        self.total = float(weights.sum())
        self.mean_m = float(np.sum(weights * m) / self.total)
        self.distinct_x, inverse = np.unique(x, return_inverse=True)
        self.weight_per_x = np.bincount(inverse, weights)
        self.spend, self.weights, self.weighted_x = x * m, weights, weights * x
        self.sum_ln_spend = np.dot(self.weighted_x, np.log(m) + np.log(x))
        self.sum_ln_m = np.dot(weights, np.log(m))

    def value_and_gradient(self, params):
        """The total log-likelihood and its gradient in (p, q, v)."""
        p, q, v = params
        n, ux, wx = self.total, self.distinct_x, self.weight_per_x
        ln_total = np.log(self.spend + v)
        digamma_pq = digamma(p * ux + q)
        value = (
            np.dot(wx, gammaln(p * ux + q) - gammaln(p * ux))
            + n * (q * np.log(v) - gammaln(q)) + p * self.sum_ln_spend - self.sum_ln_m
            - p * np.dot(self.weighted_x, ln_total) - q * np.dot(self.weights, ln_total)
        )
        shares = (p * self.weighted_x + q * self.weights) / (self.spend + v)
        gradient = np.array([
            np.dot(wx * ux, digamma_pq - digamma(p * ux)) + self.sum_ln_spend
            - np.dot(self.weighted_x, ln_total),
            np.dot(wx, digamma_pq) + n * (np.log(v) - digamma(q))
            - np.dot(self.weights, ln_total),
            n * q / v - np.sum(shares),
        ])
        return float(value), gradient


# ------------------------------------------------------------- the optimizer


def maximize(value_and_gradient, start):
    """(parameters, value) at the maximum of value_and_gradient(params) over
    positive params: L-BFGS-B on their logarithms, within e^+-LOG_BOUND, so that a
    model's limit (a parameter running to infinity) stops at the bound in bounded
    time. The function should be of order 1 (a mean over the rows)."""
    def negative(log_params):
        params = np.exp(log_params)
        value, gradient = value_and_gradient(params)
        if not np.isfinite(value):
            return 1e300, np.zeros_like(log_params)
        return -value, -gradient * params

    result = minimize(
        negative, np.log(np.asarray(start, dtype=float)), jac=True, method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start),
        options={"ftol": 0.0, "gtol": 1e-12, "maxiter": 2000, "maxcor": 20},
    )
    return np.exp(result.x), -float(result.fun)


def limit_notes(model, parameters):
    """Sentences about the limits of the model that the fit reached, and about any
    parameter at the optimizer's bounds (e^+-LOG_BOUND)."""
    notes = [meaning for limit_model, reached, meaning in LIMITS
             if limit_model == model and reached(parameters)]
    notes += [
        f"{name} = {value:.3g} is at the bound of the fit: the data sets no finite value"
        for name, value in parameters.items()
        if abs(np.log(value)) > LOG_BOUND - 1e-6
    ]
    return notes


def fit_bg_nbd(x, t_x, T, weights=None):
    """The BG/NBD fit of rows (x, t_x, T), each row counted `weights` times."""
    rows = BgNbdRows(x, t_x, T, weights)
    # Optimized on the mean log-likelihood (its size does not depend on the rows).
    values, mean = maximize(
        lambda p: tuple(v / rows.total for v in rows.value_and_gradient(p)),
        [1.0, max(rows.mean_T, 1.0), 1.0, 1.0],
    )
    parameters = dict(zip(BG_NBD_PARAMETERS, map(float, values)))
    return Fit("bg_nbd", parameters, mean * rows.total, int(rows.total),
               limit_notes("bg_nbd", parameters))


def fit_gamma_gamma(x, m, weights=None):
    """The Gamma-Gamma fit of rows (x, m) with x, m > 0, each counted `weights` times."""
    rows = GammaGammaRows(x, m, weights)
    values, mean = maximize(
        lambda p: tuple(v / rows.total for v in rows.value_and_gradient(p)),
        [1.0, 1.0, max(rows.mean_m, 1.0)],
    )
    parameters = dict(zip(GAMMA_GAMMA_PARAMETERS, map(float, values)))
    return Fit("gamma_gamma", parameters, mean * rows.total, int(rows.total),
               limit_notes("gamma_gamma", parameters))


class NotFittable(Exception):
    """Data that a model cannot be fitted on, and why."""


def fit_groups(groups):
    """Both fits of one as-of date from its grouped rows: columns model, frequency,
    recency, t, monetary_value, customers (macro ltv_clv_fit_groups_sql)."""
    bg = groups["model"] == "bg_nbd"
    gg = ~bg
    if not bg.any():
        raise NotFittable("no customer with a revenue order before it")
    if not gg.any():
        raise NotFittable("no customer with a repeat purchase of positive value "
                          "before it: the Gamma-Gamma model cannot be fitted")
    return [
        fit_bg_nbd(groups["frequency"][bg], groups["recency"][bg], groups["t"][bg],
                   groups["customers"][bg]),
        fit_gamma_gamma(groups["frequency"][gg], groups["monetary_value"][gg],
                        groups["customers"][gg]),
    ]


# ------------------------------------------------------------- dbt and the warehouse


def invoke_dbt(args, verbose):
    """dbt in-process; its output only when verbose (errors always). Exits on failure."""
    from dbt.cli.main import dbtRunner

    output = io.StringIO()
    with contextlib.redirect_stdout(sys.stdout if verbose else output):
        result = dbtRunner().invoke(args)
    if not result.success:
        sys.stderr.write(output.getvalue())
        sys.exit(f"fit_clv: dbt {args[0]} failed: {result.exception or 'see above'}")
    return result


def fit_plan(common, verbose):
    """The plan of macro ltv_clv_fit_plan: identity, as-of dates, SQL, fit table."""
    result = invoke_dbt(
        ["compile", "--inline", "{{ tojson(ltv_clv_fit_plan()) }}", *common], verbose
    )
    return json.loads(result.result.results[0].node.compiled_code)


def profile_settings(profiles_dir, target):
    """The target's settings from profiles.yml, rendered as dbt renders them."""
    import yaml
    from dbt.config.profile import Profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    set_invocation_context(os.environ)
    raw = yaml.safe_load((Path(profiles_dir) / "profiles.yml").read_text())
    return Profile.render_profile(raw["ltv"], "ltv", target, ProfileRenderer({}))[1]


class Warehouse:
    """The target through its own DB-API driver: DuckDB or psycopg2."""

    def __init__(self, settings):
        self.settings = settings
        if settings["type"] == "duckdb":
            import duckdb

            self.connection = duckdb.connect(settings["path"])
            self.placeholder = "?"
        else:
            import psycopg2

            self.connection = psycopg2.connect(
                host=settings["host"], port=settings["port"], user=settings["user"],
                password=settings.get("password") or "", dbname=settings["dbname"],
            )
            self.placeholder = "%s"

    def query(self, sql):
        """Column name -> numpy array of the query's rows, read in bulk: a DuckDB
        result as a frame, PostgreSQL's as CSV through COPY (a million rows in a
        second or two; row by row through the cursor takes several)."""
        if self.settings["type"] == "duckdb":
            return columns_of(self.connection.execute(sql).df())
        import pandas as pd

        text = io.StringIO()
        self.connection.cursor().copy_expert(
            f"copy ({sql}) to stdout with (format csv, header true)", text
        )
        self.connection.commit()
        text.seek(0)
        return columns_of(pd.read_csv(text, dtype={name: str for name in TEXT_COLUMNS}))

    def store(self, plan, rows, as_of_dates):
        """Replace this source's fits of these as-of dates with `rows`, in one
        transaction."""
        cursor = self.connection.cursor()
        cursor.execute(plan["create_schema_sql"])
        cursor.execute(plan["create_table_sql"])
        mark = self.placeholder
        marks = ", ".join([mark] * 8)
        for as_of in as_of_dates:
            cursor.execute(
                f"delete from {plan['fit_table']} where source_identity = {mark}"
                f" and fitted_as_of_date = cast({mark} as date)",
                (plan["source_identity"], as_of),
            )
        cursor.executemany(
            f"insert into {plan['fit_table']} values ({marks})",
            [(plan["source_identity"], *row) for row in rows],
        )
        self.connection.commit()

    def close(self):
        self.connection.close()


class SparkWarehouse:
    """Spark through the session dbt's build left in this process (method session)."""

    def __init__(self, settings):
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.enableHiveSupport()
        for key, value in (settings.get("server_side_parameters") or {}).items():
            builder = builder.config(key, value)
        self.spark = builder.getOrCreate()

    def query(self, sql):
        return columns_of(self.spark.sql(sql).toPandas())

    def store(self, plan, rows, as_of_dates):
        """Append `rows` (Spark tables without Delta cannot delete): of two fits of
        one source and as-of date, clv_model_parameters takes the later one."""
        self.spark.sql(plan["create_schema_sql"])
        self.spark.sql(plan["create_table_sql"])
        names = ("identity", "model", "parameter", "value", "as_of", "customers",
                 "log_likelihood", "fitted_at")
        for row in rows:
            self.spark.sql(
                f"insert into {plan['fit_table']} values (:identity, :model, :parameter,"
                " :value, cast(:as_of as date), :customers, :log_likelihood,"
                " cast(:fitted_at as timestamp))",
                args=dict(zip(names, (plan["source_identity"], *row[:-1],
                                      row[-1].isoformat(sep=" ")))),
            )

    def close(self):
        pass


def columns_of(frame):
    """Column name -> numpy array of a result's frame: the text columns as str, the
    others as float (null as NaN)."""
    return {
        name.lower(): frame[name].to_numpy(
            dtype=str if name.lower() in TEXT_COLUMNS else float
        )
        for name in frame.columns
    }


# The grouped rows' order, first key first: the fits add the rows up in this order,
# so the same data gives the same estimates whatever order the engine returned.
GROUP_ORDER = ("fitted_as_of_date", "model", "frequency", "recency", "t", "monetary_value")


def in_group_order(groups):
    """The grouped rows sorted by GROUP_ORDER (NaN, SQL's null, last), in numpy:
    sorting 1.4M rows in PostgreSQL took 5 s of the fit's 19 s at 1M users."""
    order = np.lexsort([groups[name] for name in reversed(GROUP_ORDER)])
    return {name: column[order] for name, column in groups.items()}


def connect(settings):
    if settings["type"] == "spark":
        return SparkWarehouse(settings)
    return Warehouse(settings)


# ------------------------------------------------------------- the command


def fit_rows(fits, as_of, fitted_at):
    """Rows of the fit table after the identity: model, parameter, value,
    fitted_as_of_date, fitted_customers, log_likelihood, fitted_at."""
    return [
        (fit.model, name, value, as_of, fit.customers, fit.log_likelihood, fitted_at)
        for fit in fits for name, value in fit.parameters.items()
    ]


UNITS = {
    "r": "(shape of purchase rates)", "alpha": "days (scale of purchase rates)",
    "a": "(shape of dropout)", "b": "(shape of dropout)",
    "p": "(shape of spend per purchase)", "q": "(shape of mean spend)",
}


def report(kind, as_of, fits, currency):
    """Print one as-of date's fits: each parameter with its unit, the customers
    fitted, the log-likelihood, and what a parameter at a limit means."""
    print(f"{kind} fit as of {as_of}")
    for fit in fits:
        print(f"  {fit.model}: {fit.customers} customers, "
              f"log-likelihood {fit.log_likelihood:.6f}")
        for name, value in fit.parameters.items():
            unit = UNITS.get(name, f"{currency} (scale of mean spend)")
            print(f"    {name:6} {value:.10g} {unit}")
        for note in fit.notes:
            print(f"    note: {note}")


def main(argv=None):
    args = parse_args(argv)
    common = [
        "--project-dir", args.project_dir, "--profiles-dir", args.profiles_dir,
        "--target", args.target, "--vars", pinned_vars(args.vars),
    ]
    steps = Steps()
    invoke_dbt(["build", "--select", "+int_revenue_days_aggregated",
                "--indirect-selection", "cautious", "--exclude-resource-type",
                "unit_test", *common], args.verbose)
    steps.done("build_s")
    plan = fit_plan(common, args.verbose)
    warehouse = connect(profile_settings(args.profiles_dir, args.target))
    steps.done("plan_s")
    groups = in_group_order(warehouse.query(plan["groups_sql"]))
    steps.done("read_s")
    rows = fit_each_as_of_date(plan, groups)
    steps.done("fit_s")
    if args.seed_csv:
        write_seed(rows, args.seed_csv)
    else:
        warehouse.store(plan, rows, sorted({row[3] for row in rows}))
    warehouse.close()
    steps.done("store_s")
    steps.finish(args.verbose, args.timings)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("DBT_TARGET", "duckdb"))
    parser.add_argument("--vars", default="{}")
    parser.add_argument("--profiles-dir", default=str(PROJECT_DIR))
    parser.add_argument("--project-dir", default=str(PROJECT_DIR))
    parser.add_argument("--seed-csv", help="write the fits here as the demo seed")
    parser.add_argument("--timings", help="write the steps' seconds here (JSON)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="dbt's output and the steps' seconds too")
    return parser.parse_args(argv)


def fit_each_as_of_date(plan, groups):
    """The fit table's rows of the fits of each as-of date of the plan, printed.
    Without data for the scoring fit it stops; without data for the calibration
    fit it says so and goes on (a shop with less history than the holdout)."""
    fitted_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    rows = []
    for kind, as_of in plan["as_of_dates"].items():
        chosen = groups["fitted_as_of_date"] == as_of
        try:
            fits = fit_groups({name: column[chosen] for name, column in groups.items()})
        except NotFittable as reason:
            if kind == "scoring":
                sys.exit(f"fit_clv: nothing stored: no fit as of {as_of}: {reason}")
            print(f"No {kind} fit as of {as_of}: {reason}; clv_backtest stays empty")
            continue
        report(kind.capitalize(), as_of, fits, plan["currency"])
        rows += fit_rows(fits, as_of, fitted_at)
    return rows


class Steps:
    """The seconds of each step of the command since the previous one."""

    def __init__(self):
        self.last = time.perf_counter()
        self.seconds = {}

    def done(self, name):
        now = time.perf_counter()
        self.seconds[name] = round(now - self.last, 3)
        self.last = now

    def finish(self, verbose, path):
        """Printed when verbose; written to `path` (--timings) when given."""
        if verbose:
            print("seconds: " + ", ".join(
                f"{name[:-2]} {seconds}" for name, seconds in self.seconds.items()))
        if path:
            Path(path).write_text(json.dumps(self.seconds))


def pinned_vars(vars_text):
    """The vars with ltv_as_of_date set (today, UTC, when null, as macro
    ltv_as_of_date does): the build and the fit's queries see one date."""
    values = json.loads(vars_text or "{}")
    if not values.get("ltv_as_of_date"):
        today = datetime.datetime.now(datetime.timezone.utc).date()
        values["ltv_as_of_date"] = today.isoformat()
    return json.dumps(values)


def write_seed(rows, path):
    """The fits as seeds/demo/demo_clv_fit.csv: identity 'demo', and a fitted_at
    older than any refit, so that `make fit-clv` on the demo wins over it."""
    columns = ["source_identity", "model", "parameter", "value", "fitted_as_of_date",
               "fitted_customers", "log_likelihood", "fitted_at"]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(columns)
        for model, parameter, value, as_of, customers, ll, _ in rows:
            writer.writerow(["demo", model, parameter, repr(value), as_of, customers,
                             repr(ll), "2000-01-01 00:00:00"])


if __name__ == "__main__":
    main()
