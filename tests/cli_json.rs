//! The JSON of every CLI command on the demo, byte for byte against files written before the house
//! was restructured (issue 16): scripts parse these, so a move of code must not change a byte.
//! The cases are in `tests/fixtures/cli_json/cases.txt`; `UPDATE_GOLDEN=1` rewrites the files.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// `text` with each audit entry's time, writer and hashes (which chain over them) replaced by
/// "(varies)", line by line so every other byte stays as printed; a document without an audit log
/// as it is.
fn masked(text: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    if value.get("audit").and_then(|a| a.as_array()).is_none_or(Vec::is_empty) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let key = ["\"when\": \"", "\"who\": \"", "\"hash\": \"", "\"prev\": \""]
            .into_iter()
            .find(|k| line.trim_start().starts_with(k));
        match key {
            Some(key) => {
                let comma = if line.trim_end().ends_with(',') { "," } else { "" };
                out.push_str(&format!("{}{key}(varies)\"{comma}\n", &line[..indent]));
            }
            None => out.push_str(line),
        }
    }
    out
}

#[test]
fn every_command_prints_the_json_it_printed_before() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli_json");
    let cases = std::fs::read_to_string(root.join("cases.txt")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let tmp_text = tmp.path().to_str().unwrap();
    let repo = env!("CARGO_MANIFEST_DIR");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut differences = Vec::new();
    let mut ran = 0;
    for line in cases.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (name, args) = line.split_once('|').unwrap();
        let (name, args) = (name.trim(), args.trim());
        let args: Vec<String> =
            args.split_whitespace().map(|a| a.replace("$TMP", tmp_text).replace("$ROOT", repo)).collect();
        let out = Command::new(env!("CARGO_BIN_EXE_strata")).args(&args).current_dir(tmp.path()).output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        // Paths under the run's folder differ from run to run, and so do the audit log's times, writer
        // and the hashes over them.
        let text = String::from_utf8(out.stdout).unwrap().replace(tmp_text, "$TMP").replace(repo, "$ROOT");
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        let text = masked(&text);
        let file = root.join(format!("{name}.json"));
        if update {
            std::fs::write(&file, &text).unwrap();
        } else {
            let before = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if before != text {
                let at = before.bytes().zip(text.bytes()).take_while(|(a, b)| a == b).count();
                let from = at.saturating_sub(80);
                differences.push(format!(
                    "{name}: differs at byte {at}:\n  before: {:?}\n  now:    {:?}",
                    &before[from..(at + 80).min(before.len())],
                    &text[from..(at + 80).min(text.len())]
                ));
            }
        }
        ran += 1;
    }
    assert!(ran >= 20, "only {ran} cases");
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
