//! Atomic save: a temporary file in the same folder, fsync, rename over the target, fsync the folder.
//! The previous version is kept as `<name>.bak`. A crash at any moment leaves the old or the new file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The path of the backup kept beside a saved file.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    // Directories can be fsynced on Unix; elsewhere renames are durable through other means.
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes bytes to a file in a temporary sibling and renames it into place.
fn write_via_temp(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = temp_path(path);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Removes the temporary files that interrupted saves of `path` (or of its backup) left beside it:
/// only names of the save's own pattern, `.<name>.<pid>.tmp` and `.<name>.bak.<pid>.tmp`, whose
/// process no longer runs. Returns how many were removed; a file that cannot be removed stays.
pub fn remove_stale_temp_files(path: &Path) -> usize {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return 0;
    };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|f| stale_temp_pid(f, name)) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && !process_runs(pid) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The process id in a temporary file name of the save's pattern for `name`, if it is one.
fn stale_temp_pid(file_name: &str, name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_prefix(name)?.strip_prefix('.')?;
    let rest = rest.strip_prefix("bak.").unwrap_or(rest);
    let digits = rest.strip_suffix(".tmp")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a process with this id runs (this one always does).
fn process_runs(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        // Signal 0 checks for the process without signalling it; EPERM means it runs as another user.
        let Ok(pid) = i32::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 sends nothing; it only reports whether the process exists.
        let result = unsafe { libc::kill(pid, 0) };
        result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Saves `bytes` at `path` atomically, keeping the previous content as `<path>.bak`; temporary files
/// of earlier interrupted saves are removed first.
pub fn save_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    remove_stale_temp_files(path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if path.exists() {
        // The backup is itself written atomically: the target is never moved away, so there is no
        // moment without a complete file at `path`.
        let previous = std::fs::read(path)?;
        write_via_temp(&backup_path(path), &previous)?;
    }
    write_via_temp(path, bytes)?;
    sync_dir(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_the_saves_own_temp_names() {
        assert_eq!(stale_temp_pid(".p.strata.123.tmp", "p.strata"), Some(123));
        assert_eq!(stale_temp_pid(".p.strata.bak.77.tmp", "p.strata"), Some(77));
        for other in [".p.strata.tmp", "p.strata.123.tmp", ".p.strata.12a.tmp", ".q.strata.1.tmp", ".p.strata.1.tmp.x"]
        {
            assert_eq!(stale_temp_pid(other, "p.strata"), None, "{other}");
        }
    }

    #[test]
    fn removes_temp_files_of_dead_saves_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p.strata");
        std::fs::write(&project, "x").unwrap();
        // A pid far above any the kernel hands out (pid_max is at most 2^22).
        let dead = dir.path().join(".p.strata.99999999.tmp");
        let dead_backup = dir.path().join(".p.strata.bak.99999998.tmp");
        let own = dir.path().join(format!(".p.strata.{}.tmp", std::process::id()));
        let unrelated = dir.path().join(".other.strata.99999999.tmp");
        for f in [&dead, &dead_backup, &own, &unrelated] {
            std::fs::write(f, "partial").unwrap();
        }
        assert_eq!(remove_stale_temp_files(&project), 2);
        assert!(!dead.exists() && !dead_backup.exists());
        assert!(own.exists() && unrelated.exists() && project.exists());
        save_atomically(&project, b"new").unwrap();
        assert_eq!(std::fs::read(&project).unwrap(), b"new");
    }
}
