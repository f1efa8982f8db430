//! Unusual or hostile data files: each is read with a given warning or refused with a given message,
//! never a panic, a hang or a silent change of the data.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use polars::prelude::*;
use proptest::prelude::*;
use strata::engine::data::quality::quality_report;
use strata::engine::data::{
    self, Delimiter, FileFormat, LoadedTable, MemoryLimit, ReadOptions, TextEncoding, read_table, read_table_columns,
    read_table_with, read_text, read_text_with, write_table,
};
use strata::engine::error::{DataError, quoted};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn text(bytes: &[u8]) -> Result<LoadedTable, DataError> {
    read_text(bytes, Path::new("hostile.csv"), &ReadOptions::default())
}

fn strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    data::column_texts(frame, name).unwrap()
}

/// Runs `f` on a thread and fails (rather than hangs) if it takes longer than a few seconds.
fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("hostile-read".into())
        .spawn(move || {
            let _ = send.send(f());
        })
        .unwrap();
    receive.recv_timeout(Duration::from_secs(10)).expect("the read did not finish within 10 s (blocked?)")
}

// ---- 1. Parquet decimals -------------------------------------------------------------------------

fn decimal_frame() -> DataFrame {
    let amount = Series::new("amount".into(), [Some(12.34f64), None, Some(-0.5), Some(1_000_000.01)])
        .cast(&DataType::Decimal(10, 2))
        .unwrap();
    assert!(amount.dtype().is_decimal());
    let id = Series::new("id".into(), ["a", "b", "c", "d"]);
    DataFrame::new_infer_height(vec![id.into(), amount.into()]).unwrap()
}

#[test]
fn parquet_decimal_columns_read_as_floating_point_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("money.parquet");
    write_table(&mut decimal_frame(), &path).unwrap();
    let table = read_table(&path, &ReadOptions::default()).unwrap();
    let amount = table.frame.column("amount").unwrap();
    assert_eq!(amount.dtype(), &DataType::Float64);
    let values: Vec<Option<f64>> = amount.f64().unwrap().iter().collect();
    assert_eq!(values, [Some(12.34), None, Some(-0.5), Some(1_000_000.01)]);
    // Precision 10 fits a double: nothing to say.
    assert!(table.warnings.is_empty(), "{:?}", table.warnings);
    // The decimal column not asked for: read without it, no error.
    let only_id = read_table_columns(&path, &ReadOptions::default(), Some(&["id".to_string()])).unwrap();
    assert_eq!(only_id.frame.get_column_names(), ["id"]);
    // A wide decimal says its digits may be rounded.
    let wide = Series::new("big".into(), [1.5f64]).cast(&DataType::Decimal(30, 4)).unwrap();
    let wide_path = dir.path().join("wide.parquet");
    write_table(&mut DataFrame::new_infer_height(vec![wide.into()]).unwrap(), &wide_path).unwrap();
    let wide_table = read_table(&wide_path, &ReadOptions::default()).unwrap();
    assert_eq!(wide_table.frame.column("big").unwrap().f64().unwrap().get(0), Some(1.5));
    assert!(wide_table.warnings.iter().any(|w| w.contains("more than 15 digits") && w.contains("'big'")));
}

#[test]
fn parquet_id_columns_can_be_read_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.parquet");
    let mut frame = df!("id" => [42.0f64, 7.0, 1.5], "n" => [1i64, 2, 3]).unwrap();
    write_table(&mut frame, &path).unwrap();
    let table = read_table_with(&path, &ReadOptions::default(), None, &["id".into(), "n".into()]).unwrap();
    assert_eq!(strings(&table.frame, "id"), [Some("42".into()), Some("7".into()), Some("1.5".into())]);
    assert_eq!(table.frame.column("n").unwrap().dtype(), &DataType::String);
}

// ---- 2. Excel ------------------------------------------------------------------------------------

