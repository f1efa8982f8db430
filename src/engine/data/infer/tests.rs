//! Tests of the parent module.

use super::*;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The type a column of texts gets, and its warnings.
fn infer(name: &str, values: &Vec<String>) -> (DataType, Vec<String>) {
    let (column, notes) = type_column(name, values).unwrap();
    (column.dtype().clone(), notes.into_iter().map(|n| n.line).collect())
}

#[test]
fn infers_numbers_dates_and_text() {
    assert_eq!(infer("x", &strings(&["1", "2", ""])).0, DataType::Int64);
    assert_eq!(infer("x", &strings(&["1", "2.5"])).0, DataType::Float64);
    assert_eq!(infer("x", &strings(&["1", "inf", "NaN"])).0, DataType::Float64);
    assert_eq!(infer("d", &strings(&["2024-01-31", "NA"])).0, DataType::Date);
    assert_eq!(infer("d", &strings(&["2024/01/31", "NA"])).0, DataType::Date);
    assert_eq!(infer("date", &strings(&["19970101"])).0, DataType::Date);
    // Without a date-like name, 8-digit numbers stay numbers.
    assert_eq!(infer("order_no", &strings(&["19970101"])).0, DataType::Int64);
    assert_eq!(infer("c", &strings(&["red", "blue"])).0, DataType::String);
    assert_eq!(infer("x", &strings(&["", "NA"])).0, DataType::Float64);
    // Impossible dates are not dates, whichever parser looks at them.
    assert_eq!(infer("d", &strings(&["2024-02-30"])).0, DataType::String);
    assert_eq!(fast_iso_date("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
    assert_eq!(fast_iso_date(" 2024-02-29"), None);
}

#[test]
fn iso_days_count_as_chrono_does_for_every_year_month_and_day() {
    for year in 0..=9999 {
        for month in 0..=13 {
            for day in [0, 1, 2, 15, 27, 28, 29, 30, 31, 32] {
                let text = format!("{year:04}-{month:02}-{day:02}");
                let chrono = NaiveDate::from_ymd_opt(year, month, day).map(days_since_epoch);
                assert_eq!(iso_days(&text), chrono, "{text}");
                assert_eq!(fast_iso_date(&text).map(days_since_epoch), chrono, "{text}");
            }
        }
    }
    assert_eq!(iso_days("1970-01-01"), Some(0));
    for odd in ["2024-1-05", "2024-01-5 ", "2024/01/05", "+024-01-05", "２０２４-01-05", ""] {
        assert_eq!(iso_days(odd), None, "{odd}");
    }
}

proptest::proptest! {
    /// Plain decimals read by the fast path are the very doubles `str::parse` reads.
    #[test]
    fn plain_decimals_read_as_str_parse_reads_them(
        sign in "[-+]?",
        whole in "[0-9]{1,19}",
        point in proptest::bool::ANY,
        fraction in "[0-9]{0,19}",
    ) {
        let text = if point { format!("{sign}{whole}.{fraction}") } else { format!("{sign}{whole}") };
        let parsed = text.parse::<f64>().unwrap();
        if let Some(fast) = plain_decimal(&text) {
            proptest::prop_assert_eq!(fast.to_bits(), parsed.to_bits(), "{}", text);
        }
        proptest::prop_assert_eq!(parse_float(&text).map(f64::to_bits), Some(parsed.to_bits()));
    }
}

#[test]
fn plain_decimals_take_the_fast_path_and_the_rest_the_general_parser() {
    for (text, value) in [
        ("200.0", 200.0),
        ("-0.0", -0.0),
        ("1.", 1.0),
        ("+7", 7.0),
        ("0.1", 0.1),
        ("9007199254740992", 9007199254740992.0),
    ] {
        assert_eq!(plain_decimal(text).map(f64::to_bits), Some(f64::to_bits(value)), "{text}");
    }
    // Beyond 2^53, more than 19 digits, exponents, a point first, words: the general parser's.
    for text in ["9007199254740993", "12345678901234567890", "1e5", ".5", "-.5", "inf", "NaN", "1.2.3", "-", "", "1_0"]
    {
        assert_eq!(plain_decimal(text), None, "{text}");
    }
    assert_eq!(parse_float(".5"), Some(0.5));
    assert_eq!(parse_float("9007199254740993"), Some(9007199254740993.0));
}

/// A cell's first eight bytes as a reader sees them: the cell's own bytes, then `after` (the text
/// that follows it in the file, or anything).
fn word_of(text: &str, after: u64) -> u64 {
    let mut word = after.to_le_bytes();
    let n = text.len().min(8);
    word[..n].copy_from_slice(&text.as_bytes()[..n]);
    u64::from_le_bytes(word)
}

/// The whole-number and number readers give what the general readers give, and say leading zeros
/// as `has_leading_zero` does.
fn readers_agree(text: &str, after: u64) -> Result<(), proptest::test_runner::TestCaseError> {
    let word = word_of(text, after);
    let general = trim_cell(text).parse::<i64>().ok().map(|v| (v, has_leading_zero(text)));
    proptest::prop_assert_eq!(whole_number(text, word), general, "{:?}", text);
    let general = parse_float(text).map(|v| (v.to_bits(), has_leading_zero(text)));
    proptest::prop_assert_eq!(number(text, word).map(|(v, zero)| (v.to_bits(), zero)), general, "{:?}", text);
    Ok(())
}

#[test]
fn short_numbers_read_as_the_general_readers_read_every_text_of_up_to_four_bytes() {
    const BYTES: &[u8] = b"0123456789.-+ eE_";
    for len in 0..=4u32 {
        for mut code in 0..BYTES.len().pow(len) {
            let mut text = String::new();
            for _ in 0..len {
                text.push(BYTES[code % BYTES.len()] as char);
                code /= BYTES.len();
            }
            for after in [0, u64::MAX, 0x3030_3030_3030_3030, 0x2E2E_2E2E_2E2E_2E2E] {
                readers_agree(&text, after).unwrap();
            }
        }
    }
}

proptest::proptest! {
    #[test]
    fn short_numbers_read_as_the_general_readers_read_them(
        text in "[-+]?[0-9]{0,8}[.]?[0-9]{0,8}|[-+0-9. a.]{0,10}",
        after in proptest::num::u64::ANY,
    ) {
        readers_agree(&text, after)?;
    }
}

#[test]
fn short_plain_numbers_take_the_word_path() {
    // The fast path is taken (not only agreed with): its values without the general readers.
    for (text, value) in [("200.0", 200.0), ("-0.5", -0.5), ("1.", 1.0), ("+7", 7.0), ("12345678", 12345678.0)] {
        assert_eq!(parse::short_float(word_of(text, u64::MAX), text.len()), Some((value, false)), "{text}");
    }
    for text in ["123456789", ".5", "1.2.3", "-", " 1", "1e5"] {
        assert_eq!(parse::short_float(word_of(text, 0), text.len()), None, "{text}");
    }
}

#[test]
fn mixed_column_stays_text_and_names_blocking_values() {
    let (kind, warnings) = infer("spend", &strings(&["1", "2", "3", "n.a.", "4", "?"]));
    assert_eq!(kind, DataType::String);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("'n.a.'") && warnings[0].contains("'?'"), "{}", warnings[0]);
}

#[test]
fn leading_zeros_keep_a_column_as_text() {
    let (kind, warnings) = infer("id", &strings(&["00001", "00002", "00010"]));
    assert_eq!(kind, DataType::String);
    assert!(warnings[0].contains("'00001', '00002', '00010'"), "{}", warnings[0]);
    assert_eq!(infer("id", &strings(&["0042", "42"])).0, DataType::String);
    // A lone zero, decimals below one and signs are numbers.
    assert_eq!(infer("x", &strings(&["0", "1", "10"])).0, DataType::Int64);
    assert_eq!(infer("x", &strings(&["0.5", "0.25", "-0"])).0, DataType::Float64);
    assert!(has_leading_zero(" 007 ") && !has_leading_zero("0") && !has_leading_zero("0.5"));
    assert!(!has_leading_zero("-01"));
}

#[test]
fn dates_before_1900_stay_text_with_examples() {
    for values in [&["03/05/03", "04/11/21"][..], &["0024-01-05"], &["1899-12-31", "2024-01-01"]] {
        let (kind, warnings) = infer("d", &strings(values));
        assert_eq!(kind, DataType::String, "{values:?}");
        assert!(warnings[0].contains(&quoted(values[0])) && warnings[0].contains("two-digit"), "{}", warnings[0]);
    }
    let (kind, warnings) = infer("date", &strings(&["00240105", "19970101"]));
    assert_eq!(kind, DataType::String);
    assert!(warnings[0].contains("'00240105'") && !warnings[0].contains("19970101"), "{}", warnings[0]);
    // Examples are at most three.
    let (_, warnings) = infer("d", &strings(&["01/01/01", "02/01/01", "03/01/01", "04/01/01"]));
    assert!(!warnings[0].contains("04/01/01"), "{}", warnings[0]);
    assert_eq!(infer("d", &strings(&["1900-01-01", "9999-12-31"])).0, DataType::Date);
}

#[test]
fn unique_headers_warn_and_avoid_real_names() {
    let h = |names: &[&str]| unique_headers(&strings(names));
    let (names, warnings) = h(&["id", "frequency", "x", "y", "frequency"]);
    assert_eq!(names, ["id", "frequency", "x", "y", "frequency_2"]);
    assert_eq!(warnings, ["columns 2 and 5 are both named 'frequency'; the second is read as 'frequency_2'"]);
    assert_eq!(h(&["a", "a", "a_2"]).0, ["a", "a_3", "a_2"]);
    assert_eq!(h(&["a", "a", "a", "a_2", "a_3"]).0, ["a", "a_4", "a_5", "a_2", "a_3"]);
    assert_eq!(h(&["", "column_1"]).0, ["column_1_2", "column_1"]);
    let (names, warnings) = h(&["a", "", " a "]);
    assert_eq!(names, ["a", "column_2", "a_2"]);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    // Hundreds of duplicates: a few lines, then a count.
    let (names, warnings) = unique_headers(&(0..300).map(|_| "x".to_string()).collect::<Vec<_>>());
    assert_eq!(names.iter().collect::<std::collections::HashSet<_>>().len(), 300);
    assert_eq!(warnings.len(), 6);
    assert!(warnings[5].starts_with("294 more columns"), "{}", warnings[5]);
}

#[test]
fn the_whole_column_is_read_not_a_prefix() {
    let mut values = vec!["1".to_string(); 10_000];
    values.push("2.5".into());
    assert_eq!(infer("x", &values).0, DataType::Float64);
}

#[test]
fn date_times_read_in_one_pass_keep_missing_rows_and_flags_across_blocks() {
    // Three blocks of rows, missing values in the first and last, one offset in the middle block.
    let n = 2 * PARSE_BLOCK + 10;
    let mut values: Vec<String> = (0..n).map(|i| format!("2017-08-{:02} 14:22:{:02}", 1 + i % 28, i % 60)).collect();
    for &i in &[0, 5, n - 1] {
        values[i] = "NA".into();
    }
    let (column, read) = iso_date_times("ordered_at", &values, 0).unwrap();
    assert!(read.has_time && !read.had_offsets);
    assert_eq!(read.example, "2017-08-02 14:22:01");
    let ms = column.as_materialized_series().i64().unwrap();
    assert_eq!(ms.null_count(), 3);
    assert!(ms.get(0).is_none() && ms.get(5).is_none() && ms.get(n - 1).is_none());
    let expected = |i: usize| dates::parse_iso(&values[i]).unwrap().ms;
    for i in [1, PARSE_BLOCK - 1, PARSE_BLOCK, 2 * PARSE_BLOCK, n - 2] {
        assert_eq!(ms.get(i), Some(expected(i)), "row {i}");
    }
    values[PARSE_BLOCK + 3] = "2017-08-31T10:00:00+02:00".into();
    let (column, read) = iso_date_times("ordered_at", &values, 0).unwrap();
    assert!(read.has_time && read.had_offsets);
    let at_utc = column.as_materialized_series().i64().unwrap().get(PARSE_BLOCK + 3).unwrap();
    assert_eq!(at_utc, dates::parse_iso("2017-08-31 08:00:00").unwrap().ms);
    // Dates alone: no time of day, no offset; one bad value anywhere and it is not such a column.
    let days = strings(&["2017-08-31", "", "2017-09-01"]);
    let (_, read) = iso_date_times("day", &days, 0).unwrap();
    assert!(!read.has_time && !read.had_offsets);
    values[2 * PARSE_BLOCK + 1] = "2017-08-31 25:00".into();
    assert!(iso_date_times("ordered_at", &values, 0).is_none());
}

#[test]
fn missing_markers_are_missing_in_numbers_and_dates_and_said_once_per_column() {
    let values = strings(&["1.5", "NA", "2.5", "N/A", ".", "NA", "", "NULL"]);
    let (column, notes) = type_column("score", &values).unwrap();
    assert_eq!(column.dtype(), &DataType::Float64, "a lone point is SAS's missing value, not text");
    assert_eq!(column.null_count(), 6);
    let said: Vec<&ColumnNote> = notes.iter().filter(|n| n.kind.contains("missing-value markers")).collect();
    assert_eq!(said.len(), 1, "{notes:?}");
    assert_eq!(
        said[0].line,
        "column 'score': `NA` read as missing (2 values), `N/A` read as missing (1 value), `NULL` read as missing \
         (1 value), `.` read as missing (1 value)"
    );
    // Dates too; the empty cell is the ordinary missing value and is not mentioned.
    let (column, notes) = type_column("when", &strings(&["2024-01-31", ".", "", "2024-02-01"])).unwrap();
    assert_eq!((column.dtype(), column.null_count()), (&DataType::Date, 2));
    assert!(notes.iter().any(|n| n.line == "column 'when': `.` read as missing (1 value)"), "{notes:?}");
    let (_, notes) = type_column("x", &strings(&["1", "", "2"])).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    // NaN is a number that is not finite (counted and never fitted), not a missing marker.
    let (column, notes) = type_column("x", &strings(&["1", "NaN"])).unwrap();
    assert_eq!(column.null_count(), 0);
    assert!(notes.iter().all(|n| !n.kind.contains("markers")), "{notes:?}");
}

#[test]
fn na_is_missing_in_text_unless_the_column_holds_two_letter_codes() {
    // Names: NA is R's missing value.
    let (column, notes) = type_column("country", &strings(&["Namibia", "NA", "Kenya", "NA", "Kenya"])).unwrap();
    assert_eq!(column.dtype(), &DataType::String);
    assert_eq!(column.null_count(), 2);
    assert_eq!(column.str().unwrap().get(0), Some("Namibia"));
    assert!(notes.iter().any(|n| n.line == "column 'country': `NA` read as missing (2 values)"), "{notes:?}");
    // Two-letter codes: NA is Namibia (or North America), a value; NULL is still missing.
    let (column, notes) = type_column("iso2", &strings(&["NA", "KE", "ZA", "NA", "NULL", "BW"])).unwrap();
    assert_eq!(column.null_count(), 1);
    assert_eq!(column.n_unique().unwrap(), 5, "NA, KE, ZA, BW and the missing value once");
    assert!(notes.iter().any(|n| n.line.contains("`NA` kept as a value")), "{notes:?}");
    assert!(notes.iter().any(|n| n.line == "column 'iso2': `NULL` read as missing (1 value)"), "{notes:?}");
    // A lone point in text is a value.
    let (column, _) = type_column("c", &strings(&["red", ".", "blue"])).unwrap();
    assert_eq!(column.null_count(), 0);
}

#[test]
fn the_quick_trim_is_str_trim_on_every_kind_of_end() {
    let ends = [
        "", "a", "1", " ", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{1c}", "\u{1f}", "\u{7f}", "\u{85}", "\u{a0}", "é",
        "\u{3000}", "\u{2028}", "\u{feff}", "\0",
    ];
    for left in ends {
        for middle in ["", "x", " 1.5 ", "0042"] {
            for right in ends {
                let s = format!("{left}{middle}{right}");
                assert_eq!(trim_cell(&s), s.trim(), "{s:?}");
            }
        }
    }
}

#[test]
fn leading_zeros_found_in_the_parsing_pass_keep_the_column_as_text() {
    let text = |v: &[&str]| infer("code", &strings(v));
    for cells in [&["007", "12"][..], &["12", "1.5", "0042"], &["NA", "0042", ""], &["1", " 007 ", "3"]] {
        let (dtype, notes) = text(cells);
        assert_eq!(dtype, DataType::String, "{cells:?}");
        assert!(notes.iter().any(|n| n.contains("leading zeros")), "{cells:?}: {notes:?}");
    }
    // Not leading zeros: a lone zero, a decimal, a sign first; and a column that is not all numbers.
    assert_eq!(text(&["0", "10"]).0, DataType::Int64);
    assert_eq!(text(&["0.5", "1.5"]).0, DataType::Float64);
    assert_eq!(text(&["-007", "1"]).0, DataType::Int64);
    let (dtype, notes) = text(&["007", "abc", "1"]);
    assert_eq!(dtype, DataType::String);
    assert!(!notes.iter().any(|n| n.contains("leading zeros")), "{notes:?}");
}

/// A table held as runs of rows of cells, as a reader's parallel pieces hold it.
struct Runs(Vec<Vec<Vec<String>>>);

impl RowRuns for Runs {
    fn run_rows(&self) -> Vec<usize> {
        self.0.iter().map(Vec::len).collect()
    }
    fn run_cell(&self, run: usize, row: usize, column: usize) -> (&str, u64) {
        self.0[run][row][column].cell_word(0)
    }
    fn run_word(&self, run: usize, row: usize, column: usize) -> Option<(u64, usize)> {
        // Every other row from its first bytes alone, as a reader does where it can.
        let (s, word) = self.0[run][row][column].cell_word(0);
        row.is_multiple_of(2).then_some((word, s.len()))
    }
}

impl Cells for String {
    fn len(&self) -> usize {
        1
    }
    fn cell(&self, _: usize) -> &str {
        self
    }
}

/// A column's values as bits (floats) or numbers, missing as `None`, to compare exactly.
fn column_bits(column: &Column) -> Vec<Option<u64>> {
    match column.dtype() {
        DataType::Float64 => column.f64().unwrap().iter().map(|v| v.map(f64::to_bits)).collect(),
        DataType::Int32 => column.i32().unwrap().iter().map(|v| v.map(|v| v as u64)).collect(),
        _ => column.i64().unwrap().iter().map(|v| v.map(|v| v as u64)).collect(),
    }
}

proptest::proptest! {
    /// Numbers read row by row across runs are exactly what typing's own passes give column by
    /// column: the same kind, values, missing rows and flags, or nothing where a pass fails.
    #[test]
    fn numbers_read_by_rows_are_typings_own(
        picks in proptest::collection::vec(proptest::collection::vec(0usize..20, 3), 1..60),
        cuts in proptest::collection::vec(0usize..60, 0..4),
        lean in 0usize..3,
    ) {
        const POOL: [&str; 20] = [
            "1", "-2", "007", "3.5", "1e3", " 4 ", "NA", "", "x", "inf", "12345678", "123456789", "-0", "0.25", ".5",
            "99", "2024-02-29", " 1899-12-31", "2023-02-29", "2024-1-5",
        ];
        // Column 0 leans to whole numbers, column 1 to numbers, column 2 to dates, or takes anything.
        let cell = |column: usize, pick: usize| {
            let pick = match (column, lean) {
                (0, 0) => [0, 1, 2, 6, 7, 10, 12, 15][pick % 8],
                (1, 0) | (0, 1) => [0, 3, 5, 6, 9, 11, 13, 14][pick % 8],
                (2, 0) | (1, 1) => [16, 17, 16, 6, 7, 18, 19, 0][pick % 8],
                _ => pick,
            };
            POOL[pick].to_string()
        };
        let rows: Vec<Vec<String>> =
            picks.iter().map(|row| row.iter().enumerate().map(|(c, &p)| cell(c, p)).collect()).collect();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(rows.len())).collect();
        cuts.sort_unstable();
        let mut runs = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([rows.len()]) {
            runs.push(rows[from..cut].to_vec());
            from = cut;
        }
        let table = Runs(runs);
        let names = ["a", "b", "c"];
        let found = numbers_by_rows(&table, &[(0, "a"), (1, "b"), (2, "c")]);
        for (c, found) in found.iter().enumerate() {
            let values: Vec<String> = rows.iter().map(|row| row[c].clone()).collect();
            let zero = |z: bool| if z { LEADING_ZERO } else { 0 };
            let first = values.iter().find(|s| !is_missing(s)).map(|s| s.cell_word(0));
            let expected = match first {
                Some((s, w)) if whole_number(s, w).is_some() => {
                    parse_all_flagged(names[c], &values, |s, w| whole_number(s, w).map(|(v, z)| (v, zero(z))))
                        .map(|(column, flags)| (0, column, flags))
                }
                Some((s, w)) if number(s, w).is_some() => parse_all_flagged(names[c], &values, |s, w| {
                    number(s, w).map(|(v, z)| (v, zero(z) | if v.is_finite() { 0 } else { NOT_FINITE }))
                })
                .map(|(column, flags)| (1, column, flags)),
                Some((s, _)) if iso_date_days(s).is_some() => {
                    parse_all(names[c], &values, iso_date_days).map(|column| (2, column, 0))
                }
                _ => None,
            };
            let got = found.as_ref().map(|n| match n {
                Numbers::Whole(column, flags) => (0, column.clone(), *flags),
                Numbers::Float(column, flags) => (1, column.clone(), *flags),
                Numbers::IsoDays(column) => (2, column.clone(), 0),
            });
            let bits = |x: &Option<(u8, Column, u8)>| x.as_ref().map(|(k, col, flags)| (*k, column_bits(col), *flags));
            proptest::prop_assert_eq!(bits(&got), bits(&expected), "column {}: {:?}", c, values);
        }
    }
}
