#!/usr/bin/env python3
"""The Python peers of Strata's benchmark cases (`strata bench case`): the same files, the same work,
and a JSON report of the same shape on stdout, so benches/suite.py can put them side by side.

usage: peers.py CASE --tool {pandas,polars,sklearn,scipy,kmodes,minisom} --input FILE [--k N] [--k-range A..B] [--seed N]
                [--rows N] [--silhouette-rows N] [--iterations N]
"""

import argparse
import datetime
import json
import os
import sys
import time

CUSTOMER_FEATURES = [
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "tenure_days",
    "items_per_order",
    "discount_share",
    "web_share",
]
AS_OF = datetime.date(1998, 7, 1)


def fnv1a(data):
    """FNV-1a, 64 bits, as Strata's bench computes it."""
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def memory():
    """Resident memory now and the peak since the last reset, in bytes (Linux)."""
    now = peak = 0
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    now = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
    except OSError:
        pass
    return now, peak


def timed(op):
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before, _ = memory()
    started = time.perf_counter()
    out = op()
    seconds = time.perf_counter() - started
    _, peak = memory()
    mb = 1024 * 1024
    return out, {"seconds": seconds, "rss_before_mb": before / mb, "peak_mb": max(peak, before) / mb}


def customer_matrix(path, rows):
    """The eight features z-scored with the population standard deviation, and the latent segment."""
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=CUSTOMER_FEATURES + ["segment"])
    n = table.num_rows if rows is None else min(rows, table.num_rows)
    x = np.empty((n, len(CUSTOMER_FEATURES)), dtype=np.float64)
    for j, name in enumerate(CUSTOMER_FEATURES):
        column = table.column(name).to_numpy().astype(np.float64)[:n]
        mean = column.mean()
        sd = np.sqrt(((column - mean) ** 2).mean())
        x[:, j] = (column - mean) / sd if sd > 0 else 0.0
    segment = table.column("segment").to_numpy()[:n].astype(np.int64)
    return np.ascontiguousarray(x), segment


# Strata's standard RFM rules, in the order they are tried: name, (recency, frequency, monetary)
# inclusive score ranges.
RFM_RULES = [
    ("Champions", (4, 5), (4, 5), (4, 5)),
    ("Loyal", (3, 5), (3, 5), (3, 5)),
    ("Cannot Lose Them", (1, 1), (4, 5), (4, 5)),
    ("At Risk", (1, 2), (3, 5), (3, 5)),
    ("New", (5, 5), (1, 1), (1, 5)),
    ("Promising", (4, 4), (1, 1), (1, 5)),
    ("Potential Loyalist", (3, 5), (1, 5), (1, 5)),
    ("Need Attention", (2, 2), (2, 5), (1, 5)),
    ("About to Sleep", (2, 2), (1, 1), (1, 5)),
    ("Hibernating", (1, 1), (2, 5), (1, 5)),
    ("Lost", (1, 1), (1, 1), (1, 5)),
]


def rfm_frame(path, rows):
    import pyarrow.parquet as pq

    frame = pq.read_table(path, columns=["recency_days", "frequency", "monetary_total"]).to_pandas()
    return frame if rows is None else frame.iloc[:rows].reset_index(drop=True)


def rfm_scores(frame):
    """Quintile scores as an analyst writes them in pandas: 1 + floor(5 x share of customers
    strictly worse), ties together (rank with method='min'); recency reversed."""
    import numpy as np

    n = len(frame)
    out = {}
    for name, column, sign in (("r", "recency_days", -1), ("f", "frequency", 1), ("m", "monetary_total", 1)):
        worse = (frame[column] * sign).rank(method="min").to_numpy(dtype=np.int64) - 1
        out[name] = 1 + (5 * worse) // n
    return out


def rfm_rules_case(args):
    import numpy as np

    frame = rfm_frame(args.input, args.rows)

    def op():
        s = rfm_scores(frame)
        conditions = [(s["r"] >= r0) & (s["r"] <= r1) & (s["f"] >= f0) & (s["f"] <= f1) & (s["m"] >= m0) &
                      (s["m"] <= m1) for _, (r0, r1), (f0, f1), (m0, m1) in RFM_RULES]
        return np.select(conditions, [name for name, *_ in RFM_RULES], default="Other")

    names, timing = timed(op)
    values, counts = np.unique(names, return_counts=True)
    return {"rows": len(frame), "segments": {str(v): int(c) for v, c in zip(values, counts)},
            "labels_hash": f"{fnv1a(','.join(names.tolist()).encode()):016x}"}, timing


