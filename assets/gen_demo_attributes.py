"""SYNTHETIC attributes for the demo customers: not CDNOW data.

CDNOW's log holds no personal attributes, so the demo project has nothing to run a bias audit on.
This script invents two per customer, at random with a fixed seed, so the audit has something to
show: `age_group` (18-24, 25-34, 35-49, 50-64, 65+, and about 1.5% left blank, to show how missing
values form their own group) and `region` (North, South, East, West).

They describe no real person. `region` is drawn independently of everything, so the audit should
find nothing there. `age_group` leans mildly on how often the customer bought (more purchases: a
little older), so segments built on frequency and spend differ somewhat by age group: the kind of
indirect path the audit's proxy check and four-fifths rule are meant to catch.

Reads assets/CDNOW_master.txt (whitespace-separated: customer_id, date YYYYMMDD, n_cds,
dollar_value; one header line) and writes assets/cdnow-synthetic-attributes.csv (customer_id as
written, with its leading zeros). Uses only the standard library, so the output depends on nothing
but this file and the seed. Regenerate only on purpose (the demo project stores its fingerprint):

    python3 assets/gen_demo_attributes.py
"""
import math
import random
from collections import Counter
from pathlib import Path

SEED = 20260520
HERE = Path(__file__).resolve().parent

AGE_GROUPS = ["18-24", "25-34", "35-49", "50-64", "65+"]
# Shares at one purchase.
AGE_BASE = [0.17, 0.27, 0.29, 0.18, 0.09]
# How each group's weight moves with more purchases (log scale, per unit of tilt below).
AGE_TILT = [-0.45, -0.2, 0.1, 0.3, 0.2]
MISSING_AGE = 0.015

REGIONS = ["North", "South", "East", "West"]
REGION_SHARES = [0.28, 0.26, 0.21, 0.25]


def pick(rng, labels, weights):
    """One label drawn with the given weights (by hand, so no library's sampling can change it)."""
    total = sum(weights)
    u = rng.random() * total
    acc = 0.0
    for label, w in zip(labels, weights):
        acc += w
        if u < acc:
            return label
    return labels[-1]


def main():
    purchases = Counter()
    with open(HERE / "CDNOW_master.txt", encoding="ascii") as f:
        next(f)  # header
        for line in f:
            parts = line.split()
            if parts:
                purchases[parts[0]] += 1
    rng = random.Random(SEED)
    rows = []
    for customer in sorted(purchases):
        n = purchases[customer]
        # 0 at one purchase, rising slowly and leveling off (a mild lean, not a rule).
        tilt = min(math.log(n), math.log(12.0))
        weights = [b * math.exp(t * tilt) for b, t in zip(AGE_BASE, AGE_TILT)]
        age = "" if rng.random() < MISSING_AGE else pick(rng, AGE_GROUPS, weights)
        region = pick(rng, REGIONS, REGION_SHARES)
        rows.append((customer, age, region))
    out = HERE / "cdnow-synthetic-attributes.csv"
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write("customer_id,age_group,region\n")
        for customer, age, region in rows:
            f.write(f"{customer},{age},{region}\n")
    print(f"wrote {len(rows)} customers to {out}")


if __name__ == "__main__":
    main()
