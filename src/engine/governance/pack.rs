//! A review pack: one file holding a project and its data, for reviewers who lack the data.
//!
//! A zip (stored, uncompressed) with `manifest.json` (every file's blake3 and size), the project
//! file as it is (byte for byte, so its audit chain and definition are unchanged) and each data
//! file at the path the project gives it, relative to the project's folder. Opening a pack checks
//! every entry's name (no absolute path, no `..`), count and size before writing anything, and every
//! file against the manifest after; the project's own fingerprints are checked when it is re-run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::engine::pipeline::{DataSource, SourceResolver, several};
use crate::engine::project::Project;

/// The name of the project inside a pack.
pub const PROJECT_ENTRY: &str = "project.strata";
/// Most files a pack may hold.
pub const MAX_ENTRIES: usize = 1_000;
/// Most bytes a pack may unpack to.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024 * 1024;

/// The data files a project reads, as stored (relative to its folder).
fn data_paths(project: &Project) -> Result<Vec<String>, String> {
    let mut paths = Vec::new();
    let sources = std::iter::once(&project.spec.source).chain(project.spec.attributes.as_ref());
    for source in sources {
        match &source.source {
            DataSource::File(p) if several::is_pattern(p) => {
                return Err(format!(
                    "'{p}' names several files by a pattern; a pack holds named files only (list them in the project, or copy the folder)"
                ));
            }
            DataSource::File(p) => paths.push(p.clone()),
            DataSource::DemoTransactions | DataSource::DemoAttributes => {}
        }
    }
    paths.extend(project.spec.derived.lookups.iter().map(|l| l.path.clone()));
    Ok(paths)
}

/// Writes the pack of the project at `project_path` to `out`; returns the files packed.
pub fn write(project_path: &Path, out: &Path) -> Result<Vec<String>, String> {
    let opened = crate::engine::project::open(project_path).map_err(|e| e.to_string())?;
    let project_bytes = std::fs::read(project_path).map_err(|e| format!("{}: {e}", project_path.display()))?;
    let folder = crate::engine::project::paths::project_folder(project_path);
    let resolver = SourceResolver { base_dir: folder, allow_outside: false };
    let mut files: Vec<(String, Vec<u8>)> = vec![(PROJECT_ENTRY.to_string(), project_bytes)];
    for stored in data_paths(&opened.project)? {
        let path = resolver
            .resolve(&stored)
            .map_err(|e| format!("{e}; a pack holds only files inside the project's folder"))?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = stored.replace('\\', "/");
        if !files.iter().any(|(n, _)| *n == name) {
            files.push((name, bytes));
        }
    }
    let manifest: Vec<serde_json::Value> = files
        .iter()
        .map(|(name, bytes)| serde_json::json!({"name": name, "bytes": bytes.len(), "blake3": blake3::hash(bytes).to_hex().to_string()}))
        .collect();
    let manifest =
        serde_json::to_string_pretty(&serde_json::json!({"format": "strata-pack", "version": 1, "files": manifest}))
            .map_err(|e| e.to_string())?;
    let tmp = out.with_extension("pack-tmp");
    let written = (|| -> Result<(), String> {
        let file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        let entries =
            std::iter::once(("manifest.json".to_string(), manifest.into_bytes())).chain(files.iter().cloned());
        for (name, bytes) in entries {
            zip.start_file(name, options).map_err(|e| e.to_string())?;
            zip.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        let mut inner = zip.finish().map_err(|e| e.to_string())?;
        inner.flush().map_err(|e| e.to_string())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("could not write the pack: {e}"));
    }
    std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(files.into_iter().map(|(n, _)| n).collect())
}

/// Whether an entry's name is a plain relative path (no root, no `..`, no drive, not empty).
fn safe_name(name: &str) -> bool {
    let path = Path::new(name);
    !name.is_empty()
        && !name.contains('\\')
        && !name.contains('\0')
        && path.components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Unpacks `pack` into the folder `into` (made if missing; files there of the same names are
/// replaced) after checking every entry, and checks every file against the manifest. Returns the
/// project file's path.
pub fn unpack(pack: &Path, into: &Path) -> Result<PathBuf, String> {
    let file = std::fs::File::open(pack).map_err(|e| format!("{}: {e}", pack.display()))?;
    if !file.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(format!("{}: not a regular file", pack.display()));
    }
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| format!("{}: not a Strata pack ({e})", pack.display()))?;
    if zip.len() > MAX_ENTRIES {
        return Err(format!("{} files is more than a pack may hold ({MAX_ENTRIES})", zip.len()));
    }
    let manifest: serde_json::Value = {
        let mut entry =
            zip.by_name("manifest.json").map_err(|_| "not a Strata pack: it has no manifest.json".to_string())?;
        let mut text = String::new();
        entry.by_ref().take(1 << 20).read_to_string(&mut text).map_err(|e| format!("manifest.json: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("manifest.json is damaged: {e}"))?
    };
    if manifest["format"] != "strata-pack" {
        return Err("not a Strata pack: its manifest says another format".to_string());
    }
    let listed = manifest["files"].as_array().ok_or("manifest.json lists no files")?;
    let mut expected = std::collections::BTreeMap::new();
    let mut total: u64 = 0;
    for f in listed {
        let name = f["name"].as_str().ok_or("manifest.json: a file without a name")?;
        let bytes = f["bytes"].as_u64().ok_or("manifest.json: a file without a size")?;
        let hash = f["blake3"].as_str().ok_or("manifest.json: a file without a hash")?;
        if !safe_name(name) {
            return Err(format!("the pack names a file '{name}' outside its own folder; nothing was unpacked"));
        }
        total = total.saturating_add(bytes);
        expected.insert(name.to_string(), (bytes, hash.to_string()));
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(format!("the pack would unpack to {total} bytes, more than {MAX_UNPACKED_BYTES}"));
    }
    if !expected.contains_key(PROJECT_ENTRY) {
        return Err(format!("the pack holds no {PROJECT_ENTRY}"));
    }
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        if name != "manifest.json" && !expected.contains_key(&name) {
            return Err(format!("the pack holds '{name}', which its manifest does not list; nothing was unpacked"));
        }
    }
    std::fs::create_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
    for (name, (bytes, hash)) in &expected {
        let mut entry =
            zip.by_name(name).map_err(|_| format!("the manifest lists '{name}' and the pack does not hold it"))?;
        let mut data = Vec::with_capacity((*bytes).min(1 << 30) as usize);
        entry
            .by_ref()
            .take(bytes + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("'{name}' in the pack is damaged or altered ({e}); nothing more was unpacked"))?;
        if data.len() as u64 != *bytes || blake3::hash(&data).to_hex().as_str() != hash {
            return Err(format!(
                "'{name}' in the pack does not match its fingerprint in the manifest (damaged or altered)"
            ));
        }
        let target = into.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        crate::engine::project::save_atomically(&target, &data).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(into.join(PROJECT_ENTRY))
}

/// Whether a path names a pack (by its extension).
pub fn is_pack(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("stratapack"))
}

/// The folder a pack is unpacked into when opened: beside nothing the user owns, in the temporary
/// folder, named by the pack's own hash so the same pack opens in the same place.
pub fn unpack_folder(pack: &Path) -> PathBuf {
    let key = blake3::hash(pack.display().to_string().as_bytes()).to_hex()[..16].to_string();
    std::env::temp_dir().join(format!("strata-pack-{key}"))
}
