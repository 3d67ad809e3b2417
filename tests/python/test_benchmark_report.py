"""The bounds the benchmark reports beside its ratios (bench/run_benchmark.py)."""

import sys

from harness import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / "bench"))
import run_benchmark  # noqa: E402  (bench/ is not a package)


def model(name, seconds, materialized="table"):
    return {
        "model": name,
        "unique_id": f"model.ltv.{name}",
        "execution_time_s": seconds,
        "materialized": materialized,
    }


def manifest(parents):
    return {
        "nodes": {
            f"model.ltv.{name}": {"depends_on": {"nodes": [f"model.ltv.{p}" for p in ps]}}
            for name, ps in parents.items()
        }
    }


def test_critical_path_is_the_longest_chain_by_seconds_not_by_length():
    # orders -> days -> totals -> mart (1+5+1+1 = 8 s) against orders -> slow (1+9 s);
    # a parent that did not run (a seed) adds nothing.
    nodes = [
        model("orders", 1), model("days", 5), model("totals", 1), model("mart", 1),
        model("slow", 9),
    ]  # fmt: skip
    parents = {
        "orders": ["fx_rates"], "days": ["orders"], "totals": ["days"],
        "mart": ["totals", "orders"], "slow": ["orders"],
    }  # fmt: skip
    path = run_benchmark.critical_path(nodes, manifest(parents))
    assert path == {"seconds": 10, "nodes": ["orders", "slow"]}


def test_floor_lines_divide_by_the_expert_and_by_the_threads():
    a = {"elapsed_time_s": 40.0, "critical_path": {"seconds": 30.0, "nodes": ["x", "y"]}}
    b = {"statement_s": 15.0}
    d = {"whole_table_models_s": 24.0, "threads": 2}
    chain, whole_tables = run_benchmark.floor_lines(a, b, d)
    assert "(a)/(b) ≥ 2.00" in chain and "x → y" in chain
    assert "at least 12.00 s on 2 threads: (d)/(a) ≥ 0.30" in whole_tables


def test_lifetimes_beside_our_fit_reports_the_largest_relative_difference():
    ours = {"r": 0.25, "alpha": 7.0, "p": 7.5}
    theirs = {"r": 0.25, "alpha": 7.7, "p": 7.5 * (1 + 1e-7)}
    assert abs(run_benchmark.max_relative_difference(ours, theirs) - 0.7 / 7.7) < 1e-12
