#![allow(dead_code)] // each test file uses its own part of these helpers
//! What the scoring tests share: running Strata, reading its CSVs, and a generated customer table
//! with a categorical column fitted into a project.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

pub fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

pub fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A CSV without quoted cells as rows of column -> text.
pub fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines.map(|l| header.iter().cloned().zip(l.split(',').map(str::to_string)).collect()).collect()
}

/// `column` of a CSV written by Strata, by the value of its first column.
pub fn by_id(path: &Path, column: &str) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap().split(',').next().unwrap().to_string();
    rows(path)
        .into_iter()
        .map(|r| {
            let value = r.get(column).unwrap_or_else(|| panic!("no {column} in {}", path.display())).clone();
            (r[&first].clone(), value)
        })
        .collect()
}

/// The CDNOW log shipped with Strata.
pub fn cdnow() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt")
}

/// The demo project in `d` as demo.strata, with `rule` added through `strata edit`.
pub fn demo_with_rule(d: &Path, rule: &str) {
    std::fs::write(d.join("demo.strata"), strata::cli::DEMO_PROJECT).unwrap();
    ok(&strata(&["edit", "demo.strata", "--actor", "test", "--add-rule", rule], d));
}

/// `n` customers in three groups (recency, frequency, monetary, channel), written to
/// customers.csv in `d` and fitted with k-means into p.strata (frequency and monetary log-scaled,
/// channel one-hot); with `holes`, some recency and channel cells are empty. Returns the CSV.
pub fn fit_mixed(d: &Path, n: u32, k: usize, holes: bool) -> String {
    let mut csv = String::from("customer_id,recency,frequency,monetary,channel\n");
    for i in 0..n {
        let g = (i % 3) as usize;
        let channel = if holes && i % 11 == 0 { "" } else { ["web", "store", "phone"][(g + (i as usize / 7) % 2) % 3] };
        let recency = if holes && i % 13 == 0 {
            String::new()
        } else {
            format!("{}", [10.0, 60.0, 200.0][g] + f64::from(i % 17))
        };
        csv.push_str(&format!(
            "c{i},{recency},{},{},{channel}\n",
            [12, 5, 1][g] + i % 4,
            [900.0, 300.0, 40.0][g] + f64::from(i % 29) * 3.5
        ));
    }
    std::fs::write(d.join("customers.csv"), &csv).unwrap();
    let k = k.to_string();
    ok(&strata(
        &[
            "fit",
            "--data",
            "customers.csv",
            "--id",
            "customer_id",
            "--features",
            "recency,frequency,monetary,channel",
            "--categorical",
            "channel",
            "--log1p",
            "frequency,monetary",
            "--k",
            &k,
            "--project",
            "p.strata",
        ],
        d,
    ));
    csv
}

/// A rule of the generated table's tests: the newest heavy buyers, by a percentile of the fitted
/// customers.
pub const NEWEST_HEAVY: &str = "when recency < p5 and frequency >= 13 then segment \"Newest heavy\"";
/// A rule no fitted customer matches (no fitted monetary is over 1000): its segment is made only by
/// batches that have such customers.
pub const BIG_ON_THE_PHONE: &str = "when channel = phone and monetary > 1000 then segment \"Big on the phone\"";

/// `rules` added to p.strata in `d` through `strata edit`, with any `extra` arguments of that
/// command (an override and its reason, say).
pub fn add_rules(d: &Path, rules: &[&str], extra: &[&str]) {
    let mut args = vec!["edit", "p.strata", "--actor", "test"];
    for rule in rules {
        args.extend(["--add-rule", rule]);
    }
    args.extend(extra);
    ok(&strata(&args, d));
}

/// New customers unlike the fitted ones (missing values, an unseen channel, extremes, NaN, a value
/// too large to scale, negative amounts), then the first `fitted` rows of the table `fit_mixed`
/// wrote, as new.csv in `d`.
pub fn write_new_customers(d: &Path, csv: &str, fitted: usize) {
    let odd = "customer_id,recency,frequency,monetary,channel\nn1,15,13,910,web\nn2,,5,300,store\nn3,200,1,100000,phone\n\
               n4,60,5,300,fax\nn5,,,,\nn6,0,40,5000,web\nn7,-3,0,-20,store\nn8,NaN,5,300,store\nn9,1e300,5,300,web\n\
               n10,12,14,1500,phone\n";
    let rows = csv.lines().skip(1).take(fitted).collect::<Vec<_>>().join("\n");
    std::fs::write(d.join("new.csv"), format!("{odd}{rows}\n")).unwrap();
}

/// The Python that runs the real engines and consumers (`$STRATA_SQL_PYTHON`; .ci/run makes one).
pub fn python() -> String {
    std::env::var("STRATA_SQL_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether that Python can import `module`.
pub fn has_module(module: &str) -> bool {
    Command::new(python()).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success())
}

/// Whether a missing engine or consumer fails the test (`STRATA_REQUIRE_SQL_ENGINES=1`, as in CI).
pub fn require() -> bool {
    std::env::var("STRATA_REQUIRE_SQL_ENGINES").is_ok_and(|v| v == "1")
}

/// A `strata fit` of the generated table (customers.csv in `d`, as [`fit_mixed`]
/// wrote it) with `method` and its `extra` settings, into `project`: four segments, except for the
/// hybrid, which finds its own number.
pub fn fit_method(d: &Path, method: &str, extra: &[&str], project: &str) {
    let args =
        ["fit", "--data", "customers.csv", "--id", "customer_id", "--features", "recency,frequency,monetary,channel"];
    let k: &[&str] = if method == "hybrid" { &[] } else { &["--k", "4"] };
    let args = [&args[..], &["--categorical", "channel", "--log1p", "frequency,monetary"], k].concat();
    ok(&strata(&[&args[..], &["--algorithm", method, "--project", project], extra].concat(), d));
}
