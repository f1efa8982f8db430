//! `strata export-sql` run in real engines: SQLite (Python's sqlite3) and DuckDB (its Python
//! package) score every customer as `strata score` does, or the test names those that differ; the
//! other dialects are parsed by an independent SQL parser (sqlglot).
//!
//! The Python with duckdb and sqlglot is `$STRATA_SQL_PYTHON` (.ci/run makes one); without it only
//! SQLite runs, and the test says what it left out. With `STRATA_REQUIRE_SQL_ENGINES=1` (CI) a
//! missing engine fails the test.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

#[path = "common/scoring.rs"]
mod common;
use common::*;

fn python() -> String {
    std::env::var("STRATA_SQL_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn has_module(module: &str) -> bool {
    Command::new(python()).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success())
}

fn require() -> bool {
    std::env::var("STRATA_REQUIRE_SQL_ENGINES").is_ok_and(|v| v == "1")
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scoring/run_sql.py")
}

/// Each customer's segment name as `engine` scores them with the statement in `sql`.
fn run(engine: &str, d: &Path, sql: &str) -> HashMap<String, String> {
    let o = Command::new(python()).arg(script()).args([engine, "new.csv", sql]).current_dir(d).output().unwrap();
    assert!(o.status.success(), "{engine}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_exported_sql_scores_every_customer_as_strata_does_in_sqlite_and_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = fit_mixed(d, 900, 4, true);
    add_rules(d, &[NEWEST_HEAVY, BIG_ON_THE_PHONE], &[]);
    write_new_customers(d, &csv, 400);
    ok(&strata(&["score", "p.strata", "--data", "new.csv", "--out", "scores.csv"], d));
    let expected = by_id(&d.join("scores.csv"), "segment_name");
    assert_eq!(expected.len(), 410);
    assert_eq!(expected["n9"], "Fallback");
    assert!(expected.values().any(|s| s == "Newest heavy"));
    let mut engines = vec!["sqlite"];
    if has_module("duckdb") {
        engines.push("duckdb");
    } else {
        assert!(!require(), "STRATA_REQUIRE_SQL_ENGINES=1 but {} has no duckdb", python());
        println!("DuckDB left out: {} has no duckdb module (set STRATA_SQL_PYTHON)", python());
    }
    for engine in engines {
        let sql = format!("{engine}.sql");
        ok(&strata(&["export-sql", "p.strata", "--dialect", engine, "--out", &sql], d));
        let got = run(engine, d, &sql);
        let mut differ: Vec<String> = expected
            .iter()
            .filter(|(id, s)| got.get(*id) != Some(s))
            .map(|(id, s)| format!("{id}: {s} by strata score, {:?} by {engine}", got.get(id)))
            .collect();
        differ.sort();
        assert!(differ.is_empty(), "{engine}: {} of {} differ: {:?}", differ.len(), expected.len(), differ);
    }
    // The other dialects: written, and parsed by sqlglot.
    if !has_module("sqlglot") {
        assert!(!require(), "STRATA_REQUIRE_SQL_ENGINES=1 but {} has no sqlglot", python());
        println!("the other dialects were not parsed: {} has no sqlglot", python());
        return;
    }
    for (dialect, sqlglot) in
        [("postgres", "postgres"), ("bigquery", "bigquery"), ("snowflake", "snowflake"), ("spark", "spark")]
    {
        let sql = format!("{dialect}.sql");
        ok(&strata(&["export-sql", "p.strata", "--dialect", dialect, "--table", "crm.customers", "--out", &sql], d));
        let o = Command::new(python()).arg(script()).args(["parse", sqlglot, &sql]).current_dir(d).output().unwrap();
        assert!(o.status.success(), "{dialect}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let o = strata(&["export-sql", "p.strata", "--dialect", "oracle"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("duckdb, postgres"), "{err}");
}
