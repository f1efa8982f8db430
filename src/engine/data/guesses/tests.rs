use super::*;
use crate::engine::data::roles::guess_roles;

fn suggestions(frame: &DataFrame) -> Suggestions {
    suggest(frame, &guess_roles(frame))
}

fn proposed(s: &Suggestions) -> Vec<&str> {
    s.features.iter().map(|g| g.column.as_str()).collect()
}

fn reason<'a>(s: &'a Suggestions, column: &str) -> &'a str {
    s.reason_for(column).unwrap_or_else(|| panic!("no reason for {column}"))
}

/// A narrow R-style table: rownames 1..n, a year, an id text, a constant, a near-unique text.
fn narrow(n: usize) -> DataFrame {
    let rownames: Vec<i64> = (1..=n as i64).collect();
    let year: Vec<i64> = (0..n as i64).map(|i| 1990 + i % 20).collect();
    let income: Vec<f64> = (0..n).map(|i| 20.0 + (i * 37 % 101) as f64).collect();
    let visits: Vec<i64> = (0..n as i64).map(|i| i * 7 % 13).collect();
    let codes: Vec<String> = (0..n).map(|i| format!("K{:05}", i * 17)).collect();
    let names: Vec<String> = (0..n).map(|i| format!("Shop number {i} on the high street")).collect();
    let constant = vec!["same"; n];
    df!(
        "rownames" => rownames,
        "year" => year,
        "income" => income,
        "visits" => visits,
        "store_code" => codes,
        "description" => names,
        "country" => constant,
    )
    .unwrap()
}

#[test]
fn a_row_key_a_year_an_id_a_constant_and_free_text_are_never_features() {
    let s = suggestions(&narrow(200));
    assert_eq!(proposed(&s), ["income", "visits"]);
    assert!(reason(&s, "rownames").contains("row key"), "{}", reason(&s, "rownames"));
    assert!(reason(&s, "year").contains("a year"), "{}", reason(&s, "year"));
    assert!(reason(&s, "country").contains("constant"));
    assert!(reason(&s, "description").contains("every row"), "{}", reason(&s, "description"));
    // A customer table's id: the id-like unique text beats the row key.
    assert_eq!(s.id.column.as_deref(), Some("store_code"), "{:?}", s.id);
    assert!(!s.id.repeats);
    assert!(reason(&s, "store_code").contains("customer id"));
}

#[test]
fn a_row_key_is_found_by_its_values_whatever_its_name_and_by_its_name_whatever_its_values() {
    let n = 50;
    let shuffled: Vec<i64> = (0..n as i64).map(|i| (i * 7) % n as i64).collect();
    let gappy: Vec<i64> = (0..n as i64).map(|i| 3 * i + 10).collect();
    let x_real: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 4.0).collect();
    let frame = df!(
        "n" => shuffled,
        "Unnamed: 0" => gappy.clone(),
        "X" => x_real,
        "score" => gappy.iter().map(|v| (v * v % 17) as f64).collect::<Vec<_>>(),
    )
    .unwrap();
    let s = suggestions(&frame);
    assert!(reason(&s, "n").contains("0..49"), "{}", reason(&s, "n"));
    assert!(reason(&s, "Unnamed: 0").contains("row key"));
    // Diamonds' x is a length, not a row key.
    assert_eq!(proposed(&s), ["X", "score"]);
}

#[test]
fn date_parts_are_recognised_by_word_and_range_but_not_inside_measures() {
    let n = 60;
    let frame = df!(
        "arrival_date_week_number" => (0..n).map(|i| 1 + i % 53).collect::<Vec<i64>>(),
        "order_month" => (0..n).map(|i| 1 + i % 12).collect::<Vec<i64>>(),
        "quarter" => (0..n).map(|i| 1 + i % 4).collect::<Vec<i64>>(),
        "day_mins" => (0..n).map(|i| 100.0 + i as f64 * 1.7).collect::<Vec<f64>>(),
        "year_built" => (0..n).map(|i| 1950 + (i * 13) % 60).collect::<Vec<i64>>(),
        "bill_length_mm" => (0..n).map(|i| 32.0 + (i * 7 % 23) as f64).collect::<Vec<f64>>(),
    )
    .unwrap();
    let s = suggestions(&frame);
    for part in ["arrival_date_week_number", "order_month", "quarter"] {
        assert!(reason(&s, part).contains("part of a date"), "{part}: {}", reason(&s, part));
    }
    let mut p = proposed(&s);
    p.sort();
    assert!(s.reason_for("year_built").is_some_and(|r| r.starts_with("numeric")), "{:?}", s.reason_for("year_built"));
    assert_eq!(p, ["bill_length_mm", "day_mins", "year_built"]);
}

