use std::fmt::Write as _;

use chrono::NaiveDate;

use super::*;
use crate::engine::data::ValueFormats;
use crate::engine::features::rfm::aggregate_transactions_with;
use crate::engine::rng::SeededRng;

fn spec(amount: Option<&str>) -> TransactionColumns {
    TransactionColumns {
        customer_id: "customer".into(),
        date: "order_date".into(),
        amount: amount.map(str::to_string),
        as_of: None,
        negative_amounts: NegativeAmounts::Allow,
        since: None,
        behaviour: Default::default(),
        value: None,
    }
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The in-memory path: the whole file read by Strata's reader, then aggregated.
fn in_memory(path: &Path, spec: &TransactionColumns, options: &ReadOptions) -> Result<RfmResult, DataError> {
    let table = data::read_table_columns(path, options, Some(&spec.key_columns()))?;
    aggregate_transactions_with(&table.frame, spec, &options.formats)
}

fn same(streamed: &RfmResult, loaded: &RfmResult) {
    assert!(
        streamed.customers.equals_missing(&loaded.customers),
        "streamed:\n{}\nloaded:\n{}",
        streamed.customers,
        loaded.customers
    );
    same_counts(streamed, loaded);
}

/// As [`same`], the totals to 1e-12 relative: text ids go through polars' hash group-by in memory,
/// which adds a customer's amounts in its own order, where the stream adds them in file order.
fn same_to_rounding(streamed: &RfmResult, loaded: &RfmResult) {
    let money = ["monetary_total", "monetary_mean"];
    let exact = |r: &RfmResult| r.customers.drop_many(money);
    assert!(exact(streamed).equals_missing(&exact(loaded)), "{}\n{}", streamed.customers, loaded.customers);
    for name in money {
        let values = |r: &RfmResult| r.customers.column(name).unwrap().f64().unwrap().to_vec();
        for (a, b) in values(streamed).into_iter().zip(values(loaded)) {
            let (a, b) = (a.unwrap(), b.unwrap());
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{name}: {a} against {b}");
        }
    }
    same_counts(streamed, loaded);
}

fn same_counts(streamed: &RfmResult, loaded: &RfmResult) {
    assert_eq!(streamed.as_of, loaded.as_of);
    assert_eq!(streamed.n_transactions_used, loaded.n_transactions_used);
    assert_eq!(streamed.n_after_as_of, loaded.n_after_as_of);
    assert_eq!(streamed.n_incomplete_dropped, loaded.n_incomplete_dropped);
    assert_eq!(streamed.n_negative_amounts, loaded.n_negative_amounts);
    assert_eq!(streamed.warnings, loaded.warnings);
}

/// A log as a European shop exports it: semicolons, a BOM, CRLF line ends, day-first dates, decimal
/// commas with thousands points, a quoted note holding the delimiter, missing ids, dates and
/// amounts, and returns.
fn european_log(rows: usize, seed: u64) -> String {
    let mut rng = SeededRng::new(seed);
    let mut text = String::from("\u{feff}customer;order_date;note;amount\r\n");
    for i in 0..rows {
        let id = 1 + rng.below(400);
        let day = 1 + rng.below(28);
        let month = 1 + rng.below(12);
        let year = 2015 + rng.below(6);
        let cents = rng.below(500_000) as i64;
        let cents = if rng.next_f64() < 0.03 { -cents } else { cents };
        let amount = format!(
            "{}{},{:02}",
            if cents < 0 { "-" } else { "" },
            thousands(cents.unsigned_abs() / 100),
            cents.unsigned_abs() % 100
        );
        let id = if i % 97 == 5 {
            String::new()
        } else if i % 89 == 3 {
            "NA".into()
        } else {
            id.to_string()
        };
        let date = if i % 83 == 7 { String::new() } else { format!("{day:02}/{month:02}/{year}") };
        let amount = if i % 79 == 11 { String::new() } else { amount };
        let _ = write!(text, "{id};{date};\"gift; wrapped \"\"red\"\"\";{amount}\r\n");
    }
    text
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[test]
fn a_streamed_log_equals_the_loaded_one_bit_for_bit_with_its_readings_pinned_from_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "orders.csv", european_log(3_000, 7).as_bytes());
    let options = ReadOptions::default();
    let loaded = in_memory(&path, &spec(Some("amount")), &options).unwrap();
    assert!(loaded.n_negative_amounts > 0 && loaded.n_incomplete_dropped > 0, "{:?}", loaded.warnings);
    // Pinned from the whole file, and from its first 2 KB only: the rest is read by the pinned rules.
    for head in [HEAD_BYTES, 2_048] {
        let streamed = aggregate_log_streaming_with(&path, &spec(Some("amount")), &options, head).unwrap().result;
        same(&streamed, &loaded);
    }
    // An explicit as-of date inside the log: the later transactions are counted, not used.
    let mut dated = spec(Some("amount"));
    dated.as_of = NaiveDate::from_ymd_opt(2018, 6, 30);
    let streamed = aggregate_log_streaming_with(&path, &dated, &options, 2_048).unwrap().result;
    let loaded = in_memory(&path, &dated, &options).unwrap();
    assert!(loaded.n_after_as_of > 0);
    same(&streamed, &loaded);
    // Without an amount column.
    let streamed = aggregate_log_streaming_with(&path, &spec(None), &options, 2_048).unwrap().result;
    same(&streamed, &in_memory(&path, &spec(None), &options).unwrap());
}

