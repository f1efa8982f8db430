//! Several files read as one table: a stored path with glob characters (`exports/orders_2024-*.csv`,
//! `{jan.csv,feb.csv}`) names every file it matches inside the project's folder. The files are read
//! in sorted order with the same options, must agree on their columns, and are stacked with a
//! [`SOURCE_FILE_COLUMN`] naming each row's file, so a result never depends on the order a folder
//! lists its files in.
//!
//! A project file is untrusted input, so a pattern is bounded (its length, its alternatives, the
//! files it may match) and, unless the user allowed paths outside the folder, never absolute, never
//! climbs out with `..`, and never follows a link out of the folder.

use super::*;

/// The column that names each row's file (its path as matched, relative to the project's folder).
pub const SOURCE_FILE_COLUMN: &str = "source_file";

/// The longest pattern, in characters.
pub const MAX_PATTERN_CHARS: usize = 1_000;

/// The most files one pattern may match.
pub const MAX_MATCHED_FILES: usize = 1_000;

/// The most alternatives `{a,b,...}` may give, all braces together.
pub const MAX_ALTERNATIVES: usize = 100;

/// The most folders a pattern may look into.
const MAX_FOLDERS_LISTED: usize = 10_000;

/// Whether a stored path is a pattern naming several files (it holds `*`, `?`, `[` or `{`).
pub fn is_pattern(stored: &str) -> bool {
    stored.contains(['*', '?', '[', '{'])
}

/// Checks a pattern's shape without touching the disk: its length, balanced braces, the number of
/// alternatives and no `**`. One line naming the problem.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let shown = crate::engine::error::quoted(pattern);
    let chars = pattern.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(format!("the file pattern has {chars} characters; at most {MAX_PATTERN_CHARS}"));
    }
    let alternatives = expand_braces(pattern)?;
    for alternative in &alternatives {
        if alternative.split(['/', '\\']).any(|part| part.contains("**")) {
            return Err(format!("the file pattern {shown} uses **; name each folder level (exports/*/orders-*.csv)"));
        }
    }
    Ok(())
}

/// `{a,b}` alternatives expanded (several braces multiply, nested braces are refused).
fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let shown = crate::engine::error::quoted(pattern);
    let mut out = vec![String::new()];
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("the file pattern {shown} opens a {{ it does not close"))?;
        let inside = &after[..close];
        if inside.contains('{') {
            return Err(format!("the file pattern {shown} nests braces; list the alternatives in one {{a,b}}"));
        }
        let prefix = &rest[..open];
        let options: Vec<&str> = inside.split(',').collect();
        if out.len().saturating_mul(options.len()) > MAX_ALTERNATIVES {
            return Err(format!("the file pattern {shown} gives more than {MAX_ALTERNATIVES} alternatives"));
        }
        out = out.iter().flat_map(|head| options.iter().map(move |o| format!("{head}{prefix}{o}"))).collect();
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("the file pattern {shown} closes a }} it did not open"));
    }
    for head in &mut out {
        head.push_str(rest);
    }
    Ok(out)
}

/// One file a pattern matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedFile {
    /// Its path as matched, relative to the project's folder ('/' between folders), or absolute
    /// for an absolute pattern.
    pub name: String,
    /// Where it is read from (links followed when paths outside the folder are refused).
    pub path: PathBuf,
}

fn has_wildcard(part: &str) -> bool {
    part.contains(['*', '?', '['])
}

