//! Derived columns end to end: a derived amount on real hotel bookings gives the per-customer totals
//! pandas gives; derived columns and lookups are stored in the project and applied again on `run`
//! and `predict`; a hostile project's expressions and lookup paths are refused.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata::engine::data::{ReadOptions, read_table};

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/hotel_bookings").join(name)
}

const AMOUNT: &str = "amount = adr * (stays_in_weekend_nights + stays_in_week_nights)";
const ARRIVAL: &str = "arrival = date(concat(arrival_date_year, '-', arrival_date_month, '-', \
                       arrival_date_day_of_month), '%Y-%B-%d')";

/// Column `name` of a CSV table as text per row.
fn texts(frame: &polars::prelude::DataFrame, name: &str) -> Vec<String> {
    let column = frame.column(name).unwrap().cast(&polars::prelude::DataType::String).unwrap();
    column.str().unwrap().iter().map(|v| v.unwrap().to_string()).collect()
}

fn numbers(frame: &polars::prelude::DataFrame, name: &str) -> Vec<f64> {
    let column = frame.column(name).unwrap().cast(&polars::prelude::DataType::Float64).unwrap();
    column.f64().unwrap().iter().map(|v| v.unwrap()).collect()
}

#[test]
fn a_derived_amount_on_real_bookings_gives_the_totals_pandas_gives() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("agents.csv");
    let o = strata(
        &[
            "rfm",
            "--transactions",
            fixture("hotel_bookings_sample.csv").to_str().unwrap(),
            "--customer-id",
            "agent",
            "--date",
            "arrival",
            "--amount",
            "amount",
            "--derive",
            ARRIVAL,
            "--derive",
            AMOUNT,
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ours = read_table(&out, &ReadOptions::default()).unwrap().frame;
    let expected = read_table(&fixture("expected_agent_totals.csv"), &ReadOptions::default()).unwrap().frame;
    assert_eq!(ours.height(), expected.height(), "one row per agent");
    let by_agent: HashMap<String, (f64, f64)> = texts(&ours, "agent")
        .into_iter()
        .zip(numbers(&ours, "frequency").into_iter().zip(numbers(&ours, "monetary_total")))
        .collect();
    for ((agent, frequency), total) in texts(&expected, "agent")
        .into_iter()
        .zip(numbers(&expected, "frequency"))
        .zip(numbers(&expected, "monetary_total"))
    {
        let (f, t) = by_agent[&agent];
        assert_eq!(f, frequency, "agent {agent}");
        assert!((t - total).abs() <= 1e-9 * total.abs().max(1.0), "agent {agent}: {t} against pandas' {total}");
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Customers with a spend in several currencies, and the rates to one currency.
fn shop(dir: &Path) {
    let mut csv = String::from("id,currency,spend,visits\n");
    for i in 0..60 {
        let (currency, spend) = if i % 3 == 0 { ("USD", 10.0 + i as f64) } else { ("EUR", 200.0 + 3.0 * i as f64) };
        csv.push_str(&format!("c{i:03},{currency},{spend},{}\n", 1 + i % 5));
    }
    write(dir, "customers.csv", &csv);
    write(dir, "rates.csv", "currency,rate_to_eur\nEUR,1\nUSD,0.9\n");
}

#[test]
fn derived_columns_and_lookups_are_stored_and_applied_again_on_run_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    shop(d);
    let o = strata(
        &[
            "fit",
            "--data",
            "customers.csv",
            "--id",
            "id",
            "--lookup",
            "rates.csv",
            "--lookup-on",
            "currency",
            "--derive",
            "spend_eur = spend * rate_to_eur",
            "--derive",
            "per_visit = spend_eur / visits",
            "--features",
            "spend_eur,per_visit",
            "--k",
            "2",
            "--out",
            "segments.csv",
            "--project",
            "shop.strata",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("lookup 'rates.csv' on currency: 60 of 60 rows matched (100.0%)"), "{}", stderr(&o));
    let project = std::fs::read_to_string(d.join("shop.strata")).unwrap();
    assert!(project.contains("spend * rate_to_eur") && project.contains("path: \"rates.csv\""), "{project}");

    // Re-run from elsewhere: the same derived columns, the same segments.
    let elsewhere = tempfile::tempdir().unwrap();
    let o = strata(&["run", d.join("shop.strata").to_str().unwrap(), "--verify"], elsewhere.path());
    assert!(o.status.success(), "{}", stderr(&o));

    // New customers get the derived columns the project defines (their file has no spend_eur).
    write(elsewhere.path(), "new.csv", "id,currency,spend,visits\nn1,USD,12,1\nn2,EUR,380,4\n");
    let o = strata(
        &["predict", d.join("shop.strata").to_str().unwrap(), "--data", "new.csv", "--out", "new-seg.csv"],
        elsewhere.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let assigned = read_table(&elsewhere.path().join("new-seg.csv"), &ReadOptions::default()).unwrap().frame;
    assert_eq!(assigned.height(), 2);
    assert_eq!(assigned.column("segment").unwrap().null_count(), 0);

    // The lookup table is fingerprinted with the data: changing a rate is reported, never used silently.
    assert!(project.contains("fingerprint: Some("), "{project}");
    write(d, "rates.csv", "currency,rate_to_eur\nEUR,1\nUSD,0.95\n");
    let o = strata(&["run", d.join("shop.strata").to_str().unwrap()], elsewhere.path());
    assert!(!o.status.success(), "a changed lookup table must not be used silently");
    assert!(stderr(&o).contains("rates.csv") && stderr(&o).contains("changed"), "{}", stderr(&o));
    write(d, "rates.csv", "currency,rate_to_eur\nEUR,1\nUSD,0.9\n");

    // A lookup outside the project's folder is refused when the project is written.
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "rates.csv", "currency,rate_to_eur\nEUR,1\nUSD,0.9\n");
    let far = outside.path().join("rates.csv");
    let o = strata(
        &[
            "fit",
            "--data",
            "customers.csv",
            "--lookup",
            far.to_str().unwrap(),
            "--lookup-on",
            "currency",
            "--derive",
            "spend_eur = spend * rate_to_eur",
            "--features",
            "spend_eur",
            "--k",
            "2",
            "--project",
            "far.strata",
        ],
        d,
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("outside the project's folder"), "{}", stderr(&o));
}

#[test]
fn command_line_errors_name_the_expression_the_position_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    shop(d);
    let run = |derive: &str| {
        strata(&["fit", "--data", "customers.csv", "--derive", derive, "--features", "spend", "--k", "2"], d)
    };
    let o = run("x = spend * visit");
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("derived column 'x' = 'spend * visit': column 'visit' (at line 1, column 9) is not in the data"),
        "{err}"
    );
    let o = run("spend = spend * 2");
    assert!(stderr(&o).contains("already a column of the data"), "{}", stderr(&o));
    let o = run("x = (SELECT spend FROM read_csv('customers.csv'))");
    assert!(stderr(&o).contains("subquery"), "{}", stderr(&o));
    let o = run("x = sum(spend)");
    assert!(stderr(&o).contains("aggregate"), "{}", stderr(&o));
    // quality and compare read data too, and take --derive.
    let o = strata(&["quality", "--data", "customers.csv", "--derive", "big = spend > 100", "--json"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"big\""));
}

#[test]
fn a_hostile_project_cannot_read_files_through_a_derived_column_or_a_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    shop(d);
    let o = strata(
        &[
            "fit",
            "--data",
            "customers.csv",
            "--id",
            "id",
            "--derive",
            "x = spend * 2",
            "--features",
            "x",
            "--k",
            "2",
            "--project",
            "p.strata",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(d.join("p.strata")).unwrap();
    assert!(text.contains("expression: \"spend * 2\""), "{text}");
    for (hostile, expected) in [
        ("expression: \"(SELECT * FROM read_csv('/etc/passwd'))\"", "subquery"),
        ("expression: \"read_csv('/etc/passwd')\"", "reads a file"),
        ("expression: \"spend; COPY t TO 'x'\"", "';'"),
        ("expression: \"sum(spend)\"", "aggregate"),
    ] {
        let path = write(d, "hostile.strata", &text.replace("expression: \"spend * 2\"", hostile));
        let o = strata(&["run", path.to_str().unwrap()], d);
        assert!(!o.status.success(), "{hostile}");
        assert!(stderr(&o).contains("spec.derived") && stderr(&o).contains(expected), "{hostile}: {}", stderr(&o));
    }
    let with_lookup = text.replace("derived: (", "derived: (lookups: [(path: \"../../etc/passwd\", on: [\"id\"])], ");
    assert_ne!(with_lookup, text, "the project writes a derived section: {text}");
    let path = write(d, "hostile.strata", &with_lookup);
    let o = strata(&["run", path.to_str().unwrap()], d);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("leads outside the project's folder"), "{}", stderr(&o));
}
