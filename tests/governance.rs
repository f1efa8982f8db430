//! Governance end to end through the CLI: the audit log's chain catches edits, deletions,
//! truncation and hand edits; `strata edit` logs each change; sign-offs, comments, disputes and
//! opt-outs survive save and reopen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata::engine::governance::audit;
use strata::engine::project;

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).env("USER", "tester").output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The demo project copied into a fresh folder (its data is built in, so it re-runs anywhere).
fn demo_copy(dir: &Path) -> PathBuf {
    let path = dir.join("p.strata");
    std::fs::write(&path, strata::engine::DEMO_PROJECT).unwrap();
    path
}

/// A project with a rename, a rule, an override and a sign-off, made through the CLI.
fn governed(dir: &Path) -> PathBuf {
    let p = demo_copy(dir);
    let ps = p.to_str().unwrap();
    ok(&strata(&["edit", ps, "--actor", "Ana", "--rename", "1=Core loyalists"], dir));
    ok(&strata(
        &[
            "edit",
            ps,
            "--actor",
            "Ana",
            "--add-rule",
            "when frequency >= 20 then segment \"VIP\"",
            "--reason",
            "key accounts",
        ],
        dir,
    ));
    ok(&strata(&["edit", ps, "--actor", "Ana", "--override", "00042=2", "--reason", "asked by sales"], dir));
    ok(&strata(
        &["signoff", ps, "--reviewer", "Rui", "--role", "DPO", "--decision", "approve", "--comment", "ok"],
        dir,
    ));
    p
}

fn entries(path: &Path) -> Vec<audit::AuditEntry> {
    project::open(path).unwrap().project.audit
}

#[test]
fn edits_are_logged_and_the_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let p = governed(dir.path());
    let log = entries(&p);
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for wanted in ["rename", "rule.add", "override", "signoff"] {
        assert!(actions.contains(&wanted), "{wanted} missing from {actions:?}");
    }
    assert!(log.iter().all(|e| e.is_sealed()));
    let rename = log.iter().rev().find(|e| e.action == "rename").unwrap();
    assert_eq!(rename.who, "Ana");
    assert_eq!(rename.after, "Core loyalists");
    assert!(!rename.before.is_empty());
    let out = ok(&strata(&["audit", "verify", p.to_str().unwrap(), "--json"], dir.path()));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["entries"].as_u64().unwrap() as usize, log.len());
    // The project's own check agrees, and the sign-off recorded a head that is in the log.
    let opened = project::open(&p).unwrap().project;
    let signoff = opened.governance.signoffs.last().unwrap();
    assert_eq!(log[signoff.audit_count - 1].hash, signoff.audit_head);
}

/// Rewrites the saved file's text with `change` and returns `strata audit verify`'s output.
fn tampered(p: &Path, dir: &Path, change: impl Fn(&str) -> String) -> Output {
    let text = std::fs::read_to_string(p).unwrap();
    let changed = change(&text);
    assert_ne!(changed, text, "the tampering changed nothing");
    std::fs::write(p, changed).unwrap();
    strata(&["audit", "verify", p.to_str().unwrap()], dir)
}

#[test]
fn an_edited_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = governed(dir.path());
    // The entry's reason (the audit log comes after the rules in the file).
    let o = tampered(&p, dir.path(), |t| {
        let i = t.rfind("asked by sales").unwrap();
        format!("{}asked by finance{}", &t[..i], &t[i + "asked by sales".len()..])
    });
    assert!(!o.status.success());
    let e = stderr(&o);
    // Named by its number and words (the demo's own log comes before the three edits made here).
    let n = entries(&p).iter().position(|x| x.why == "asked by finance").unwrap() + 1;
    assert!(
        e.contains(&format!("entry {n} (override: customer 00042")) && e.contains("changed after it was written"),
        "{e}"
    );
}

