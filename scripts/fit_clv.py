"""Fit the BG/NBD and Gamma-Gamma models on a target's user_rfm and store the fit.

`make fit-clv` runs this (after building +user_rfm) with the build's settings:

    .venv/bin/python scripts/fit_clv.py --target postgres --vars '{"ltv_source_schema": "shop_raw"}'

It reads the target's user_rfm through dbt (any engine: DuckDB, PostgreSQL, Spark),
grouped by (frequency, recency, T) and by (frequency, monetary_value), finds the
maximum-likelihood estimates with scipy (no penalty; spec, "Predictive CLV"), and
stores them with `dbt run-operation ltv_clv_store_fit` in the fit table (source
clv.clv_fits), tagged with the source identity (macro ltv_clv_source_identity) and the
as-of date, where the next `dbt build` with the same target and vars scores with them.
`--seed-csv PATH` writes the fit as the demo's seed (seeds/demo/demo_clv_fit.csv)
instead. Log-likelihoods are totals over the fitted rows, in days, in the published
form; the fitting functions take plain arrays and are tested on their own.
"""

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

PROJECT_DIR = Path(__file__).resolve().parents[1]
BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "v")


def bg_nbd_log_likelihood(params, x, t_x, T, weights=None):
    """Total BG/NBD log-likelihood (Fader, Hardie and Lee 2005, eq. 7) of the rows."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    first = (
        gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        + gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    )
    alive = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return float(np.sum(weights * (first + np.logaddexp(alive, dropped))))


def gamma_gamma_log_likelihood(params, x, m, weights=None):
    """Total Gamma-Gamma log-likelihood (Fader and Hardie 2013) of rows with x, m > 0."""
    p, q, v = params
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    px = p * x
    rows = (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
        + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v)
    )
    return float(np.sum(weights * rows))


def maximize(log_likelihood, start):
    """The maximum of log_likelihood(params) over positive params (log scale)."""
    def objective(log_params):
        value = log_likelihood(np.exp(log_params))
        return -value if np.isfinite(value) else 1e300

    start = np.log(np.asarray(start, dtype=float))
    best = minimize(objective, start, method="BFGS", options={"gtol": 1e-10})
    polished = minimize(
        objective, best.x, method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 20000, "maxfev": 40000},
    )
    chosen = polished if polished.fun <= best.fun else best
    again = minimize(objective, chosen.x, method="BFGS", options={"gtol": 1e-10})
    if again.fun < chosen.fun:
        chosen = again
    return np.exp(chosen.x), -chosen.fun


def fit_bg_nbd(x, t_x, T, weights=None):
    """(dict of r, alpha, a, b; total log-likelihood) at the maximum."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    total = weights.sum()
    scale = max(float(np.sum(weights * T) / total), 1.0)
    # Optimized on the mean log-likelihood (its size does not depend on the rows).
    params, mean = maximize(
        lambda p: bg_nbd_log_likelihood(p, x, t_x, T, weights) / total,
        [1.0, scale, 1.0, 1.0],
    )
    return dict(zip(BG_NBD_PARAMETERS, params)), mean * total


def fit_gamma_gamma(x, m, weights=None):
    """(dict of p, q, v; total log-likelihood) at the maximum, rows with x, m > 0."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    total = weights.sum()
    params, mean = maximize(
        lambda p: gamma_gamma_log_likelihood(p, x, m, weights) / total,
        [1.0, 1.0, max(float(np.sum(weights * m) / total), 1.0)],
    )
    return dict(zip(GAMMA_GAMMA_PARAMETERS, params)), mean * total


def fit_rows(bg_groups, gg_groups):
    """Fit rows (model, parameter, value, fitted_customers, log_likelihood) of groups
    [(x, t_x, T, count)] and [(x, m, count)]."""
    x, t_x, T, count = (np.array(column, dtype=float) for column in zip(*bg_groups))
    bg, bg_ll = fit_bg_nbd(x, t_x, T, count)
    if not gg_groups:
        sys.exit("fit_clv: no user with a repeat purchase of positive value: "
                 "the Gamma-Gamma model cannot be fitted")
    gx, gm, gcount = (np.array(column, dtype=float) for column in zip(*gg_groups))
    gg, gg_ll = fit_gamma_gamma(gx, gm, gcount)
    rows = []
    for model, params, customers, ll in (
        ("bg_nbd", bg, int(count.sum()), bg_ll),
        ("gamma_gamma", gg, int(gcount.sum()), gg_ll),
    ):
        for name, value in params.items():
            rows.append({
                "model": model, "parameter": name, "value": float(value),
                "fitted_customers": customers, "log_likelihood": float(ll),
            })
    return rows


# ------------------------------------------------------------------------ with dbt


def dbt(args):
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(args)
    if not result.success:
        sys.exit(f"fit_clv: dbt {args[0]} failed: {result.exception or ''}")
    return result


def query(sql, common):
    """Rows of a query compiled by dbt on the target (refs and macros allowed)."""
    result = dbt(["show", "--inline", sql, "--limit", "-1", "--quiet", *common])
    return [tuple(row) for row in result.result.results[0].agate_table.rows]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("DBT_TARGET", "duckdb"))
    parser.add_argument("--vars", default="{}")
    parser.add_argument("--profiles-dir", default=str(PROJECT_DIR))
    parser.add_argument("--project-dir", default=str(PROJECT_DIR))
    parser.add_argument("--seed-csv", help="write the fit here as the demo seed")
    args = parser.parse_args(argv)
    common = [
        "--project-dir", args.project_dir, "--profiles-dir", args.profiles_dir,
        "--target", args.target, "--vars", args.vars,
    ]
    double = "{{ ltv_double_type() }}"
    as_of = query(
        "select distinct cast(as_of_date as {{ dbt.type_string() }}) "
        "from {{ ref('user_rfm') }}", common,
    )
    if len(as_of) != 1:
        sys.exit(f"fit_clv: user_rfm must hold one as-of date, it holds {len(as_of)}: "
                 "build it first (make fit-clv does)")
    fitted_as_of = str(as_of[0][0])[:10]
    bg_groups = query(
        f"select cast(frequency as {double}), cast(recency as {double}), "
        f"cast(t as {double}), count(*) from {{{{ ref('user_rfm') }}}} "
        "group by frequency, recency, t", common,
    )
    gg_groups = query(
        f"select cast(frequency as {double}), cast(monetary_value as {double}), "
        f"count(*) from {{{{ ref('user_rfm') }}}} "
        "where frequency > 0 and monetary_value > 0 "
        "group by frequency, monetary_value", common,
    )
    rows = fit_rows(bg_groups, gg_groups)
    for row in rows:
        print(f"{row['model']:12} {row['parameter']:6} {row['value']:.10g}")
    if args.seed_csv:
        write_seed(rows, fitted_as_of, args.seed_csv)
    else:
        dbt([
            "run-operation", "ltv_clv_store_fit", "--args",
            json.dumps({"rows": rows, "fitted_as_of_date": fitted_as_of}), *common,
        ])


def write_seed(rows, fitted_as_of, path):
    columns = ["source_identity", "model", "parameter", "value", "fitted_as_of_date",
               "fitted_customers", "log_likelihood", "fitted_at"]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([
                "demo", row["model"], row["parameter"], repr(row["value"]),
                fitted_as_of, row["fitted_customers"], repr(row["log_likelihood"]),
                # Older than any refit: `make fit-clv` on the demo wins over it.
                "2000-01-01 00:00:00",
            ])


if __name__ == "__main__":
    main()
