//! The headless CLI end to end on the real CDNOW log, as a script would use it.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata::engine::data::{ReadOptions, read_table};

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn cdnow() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const RFM: &str = "recency_days,frequency,monetary_total";

fn rfm_customers(dir: &Path) -> PathBuf {
    let out = dir.join("customers.csv");
    let o = strata(
        &[
            "rfm",
            "--transactions",
            cdnow().to_str().unwrap(),
            "--customer-id",
            "customer_id",
            "--date",
            "date",
            "--amount",
            "dollar_value",
            "--out",
            out.to_str().unwrap(),
        ],
        dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

#[test]
fn rfm_on_cdnow_gives_one_row_per_customer() {
    let dir = tempfile::tempdir().unwrap();
    let out = rfm_customers(dir.path());
    let table = read_table(&out, &ReadOptions::default()).unwrap();
    assert_eq!(table.frame.height(), 23_570);
    let names: Vec<String> = table.frame.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "recency_days",
            "frequency",
            "monetary_total",
            "monetary_mean",
            "tenure_days",
            "first_purchase",
            "last_purchase"
        ]
    );
    // CDNOW's last purchase is 1998-06-30, so the default as-of date is 1998-07-01; customer 1
    // bought once, on 1997-01-01, for $11.77.
    let row = |c: &str| table.frame.column(c).unwrap().get(0).unwrap().to_string();
    assert_eq!(row("recency_days"), "546");
    assert_eq!(row("frequency"), "1");
    assert_eq!(row("monetary_total"), "11.77");
    let total: f64 = table.frame.column("frequency").unwrap().i64().unwrap().iter().map(|v| v.unwrap() as f64).sum();
    assert_eq!(total, 69_659.0);
}

#[test]
fn sweep_json_on_log_scaled_standardised_rfm_suggests_a_k() {
    let dir = tempfile::tempdir().unwrap();
    let data = rfm_customers(dir.path());
    let o = strata(
        &[
            "sweep",
            "--data",
            data.to_str().unwrap(),
            "--features",
            RFM,
            "--log1p",
            RFM,
            "--scale",
            "zscore",
            "--k",
            "2..10",
            "--json",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is only JSON");
    assert_eq!(json["n_rows"], 23_570);
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.iter().map(|r| r["k"].as_u64().unwrap()).collect::<Vec<_>>(), (2..=10).collect::<Vec<_>>());
    for r in runs {
        for key in ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"] {
            assert!(r[key].as_f64().unwrap().is_finite(), "{key}");
        }
        let sizes: u64 = r["sizes"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).sum();
        assert_eq!(sizes, 23_570);
    }
    // Inertia falls with k.
    assert!(runs.windows(2).all(|w| w[1]["inertia"].as_f64() < w[0]["inertia"].as_f64()));
    let k = json["suggested_k"].as_u64().unwrap();
    assert!((2..=10).contains(&k));
    assert!(json["reason"].as_str().unwrap().starts_with(&format!("k = {k} has ")));
}