#[test]
fn a_deleted_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = governed(dir.path());
    // Delete entry 2 as a text editor would, whole, with its hashes.
    let mut project = project::open(&p).unwrap().project;
    project.audit.remove(1);
    project.save_unsealed(&p).unwrap();
    let o = strata(&["audit", "verify", p.to_str().unwrap()], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("entry 2 is missing"), "{}", stderr(&o));
}

#[test]
fn a_truncated_log_is_found_by_its_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let p = governed(dir.path());
    let full = audit::head(&entries(&p));
    // Cut the last entry (the sign-off's): the chain that is left still links.
    let mut project = project::open(&p).unwrap().project;
    project.audit.pop();
    project.save_unsealed(&p).unwrap();
    // The sign-off recorded the full count, so verify names the missing entry.
    let o = strata(&["audit", "verify", p.to_str().unwrap()], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains(&format!("entry {} is missing", full.count)), "{}", stderr(&o));
    // Without the sign-off, only a head kept elsewhere (an export's) shows it.
    project.governance.signoffs.clear();
    project.save_unsealed(&p).unwrap();
    ok(&strata(&["audit", "verify", p.to_str().unwrap()], dir.path()));
    let o = strata(
        &["audit", "verify", p.to_str().unwrap(), "--head", &full.hash, "--count", &full.count.to_string()],
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("the end of the log was cut off"), "{}", stderr(&o));
}

#[test]
fn a_hand_edit_without_an_entry_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let p = governed(dir.path());
    let o = tampered(&p, dir.path(), |t| t.replacen("name: \"Core loyalists\"", "name: \"Best of all\"", 1));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("changed after entry"), "{}", stderr(&o));
}

#[test]
fn disputes_need_another_approver_and_become_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let p = demo_copy(dir.path());
    let ps = p.to_str().unwrap();
    ok(&strata(
        &["dispute", ps, "--customer", "00007", "--segment", "2", "--requester", "Ana", "--reason", "wrong"],
        dir.path(),
    ));
    let opened = project::open(&p).unwrap().project;
    assert!(opened.rules.overrides.is_empty(), "a pending dispute changes nothing");
    let o = strata(&["dispute", ps, "--approve", "1", "--approver", "ana"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("another person"), "{}", stderr(&o));
    ok(&strata(&["dispute", ps, "--approve", "1", "--approver", "Rui"], dir.path()));
    let opened = project::open(&p).unwrap().project;
    assert_eq!(opened.rules.overrides.len(), 1);
    assert_eq!(opened.rules.overrides[0].customer, "00007");
    assert_eq!(opened.governance.disputes[0].decided_by.as_deref(), Some("Rui"));
    ok(&strata(&["audit", "verify", ps], dir.path()));
}

#[test]
fn opt_outs_are_stored_hashed_and_comments_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let p = demo_copy(dir.path());
    let ps = p.to_str().unwrap();
    ok(&strata(&["opt-out", ps, "--id", "00001,00002"], dir.path()));
    ok(&strata(
        &["comment", ps, "--on", "segment:Champions", "--text", "why so small?", "--author", "Rui"],
        dir.path(),
    ));
    ok(&strata(&["comment", ps, "--reply-to", "1", "--text", "seasonal", "--author", "Ana"], dir.path()));
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(!text.contains("\"00001\""), "an opted-out id is in the file in clear");
    let opened = project::open(&p).unwrap().project;
    assert!(opened.governance.opt_outs.contains("00001"));
    assert!(!opened.governance.opt_outs.contains("00003"));
    assert_eq!(opened.governance.comments.len(), 2);
    assert_eq!(opened.governance.comments[1].reply_to, Some(1));
    let listed = ok(&strata(&["comment", ps, "--list"], dir.path()));
    assert!(listed.contains("why so small?") && listed.contains("seasonal"), "{listed}");
    ok(&strata(&["audit", "verify", ps], dir.path()));
}