/// The files `pattern` matches, sorted by name; one clear error when none does.
pub fn matched_files(pattern: &str, resolver: &SourceResolver) -> Result<Vec<MatchedFile>, PipelineError> {
    let fail = |message: String| PipelineError::from(DataError::SeveralFiles(message));
    check_pattern(pattern).map_err(fail)?;
    let folder = std::fs::canonicalize(&resolver.base_dir).unwrap_or_else(|_| resolver.base_dir.clone());
    let mut found: Vec<MatchedFile> = Vec::new();
    let mut listed = 0usize;
    for alternative in expand_braces(pattern).map_err(fail)? {
        let path = Path::new(&alternative);
        let escapes = path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir | std::path::Component::Prefix(_)));
        if escapes && !resolver.allow_outside {
            return Err(ProjectError::OutsideProject { source_path: pattern.to_string(), leads_to: None }.into());
        }
        // (path on disk, name as matched) of every candidate so far.
        let (start, mut name_root) = if path.is_absolute() {
            let root: PathBuf =
                path.components().take_while(|c| !matches!(c, std::path::Component::Normal(_))).collect();
            let shown = crate::engine::project::paths::with_slashes(&root);
            (root, shown)
        } else {
            (resolver.base_dir.clone(), String::new())
        };
        if !name_root.is_empty() && !name_root.ends_with('/') {
            name_root.push('/');
        }
        let parts: Vec<String> = path
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(p) => Some(p.to_string_lossy().to_string()),
                std::path::Component::ParentDir => Some("..".to_string()),
                _ => None,
            })
            .collect();
        let mut candidates = vec![(start, name_root)];
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let mut next = Vec::new();
            for (dir, name) in &candidates {
                let joined_name = format!("{name}{part}");
                if !has_wildcard(part) {
                    next.push((dir.join(part), joined_name));
                    continue;
                }
                listed += 1;
                if listed > MAX_FOLDERS_LISTED {
                    return Err(fail(format!(
                        "the file pattern {} looks into more than {MAX_FOLDERS_LISTED} folders; narrow it",
                        crate::engine::error::quoted(pattern)
                    )));
                }
                // A folder reached through a link out of the project's folder is not even listed.
                if !resolver.allow_outside
                    && let Ok(real) = std::fs::canonicalize(dir)
                    && !real.starts_with(&folder)
                {
                    return Err(ProjectError::OutsideProject {
                        source_path: name.trim_end_matches('/').to_string(),
                        leads_to: Some(real),
                    }
                    .into());
                }
                let Ok(entries) = std::fs::read_dir(dir) else { continue };
                let wanted: Vec<char> = part.chars().collect();
                let mut names: Vec<String> =
                    entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()).collect();
                names.sort();
                for entry in names {
                    // As in a shell, `*` does not match a hidden file's leading dot.
                    if entry.starts_with('.') && !part.starts_with('.') {
                        continue;
                    }
                    if wildcard_matches(&wanted, &entry.chars().collect::<Vec<_>>()) {
                        next.push((dir.join(&entry), format!("{name}{entry}")));
                    }
                }
            }
            candidates = next
                .into_iter()
                .map(|(p, n)| if last { (p, n) } else { (p, format!("{n}/")) })
                .filter(|(p, _)| if last { p.is_file() } else { p.is_dir() })
                .collect();
            if candidates.len() > MAX_MATCHED_FILES {
                break;
            }
        }
        for (path, name) in candidates {
            let path = if resolver.allow_outside {
                path
            } else {
                // A link that leads out of the folder is refused, naming where it leads.
                let real = std::fs::canonicalize(&path)
                    .map_err(|source| PipelineError::from(DataError::Io { path: path.clone(), source }))?;
                if !real.starts_with(&folder) {
                    return Err(ProjectError::OutsideProject { source_path: name, leads_to: Some(real) }.into());
                }
                real
            };
            found.push(MatchedFile { name, path });
        }
        if found.len() > MAX_MATCHED_FILES {
            return Err(fail(format!(
                "the file pattern {} matches more than {MAX_MATCHED_FILES} files; narrow it or combine the files first",
                crate::engine::error::quoted(pattern)
            )));
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found.dedup_by(|a, b| a.name == b.name);
    if found.is_empty() {
        return Err(fail(format!(
            "no file matches the pattern {} (looked in {}); check the folder and the pattern",
            crate::engine::error::quoted(pattern),
            resolver.base_dir.display()
        )));
    }
    Ok(found)
}

