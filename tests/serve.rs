//! `strata serve` on a free loopback port, driven over real HTTP: every customer scored by the
//! service (in one batch, and one by one from several connections at once) gets the segment
//! `strata score` gives it; malformed, mistyped, incomplete, oversized and over-long requests get a
//! 400 or 413 naming what was wrong, and the service still answers afterwards; SIGTERM ends it
//! cleanly.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "common/scoring.rs"]
mod common;
use common::*;

/// The service, stopped with SIGKILL if a test fails before it stops it.
struct Service {
    child: Child,
    address: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(d: &Path, extra: &[&str]) -> Service {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "p.strata", "--port", "0"])
        .args(extra)
        .current_dir(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}")).to_string();
    Service { child, address }
}

/// One request on a new connection: the status and the JSON body.
fn request(address: &str, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // A server may answer (413) before reading a large body, and close: not a failure here.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text.split_whitespace().nth(1).unwrap_or_else(|| panic!("no answer: {text:?}")).parse().unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json =
        if body.is_empty() { Value::Null } else { serde_json::from_str(body).unwrap_or(Value::String(body.into())) };
    (status, json)
}

fn post(address: &str, body: &Value) -> (u16, Value) {
    request(address, "POST", "/score", body.to_string().as_bytes())
}

/// A CSV row of the generated table as the JSON a CRM would send: numbers as numbers, empty
/// cells and NaN as null.
fn customer(row: &std::collections::HashMap<String, String>) -> Value {
    let number = |k: &str| match row[k].as_str() {
        "" | "NaN" => Value::Null,
        t => json!(t.parse::<f64>().unwrap()),
    };
    let channel = if row["channel"].is_empty() { Value::Null } else { json!(row["channel"]) };
    json!({
        "customer_id": row["customer_id"],
        "recency": number("recency"),
        "frequency": number("frequency"),
        "monetary": number("monetary"),
        "channel": channel,
    })
}

fn error_of(answer: &(u16, Value)) -> String {
    answer.1["error"].as_str().unwrap_or_else(|| panic!("no error message: {answer:?}")).to_string()
}

