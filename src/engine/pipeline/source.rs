//! Reading a source: paths resolved inside the project's folder, the reader options, and the
//! fingerprint of the bytes read.

use super::*;

/// Paths are resolved against this folder; outside it, only when the user allowed it.
#[derive(Clone, Debug)]
pub struct SourceResolver {
    /// The project file's folder (or the working directory for CLI runs without a project).
    pub base_dir: PathBuf,
    /// Whether paths outside `base_dir` may be read (the user picked them).
    pub allow_outside: bool,
}

impl SourceResolver {
    /// A resolver for paths the user typed: anything may be read, relative to `base_dir`.
    pub fn user_chosen(base_dir: &Path) -> Self {
        Self { base_dir: base_dir.to_path_buf(), allow_outside: true }
    }

    /// The full path of a stored source path, refusing escapes from the project folder: by its text
    /// (absolute, `..`) and by where it leads once symbolic links are followed (a `customers.csv`
    /// that links to a file elsewhere, or a linked subfolder).
    pub fn resolve(&self, stored: &str) -> Result<PathBuf, ProjectError> {
        let path = Path::new(stored);
        let joined = self.base_dir.join(path);
        if self.allow_outside {
            return Ok(joined);
        }
        let escapes = path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir | std::path::Component::Prefix(_)));
        if escapes {
            return Err(ProjectError::OutsideProject { source_path: stored.to_string(), leads_to: None });
        }
        let Ok(real) = std::fs::canonicalize(&joined) else {
            // Nothing there (or a dangling link): reading it reports the missing file.
            return Ok(joined);
        };
        let folder = std::fs::canonicalize(&self.base_dir).unwrap_or_else(|_| self.base_dir.clone());
        if !real.starts_with(&folder) {
            return Err(ProjectError::OutsideProject { source_path: stored.to_string(), leads_to: Some(real) });
        }
        // The resolved path is read, so a link swapped after this check still cannot lead out.
        Ok(real)
    }
}

/// blake3 of a file's bytes, hex.
pub fn fingerprint_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// A loaded source with its fingerprint.
pub struct LoadedSource {
    /// The table.
    pub table: LoadedTable,
    /// blake3 of the bytes read.
    pub fingerprint: String,
}

/// Reads a source's table (only `columns`, where given).
pub fn read_source(
    spec: &SourceSpec,
    resolver: &SourceResolver,
    columns: Option<&[String]>,
) -> Result<LoadedTable, PipelineError> {
    read_source_with(spec, resolver, columns, &[])
}

/// As [`read_source`], with `text_columns` (customer ids) kept as the text written, never typed as
/// numbers: `00042` keeps its zeros and stays apart from `42`.
pub fn read_source_with(
    spec: &SourceSpec,
    resolver: &SourceResolver,
    columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, PipelineError> {
    Ok(match &spec.source {
        DataSource::DemoTransactions => data::read_text_with(
            DEMO_TRANSACTIONS,
            Path::new(DEMO_TRANSACTIONS_NAME),
            &spec.read_options,
            columns,
            text_columns,
        )?,
        DataSource::DemoAttributes => data::read_text_with(
            DEMO_ATTRIBUTES,
            Path::new(DEMO_ATTRIBUTES_NAME),
            &spec.read_options,
            columns,
            text_columns,
        )?,
        DataSource::File(stored) if several::is_pattern(stored) => {
            several::read_several(stored, &spec.read_options, resolver, columns, text_columns)?
        }
        DataSource::File(stored) => {
            data::read_table_with(&resolver.resolve(stored)?, &spec.read_options, columns, text_columns)?
        }
    })
}

/// The fingerprint of a source's bytes, hashed as a stream: a file is never held in memory beside
/// the table parsed from it.
pub(crate) fn source_fingerprint(spec: &SourceSpec, resolver: &SourceResolver) -> Result<String, PipelineError> {
    match &spec.source {
        DataSource::DemoTransactions => Ok(fingerprint_bytes(DEMO_TRANSACTIONS)),
        DataSource::DemoAttributes => Ok(fingerprint_bytes(DEMO_ATTRIBUTES)),
        DataSource::File(stored) if several::is_pattern(stored) => several::several_fingerprint(stored, resolver),
        DataSource::File(stored) => {
            let path = resolver.resolve(stored)?;
            let io = |source| DataError::Io { path: path.clone(), source };
            // A pipe or a device is refused before a byte is hashed (it would block or never end).
            let file = data::open_data_file(&path)?;
            Ok(blake3::Hasher::new().update_reader(file).map_err(io)?.finalize().to_hex().to_string())
        }
    }
}