def hybrid_case(args):
    """Value tiers by total RFM score (from 8 mid, from 12 high), then scikit-learn's KMeans inside each
    tier on the z-scored features, as Strata's hybrid does."""
    import numpy as np
    from sklearn.cluster import KMeans

    x, _ = customer_matrix(args.input, args.rows)
    frame = rfm_frame(args.input, args.rows)

    def op():
        s = rfm_scores(frame)
        total = s["r"] + s["f"] + s["m"]
        tier = (total >= 8).astype(int) + (total >= 12).astype(int)
        inertia, segments, sizes = 0.0, 0, [0, 0, 0]
        for t in (2, 1, 0):
            rows = np.flatnonzero(tier == t)
            sizes[t] = int(len(rows))
            if len(rows) == 0:
                continue
            k = min(args.k, len(np.unique(x[rows], axis=0)))
            model = KMeans(n_clusters=k, init="k-means++", n_init=5, tol=1e-4, max_iter=300,
                           random_state=args.seed, algorithm="lloyd").fit(x[rows])
            inertia += float(model.inertia_)
            segments += k
        return sizes, segments, inertia

    (sizes, segments, inertia), timing = timed(op)
    return {"rows": len(x), "tier_sizes": sizes, "segments": segments, "inertia": inertia}, timing


def has_date_column(path):
    with open(path) as f:
        return "date" in f.readline().strip().split(",")


def load(case, tool, path):
    if tool == "pandas":
        import pandas as pd

        if case == "load-csv":
            dates = ["date"] if has_date_column(path) else None
            op = lambda: pd.read_csv(path, parse_dates=dates)
        else:
            op = lambda: pd.read_parquet(path)
    elif tool == "polars":
        import polars as pl

        if case == "load-csv":
            op = lambda: pl.read_csv(path, try_parse_dates=True)
        else:
            op = lambda: pl.read_parquet(path)
    else:
        raise SystemExit(f"{case} has no peer {tool}")
    frame, timing = timed(op)
    return {"rows": len(frame), "columns": len(frame.columns)}, timing


def rfm(tool, path):
    """The same query as Strata's aggregation: drop incomplete rows and rows after the as-of date,
    then per customer the last and first date, the count, the total; recency, mean, tenure; by id."""
    if tool == "pandas":
        import pandas as pd

        log = pd.read_parquet(path)
        # pyarrow hands dates to pandas as Python objects; a pandas user converts them once.
        log["date"] = pd.to_datetime(log["date"])
        as_of = pd.Timestamp(AS_OF)

        def op():
            df = log.dropna()
            df = df[df["date"] <= as_of]
            g = df.groupby("customer_id").agg(
                last=("date", "max"), first=("date", "min"), frequency=("amount", "size"),
                monetary_total=("amount", "sum"),
            )
            g["recency_days"] = (as_of - g["last"]).dt.days
            g["monetary_mean"] = g["monetary_total"] / g["frequency"]
            g["tenure_days"] = (as_of - g["first"]).dt.days
            return g.reset_index()

    elif tool == "polars":
        import polars as pl

        log = pl.read_parquet(path)

        def op():
            return (
                log.lazy()
                .drop_nulls()
                .filter(pl.col("date") <= AS_OF)
                .group_by("customer_id")
                .agg(
                    pl.col("date").max().alias("last_purchase"),
                    pl.col("date").min().alias("first_purchase"),
                    pl.len().alias("frequency"),
                    pl.col("amount").sum().alias("monetary_total"),
                )
                .with_columns(
                    (pl.lit(AS_OF) - pl.col("last_purchase")).dt.total_days().alias("recency_days"),
                    (pl.col("monetary_total") / pl.col("frequency")).alias("monetary_mean"),
                    (pl.lit(AS_OF) - pl.col("first_purchase")).dt.total_days().alias("tenure_days"),
                )
                .sort("customer_id")
                .collect()
            )

    else:
        raise SystemExit(f"rfm has no peer {tool}")
    out, timing = timed(op)
    result = {
        "customers": len(out),
        "frequency_sum": float(out["frequency"].sum()),
        "monetary_total_sum": float(out["monetary_total"].sum()),
        "recency_days_sum": float(out["recency_days"].sum()),
    }
    return result, timing


