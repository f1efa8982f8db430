//! Dates, date-times and numbers as real systems write them in text files (issue 18): detection,
//! explicit formats, ambiguity and conflicts, offsets, hostile values, and the same customer table
//! from every export of one log.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use proptest::prelude::*;
use strata::engine::data::{
    Delimiter, LoadedTable, ReadOptions, ReadingKind, ValueFormats, read_table_formatted, read_text_formatted,
};
use strata::engine::error::DataError;
use strata::engine::features::TransactionColumns;
use strata::engine::features::rfm::aggregate_transactions_with;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats").join(name)
}

fn read_with(text: &str, formats: &ValueFormats) -> Result<LoadedTable, DataError> {
    read_text_formatted(text.as_bytes(), Path::new("t.csv"), &ReadOptions::default(), formats, None, &["id".into()])
}

fn read(text: &str) -> LoadedTable {
    read_with(text, &ValueFormats::default()).unwrap()
}

/// The same text as a whitespace-aligned file (commas become runs of spaces).
fn whitespace(text: &str) -> LoadedTable {
    whitespace_from(text, ',')
}

/// The same text as a whitespace-aligned file, from fields separated by `separator`.
fn whitespace_from(text: &str, separator: char) -> LoadedTable {
    let aligned: String = text.lines().map(|l| format!("{}\n", l.replace(separator, "   "))).collect();
    let options = ReadOptions { delimiter: Some(Delimiter::Whitespace), ..ReadOptions::default() };
    read_text_formatted(
        aligned.as_bytes(),
        Path::new("t.txt"),
        &options,
        &ValueFormats::default(),
        None,
        &["id".into()],
    )
    .unwrap()
}

fn days(table: &LoadedTable, column: &str) -> Vec<Option<NaiveDate>> {
    let column = table.frame.column(column).unwrap();
    let as_date = column.cast(&DataType::Date).unwrap();
    as_date
        .as_materialized_series()
        .date()
        .unwrap()
        .physical()
        .iter()
        .map(|d| d.map(|d| NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(d as i64)))
        .collect()
}