#[test]
fn text_ids_keep_leading_zeros_and_date_times_count_on_their_day_at_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("customer,order_date,amount\n");
    for i in 0..2_000 {
        let id = match i % 4 {
            0 => "00042".to_string(),
            1 => "42".to_string(),
            2 => format!("C-{}", i % 37),
            _ => format!("{:05}", i % 53),
        };
        let hour = (i * 7) % 24;
        let _ = writeln!(text, "{id},2021-03-{:02}T{hour:02}:30:00+05:00,{}.{:02}", 1 + i % 28, i % 300, i % 100);
    }
    let path = write(&dir, "log.csv", text.as_bytes());
    let mut options = ReadOptions::default();
    options.formats.day_offset = Some("-03:00".into());
    let loaded = in_memory(&path, &spec(Some("amount")), &options).unwrap();
    let streamed = aggregate_log_streaming_with(&path, &spec(Some("amount")), &options, 1_024).unwrap().result;
    same_to_rounding(&streamed, &loaded);
    let ids = streamed.customers.column("customer").unwrap().str().unwrap().clone();
    assert!(ids.iter().any(|s| s == Some("00042")) && ids.iter().any(|s| s == Some("42")));
}

#[test]
fn many_batches_give_the_same_table_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SeededRng::new(3);
    let mut text = String::from("customer,order_date,amount\n");
    for _ in 0..(3 * BATCH_ROWS + 1_234) {
        let _ = writeln!(
            text,
            "{},2020-{:02}-{:02},{:.2}",
            1 + rng.below(50_000),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.next_f64() * 300.0 - 10.0
        );
    }
    let path = write(&dir, "big.csv", text.as_bytes());
    let options = ReadOptions::default();
    let loaded = in_memory(&path, &spec(Some("amount")), &options).unwrap();
    let first = aggregate_log_streaming(&path, &spec(Some("amount")), &options).unwrap().result;
    same(&first, &loaded);
    let again = aggregate_log_streaming(&path, &spec(Some("amount")), &options).unwrap().result;
    same(&again, &first);
}

