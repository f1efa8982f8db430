//! Where a project's data files are written in the project: relative to the project file's folder
//! when they lie inside it, otherwise absolute, with '/' between folders on every platform, so a
//! project saved on Windows opens on a Mac and the other way round.

use std::path::{Component, Path, PathBuf};

use crate::engine::pipeline::{DataSource, PipelineSpec};

/// `path` as a project stores it: relative to `base` when it lies inside it (as written, or else
/// with links followed where the files exist), otherwise absolute; '/' between folders on every
/// platform. A link inside the folder keeps its own name, as the user gave it.
pub fn relative_to(path: &Path, base: &Path) -> String {
    let lexical = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| lexical(p));
    let (path_abs, base_abs) = (lexical(path), lexical(base));
    let inside =
        |p: &Path, b: &Path| p.strip_prefix(b).ok().filter(|rel| !rel.as_os_str().is_empty()).map(with_slashes);
    inside(&path_abs, &base_abs)
        .or_else(|| inside(&canonical(path), &canonical(base)))
        .unwrap_or_else(|| with_slashes(&path_abs))
}

/// `path` written with '/' between its parts (a Windows drive or share prefix is kept as it is).
pub fn with_slashes(path: &Path) -> String {
    let mut text = String::new();
    for component in path.components() {
        match component {
            // A verbatim prefix (`\\?\C:`, what canonicalize gives on Windows) is written as the
            // plain one: Windows does not read '/' inside a verbatim path.
            Component::Prefix(prefix) => match prefix.kind() {
                std::path::Prefix::VerbatimDisk(drive) | std::path::Prefix::Disk(drive) => {
                    text.push(char::from(drive));
                    text.push(':');
                }
                std::path::Prefix::VerbatimUNC(server, share) | std::path::Prefix::UNC(server, share) => {
                    text.push_str(&format!("//{}/{}", server.to_string_lossy(), share.to_string_lossy()));
                }
                _ => text.push_str(&prefix.as_os_str().to_string_lossy()),
            },
            Component::RootDir => text.push('/'),
            other => {
                if !text.is_empty() && !text.ends_with('/') {
                    text.push('/');
                }
                text.push_str(&other.as_os_str().to_string_lossy());
            }
        }
    }
    text
}

/// The folder a project file at `project_path` resolves its relative data paths against.
pub fn project_folder(project_path: &Path) -> PathBuf {
    project_path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| ".".into())
}

/// Rewrites every data file path of `spec` (the main source and the attribute table) that was
/// stored relative to `old_base` so that it names the same file from `new_base`: relative where the
/// file lies inside `new_base`, absolute otherwise (see [`relative_to`]). The built-in demo data
/// has no path and is left alone.
pub fn rebase_sources(spec: &mut PipelineSpec, old_base: &Path, new_base: &Path) {
    let sources = std::iter::once(&mut spec.source).chain(spec.attributes.as_mut());
    for source in sources {
        if let DataSource::File(stored) = &source.source {
            let absolute = old_base.join(stored);
            source.source = DataSource::File(relative_to(&absolute, new_base));
        }
    }
}

/// [`rebase_sources`] for the project's spec and every published version's, so a version keeps
/// reading its own data after the project moves.
pub fn rebase_project(project: &mut super::Project, old_base: &Path, new_base: &Path) {
    rebase_sources(&mut project.spec, old_base, new_base);
    for version in &mut project.versions.published {
        rebase_sources(&mut version.spec, old_base, new_base);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pipeline::SourceSpec;

    fn spec_with(source: &str, attributes: Option<&str>) -> PipelineSpec {
        let file = |path: &str| SourceSpec {
            source: DataSource::File(path.to_string()),
            read_options: Default::default(),
            fingerprint: None,
        };
        let mut spec: PipelineSpec = crate::engine::project::parse(crate::engine::DEMO_PROJECT)
            .map(|opened| opened.project.spec)
            .unwrap_or_else(|e| panic!("the demo project parses: {e}"));
        spec.source = file(source);
        spec.attributes = attributes.map(file);
        spec
    }

    fn stored(source: &SourceSpec) -> &str {
        match &source.source {
            DataSource::File(path) => path,
            DataSource::DemoTransactions | DataSource::DemoAttributes => "(demo)",
        }
    }

    #[test]
    fn saving_elsewhere_rebases_the_data_and_the_attribute_table() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old");
        let new = dir.path().join("new");
        std::fs::create_dir_all(old.join("data")).unwrap();
        std::fs::create_dir_all(new.join("inputs")).unwrap();
        std::fs::write(old.join("data/orders.csv"), "a\n1\n").unwrap();
        std::fs::write(new.join("inputs/attributes.csv"), "a\n1\n").unwrap();
        // The attribute table was stored relative to the old folder, but lives under the new one.
        let mut spec = spec_with("data/orders.csv", Some("../new/inputs/attributes.csv"));
        rebase_sources(&mut spec, &old, &new);
        let orders = std::fs::canonicalize(old.join("data/orders.csv")).unwrap();
        assert_eq!(stored(&spec.source), with_slashes(&orders), "outside the new folder: absolute");
        assert_eq!(stored(spec.attributes.as_ref().unwrap()), "inputs/attributes.csv", "inside: relative");
        // Saved back to the old folder, both are relative to it again.
        rebase_sources(&mut spec, &new, &old);
        assert_eq!(stored(&spec.source), "data/orders.csv");
        let attributes = std::fs::canonicalize(new.join("inputs/attributes.csv")).unwrap();
        assert_eq!(stored(spec.attributes.as_ref().unwrap()), with_slashes(&attributes));
    }

    #[test]
    fn a_project_saved_beside_its_data_stores_plain_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/c.csv"), "x\n").unwrap();
        let rel = relative_to(&dir.path().join("a/b/c.csv"), dir.path());
        assert_eq!(rel, "a/b/c.csv");
        assert!(!rel.contains('\\'));
        // A file that does not exist (yet) is written as given, still with slashes.
        assert_eq!(relative_to(&dir.path().join("a/missing.csv"), &dir.path().join("a")), "missing.csv");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_inside_the_folder_keeps_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("orders.csv");
        std::fs::write(&target, "id\n1\n").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("orders.csv")).unwrap();
        assert_eq!(relative_to(&dir.path().join("orders.csv"), dir.path()), "orders.csv");
    }

    #[test]
    fn paths_use_slashes_and_the_demo_source_is_left_alone() {
        assert_eq!(with_slashes(Path::new("data/2024/orders.csv")), "data/2024/orders.csv");
        assert_eq!(with_slashes(Path::new("/srv/data/orders.csv")), "/srv/data/orders.csv");
        #[cfg(windows)]
        assert_eq!(with_slashes(Path::new(r"C:\data\orders.csv")), "C:/data/orders.csv");
        let mut spec = spec_with("x.csv", None);
        spec.source.source = DataSource::DemoTransactions;
        rebase_sources(&mut spec, Path::new("/a"), Path::new("/b"));
        assert_eq!(spec.source.source, DataSource::DemoTransactions);
        assert_eq!(project_folder(Path::new("p.strata")), PathBuf::from("."));
        assert_eq!(project_folder(Path::new("/x/p.strata")), PathBuf::from("/x"));
    }
}
