//! Issue 17's data findings from the command line: a log without an amount, missing-value markers,
//! integer codes and 0/1 indicators in the first guesses, and a sweep without real structure.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The real CDNOW log with its money column cut off: id, date and the number of CDs, as a log
/// where only counts matter.
fn cdnow_without_amount(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt")).unwrap();
    let mut out = String::from("customer_id date number_of_cds\n");
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        out.push_str(&format!("{} {} {}\n", fields[0], fields[1], fields[2]));
    }
    let path = dir.join("cdnow_counts.txt");
    std::fs::write(&path, out).unwrap();
    path
}

/// A clickstream: user, time of the event and page; no money anywhere.
fn clickstream(dir: &Path) -> PathBuf {
    let mut out = String::from("user_id,event_time,page\n");
    for user in 0..60 {
        // Three kinds of visitors: daily, weekly, once.
        let visits = [30, 6, 1][user % 3];
        for v in 0..visits {
            let day = 1 + (v * [1, 5, 1][user % 3] + user) % 28;
            out.push_str(&format!(
                "u{user:03},2024-03-{day:02} 1{}:0{}:00,{}\n",
                v % 10,
                v % 6,
                ["home", "cart"][v % 2]
            ));
        }
    }
    let path = dir.join("clicks.csv");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn rfm_on_a_real_log_without_amount_gives_recency_frequency_and_tenure_with_one_note() {
    let dir = tempfile::tempdir().unwrap();
    let log = cdnow_without_amount(dir.path());
    let out = dir.path().join("customers.csv");
    let o = strata(
        &[
            "rfm",
            "--transactions",
            log.to_str().unwrap(),
            "--customer-id",
            "customer_id",
            "--date",
            "date",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("no amount column").count(), 1, "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(header, "customer_id,recency_days,frequency,tenure_days,first_purchase,last_purchase");
    assert_eq!(text.lines().count() - 1, 23_570, "every CDNOW customer");
    // The frequencies add up to the log's 69,659 rows: no row was dropped for lack of an amount.
    let total: i64 = text.lines().skip(1).map(|l| l.split(',').nth(2).unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(total, 69_659);
}

#[test]
fn fit_and_run_on_a_clickstream_without_amount_and_the_project_needs_format_7() {
    let dir = tempfile::tempdir().unwrap();
    let log = clickstream(dir.path());
    let project = dir.path().join("clicks.strata");
    let o = strata(
        &[
            "fit",
            "--transactions",
            log.to_str().unwrap(),
            "--customer-id",
            "user_id",
            "--date",
            "event_time",
            "--features",
            "recency_days,frequency,tenure_days",
            "--k",
            "3",
            "--project",
            project.to_str().unwrap(),
            "--json",
            // k-means kernel 1, which every reader knows, so the header says what the log needs.
            "--kernel",
            "lloyd",
        ],
        dir.path(),
    );
    let fit = json(&o);
    assert_eq!(fit["n_customers"], 60);
    let warnings = fit["warnings"].as_array().unwrap();
    assert_eq!(warnings.iter().filter(|w| w.as_str().unwrap().contains("no amount column")).count(), 1, "{warnings:?}");
    let text = std::fs::read_to_string(&project).unwrap();
    assert!(text.contains("amount: \"\""), "{text}");
    assert!(text.contains("min_reader_version: 7"), "an older Strata must refuse it: {text}");
    let run = json(&strata(&["run", project.to_str().unwrap(), "--verify", "--json"], dir.path()));
    assert_eq!(run["verified"], true);

    // A feature about money on such a log is refused in one line, naming the way out.
    let o = strata(
        &[
            "fit",
            "--transactions",
            log.to_str().unwrap(),
            "--customer-id",
            "user_id",
            "--date",
            "event_time",
            "--features",
            "recency_days,monetary_total",
            "--k",
            "2",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("'monetary_total' needs an amount column"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn quality_reads_missing_markers_once_and_keeps_na_among_country_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("markers.csv");
    std::fs::write(
        &path,
        "id,country,iso2,score,joined\n\
         1,Namibia,NA,1.5,2024-01-01\n\
         2,NA,KE,NA,NA\n\
         3,Kenya,ZA,.,2024-01-03\n\
         4,NA,NA,2.5,.\n\
         5,NULL,BW,N/A,2024-01-05\n\
         6,Kenya,KE,3.5,2024-01-06\n",
    )
    .unwrap();
    let q = json(&strata(&["quality", path.to_str().unwrap(), "--json"], dir.path()));
    let column = |name: &str| q["columns"].as_array().unwrap().iter().find(|c| c["column"] == name).unwrap().clone();
    // Names: NA and NULL are missing; the distinct count has Namibia, Kenya and missing once.
    assert_eq!((column("country")["n_missing"].as_u64(), column("country")["n_distinct"].as_u64()), (Some(3), Some(3)));
    // Codes: NA is Namibia, a value.
    assert_eq!((column("iso2")["n_missing"].as_u64(), column("iso2")["n_distinct"].as_u64()), (Some(0), Some(4)));
    // Numbers and dates: NA, N/A and a lone point are missing, and the columns stay numbers and dates.
    assert_eq!(column("score")["dtype"], "f64");
    assert_eq!(column("score")["n_missing"], 3);
    assert_eq!(column("joined")["dtype"], "date");
    assert_eq!(column("joined")["n_missing"], 2);
    let warnings: Vec<&str> = q["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    let about = |c: &str| warnings.iter().filter(|w| w.contains(&format!("column '{c}'"))).count();
    for c in ["country", "score", "joined", "iso2"] {
        assert_eq!(about(c), 1, "{c} said once: {warnings:?}");
    }
    assert!(warnings.contains(&"column 'score': `NA` read as missing (1 value), `N/A` read as missing (1 value), `.` read as missing (1 value)"), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("'iso2': `NA` kept as a value")), "{warnings:?}");
}

#[test]
fn quality_guesses_codes_as_categories_and_names_zero_one_indicators() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    let mut text = String::from("customer_id,region,store_type,has_app,spend,visits\n");
    for i in 0..120 {
        text.push_str(&format!(
            "c{i},{},{},{},{:.2},{}\n",
            1 + i % 9,
            i % 4,
            i64::from(i % 3 == 0),
            10.0 + (i * 37 % 101) as f64,
            i * 7 % 13
        ));
    }
    std::fs::write(&path, text).unwrap();
    let q = json(&strata(&["quality", path.to_str().unwrap(), "--json"], dir.path()));
    let proposed: Vec<&str> =
        q["suggested_features"].as_array().unwrap().iter().map(|g| g["column"].as_str().unwrap()).collect();
    assert_eq!(proposed, ["has_app", "spend", "visits"]);
    let reason_in = |key: &str, column: &str| {
        q[key].as_array().unwrap().iter().find(|g| g["column"] == column).unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(reason_in("suggested_features", "has_app").starts_with("a 0/1 indicator"));
    for code in ["region", "store_type"] {
        assert!(reason_in("left_out_features", code).starts_with("a code or category"), "{code}");
        let role = q["roles"].as_array().unwrap().iter().find(|r| r["column"] == code).unwrap();
        assert_eq!(role["role"], "Categorical", "{code}");
    }
}

/// A table of `n` rows: uniform noise in ten columns, or four far-apart blobs in two.
fn table(dir: &Path, blobs: bool) -> PathBuf {
    let mut state = 42u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let columns = if blobs { 2 } else { 10 };
    let mut text = (0..columns).map(|c| format!("x{c}")).collect::<Vec<_>>().join(",") + "\n";
    for i in 0..400 {
        let row: Vec<String> = (0..columns)
            .map(|c| {
                let centre = if blobs { [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]][i % 4][c] } else { 0.0 };
                format!("{:.4}", centre + next())
            })
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    let path = dir.join(if blobs { "blobs.csv" } else { "uniform.csv" });
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_sweep_over_uniform_noise_warns_that_no_k_has_structure_and_blobs_do_not() {
    let dir = tempfile::tempdir().unwrap();
    for blobs in [false, true] {
        let path = table(dir.path(), blobs);
        let features =
            if blobs { "x0,x1".to_string() } else { (0..10).map(|c| format!("x{c}")).collect::<Vec<_>>().join(",") };
        let args = ["sweep", "--data", path.to_str().unwrap(), "--no-id", "--features", &features, "--k", "2..8"];
        let with_json: Vec<&str> = args.iter().copied().chain(["--json"]).collect();
        let sweep = json(&strata(&with_json, dir.path()));
        let warned =
            sweep["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("no k from 2 to 8"));
        assert_eq!(warned, !blobs, "{sweep}");
        let o = strata(&args, dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(stdout.contains("no real structure"), !blobs, "{stdout}");
        // fit with a range carries it among its own warnings.
        let fit: Vec<&str> = [
            "fit",
            "--data",
            path.to_str().unwrap(),
            "--no-id",
            "--features",
            &features,
            "--k",
            "3",
            "--sweep",
            "2..8",
            "--json",
        ]
        .to_vec();
        let fit = json(&strata(&fit, dir.path()));
        let warned = fit["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("Kaufman"));
        assert_eq!(warned, !blobs, "{fit}");
    }
}