fn floats(table: &LoadedTable, column: &str) -> Vec<Option<f64>> {
    table.frame.column(column).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().to_vec()
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn sentence(table: &LoadedTable, column: &str) -> String {
    table.readings.iter().find(|r| r.column == column).map(|r| r.sentence.clone()).unwrap_or_default()
}

// ---- Dates and date-times ------------------------------------------------------------------------

#[test]
fn every_date_layout_reads_in_csv_and_whitespace_text() {
    let cases: [(&str, &str); 10] = [
        ("2017-08-31T14:22:00", "2017-09-01T10:00:00"),
        ("2017-08-31 14:22", "2017-09-01 10:00"),
        ("2017-08-31T14:22:05.125Z", "2017-09-01T10:00:00+00:00"),
        ("20170831", "20170901"),
        ("31/08/2017", "01/09/2017"),
        ("08/31/2017", "09/01/2017"),
        ("31.08.2017", "01.09.2017"),
        ("31-08-2017", "01-09-2017"),
        ("31-Aug-2017", "01-SEP-2017"),
        ("2017/08/31", "2017/09/01"),
    ];
    for (a, b) in cases {
        let text = format!("id,order_date\nx,{a}\ny,{b}\n");
        assert_eq!(days(&read(&text), "order_date"), [date(2017, 8, 31), date(2017, 9, 1)], "{a}");
        if !a.contains(' ') {
            assert_eq!(
                days(&whitespace(&text), "order_date"),
                [date(2017, 8, 31), date(2017, 9, 1)],
                "{a} (whitespace)"
            );
        }
    }
    // Named months with spaces and commas, quoted in CSV.
    let table = read("id,order_date\nx,31 Aug 2017\ny,1 September 2017\n");
    assert_eq!(days(&table, "order_date"), [date(2017, 8, 31), date(2017, 9, 1)]);
    let table = read("id,order_date\nx,\"Aug 31, 2017\"\ny,\"Sep 1, 2017\"\n");
    assert_eq!(days(&table, "order_date"), [date(2017, 8, 31), date(2017, 9, 1)]);
}

#[test]
fn each_column_says_how_it_was_read() {
    let table = read("id,order_date,amount\nx,31/08/2017,\"1,234.50\"\ny,01/09/2017,12.00\n");
    assert_eq!(sentence(&table, "order_date"), "column 'order_date' read as day/month/year dates (31/08/2017)");
    let reading = table.readings.iter().find(|r| r.column == "order_date").unwrap();
    assert_eq!((reading.kind.clone(), reading.format.as_str()), (ReadingKind::Dates, "%d/%m/%Y"));
    assert!(sentence(&table, "amount").starts_with("column 'amount' read as numbers with a decimal point"));
    // Formatted columns are also said in the warnings, which every command prints.
    assert!(table.warnings.iter().any(|w| w.contains("day/month/year")), "{:?}", table.warnings);
    let table = read("id,created_at\nx,2017-08-31T23:30:00+02:00\n");
    assert_eq!(
        sentence(&table, "created_at"),
        "column 'created_at' read as ISO 8601 date-times (2017-08-31T23:30:00+02:00), counted on the UTC day"
    );
    assert!(matches!(
        table.frame.column("created_at").unwrap().dtype(),
        DataType::Datetime(TimeUnit::Milliseconds, None)
    ));
}

#[test]
fn ambiguous_day_month_dates_are_refused_with_both_readings() {
    for text in ["id,date\na,03/05/2017\nb,04/06/2017\n", "id date\na 03/05/2017\nb 04/06/2017\n"] {
        let err = read_with(text, &ValueFormats::default()).unwrap_err().to_string();
        assert_eq!(
            err,
            "column 'date' is ambiguous: '03/05/2017' is 3 May (day/month) or March 5 (month/day); pass --date-format %d/%m/%Y or %m/%d/%Y"
        );
    }
    let month_first = ValueFormats { date_format: Some("%m/%d/%Y".into()), ..ValueFormats::default() };
    let table = read_with("id,date\na,03/05/2017\nb,04/06/2017\n", &month_first).unwrap();
    assert_eq!(days(&table, "date"), [date(2017, 3, 5), date(2017, 4, 6)]);
    // One value that only reads day-first decides the column.
    let table = read("id,date\na,03/05/2017\nb,25/06/2017\n");
    assert_eq!(days(&table, "date"), [date(2017, 5, 3), date(2017, 6, 25)]);
}

#[test]
fn two_digit_years_need_an_explicit_format() {
    let table = read("id,order_date\na,31-AUG-17\nb,01-SEP-17\n");
    assert_eq!(table.frame.column("order_date").unwrap().dtype(), &DataType::String);
    assert!(table.warnings.iter().any(|w| w.contains("two-digit") && w.contains("%d-%b-%y")), "{:?}", table.warnings);
    let explicit = ValueFormats { date_format: Some("%d-%b-%y".into()), ..ValueFormats::default() };
    let table = read_with("id,order_date\na,31-AUG-17\nb,01-SEP-17\n", &explicit).unwrap();
    assert_eq!(days(&table, "order_date"), [date(2017, 8, 31), date(2017, 9, 1)]);
    // The reading of issue 15 stays: 03/05/03 is not the year 3.
    let table = read("id,order_date\na,03/05/03\nb,04/11/21\n");
    assert_eq!(table.frame.column("order_date").unwrap().dtype(), &DataType::String);
}

#[test]
fn unparsed_values_are_counted_and_shown() {
    let mut text = String::from("id,order_date\n");
    for i in 1..=28 {
        text.push_str(&format!("r{i},{i:02}/08/2017\n"));
    }
    text.push_str("bad1,soon\nbad2,31/02/2017\n");
    // Refused unless the user says where the rows go (below); kept missing for the fallback segment.
    assert!(read_with(&text, &ValueFormats::default()).is_err());
    let fallback = ValueFormats { unparsed_dates: UnparsedDates::Fallback, ..ValueFormats::default() };
    let table = read_with(&text, &fallback).unwrap();
    let read_days = days(&table, "order_date");
    assert_eq!(read_days[12], date(2017, 8, 13));
    assert_eq!(read_days[28..], [None, None]);
    let line = table.warnings.iter().find(|w| w.contains("order_date")).unwrap();
    assert!(
        line.contains("2 value(s) did not parse") && line.contains("'soon'") && line.contains("'31/02/2017'"),
        "{line}"
    );
    assert_eq!(table.readings[0].n_unparsed, 2);
}

#[test]
fn epoch_and_excel_numbers_in_columns_marked_as_dates() {
    let table = read("id,event_epoch,timestamp,n\na,1504188000,1504188000000,1504188000\n");
    assert_eq!(days(&table, "event_epoch"), [date(2017, 8, 31)]);
    assert_eq!(days(&table, "timestamp"), [date(2017, 8, 31)]);
    assert_eq!(table.frame.column("n").unwrap().dtype(), &DataType::Int64);
    assert!(sentence(&table, "timestamp").contains("Unix epoch milliseconds"), "{}", sentence(&table, "timestamp"));
    let marked = ValueFormats { date_columns: vec!["serial".into()], ..ValueFormats::default() };
    let table = read_with("id,serial\na,42978\nb,42979.5\n", &marked).unwrap();
    assert_eq!(days(&table, "serial"), [date(2017, 8, 31), date(2017, 9, 1)]);
    // Numbers of no date unit stay numbers, with a line saying so.
    let table = read("id,created_epoch\na,5\nb,7\n");
    assert_eq!(table.frame.column("created_epoch").unwrap().dtype(), &DataType::Int64);
    assert!(table.warnings.iter().any(|w| w.contains("epoch_ms")), "{:?}", table.warnings);
}

#[test]
fn offsets_count_on_the_utc_day_or_the_chosen_offset() {
    let text = "id,created_at\na,2017-09-01T01:30:00+02:00\nb,2017-08-31T23:30:00Z\nc,2017-08-31 23:30:00\n";
    assert_eq!(days(&read(text), "created_at"), [date(2017, 8, 31), date(2017, 8, 31), date(2017, 8, 31)]);
    let berlin_summer = ValueFormats { day_offset: Some("+02:00".into()), ..ValueFormats::default() };
    let table = read_with(text, &berlin_summer).unwrap();
    // Values with an offset move to +02:00; the one without stays as written.
    assert_eq!(days(&table, "created_at"), [date(2017, 9, 1), date(2017, 9, 1), date(2017, 8, 31)]);
    assert!(sentence(&table, "created_at").contains("counted on the day at +02:00"));
    let bad = ValueFormats { day_offset: Some("Europe/Berlin".into()), ..ValueFormats::default() };
    let err = read_with(text, &bad).unwrap_err().to_string();
    assert!(err.contains("day_offset") && err.contains("named time zones are not supported"), "{err}");
}

#[test]
fn old_dates_are_text_unless_allowed() {
    let text = "id,order_date\na,1850-03-01\nb,2017-08-31\n";
    assert_eq!(read(text).frame.column("order_date").unwrap().dtype(), &DataType::String);
    let allow = ValueFormats { allow_old_dates: true, ..ValueFormats::default() };
    let table = read_with(text, &allow).unwrap();
    assert_eq!(days(&table, "order_date"), [date(1850, 3, 1), date(2017, 8, 31)]);
    // In a log, such a transaction is kept; without the switch it is said to be implausibly old.
    let log = read_with("id,order_date,amount\na,1850-03-01,1\nb,2017-08-31,2\n", &allow).unwrap();
    let spec = columns("id", "order_date", "amount");
    let with = aggregate_transactions_with(&log.frame, &spec, &allow).unwrap();
    assert_eq!(with.n_transactions_used, 2);
    assert!(with.warnings.is_empty(), "{:?}", with.warnings);
    let without = aggregate_transactions_with(&log.frame, &spec, &ValueFormats::default()).unwrap();
    assert!(without.warnings.iter().any(|w| w.contains("more than 100 years")), "{:?}", without.warnings);
}

// ---- Numbers --------------------------------------------------------------------------------------

#[test]
fn every_number_style_reads_in_csv_and_whitespace_text() {
    let cases: [(&str, &str, [f64; 2]); 10] = [
        ("1,234.50", "12.00", [1234.5, 12.0]),
        ("1.234,50", "12,00", [1234.5, 12.0]),
        ("1'234.50", "7.25", [1234.5, 7.25]),
        ("$1,200.50", "$3.00", [1200.5, 3.0]),
        ("12,50€", "1.000,00€", [12.5, 1000.0]),
        ("USD10", "USD12.5", [10.0, 12.5]),
        ("12%", "7.5%", [0.12, 0.075]),
        ("(12.50)", "3.25", [-12.5, 3.25]),
        ("12.50-", "3.25", [-12.5, 3.25]),
        ("1 234,50 €", "12,50 €", [1234.5, 12.5]),
    ];
    for (a, b, want) in cases {
        let text = format!("id;amount\nx;{a}\ny;{b}\n");
        let options = ReadOptions { delimiter: Some(Delimiter::Char(';')), ..ReadOptions::default() };
        let table =
            read_text_formatted(text.as_bytes(), Path::new("t.csv"), &options, &ValueFormats::default(), None, &[])
                .unwrap();
        assert_eq!(floats(&table, "amount"), want.map(Some), "{a}");
        if !a.contains(' ') {
            assert_eq!(floats(&whitespace_from(&text, ';'), "amount"), want.map(Some), "{a} (whitespace)");
        }
    }
    assert!(sentence(&read("id,rate\nx,12%\n"), "rate").contains("percentages divided by 100"));
}

#[test]
fn disagreeing_numbers_are_kept_as_text_with_the_values_shown() {
    let semicolon = ReadOptions { delimiter: Some(Delimiter::Char(';')), ..ReadOptions::default() };
    let read_semicolon = |text: &str, formats: &ValueFormats| {
        read_text_formatted(text.as_bytes(), Path::new("t.csv"), &semicolon, formats, None, &["id".into()]).unwrap()
    };
    let table = read_semicolon("id;amount\nx;1,5\ny;1.5\n", &ValueFormats::default());
    assert_eq!(table.frame.column("amount").unwrap().dtype(), &DataType::String);
    let line = table.warnings.iter().find(|w| w.contains("'amount'")).unwrap();
    assert!(line.contains("'1.5'") && line.contains("'1,5'"), "{line}");
    // `1.234` in a file that writes decimal commas: not read as 1.234.
    let table = read_semicolon("id;amount;weight\nx;12,50;1.234\ny;3,00;2.500\n", &ValueFormats::default());
    assert_eq!(floats(&table, "amount"), [Some(12.5), Some(3.0)]);
    assert_eq!(table.frame.column("weight").unwrap().dtype(), &DataType::String);
    let line = table.warnings.iter().find(|w| w.contains("'weight'")).unwrap();
    assert!(line.contains("'1.234'") && line.contains("--decimal-comma"), "{line}");
    // The user says which; then it reads.
    let comma = ValueFormats { decimal_comma: Some(true), ..ValueFormats::default() };
    let table = read_semicolon("id;amount;weight\nx;12,50;1.234\ny;3,00;2.500\n", &comma);
    assert_eq!(floats(&table, "weight"), [Some(1234.0), Some(2500.0)]);
    let point = ValueFormats { decimal_comma: Some(false), ..ValueFormats::default() };
    let table = read_with("id,amount\nx,\"1,234\"\ny,\"5,678\"\n", &point).unwrap();
    assert_eq!(floats(&table, "amount"), [Some(1234.0), Some(5678.0)]);
    // Without a choice, and nothing else in the file to go by, `1,234` is not guessed.
    let table = read("id,amount\nx,\"1,234\"\ny,\"5,678\"\n");
    assert_eq!(table.frame.column("amount").unwrap().dtype(), &DataType::String);
    assert!(
        table.warnings.iter().any(|w| w.contains("ambiguous") && w.contains("--decimal-comma")),
        "{:?}",
        table.warnings
    );
    // Two currencies are not added up.
    let table = read("id,amount\nx,$10\ny,€12\n");
    assert_eq!(table.frame.column("amount").unwrap().dtype(), &DataType::String);
}

#[test]
fn ids_and_plain_numbers_are_unchanged() {
    let table = read_text_formatted(
        b"code,n,x\n00042,1,0.5\n00043,2,1.25\n",
        Path::new("t.csv"),
        &ReadOptions::default(),
        &ValueFormats::default(),
        None,
        &[],
    )
    .unwrap();
    assert_eq!(table.frame.column("code").unwrap().dtype(), &DataType::String);
    assert_eq!(table.frame.column("n").unwrap().dtype(), &DataType::Int64);
    assert_eq!(floats(&table, "x"), [Some(0.5), Some(1.25)]);
    assert!(table.readings.is_empty(), "{:?}", table.readings);
}

#[test]
fn hostile_values_get_one_clear_line_and_no_panic() {
    let long = "9".repeat(10_000);
    let long_text = "x".repeat(10_000);
    for cell in
        ["1e400", "--", "", "999999999999999999999999999999999999", &long, &long_text, "(", "$", "%", "1,2,3.4.5"]
    {
        for column in ["amount", "order_date", "event_epoch"] {
            let text = format!("id,{column}\na,\"{cell}\"\nb,12.50\nc,2017-08-31\n");
            let outcome = read_with(&text, &ValueFormats::default());
            match outcome {
                Ok(table) => {
                    assert!(table.warnings.iter().all(|w| w.len() < 2048 && !w.contains('\n')), "{:?}", table.warnings)
                }
                Err(e) => assert!(e.to_string().len() < 2048, "{e}"),
            }
        }
    }
    let too_long = ValueFormats { date_format: Some("%d".repeat(200)), ..ValueFormats::default() };
    let err = read_with("id,d\na,1\n", &too_long).unwrap_err().to_string();
    assert!(err.contains("date_format") && err.len() < 600, "{err}");
    assert!(ValueFormats { date_format: Some("%Q".into()), ..ValueFormats::default() }.check().is_err());
    assert!(ValueFormats { day_offset: Some("+99:00".into()), ..ValueFormats::default() }.check().is_err());
    assert!(ValueFormats::default().check().is_ok());
}

// ---- The same log from five systems ----------------------------------------------------------------

fn columns(id: &str, date: &str, amount: &str) -> TransactionColumns {
    TransactionColumns {
        customer_id: id.into(),
        date: date.into(),
        amount: Some(amount.into()),
        as_of: NaiveDate::from_ymd_opt(2017, 12, 31),
        negative_amounts: strata::engine::features::NegativeAmounts::Allow,
        since: None,
        behaviour: Default::default(),
        value: None,
    }
}

fn customer_table(file: &str, id: &str, date: &str, amount: &str, formats: &ValueFormats) -> DataFrame {
    let table =
        read_table_formatted(&fixture(file), &ReadOptions::default(), formats, None, &[id.to_string()]).unwrap();
    let result = aggregate_transactions_with(&table.frame, &columns(id, date, amount), formats).unwrap();
    let mut customers = result.customers;
    customers.rename(id, "customer_id".into()).unwrap();
    customers
}

#[test]
fn every_export_gives_the_clean_customer_table() {
    let detect = ValueFormats::default();
    let clean = customer_table("clean.csv", "customer_id", "order_date", "amount", &detect);
    assert_eq!(clean.height(), 4);
    for (file, id, date, amount) in [
        ("shop_export.csv", "customer_id", "created_at", "total"),
        ("european.csv", "Kunde", "Datum", "Betrag"),
        ("us_spreadsheet.csv", "Customer", "Order Date", "Amount"),
        ("event_log.csv", "user", "event_epoch", "value"),
    ] {
        let table = customer_table(file, id, date, amount, &detect);
        assert!(table.equals_missing(&clean), "{file}:\n{table}\nclean:\n{clean}");
    }
    // At +02:00, the shop's first purchase of A17 (01:30 on 1 September there) counts on 1 September.
    let at_two = ValueFormats { day_offset: Some("+02:00".into()), ..ValueFormats::default() };
    let shop = customer_table("shop_export.csv", "customer_id", "created_at", "total", &at_two);
    let first = shop.column("first_purchase").unwrap().get(0).unwrap().to_string();
    assert_eq!(first, "2017-09-01");
}

#[test]
fn the_strata_rfm_command_reads_every_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for (file, id, date, amount) in [
        ("clean.csv", "customer_id", "order_date", "amount"),
        ("us_spreadsheet.csv", "Customer", "Order Date", "Amount"),
        ("european.csv", "Kunde", "Datum", "Betrag"),
    ] {
        let out = dir.path().join(format!("{file}.out.csv"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["rfm", "--transactions"])
            .arg(fixture(file))
            .args(["--customer-id", id, "--date", date, "--amount", amount, "--as-of", "2017-12-31", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(status.status.success(), "{file}: {}", String::from_utf8_lossy(&status.stderr));
        let text = std::fs::read_to_string(&out).unwrap();
        outputs.push(text.lines().skip(1).map(str::to_string).collect::<Vec<_>>());
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}

#[test]
fn every_export_gives_the_same_behavioural_features() {
    use strata::engine::features::behaviour::{BehaviourSpec, behavioural_features};
    let spec = BehaviourSpec { breakdown: Vec::new(), trend_days: Some(60), rhythm: true };
    let as_of = NaiveDate::from_ymd_opt(2017, 12, 31).unwrap();
    let features = |file: &str, id: &str, date: &str, amount: &str| {
        let detect = ValueFormats::default();
        let table =
            read_table_formatted(&fixture(file), &ReadOptions::default(), &detect, None, &[id.to_string()]).unwrap();
        let mut out =
            behavioural_features(&table.frame, &columns(id, date, amount), &detect, as_of, &spec).unwrap().customers;
        out.rename(id, "customer_id".into()).unwrap();
        out
    };
    let clean = features("clean.csv", "customer_id", "order_date", "amount");
    assert_eq!(clean.height(), 4);
    assert!(clean.column("gap_mean_days").unwrap().null_count() < 4, "someone bought twice:\n{clean}");
    for (file, id, date, amount) in [
        ("shop_export.csv", "customer_id", "created_at", "total"),
        ("european.csv", "Kunde", "Datum", "Betrag"),
        ("us_spreadsheet.csv", "Customer", "Order Date", "Amount"),
        ("event_log.csv", "user", "event_epoch", "value"),
    ] {
        let table = features(file, id, date, amount);
        assert!(table.equals_missing(&clean), "{file}:\n{table}\nclean:\n{clean}");
    }
}

#[test]
fn the_strata_rfm_command_adds_behavioural_features_and_refuses_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    std::fs::write(
        &log,
        "id,date,amount,channel\n1,2024-01-01 09:00,100,Web\n1,2024-01-11T18:30:00Z,50,Web\n\
         1,2024-01-31,-30,Shop\n2,2024-01-06,20,Shop\n",
    )
    .unwrap();
    let strata = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["rfm", "--transactions"])
            .arg(&log)
            .args(["--customer-id", "id", "--date", "date", "--amount", "amount", "--as-of", "2024-02-01", "--out"])
            .arg(dir.path().join("out.csv"))
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = strata(&["--features-from", "channel", "--trend-days", "14", "--behaviour"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let text = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    for column in [
        "recency_days",
        "spend_share_channel_web",
        "order_share_channel_shop",
        "distinct_channel",
        "first_channel",
        "spend_last_14d",
        "spend_previous_14d",
        "spend_trend",
        "gap_mean_days",
        "gap_cv",
        "return_share",
        "return_value",
        "weekend_share",
    ] {
        assert!(header.contains(&column), "{column} missing from {header:?}");
    }
    // Without the options the table is the RFM table it always was.
    let plain = strata(&[]);
    assert!(plain.status.success());
    let text = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert_eq!(text.lines().next().unwrap().split(',').count(), 8);
    for (extra, expected) in [
        (&["--trend-days", "0"][..], "0 is not in 1..=3650"),
        (&["--trend-days", "99999999999"][..], "99999999999"),
        (&["--features-from", "nope"][..], "nope"),
        (&["--features-from", "amount"][..], "cannot also be broken down by"),
        (&["--features-from", "channel,channel"][..], "named twice"),
    ] {
        let out = strata(extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(expected), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

// ---- Round trips ------------------------------------------------------------------------------------

/// Date formats written by hand (strftime) and whether they need an anchor value to decide
/// day-first against month-first.
const DATE_FORMATS: [&str; 10] = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S%.3fZ",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%Y%m%d",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_dates_round_trip_through_every_format(
        picks in prop::collection::vec((0i64..73_000, 0u32..86_400), 1..20),
        which in 0usize..DATE_FORMATS.len(),
    ) {
        let format = DATE_FORMATS[which];
        let base = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        // An anchor (the 31st) decides day-first against month-first.
        let mut stamps = vec![NaiveDate::from_ymd_opt(2000, 12, 31).unwrap().and_hms_opt(0, 0, 0).unwrap()];
        stamps.extend(picks.iter().map(|(d, s)| (base + chrono::Duration::days(*d)).and_hms_opt(s / 3600, s / 60 % 60, s % 60).unwrap()));
        let mut text = String::from("id,order_date\n");
        for (i, t) in stamps.iter().enumerate() {
            text.push_str(&format!("r{i},\"{}\"\n", t.format(format)));
        }
        let table = read(&text);
        let want: Vec<Option<NaiveDate>> = stamps.iter().map(|t| Some(t.date())).collect();
        prop_assert_eq!(days(&table, "order_date"), want, "{}", format);
    }

    #[test]
    fn random_numbers_round_trip_through_every_style(
        cents in prop::collection::vec(-100_000_000_000i64..100_000_000_000, 1..20),
        style in 0usize..6,
    ) {
        let write = |c: i64| -> String {
            let sign = if c < 0 { "-" } else { "" };
            let (whole, frac) = ((c.abs() / 100).to_string(), c.abs() % 100);
            let group = |sep: &str| {
                let digits: Vec<char> = whole.chars().collect();
                let mut out = String::new();
                for (i, ch) in digits.iter().enumerate() {
                    if i > 0 && (digits.len() - i).is_multiple_of(3) { out.push_str(sep); }
                    out.push(*ch);
                }
                out
            };
            match style {
                0 => format!("\"{sign}{},{:02}\"", group("."), frac),
                1 => format!("\"{sign}{}.{:02}\"", group(","), frac),
                2 => format!("\"{sign}${}.{:02}\"", group(","), frac),
                3 => format!("\"{sign}{},{:02} €\"", group(" "), frac),
                4 => if c < 0 { format!("\"({}.{:02})\"", group("'"), frac) } else { format!("\"{}.{:02}\"", group("'"), frac) },
                _ => format!("\"USD {sign}{}.{:02}\"", whole, frac),
            }
        };
        let mut text = String::from("id,amount\n");
        for (i, c) in cents.iter().enumerate() {
            text.push_str(&format!("r{i},{}\n", write(*c)));
        }
        let table = read(&text);
        let got = floats(&table, "amount");
        for (c, g) in cents.iter().zip(got) {
            let want = *c as f64 / 100.0;
            prop_assert!(g.is_some_and(|g| (g - want).abs() <= want.abs() * 1e-12), "{} read as {:?} (style {})", write(*c), g, style);
        }
    }
}

// ---- Per-column choices and where unparsed dates go (issue 18) ----------------------------------

use strata::engine::data::{ColumnFormat, ReadAs, UnparsedDates};

fn with_column(column: &str, edit: impl FnOnce(&mut ColumnFormat)) -> ValueFormats {
    let mut formats = ValueFormats::default();
    formats.set_column(column, edit);
    formats
}

#[test]
fn a_columns_own_format_beats_the_file_wide_one_in_csv_and_whitespace_text() {
    let text = "id,paid,shipped\na,03/05/2017,03/05/2017\nb,04/06/2017,04/06/2017\n";
    // File-wide day-first, the shipped column month-first.
    let mut formats = ValueFormats { date_format: Some("%d/%m/%Y".into()), ..ValueFormats::default() };
    formats.set_column("shipped", |c| c.date_format = Some("%m/%d/%Y".into()));
    let aligned: String = text.lines().map(|l| format!("{}\n", l.replace(',', "   "))).collect();
    let options = ReadOptions { delimiter: Some(Delimiter::Whitespace), ..ReadOptions::default() };
    let spaced =
        read_text_formatted(aligned.as_bytes(), Path::new("t.txt"), &options, &formats, None, &["id".into()]).unwrap();
    for table in [read_with(text, &formats).unwrap(), spaced] {
        assert_eq!(days(&table, "paid"), [date(2017, 5, 3), date(2017, 6, 4)]);
        assert_eq!(days(&table, "shipped"), [date(2017, 3, 5), date(2017, 4, 6)]);
        let reading = table.readings.iter().find(|r| r.column == "shipped").unwrap();
        assert_eq!(reading.format, "%m/%d/%Y");
    }
    // Only the column that is ambiguous needs an answer; the other is refused as before.
    let one = with_column("paid", |c| c.date_format = Some("%d/%m/%Y".into()));
    let err = read_with(text, &one).unwrap_err().to_string();
    assert!(err.starts_with("column 'shipped' is ambiguous"), "{err}");
}

#[test]
fn a_column_marked_not_a_date_or_text_is_read_so() {
    let text = "id,order_date,code,amount\na,2017-08-31,20170831,\"1.234,50\"\nb,2017-09-01,20170901,\"2,50\"\n";
    let table = read(text);
    assert_eq!(table.frame.column("order_date").unwrap().dtype(), &DataType::Date);
    let mut formats = with_column("order_date", |c| c.read_as = ReadAs::Text);
    formats.set_column("code", |c| c.read_as = ReadAs::NotDate);
    let table = read_with(text, &formats).unwrap();
    assert_eq!(table.frame.column("order_date").unwrap().dtype(), &DataType::String);
    assert_eq!(table.frame.column("code").unwrap().dtype(), &DataType::Int64);
    assert!(sentence(&table, "order_date").contains("kept as text as written (your choice)"));
    // The decimal mark of one column.
    let comma = with_column("amount", |c| c.decimal_comma = Some(true));
    let table = read_with(text, &comma).unwrap();
    assert_eq!(floats(&table, "amount"), [Some(1234.5), Some(2.5)]);
    // A column marked as a date reads its epoch numbers.
    let marked = with_column("n", |c| c.read_as = ReadAs::Date);
    let table = read_with("id,n\na,1504188000\n", &marked).unwrap();
    assert_eq!(days(&table, "n"), [date(2017, 8, 31)]);
}

fn unparsed_log() -> String {
    let mut text = String::from("id,order_date,amount\n");
    for i in 1..=28 {
        text.push_str(&format!("r{i},{i:02}/08/2017,{i}\n"));
    }
    text.push_str("bad1,soon,5\nbad2,31/02/2017,6\n");
    text
}

#[test]
fn unparsed_dates_are_refused_dropped_or_kept_for_the_fallback_as_chosen() {
    let text = unparsed_log();
    let aligned: String = text.lines().map(|l| format!("{}\n", l.replace(',', "   "))).collect();
    let read_both = |formats: &ValueFormats| {
        let options = ReadOptions { delimiter: Some(Delimiter::Whitespace), ..ReadOptions::default() };
        let spaced =
            read_text_formatted(aligned.as_bytes(), Path::new("t.txt"), &options, formats, None, &["id".into()]);
        [read_with(&text, formats), spaced]
    };
    // Refused by default, with the count and examples.
    for outcome in read_both(&ValueFormats::default()) {
        let err = outcome.unwrap_err().to_string();
        assert!(
            err.contains("2 value(s) in column 'order_date' are not dates")
                && err.contains("'soon'")
                && err.contains("--unparsed-dates drop or fallback"),
            "{err}"
        );
    }
    // Dropped: the rows are gone, counted and shown.
    let drop = ValueFormats { unparsed_dates: UnparsedDates::Drop, ..ValueFormats::default() };
    for table in read_both(&drop) {
        let table = table.unwrap();
        assert_eq!(table.frame.height(), 28);
        assert_eq!(days(&table, "order_date")[27], date(2017, 8, 28));
        let line = table.warnings.iter().find(|w| w.contains("left out at your request")).unwrap();
        assert!(line.starts_with("2 row(s) left out") && line.contains("'31/02/2017'"), "{line}");
        assert!(table.unparsed_date_rows().is_empty());
    }
    // Fallback: the rows stay, missing, and are named for the fallback segment.
    let fallback = ValueFormats { unparsed_dates: UnparsedDates::Fallback, ..ValueFormats::default() };
    for table in read_both(&fallback) {
        let table = table.unwrap();
        assert_eq!(table.frame.height(), 30);
        assert_eq!(table.unparsed_date_rows(), [28, 29]);
        assert!(sentence(&table, "order_date").contains("fallback segment"));
    }
}

#[test]
fn customers_with_unparsed_dates_go_to_the_fallback_segment_of_a_run() {
    use strata::engine::cluster::Algorithm;
    use strata::engine::cluster::kmeans::KMeansParams;
    use strata::engine::features::{FeatureRecipe, FeatureSpec};
    use strata::engine::jobs::JobContext;
    use strata::engine::pipeline::{
        self, DataSource, DuplicateIdRule, ModelSpec, PipelineSpec, SourceResolver, SourceSpec, TableKind,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("id,signup_date,spend,visits\n");
    for i in 0..60 {
        let day = 1 + i % 28;
        let signup = if i == 7 || i == 33 { "not yet".to_string() } else { format!("{day:02}/08/2017") };
        text.push_str(&format!("c{i},{signup},{},{}\n", 10 + (i % 3) * 40, 1 + (i % 5)));
    }
    std::fs::write(dir.path().join("customers.csv"), &text).unwrap();
    let mut spec = PipelineSpec {
        source: SourceSpec {
            source: DataSource::File("customers.csv".into()),
            read_options: ReadOptions::default(),
            fingerprint: None,
        },
        table: TableKind::CustomerTable { id_column: Some("id".into()), no_id: false },
        attributes: None,
        attributes_key: None,
        derived: Default::default(),
        duplicate_ids: DuplicateIdRule::Refuse,
        role_overrides: vec![],
        recipe: FeatureRecipe { features: vec![FeatureSpec::numeric("spend"), FeatureSpec::numeric("visits")] },
        model: ModelSpec {
            algorithm: Algorithm::KMeans(KMeansParams::new(2)),
            k_range: None,
            min_segment_share: None,
            stability: None,
            explain_depth: None,
        },
    };
    let resolver = SourceResolver { base_dir: dir.path().to_path_buf(), allow_outside: false };
    let err = pipeline::run(&spec, &resolver, &JobContext::inline()).err().unwrap().to_string();
    assert!(err.contains("column 'signup_date'") && err.contains("'not yet'"), "{err}");
    spec.source.read_options.formats.unparsed_dates = UnparsedDates::Fallback;
    let result = pipeline::run(&spec, &resolver, &JobContext::inline()).unwrap();
    assert_eq!(result.matrix.fallback_rows, [7, 33]);
    assert_eq!(result.segment_per_customer[7], Some(2));
    assert_eq!(result.segment_per_customer[33], Some(2));
    assert_eq!(result.matrix.kept_rows.len(), 58);
    assert!(result.warnings.iter().any(|w| w.starts_with("2 customer(s) have a date that did not parse")));
    spec.source.read_options.formats.unparsed_dates = UnparsedDates::Drop;
    let result = pipeline::run(&spec, &resolver, &JobContext::inline()).unwrap();
    assert_eq!(result.customers.height(), 58);
    assert!(result.matrix.fallback_rows.is_empty());
}

#[test]
fn per_column_choices_are_bounded_and_round_trip() {
    let mut formats = ValueFormats { unparsed_dates: UnparsedDates::Drop, ..ValueFormats::default() };
    formats.set_column("paid", |c| {
        c.date_format = Some("%d.%m.%Y".into());
        c.decimal_comma = Some(true);
    });
    let text = serde_json::to_string(&formats).unwrap();
    assert_eq!(
        text,
        r#"{"columns":[{"column":"paid","date_format":"%d.%m.%Y","decimal_comma":true}],"unparsed_dates":"Drop"}"#
    );
    assert_eq!(serde_json::from_str::<ValueFormats>(&text).unwrap(), formats);
    // Clearing every choice removes the column's entry.
    formats.set_column("paid", |c| *c = ColumnFormat::new("paid"));
    assert!(formats.columns.is_empty());
    // Hostile: a bad format, a long name, the same column twice, too many columns.
    let bad = with_column("x", |c| c.date_format = Some("%Q".into()));
    let err = bad.check().unwrap_err().to_string();
    assert!(err.contains("columns ('x') date_format") && err.contains("strftime"), "{err}");
    let long = with_column(&"x".repeat(5_000), |c| c.read_as = ReadAs::Text);
    assert!(long.check().unwrap_err().to_string().len() < 600);
    let mut twice = with_column("x", |c| c.read_as = ReadAs::Text);
    twice.columns.push(ColumnFormat { read_as: ReadAs::Date, ..ColumnFormat::new("x") });
    assert!(twice.check().unwrap_err().to_string().contains("twice"));
    let many = ValueFormats {
        columns: (0..1_001)
            .map(|i| ColumnFormat { read_as: ReadAs::Text, ..ColumnFormat::new(&format!("c{i}")) })
            .collect(),
        ..ValueFormats::default()
    };
    assert!(many.check().is_err());
    // Hostile values under every rule: one clear line, never a panic.
    for rule in [UnparsedDates::Refuse, UnparsedDates::Drop, UnparsedDates::Fallback] {
        let formats = ValueFormats { unparsed_dates: rule, ..with_column("order_date", |c| c.read_as = ReadAs::Date) };
        for cell in ["", "NaN", "inf", "-1e400", "9999-99-99", "2017-02-30T25:61", "\u{202e}2017", &"1".repeat(5_000)] {
            let text = format!("id,order_date\na,2017-08-31\nb,\"{cell}\"\nc,2017-09-01\n");
            match read_with(&text, &formats) {
                Ok(table) => assert!(table.warnings.iter().all(|w| w.len() < 2048 && !w.contains('\n'))),
                Err(e) => assert!(e.to_string().len() < 2048, "{e}"),
            }
        }
    }
}