#[test]
fn eighty_six_columns_give_at_most_twelve_features_without_near_duplicates() {
    let n = 300;
    let mut columns: Vec<Column> = vec![Column::new("Unnamed: 0".into(), (0..n as i64).collect::<Vec<_>>())];
    for j in 0..86 {
        // Every fourth column is a rescaled copy of the one before it (r = 1).
        let base = if j % 4 == 3 { j - 1 } else { j };
        let values: Vec<f64> = (0..n)
            .map(|i| {
                let v = ((i * (base + 3) * 7919) % 97) as f64 + ((i * (base + 5)) % 13) as f64;
                if j % 4 == 3 { 2.0 * v + 1.0 } else { v }
            })
            .collect();
        columns.push(Column::new(format!("M{j:02}").into(), values));
    }
    let frame = DataFrame::new(n, columns).unwrap();
    let s = suggestions(&frame);
    assert!(s.features.len() <= MAX_SUGGESTED_FEATURES && s.features.len() >= 10, "{:?}", proposed(&s));
    assert!(!proposed(&s).contains(&"Unnamed: 0"));
    assert_eq!(s.features.len() + s.left_out.len(), 87);
    // No two proposals are near duplicates: every copy is either left out or its original is.
    for j in (3..86).step_by(4) {
        let (copy, original) = (format!("M{j:02}"), format!("M{:02}", j - 1));
        assert!(!(proposed(&s).contains(&copy.as_str()) && proposed(&s).contains(&original.as_str())));
    }
    assert!(s.left_out.iter().any(|g| g.reason.contains("says almost the same as")));
    assert!(s.left_out.iter().any(|g| g.reason.contains("only the first 12")));
}

/// An order-level booking log: a 4-value customer_type, a many-valued text guest id, dates.
fn booking_log(n: usize, with_guest: bool) -> DataFrame {
    let types = ["Transient", "Contract", "Group", "Transient-Party"];
    let mut frame = df!(
        "booking_id" => (0..n).map(|i| format!("B{i:06}")).collect::<Vec<_>>(),
        "customer_type" => (0..n).map(|i| types[i % 4]).collect::<Vec<_>>(),
        "arrival_date" => (0..n).map(|i| chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(i as u64 % 300)).collect::<Vec<_>>(),
        "adr" => (0..n).map(|i| 50.0 + (i * 31 % 200) as f64).collect::<Vec<f64>>(),
        "arrival_date_year" => (0..n).map(|i| 2015 + (i % 3) as i64).collect::<Vec<i64>>(),
    )
    .unwrap();
    if with_guest {
        let guests: Vec<String> = (0..n).map(|i| format!("G-{:04}", (i * 7) % (n / 5))).collect();
        frame.with_column(Column::new("guest_ref".into(), guests)).unwrap();
    }
    frame
}

#[test]
fn a_logs_customer_id_has_many_values_with_several_rows_each_never_a_four_value_type() {
    let frame = booking_log(1000, true);
    let roles = guess_roles(&frame);
    let role_of = |c: &str| roles.iter().find(|r| r.column == c).unwrap().role;
    assert_ne!(role_of("customer_type"), ColumnRole::CustomerId);
    let s = suggest(&frame, &roles);
    assert_eq!(s.id.column.as_deref(), Some("guest_ref"), "{:?}", s.id);
    assert!(s.id.repeats);
    assert!(s.id.reason.contains("200 distinct values with 5.0 rows each"), "{}", s.id.reason);
    assert!(reason(&s, "arrival_date_year").contains("a year"));
    assert_eq!(proposed(&s), ["adr"]);
}

#[test]
fn a_log_without_a_qualifying_id_says_so_in_one_line() {
    let s = suggestions(&booking_log(1000, false));
    // The unique booking id numbers the rows; it is no customer's id, and the reason says so.
    assert_eq!(s.id.column.as_deref(), Some("booking_id"), "{:?}", s.id);
    assert!(!s.id.repeats);
    assert!(s.id.reason.contains("no column looks like the customer id of a log"), "{}", s.id.reason);
    let frame = booking_log(1000, false).drop("booking_id").unwrap();
    let s = suggestions(&frame);
    assert_eq!(s.id.column, None, "{:?}", s.id);
    assert!(s.id.reason.starts_with("no column looks like the customer id of a log"), "{}", s.id.reason);
    assert!(s.id.reason.contains("'customer_type' has 4 values"), "{}", s.id.reason);
    assert!(!s.id.reason.contains('\n'));
}

#[test]
fn a_table_without_a_unique_column_has_no_id_and_says_why() {
    let frame = df!("a" => [1.0, 2.0, 2.0], "kind" => ["x", "y", "x"]).unwrap();
    let s = suggestions(&frame);
    assert_eq!(s.id.column, None);
    assert!(s.id.reason.contains("no column has one value per row"));
    assert_eq!(proposed(&s), ["a"]);
}