#[test]
fn fit_with_project_then_run_verify_passes_and_changed_data_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = rfm_customers(dir.path());
    let o = strata(
        &[
            "fit",
            "--data",
            "customers.csv",
            "--id",
            "customer_id",
            "--features",
            RFM,
            "--log1p",
            RFM,
            "--k",
            "4",
            "--seed",
            "7",
            "--out",
            "assignments.csv",
            "--project",
            "cdnow.strata",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let assignments = read_table(&dir.path().join("assignments.csv"), &ReadOptions::default()).unwrap().frame;
    assert_eq!(assignments.get_column_names(), ["customer_id", "segment", "segment_number"]);
    // `segment` counts from 0 (as scripts have always read it), `segment_number` from 1 (as shown).
    let as_u32 = |name: &str| -> Vec<u32> {
        let c = assignments.column(name).unwrap().cast(&polars::prelude::DataType::UInt32).unwrap();
        c.u32().unwrap().into_no_null_iter().collect()
    };
    let (segment, number) = (as_u32("segment"), as_u32("segment_number"));
    assert_eq!(segment.iter().min(), Some(&0));
    assert!(segment.iter().zip(&number).all(|(s, n)| s + 1 == *n));
    assert_eq!(assignments.height(), 23_570);

    // Verified from another working directory: paths are relative to the project.
    let elsewhere = tempfile::tempdir().unwrap();
    let project = dir.path().join("cdnow.strata");
    let o = strata(&["run", project.to_str().unwrap(), "--verify"], elsewhere.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("verified"));

    // A changed data file is detected by its fingerprint and reported, never silently used.
    let mut text = std::fs::read_to_string(&data).unwrap();
    // CDNOW writes its ids with leading zeros, and they are kept as written.
    assert!(text.contains("\n00001,546,"), "{}", &text[..200]);
    text = text.replacen("\n00001,546,", "\n00001,545,", 1);
    std::fs::write(&data, text).unwrap();
    let o = strata(&["run", project.to_str().unwrap(), "--verify"], elsewhere.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("has changed since the project was saved"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn evaluate_reports_a_legacy_labeling_under_the_sweep_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,x,y,legacy\n");
    for i in 0..60 {
        let group = i % 3;
        csv.push_str(&format!("{i},{},{},{}\n", group * 10 + i % 5, i % 7, ["gold", "silver", "bronze"][group]));
    }
    std::fs::write(dir.path().join("crm.csv"), csv).unwrap();
    let o = strata(&["evaluate", "--data", "crm.csv", "--features", "x,y", "--labels", "legacy", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["k"], 3);
    assert_eq!(json["labels"], serde_json::json!(["bronze", "gold", "silver"]));
    assert_eq!(json["sizes"], serde_json::json!([20, 20, 20]));
    for key in ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"] {
        assert!(json[key].as_f64().is_some(), "{key}");
    }
}

#[test]
fn errors_are_one_line_on_stderr_with_a_non_zero_exit_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("header_only.csv"), "id,x\n").unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["sweep", "--data", "missing.csv", "--features", "x", "--k", "2..4", "--json"],
        vec!["sweep", "--data", "header_only.csv", "--features", "x", "--k", "2..4", "--json"],
        vec!["evaluate", "--data", "header_only.csv", "--features", "x", "--labels", "nope", "--json"],
    ];
    for args in cases {
        let o = strata(&args, dir.path());
        assert!(!o.status.success(), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}

#[test]
fn the_demo_runs_headless_and_reproduces_its_project() {
    let dir = tempfile::tempdir().unwrap();
    let o = strata(&["demo", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["n_customers"], 23_570);
    assert_eq!(json["verified"], true);
}

#[test]
fn every_format_fixture_still_reproduces_its_stored_assignment() {
    // Format 1: k-means; format 2: a Gaussian mixture with a swept k range; format 3: OPTICS;
    // format 4: business rules, an override, a low-priority segment and the audit log; format 5: a
    // European export read with its date format and decimal commas; format 6: three monthly files
    // through a pattern, a CRM table joined by its own key and behavioural features; format 7: the
    // same log read without its amount column; format 8: format 4's project with a SWOT board, TOWS
    // strategies and a presentation; format 12: k-means with kernel 2 (Hamerly's bounds).
    for name in [
        "v1.strata",
        "v2.strata",
        "v3.strata",
        "v4.strata",
        "v5.strata",
        "v6.strata",
        "v7.strata",
        "v8.strata",
        "v12.strata",
    ] {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects").join(name);
        let before = std::fs::read(&fixture).unwrap();
        let o =
            strata(&["run", fixture.to_str().unwrap(), "--verify", "--json"], Path::new(env!("CARGO_MANIFEST_DIR")));
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(json["verified"], true, "{name}");
        assert_eq!(std::fs::read(&fixture).unwrap(), before, "running must not write the project");
    }
}

#[test]
fn fit_joins_attributes_encodes_categoricals_and_records_the_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let mut customers = String::from("id,visits,spend\n");
    let mut attributes = String::from("id,region,contact\n");
    for i in 0..40 {
        customers.push_str(&format!("c{i},{},{}\n", 1 + i % 4, 10.0 * (1 + i % 9) as f64));
        // Two customers have no attribute row.
        if i < 38 {
            attributes.push_str(&format!("c{i},{},c{i}@example.com\n", ["N", "S"][i % 2]));
        }
    }
    std::fs::write(dir.path().join("customers.csv"), customers).unwrap();
    std::fs::write(dir.path().join("attributes.csv"), attributes).unwrap();
    let o = strata(
        &[
            "fit",
            "--data",
            "customers.csv",
            "--id",
            "id",
            "--attributes",
            "attributes.csv",
            "--features",
            "visits,spend,region",
            "--categorical",
            "region",
            "--weight",
            "spend=2",
            "--clip",
            "5,95",
            "--missing",
            "fallback",
            "--k",
            "3",
            "--project",
            "p.strata",
            "--json",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["features"], serde_json::json!(["visits", "spend", "region=N", "region=S"]));
    // The two customers without attributes went to the fallback segment, not into the fit.
    assert_eq!(json["n_fallback"], 2);
    assert_eq!(json["n_rows"], 38);
    assert!(stderr(&o).contains("2 customer(s) have no row in the attribute table"));
    let project = strata::engine::project::open(&dir.path().join("p.strata")).unwrap().project;
    let spend = &project.spec.recipe.features[1];
    assert_eq!((spend.weight, spend.clip_percentiles), (2.0, Some((5.0, 95.0))));
    assert!(project.spec.attributes.as_ref().unwrap().fingerprint.is_some());
    assert_eq!(project.segments.last().unwrap().name, "Fallback");
    let o = strata(&["run", "p.strata", "--verify"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));

    // The e-mail column is guessed sensitive: using it needs the explicit override.
    let o = strata(
        &["fit", "--data", "attributes.csv", "--features", "contact", "--categorical", "contact", "--k", "2"],
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("marked sensitive"), "{}", stderr(&o));
}

#[test]
fn quality_reports_roles_types_and_policy_warnings() {
    let o = strata(&["quality", "--data", "assets/CDNOW_master.txt", "--json"], Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["n_rows"], 69_659);
    assert_eq!(json["dialect"]["delimiter"], "Whitespace");
    let roles: Vec<&str> = json["roles"].as_array().unwrap().iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["CustomerId", "Date", "Numeric", "Amount"]);
    assert_eq!(json["duplicate_ids"]["n_duplicated_ids"], 11_662);
    let dollars = &json["columns"][3]["numeric"];
    assert_eq!(dollars["max"], 1286.01);
}

#[test]
fn compare_two_label_columns_and_two_assignment_files() {
    let dir = tempfile::tempdir().unwrap();
    // A legacy segment and a new one that splits its segment "b" in two; one customer unlabelled.
    let mut text = String::from("id,legacy,new,x\n");
    for i in 0..60 {
        let (legacy, new) = match i % 3 {
            0 => ("a", "1"),
            1 => ("b", "2"),
            _ => ("b", "3"),
        };
        text.push_str(&format!("{i},{legacy},{new},{}\n", (i % 3) * 10 + i % 2));
    }
    text.push_str("60,,1,0\n");
    std::fs::write(dir.path().join("labels.csv"), text).unwrap();
    let o = strata(&["compare", "--data", "labels.csv", "--labels", "legacy", "--labels", "new", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["crosstab"]["row_labels"], serde_json::json!(["a", "b"]));
    assert_eq!(v["crosstab"]["column_labels"], serde_json::json!(["1", "2", "3"]));
    assert_eq!(v["crosstab"]["counts"], serde_json::json!([[20, 0, 0], [0, 20, 20]]));
    assert_eq!(v["n_customers"], 60);
    // One customer left out is a count under the default small-cell threshold.
    assert_eq!(v["n_left_out"], "<10");
    let (ari, ami) = (v["ari"].as_f64().unwrap(), v["ami"].as_f64().unwrap());
    assert!(ari > 0.5 && ari < 1.0 && ami > 0.5 && ami < 1.0, "{ari} {ami}");
    // With suppression off (threshold 1), the count itself.
    let o = strata(
        &["compare", "--data", "labels.csv", "--labels", "legacy", "--labels", "new", "--small-cells", "1", "--json"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["n_left_out"], 1);
    assert_eq!(v["crosstab"]["counts"], serde_json::json!([[20, 0, 0], [0, 20, 20]]));

    // Two fits written by `fit --out`, matched by id: the same k and seed agree fully.
    for (k, out) in [("3", "a.csv"), ("3", "b.csv"), ("2", "c.csv")] {
        let o = strata(
            &["fit", "--data", "labels.csv", "--features", "x", "--id", "id", "--k", k, "--out", out],
            dir.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = strata(&["compare", "--assignments", "a.csv", "--assignments", "b.csv", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ari"], 1.0);
    assert_eq!(v["n_customers"], 61);
    let o = strata(&["compare", "--assignments", "a.csv", "--assignments", "c.csv"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("adjusted Rand index"));

    // Wrong use is one line on stderr and a non-zero exit.
    let o = strata(&["compare", "--data", "labels.csv", "--labels", "legacy"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--labels A --labels B"), "{}", stderr(&o));
    let o = strata(&["compare", "--data", "labels.csv", "--labels", "legacy", "--labels", "nope"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
}

fn json_of(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn every_algorithm_is_chosen_with_its_own_settings_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = rfm_customers(d);
    let data = data.to_str().unwrap();
    let base = ["--data", data, "--id", "customer_id", "--features", RFM, "--log1p", RFM];

    // A Gaussian mixture: BIC and AIC per k in the sweep, probabilities in the assignments.
    let sweep: Vec<&str> = [&["sweep"][..], &base, &["--k", "2..4", "--algorithm", "gmm", "--json"]].concat();
    let swept = json_of(&strata(&sweep, d));
    let runs = swept["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r["bic"].is_f64() && r["aic"].is_f64()), "{swept}");
    assert!(swept["reason"].as_str().unwrap().contains("BIC"), "{swept}");
    let out = d.join("gmm.csv");
    let fit: Vec<&str> = [
        &["fit"][..],
        &base,
        &["--k", "3", "--algorithm", "gmm", "--covariance", "diag", "--json", "--out", out.to_str().unwrap()],
    ]
    .concat();
    let fitted = json_of(&strata(&fit, d));
    assert_eq!(fitted["algorithm"], "gmm");
    assert!(fitted["mixture"]["bic"].is_f64());
    let table = read_table(&out, &ReadOptions::default()).unwrap();
    let probability = table.frame.column("probability").unwrap().f64().unwrap().to_vec();
    assert!(probability.into_iter().all(|p| p.is_some_and(|p| (1.0 / 3.0..=1.0).contains(&p))));

    // Mini-batch k-means takes a batch size.
    let fit: Vec<&str> =
        [&["fit"][..], &base, &["--k", "4", "--algorithm", "minibatch-kmeans", "--batch-size", "512", "--json"]]
            .concat();
    assert_eq!(json_of(&strata(&fit, d))["indices"]["k"], 4);

    // k-means' kernel: kernel 2 for a new fit, recorded; kernel 1 on request, written as a file
    // without the key (which every reader since format 1 re-runs with it). Both reproduce.
    for (kernel, written) in
        [(None, Some("kernel: Hamerly")), (Some("lloyd"), None), (Some("hamerly"), Some("kernel: Hamerly"))]
    {
        let project = d.join(format!("kernel-{}.strata", kernel.unwrap_or("default")));
        let mut fit: Vec<&str> = [&["fit"][..], &base, &["--k", "4", "--project", project.to_str().unwrap()]].concat();
        if let Some(kernel) = kernel {
            fit.extend(["--kernel", kernel]);
        }
        let o = strata(&fit, d);
        assert!(o.status.success(), "{kernel:?}: {}", stderr(&o));
        let text = std::fs::read_to_string(&project).unwrap();
        match written {
            Some(line) => assert!(text.contains(line) && text.contains("min_reader_version: 12"), "{kernel:?}"),
            None => assert!(!text.contains("kernel") && !text.contains("min_reader_version: 12"), "{kernel:?}"),
        }
        let o = strata(&["run", project.to_str().unwrap(), "--verify", "--json"], d);
        assert!(o.status.success() && json_of(&o)["verified"] == true, "{kernel:?}: {}", stderr(&o));
    }
    let o = strata(&[&["fit"][..], &base, &["--k", "4", "--kernel", "elkan"]].concat(), d);
    assert!(!o.status.success() && stderr(&o).contains("elkan"), "{}", stderr(&o));

    // The business floor: the k whose smallest segment is under 20% are marked, with a note.
    let sweep: Vec<&str> = [&["sweep"][..], &base, &["--k", "2..6", "--min-segment-share", "0.2", "--json"]].concat();
    let swept = json_of(&strata(&sweep, d));
    let feasible: Vec<u64> =
        swept["feasibility"]["feasible_k"].as_array().unwrap().iter().map(|k| k.as_u64().unwrap()).collect();
    for run in swept["runs"].as_array().unwrap() {
        let ok = run["smallest_share"].as_f64().unwrap() >= 0.2;
        assert_eq!(ok, feasible.contains(&run["k"].as_u64().unwrap()), "{run}");
    }
    assert!(feasible.len() < 5, "some k has a segment under 20%: {swept}");
    let o = strata(&[&["sweep"][..], &base, &["--k", "2..4", "--min-segment-share", "5"]].concat(), d);
    assert!(!o.status.success() && stderr(&o).contains("not a share between 0 and 1"), "{}", stderr(&o));

    // Hierarchical: a linkage; the sweep builds one tree and cuts it at every k.
    let fit: Vec<&str> =
        [&["fit"][..], &base, &["--k", "3", "--algorithm", "hierarchical", "--linkage", "average", "--json"]].concat();
    let fitted = json_of(&strata(&fit, d));
    assert_eq!(fitted["algorithm"], "hierarchical");
    assert!(fitted["assigns_new_customers_by"].as_str().unwrap().starts_with("nearest segment mean"));
    let sweep: Vec<&str> = [&["sweep"][..], &base, &["--k", "2..5", "--algorithm", "hierarchical", "--json"]].concat();
    assert_eq!(json_of(&strata(&sweep, d))["runs"].as_array().unwrap().len(), 4);

    // DBSCAN finds its own groups; noise is its own segment, named.
    let out = d.join("dbscan.csv");
    let fit: Vec<&str> = [
        &["fit"][..],
        &base,
        &["--algorithm", "dbscan", "--eps", "0.2", "--min-samples", "10", "--json", "--out", out.to_str().unwrap()],
    ]
    .concat();
    let fitted = json_of(&strata(&fit, d));
    assert_eq!(fitted["algorithm"], "dbscan");
    let names = fitted["segment_names"].as_array().unwrap();
    assert_eq!(names.last().unwrap(), "Noise", "{names:?}");
    let table = read_table(&out, &ReadOptions::default()).unwrap();
    assert!(table.frame.column("segment_name").is_ok());

    // OPTICS: groups from the reachability plot's valleys, or a cut at a height; noise named.
    let fit: Vec<&str> =
        [&["fit"][..], &base, &["--algorithm", "optics", "--min-samples", "10", "--xi", "0.1", "--json"]].concat();
    let fitted = json_of(&strata(&fit, d));
    assert_eq!(fitted["algorithm"], "optics");
    assert!(fitted["assigns_new_customers_by"].as_str().unwrap().contains("nearest grouped customer"));
    let fit: Vec<&str> = [&["fit"][..], &base, &["--algorithm", "optics", "--eps", "0.2", "--json"]].concat();
    let cut = json_of(&strata(&fit, d));
    assert!(cut["segment_names"].as_array().unwrap().len() >= 2, "{cut}");

    // The hybrid: value tiers by total RFM score, k-means inside each.
    let fit: Vec<&str> =
        [&["fit"][..], &base, &["--algorithm", "hybrid", "--k-per-tier", "2", "--tier-edges", "7,12", "--json"]]
            .concat();
    let fitted = json_of(&strata(&fit, d));
    let names: Vec<&str> = fitted["segment_names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert_eq!(names, ["High value 1", "High value 2", "Mid value 1", "Mid value 2", "Low value 1", "Low value 2"]);

    // Settings of another method, and rules without a k, are refused with the reason.
    for (extra, message) in [
        (&["--k", "3", "--covariance", "full"][..], "--covariance is not a setting of kmeans"),
        (&["--k", "3", "--algorithm", "gmm", "--linkage", "ward"][..], "--linkage is not a setting of gmm"),
        (&["--k", "3", "--algorithm", "dbscan"][..], "dbscan finds its own segments; leave out --k"),
        (&["--k", "3", "--rfm-columns", "a,b,c"][..], "--rfm-columns is not a setting of kmeans"),
        (&["--k", "3", "--algorithm", "gmm", "--grid", "5x5"][..], "--grid is not a setting of gmm"),
        (&["--k", "3", "--algorithm", "rfm"][..], "leave out --k"),
        (&["--algorithm", "gmm"][..], "gmm needs --k"),
        (&["--k", "3", "--algorithm", "minibatch-kmeans", "--max-iter", "5"][..], "--max-iter is not a setting"),
        (&["--algorithm", "dbscan", "--xi", "0.1"][..], "--xi is not a setting of dbscan"),
        (&["--algorithm", "optics", "--xi", "1.5"][..], "xi"),
        (&["--algorithm", "optics", "--eps", "2", "--max-eps", "1"][..], "must not be above max_eps"),
    ] {
        let args: Vec<&str> = [&["fit"][..], &base, extra].concat();
        let o = strata(&args, d);
        assert!(!o.status.success());
        assert!(stderr(&o).contains(message), "{extra:?}: {}", stderr(&o));
    }
    let args: Vec<&str> = [&["sweep"][..], &base, &["--k", "2..4", "--algorithm", "rfm"]].concat();
    let o = strata(&args, d);
    assert!(!o.status.success() && stderr(&o).contains("no k to sweep"), "{}", stderr(&o));
}

#[test]
fn rfm_named_segments_compared_with_kmeans_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (rfm, kmeans) = (d.join("rfm.csv"), d.join("kmeans.csv"));
    let o = strata(
        &["fit", "--demo", "--features", RFM, "--algorithm", "rfm", "--json", "--out", rfm.to_str().unwrap()],
        d,
    );
    let fitted = json_of(&o);
    assert_eq!(fitted["algorithm"], "rfm");
    let names: Vec<&str> = fitted["segment_names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert_eq!(names[0], "Champions");
    assert!(names.contains(&"Lost"), "{names:?}");
    let table = read_table(&rfm, &ReadOptions::default()).unwrap();
    let columns: Vec<String> = table.frame.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(columns, ["customer_id", "segment", "segment_number", "segment_name", "r_score", "f_score", "m_score"]);
    let o =
        strata(&["fit", "--demo", "--features", RFM, "--log1p", RFM, "--k", "5", "--out", kmeans.to_str().unwrap()], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let compared = json_of(&strata(
        &["compare", "--assignments", rfm.to_str().unwrap(), "--assignments", kmeans.to_str().unwrap(), "--json"],
        d,
    ));
    assert_eq!(compared["n_customers"], 23_570);
    let rows: Vec<&str> =
        compared["crosstab"]["row_labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(rows.contains(&"Champions"), "{rows:?}");
    let (ari, ami) = (compared["ari"].as_f64().unwrap(), compared["ami"].as_f64().unwrap());
    assert!(ari > 0.05 && ari < 0.95 && ami > 0.05 && ami < 0.95, "ari {ari}, ami {ami}");
}

#[test]
fn predict_assigns_new_customers_as_each_method_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = rfm_customers(d);
    let data = data.to_str().unwrap();
    let segments = |path: &Path| -> Vec<Option<u32>> {
        let table = read_table(path, &ReadOptions::default()).unwrap();
        let column = table.frame.column("segment").unwrap().cast(&polars::prelude::DataType::UInt32).unwrap();
        column.u32().unwrap().iter().collect()
    };
    for (method, extra) in [
        ("kmeans", &["--k", "4"][..]),
        ("gmm", &["--k", "3"][..]),
        ("dbscan", &["--eps", "0.3"][..]),
        ("optics", &["--max-eps", "1.0", "--min-samples", "10"][..]),
        ("rfm", &[][..]),
        ("hybrid", &["--k-per-tier", "2"][..]),
        ("som", &["--k", "4", "--grid", "6x6", "--epochs", "10"][..]),
        ("kprototypes", &["--k", "4"][..]),
        ("hierarchical", &["--k", "4"][..]),
    ] {
        let (project, fitted, predicted) =
            (d.join(format!("{method}.strata")), d.join(format!("{method}.csv")), d.join(format!("{method}-new.csv")));
        let fit: Vec<&str> =
            [
                &[
                    "fit",
                    "--data",
                    data,
                    "--id",
                    "customer_id",
                    "--features",
                    RFM,
                    "--log1p",
                    RFM,
                    "--algorithm",
                    method,
                ][..],
                extra,
                &["--project", project.to_str().unwrap(), "--out", fitted.to_str().unwrap()],
            ]
            .concat();
        let o = strata(&fit, d);
        assert!(o.status.success(), "{method}: {}", stderr(&o));
        // The same customers as "new" ones: every method places them where the fit did (the tree
        // has no rule for new customers, so nearest segment means place most of them there).
        let o = strata(
            &["predict", project.to_str().unwrap(), "--data", data, "--out", predicted.to_str().unwrap(), "--json"],
            d,
        );
        let report = json_of(&o);
        assert_eq!(report["n_customers"], 23_570, "{method}");
        let (a, b) = (segments(&fitted), segments(&predicted));
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        if method == "hierarchical" || method == "optics" {
            // OPTICS places grouped customers where the fit did; noise near a group joins it.
            assert!(same as f64 > 0.8 * a.len() as f64, "{method}: {same} of {}", a.len());
        } else {
            assert_eq!(same, a.len(), "{method}: {}", report["assigned_by"]);
        }
    }
}

#[test]
fn kprototypes_segments_mixed_numeric_and_categorical_customers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Four planted groups: two channels x two spend levels.
    let mut csv = String::from("customer_id,spend,channel\n");
    for i in 0..400 {
        let (web, big) = (i % 2 == 0, (i / 2) % 2 == 0);
        let spend = if big { 500.0 } else { 20.0 } + f64::from(i % 7);
        csv.push_str(&format!("{i},{spend},{}\n", if web { "web" } else { "store" }));
    }
    std::fs::write(d.join("mixed.csv"), csv).unwrap();
    let out = d.join("kp.csv");
    let o = strata(
        &[
            "fit",
            "--data",
            "mixed.csv",
            "--id",
            "customer_id",
            "--features",
            "spend,channel",
            "--categorical",
            "channel",
            "--algorithm",
            "kprototypes",
            "--k",
            "4",
            "--gamma",
            "5",
            "--json",
            "--out",
            out.to_str().unwrap(),
        ],
        d,
    );
    let fitted = json_of(&o);
    assert_eq!(fitted["algorithm"], "kprototypes");
    assert_eq!(fitted["indices"]["sizes"], serde_json::json!([100, 100, 100, 100]), "{fitted}");
    let table = read_table(&out, &ReadOptions::default()).unwrap();
    let segment = table.frame.column("segment").unwrap().cast(&polars::prelude::DataType::UInt32).unwrap();
    let segment: Vec<Option<u32>> = segment.u32().unwrap().iter().collect();
    // Each segment is one channel and one spend level.
    for s in 0..4u32 {
        let members: Vec<usize> = (0..400).filter(|&i| segment[i] == Some(s)).collect();
        assert!(members.iter().all(|&i| i % 2 == members[0] % 2 && (i / 2) % 2 == (members[0] / 2) % 2));
    }
}

/// Customers in three planted segments: recency and frequency decide them, the channel follows
/// the segment for most, `noise` says nothing.
fn planted_segments(dir: &Path) -> PathBuf {
    let mut text = String::from("customer_id,recency_days,frequency,noise,channel,segment\n");
    for i in 0..600u32 {
        let s = i % 3;
        let recency = [10, 200, 15][s as usize] + i % 30;
        let frequency = [8, 2, 1][s as usize] + i % 2;
        let channel = if i % 10 == 0 { "phone" } else { ["web", "store", "web"][s as usize] };
        let name = ["Active", "Lapsed", "New"][s as usize];
        text.push_str(&format!("{i},{recency},{frequency},{},{channel},{name}\n", (i * 7919) % 101));
    }
    let path = dir.join("planted.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn profile_reports_each_segment_and_how_strongly_each_feature_separates_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = planted_segments(d);
    let o = strata(
        &[
            "profile",
            "--data",
            data.to_str().unwrap(),
            "--id",
            "customer_id",
            "--features",
            "recency_days,frequency,noise,channel",
            "--labels",
            "segment",
            "--json",
        ],
        d,
    );
    let report = json_of(&o);
    let segments = report["segments"].as_array().unwrap();
    let names: Vec<&str> = segments.iter().map(|s| s["segment"].as_str().unwrap()).collect();
    assert_eq!(names, ["Active", "Lapsed", "New"]);
    assert_eq!(segments[1]["size"], 200);
    assert_eq!(segments[1]["median"]["frequency"], 2.5);
    assert_eq!(segments[0]["mode"]["channel"]["value"], "web");
    let features = report["features"].as_array().unwrap();
    let feature = |name: &str| features.iter().find(|f| f["feature"] == name).unwrap().clone();
    for key in ["anova_f", "anova_p", "eta_squared", "kruskal_h", "kruskal_p", "epsilon_squared"] {
        assert!(feature("recency_days")[key].is_number(), "{key}");
    }
    assert!(feature("recency_days")["eta_squared"].as_f64().unwrap() > 0.95);
    assert!(feature("recency_days")["anova_p"].as_f64().unwrap() < 1e-100);
    let noise = feature("noise");
    assert!(noise["eta_squared"].as_f64().unwrap() < 0.05 && noise["anova_p"].as_f64().unwrap() > 0.001, "{noise}");
    let channel = feature("channel");
    for key in ["chi_square", "chi_square_p", "cramers_v"] {
        assert!(channel[key].is_number(), "{key}: {channel}");
    }
    assert!(channel["cramers_v"].as_f64().unwrap() > 0.6, "{channel}");
    // Text output sorts features by effect size.
    let o = strata(
        &["profile", "--data", data.to_str().unwrap(), "--features", "noise,recency_days", "--labels", "segment"],
        d,
    );
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.find("recency_days").unwrap() < text.find("noise").unwrap(), "{text}");
    // A column of ids is not a segment.
    let o = strata(&["profile", "--data", data.to_str().unwrap(), "--features", "noise", "--labels", "customer_id"], d);
    assert!(o.status.success(), "600 ids are still few enough: {}", stderr(&o));
    let o = strata(&["profile", "--data", data.to_str().unwrap(), "--features", "nope", "--labels", "segment"], d);
    assert!(!o.status.success() && stderr(&o).contains("nope"), "{}", stderr(&o));
}

#[test]
fn explain_reads_the_segments_back_as_rules_with_their_fidelity() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = planted_segments(d);
    let args = |depth: &str| {
        vec![
            "explain".to_string(),
            "--data".into(),
            data.display().to_string(),
            "--features".into(),
            "recency_days,frequency,noise".into(),
            "--labels".into(),
            "segment".into(),
            "--max-depth".into(),
            depth.into(),
            "--json".into(),
        ]
    };
    let run = |depth: &str| {
        let a = args(depth);
        json_of(&strata(&a.iter().map(String::as_str).collect::<Vec<_>>(), d))
    };
    let report = run("2");
    assert_eq!(report["fidelity"], 1.0);
    let rules = report["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    let lapsed = rules.iter().find(|r| r["segment"] == "Lapsed").unwrap();
    let text = lapsed["rules"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("recency_days at least"), "{text}");
    assert!(lapsed["rules"][0]["conditions"][0]["feature"] == "recency_days");
    // One split cannot tell three segments apart.
    let shallow = run("1");
    assert!(shallow["fidelity"].as_f64().unwrap() < 0.7, "{shallow}");
    let bad = args("0");
    let o = strata(&bad.iter().map(String::as_str).collect::<Vec<_>>(), d);
    assert!(!o.status.success() && stderr(&o).contains("max_depth"), "{}", stderr(&o));
}

#[test]
fn stability_flags_the_segments_that_do_not_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Three tight groups far apart and a ring that k = 6 cuts into three arcs at no fixed place.
    let mut text = String::from("id,x,y\n");
    let mut row = 0;
    for (cx, cy) in [(0.0, 0.0), (30.0, 0.0), (0.0, 30.0)] {
        for i in 0..150 {
            let (dx, dy) = (((i * 37) % 29) as f64 / 100.0, ((i * 53) % 31) as f64 / 100.0);
            text.push_str(&format!("{row},{},{}\n", cx + dx, cy + dy));
            row += 1;
        }
    }
    for i in 0..450 {
        let angle = std::f64::consts::TAU * (i as f64 * 0.618_034).fract();
        text.push_str(&format!("{row},{},{}\n", 30.0 + 6.0 * angle.cos(), 30.0 + 6.0 * angle.sin()));
        row += 1;
    }
    let data = d.join("ring.csv");
    std::fs::write(&data, text).unwrap();
    let base = ["stability", "--data", data.to_str().unwrap(), "--id", "id", "--features", "x,y", "--scale", "none"];
    let args: Vec<&str> = [&base[..], &["--k", "6", "--bootstrap", "20", "--seed", "7", "--json"]].concat();
    let report = json_of(&strata(&args, d));
    assert_eq!(report["k"], 6);
    let segments = report["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 6);
    for s in segments {
        for key in ["segment", "size", "mean_jaccard", "dissolved_share"] {
            assert!(!s[key].is_null(), "{key}: {s}");
        }
    }
    let stable = segments.iter().filter(|s| s["unstable"] == false).count();
    let flagged: Vec<_> = segments.iter().filter(|s| s["unstable"] == true).collect();
    assert_eq!((stable, flagged.len()), (3, 3), "{segments:?}");
    // The tight groups come back whole every time; the arcs do not (the ring's 450 customers cut
    // in three make arcs of about 150 too, so sizes do not tell them apart).
    for s in segments.iter().filter(|s| s["unstable"] == false) {
        assert!(s["mean_jaccard"].as_f64().unwrap() > 0.95 && s["dissolved_share"] == 0.0, "{s}");
    }
    for s in &flagged {
        assert!(s["mean_jaccard"].as_f64().unwrap() < 0.75, "{s}");
    }
    let ari = report["ari_mean"].as_f64().unwrap();
    assert!(ari > 0.3 && ari < 0.99, "{ari}");
    // Across a k range: k = 4 (the three groups and the whole ring) is the stable one.
    let args: Vec<&str> = [&base[..], &["--k-range", "3..5", "--bootstrap", "10", "--json"]].concat();
    let report = json_of(&strata(&args, d));
    let per_k = report["per_k"].as_array().unwrap();
    let best = per_k.iter().max_by(|a, b| a["ari_mean"].as_f64().unwrap().total_cmp(&b["ari_mean"].as_f64().unwrap()));
    assert_eq!(best.unwrap()["k"], 4, "{per_k:?}");
    // Refusals: no k for k-means, a k for dbscan, rules.
    for (extra, message) in [
        (&["--bootstrap", "5"][..], "needs --k"),
        (&["--k", "3", "--algorithm", "dbscan"][..], "leave out --k"),
        (&["--k", "3", "--bootstrap", "1"][..], "at least 2"),
    ] {
        let args: Vec<&str> = [&base[..], extra].concat();
        let o = strata(&args, d);
        assert!(!o.status.success() && stderr(&o).contains(message), "{extra:?}: {}", stderr(&o));
    }
}

#[test]
fn run_applies_the_projects_business_rules_and_writes_who_they_moved() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects");
    for name in ["v4.strata", "customers.csv"] {
        std::fs::copy(fixtures.join(name), dir.path().join(name)).unwrap();
    }
    let o = strata(&["run", "v4.strata", "--json", "--out", "assigned.csv"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let json = json_of(&o);
    let rules = &json["business_rules"];
    assert_eq!(rules["rules"][0]["matched"], 232, "{rules}");
    assert_eq!(rules["rules"][1]["resolved"], "when monetary_total > p90 (264.93) then not low priority");
    assert_eq!(rules["rules"][1]["changed"], 26);
    assert_eq!(rules["overrides"][0]["changed"], false, "customer 2 is in Segment 1 already");
    assert_eq!(rules["customers_changed"], 258);
    assert_eq!(rules["rule_segments"], serde_json::json!(["Too new to tell"]));
    assert_eq!(json["audit"][0]["who"], "fixture");
    assert_eq!(json["audit"][1]["customers"], 26);

    // The assignments: the rules' segments with the project's names, the model's beside them.
    let table = read_table(&dir.path().join("assigned.csv"), &ReadOptions::default()).unwrap().frame;
    let column = |name: &str| -> Vec<String> {
        let c = table.column(name).unwrap().cast(&polars::prelude::DataType::String).unwrap();
        c.str().unwrap().iter().map(|v| v.unwrap_or("").to_string()).collect()
    };
    let (segment, model, name, by) =
        (column("segment"), column("model_segment"), column("segment_name"), column("changed_by"));
    let numbered = |from: &[String], to: &str| {
        let shown = column(to);
        (0..from.len()).all(|i| shown[i] == from[i].parse::<u32>().map_or(String::new(), |s| (s + 1).to_string()))
    };
    assert!(numbered(&segment, "segment_number") && numbered(&model, "model_segment_number"));
    let frequency = column("customer_id").len();
    assert_eq!(frequency, 500);
    let moved = (0..500).filter(|&i| segment[i] != model[i]).count();
    assert_eq!(moved, 258);
    assert!((0..500).all(|i| (segment[i] == model[i]) == by[i].is_empty()));
    assert_eq!((0..500).filter(|&i| name[i] == "Too new to tell").count(), 232);
    assert_eq!((0..500).filter(|&i| by[i] == "rule 2").count(), 26);
    assert!((0..500).all(|i| by[i] != "rule 2" || name[i] != "Occasional"), "out of the low-priority segment");
}

#[test]
fn over_time_follows_the_demo_customers_through_quarterly_windows() {
    let dir = tempfile::tempdir().unwrap();
    let args = |extra: &[&str]| {
        let mut a =
            vec!["over-time", "--demo", "--features", RFM, "--log1p", RFM, "--k", "4", "--windows", "3", "--json"];
        // Exact counts (suppression is checked below, with the default threshold).
        a.extend_from_slice(&["--small-cells", "1"]);
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let o = strata(&a.iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        json_of(&o)
    };
    let fixed = run(&[]);
    assert_eq!(fixed["model"], "fixed");
    assert_eq!(fixed["cumulative"], true);
    let windows = fixed["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3);
    // CDNOW's log ends on 1998-06-30: the last window ends the day after, quarters before it.
    let ends: Vec<&str> = windows.iter().map(|w| w["end"].as_str().unwrap()).collect();
    assert_eq!(ends, ["1998-01-01", "1998-04-01", "1998-07-01"]);
    assert_eq!(windows[0]["start"], "1997-10-02");
    // Every customer bought in the first quarter of 1997, so with all history every window has all.
    for w in windows {
        assert_eq!(w["n_customers"], 23_570);
        assert_eq!(w["sizes"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).sum::<u64>(), 23_570);
    }
    for t in fixed["transitions"].as_array().unwrap() {
        let matrix: Vec<Vec<u64>> = serde_json::from_value(t["matrix"].clone()).unwrap();
        assert_eq!(matrix.len(), 5, "four segments and 'not present'");
        assert_eq!(matrix.iter().flatten().sum::<u64>(), 23_570);
        let diagonal: u64 = (0..4).map(|i| matrix[i][i]).sum();
        let stayed = t["stayed"].as_f64().unwrap();
        assert!((stayed - diagonal as f64 / 23_570.0).abs() < 1e-12);
        assert!(stayed > 0.5 && stayed < 1.0, "{stayed}");
    }

    // Only the transactions inside each quarter: most customers are not present in most windows,
    // and those who come back come from 'not present'.
    let inside = run(&["--window-only"]);
    let n: Vec<u64> =
        inside["windows"].as_array().unwrap().iter().map(|w| w["n_customers"].as_u64().unwrap()).collect();
    assert!(n.iter().all(|&n| n > 1_000 && n < 10_000), "{n:?}");
    let first: Vec<Vec<u64>> = serde_json::from_value(inside["transitions"][0]["matrix"].clone()).unwrap();
    assert!(first[4].iter().sum::<u64>() > 0 && first.iter().map(|r| r[4]).sum::<u64>() > 0);

    // With the default small-cell threshold every count of 1 to 9 customers is "<10", and enough
    // others "hidden" that no hidden count follows from the rows' and columns' totals.
    let suppressed = {
        let mut a = args(&["--window-only"]);
        let at = a.iter().position(|x| x == "--small-cells").unwrap();
        a.drain(at..at + 2);
        let at = a.iter().position(|x| x == "--k").unwrap();
        a[at + 1] = "8".into();
        let at = a.iter().position(|x| x == "--windows").unwrap();
        a[at + 1] = "6".into();
        let o = strata(&a.iter().map(String::as_str).collect::<Vec<_>>(), dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        json_of(&o)
    };
    let mut hidden = 0;
    for t in suppressed["transitions"].as_array().unwrap() {
        let matrix: Vec<Vec<serde_json::Value>> = serde_json::from_value(t["matrix"].clone()).unwrap();
        for cell in matrix.iter().flatten() {
            match cell {
                serde_json::Value::String(s) => {
                    assert!(s == "<10" || s == "hidden", "{s}");
                    hidden += 1;
                }
                n => assert!(n.as_u64().is_some_and(|n| n == 0 || n >= 10), "{n}"),
            }
        }
        // The windows' sizes are the lines' totals: no line hides a small count as its only hidden
        // cell (tests/suppression.rs brute-forces that no small count can be recovered at all).
        let alone = |line: Vec<&serde_json::Value>| {
            let hidden: Vec<_> = line.into_iter().filter(|c| c.is_string()).collect();
            hidden.len() == 1 && hidden[0] == "<10"
        };
        for row in &matrix {
            assert!(!alone(row.iter().collect()), "{row:?}");
        }
        for c in 0..matrix[0].len() {
            assert!(!alone(matrix.iter().map(|r| &r[c]).collect()), "column {c}");
        }
    }
    assert!(hidden > 0, "eight segments over two-month windows have small cells to hide");

    // One fit per window, matched by shared customers.
    let refit = run(&["--refit"]);
    assert_eq!(refit["model"], "refit");
    assert!(refit["segments"].as_array().unwrap().len() >= 4);

    // A project that used the Over time screen gets its windows from `strata run` too.
    let demo = strata::engine::project::parse(strata::cli::DEMO_PROJECT).unwrap().project;
    let mut with_windows = demo.clone();
    with_windows.over_time = Some(strata::engine::over_time::WindowParams { windows: 3, ..Default::default() });
    with_windows.spec.model.algorithm.set_k(4);
    with_windows.results = None;
    // over-time above applies no business rules; the demo's own are not part of this comparison.
    with_windows.rules = Default::default();
    with_windows.governance.small_cells = 1;
    with_windows.save_unsealed(&dir.path().join("windows.strata")).unwrap();
    let o = strata(&["run", "windows.strata", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json_of(&o)["over_time"]["windows"], fixed["windows"], "the same windows as over-time gives");

    // A customer table has no dates to cut into windows.
    let customers = rfm_customers(dir.path());
    let o = strata(&["over-time", "--data", customers.to_str().unwrap(), "--features", RFM, "--k", "3"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("need a transaction log"), "{}", stderr(&o));
}

#[test]
fn quality_suggests_features_and_an_id_each_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    // A narrow R-style table: rownames 1..n, a year, two measures, a near-unique label.
    let mut text = String::from("rownames,year,income,visits,label\n");
    for i in 1..=80 {
        text.push_str(&format!(
            "{i},{},{}.5,{},shop {i} on the street\n",
            1990 + i % 20,
            20 + i * 37 % 101,
            i * 7 % 13
        ));
    }
    std::fs::write(dir.path().join("narrow.csv"), text).unwrap();
    let o = strata(&["quality", "--data", "narrow.csv", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let features: Vec<&str> =
        v["suggested_features"].as_array().unwrap().iter().map(|f| f["column"].as_str().unwrap()).collect();
    assert_eq!(features, ["income", "visits"]);
    assert!(v["suggested_features"][0]["reason"].as_str().unwrap().starts_with("numeric"));
    assert_eq!(v["suggested_id"]["column"], "label");
    assert!(v["suggested_id"]["reason"].as_str().unwrap().contains("one value per row"));
    assert!(v.get("suggested_id_reason").is_none());

    // A booking log whose only customer-named column is a 4-value type: no id, and why.
    let mut text = String::from("customer_type,arrival_date,adr\n");
    for i in 0..200 {
        let kind = ["Transient", "Contract", "Group", "Transient-Party"][i % 4];
        text.push_str(&format!("{kind},2024-01-{:02},{}.0\n", 1 + i % 28, 50 + i * 31 % 200));
    }
    std::fs::write(dir.path().join("bookings.csv"), text).unwrap();
    let o = strata(&["quality", "--data", "bookings.csv", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["suggested_id"].is_null());
    let why = v["suggested_id_reason"].as_str().unwrap();
    assert!(why.contains("'customer_type' has 4 values"), "{why}");
    assert_ne!(v["roles"][0]["role"], "CustomerId");
    // The table may also be the first argument, as a new user types it; the output is the same.
    let positional = strata(&["quality", "bookings.csv", "--json"], dir.path());
    assert!(positional.status.success(), "{}", stderr(&positional));
    assert_eq!(positional.stdout, o.stdout);
    let both = strata(&["quality", "bookings.csv", "--data", "bookings.csv"], dir.path());
    assert!(!both.status.success() && stderr(&both).contains("cannot be used with"), "{}", stderr(&both));
    let neither = strata(&["quality", "--json"], dir.path());
    assert!(!neither.status.success() && stderr(&neither).contains("--data"), "{}", stderr(&neither));
}

/// `strata rfm --streaming` writes the table the in-memory read writes, byte for byte, for a log
/// generated as the benchmarks' large logs are; what it cannot stream is refused in one line.
#[test]
fn rfm_streaming_writes_the_same_table_as_loading_and_refuses_what_it_cannot_stream() {
    let dir = tempfile::tempdir().unwrap();
    let generated =
        strata(&["bench", "gen", "--out", ".", "--large-transactions", "300000", "--seed", "5"], dir.path());
    assert!(generated.status.success(), "{}", stderr(&generated));
    let log = "transactions_large_300000_s5.csv";
    let rfm = |extra: &[&str], out: &str| {
        let args: Vec<&str> = [
            &["rfm", "--transactions", log, "--customer-id", "customer_id", "--date", "date", "--amount", "amount"][..],
            extra,
            &["--out", out],
        ]
        .concat();
        strata(&args, dir.path())
    };
    let loaded = rfm(&[], "loaded.csv");
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    let streamed = rfm(&["--streaming"], "streamed.csv");
    assert!(streamed.status.success(), "{}", stderr(&streamed));
    assert!(stderr(&streamed).contains("streamed; written to"), "{}", stderr(&streamed));
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    assert_eq!(read("streamed.csv"), read("loaded.csv"));
    // The same warnings, in the same words.
    let warnings =
        |o: &Output| stderr(o).lines().filter(|l| l.starts_with("warning")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(warnings(&streamed), warnings(&loaded));
    assert!(!warnings(&loaded).is_empty());

    let derived = rfm(&["--streaming", "--derive", "double = amount * 2"], "x.csv");
    assert!(!derived.status.success() && stderr(&derived).contains("derived columns"), "{}", stderr(&derived));
    let aligned = strata(
        &[
            "rfm",
            "--streaming",
            "--transactions",
            cdnow().to_str().unwrap(),
            "--customer-id",
            "customer_id",
            "--date",
            "date",
            "--out",
            "y.csv",
        ],
        dir.path(),
    );
    let line = stderr(&aligned);
    assert!(!aligned.status.success() && line.contains("whitespace") && line.lines().count() == 1, "{line}");
    assert!(!dir.path().join("x.csv").exists() && !dir.path().join("y.csv").exists());
}
