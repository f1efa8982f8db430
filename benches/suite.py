#!/usr/bin/env python3
"""Runs Strata's benchmark cases beside their Python peers on the same generated files: each case in
a fresh process, Strata and each peer alternating, several times; prints medians, ratios, peak
memory and whether the answers agree. Started by benches/run, which makes the environment."""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SIZES = {
    # name: (customer tables, transaction logs, silhouette rows (exact), sampled silhouette rows,
    #        the sweep's silhouette sample, repeats)
    "full": ((100_000, 1_000_000), (1_000_000, 10_000_000), (20_000, 50_000), 50_000, 10_000, 3),
    "tiny": ((3_000, 20_000), (20_000, 100_000), (1_000, 2_000), 1_500, 1_000, 1),
}


def plan(size):
    customers, logs, exact_rows, sampled_rows, sweep_rows, _ = SIZES[size]
    ward_rows = 20_000 if size == "full" else 1_000
    optics_rows = 10_000 if size == "full" else 1_000
    small, large = customers
    log_small, log_large = logs
    c = lambda n, ext: f"customers_{n}_s42.{ext}"
    t = lambda n, ext: f"transactions_{n}_s42.{ext}"
    io = ["pandas", "polars"]
    ml = ["sklearn"]
    cases = [
        ("load-csv", c(large, "csv"), {}, io),
        ("load-parquet", c(large, "parquet"), {}, io),
        ("load-csv", t(log_large, "csv"), {}, io),
        # The same log with a time of day on every purchase (2017-08-31 14:22:07), as shops export it.
        ("load-csv", f"transactions_datetime_{log_large}_s42.csv", {}, io),
        ("load-parquet", t(log_large, "parquet"), {}, io),
        ("rfm", t(log_small, "parquet"), {}, io),
        ("rfm", t(log_large, "parquet"), {}, io),
        ("lloyd", c(large, "parquet"), {"k": 8, "iterations": 10}, ml),
        ("kmeans", c(small, "parquet"), {"k": 8}, ml),
        ("kmeans", c(large, "parquet"), {"k": 8}, ml),
        # One run each from the same starting centres: the kernels against scikit-learn's Lloyd.
        ("kmeans-start", c(large, "parquet"), {"k": 8}, ml),
        ("kmeans-start-lloyd", c(large, "parquet"), {"k": 8}, ml),
        # scikit-learn's MiniBatchKMeans settings on both sides: batches of 1,024, 3 starts, early stop.
        ("minibatch", c(large, "parquet"), {"k": 8, "n-init": 3}, ml),
        # scikit-learn's GaussianMixture defaults on both sides: full covariance, one k-means start,
        # tolerance 1e-3, at most 100 EM iterations.
        ("gmm", c(small, "parquet"), {"k": 8}, ml),
        # scikit-learn's default radius on both sides (Strata's own default reads it from the
        # k-distance curve).
        ("dbscan", c(small, "parquet"), {"eps": 0.5}, ml),
        # scikit-learn's OPTICS defaults on both sides (any radius, xi 0.05, groups of 5 or more), on
        # the first rows: scikit-learn's OPTICS scans every customer at every step.
        ("optics", c(small, "parquet"), {"rows": optics_rows}, ml),
        # Rules have no library peer: the peer is the same scores and rules written in pandas, as an
        # analyst's notebook has them (rank with ties together, numpy.select over the rules in order).
        ("rfm-rules", c(large, "parquet"), {}, ["pandas"]),
        # The hybrid beside pandas scores and tiers with scikit-learn's KMeans inside each tier.
        ("hybrid", c(small, "parquet"), {"k": 3}, ml),
        # One start each, gamma 0.5, on 20,000 rows (kmodes is pure Python and NumPy).
        ("kprototypes", c(small, "parquet"), {"k": 8, "rows": ward_rows}, ["kmodes"]),
        # Ten epochs over 20,000 rows on a 10 x 10 map (MiniSom updates one customer at a time).
        ("som", c(small, "parquet"), {"k": 8, "rows": ward_rows, "iterations": 10}, ["minisom"]),
        # The whole tree, exact, on the first rows (O(n²) memory: 1.6 GB at 20,000).
        ("ward", c(small, "parquet"), {"k": 8, "rows": ward_rows}, ["scipy"]),
        # Three initialisations per k, so that the inertia comparison is not one seed's luck.
        ("sweep", c(large, "parquet"), {"k-range": "2..12", "n-init": 3, "silhouette-rows": sweep_rows}, ml),
    ]
    for rows in exact_rows:
        cases.append(("silhouette", c(small, "parquet"), {"rows": rows, "silhouette-rows": rows}, ml))
    cases.append(("silhouette", c(large, "parquet"), {"silhouette-rows": sampled_rows}, ml))
    return cases