def sklearn_case(case, args):
    import numpy as np
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    x, segment = customer_matrix(args.input, args.rows)
    n, d = x.shape
    if case == "lloyd":
        from sklearn.cluster._k_means_lloyd import lloyd_iter_chunked_dense
        from sklearn.cluster._k_means_common import _inertia_dense
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        k = args.k
        threads = _openmp_effective_n_threads()
        weights = np.ones(n, dtype=np.float64)
        centers = np.ascontiguousarray(x[[c * n // k for c in range(k)]])
        centers_new = np.zeros_like(centers)
        in_clusters = np.zeros(k, dtype=np.float64)
        labels = np.full(n, -1, dtype=np.int32)
        shift = np.zeros(k, dtype=np.float64)

        def step():
            nonlocal centers, centers_new
            lloyd_iter_chunked_dense(x, weights, centers, centers_new, in_clusters, labels, shift, threads)
            centers, centers_new = centers_new, centers

        step()  # first touch, unmeasured, as Strata's
        seconds = []

        def op():
            for _ in range(max(args.iterations, 1)):
                started = time.perf_counter()
                step()
                seconds.append(time.perf_counter() - started)

        _, timing = timed(op)
        # The labels belong to the centres before the last update: the inertia Strata reports.
        inertia = float(_inertia_dense(x, weights, centers_new, labels, threads))
        timing["seconds"] = sorted(seconds)[len(seconds) // 2]
        return {"rows": n, "columns": d, "k": k, "iterations": len(seconds) + 1, "inertia_last": inertia}, timing
    if case == "kmeans":
        model = KMeans(n_clusters=args.k, init="k-means++", n_init=args.n_init, tol=1e-4, max_iter=300,
                       random_state=args.seed, algorithm="lloyd")
        fitted, timing = timed(lambda: model.fit(x))
        return {"rows": n, "k": args.k, "inertia": float(fitted.inertia_), "n_iter": int(fitted.n_iter_)}, timing
    if case in ("kmeans-start", "kmeans-start-lloyd"):
        # One run from Strata's starting centres (rows i * n / k), the same tolerance and cap.
        start = np.ascontiguousarray(x[[c * n // args.k for c in range(args.k)]])
        model = KMeans(n_clusters=args.k, init=start, n_init=1, tol=1e-4, max_iter=300, algorithm="lloyd")
        fitted, timing = timed(lambda: model.fit(x))
        return {"rows": n, "k": args.k, "inertia": float(fitted.inertia_), "n_iter": int(fitted.n_iter_)}, timing
    if case == "minibatch":
        model = MiniBatchKMeans(n_clusters=args.k, init="k-means++", n_init=args.n_init, batch_size=1024,
                                max_iter=100, max_no_improvement=10, tol=0.0, random_state=args.seed)
        fitted, timing = timed(lambda: model.fit(x))
        return {"rows": n, "k": args.k, "inertia": float(fitted.inertia_), "n_iter": int(fitted.n_steps_)}, timing
    if case == "gmm":
        from sklearn.mixture import GaussianMixture

        model = GaussianMixture(n_components=args.k, covariance_type="full", tol=1e-3, reg_covar=1e-6,
                                max_iter=100, n_init=args.n_init, init_params="kmeans", random_state=args.seed)
        fitted, timing = timed(lambda: model.fit(x))
        return {"rows": n, "k": args.k, "mean_log_likelihood": float(fitted.score(x)), "bic": float(fitted.bic(x)),
                "n_iter": int(fitted.n_iter_), "converged": bool(fitted.converged_)}, timing
    if case == "dbscan":
        from sklearn.cluster import DBSCAN

        model = DBSCAN(eps=args.eps, min_samples=5)
        fitted, timing = timed(lambda: model.fit(x))
        labels = fitted.labels_
        counts = sorted(np.bincount(labels[labels >= 0]).tolist(), reverse=True) if (labels >= 0).any() else []
        return {"rows": n, "eps": args.eps, "clusters": len(counts), "noise": int((labels < 0).sum()),
                "core": int(len(fitted.core_sample_indices_)), "largest": counts[:5]}, timing
    if case == "optics":
        from sklearn.cluster import OPTICS

        model = OPTICS(min_samples=5, min_cluster_size=5)
        fitted, timing = timed(lambda: model.fit(x))
        labels = fitted.labels_
        first_seen = {}
        canonical = [str(first_seen.setdefault(int(l), len(first_seen))) if l >= 0 else "-1" for l in labels]
        return {"rows": n, "clusters": int(labels.max() + 1), "noise": int((labels < 0).sum()),
                "ordering_hash": f"{fnv1a(','.join(map(str, fitted.ordering_.tolist())).encode()):016x}",
                "labels_hash": f"{fnv1a(','.join(canonical).encode()):016x}"}, timing
    if case == "kprototypes":
        from kmodes.kprototypes import KPrototypes

        web = x[:, 7] > 0.0
        mixed = np.empty((n, 8), dtype=object)
        mixed[:, :7] = x[:, :7]
        mixed[:, 7] = np.where(web, "web", "store")
        model = KPrototypes(n_clusters=args.k, gamma=0.5, n_init=args.n_init, max_iter=100, init="Cao",
                            random_state=args.seed, n_jobs=1)
        fitted, timing = timed(lambda: model.fit(mixed, categorical=[7]))
        return {"rows": n, "k": args.k, "cost": float(fitted.cost_), "n_iter": int(fitted.n_iter_)}, timing
    if case == "som":
        from minisom import MiniSom

        som = MiniSom(10, 10, d, sigma=5.0, learning_rate=0.5, random_seed=args.seed)
        som.random_weights_init(x)
        _, timing = timed(lambda: som.train(x, args.iterations * n, random_order=False))
        return {"rows": n, "epochs": args.iterations, "quantization_error": float(som.quantization_error(x))}, timing
    if case == "ward":
        from scipy.cluster.hierarchy import fcluster, linkage

        z, timing = timed(lambda: linkage(x, method="ward"))
        labels = fcluster(z, t=args.k, criterion="maxclust")
        sizes = sorted(np.bincount(labels)[1:].tolist(), reverse=True)
        return {"rows": n, "merges": len(z), "top_heights": [float(h) for h in z[::-1, 2][:10]],
                "sizes_at_k": sizes}, timing
    if case == "sweep":
        lo, hi = args.k_range

        def op():
            runs = []
            for k in range(lo, hi + 1):
                model = KMeans(n_clusters=k, init="k-means++", n_init=args.n_init, tol=1e-4, max_iter=300,
                               random_state=args.seed, algorithm="lloyd").fit(x)
                labels = model.labels_
                sample = args.silhouette_rows if n > args.silhouette_rows else None
                runs.append({
                    "k": k,
                    "inertia": float(model.inertia_),
                    "silhouette": float(silhouette_score(x, labels, sample_size=sample, random_state=args.seed)),
                    "calinski_harabasz": float(calinski_harabasz_score(x, labels)),
                    "davies_bouldin": float(davies_bouldin_score(x, labels)),
                    "n_iter": int(model.n_iter_),
                })
            return runs

        runs, timing = timed(op)
        return {"rows": n, "runs": runs}, timing
    if case == "silhouette":
        exact = n <= args.silhouette_rows
        sample = None if exact else args.silhouette_rows
        value, timing = timed(lambda: silhouette_score(x, segment, sample_size=sample, random_state=args.seed))
        result = {"rows": n, "silhouette": float(value), "exact": exact, "sample_size": n if exact else sample,
                  "calinski_harabasz": float(calinski_harabasz_score(x, segment)),
                  "davies_bouldin": float(davies_bouldin_score(x, segment))}
        return result, timing
    raise SystemExit(f"{case} has no peer sklearn")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case")
    parser.add_argument("--tool", required=True, choices=["pandas", "polars", "sklearn", "scipy", "kmodes", "minisom"])
    parser.add_argument("--input", required=True)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--k-range", default="2..12")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int)
    parser.add_argument("--silhouette-rows", type=int, default=50_000)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--n-init", type=int, default=1)
    parser.add_argument("--eps", type=float, default=0.5)
    args = parser.parse_args()
    lo, hi = args.k_range.split("..")
    args.k_range = (int(lo), int(hi))
    if args.case in ("load-csv", "load-parquet"):
        result, timing = load(args.case, args.tool, args.input)
    elif args.case == "rfm":
        result, timing = rfm(args.tool, args.input)
    elif args.case == "rfm-rules" and args.tool == "pandas":
        result, timing = rfm_rules_case(args)
    elif args.case == "hybrid" and args.tool == "sklearn":
        result, timing = hybrid_case(args)
    elif args.tool in ("sklearn", "scipy", "kmodes", "minisom"):
        # scipy's linkage is reached through the same matrix loading as scikit-learn's cases.
        result, timing = sklearn_case(args.case, args)
    else:
        raise SystemExit(f"{args.case} has no peer {args.tool}")
    import threadpoolctl

    report = {"case": args.case, "tool": args.tool, "input": args.input, "result": result,
              "threads": os.cpu_count(), "threadpools": [
                  {"api": p["internal_api"], "threads": p["num_threads"]} for p in threadpoolctl.threadpool_info()
              ]}
    report.update(timing)
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