/// A cell of a hand-built sheet.
enum Cell<'a> {
    Text(&'a str),
    Number(&'a str),
    Date(&'a str),
}

/// Writes a minimal .xlsx (stored, uncompressed) whose first sheet holds `rows`; `Date` cells use
/// the built-in date format 14, so calamine reads them as date cells.
fn write_xlsx(path: &Path, rows: &[Vec<Cell<'_>>]) {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            let reference = format!("{}{}", (b'A' + c as u8) as char, r + 1);
            match cell {
                Cell::Text(s) => {
                    sheet.push_str(&format!(r#"<c r="{reference}" t="inlineStr"><is><t>{}</t></is></c>"#, escape(s)))
                }
                Cell::Number(v) => sheet.push_str(&format!(r#"<c r="{reference}"><v>{v}</v></c>"#)),
                Cell::Date(v) => sheet.push_str(&format!(r#"<c r="{reference}" s="1"><v>{v}</v></c>"#)),
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let files = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#.to_string(),
        ),
        (
            "xl/styles.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#.to_string(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = ::zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = ::zip::write::SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Stored);
    for (name, content) in files {
        zip.start_file(name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn excel_date_cells_out_of_range_are_counted_and_read_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dates.xlsx");
    let mut rows = vec![vec![Cell::Text("id"), Cell::Text("signup_date")]];
    for (id, serial) in [("a", "45306"), ("b", "100000000"), ("c", "1e300"), ("d", "-5"), ("e", "NaN"), ("f", "0.5")] {
        rows.push(vec![Cell::Text(id), Cell::Date(serial)]);
    }
    write_xlsx(&path, &rows);
    let table = within_seconds(move || read_table(&path, &ReadOptions::default())).unwrap();
    let dates = table.frame.column("signup_date").unwrap();
    assert_eq!(dates.dtype(), &DataType::Date);
    assert_eq!(dates.get(0).unwrap().to_string(), "2024-01-15");
    assert_eq!(dates.null_count(), 5);
    let warning = table.warnings.iter().find(|w| w.contains("Excel date cell")).expect("a warning");
    assert!(warning.starts_with("5 Excel date cell(s) hold no date from 1900-01-01 to 9999-12-31"), "{warning}");
    assert!(warning.contains("B3 = 100000000"), "{warning}");
}

#[test]
fn excel_ids_duplicate_headers_and_leading_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.xlsx");
    write_xlsx(
        &path,
        &[
            vec![Cell::Text("id"), Cell::Text("code"), Cell::Text("spend"), Cell::Text("spend")],
            vec![Cell::Number("42"), Cell::Text("0042"), Cell::Number("1.5"), Cell::Number("2")],
            vec![Cell::Number("7"), Cell::Text("42"), Cell::Number("2.5"), Cell::Number("3")],
        ],
    );
    let table = read_table_with(&path, &ReadOptions::default(), None, &["id".to_string()]).unwrap();
    assert_eq!(table.frame.get_column_names(), ["id", "code", "spend", "spend_2"]);
    assert_eq!(strings(&table.frame, "id"), [Some("42".into()), Some("7".into())]);
    assert_eq!(strings(&table.frame, "code"), [Some("0042".into()), Some("42".into())]);
    assert!(
        table.warnings.iter().any(|w| w == "columns 3 and 4 are both named 'spend'; the second is read as 'spend_2'")
    );
}

#[test]
fn a_broken_workbook_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "broken.xlsx", b"PK\x03\x04 not a workbook");
    let err = read_table(&path, &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("could not parse the Excel file"), "{err}");
}

// ---- 3. Special files ----------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn a_named_pipe_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["x.csv", "x.parquet", "x.xlsx"] {
        let path = dir.path().join(name);
        let status = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(status.success());
        let read_path = path.clone();
        let err = within_seconds(move || read_table(&read_path, &ReadOptions::default())).unwrap_err();
        assert!(matches!(err, DataError::NotARegularFile { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("named pipe"), "{message}");
        assert!(message.ends_with(&path.display().to_string()), "the path goes last: {message}");
        let open_path = path.clone();
        assert!(within_seconds(move || data::open_data_file(&open_path)).is_err());
    }
}

#[cfg(unix)]
#[test]
fn a_link_to_a_device_is_refused_naming_where_it_leads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    let read_path = path.clone();
    let err = within_seconds(move || read_table(&read_path, &ReadOptions::default())).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("device") && message.contains("/dev/zero"), "{message}");
    // A sample read is refused the same way (it skips the memory check, not the file check).
    let sample = ReadOptions { sample_rows: Some(10), ..ReadOptions::default() };
    let err = within_seconds(move || read_table(&path, &sample)).unwrap_err();
    assert!(err.to_string().contains("character device"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_link_to_a_regular_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let target = write(dir.path(), "real.csv", b"id,x\na,1\nb,2\n");
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_eq!(read_table(&link, &ReadOptions::default()).unwrap().frame.shape(), (2, 2));
    assert_eq!(data::file_size(&link).unwrap(), 13);
}

#[test]
fn a_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    std::fs::create_dir(&path).unwrap();
    let err = read_table(&path, &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("is a folder, not a regular file"), "{err}");
    assert!(data::file_size(&path).is_err());
}

// ---- 4. Memory -----------------------------------------------------------------------------------

#[test]
fn too_large_names_the_smallest_limit_and_suggests_a_sample() {
    let limits = [
        MemoryLimit { available_bytes: 8 << 30, source: "the memory the system has available (MemAvailable)" },
        MemoryLimit { available_bytes: 300 << 20, source: "the process's address-space limit (RLIMIT_AS)" },
        MemoryLimit { available_bytes: 2 << 30, source: "the container's memory limit (cgroup memory.max)" },
    ];
    let smallest = data::smallest_limit(&limits).unwrap();
    let err = data::check_memory_within(Path::new("big.csv"), 100 << 20, FileFormat::Text, smallest).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("RLIMIT_AS") && message.contains("--sample-rows N"), "{message}");
    assert!(message.contains("about 600 MiB") && message.contains("only 300 MiB"), "{message}");
    assert!(data::check_memory_within(Path::new("small.csv"), 1 << 20, FileFormat::Text, smallest).is_ok());
    // The limits the process really has are read without panicking, whatever they are.
    let _ = data::available_memory();
}

// ---- 5. Ids as written ---------------------------------------------------------------------------

#[test]
fn ids_with_leading_zeros_stay_text_as_written() {
    let table = text(b"customer_id,amount\n00001,1.5\n00002,2\n00010,0.5\n").unwrap();
    assert_eq!(table.frame.column("customer_id").unwrap().dtype(), &DataType::String);
    assert_eq!(
        strings(&table.frame, "customer_id"),
        [Some("00001".into()), Some("00002".into()), Some("00010".into())]
    );
    // Decimals below one are numbers still.
    assert_eq!(table.frame.column("amount").unwrap().dtype(), &DataType::Float64);
    assert!(table.warnings.iter().any(|w| w.contains("'customer_id' has numbers written with leading zeros")));
    // 0042 and 42 are two customers.
    let both = text(b"id,x\n0042,1\n42,2\n").unwrap();
    assert_eq!(both.frame.column("id").unwrap().n_unique().unwrap(), 2);
    assert_eq!(strings(&both.frame, "id"), [Some("0042".into()), Some("42".into())]);
}

#[test]
fn named_text_columns_are_never_typed() {
    let bytes = b"id,when,x\n1.50,2024-01-01,1\n2,2024-01-02,2\n1e3,2024-01-03,3\n";
    let options = ReadOptions::default();
    let table = read_text_with(bytes, Path::new("t.csv"), &options, None, &["id".into(), "when".into()]).unwrap();
    assert_eq!(strings(&table.frame, "id"), [Some("1.50".into()), Some("2".into()), Some("1e3".into())]);
    assert_eq!(table.frame.column("when").unwrap().dtype(), &DataType::String);
    assert_eq!(table.frame.column("x").unwrap().dtype(), &DataType::Int64);
    // The same through a file, with a column projection.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.csv", bytes);
    let keep = ["id".to_string(), "x".to_string()];
    let read = read_table_with(&path, &options, Some(&keep), &["id".into()]).unwrap();
    assert_eq!(read.frame.get_column_names(), ["id", "x"]);
    assert_eq!(read.frame.column("id").unwrap().dtype(), &DataType::String);
}

// ---- 6. Dates with two-digit or implausible years ------------------------------------------------

#[test]
fn two_digit_and_ancient_years_are_not_read_as_dates() {
    for (bytes, example) in [
        (&b"id,order_date\na,03/05/03\nb,04/11/21\nc,99/12/31\n"[..], "'03/05/03'"),
        (&b"id,order_date\na,0003-05-03\nb,2024-01-01\n"[..], "'0003-05-03'"),
        (&b"id,order_date\na,00030503\nb,20240101\n"[..], "'00030503'"),
        (&b"id,order_date\na,1899-12-31\nb,2024-01-01\n"[..], "'1899-12-31'"),
    ] {
        let table = text(bytes).unwrap();
        assert_eq!(table.frame.column("order_date").unwrap().dtype(), &DataType::String, "{example}");
        let warning = table.warnings.iter().find(|w| w.contains("'order_date'")).expect("a warning");
        assert!(warning.contains(example) && warning.contains("YYYY-MM-DD"), "{warning}");
    }
}

#[test]
fn plausible_dates_are_dates() {
    let table = text(b"id,order_date\na,1900-01-01\nb,2024-01-01\n").unwrap();
    assert_eq!(table.frame.column("order_date").unwrap().dtype(), &DataType::Date);
    assert!(table.warnings.is_empty(), "{:?}", table.warnings);
}

// ---- 7. Duplicated header names ------------------------------------------------------------------

#[test]
fn duplicated_headers_are_renamed_with_a_warning_and_never_collide() {
    let table = text(b"id,frequency,x,y,frequency\na,1,2,3,4\n").unwrap();
    assert_eq!(table.frame.get_column_names(), ["id", "frequency", "x", "y", "frequency_2"]);
    assert!(
        table
            .warnings
            .contains(&"columns 2 and 5 are both named 'frequency'; the second is read as 'frequency_2'".into()),
        "{:?}",
        table.warnings
    );
    let collide = text(b"a,a,a_2\n1,2,3\n").unwrap();
    assert_eq!(collide.frame.get_column_names(), ["a", "a_3", "a_2"]);
    assert_eq!(collide.frame.column("a_2").unwrap().i64().unwrap().get(0), Some(3));
    let unnamed = text(b"a,,column_2\n1,2,3\n").unwrap();
    assert_eq!(unnamed.frame.get_column_names(), ["a", "column_2_2", "column_2"]);
}

// ---- 8. Quoting and counting ---------------------------------------------------------------------

#[test]
fn quoted_cuts_long_values_on_a_character_boundary() {
    assert_eq!(quoted("abc"), "'abc'");
    let long = "é".repeat(1000);
    let q = quoted(&long);
    assert!(q.starts_with("'é") && q.ends_with("…' (800 more characters)"), "{q}");
    assert_eq!(q.chars().filter(|&c| c == 'é').count(), 200);
    assert_eq!(quoted("a\nb"), "'a\\nb'");
}

#[test]
fn a_megabyte_name_or_cell_never_makes_a_megabyte_message() {
    let huge = "n".repeat(1 << 20);
    let mut bytes = format!("id,{huge},amount\n").into_bytes();
    for i in 0..20 {
        bytes.extend_from_slice(format!("{i},{i},{}\n", if i == 7 { huge.as_str() } else { "1.5" }).as_bytes());
    }
    let table = text(&bytes).unwrap();
    assert_eq!(table.frame.column("amount").unwrap().dtype(), &DataType::String);
    assert!(table.warnings.iter().any(|w| w.contains("'amount' is mostly numeric")));
    let report = quality_report(&table.frame, Some(&huge), None).unwrap();
    for message in table.warnings.iter().chain(&report.warnings) {
        assert!(message.len() < 1024, "{} bytes: {}…", message.len(), &message[..200]);
    }
    let missing = data::column(&table.frame, &format!("{huge}x")).unwrap_err().to_string();
    assert!(missing.len() < 2048, "{} bytes", missing.len());
    let bad = DataError::BadColumn { column: huge.clone(), problem: "is not a date".into() }.to_string();
    assert!(bad.len() < 1024);
}

#[test]
fn warnings_repeated_over_hundreds_of_columns_are_counted() {
    let width = 500;
    let header: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
    let mut bytes = format!("id,{}\n", header.join(",")).into_bytes();
    for i in 0..3 {
        bytes.extend_from_slice(format!("{i}{}\n", ",NaN".repeat(width)).as_bytes());
    }
    let table = text(&bytes).unwrap();
    assert_eq!(table.warnings.len(), 1, "{:?}", &table.warnings[..table.warnings.len().min(3)]);
    assert!(table.warnings[0].starts_with("500 columns have NaN or infinite values"), "{}", table.warnings[0]);
    assert!(table.warnings[0].contains("'c0', 'c1', 'c2', … (497 more)"), "{}", table.warnings[0]);
    let empty = df!("a" => [None::<f64>, None], "b" => [None::<f64>, None], "c" => [None::<f64>, None], "d" => [None::<f64>, None]).unwrap();
    let report = quality_report(&empty, None, None).unwrap();
    assert_eq!(
        report.warnings,
        ["4 columns are entirely missing and are excluded from features: 'a', 'b', 'c', … (1 more)"]
    );
    // The per-column figures are all still there.
    assert!(report.columns.iter().all(|c| c.is_all_missing));
}

// ---- 9. Fuzzing and fixtures ---------------------------------------------------------------------

/// Cases per property: few by default (CI), more with PROPTEST_CASES.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

/// Near-CSV pieces that have broken readers: odd delimiters, quotes, line ends, NULs, BOMs and
/// values at the edges of numbers and dates.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(",".to_string()),
        Just(";".to_string()),
        Just("\t".to_string()),
        Just("|".to_string()),
        Just("  ".to_string()),
        Just("\"".to_string()),
        Just("\"\"".to_string()),
        Just("\n".to_string()),
        Just("\r".to_string()),
        Just("\r\n".to_string()),
        Just("\0".to_string()),
        Just("\u{FEFF}".to_string()),
        Just("1e308".to_string()),
        Just("-1e309".to_string()),
        Just("-0".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-Infinity".to_string()),
        Just("00042".to_string()),
        Just("9223372036854775808".to_string()),
        Just("0003-01-01".to_string()),
        Just("03/05/03".to_string()),
        Just("99999999".to_string()),
        Just("+262143-12-31".to_string()),
        Just("2024-02-30".to_string()),
        Just("NA".to_string()),
        Just("id".to_string()),
        Just("date".to_string()),
        Just("é".to_string()),
        "[a-z0-9.]{1,6}",
    ]
}

fn near_csv() -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), prop::collection::vec(piece(), 0..60)).prop_map(|(bom, pieces)| {
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend(pieces.concat().into_bytes());
        bytes
    })
}

fn options() -> impl Strategy<Value = ReadOptions> {
    (
        prop::option::of(prop_oneof![
            Just(Delimiter::Char(',')),
            Just(Delimiter::Char(';')),
            Just(Delimiter::Char('é')),
            Just(Delimiter::Whitespace),
        ]),
        prop::option::of(prop_oneof![Just('"'), Just('\''), Just('«')]),
        prop::option::of(any::<bool>()),
        prop_oneof![Just(TextEncoding::Utf8), Just(TextEncoding::Lossy), Just(TextEncoding::Windows1252)],
        any::<bool>(),
        prop::option::of(0usize..5),
        value_formats(),
    )
        .prop_map(|(delimiter, quote, has_header, encoding, skip_bad_rows, sample_rows, formats)| ReadOptions {
            delimiter,
            quote,
            has_header,
            encoding,
            skip_bad_rows,
            sample_rows,
            formats,
        })
}

/// How dates and numbers are read, hostile choices included (formats that match nothing or
/// everything, offsets out of range, columns that do not exist).
fn value_formats() -> impl Strategy<Value = strata::engine::data::ValueFormats> {
    (
        prop::option::of(prop_oneof![
            Just("%d/%m/%Y".to_string()),
            Just("%m/%d/%y %H:%M".to_string()),
            Just("epoch_ms".to_string()),
            Just("excel".to_string()),
            Just("%%%".to_string()),
            Just(String::new()),
            "[%a-zA-Z/ :.-]{0,12}",
        ]),
        prop::collection::vec("[a-z]{1,3}", 0..3),
        prop::option::of(any::<bool>()),
        prop::option::of(prop_oneof![Just("+02:00".to_string()), Just("-99:00".to_string()), Just("Z".to_string())]),
        any::<bool>(),
        // Per-column choices (issue 18): any column, any reading, formats good and bad.
        prop::collection::vec(
            (
                "[a-z]{1,3}",
                0..4u8,
                prop::option::of(prop_oneof![Just("%d.%m.%Y".to_string()), Just("%Q".to_string()), "[%a-z/]{0,6}"]),
                prop::option::of(any::<bool>()),
            ),
            0..3,
        ),
        0..3u8,
    )
        .prop_map(|(date_format, date_columns, decimal_comma, day_offset, allow_old_dates, own, rule)| {
            use strata::engine::data::{ColumnFormat, ReadAs, UnparsedDates};
            let read_as = [ReadAs::Detect, ReadAs::Date, ReadAs::NotDate, ReadAs::Text];
            let columns = own
                .into_iter()
                .map(|(column, r, date_format, decimal_comma)| ColumnFormat {
                    column,
                    read_as: read_as[usize::from(r)],
                    date_format,
                    decimal_comma,
                })
                .collect();
            let unparsed_dates =
                [UnparsedDates::Refuse, UnparsedDates::Drop, UnparsedDates::Fallback][usize::from(rule)];
            strata::engine::data::ValueFormats {
                date_format,
                date_columns,
                decimal_comma,
                day_offset,
                allow_old_dates,
                columns,
                unparsed_dates,
            }
        })
}

/// Every message the reader produced is short.
fn assert_short(outcome: &Result<LoadedTable, DataError>) {
    match outcome {
        Ok(table) => assert!(table.warnings.iter().all(|w| w.len() < 2048)),
        Err(e) => assert!(e.to_string().len() < 2048),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Arbitrary bytes: Ok or Err, never a panic.
    #[test]
    fn arbitrary_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..600), options in options()) {
        let outcome = read_text(&bytes, Path::new("fuzz.csv"), &options);
        assert_short(&outcome);
    }

    /// Near-CSV text with hostile pieces, with sniffed and forced dialects and forced text columns.
    #[test]
    fn near_csv_is_read_or_refused(bytes in near_csv(), options in options()) {
        let outcome = read_text(&bytes, Path::new("fuzz.csv"), &options);
        assert_short(&outcome);
        if let Ok(table) = &outcome {
            // Whatever was read, the quality report and the id path work on it.
            let first = table.frame.get_column_names().first().map(|n| n.to_string());
            let _ = quality_report(&table.frame, first.as_deref(), None);
            let ids: Vec<String> = first.into_iter().collect();
            let _ = read_text_with(&bytes, Path::new("fuzz.csv"), &options, None, &ids);
        }
    }
}

/// The committed hostile files and what reading each must give: `ok`, `ok: words` (a warning
/// containing the words) or `err: words` (an error containing them).
#[test]
fn committed_hostile_files_give_their_expected_outcome() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile/data");
    let manifest = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    let mut checked = 0;
    for line in manifest.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (name, expected) = line.split_once(char::is_whitespace).unwrap();
        let expected = expected.trim();
        let path = dir.join(name);
        let outcome = within_seconds(move || read_table(&path, &ReadOptions::default()));
        match (expected.split_once(':').map_or((expected, ""), |(k, w)| (k, w.trim())), &outcome) {
            (("ok", words), Ok(table)) => {
                assert!(
                    words.is_empty() || table.warnings.iter().any(|w| w.contains(words)),
                    "{name}: {:?}",
                    table.warnings
                )
            }
            (("err", words), Err(e)) => assert!(e.to_string().contains(words), "{name}: {e}"),
            (_, outcome) => panic!("{name}: expected {expected}, got {:?}", outcome.as_ref().map(|t| &t.warnings)),
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} fixtures checked");
}
