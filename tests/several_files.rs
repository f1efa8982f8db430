//! Data as real systems export it, part two: a log given as several files (a glob) read as one with
//! a `source_file` column, a customer table from another system joined by differently named keys
//! with the match rate shown, and behavioural features requested by a project and applied in every
//! run. Real files in a temporary folder, CSV and whitespace-aligned text alike.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use strata::engine::data::ReadOptions;
use strata::engine::pipeline::several::{SOURCE_FILE_COLUMN, matched_files};
use strata::engine::pipeline::{DataSource, SourceResolver, SourceSpec, read_source};

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Three monthly exports of one shop, written with a comma or aligned with spaces.
fn monthly_exports(dir: &Path, whitespace: bool) {
    let months = [
        ("01", vec![("c1", "2024-01-05", "100.0", "web"), ("c2", "2024-01-06", "20.0", "shop")]),
        ("02", vec![("c1", "2024-02-10", "50.0", "web"), ("c3", "2024-02-11", "30.0", "shop")]),
        ("03", vec![("c1", "2024-03-02", "-10.0", "shop"), ("c2", "2024-03-09", "40.0", "web")]),
    ];
    for (month, rows) in months {
        let mut text = if whitespace {
            "cust      day         total    channel\n".to_string()
        } else {
            "cust,day,total,channel\n".to_string()
        };
        for (c, d, a, ch) in rows {
            if whitespace {
                text.push_str(&format!("{c:<10}{d:<12}{a:<9}{ch}\n"));
            } else {
                text.push_str(&format!("{c},{d},{a},{ch}\n"));
            }
        }
        let extension = if whitespace { "txt" } else { "csv" };
        write(dir, &format!("exports/orders_2024-{month}.{extension}"), &text);
    }
    // Not matched by the monthly pattern.
    write(dir, "exports/orders_2023-12.csv", "cust,day,total,channel\nc9,2023-12-01,1.0,web\n");
}

fn pattern_source(pattern: &str) -> SourceSpec {
    SourceSpec { source: DataSource::File(pattern.into()), read_options: ReadOptions::default(), fingerprint: None }
}

#[test]
fn a_glob_reads_every_matching_file_as_one_log_in_sorted_order_with_the_source_file() {
    for whitespace in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        monthly_exports(dir.path(), whitespace);
        let pattern = if whitespace { "exports/orders_2024-*.txt" } else { "exports/orders_2024-*.csv" };
        let resolver = SourceResolver { base_dir: dir.path().to_path_buf(), allow_outside: false };
        let files = matched_files(pattern, &resolver).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        let ext = if whitespace { "txt" } else { "csv" };
        assert_eq!(
            names,
            [1, 2, 3].map(|m| format!("exports/orders_2024-0{m}.{ext}")).iter().map(String::as_str).collect::<Vec<_>>()
        );
        let table = read_source(&pattern_source(pattern), &resolver, None).unwrap();
        assert_eq!(table.frame.height(), 6);
        let source = table.frame.column(SOURCE_FILE_COLUMN).unwrap();
        assert_eq!(source.str().unwrap().get(0), Some(names[0]));
        assert_eq!(source.str().unwrap().get(5), Some(names[2]));
        assert!(table.warnings[0].contains("read 3 files as one table"), "{:?}", table.warnings);
        // Brace alternatives name files one by one.
        let two = format!("exports/orders_2024-{{01,03}}.{ext}");
        assert_eq!(read_source(&pattern_source(&two), &resolver, None).unwrap().frame.height(), 4);
    }
}

