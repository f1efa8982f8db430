#!/usr/bin/env python3
"""The lifetimes side of the CLV benchmark: the same fits `strata clv` makes, the way lifetimes users do them.

    peer_lifetimes.py --log FILE --calibration-end 2020-12-31            (customer_id,date,amount CSV)
    peer_lifetimes.py --cdnow assets/CDNOW_master.txt                    (calibration end 1997-09-30)
    options: --skip-pareto, --pareto-timeout SECONDS (default 900), --compress

Stages, each timed: read (pandas read_csv + date parsing), summary
(lifetimes.utils.summary_data_from_transaction_data with freq='D', freq_multiplier=7, the monetary
column and observation_period_end = the calibration end: weeks of 7 days, same-day purchases merged,
as Strata's data contract), then BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter (seeded with
np.random.seed(0): lifetimes starts Nelder-Mead at a random point) and GammaGammaFitter on the
customers with frequency > 0 and monetary_value > 0, all with penalizer_coef = 0 and lifetimes'
default tolerances.

--compress fits each purchase model once per distinct (frequency, recency, T) with the count as
`weights` (lifetimes supports this; Fader and Hardie fit that way), and Gamma-Gamma per distinct
(frequency, monetary_value). Without it, one row per customer, as lifetimes' documentation does.

Prints one JSON object: parameters, total log-likelihood at those parameters (computed with
lifetimes' own likelihood functions on the unscaled data, weeks), seconds per stage and in total,
and the process's peak RSS (getrusage ru_maxrss).
"""
import argparse
import json
import math
import resource
import signal
import sys
import time
import warnings

import numpy as np
import pandas as pd

T0 = time.perf_counter()


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def read_log(args):
    if args.cdnow:
        df = pd.read_csv(args.cdnow, sep=r"\s+", dtype={"customer_id": str, "date": str})
        df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
        return df.rename(columns={"dollar_value": "amount"})[["customer_id", "date", "amount"]]
    df = pd.read_csv(args.log, dtype={"customer_id": str, "date": str, "amount": float})
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    return df


def total_ll(cls, keys, params, args_tail):
    """Total log-likelihood with lifetimes' own (static) likelihood at unscaled data."""
    pv = np.array([params[k] for k in keys])
    # BG, MBG and GG take log-parameters; lifetimes' Pareto/NBD works on the parameters themselves
    v = float(cls._negative_log_likelihood(pv if cls.__name__ == "ParetoNBDFitter" else np.log(pv), *args_tail, 0.0))
    w = args_tail[-1]
    # BG, MBG and GG return sum / weights.sum(); Pareto/NBD returns sum / weights.mean()
    scale = w.mean() if cls.__name__ == "ParetoNBDFitter" else w.sum()
    return -v * float(scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--log")
    src.add_argument("--cdnow")
    ap.add_argument("--calibration-end")
    ap.add_argument("--skip-pareto", action="store_true")
    ap.add_argument("--pareto-timeout", type=float, default=900.0)
    ap.add_argument("--compress", action="store_true")
    args = ap.parse_args()
    cal_end = args.calibration_end or ("1997-09-30" if args.cdnow else None)
    if cal_end is None:
        ap.error("--calibration-end is needed with --log")

    import lifetimes
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data

    out = {"peer": "lifetimes " + lifetimes.__version__, "numpy": np.__version__, "pandas": pd.__version__,
           "compressed": args.compress, "calibration_end": cal_end, "seconds": {}, "warnings": [], "errors": {}}
    sec = out["seconds"]
    sec["import"] = round(time.perf_counter() - T0, 3)

    t = time.perf_counter()
    df = read_log(args)
    sec["read"] = round(time.perf_counter() - t, 3)
    out["rows"] = int(len(df))

    t = time.perf_counter()
    s = summary_data_from_transaction_data(df, "customer_id", "date", monetary_value_col="amount",
                                           observation_period_end=cal_end, freq="D", freq_multiplier=7)
    sec["summary"] = round(time.perf_counter() - t, 3)
    del df
    out["n_customers"] = int(len(s))
    out["n_repeat_customers"] = int((s["frequency"] > 0).sum())
    rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    out["n_gamma_gamma_customers"] = int(len(rep))
    out["n_repeat_without_positive_monetary"] = int(out["n_repeat_customers"] - len(rep))

    if args.compress:
        t = time.perf_counter()
        g = s.groupby(["frequency", "recency", "T"]).size().reset_index(name="w")
        gg = rep.groupby(["frequency", "monetary_value"]).size().reset_index(name="w")
        sec["compress"] = round(time.perf_counter() - t, 3)
        out["n_distinct_frt"] = int(len(g))
        out["n_distinct_gg"] = int(len(gg))
        freq, rec, T, w = g["frequency"].values, g["recency"].values, g["T"].values, g["w"].values
        gx, gm, gw = gg["frequency"].values, gg["monetary_value"].values, gg["w"].values
    else:
        freq, rec, T, w = s["frequency"].values, s["recency"].values, s["T"].values, None
        gx, gm, gw = rep["frequency"].values, rep["monetary_value"].values, None

    fi = freq.astype(int)
    wts = np.ones(len(fi), dtype=np.int64) if w is None else w.astype(np.int64)
    gwts = np.ones(len(gx), dtype=np.int64) if gw is None else gw.astype(np.int64)
    models = [("bgnbd", BetaGeoFitter, ("r", "alpha", "a", "b")),
              ("mbgnbd", ModifiedBetaGeoFitter, ("r", "alpha", "a", "b")),
              ("pareto_nbd", ParetoNBDFitter, ("r", "alpha", "s", "beta")),
              ("gamma_gamma", GammaGammaFitter, ("p", "q", "v"))]
    for name, cls, keys in models:
        if name == "pareto_nbd" and args.skip_pareto:
            out[name] = {"skipped": True}
            continue
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                f = cls(penalizer_coef=0.0)
                if name == "pareto_nbd":
                    np.random.seed(0)
                    signal.signal(signal.SIGALRM, _alarm)
                    signal.setitimer(signal.ITIMER_REAL, args.pareto_timeout)
                    try:
                        f.fit(freq, rec, T, weights=w)
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                elif name == "gamma_gamma":
                    f.fit(gx, gm, weights=gw)
                else:
                    f.fit(freq, rec, T, weights=w)
                d = {k if k != "v" else "gamma": float(f.params_[k]) for k in keys}
                if name == "gamma_gamma":
                    tail = (gx.astype(float), gm, gwts)
                else:
                    tail = (fi, rec, T, wts)
                lp = {k if k != "v" else "gamma": d[k if k != "v" else "gamma"] for k in keys}
                d["log_likelihood"] = total_ll(cls, [k if k != "v" else "gamma" for k in keys], lp, tail)
                out[name] = d
            except Timeout:
                out[name] = {"timeout_seconds": args.pareto_timeout}
                out["errors"][name] = "timed out after %.0f s" % args.pareto_timeout
            except Exception as e:  # ConvergenceError, numerical failures: record them
                out[name] = {"failed": True}
                out["errors"][name] = "%s: %s" % (type(e).__name__, str(e).strip()[:300])
        sec[name] = round(time.perf_counter() - t, 3)
        for c in caught:
            msg = "%s: %s: %s" % (name, c.category.__name__, str(c.message)[:200])
            if msg not in out["warnings"]:
                out["warnings"].append(msg)
        for k, v in list(out[name].items()):
            if isinstance(v, float) and not math.isfinite(v):
                out[name][k] = None
                out["errors"].setdefault(name, "non-finite %s" % k)

    sec["total"] = round(time.perf_counter() - T0, 3)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
