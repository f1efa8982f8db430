//! A shared project's file pattern is untrusted input, as its paths are (tests/hostile_projects.rs):
//! it never matches outside the project's folder (no absolute pattern, no `..`, no link out, not
//! even a listing of a linked folder), it is bounded (length, alternatives, files matched), and
//! every refusal is one line.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use strata::engine::error::{PipelineError, ProjectError};
use strata::engine::pipeline::SourceResolver;
use strata::engine::pipeline::several::{MAX_MATCHED_FILES, MAX_PATTERN_CHARS, matched_files};
use strata::engine::project;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile/projects")
}

/// The corpus's base project with its data path replaced by `pattern`.
fn project_in(dir: &Path, pattern: &str) -> PathBuf {
    let base = std::fs::read_to_string(corpus().join("the_base_itself.strata")).unwrap();
    // Stamped with this build's format, so opening it says nothing before the error under test.
    let text = base.replace("File(\"customers.csv\")", &format!("File({pattern:?})")).replacen(
        "format_version: 6,",
        &format!("format_version: {},", strata::engine::project::FORMAT_VERSION),
        1,
    );
    assert!(text.contains(&format!("File({pattern:?})")), "the base project names customers.csv");
    let path = dir.join("p.strata");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(project: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_strata")).args(["run", project.to_str().unwrap()]).output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn inside(dir: &Path) -> SourceResolver {
    SourceResolver { base_dir: dir.to_path_buf(), allow_outside: false }
}

fn outside_with_secret() -> tempfile::TempDir {
    let outside = tempfile::tempdir().unwrap();
    std::fs::copy(corpus().join("customers.csv"), outside.path().join("secret.csv")).unwrap();
    outside
}

#[test]
fn absolute_and_climbing_patterns_are_refused_before_anything_is_listed() {
    let outside = outside_with_secret();
    let dir = tempfile::tempdir().unwrap();
    let absolute = format!("{}/*.csv", outside.path().display());
    for pattern in [absolute.as_str(), "../*/secret.csv", "data/../../*.csv"] {
        let err = matched_files(pattern, &inside(dir.path())).unwrap_err();
        assert!(
            matches!(err, PipelineError::Project(ProjectError::OutsideProject { leads_to: None, .. })),
            "{pattern}: {err}"
        );
        let (success, stderr) = run(&project_in(dir.path(), pattern));
        assert!(!success && stderr.contains("outside the project's folder"), "{pattern}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    // The user may pick files outside the folder themselves.
    let chosen = SourceResolver::user_chosen(dir.path());
    assert_eq!(matched_files(&absolute, &chosen).unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn a_match_or_a_folder_that_links_out_is_refused_naming_where_it_leads() {
    let outside = outside_with_secret();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::copy(corpus().join("customers.csv"), dir.path().join("data/a.csv")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), dir.path().join("data/b.csv")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
    let secret = std::fs::canonicalize(outside.path().join("secret.csv")).unwrap();
    let folder = std::fs::canonicalize(outside.path()).unwrap();
    for (pattern, leads) in [("data/*.csv", &secret), ("linked/*.csv", &folder), ("*/secret.csv", &secret)] {
        let err = matched_files(pattern, &inside(dir.path())).unwrap_err();
        assert!(
            matches!(&err, PipelineError::Project(ProjectError::OutsideProject { leads_to: Some(p), .. }) if p == leads),
            "{pattern}: {err}"
        );
        let (success, stderr) = run(&project_in(dir.path(), pattern));
        assert!(!success && stderr.contains(&leads.display().to_string()), "{pattern}: {stderr}");
    }
    // A link that stays inside the folder is matched like the file it leads to.
    std::fs::remove_file(dir.path().join("data/b.csv")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("data/a.csv"), dir.path().join("data/c.csv")).unwrap();
    let names: Vec<String> =
        matched_files("data/*.csv", &inside(dir.path())).unwrap().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["data/a.csv", "data/c.csv"]);
}

#[test]
fn unbounded_patterns_are_refused_when_the_project_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{}*.csv", "x".repeat(MAX_PATTERN_CHARS));
    let bomb = "{a,b,c,d,e,f,g,h,i,j}".repeat(4) + "*.csv";
    let cases = [
        (long.as_str(), "characters"),
        (bomb.as_str(), "alternatives"),
        ("**/*.csv", "**"),
        ("{a,b*.csv", "does not close"),
        ("{a,{b,c}}*.csv", "nests"),
    ];
    for (pattern, words) in cases {
        let err = project::open(&project_in(dir.path(), pattern)).unwrap_err().to_string();
        assert!(err.contains(words) && err.contains("spec.source"), "{pattern}: {err}");
        assert!(!err.contains('\n') && err.len() < 2_000, "{err}");
    }
}

#[test]
fn a_pattern_matching_too_many_files_is_refused_and_zero_matches_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..=MAX_MATCHED_FILES {
        std::fs::write(dir.path().join(format!("part-{i:05}.csv")), "id,x\n1,2\n").unwrap();
    }
    let err = matched_files("part-*.csv", &inside(dir.path())).unwrap_err().to_string();
    assert!(err.contains(&format!("more than {MAX_MATCHED_FILES} files")), "{err}");
    assert_eq!(matched_files("part-0000?.csv", &inside(dir.path())).unwrap().len(), 10);
    let err = matched_files("orders-*.csv", &inside(dir.path())).unwrap_err().to_string();
    assert!(err.contains("no file matches the pattern 'orders-*.csv'"), "{err}");
    // Hidden files are not matched by `*`, as in a shell.
    std::fs::write(dir.path().join(".part-hidden.csv"), "id,x\n1,2\n").unwrap();
    assert!(matched_files("*hidden.csv", &inside(dir.path())).is_err());
}
