"""The grouped rows scripts/fit_clv.py fits as of the as-of date, as a CSV for
bench/lifetimes_fit.py, and our fit of those very rows, timed.

Runs in the project's virtualenv, after the fit command built what it reads; the
plan, the query and the fit are fit_clv's own (macro ltv_clv_fit_groups_sql):

    python bench/clv_groups.py --target duckdb --vars '{...}' --profiles-dir DIR OUT_CSV

Prints one JSON line: the as-of date, rows and customers per model, our fit's
seconds and parameters.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import fit_clv  # noqa: E402  (lives in scripts/, not a package)
import pandas as pd  # noqa: E402

COLUMNS = ("model", "frequency", "recency", "t", "monetary_value", "customers")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--vars", default="{}")
    parser.add_argument("--profiles-dir", required=True)
    parser.add_argument("out_csv")
    args = parser.parse_args(argv)
    common = ["--project-dir", str(fit_clv.PROJECT_DIR), "--profiles-dir", args.profiles_dir,
              "--target", args.target, "--vars", fit_clv.pinned_vars(args.vars)]
    plan = fit_clv.fit_plan(common, False)
    warehouse = fit_clv.connect(fit_clv.profile_settings(args.profiles_dir, args.target))
    groups = fit_clv.in_group_order(warehouse.query(plan["groups_sql"]))
    warehouse.close()
    as_of = plan["as_of_dates"]["scoring"]
    chosen = groups["fitted_as_of_date"] == as_of
    rows = {name: groups[name][chosen] for name in COLUMNS}

    start = time.perf_counter()
    fits = fit_clv.fit_groups(rows)
    fit_s = time.perf_counter() - start

    pd.DataFrame(rows).to_csv(args.out_csv, index=False, float_format="%.17g")
    print(json.dumps({
        "as_of": as_of,
        "rows": {model: int(sum(rows["model"] == model)) for model in ("bg_nbd", "gamma_gamma")},
        "customers": {fit.model: fit.customers for fit in fits},
        "fit_s": round(fit_s, 3),
        "parameters": {name: value for fit in fits for name, value in fit.parameters.items()},
    }))


if __name__ == "__main__":
    main()
