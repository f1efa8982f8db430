//! Building the frame: every column typed in parallel, then the file's decimal mark settled across
//! columns, the user's rule for dates that did not parse applied, and header names made unique.

use polars::prelude::*;

use super::super::formats::{ColumnReading, ReadAs, ReadingKind, UnparsedDates, ValueFormats};
use super::super::grouped_warnings;
use super::super::numbers::DecimalMark;
use super::{Cells, ColumnNote, MarkChoice, RawTable, Typed, dates, is_missing, text_column, type_column_with};
use crate::engine::error::{DataError, quoted};

/// Types every column (in parallel) and builds the frame, keeping `text_columns` as the text
/// written and reading dates and numbers as `formats` asks; returns warnings about mixed columns and
/// odd values (in column order, grouped by kind on wide files) and how each column
/// that looked like dates or formatted numbers was read. The decimal mark of formatted numbers
/// whose separators read both ways (`1,234`) comes from the user or from the file's other columns;
/// plain numbers such as `1.234` in a file that writes decimal commas are kept as text, not read at
/// a thousandth of their value.
pub(in crate::engine::data) fn build_frame_with<C: Cells>(
    raw: RawTable<C>,
    text_columns: &[String],
    formats: &ValueFormats,
) -> Result<(DataFrame, Vec<String>, Vec<ColumnReading>), DataError> {
    use rayon::prelude::*;
    formats.check()?;
    let users_mark_of = |name: &str| {
        formats.for_column(name).decimal_comma.map(|comma| if comma { DecimalMark::Comma } else { DecimalMark::Point })
    };
    let mut typed: Vec<Typed> = raw
        .headers
        .par_iter()
        .zip(raw.columns.par_iter())
        .enumerate()
        .map(|(i, (name, values))| {
            if text_columns.contains(name) {
                Ok(Typed::plain(text_column(name, values), Vec::new()))
            } else if formats.read_as(name) == ReadAs::Text {
                let reading = ColumnReading {
                    column: name.clone(),
                    kind: ReadingKind::Text,
                    format: String::new(),
                    sentence: format!("column {} kept as text as written (your choice)", quoted(name)),
                    n_unparsed: 0,
                    unparsed_examples: Vec::new(),
                    candidates: Vec::new(),
                    unparsed_rows: Vec::new(),
                };
                Ok(Typed { reading: Some(reading), ..Typed::plain(text_column(name, values), Vec::new()) })
            } else {
                let own = formats.for_column(name);
                let mark = users_mark_of(name).map_or(MarkChoice::Detect, MarkChoice::Users);
                type_column_with(name, values, &own, mark, raw.numbers.get(i).and_then(Option::as_ref))
            }
        })
        .collect::<Result<_, DataError>>()?;
    // The file's decimal mark: the user's, or the one its columns show without contradiction.
    let file_mark =
        formats.decimal_comma.map(|comma| if comma { DecimalMark::Comma } else { DecimalMark::Point }).or_else(|| {
            let shown = |m| typed.iter().any(|t| t.evidence == Some(m));
            match (shown(DecimalMark::Point), shown(DecimalMark::Comma)) {
                (false, true) => Some(DecimalMark::Comma),
                (true, false) => Some(DecimalMark::Point),
                _ => None,
            }
        });
    for (i, name) in raw.headers.iter().enumerate() {
        let users_mark = users_mark_of(name);
        if let Some(example) = typed[i].needs_mark.clone() {
            let note = |line: String| ColumnNote {
                kind: "hold numbers whose separators read two ways and are kept as text",
                column: name.clone(),
                line,
            };
            if users_mark.is_none()
                && let Some(mark) = file_mark
            {
                let own = formats.for_column(name);
                let numbers = raw.numbers.get(i).and_then(Option::as_ref);
                let mut again = type_column_with(name, &raw.columns[i], &own, MarkChoice::Files(mark), numbers)?;
                if let Some(reading) = again.reading.as_mut() {
                    reading
                        .sentence
                        .push_str(&format!(", as the file's other columns write numbers with {}", mark.describe()));
                    for n in &mut again.notes {
                        if n.line.starts_with("column") && n.kind == "were read from formatted text" {
                            n.line = reading.sentence.clone();
                        }
                    }
                }
                typed[i] = again;
            } else {
                let value = example.replace([',', '.'], "");
                typed[i].notes.push(note(format!(
                    "column {} is ambiguous: {} is {value} (thousands separator) or {} (decimal mark); kept as text: pass --decimal-comma yes or no",
                    quoted(name),
                    quoted(&example),
                    example.replacen(',', ".", 1)
                )));
            }
        }
        if file_mark == Some(DecimalMark::Comma)
            && users_mark.is_none()
            && let Some(example) = typed[i].plain_ambiguous.clone()
        {
            let line = format!(
                "column {} has numbers such as {} that could be {} (thousands, as this file writes numbers with a decimal comma) or {example}; kept as text: pass --decimal-comma yes or no",
                quoted(name),
                quoted(&example),
                example.replace('.', "")
            );
            typed[i] = Typed::plain(
                text_column(name, &raw.columns[i]),
                vec![ColumnNote {
                    kind: "hold numbers whose separators read two ways and are kept as text",
                    column: name.clone(),
                    line,
                }],
            );
        }
        // A column kept as text although it looked like dates or numbers says why, for the Data
        // screen; a date column says which other formats would read it too.
        if typed[i].reading.is_none()
            && let Some(first) = typed[i].notes.first()
            && first.kind.contains("kept as text")
            && !first.kind.contains("leading zeros")
        {
            typed[i].reading = Some(ColumnReading {
                column: name.clone(),
                kind: ReadingKind::Text,
                format: String::new(),
                sentence: first.line.clone(),
                n_unparsed: 0,
                unparsed_examples: Vec::new(),
                candidates: Vec::new(),
                unparsed_rows: Vec::new(),
            });
        }
        if let Some(reading) = typed[i].reading.as_mut()
            && matches!(reading.kind, ReadingKind::Dates | ReadingKind::DateTimes)
        {
            let sample = distinct_sample(&raw.columns[i]);
            reading.candidates = dates::fitting_formats(&sample).into_iter().filter(|f| *f != reading.format).collect();
        }
    }
    let unparsed = apply_unparsed_rule(&mut typed, formats.unparsed_dates)?;
    let mut notes = Vec::new();
    let mut columns = Vec::with_capacity(typed.len());
    let mut readings = Vec::new();
    for t in typed {
        notes.extend(t.notes);
        readings.extend(t.reading);
        columns.push(t.column);
    }
    let mut frame = DataFrame::new_infer_height(columns)?;
    let mut warnings = grouped_warnings(notes);
    if let Some((rows, line)) = unparsed {
        let mut keep = vec![true; frame.height()];
        for &row in &rows {
            if let Some(k) = keep.get_mut(row) {
                *k = false;
            }
        }
        let mask = BooleanChunked::from_slice("keep".into(), &keep);
        frame = frame.filter(&mask)?;
        warnings.push(line);
    }
    Ok((frame, warnings, readings))
}