#[test]
fn the_service_scores_as_strata_score_does_refuses_bad_requests_by_name_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = fit_mixed(d, 900, 4, true);
    add_rules(d, &[NEWEST_HEAVY, BIG_ON_THE_PHONE], &["--override", "c5=Newest heavy", "--reason", "a known account"]);
    write_new_customers(d, &csv, 400);
    ok(&strata(&["score", "p.strata", "--data", "new.csv", "--out", "scores.csv"], d));
    let expected: std::collections::HashMap<String, std::collections::HashMap<String, String>> =
        rows(&d.join("scores.csv")).into_iter().map(|r| (r["customer_id"].clone(), r)).collect();
    assert_eq!(expected.len(), 410);
    assert_eq!(expected["c5"]["changed_by"], "override");
    let customers: Vec<Value> = rows(&d.join("new.csv")).iter().map(customer).collect();

    let service = start(d, &["--max-body-mb", "0.1", "--max-batch", "500"]);
    let address = service.address.clone();
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    assert_eq!(request(&address, "GET", "/health", b""), (200, json!({"status": "ok"})));
    let (status, model) = request(&address, "GET", "/model", b"");
    assert_eq!(status, 200);
    let fields: Vec<(&str, &str)> = model["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, [("recency", "number"), ("frequency", "number"), ("monetary", "number"), ("channel", "text")]);
    assert_eq!(model["id_column"], "customer_id");
    let names: Vec<&str> = model["segments"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Newest heavy") && names.contains(&"Big on the phone"), "{names:?}");
    assert_eq!(model["limits"]["max_batch"], 500);

    // Every customer in one batch, as `strata score` scored them.
    let (status, batch) = post(&address, &json!({"customers": customers}));
    assert_eq!(status, 200, "{batch}");
    assert_eq!(batch["n_customers"], 410);
    let same = |answer: &Value| {
        let id = answer["customer_id"].as_str().unwrap();
        let want = &expected[id];
        let text = |v: &Value| match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut differ = Vec::new();
        for key in [
            "segment_name",
            "segment_number",
            "model_segment_number",
            "changed_by",
            "reason",
            "reason_column",
            "beyond_fitted",
        ] {
            if text(&answer[key]) != want[key] {
                differ.push(format!("{id} {key}: {} by the service, {} by strata score", answer[key], want[key]));
            }
        }
        let margin = answer["margin"].as_f64();
        let want_margin = want["margin"].parse::<f64>().ok();
        match (margin, want_margin) {
            (Some(a), Some(b)) if (a - b).abs() <= 1e-9 * b.abs().max(1.0) => {}
            (None, None) => {}
            (a, b) => differ.push(format!("{id} margin: {a:?} by the service, {b:?} by strata score")),
        }
        differ
    };
    let differ: Vec<String> = batch["customers"].as_array().unwrap().iter().flat_map(same).collect();
    assert!(differ.is_empty(), "{} differ: {differ:?}", differ.len());
    assert_eq!(batch["customers"].as_array().unwrap().len(), 410);

    // Each customer alone, from eight connections at once: the rules' percentiles are the fitted
    // customers', so a batch of one lands where the whole batch did.
    let chunks: Vec<Vec<Value>> = customers.chunks(customers.len().div_ceil(8)).map(<[Value]>::to_vec).collect();
    let differ: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let address = address.clone();
                let same = &same;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|c| {
                            let (status, answer) = post(&address, c);
                            assert_eq!(status, 200, "{answer}");
                            assert!(answer["warnings"].is_array());
                            same(&answer)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(differ.is_empty(), "{} differ one by one: {differ:?}", differ.len());

    // Bad requests: 400 or 413 naming what was wrong.
    let one = customers[0].clone();
    let bad = |status: u16, answer: (u16, Value), words: &[&str]| {
        assert_eq!(answer.0, status, "{answer:?}");
        let message = error_of(&answer);
        for w in words {
            assert!(message.contains(w), "{message:?} does not say {w:?}");
        }
    };
    bad(400, request(&address, "POST", "/score", b"{\"customer_id\": \"x\", "), &["not JSON"]);
    bad(400, request(&address, "POST", "/score", b""), &["not JSON"]);
    bad(400, request(&address, "POST", "/score", b"42"), &["JSON number"]);
    bad(400, request(&address, "POST", "/score", "\u{feff}{}".as_bytes()), &["not JSON"]);
    let mut missing = one.clone();
    missing.as_object_mut().unwrap().remove("channel");
    bad(400, post(&address, &missing), &["\"channel\"", "missing"]);
    let mut wrong = one.clone();
    wrong["frequency"] = json!("five");
    bad(400, post(&address, &wrong), &["\"frequency\"", "number", "string"]);
    wrong["frequency"] = json!([1, 2]);
    bad(400, post(&address, &wrong), &["\"frequency\"", "array"]);
    let mut wrong = one.clone();
    wrong["channel"] = json!({"a": 1});
    bad(400, post(&address, &wrong), &["\"channel\"", "text", "object"]);
    let mut wrong = one.clone();
    wrong["channel"] = json!(true);
    bad(400, post(&address, &wrong), &["\"channel\"", "boolean"]);
    let mut wrong = one.clone();
    wrong["customer_id"] = json!(["n1"]);
    bad(400, post(&address, &wrong), &["id", "customer_id"]);
    bad(400, post(&address, &json!({"customers": [one, "n2"]})), &["customers[1]", "string"]);
    bad(400, post(&address, &json!({"customers": [one, {"recency": 1}]})), &["customers[1]", "missing"]);
    bad(400, request(&address, "POST", "/score", "1e999".as_bytes()), &["not JSON"]);
    let deep = format!("{}{}", "[".repeat(40_000), "]".repeat(40_000));
    let answer = request(&address, "POST", "/score", deep.as_bytes());
    assert_eq!(answer.0, 400, "{answer:?}");
    let too_many: Vec<Value> = (0..501).map(|_| one.clone()).collect();
    bad(413, post(&address, &json!({"customers": too_many})), &["501 customers", "at most 500"]);
    let padded = format!("{}{}", " ".repeat(200_000), one);
    bad(413, request(&address, "POST", "/score", padded.as_bytes()), &["larger than"]);
    bad(404, request(&address, "GET", "/nowhere", b""), &["POST /score"]);
    assert_eq!(request(&address, "GET", "/score", b"").0, 405);
    // Extreme but well-formed values are scored, not refused: into the fallback or flagged.
    let mut extreme = one.clone();
    extreme["monetary"] = json!(1.7e308);
    extreme["recency"] = json!(-1e308);
    extreme["channel"] = json!("\u{0}\u{202e}fax");
    let (status, answer) = post(&address, &extreme);
    assert_eq!(status, 200, "{answer}");
    assert!(answer["segment_name"].is_string(), "{answer}");
    assert_eq!(post(&address, &json!({"customers": []})).1["n_customers"], 0);
    // An integer channel is read as its digits (an unseen level here).
    let mut digits = one.clone();
    digits["channel"] = json!(7);
    let (status, answer) = post(&address, &digits);
    assert_eq!((status, answer["reason"].as_str()), (200, Some("unseen_category")), "{answer}");

    // Still serving after all that; then SIGTERM ends it cleanly.
    assert_eq!(request(&address, "GET", "/health", b"").0, 200);
    let mut service = service;
    // SAFETY: signalling our own child process by its id.
    unsafe { libc::kill(service.child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = service.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the service did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    service.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("stopped"), "{stderr}");
    // The serve is logged in the project's audit trail.
    let log = strata(&["audit", "show", "p.strata"], d);
    assert!(
        String::from_utf8_lossy(&log.stdout).contains("scoring service"),
        "{}",
        String::from_utf8_lossy(&log.stdout)
    );
}