#[test]
fn files_that_disagree_on_columns_and_patterns_that_match_nothing_get_one_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/jan.csv", "cust,day,total\nc1,2024-01-01,1\n");
    write(dir.path(), "a/feb.csv", "cust,day,total,coupon\nc1,2024-02-01,1,X\n");
    write(dir.path(), "a/mar.csv", "cust,total\nc1,1\n");
    let resolver = SourceResolver { base_dir: dir.path().to_path_buf(), allow_outside: false };
    let err = read_source(&pattern_source("a/*.csv"), &resolver, None).unwrap_err().to_string();
    assert!(!err.contains('\n'), "{err}");
    // Sorted: feb is the reference; jan lacks its coupon, mar lacks day and coupon.
    assert!(err.contains("compared with 'a/feb.csv'"), "{err}");
    assert!(err.contains("'a/jan.csv' lacks 'coupon'"), "{err}");
    assert!(err.contains("'a/mar.csv' lacks 'day', 'coupon'") || err.contains("'a/mar.csv' lacks"), "{err}");
    let err = read_source(&pattern_source("b/*.csv"), &resolver, None).unwrap_err().to_string();
    assert!(err.contains("no file matches the pattern 'b/*.csv'"), "{err}");
    // The CLI says the same in one line.
    let o = strata(
        &[
            "rfm",
            "--transactions",
            "nothing-*.csv",
            "--customer-id",
            "c",
            "--date",
            "d",
            "--amount",
            "a",
            "--out",
            "x.csv",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no file matches the pattern 'nothing-*.csv'"), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn rfm_over_a_glob_equals_rfm_over_the_files_joined_by_hand_and_breaks_down_by_source_file() {
    let dir = tempfile::tempdir().unwrap();
    monthly_exports(dir.path(), false);
    let mut joined = String::from("cust,day,total,channel\n");
    for m in 1..=3 {
        let text = std::fs::read_to_string(dir.path().join(format!("exports/orders_2024-0{m}.csv"))).unwrap();
        joined.extend(text.lines().skip(1).map(|l| format!("{l}\n")));
    }
    write(dir.path(), "all.csv", &joined);
    let rfm = |input: &str, out: &str, extra: &[&str]| {
        let mut args =
            vec!["rfm", "--transactions", input, "--customer-id", "cust", "--date", "day", "--amount", "total"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--as-of", "2024-04-01", "--out", out]);
        let o = strata(&args, dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(dir.path().join(out)).unwrap()
    };
    assert_eq!(rfm("exports/orders_2024-*.csv", "glob.csv", &[]), rfm("all.csv", "one.csv", &[]));
    let by_file = rfm("exports/orders_2024-*.csv", "by_file.csv", &["--features-from", "source_file,channel"]);
    let header = by_file.lines().next().unwrap();
    assert!(header.contains("order_share_source_file_exports_orders_2024_01_csv"), "{header}");
    assert!(header.contains("distinct_channel"), "{header}");
    // c1 ordered in every month: a third of its orders in each file.
    let c1 = by_file.lines().find(|l| l.starts_with("c1,")).unwrap();
    assert!(c1.contains("0.3333333333333333"), "{c1}");
}

#[test]
fn attributes_from_another_system_join_by_named_keys_with_the_match_rate() {
    let dir = tempfile::tempdir().unwrap();
    monthly_exports(dir.path(), false);
    // The CRM calls the key CustomerID, knows c1 and c2 but not c3, and has c8 without orders.
    write(dir.path(), "crm.csv", "CustomerID,segment_crm,age\nc1,gold,40\nc2,silver,31\nc8,gold,55\n");
    let fit = |extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--transactions",
            "exports/orders_2024-*.csv",
            "--customer-id",
            "cust",
            "--date",
            "day",
            "--amount",
            "total",
            "--attributes",
            "crm.csv",
            "--features",
            "recency_days,monetary_total",
            "--k",
            "2",
        ];
        args.extend_from_slice(extra);
        strata(&args, dir.path())
    };
    let o = fit(&["--attributes-key", "CustomerID", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["join"]["matched"], 2);
    assert_eq!(json["join"]["log_only"], 1);
    assert_eq!(json["join"]["attributes_only"], 1);
    assert_eq!(json["join"]["log_only_examples"], serde_json::json!(["c3"]));
    assert_eq!(json["join"]["attributes_only_examples"], serde_json::json!(["c8"]));
    assert!(
        stderr(&o).contains("attributes joined on 'cust' = 'CustomerID': 2 of 3 customers matched (66.7%)"),
        "{}",
        stderr(&o)
    );
    // Without the key, the missing key column is named with the flag that names it.
    let o = fit(&[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no key column 'cust'") && stderr(&o).contains("--attributes-key"), "{}", stderr(&o));
    // A key repeated in the attribute table is one error naming examples.
    write(dir.path(), "crm.csv", "CustomerID,segment_crm\nc1,gold\nc1,silver\nc2,gold\n");
    let o = fit(&["--attributes-key", "CustomerID"]);
    assert!(!o.status.success());
    let line = stderr(&o);
    assert!(line.contains("repeats keys in 'CustomerID'") && line.contains("'c1' x2"), "{line}");
    assert_eq!(line.trim().lines().count(), 1, "{line}");
}

#[test]
fn behavioural_features_are_stored_in_the_project_and_applied_by_every_run() {
    let dir = tempfile::tempdir().unwrap();
    monthly_exports(dir.path(), true);
    let o = strata(
        &[
            "fit",
            "--transactions",
            "exports/orders_2024-*.txt",
            "--customer-id",
            "cust",
            "--date",
            "day",
            "--amount",
            "total",
            "--features-from",
            "channel",
            "--trend-days",
            "30",
            "--behaviour",
            "--features",
            "recency_days,spend_share_channel_web,return_share,spend_trend",
            "--missing",
            "fallback",
            "--k",
            "2",
            "--project",
            "p.strata",
            "--json",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["features"][1], "spend_share_channel_web");
    let text = std::fs::read_to_string(dir.path().join("p.strata")).unwrap();
    assert!(text.contains("exports/orders_2024-*.txt"), "the pattern is stored relative to the project");
    assert!(text.contains("behaviour") && text.contains("\"channel\""), "{text}");
    let project = strata::engine::project::open(&dir.path().join("p.strata")).unwrap().project;
    let strata::engine::pipeline::TableKind::TransactionLog(t) = &project.spec.table else { panic!("a log") };
    assert_eq!(
        (t.behaviour.breakdown.clone(), t.behaviour.trend_days, t.behaviour.rhythm),
        (vec!["channel".into()], Some(30), true)
    );
    let o = strata(&["run", "p.strata", "--verify"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // A fourth month changes the data: the fingerprint of the matched files says so.
    write(dir.path(), "exports/orders_2024-04.txt", "cust day total channel\nc4 2024-04-01 5.0 web\n");
    let o = strata(&["run", "p.strata", "--verify"], dir.path());
    assert!(!o.status.success() && stderr(&o).contains("has changed"), "{}", stderr(&o));
    // Behaviour without a log is refused in one line.
    write(dir.path(), "customers.csv", "id,x\na,1\nb,2\n");
    let o = strata(&["fit", "--data", "customers.csv", "--features", "x", "--behaviour", "--k", "2"], dir.path());
    assert!(!o.status.success() && stderr(&o).contains("computed from a transaction log"), "{}", stderr(&o));
}