def run_json(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def options_args(options, seed):
    out = ["--seed", str(seed)]
    for key, value in options.items():
        out += [f"--{key}", str(value)]
    return out


def relative_gap(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def check(case, ours, theirs):
    """Whether two reports computed the same thing, in words."""
    a, b = ours["result"], theirs["result"]
    if case.startswith("load"):
        return "same rows" if a["rows"] == b["rows"] and a["columns"] == b["columns"] else f"rows {a} vs {b}"
    if case == "rfm":
        same = a["customers"] == b["customers"] and a["frequency_sum"] == b["frequency_sum"] and \
            relative_gap(a["monetary_total_sum"], b["monetary_total_sum"]) < 1e-9 and \
            a["recency_days_sum"] == b["recency_days_sum"]
        return "same totals" if same else f"differ: {a} vs {b}"
    if case == "lloyd":
        gap = relative_gap(a["inertia_last"], b["inertia_last"])
        return f"inertia equal to {gap:.0e}"
    if case == "silhouette":
        kind = "exact" if a["exact"] else f"sampled {a['sample_size']}"
        return f"{kind}: {a['silhouette']:.4f} vs {b['silhouette']:.4f}"
    return ""


def sweep_inertia(reports):
    """Median inertia per k over the repeats (each repeat has its own seed)."""
    per_k = {}
    for r in reports:
        for run in r["result"]["runs"]:
            per_k.setdefault(run["k"], []).append(run["inertia"])
    return {k: statistics.median(v) for k, v in per_k.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strata", required=True, help="the strata binary")
    parser.add_argument("--data", required=True, help="folder for the generated data")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--repeats", type=int, help="runs of each tool per case (default by size)")
    parser.add_argument("--only", help="comma-separated case names to run")
    parser.add_argument("--json", help="write every report to this file")
    parser.add_argument("--markdown", help="write the table to this file")
    args = parser.parse_args()
    customers, logs, _, _, _, default_repeats = SIZES[args.size]
    repeats = args.repeats or default_repeats

    started = time.time()
    subprocess.run([args.strata, "bench", "gen", "--out", args.data, "--seed", "42",
                    "--customers", ",".join(map(str, customers)),
                    "--transactions", ",".join(map(str, logs)),
                    "--datetime-transactions", str(logs[-1])], check=True)
    print(f"data ready in {args.data} ({time.time() - started:.0f} s)", file=sys.stderr)

    only = set(args.only.split(",")) if args.only else None
    rows = []
    everything = []
    for case, file, options, peers in plan(args.size):
        if only and case not in only:
            continue
        path = os.path.join(args.data, file)
        ours, theirs = [], {p: [] for p in peers}
        for rep in range(repeats):
            # Cases that depend on the seed use one seed per repeat, the same for every tool.
            seed = rep
            ours.append(run_json([args.strata, "bench", "case", case, "--input", path]
                                 + options_args(options, seed)))
            for peer in peers:
                theirs[peer].append(run_json([sys.executable, os.path.join(HERE, "peers.py"), case,
                                              "--tool", peer, "--input", path] + options_args(options, seed)))
        everything.append({"case": case, "file": file, "options": options, "strata": ours, "peers": theirs})
        strata_s = statistics.median(r["seconds"] for r in ours)
        strata_mb = statistics.median(r["peak_mb"] - r["rss_before_mb"] for r in ours)
        for peer, reports in theirs.items():
            peer_s = statistics.median(r["seconds"] for r in reports)
            peer_mb = statistics.median(r["peak_mb"] - r["rss_before_mb"] for r in reports)
            if case == "sweep":
                a, b = sweep_inertia(ours), sweep_inertia(reports)
                gaps = sorted((100 * (a[k] / b[k] - 1), k) for k in a if k in b)
                agreement = (f"median inertia per k from {gaps[0][0]:+.2f}% (k = {gaps[0][1]}) to "
                             f"{gaps[-1][0]:+.2f}% (k = {gaps[-1][1]}) of the peer's")
            elif case in ("kmeans", "minibatch", "kmeans-start", "kmeans-start-lloyd"):
                a = statistics.median(r["result"]["inertia"] for r in ours)
                b = statistics.median(r["result"]["inertia"] for r in reports)
                iters = (statistics.median(r["result"]["n_iter"] for r in ours),
                         statistics.median(r["result"]["n_iter"] for r in reports))
                agreement = f"median inertia {100 * (a / b - 1):+.2f}% vs peer ({iters[0]:.0f} vs {iters[1]:.0f} iterations)"
            elif case == "kprototypes":
                a = statistics.median(r["result"]["cost"] for r in ours)
                b = statistics.median(r["result"]["cost"] for r in reports)
                agreement = f"median cost {100 * (a / b - 1):+.2f}% vs peer"
            elif case == "som":
                a = statistics.median(r["result"]["quantization_error"] for r in ours)
                b = statistics.median(r["result"]["quantization_error"] for r in reports)
                agreement = f"quantization error {a:.4f} vs {b:.4f} (batch SOM vs online)"
            elif case == "dbscan":
                a, b = ours[-1]["result"], reports[-1]["result"]
                agreement = (f"core {a['core']:,} vs {b['core']:,}, noise {a['noise']:,} vs {b['noise']:,}, "
                             f"{a['clusters']} vs {b['clusters']} groups")
            elif case == "rfm-rules":
                a, b = ours[-1]["result"], reports[-1]["result"]
                same = "same segment for every customer" if a["labels_hash"] == b["labels_hash"] else \
                    f"segments differ: {a['segments']} vs {b['segments']}"
                agreement = f"{same} ({len(a['segments'])} segments)"
            elif case == "hybrid":
                a, b = ours[-1]["result"], reports[-1]["result"]
                tiers = "same tiers" if a["tier_sizes"] == b["tier_sizes"] else f"tiers {a['tier_sizes']} vs {b['tier_sizes']}"
                x = statistics.median(r["result"]["inertia"] for r in ours)
                y = statistics.median(r["result"]["inertia"] for r in reports)
                agreement = f"{tiers}; median inertia {100 * (x / y - 1):+.2f}% vs peer ({a['segments']} segments)"
            elif case == "optics":
                a, b = ours[-1]["result"], reports[-1]["result"]
                order = "same order" if a["ordering_hash"] == b["ordering_hash"] else "orders differ"
                groups = "same groups" if a["labels_hash"] == b["labels_hash"] else "groups differ"
                agreement = (f"{order}, {groups}: {a['clusters']} vs {b['clusters']} groups, noise "
                             f"{a['noise']:,} vs {b['noise']:,}")
            elif case == "ward":
                a, b = ours[-1]["result"], reports[-1]["result"]
                gap = max(relative_gap(x, y) for x, y in zip(a["top_heights"], b["top_heights"]))
                same = "same" if a["sizes_at_k"] == b["sizes_at_k"] else f"{a['sizes_at_k']} vs {b['sizes_at_k']}"
                agreement = f"top 10 merge heights equal to {gap:.0e}; {same} segment sizes at k = 8"
            elif case == "gmm":
                a = statistics.median(r["result"]["mean_log_likelihood"] for r in ours)
                b = statistics.median(r["result"]["mean_log_likelihood"] for r in reports)
                iters = (statistics.median(r["result"]["n_iter"] for r in ours),
                         statistics.median(r["result"]["n_iter"] for r in reports))
                agreement = (f"mean log-likelihood {a:.4f} vs {b:.4f} ({iters[0]:.0f} vs {iters[1]:.0f} "
                             f"EM iterations)")
            else:
                agreement = check(case, ours[-1], reports[-1])
            shown = file + (f" (first {options['rows']:,} rows)" if "rows" in options else "")
            if case == "silhouette" and "rows" not in options:
                shown += f" (sample of {options['silhouette-rows']:,})"
            if case == "sweep":
                shown += f" (k {options['k-range']}, n_init {options['n-init']}, silhouette on {options['silhouette-rows']:,})"
            row = {"case": case, "file": shown, "peer": peer, "strata_s": strata_s, "peer_s": peer_s,
                   "ratio": peer_s / strata_s if strata_s > 0 else float("inf"),
                   "strata_mb": strata_mb, "peer_mb": peer_mb, "agreement": agreement}
            rows.append(row)
            print(f"{case:13} {shown:34} {peer:8} strata {strata_s:9.4f} s  {peer} {peer_s:9.4f} s  "
                  f"{row['ratio']:6.1f}x  mem {strata_mb:7.1f} / {peer_mb:7.1f} MB  {agreement}",
                  file=sys.stderr, flush=True)

    frame_lines = frame_section(args, customers[-1], 30 if args.size == "full" else 5)

    machine = describe_machine(ours_isa=everything[0]["strata"][0].get("isa") if everything else "?")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine}; median of {repeats} alternating run(s) per tool, each "
        "in a fresh process. Ratio = peer time / Strata time (above 1: Strata is faster). Memory = peak resident "
        "memory during the timed operation above what the process held before it.",
        "",
        "| case | input | peer | Strata | peer | ratio | Strata MB | peer MB | answers |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['file']} | {r['peer']} | {fmt_s(r['strata_s'])} | {fmt_s(r['peer_s'])} | "
                     f"{r['ratio']:.1f}x | {r['strata_mb']:.0f} | {r['peer_mb']:.0f} | {r['agreement']} |")
    table = "\n".join(lines + frame_lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "repeats": repeats, "rows": rows, "reports": everything}, f, indent=1)
    print(f"suite finished in {time.time() - started:.0f} s", file=sys.stderr)