/// A file whose first rows read one way and later rows another: refused with the count and examples
/// (or, for dates the user asked to drop, dropped and said), never read as something else.
#[test]
fn later_rows_that_the_pinned_readings_cannot_read_are_refused_or_dropped_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let head: String = (0..200).map(|i| format!("{},2020-01-{:02},{}.50\n", 100 + i, 1 + i % 28, i)).collect();
    let file = |later: &str| format!("customer,order_date,amount\n{head}{later}");
    let run = |name: &str, later: &str, options: &ReadOptions| {
        let path = write(&dir, name, file(later).as_bytes());
        aggregate_log_streaming_with(&path, &spec(Some("amount")), options, 512).map(|_| ()).unwrap_err().to_string()
    };
    let options = ReadOptions::default();
    let line = run("zeros.csv", "00042,2020-02-01,1.00\n", &options);
    assert!(line.contains("'00042'") && line.contains("--read-as customer=text"), "{line}");
    let line = run("layout.csv", "7,01/02/2020,1.00\n7,02/02/2020,1.00\n", &options);
    assert!(line.contains("2 value(s)") && line.contains("'01/02/2020'") && line.contains("--date-format"), "{line}");
    let line = run("old.csv", "7,1850-01-01,1.00\n", &options);
    assert!(line.contains("'1850-01-01'") && line.contains("--allow-old-dates"), "{line}");
    let line = run("comma.csv", "7,2020-02-01,\"1.234,50\"\n", &options);
    assert!(line.contains("'1.234,50'") && line.contains("plain numbers"), "{line}");
    let line = run("long.csv", "7,2020-02-01,1.00,extra\n", &options);
    assert!(line.contains("could not be streamed") && line.contains("without --streaming"), "{line}");
    // A short row cannot be told from one with empty fields by polars: its missing amount is counted
    // and the row dropped, said in a warning (the in-memory reader refuses the file).
    let path = write(&dir, "short.csv", file("7,2020-02-01\n8,2020-02-01,2\n").as_bytes());
    let result = aggregate_log_streaming_with(&path, &spec(Some("amount")), &options, 512).unwrap().result;
    assert_eq!((result.n_incomplete_dropped, result.n_transactions_used), (1, 201));
    assert!(result.warnings.iter().any(|w| w.starts_with("1 transaction(s) without")), "{:?}", result.warnings);
    let path = write(&dir, "latin1.csv", &[file("").as_bytes(), b"7,2020-02-01,caf\xe9\n"].concat());
    let line = aggregate_log_streaming_with(&path, &spec(Some("amount")), &options, 512).unwrap_err().to_string();
    assert!(line.contains("could not be streamed"), "{line}");

    // Dates the user asked to drop are dropped, counted and said.
    let mut dropping = ReadOptions::default();
    dropping.formats.unparsed_dates = UnparsedDates::Drop;
    let path = write(&dir, "drop.csv", file("7,01/02/2020,1.00\n7,2020-02-03,2.00\n").as_bytes());
    let streamed = aggregate_log_streaming_with(&path, &spec(Some("amount")), &dropping, 512).unwrap();
    assert_eq!(streamed.result.n_incomplete_dropped, 0, "left out, as the loaded file leaves it out");
    assert_eq!(streamed.result.n_transactions_used, 201);
    let said = &streamed.reading_warnings;
    assert!(said.iter().any(|w| w.contains("'01/02/2020'") && w.contains("left out")), "{said:?}");
}

#[test]
fn what_the_streaming_read_cannot_honour_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(&dir, "log.csv", b"customer,order_date,amount\n1,2020-01-01,1\n");
    let refused = |path: &Path, options: &ReadOptions, spec: &TransactionColumns| {
        let line = aggregate_log_streaming(path, spec, options).unwrap_err().to_string();
        assert!(!line.contains('\n'), "{line}");
        line
    };
    let parquet = dir.path().join("log.parquet");
    assert!(refused(&parquet, &ReadOptions::default(), &spec(Some("amount"))).contains("delimited text"));
    let pattern = dir.path().join("log_*.csv");
    assert!(refused(&pattern, &ReadOptions::default(), &spec(Some("amount"))).contains("not a pattern"));
    let latin = ReadOptions { encoding: TextEncoding::Windows1252, ..Default::default() };
    assert!(refused(&csv, &latin, &spec(Some("amount"))).contains("UTF-8"));
    let skipping = ReadOptions { skip_bad_rows: true, ..Default::default() };
    assert!(refused(&csv, &skipping, &spec(Some("amount"))).contains("cannot skip"));
    let sampled = ReadOptions { sample_rows: Some(10), ..Default::default() };
    assert!(refused(&csv, &sampled, &spec(Some("amount"))).contains("choose one"));
    let aligned =
        write(&dir, "aligned.txt", b"customer   order_date   amount\n1   2020-01-01   1\n2   2020-01-02   2\n");
    assert!(refused(&aligned, &ReadOptions::default(), &spec(Some("amount"))).contains("whitespace"));
    let text_amounts = write(&dir, "words.csv", b"customer,order_date,amount\n1,2020-01-01,one\n2,2020-01-02,two\n");
    assert!(refused(&text_amounts, &ReadOptions::default(), &spec(Some("amount"))).contains("cannot be summed"));
    let no_dates = write(&dir, "nodates.csv", b"customer,order_date,amount\n1,soon,1\n2,later,2\n");
    assert!(refused(&no_dates, &ReadOptions::default(), &spec(Some("amount"))).contains("not read as dates"));
    let mut with_value = spec(Some("amount"));
    with_value.behaviour.trend_days = Some(90);
    assert!(refused(&csv, &ReadOptions::default(), &with_value).contains("in memory"));
    let _ = ValueFormats::default();
}

