//! The JSON of every CLI command on the demo, byte for byte against files written before the house
//! was restructured (issue 16): scripts parse these, so a move of code must not change a byte.
//! The cases are in `tests/fixtures/cli_json/cases.txt`; `UPDATE_GOLDEN=1` rewrites the files.

use std::path::Path;
use std::process::Command;

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
        // Paths under the run's folder are the one thing that differs from run to run.
        let text = String::from_utf8(out.stdout).unwrap().replace(tmp_text, "$TMP").replace(repo, "$ROOT");
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
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