/// Up to 200 distinct present values among a column's first cells, trimmed.
fn distinct_sample(values: &impl Cells) -> Vec<&str> {
    let mut sample: Vec<&str> = Vec::new();
    for i in 0..values.len().min(5_000) {
        let s = values.cell(i);
        if is_missing(s) {
            continue;
        }
        let t = s.trim();
        if !sample.contains(&t) {
            sample.push(t);
            if sample.len() == 200 {
                break;
            }
        }
    }
    sample
}

/// Applies the user's rule to rows whose value in a date column did not parse: refused (an error
/// naming the columns, counts and examples), dropped (the rows to drop and the warning), or kept
/// for the fallback segment (the rows stay on the readings). Says so in each column's sentence.
fn apply_unparsed_rule(typed: &mut [Typed], rule: UnparsedDates) -> Result<Option<(Vec<usize>, String)>, DataError> {
    let affected: Vec<usize> =
        (0..typed.len()).filter(|&i| typed[i].reading.as_ref().is_some_and(|r| r.n_unparsed > 0)).collect();
    let Some(&first) = affected.first() else { return Ok(None) };
    let describe = |r: &ColumnReading| {
        format!(
            "{} value(s) in column {} are not dates in its format {} (for example {})",
            r.n_unparsed,
            quoted(&r.column),
            quoted(&r.format),
            r.unparsed_examples.join(", ")
        )
    };
    let replace_in = |t: &mut Typed, with: &str| {
        for n in &mut t.notes {
            n.line = n.line.replace("did not parse and are missing", with);
        }
        if let Some(r) = t.reading.as_mut() {
            r.sentence = r.sentence.replace("did not parse and are missing", with);
        }
    };
    match rule {
        UnparsedDates::Refuse => {
            let r = typed[first].reading.as_ref().map(describe).unwrap_or_default();
            let more = if affected.len() > 1 {
                format!(" ({} date columns have such values)", affected.len())
            } else {
                String::new()
            };
            Err(DataError::BadColumn {
                column: typed[first].reading.as_ref().map(|r| r.column.clone()).unwrap_or_default(),
                problem: format!(
                    "has values that do not parse as dates: {r}{more}; say where those rows go (--unparsed-dates drop or fallback), or give the column's format (--date-format COLUMN=FORMAT)"
                ),
            })
        }
        UnparsedDates::Drop => {
            let mut rows: Vec<usize> = Vec::new();
            let mut lines = Vec::new();
            for &i in &affected {
                if let Some(r) = typed[i].reading.as_mut() {
                    rows.extend(std::mem::take(&mut r.unparsed_rows));
                    lines.push(describe(r));
                }
                replace_in(&mut typed[i], UnparsedDates::Drop.consequence());
            }
            rows.sort_unstable();
            rows.dedup();
            let line = format!("{} row(s) left out at your request: {}", rows.len(), lines.join("; "));
            Ok(Some((rows, line)))
        }
        UnparsedDates::Fallback => {
            for &i in &affected {
                replace_in(&mut typed[i], UnparsedDates::Fallback.consequence());
            }
            Ok(None)
        }
    }
}

