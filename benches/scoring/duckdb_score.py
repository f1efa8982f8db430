"""Runs Strata's exported DuckDB statement over a Parquet file and writes the scores as Parquet,
for benches/scoring/run. Prints JSON {"seconds": wall time of the query and the write, "rows": n}.

    duckdb_score.py statement.sql customers.parquet scores.parquet [threads]
"""
import json
import sys
import time

import duckdb

sql, customers, out = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
if len(sys.argv) > 4:
    con.execute(f"SET threads = {int(sys.argv[4])}")
statement = open(sql).read()
started = time.perf_counter()
con.execute(f"CREATE VIEW customers AS SELECT * FROM read_parquet('{customers}')")
con.execute(f"COPY ({statement}) TO '{out}' (FORMAT parquet)")
seconds = time.perf_counter() - started
rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
print(json.dumps({"seconds": seconds, "rows": rows}))
