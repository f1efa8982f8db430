#!/usr/bin/env python3
"""Strata's CSV load beside polars', in alternating pairs of fresh processes.

    benches/pair_load.py STRATA_BIN FILE [PAIRS]

Each pair runs `strata bench case load-csv` and `peers.py load-csv --tool polars` on FILE (each
timed in its own process, as benches/run times them) and prints the medians, the ratio of the
medians (polars / Strata: above 1, Strata is faster), the median of the pairs' ratios and every
pair's ratio. On a machine whose
neighbours come and go, pairs taken side by side are what can be compared. The peers' environment
is the one benches/run installs.
"""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.path.join(os.environ.get("STRATA_BENCH_CACHE", os.path.expanduser("~/.cache/strata-bench")),
                      "venv", "bin", "python")


def seconds(command):
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["seconds"]


def main():
    strata, path = sys.argv[1], sys.argv[2]
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    ours, theirs = [], []
    for _ in range(pairs):
        ours.append(seconds([strata, "bench", "case", "load-csv", "--input", path]))
        theirs.append(seconds([PYTHON, os.path.join(HERE, "peers.py"), "load-csv", "--tool", "polars", "--input", path]))
    a, b = statistics.median(ours), statistics.median(theirs)
    ratios = [p / s for s, p in zip(ours, theirs)]
    print(f"{os.path.basename(path)}: Strata {a * 1000:.0f} ms, polars {b * 1000:.0f} ms, ratio {b / a:.2f}, "
          f"median pair {statistics.median(ratios):.2f}; pairs " + ", ".join(f"{r:.2f}" for r in ratios))


if __name__ == "__main__":
    main()
