//! A shared project file is untrusted input: every file of the hostile corpus
//! (tests/fixtures/hostile/projects, written by ../make_projects.py) has the exact outcome its
//! manifest gives, links and special files never lead a project out of its folder, and a fuzzer
//! of the parser finds no panic.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use proptest::prelude::*;
use strata::engine::error::ProjectError;
use strata::engine::pipeline::SourceResolver;
use strata::engine::project;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile/projects")
}

fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus().join("expected.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (file, outcome) = l.split_once('\t').unwrap();
            (file.to_string(), outcome.to_string())
        })
        .collect()
}

fn strata(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_strata")).args(args).output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Opens `path` on a thread: the outcome, or why there is none (a panic, or no answer in time).
fn try_open_within(path: &Path, limit: Duration) -> Result<Result<project::OpenedProject, ProjectError>, String> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let path = path.to_path_buf();
    let spawned = std::thread::Builder::new().name("open-hostile-project".into()).spawn(move || {
        let _ = sender.send(project::open(&path));
    });
    spawned.map_err(|e| format!("could not start a thread: {e}"))?;
    receiver.recv_timeout(limit).map_err(|e| match e {
        std::sync::mpsc::RecvTimeoutError::Timeout => format!("opening did not return within {limit:?}"),
        std::sync::mpsc::RecvTimeoutError::Disconnected => "opening panicked".to_string(),
    })
}