/// Files where the two readers could part ways: a format the user gave, rows without an id setting
/// the as-of date, a quoted id after spaces, a head cut inside a quoted line break, repeated and
/// padded header names, rows dropped for their dates. Each streams as it loads, or is refused.
#[test]
fn where_the_two_readers_could_part_ways_the_stream_reads_as_the_loaded_file_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let compare = |name: &str, text: &str, spec: &TransactionColumns, options: &ReadOptions, head: u64| {
        let path = write(&dir, name, text.as_bytes());
        let loaded = in_memory(&path, spec, options).unwrap();
        let streamed = aggregate_log_streaming_with(&path, spec, options, head).unwrap();
        same(&streamed.result, &loaded);
        streamed
    };
    let rows = |n: usize| -> String {
        (0..n).map(|i| format!("{},2024-01-{:02},{}.25\n", 1 + i % 7, 1 + i % 28, i)).collect()
    };

    // A format the user gave reads every row as given: a later date-time does not fit it and is dropped.
    let mut given = ReadOptions::default();
    given.formats.date_format = Some("%Y-%m-%d".into());
    given.formats.unparsed_dates = UnparsedDates::Drop;
    let text = format!("customer,order_date,amount\n{}9,2024-02-05T23:30:00-05:00,7\n", rows(100));
    let streamed = compare("given.csv", &text, &spec(Some("amount")), &given, 256);
    assert_eq!(streamed.result.customers.height(), 7, "the date-time row is left out, not read");

    // Rows without an id or an amount still date the log: the default as-of date follows them.
    let text = format!("customer,order_date,amount\n{},2024-03-01,5\n3,2024-02-01,\n", rows(60));
    let streamed = compare("undated.csv", &text, &spec(Some("amount")), &ReadOptions::default(), 256);
    assert_eq!(streamed.result.as_of, NaiveDate::from_ymd_opt(2024, 3, 2).unwrap());

    // Repeated, padded and blank header names are the reader's names.
    let text = format!("customer,order_date, amount ,amount,\n{}", rows(80).replace('\n', ",1,x\n"));
    let mut padded = spec(Some("amount_2"));
    padded.amount = Some("amount".into());
    let path = write(&dir, "names.csv", text.as_bytes());
    let loaded_names = data::read_table(&path, &ReadOptions::default()).unwrap().frame;
    let names: Vec<String> = loaded_names.get_column_names().iter().map(|n| n.to_string()).collect();
    for amount in names.iter().skip(2).take(2) {
        let mut columns = spec(Some(amount));
        columns.amount = Some(amount.clone());
        compare("names.csv", &text, &columns, &ReadOptions::default(), 256);
    }

    // A head cut inside a quoted note with line breaks still reads; the rest of the file streams.
    let mut text = String::from("customer,order_date,note,amount\n");
    for i in 0..200 {
        text.push_str(&format!(
            "{},2024-01-{:02},\"line one\nline two, with a comma\",{}.5\n",
            1 + i % 9,
            1 + i % 28,
            i
        ));
    }
    for head in [100, 333, 1_000] {
        compare("notes.csv", &text, &spec(Some("amount")), &ReadOptions::default(), head);
    }

    // Dates dropped on request are left out as the loaded file leaves them out: not counted as incomplete.
    let mut dropping = ReadOptions::default();
    dropping.formats.unparsed_dates = UnparsedDates::Drop;
    let text = format!("customer,order_date,amount\n{}5,sometime,-3\n", rows(50));
    let streamed = compare("dropped.csv", &text, &spec(Some("amount")), &dropping, 128);
    assert!(streamed.reading_warnings.iter().any(|w| w.contains("'sometime'") && w.contains("left out")));

    // Spaces before a quoted text id: polars would keep them and make another customer; refused.
    let text = format!("customer,order_date,amount\n{}  \"A1\",2024-01-05,2\n", rows(50).replacen("1,", "A1,", 1));
    let path = write(&dir, "quoted.csv", text.as_bytes());
    let line = aggregate_log_streaming_with(&path, &spec(Some("amount")), &ReadOptions::default(), 128)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(line.contains("spaces before a quoted id"), "{line}");

    // What the reader said about the first rows is passed on, marked as about them.
    let text = format!("customer,order_date,amount\n{}4,2024-01-09,N/A\n", rows(20));
    let streamed = compare("markers.csv", &text, &spec(Some("amount")), &ReadOptions::default(), HEAD_BYTES);
    assert!(streamed.reading_warnings.iter().all(|w| w.starts_with("in the log's first rows: ")));
}
