//! Readers on real files in real formats: CSV dialects, Parquet and Excel.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use polars::prelude::*;
use proptest::prelude::*;
use strata::engine::data::{Delimiter, ReadOptions, read_table, read_text, write_table};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data").join(name)
}

#[test]
fn excel_first_sheet_with_types_and_missing_cells() {
    let table = read_table(&fixture("customers.xlsx"), &ReadOptions::default()).unwrap();
    let frame = &table.frame;
    assert_eq!(frame.shape(), (5, 5));
    assert_eq!(frame.get_column_names(), ["customer_id", "region", "visits", "spend", "signup_date"]);
    assert_eq!(frame.column("visits").unwrap().dtype(), &DataType::Int64);
    assert_eq!(frame.column("spend").unwrap().dtype(), &DataType::Float64);
    assert_eq!(frame.column("signup_date").unwrap().dtype(), &DataType::Date);
    assert_eq!(frame.column("region").unwrap().null_count(), 1);
    assert_eq!(frame.column("signup_date").unwrap().null_count(), 1);
    assert_eq!(frame.column("signup_date").unwrap().get(0).unwrap().to_string(), "2024-01-15");
    assert_eq!(frame.column("spend").unwrap().f64().unwrap().get(2), Some(980.25));
}

#[test]
fn parquet_round_trip_and_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let mut frame =
        df!("id" => ["a", "b", "c"], "x" => [1.5, f64::NAN, 3.0], "n" => [Some(1i64), None, Some(3)]).unwrap();
    write_table(&mut frame, &path).unwrap();
    let back = read_table(&path, &ReadOptions::default()).unwrap().frame;
    assert_eq!(back.shape(), (3, 3));
    assert_eq!(back.column("n").unwrap().null_count(), 1);
    let sample = read_table(&path, &ReadOptions { sample_rows: Some(2), ..ReadOptions::default() }).unwrap();
    assert_eq!(sample.frame.height(), 2);
    assert!(sample.is_sample);
    // A corrupt Parquet file is an error, not a panic.
    std::fs::write(&path, b"PAR1 not really parquet PAR1").unwrap();
    assert!(
        read_table(&path, &ReadOptions::default())
            .unwrap_err()
            .to_string()
            .contains("could not parse the Parquet file")
    );
}

#[test]
fn dialects_are_sniffed_and_can_be_overridden() {
    let name = Path::new("t.csv");
    let semicolon = read_text(b"id;x\n1;2\n3;4\n", name, &ReadOptions::default()).unwrap();
    assert_eq!(semicolon.dialect.unwrap().delimiter, Delimiter::Char(';'));
    assert_eq!(semicolon.frame.shape(), (2, 2));
    let tabs = read_text(b"id\tx\n1\t2\n", name, &ReadOptions::default()).unwrap();
    assert_eq!(tabs.dialect.unwrap().delimiter, Delimiter::Char('\t'));
    // No header sniffed on an all-numeric file; columns are named.
    let no_header = read_text(b"1,2\n3,4\n", name, &ReadOptions::default()).unwrap();
    assert_eq!(no_header.frame.get_column_names(), ["column_1", "column_2"]);
    assert_eq!(no_header.frame.height(), 2);
    // Overrides win over sniffing.
    let forced =
        ReadOptions { delimiter: Some(Delimiter::Char('|')), has_header: Some(true), ..ReadOptions::default() };
    let piped = read_text(b"a|b\n1|2\n", name, &forced).unwrap();
    assert_eq!(piped.frame.get_column_names(), ["a", "b"]);
    // A byte-order mark is not part of the first column's name.
    let bom = read_text(b"\xEF\xBB\xBFid,x\n1,2\n", name, &ReadOptions::default()).unwrap();
    assert_eq!(bom.frame.get_column_names(), ["id", "x"]);
}

#[test]
fn unknown_extensions_are_refused_with_the_supported_list() {
    let err = read_table(Path::new("data.json"), &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains(".csv, .tsv, .txt, .dat, .parquet and .xlsx"), "{err}");
}

fn quote_field(field: &str) -> String {
    if field.contains([',', '"', '\n']) || field.trim() != field || field.is_empty() {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any table of text fields written with standard CSV quoting reads back field for field.
    #[test]
    fn csv_quoting_round_trips(rows in prop::collection::vec(prop::collection::vec("[b-h ,\"\n]{0,8}", 3), 1..20)) {
        let mut text = String::from("a,b,c\n");
        for row in &rows {
            text.push_str(&row.iter().map(|f| quote_field(f)).collect::<Vec<_>>().join(","));
            text.push('\n');
        }
        let options = ReadOptions { has_header: Some(true), delimiter: Some(Delimiter::Char(',')), ..ReadOptions::default() };
        match read_text(text.as_bytes(), Path::new("p.csv"), &options) {
            Ok(table) => {
                prop_assert_eq!(table.frame.height(), rows.len());
                for (j, name) in ["a", "b", "c"].iter().enumerate() {
                    let column = table.frame.column(name).unwrap().cast(&DataType::String).unwrap();
                    let got: Vec<Option<String>> = column.str().unwrap().iter().map(|v| v.map(str::to_string)).collect();
                    for (i, row) in rows.iter().enumerate() {
                        let expected = &row[j];
                        // Missing-value tokens and blank fields read as missing.
                        if expected.trim().is_empty() {
                            prop_assert_eq!(&got[i], &None);
                        } else {
                            prop_assert_eq!(got[i].as_deref(), Some(expected.as_str()));
                        }
                    }
                }
            }
            Err(e) => {
                // Only all-blank tables may be refused (no data rows).
                prop_assert!(rows.iter().all(|r| r.iter().all(|f| f.trim().is_empty())), "{}", e);
            }
        }
    }

    /// Arbitrary bytes never make the text reader panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_text(&bytes, Path::new("fuzz.csv"), &ReadOptions::default());
        let lossy = ReadOptions { encoding: strata::engine::data::TextEncoding::Lossy, skip_bad_rows: true, ..ReadOptions::default() };
        let _ = read_text(&bytes, Path::new("fuzz.csv"), &lossy);
    }
}

#[test]
fn only_the_needed_columns_are_read_where_the_format_allows() {
    let dir = tempfile::tempdir().unwrap();
    let keep = ["id".to_string(), "amount".to_string()];
    let path = dir.path().join("log.parquet");
    let mut frame = df!("id" => [1i64, 2], "note" => ["x", "y"], "amount" => [1.5, 2.5]).unwrap();
    write_table(&mut frame, &path).unwrap();
    let projected = strata::engine::data::read_table_columns(&path, &ReadOptions::default(), Some(&keep)).unwrap();
    assert_eq!(projected.frame.get_column_names(), ["id", "amount"]);
    let text = strata::engine::data::read_text_columns(
        b"id,note,amount\n1,x,1.5\n2,y,oops\n",
        Path::new("log.csv"),
        &ReadOptions::default(),
        Some(&keep),
    )
    .unwrap();
    assert_eq!(text.frame.get_column_names(), ["id", "amount"]);
    // Columns not read raise no warnings either.
    assert!(text.warnings.iter().all(|w| !w.contains("'note'")));
}