/// Header names made unique and non-empty, as later stages address columns by name, with a warning
/// for each renamed duplicate (naming both columns) and for columns without a name. A generated name
/// never takes a name that a later header really has (`a,a,a_2` reads as `a`, `a_3`, `a_2`).
pub(in crate::engine::data) fn unique_headers(fields: &[String]) -> (Vec<String>, Vec<String>) {
    use std::collections::{HashMap, HashSet};
    const NAMED: usize = 5;
    let real: HashSet<&str> = fields.iter().map(|f| f.trim()).filter(|f| !f.is_empty()).collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut first_position: HashMap<&str, usize> = HashMap::new();
    let mut names = Vec::with_capacity(fields.len());
    let mut duplicates: Vec<String> = Vec::new();
    let mut n_duplicates = 0usize;
    let mut unnamed: Vec<String> = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let name = field.trim();
        let base = if name.is_empty() { format!("column_{}", i + 1) } else { name.to_string() };
        let mut candidate = base.clone();
        let mut n = 2usize;
        // The name as written is the column's own if it is free; a generated one must also avoid
        // names that real headers use later on.
        while used.contains(&candidate) || (candidate != name && real.contains(candidate.as_str())) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        if name.is_empty() {
            unnamed.push(candidate.clone());
        } else if let Some(&first) = first_position.get(name) {
            n_duplicates += 1;
            if duplicates.len() < NAMED {
                duplicates.push(format!(
                    "columns {} and {} are both named {}; the second is read as {}",
                    first + 1,
                    i + 1,
                    quoted(name),
                    quoted(&candidate)
                ));
            }
        } else {
            first_position.insert(name, i);
        }
        used.insert(candidate.clone());
        names.push(candidate);
    }
    let mut warnings = duplicates;
    if n_duplicates > NAMED {
        warnings.push(format!(
            "{} more columns repeat an earlier column's name and were renamed the same way",
            n_duplicates - NAMED
        ));
    }
    if !unnamed.is_empty() {
        warnings.push(format!(
            "{} column(s) have no name in the header and are read as {}",
            unnamed.len(),
            super::super::quoted_list(&unnamed, 3)
        ));
    }
    (names, warnings)
}
