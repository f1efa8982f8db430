#!/usr/bin/env python3
"""Generate a transaction log (customer_id,date,amount) simulated from BG/NBD + Gamma-Gamma.

    gen_log.py --customers 1000000 --seed 42 --out log.csv

The population (time in weeks of 7 days):
  * purchase rate    lambda ~ Gamma(r=0.5, rate alpha=5)
  * dropout prob.    p      ~ Beta(a=0.8, b=2.5); after every repeat purchase the customer
                              leaves with probability p (BG/NBD: none at the first purchase)
  * mean spend       nu     ~ Gamma(q=4, rate gamma=15)
  * each purchase    amount ~ Gamma(p=6, rate nu), rounded to cents, at least 0.01
  * first purchase at a continuous time uniform over the first 12 weeks of 2020; the log covers
    2020-01-01 .. 2020-12-31 (all of it is the calibration period: --calibration-end 2020-12-31).
Purchase times are continuous; a row's date is the day the purchase falls on, so two purchases
on the same day are two rows that the data contract merges into one purchase day.
Rows are written in date order (customer order within a day is random).

Vectorised: given N ~ Poisson(lambda T) purchases an immortal customer would make in (0, T] and
K ~ Geometric(p) repeat purchases before dropout, the observed ones are the first m = min(N, K)
order statistics of N uniforms on (0, T], drawn from exponential spacings.
"""
import argparse
import datetime as dt
import json
import sys
import time

import numpy as np
import pandas as pd

PARAMS = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5, "p": 6.0, "q": 4.0, "gamma": 15.0}
START = dt.date(2020, 1, 1)
END = dt.date(2020, 12, 31)  # calibration end, inclusive
FIRST_WEEKS = 12


def simulate(n, seed, params=PARAMS):
    rng = np.random.default_rng(seed)
    days_total = (END - START).days + 1  # 366 (2020 is a leap year)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)  # per week
    pdrop = rng.beta(params["a"], params["b"], n)
    nu = rng.gamma(params["q"], 1.0 / params["gamma"], n)
    t0 = rng.uniform(0.0, FIRST_WEEKS * 7.0, n)  # days since START, continuous
    T = (days_total - t0) / 7.0  # weeks of continuous exposure after the first purchase
    N = rng.poisson(lam * T)
    K = rng.geometric(np.clip(pdrop, 1e-12, 1.0))  # repeat purchases until dropout (>= 1)
    m = np.minimum(N, K)
    # spacings: m exponentials per customer, plus Gamma(N + 1 - m) for the unobserved rest
    tot = int(m.sum())
    e = rng.standard_exponential(tot)
    rest = rng.standard_gamma((N + 1 - m).astype(float))
    owner = np.repeat(np.arange(n), m)
    cs = np.concatenate(([0.0], np.cumsum(e)))
    ends = np.cumsum(m)
    offset = cs[ends - m]  # cumulative spacing before each customer's first one
    within = cs[1:] - offset[owner]  # cumulative sum within each customer
    denom = cs[ends] - offset + rest  # sum of all N + 1 spacings
    t_rep = T[owner] * within / denom[owner]  # weeks after the first purchase, in (0, T)
    # rows: first purchases + repeat purchases
    cust = np.concatenate((np.arange(n), owner))
    tday = np.concatenate((t0, t0[owner] + 7.0 * t_rep))
    day = np.minimum(np.floor(tday).astype(np.int64), days_total - 1)
    amount = rng.gamma(params["p"], 1.0, cust.size) / nu[cust]
    cents = np.maximum(np.rint(amount * 100.0), 1).astype(np.int64)
    order = np.lexsort((rng.random(cust.size), day))
    return cust[order], day[order], cents[order], {"n_repeat_purchases": tot,
                                                   "n_customers_with_repeats": int((m > 0).sum())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    t = time.perf_counter()
    cust, day, cents, info = simulate(args.customers, args.seed)
    dates = np.array([(START + dt.timedelta(days=int(d))).isoformat() for d in range(366)], dtype=object)
    amt = pd.Series(cents // 100).astype(str) + "." + pd.Series(cents % 100).astype(str).str.zfill(2)
    df = pd.DataFrame({"customer_id": cust + 1, "date": dates[day], "amount": amt})
    df.to_csv(args.out, index=False)
    info.update({"customers": args.customers, "rows": int(cust.size), "seed": args.seed, "params": PARAMS,
                 "calibration_end": END.isoformat(), "seconds": round(time.perf_counter() - t, 2)})
    json.dump(info, sys.stderr)
    sys.stderr.write("\n")


if __name__ == "__main__":
    main()