# The features of the generated customer tables, as peers.py names them.
from peers import CUSTOMER_FEATURES  # noqa: E402  (peers.py sits beside this file)

FEATURES = ",".join(CUSTOMER_FEATURES)


def frame_section(args, rows, frames):
    """The CPU time of one frame of each screen with the large customer table loaded (no peer)."""
    if subprocess.run([args.strata, "bench", "frame", "--help"], capture_output=True).returncode != 0:
        print("frame: this strata has no window (built without the gui feature); skipped", file=sys.stderr)
        return []
    path = os.path.join(args.data, f"customers_{rows}_s42.parquet")
    report = run_json([args.strata, "bench", "frame", "--input", path, "--features", FEATURES,
                       "--k", "8", "--k-range", "2..8", "--frames", str(frames)])
    lines = ["", f"Window frames with {report['customers']:,} customers loaded (k = {report['k']}, "
             f"{report['features']} features, window {report['window'][0]:.0f} x {report['window'][1]:.0f}): "
             "CPU time of one frame (layout and tessellation, before the GPU), "
             f"{report['screens'][0]['frames']} frames per screen after 3 unmeasured ones.", "",
             "| screen | median | 90th percentile | max |", "|---|---:|---:|---:|"]
    for s in report["screens"]:
        lines.append(f"| {s['screen']} | {s['cpu_ms_median']:.2f} ms | {s['cpu_ms_p90']:.2f} ms | {s['cpu_ms_max']:.2f} ms |")
        print(f"frame {s['screen']:10} {s['cpu_ms_median']:7.2f} ms median, {s['cpu_ms_max']:7.2f} ms max",
              file=sys.stderr, flush=True)
    return lines


def fmt_s(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def describe_machine(ours_isa):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import importlib.metadata as md

    versions = ", ".join(f"{p} {md.version(p)}" for p in ("scikit-learn", "pandas", "polars", "numpy"))
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()} ({versions}), Strata kernels: {ours_isa}"


if __name__ == "__main__":
    main()
