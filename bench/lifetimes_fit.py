"""lifetimes 0.11.3's own fits of the grouped rows bench/clv_groups.py wrote, timed.

Runs inside the lifetimes virtualenv (`make lifetimes-venv`) and imports nothing
from the project:

    .venv-lifetimes/bin/python bench/lifetimes_fit.py GROUPS_CSV

BetaGeoFitter on the bg_nbd rows (frequency, recency, T) and GammaGammaFitter on
the gamma_gamma rows (frequency, monetary_value), penalizer 0, each row weighted by
its customers. Prints one JSON line: each fitter's seconds and the parameters.
"""

import json
import sys
import time

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter


def main(groups_csv):
    groups = pd.read_csv(groups_csv)
    bg = groups[groups["model"] == "bg_nbd"]
    gg = groups[groups["model"] == "gamma_gamma"]
    seconds, parameters = {}, {}
    start = time.perf_counter()
    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(
        bg["frequency"], bg["recency"], bg["t"], weights=bg["customers"].to_numpy()
    )
    seconds["bg_nbd"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    ggf = GammaGammaFitter(penalizer_coef=0.0).fit(
        gg["frequency"], gg["monetary_value"], weights=gg["customers"].to_numpy()
    )
    seconds["gamma_gamma"] = round(time.perf_counter() - start, 3)
    for fitter in (bgf, ggf):
        parameters.update({name: float(value) for name, value in fitter.params_.items()})
    print(json.dumps({"fit_s": seconds, "parameters": parameters}))


if __name__ == "__main__":
    main(*sys.argv[1:])