/// As [`try_open_within`], failing the test when there is no outcome.
fn open_within(path: &Path, limit: Duration) -> Result<project::OpenedProject, ProjectError> {
    try_open_within(path, limit).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_hostile_project_has_its_exact_outcome() {
    let cases = manifest();
    assert!(cases.len() >= 60, "the corpus shrank to {} files", cases.len());
    let mut failures = Vec::new();
    for (file, outcome) in &cases {
        let path = corpus().join(file);
        let (kind, words) = outcome.split_once(": ").map_or((outcome.as_str(), ""), |(k, w)| (k, w));
        let opened = match try_open_within(&path, Duration::from_secs(30)) {
            Ok(opened) => opened,
            Err(no_outcome) => {
                failures.push(format!("{file} (expected {outcome}): {no_outcome}"));
                continue;
            }
        };
        let problem = match (kind, &opened) {
            ("ok", Ok(o)) if !o.read_only => None,
            ("ok-readonly", Ok(o)) if o.read_only && o.banner.as_deref().is_some_and(|b| b.contains(words)) => None,
            ("refused", Err(e)) => {
                let line = e.to_string();
                if !line.contains(words) {
                    Some(format!("refused, but the message lacks '{words}': {line}"))
                } else if line.contains('\n') || line.len() > 2_000 {
                    Some(format!("refused in more than one short line ({} bytes)", line.len()))
                } else {
                    None
                }
            }
            ("verify-fails" | "run-refused", Ok(_)) => {
                let mut args = vec!["run", path.to_str().unwrap()];
                if kind == "verify-fails" {
                    args.push("--verify");
                }
                let (success, stderr) = strata(&args);
                let last = stderr.lines().last().unwrap_or_default();
                (success || !last.contains(words) || !last.starts_with("error: "))
                    .then(|| format!("`strata {}` exit ok = {success}, last line: {last}", args.join(" ")))
            }
            (_, Ok(_)) => Some("opened, but it must not".to_string()),
            (_, Err(e)) => Some(format!("refused: {e}")),
        };
        if let Some(problem) = problem {
            failures.push(format!("{file} (expected {outcome}): {problem}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} hostile projects:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn the_base_project_verifies_so_each_altered_result_is_what_fails() {
    let (success, stderr) = strata(&["run", corpus().join("the_base_itself.strata").to_str().unwrap(), "--verify"]);
    assert!(success, "{stderr}");
    assert!(stderr.contains("verified: the re-run reproduces every stored result"), "{stderr}");
}

fn project_in(dir: &Path, data_path: &str) -> PathBuf {
    let base = std::fs::read_to_string(corpus().join("the_base_itself.strata")).unwrap();
    // Stamped with this build's format, so opening it says nothing before the error under test.
    let text = base.replace("File(\"customers.csv\")", &format!("File({data_path:?})")).replacen(
        "format_version: 6,",
        &format!("format_version: {},", strata::engine::project::FORMAT_VERSION),
        1,
    );
    let path = dir.join("p.strata");
    std::fs::write(&path, text).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn a_link_inside_the_folder_that_leads_out_is_refused_naming_where_it_leads() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.csv");
    std::fs::copy(corpus().join("customers.csv"), &secret).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("customers.csv")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
    let resolver = SourceResolver { base_dir: dir.path().to_path_buf(), allow_outside: false };
    for stored in ["customers.csv", "linked/secret.csv"] {
        let err = resolver.resolve(stored).unwrap_err();
        let leads = std::fs::canonicalize(&secret).unwrap();
        assert!(
            matches!(&err, ProjectError::OutsideProject { leads_to: Some(p), .. } if *p == leads),
            "{stored}: {err}"
        );
        assert!(err.to_string().contains(&leads.display().to_string()), "{err}");
    }
    // The same bytes behind the link: `run --verify` must still refuse, not pass.
    let project = project_in(dir.path(), "customers.csv");
    let (success, stderr) = strata(&["run", project.to_str().unwrap(), "--verify"]);
    assert!(!success && stderr.contains("leads to"), "{stderr}");
    // A link that stays inside the folder is fine.
    std::fs::copy(corpus().join("customers.csv"), dir.path().join("real.csv")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("real.csv"), dir.path().join("inside.csv")).unwrap();
    assert!(resolver.resolve("inside.csv").is_ok());
    let project = project_in(dir.path(), "inside.csv");
    let (success, stderr) = strata(&["run", project.to_str().unwrap(), "--verify"]);
    assert!(success, "{stderr}");
}

#[cfg(unix)]
#[test]
fn special_files_as_project_or_data_are_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.strata");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let err = open_within(&fifo, Duration::from_secs(10)).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(open_within(Path::new("/dev/zero"), Duration::from_secs(10)).is_err());
    assert!(open_within(dir.path(), Duration::from_secs(10)).is_err());
    // A project whose data is a device or a pipe inside its folder: refused before any byte is read.
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.csv")).unwrap();
    let data_fifo = dir.path().join("data.csv");
    assert!(Command::new("mkfifo").arg(&data_fifo).status().unwrap().success());
    for data in ["zero.csv", "data.csv"] {
        let project = project_in(dir.path(), data);
        let child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["run", project.to_str().unwrap()])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let output = wait_or_kill(child, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.starts_with("error: "), "{data}: {stderr}");
    }
}

fn wait_or_kill(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("the command did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn opening_removes_temp_files_of_an_interrupted_save_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.strata");
    std::fs::copy(corpus().join("the_base_itself.strata"), &path).unwrap();
    let stale = dir.path().join(".p.strata.99999999.tmp");
    let other = dir.path().join(".p.strata.notes.tmp");
    std::fs::write(&stale, "half a save").unwrap();
    std::fs::write(&other, "not ours").unwrap();
    project::open(&path).unwrap();
    assert!(!stale.exists());
    assert!(other.exists());
}

#[test]
fn a_stored_source_path_is_resolved_inside_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(corpus().join("customers.csv"), dir.path().join("customers.csv")).unwrap();
    let resolver = SourceResolver { base_dir: dir.path().to_path_buf(), allow_outside: false };
    let resolved = resolver.resolve("customers.csv").unwrap();
    assert_eq!(resolved, std::fs::canonicalize(dir.path().join("customers.csv")).unwrap());
    // A missing file resolves to its path, so reading it says it is missing.
    assert_eq!(resolver.resolve("missing.csv").unwrap(), dir.path().join("missing.csv"));
}

/// One mutation of a valid project text: the kinds of damage an editor, a merge or a hostile hand
/// makes (bytes flipped, lines dropped or repeated, numbers replaced by extremes, brackets cut).
#[derive(Clone, Debug)]
enum Mutation {
    FlipByte(usize, u8),
    DeleteRange(usize, usize),
    DuplicateLine(usize),
    DeleteLine(usize),
    ReplaceNumber(usize, &'static str),
    Truncate(usize),
    InsertText(usize, &'static str),
}

const EXTREMES: &[&str] =
    &["0", "-1", "18446744073709551615", "1e308", "-1e308", "NaN", "inf", "1e-320", "4294967296", "\"\"", "None"];
const INSERTS: &[&str] = &["(", ")", "[", "]", ",", "Some(", "x: 1,", "\"", "\\", "\u{0}", "\u{202e}", "/*", "r#\""];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Mutation::DeleteRange(i, n)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::DeleteLine),
        (any::<usize>(), proptest::sample::select(EXTREMES)).prop_map(|(i, s)| Mutation::ReplaceNumber(i, s)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), proptest::sample::select(INSERTS)).prop_map(|(i, s)| Mutation::InsertText(i, s)),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    let lines: Vec<&str> = text.lines().collect();
    if bytes.is_empty() || lines.is_empty() {
        return bytes;
    }
    match *mutation {
        Mutation::FlipByte(i, b) => {
            let i = i % bytes.len();
            bytes[i] = b;
        }
        Mutation::DeleteRange(i, n) => {
            let i = i % bytes.len();
            bytes.drain(i..(i + n).min(bytes.len()));
        }
        Mutation::DuplicateLine(i) | Mutation::DeleteLine(i) => {
            let i = i % lines.len();
            let mut out: Vec<&str> = lines.clone();
            if matches!(mutation, Mutation::DuplicateLine(_)) {
                out.insert(i, lines[i]);
            } else {
                out.remove(i);
            }
            bytes = out.join("\n").into_bytes();
        }
        Mutation::ReplaceNumber(i, with) => {
            let numbers: Vec<(usize, usize)> = number_spans(text);
            if !numbers.is_empty() {
                let (start, end) = numbers[i % numbers.len()];
                bytes.splice(start..end, with.bytes());
            }
        }
        Mutation::Truncate(i) => bytes.truncate(i % bytes.len()),
        Mutation::InsertText(i, s) => {
            let i = i % bytes.len();
            bytes.splice(i..i, s.bytes());
        }
    }
    bytes
}

fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'_') {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'e' || bytes[i] == b'-')
            {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

fn fuzz_base() -> String {
    std::fs::read_to_string(corpus().join("the_base_itself.strata")).unwrap()
}

proptest! {
    // CI runs the default 256 cases (PROPTEST_CASES raises it for a long run).
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Any damage to a project text is parsed to an answer: a project, or one error line; never a
    /// panic. What parses must also pass its own bounds when saved and read again.
    #[test]
    fn the_project_parser_never_panics_on_damaged_text(mutations in proptest::collection::vec(mutation(), 1..4)) {
        let base = fuzz_base();
        let mut text = base.clone();
        for m in &mutations {
            let bytes = apply(&text, m);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        match project::parse(&text) {
            Ok(opened) => {
                let again = opened.project.to_ron().unwrap();
                project::parse(&again).unwrap();
            }
            Err(e) => {
                let line = e.to_string();
                prop_assert!(!line.contains('\n') || line.len() < 4_000, "{line}");
            }
        }
    }
}