#[test]
fn hostile_edit_arguments_get_one_line_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = demo_copy(dir.path());
    let ps = p.to_str().unwrap();
    let before = std::fs::read(&p).unwrap();
    for args in [
        vec!["edit", ps, "--rename", "99=x"],
        vec!["edit", ps, "--rename", "=x"],
        vec!["edit", ps, "--add-rule", "when then"],
        vec!["edit", ps, "--remove-rule", "7"],
        vec!["edit", ps, "--override", "00042=1"],
        vec!["edit", ps, "--override", "no-such-customer=1", "--reason", "x"],
        vec!["edit", ps, "--small-cells", "0"],
        vec!["edit", ps, "--unsigned", "sometimes"],
        vec!["edit", ps],
        vec!["signoff", ps, "--reviewer", "", "--decision", "approve"],
        vec!["signoff", ps, "--reviewer", "R", "--decision", "maybe"],
        vec!["comment", ps, "--on", "galaxy:far", "--text", "x"],
        vec!["comment", ps, "--reply-to", "9", "--text", "x"],
        vec!["dispute", ps, "--approve", "3", "--approver", "R"],
        vec!["opt-out", ps, "--file", "/dev/zero"],
    ] {
        let o = strata(&args, dir.path());
        assert!(!o.status.success(), "{args:?} succeeded");
        let e = stderr(&o);
        assert_eq!(e.trim().lines().count(), 1, "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{args:?}: {e}");
        assert_eq!(std::fs::read(&p).unwrap(), before, "{args:?} changed the file");
    }
}

/// A project on a data file of its own folder (the CDNOW customers, aggregated).
fn project_with_data(dir: &Path) -> PathBuf {
    let cdnow = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt");
    let c = dir.join("c.csv");
    let args = ["rfm", "--transactions", cdnow.to_str().unwrap(), "--customer-id", "customer_id", "--date", "date"];
    ok(&strata(&[&args[..], &["--amount", "dollar_value", "--out", c.to_str().unwrap()]].concat(), dir));
    let p = dir.join("p.strata");
    let fit = ["fit", "--data", "c.csv", "--features", "recency_days,frequency,monetary_total", "--k", "4"];
    ok(&strata(&[&fit[..], &["--project", p.to_str().unwrap()]].concat(), dir));
    ok(&strata(&["edit", p.to_str().unwrap(), "--actor", "Ana", "--rename", "1=Core"], dir));
    p
}