#[test]
fn hostile_tables_do_not_panic() {
    let empty = DataFrame::empty();
    let s = suggestions(&empty);
    assert!(s.features.is_empty() && s.id.column.is_none());
    let nulls = df!("a" => [None::<f64>, None], "b" => [Some(f64::NAN), Some(f64::INFINITY)]).unwrap();
    let s = suggestions(&nulls);
    assert!(reason(&s, "a").contains("missing"));
    let one = df!("x" => [1i64]).unwrap();
    let _ = suggestions(&one);
}

#[test]
fn customer_named_descriptions_are_not_ids() {
    assert!(!crate::engine::data::roles::name_is_sensitive("customer_type"));
    let frame = df!("customer_type" => ["a", "b", "a"], "customer_id" => ["1", "2", "3"]).unwrap();
    let roles = guess_roles(&frame);
    assert_eq!(roles[0].role, ColumnRole::Categorical);
    assert_eq!(roles[1].role, ColumnRole::CustomerId);
}

#[test]
fn a_panel_without_dates_takes_its_repeating_id_not_the_row_key() {
    let n = 400;
    let frame = df!(
        "rownames" => (1..=n as i64).collect::<Vec<_>>(),
        "id" => (0..n).map(|i| format!("player{:03}", i % 50)).collect::<Vec<_>>(),
        "year" => (0..n).map(|i| 1990 + (i / 50) as i64).collect::<Vec<_>>(),
        "games" => (0..n).map(|i| (i * 13 % 160) as f64).collect::<Vec<_>>(),
    )
    .unwrap();
    let s = suggestions(&frame);
    assert_eq!(s.id.column.as_deref(), Some("id"), "{:?}", s.id);
    assert!(s.id.repeats);
    assert!(s.id.reason.contains("50 distinct values with 8.0 rows each"), "{}", s.id.reason);
    assert_eq!(proposed(&s), ["games"]);
}

#[test]
fn words_ending_in_id_are_not_ids_but_glued_ids_are() {
    for word in ["afraid", "paid", "humid", "valid"] {
        assert!(!name_is_id_like(word), "{word}");
    }
    for id in ["CustomerID", "userId", "custid", "customer_id", "account_no", "id"] {
        assert!(name_is_id_like(id), "{id}");
    }
    let frame = df!("afraid" => [1i64, 2, 3], "CustomerID" => ["a", "b", "c"]).unwrap();
    let roles = guess_roles(&frame);
    assert_eq!(roles[0].role, ColumnRole::Numeric);
    assert_eq!(roles[1].role, ColumnRole::CustomerId);
}

#[test]
fn the_readers_name_for_an_empty_first_header_is_a_row_key() {
    // R's write.csv: an empty first header over row names that skip (a filtered table).
    let frame = df!(
        "column_1" => [20040001i64, 20040002, 20040007, 20040009, 20040010],
        "vocabulary" => [3.0, 7.0, 5.0, 6.0, 2.0],
    )
    .unwrap();
    let s = suggestions(&frame);
    assert!(s.reason_for("column_1").unwrap().contains("row key"), "{:?}", s.reason_for("column_1"));
    assert_eq!(proposed(&s), ["vocabulary"]);
}

#[test]
fn integer_codes_are_never_default_features_and_indicators_say_so() {
    let n = 200;
    let frame = df!(
        "income" => (0..n).map(|i| 20.0 + (i * 37 % 101) as f64).collect::<Vec<f64>>(),
        "region" => (0..n as i64).map(|i| 1 + i % 9).collect::<Vec<i64>>(),
        "zip" => (0..n as i64).map(|i| 10_000 + i * 7 % 300).collect::<Vec<i64>>(),
        "customer_type" => (0..n as i64).map(|i| i % 4).collect::<Vec<i64>>(),
        "has_app" => (0..n as i64).map(|i| i64::from(i % 3 == 0)).collect::<Vec<i64>>(),
    )
    .unwrap();
    let s = suggestions(&frame);
    assert_eq!(proposed(&s), ["income", "has_app"]);
    for code in ["region", "customer_type"] {
        assert!(reason(&s, code).starts_with("a code or category"), "{code}: {}", reason(&s, code));
    }
    assert!(reason(&s, "zip").contains("personal"), "{}", reason(&s, "zip"));
    assert!(reason(&s, "has_app").starts_with("a 0/1 indicator"), "{}", reason(&s, "has_app"));
    assert!(reason(&s, "income").starts_with("numeric,"), "{}", reason(&s, "income"));
}
