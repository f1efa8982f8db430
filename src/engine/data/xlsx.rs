//! A small Excel (.xlsx) writer for exported tables: one sheet, a header row, numbers as numbers and
//! everything else as text. Entries are stored uncompressed (Excel, LibreOffice and calamine read
//! them), so no compression code is pulled in for it.

use std::io::Write;
use std::path::Path;

use polars::prelude::{DataFrame, DataType};

use crate::engine::error::DataError;

/// Excel's row limit (header included); a longer table is refused rather than cut.
pub const MAX_ROWS: usize = 1_048_576;
/// Excel's column limit.
pub const MAX_COLUMNS: usize = 16_384;

/// Writes `frame` to `path` as a one-sheet workbook named `sheet`.
pub fn write_xlsx(frame: &DataFrame, path: &Path, sheet: &str) -> Result<(), DataError> {
    if frame.height() + 1 > MAX_ROWS || frame.width() > MAX_COLUMNS {
        return Err(DataError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!(
                "{} rows and {} columns do not fit in an Excel sheet (at most {} rows, {MAX_COLUMNS} columns); \
                 write .csv or .parquet",
                frame.height(),
                frame.width(),
                MAX_ROWS - 1
            )),
        });
    }
    let io = |source: std::io::Error| DataError::Io { path: path.to_path_buf(), source };
    let sheet_xml = sheet_xml(frame)?;
    let file = std::fs::File::create(path).map_err(io)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let workbook = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook \
         xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"{}\" \
         sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
        escape(&sheet_name(sheet))
    );
    let entries: [(&str, &str); 5] = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("xl/workbook.xml", &workbook),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        ("xl/worksheets/sheet1.xml", &sheet_xml),
    ];
    let zip_error = |e: zip::result::ZipError| io(std::io::Error::other(e.to_string()));
    for (name, text) in entries {
        zip.start_file(name, options).map_err(zip_error)?;
        zip.write_all(text.as_bytes()).map_err(io)?;
    }
    let mut inner = zip.finish().map_err(zip_error)?;
    inner.flush().map_err(io)
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types \
    xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" \
    ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" \
    ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" \
    ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override \
    PartName=\"/xl/worksheets/sheet1.xml\" \
    ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>";

const ROOT_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships \
    xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" \
    Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" \
    Target=\"xl/workbook.xml\"/></Relationships>";

const WORKBOOK_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships \
    xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" \
    Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" \
    Target=\"worksheets/sheet1.xml\"/></Relationships>";

/// One column's cells: numbers stay numbers (a missing or non-finite one is an empty cell), the rest
/// is text.
enum Cells {
    Numbers(Vec<Option<f64>>),
    Texts(Vec<Option<String>>),
}

fn sheet_xml(frame: &DataFrame) -> Result<String, DataError> {
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let cells = if column.dtype().is_primitive_numeric() {
            let values = column.cast(&DataType::Float64)?;
            Cells::Numbers(values.f64()?.iter().map(|v| v.filter(|v| v.is_finite())).collect())
        } else {
            let values = column.cast(&DataType::String)?;
            Cells::Texts(values.str()?.iter().map(|v| v.map(str::to_string)).collect())
        };
        columns.push(cells);
    }
    let mut xml = String::with_capacity(64 * (frame.height() + 1) * frame.width().max(1));
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet \
         xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">",
    );
    for (j, name) in frame.get_column_names().iter().enumerate() {
        text_cell(&mut xml, j, 1, name.as_str());
    }
    xml.push_str("</row>");
    for i in 0..frame.height() {
        let r = i + 2;
        xml.push_str(&format!("<row r=\"{r}\">"));
        for (j, cells) in columns.iter().enumerate() {
            match cells {
                Cells::Numbers(v) => {
                    if let Some(Some(x)) = v.get(i) {
                        xml.push_str(&format!("<c r=\"{}{r}\"><v>{x}</v></c>", column_letters(j)));
                    }
                }
                Cells::Texts(v) => {
                    if let Some(Some(t)) = v.get(i) {
                        text_cell(&mut xml, j, r, t);
                    }
                }
            }
        }
        xml.push_str("</row>");
    }
    xml.push_str("</sheetData></worksheet>");
    Ok(xml)
}

fn text_cell(xml: &mut String, column: usize, row: usize, text: &str) {
    xml.push_str(&format!(
        "<c r=\"{}{row}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
        column_letters(column),
        escape(text)
    ));
}

/// Excel's column name of the 0-based column `j`: A..Z, AA..
pub fn column_letters(j: usize) -> String {
    let mut n = j + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.iter().rev().map(|&b| b as char).collect()
}

/// Text as XML character data: markup escaped, characters XML cannot hold dropped (a cell is never
/// markup, and a control character in a name cannot make the file unreadable).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, not empty.
fn sheet_name(name: &str) -> String {
    let cleaned: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    if cleaned.trim().is_empty() { "Sheet1".to_string() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    use polars::prelude::{Column, DataFrame};

    use super::*;

    #[test]
    fn column_letters_run_past_z() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn a_written_workbook_reads_back_with_numbers_texts_and_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.xlsx");
        let frame = DataFrame::new_infer_height(vec![
            Column::new("id".into(), ["007", "a<b & \"c\"", "x\u{1}y"]),
            Column::new("segment".into(), [Some(1u32), None, Some(3)]),
            Column::new("share".into(), [0.5f64, f64::NAN, 0.25]),
        ])
        .unwrap();
        write_xlsx(&frame, &path, "Assignments").unwrap();
        let mut book: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), vec!["Assignments".to_string()]);
        let range = book.worksheet_range("Assignments").unwrap();
        assert_eq!(range.get_size(), (4, 3));
        assert_eq!(range.get((0, 1)), Some(&Data::String("segment".into())));
        assert_eq!(range.get((1, 0)), Some(&Data::String("007".into())), "ids stay text, leading zeros kept");
        assert_eq!(range.get((2, 0)), Some(&Data::String("a<b & \"c\"".into())));
        assert_eq!(range.get((3, 0)), Some(&Data::String("xy".into())));
        assert_eq!(range.get((1, 1)), Some(&Data::Float(1.0)));
        assert_eq!(range.get((2, 1)), Some(&Data::Empty));
        assert_eq!(range.get((3, 2)), Some(&Data::Float(0.25)));
    }
}