#[test]
fn a_pack_opens_and_verifies_on_its_own_and_refuses_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let p = project_with_data(dir.path());
    let pack = dir.path().join("review.stratapack");
    ok(&strata(&["pack", p.to_str().unwrap(), "--with-data", "--out", pack.to_str().unwrap()], dir.path()));
    // Elsewhere, without the data beside it.
    let other = tempfile::tempdir().unwrap();
    let moved = other.path().join("review.stratapack");
    std::fs::copy(&pack, &moved).unwrap();
    let o = strata(&["unpack", moved.to_str().unwrap()], other.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("every file matches") && e.contains("reproduces every stored result") && e.contains("intact"),
        "{e}"
    );
    let unpacked = other.path().join("review/project.strata");
    assert_eq!(std::fs::read(&unpacked).unwrap(), std::fs::read(&p).unwrap(), "the project is packed byte for byte");

    // A data file altered inside the pack, and an entry that climbs out of the folder.
    let bytes = std::fs::read(&pack).unwrap();
    let mut altered = bytes.clone();
    let at = altered.windows(6).position(|w| w == b"\n00001").unwrap();
    altered[at + 5] = b'9';
    std::fs::write(other.path().join("altered.stratapack"), &altered).unwrap();
    let o = strata(&["unpack", "altered.stratapack"], other.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("'c.csv' in the pack") && stderr(&o).contains("altered"), "{}", stderr(&o));
    std::fs::write(other.path().join("junk.stratapack"), b"PK\x03\x04 not really").unwrap();
    let o = strata(&["unpack", "junk.stratapack"], other.path());
    assert!(!o.status.success());
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn exports_are_logged_stamped_and_blocked_when_unsigned() {
    let dir = tempfile::tempdir().unwrap();
    let p = demo_copy(dir.path());
    let ps = p.to_str().unwrap();
    ok(&strata(&["opt-out", ps, "--id", "00001"], dir.path()));
    ok(&strata(&["run", ps, "--out", "a.csv"], dir.path()));
    let csv = std::fs::read_to_string(dir.path().join("a.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",opted_out"), "{header}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",true"));
    assert_eq!(csv.lines().filter(|l| l.ends_with(",true")).count(), 1);
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a.csv.audit.json")).unwrap()).unwrap();
    let log = entries(&p);
    assert_eq!(log.last().unwrap().action, "export");
    assert_eq!(provenance["audit_head"], log.last().unwrap().hash.as_str());
    assert_eq!(provenance["audit_count"].as_u64().unwrap() as usize, log.len());
    // The head an export carries is an anchor: verify checks it.
    let count = log.len().to_string();
    ok(&strata(
        &["audit", "verify", ps, "--head", provenance["audit_head"].as_str().unwrap(), "--count", &count],
        dir.path(),
    ));
    // Blocked until a reviewer approves this version (the demo's approval is of the version before
    // this rename).
    ok(&strata(&["edit", ps, "--rename", "5=VIP", "--unsigned", "block"], dir.path()));
    let o = strata(&["run", ps, "--out", "b.csv"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("blocks exports"), "{}", stderr(&o));
    assert!(!dir.path().join("b.csv").exists());
    ok(&strata(&["signoff", ps, "--reviewer", "Rui", "--decision", "approve"], dir.path()));
    ok(&strata(&["run", ps, "--out", "b.csv"], dir.path()));
    ok(&strata(&["audit", "verify", ps], dir.path()));
}

#[test]
fn every_headless_export_is_logged_and_a_failed_one_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let p = demo_copy(dir.path());
    let ps = p.to_str().unwrap();
    ok(&strata(&["opt-out", ps, "--id", "00001"], dir.path()));
    let cdnow = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt");
    let exports: [(&str, Vec<&str>); 4] = [
        ("chart.png", vec!["chart", ps, "--chart", "segment-sizes", "--out", "chart.png"]),
        ("report.html", vec!["report", ps, "--out", "report.html"]),
        ("decisions.csv", vec!["swot", ps, "--decisions", "decisions.csv"]),
        ("new.csv", vec!["predict", ps, "--data", cdnow.to_str().unwrap(), "--out", "new.csv"]),
    ];
    for (file, args) in &exports {
        let before = entries(&p).len();
        ok(&strata(args, dir.path()));
        let log = entries(&p);
        assert_eq!(log.len(), before + 1, "{file}");
        assert_eq!(log.last().unwrap().action, "export", "{file}");
        let provenance: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(format!("{file}.audit.json"))).unwrap())
                .unwrap();
        assert_eq!(provenance["audit_head"], log.last().unwrap().hash.as_str(), "{file}");
    }
    // New customers who opted out are marked too.
    let scored = std::fs::read_to_string(dir.path().join("new.csv")).unwrap();
    assert!(scored.lines().next().unwrap().ends_with(",opted_out"));
    assert_eq!(scored.lines().filter(|l| l.ends_with(",true")).count(), 1);
    assert!(scored.lines().any(|l| l.starts_with("00001,") && l.ends_with(",true")));

    // An export that cannot be written: no entry, no provenance, the project as it was.
    let bytes = std::fs::read(&p).unwrap();
    for args in [
        vec!["run", ps, "--out", "missing/a.csv"],
        vec!["chart", ps, "--chart", "segment-sizes", "--out", "missing/c.png"],
        vec!["report", ps, "--out", "missing/r.html"],
    ] {
        let o = strata(&args, dir.path());
        assert!(!o.status.success(), "{args:?}");
        assert!(!dir.path().join("missing").exists(), "{args:?}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{args:?}");
    }
    ok(&strata(&["audit", "verify", ps], dir.path()));
}