/// Whether `name` matches one path part of a pattern: `*` any run of characters, `?` one
/// character, `[abc]`, `[a-z]` and `[!a]` (or `[^a]`) one of a set; anything else itself.
pub fn wildcard_matches(pattern: &[char], name: &[char]) -> bool {
    let (mut p, mut n) = (0, 0);
    // Where the last `*` was, and the name position it is tried up to: backtracking is linear.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() {
            match pattern[p] {
                '*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                '?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_matches(pattern, p, name[n]) {
                        if matched {
                            p = next;
                            n += 1;
                            continue;
                        }
                    } else if name[n] == '[' {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                c if c == name[n] => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((star_p, star_n)) => {
                p = star_p + 1;
                n = star_n + 1;
                star = Some((star_p, star_n + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A `[...]` class starting at `start`: whether `c` is in it and where the pattern goes on; `None`
/// when the class is not closed (then `[` is an ordinary character).
fn class_matches(pattern: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negated = matches!(pattern.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let item = *pattern.get(i)?;
        if item == ']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|&e| e != ']') {
            let end = pattern[i + 2];
            matched |= item <= c && c <= end;
            i += 3;
        } else {
            matched |= item == c;
            i += 1;
        }
    }
}

/// The fingerprint of every file a pattern matches: their names, sizes and bytes in sorted order,
/// so a file added, removed, renamed or changed changes it.
pub(crate) fn several_fingerprint(pattern: &str, resolver: &SourceResolver) -> Result<String, PipelineError> {
    let mut hasher = blake3::Hasher::new();
    for file in matched_files(pattern, resolver)? {
        let io = |source| DataError::Io { path: file.path.clone(), source };
        let opened = data::open_data_file(&file.path)?;
        let size = opened.metadata().map_err(io)?.len();
        hasher.update(file.name.as_bytes());
        hasher.update(&[0]);
        hasher.update(&size.to_le_bytes());
        hasher.update_reader(opened).map_err(io)?;
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Reads every file `pattern` matches as one table with a [`SOURCE_FILE_COLUMN`]; the files must
/// agree on their columns (the differences are named in one line).
pub(crate) fn read_several(
    pattern: &str,
    options: &ReadOptions,
    resolver: &SourceResolver,
    columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, PipelineError> {
    let files = matched_files(pattern, resolver)?;
    let fail = |message: String| PipelineError::from(DataError::SeveralFiles(message));
    // The source column is made here, never read from a file.
    let wanted: Option<Vec<String>> =
        columns.map(|c| c.iter().filter(|c| c.as_str() != SOURCE_FILE_COLUMN).cloned().collect());
    // Every column of every text file is compared from its first lines before anything is read
    // in full, so a file that adds a column the command does not read is still named.
    let headers: Option<Vec<(String, Vec<String>)>> =
        files.iter().map(|f| header_names(&f.path, options).map(|names| (f.name.clone(), names))).collect();
    if let Some(headers) = &headers {
        check_same_columns(headers).map_err(fail)?;
    }
    let mut tables: Vec<(String, LoadedTable)> = Vec::with_capacity(files.len());
    for file in &files {
        let table =
            data::read_table_with(&file.path, options, wanted.as_deref(), text_columns).map_err(|e| match e {
                DataError::MissingColumn { column, available } => fail(format!(
                    "file {} has no column {} that the others are read for; its columns are: {available}",
                    crate::engine::error::quoted(&file.name),
                    crate::engine::error::quoted(&column)
                )),
                other => fail(format!("file {}: {other}", crate::engine::error::quoted(&file.name))),
            })?;
        if table.frame.column(SOURCE_FILE_COLUMN).is_ok() {
            return Err(fail(format!(
                "file {} already has a column {SOURCE_FILE_COLUMN}, which Strata adds to name each row's file; rename it",
                crate::engine::error::quoted(&file.name)
            )));
        }
        tables.push((file.name.clone(), table));
    }
    let read: Vec<(String, Vec<String>)> = tables
        .iter()
        .map(|(name, t)| (name.clone(), t.frame.get_column_names().iter().map(|c| c.to_string()).collect()))
        .collect();
    check_same_columns(&read).map_err(fail)?;
    let n_files = tables.len();
    let mut warnings = vec![format!(
        "read {} as one table (column {SOURCE_FILE_COLUMN} names each row's file): {}",
        crate::engine::words::count(n_files, "file"),
        listed(&files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>())
    )];
    let mut frames = Vec::with_capacity(n_files);
    let mut readings: Vec<data::ColumnReading> = Vec::new();
    let (mut replaced_chars, mut is_sample) = (0, false);
    let mut skipped_lines = Vec::new();
    let first_dialect = tables.first().and_then(|(_, t)| t.dialect);
    for (name, table) in tables {
        warnings.extend(table.warnings.iter().map(|w| format!("file {}: {w}", crate::engine::error::quoted(&name))));
        for reading in table.readings {
            if !readings.contains(&reading) {
                readings.push(reading);
            }
        }
        replaced_chars += table.replaced_chars;
        is_sample |= table.is_sample;
        skipped_lines.extend(table.skipped_lines);
        let mut frame = table.frame;
        let height = frame.height();
        frame
            .with_column(Column::new(SOURCE_FILE_COLUMN.into(), vec![name.as_str(); height]))
            .map_err(DataError::from)?;
        frames.push(frame.lazy());
    }
    // A column typed differently by two files (whole numbers in one, decimals in the other) takes
    // the type both fit.
    let args = UnionArgs { to_supertypes: true, ..Default::default() };
    let frame = concat(frames, args).and_then(|f| f.collect()).map_err(|e| {
        fail(format!("the files could not be stacked as one table ({e}); give them the same column types"))
    })?;
    Ok(LoadedTable {
        frame,
        path: resolver.base_dir.join(pattern),
        dialect: first_dialect,
        skipped_lines,
        replaced_chars,
        is_sample,
        warnings,
        readings,
    })
}

/// The first few names and how many more.
fn listed(names: &[&str]) -> String {
    const SHOWN: usize = 6;
    let mut text = names.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// How many bytes of a text file are read for its column names.
const HEADER_BYTES: u64 = 64 * 1024;

/// The column names of a text file from its first lines, read as the whole file would be; `None`
/// for other formats or when the first lines alone cannot be read (the full read then decides).
fn header_names(path: &Path, options: &ReadOptions) -> Option<Vec<String>> {
    use std::io::Read;
    if data::FileFormat::from_path(path).ok()? != data::FileFormat::Text {
        return None;
    }
    let mut head = Vec::new();
    data::open_data_file(path).ok()?.take(HEADER_BYTES).read_to_end(&mut head).ok()?;
    if head.len() as u64 == HEADER_BYTES {
        let end = head.iter().rposition(|&b| b == b'\n')?;
        head.truncate(end + 1);
    }
    let options = ReadOptions { sample_rows: None, ..options.clone() };
    let table = data::read_text_with(&head, path, &options, None, &[]).ok()?;
    Some(table.frame.get_column_names().iter().map(|c| c.to_string()).collect())
}

/// Every file against the first: which file lacks and which adds which column, in one line.
fn check_same_columns(tables: &[(String, Vec<String>)]) -> Result<(), String> {
    let Some((first_name, reference)) = tables.first() else { return Ok(()) };
    let mut differences = Vec::new();
    for (name, these) in &tables[1..] {
        let lacks: Vec<&String> = reference.iter().filter(|c| !these.contains(c)).collect();
        let adds: Vec<&String> = these.iter().filter(|c| !reference.contains(c)).collect();
        let mut parts = Vec::new();
        if !lacks.is_empty() {
            parts.push(format!("lacks {}", data::quoted_list(&lacks, 5)));
        }
        if !adds.is_empty() {
            parts.push(format!("adds {}", data::quoted_list(&adds, 5)));
        }
        if !parts.is_empty() {
            differences.push(format!("{} {}", crate::engine::error::quoted(name), parts.join(" and ")));
        }
    }
    if differences.is_empty() {
        return Ok(());
    }
    let shown = differences.len().min(5);
    let more = if differences.len() > shown {
        format!(" (and {} more files)", differences.len() - shown)
    } else {
        String::new()
    };
    Err(format!(
        "the files do not agree on their columns (compared with {}): {}{more}; give files with the same columns",
        crate::engine::error::quoted(first_name),
        differences[..shown].join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn m(pattern: &str, name: &str) -> bool {
        wildcard_matches(&chars(pattern), &chars(name))
    }

    #[test]
    fn wildcards_match_as_a_shell_does() {
        assert!(m("orders_2024-*.csv", "orders_2024-01.csv"));
        assert!(!m("orders_2024-*.csv", "orders_2023-01.csv"));
        assert!(m("*", "x"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("m[0-9][0-9].txt", "m07.txt"));
        assert!(!m("m[!0-9].txt", "m7.txt"));
        assert!(m("m[!0-9].txt", "mx.txt"));
        assert!(m("[[]x", "[x"));
        assert!(m("*a*b*c", "xxaxxbxxc"));
        assert!(!m("*a*b*c", "xxaxxbxx"));
        // Linear backtracking: a long name against many stars answers at once.
        assert!(!m(&"*a".repeat(30), &"a".repeat(29)));
    }

    #[test]
    fn braces_expand_and_bad_patterns_get_one_line() {
        assert_eq!(expand_braces("{a,b}/x{1,2}.csv").unwrap(), ["a/x1.csv", "a/x2.csv", "b/x1.csv", "b/x2.csv"]);
        assert!(check_pattern("{a,b").unwrap_err().contains("does not close"));
        assert!(check_pattern("a}").unwrap_err().contains("did not open"));
        assert!(check_pattern("{a,{b}}").unwrap_err().contains("nests"));
        assert!(check_pattern("**/x.csv").unwrap_err().contains("**"));
        assert!(check_pattern(&"x".repeat(MAX_PATTERN_CHARS + 1)).unwrap_err().contains("at most"));
        let many = "{a,b,c,d,e,f,g,h,i,j}".repeat(3);
        assert!(check_pattern(&many).unwrap_err().contains("alternatives"));
        assert!(is_pattern("exports/orders_*.csv") && !is_pattern("exports/orders.csv"));
    }
}
