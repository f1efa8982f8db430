"""Checks that two score files give every customer the same segment, for benches/scoring/run.

    compare.py strata_scores.parquet duckdb_scores.parquet

Prints JSON {"customers": n, "differ": m, "examples": [...]}; exits 1 when any customer differs.
"""
import json
import sys

import duckdb

ours, theirs = sys.argv[1], sys.argv[2]
con = duckdb.connect()
n = con.execute(f"SELECT count(*) FROM read_parquet('{ours}')").fetchone()[0]
differ = con.execute(
    f"""SELECT a.customer_id, a.segment_name, b.segment_name
        FROM read_parquet('{ours}') a FULL JOIN read_parquet('{theirs}') b USING (customer_id)
        WHERE a.segment_name IS DISTINCT FROM b.segment_name"""
).fetchall()
print(json.dumps({"customers": n, "differ": len(differ), "examples": [list(map(str, r)) for r in differ[:10]]}))
sys.exit(1 if differ else 0)
