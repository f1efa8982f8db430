//! One test per row of ../shared/INPUT_POLICY.md: what Strata does with bad input.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use strata::engine::cluster::kmeans::{KMeansParams, fit};
use strata::engine::cluster::sweep::sweep;
use strata::engine::data::quality::quality_report;
use strata::engine::data::roles::ColumnRole;
use strata::engine::data::{ReadOptions, TextEncoding, read_table};
use strata::engine::error::{ClusterError, DataError, FeatureError, PipelineError, ProjectError};
use strata::engine::features::{
    FeatureRecipe, FeatureSpec, MissingRule, NegativeAmounts, TransactionColumns, aggregate_transactions,
};
use strata::engine::jobs::{CancelToken, JobContext};
use strata::engine::pipeline::{
    self, Algorithm, DataSource, DuplicateIdRule, ModelSpec, PipelineSpec, SourceResolver, SourceSpec, TableKind,
};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path
}

fn read(path: &Path) -> Result<strata::engine::data::LoadedTable, DataError> {
    read_table(path, &ReadOptions::default())
}

#[test]
fn empty_file_and_header_only_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [("empty.csv", ""), ("header.csv", "id,spend\n"), ("blank.csv", "\n\n  \n")] {
        let path = write(dir.path(), name, content.as_bytes());
        let err = read(&path).unwrap_err();
        assert!(matches!(err, DataError::NoDataRows { .. }), "{name}: {err:?}");
        let message = err.to_string();
        assert!(message.starts_with("file has no data rows"), "{message}");
        assert!(message.ends_with(&path.display().to_string()), "{message}");
    }
}

#[test]
fn non_utf8_is_detected_and_can_be_decoded_as_windows_1252_or_lossily() {
    let dir = tempfile::tempdir().unwrap();
    // "Café" and "Zoë" in Windows-1252.
    let path = write(dir.path(), "latin.csv", b"name,spend\nCaf\xe9,1.5\nZo\xeb,2\n");
    let err = read(&path).unwrap_err();
    assert!(matches!(err, DataError::NotUtf8 { offset: 14, .. }), "{err:?}");
    assert!(err.to_string().contains("windows-1252"));

    let cp1252 =
        read_table(&path, &ReadOptions { encoding: TextEncoding::Windows1252, ..ReadOptions::default() }).unwrap();
    let names: Vec<&str> = cp1252.frame.column("name").unwrap().str().unwrap().iter().map(|v| v.unwrap()).collect();
    assert_eq!(names, vec!["Café", "Zoë"]);
    assert!(cp1252.warnings.iter().any(|w| w.contains("Windows-1252")));

    let lossy = read_table(&path, &ReadOptions { encoding: TextEncoding::Lossy, ..ReadOptions::default() }).unwrap();
    assert_eq!(lossy.replaced_chars, 2);
    assert!(lossy.warnings.iter().any(|w| w.starts_with("2 invalid byte sequence(s)")));
}

#[test]
fn ragged_rows_are_an_error_naming_lines_and_total_unless_skipping_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("id,a,b\n");
    for i in 1..=20 {
        // Lines 3, 5, ..., 21 have a missing field: 10 bad rows.
        if i % 2 == 0 { text.push_str(&format!("{i},1\n")) } else { text.push_str(&format!("{i},1,2\n")) }
    }
    let path = write(dir.path(), "ragged.csv", text.as_bytes());
    let err = read(&path).unwrap_err();
    match &err {
        DataError::MalformedRows { first_lines, count, .. } => {
            assert_eq!(first_lines, &vec![3, 5, 7, 9, 11]);
            assert_eq!(*count, 10);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("10 malformed row(s)") && err.to_string().contains("3, 5, 7, 9, 11"));

    let skipped = read_table(&path, &ReadOptions { skip_bad_rows: true, ..ReadOptions::default() }).unwrap();
    assert_eq!(skipped.frame.height(), 10);
    assert_eq!(skipped.skipped_lines.len(), 10);
    assert!(skipped.warnings.iter().any(|w| w.contains("10 malformed row(s) skipped")));
}

#[test]
fn unterminated_quote_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "quote.csv", b"id,name\n1,\"Ann\"\n2,\"Bob\n3,Cy\n");
    let err = read(&path).unwrap_err();
    assert!(err.to_string().contains("unterminated quote starting at line 3"), "{err}");
}

#[test]
fn whitespace_aligned_text_is_readable() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt");
    let table = read(&path).unwrap();
    assert_eq!(table.frame.shape(), (69_659, 4));
    assert_eq!(table.frame.column("date").unwrap().dtype(), &DataType::Date);
    assert_eq!(table.frame.column("dollar_value").unwrap().dtype(), &DataType::Float64);
    // Ids keep their leading zeros: 00001 is text as written, never the number 1.
    let ids = table.frame.column("customer_id").unwrap();
    assert_eq!(ids.dtype(), &DataType::String);
    assert_eq!(ids.str().unwrap().get(0), Some("00001"));
}

#[test]
fn mixed_types_stay_text_with_a_warning_naming_the_blocking_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "mixed.csv", b"id,spend\n1,10\n2,12.5\n3,n/a?\n4,7\n5,unknown\n");
    let table = read(&path).unwrap();
    assert_eq!(table.frame.column("spend").unwrap().dtype(), &DataType::String);
    let warning = table.warnings.iter().find(|w| w.contains("'spend'")).unwrap();
    assert!(warning.contains("'n/a?'") && warning.contains("'unknown'") && warning.contains("2 value(s)"), "{warning}");
}

#[test]
fn file_larger_than_memory_is_refused_before_reading_and_can_be_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "big.csv", b"id,x\n1,1\n2,2\n3,3\n");
    // The check uses the memory available now; a tiny limit stands in for a huge file.
    let err =
        strata::engine::data::check_memory_against(&path, 10 << 30, strata::engine::data::FileFormat::Text, 1 << 30)
            .unwrap_err();
    assert!(matches!(err, DataError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("load a sample"));
    let sample = read_table(&path, &ReadOptions { sample_rows: Some(2), ..ReadOptions::default() }).unwrap();
    assert_eq!(sample.frame.height(), 2);
    assert!(sample.is_sample);
}

fn frame_recipe(columns: &[&str]) -> FeatureRecipe {
    FeatureRecipe { features: columns.iter().map(|c| FeatureSpec::numeric(c)).collect() }
}

#[test]
fn all_missing_and_constant_columns_are_excluded_with_warnings() {
    let frame = df!(
        "empty" => [None::<f64>, None, None, None],
        "constant" => [3.0, 3.0, 3.0, 3.0],
        "x" => [1.0, 2.0, 3.0, 9.0],
    )
    .unwrap();
    let report = quality_report(&frame, None, None).unwrap();
    assert!(report.columns[0].is_all_missing && report.columns[1].is_constant);
    let (fitted, matrix) = frame_recipe(&["empty", "constant", "x"]).fit_transform(&frame, &HashMap::new()).unwrap();
    assert_eq!(fitted.output_names(), vec!["x"]);
    assert!(matrix.warnings.iter().any(|w| w.contains("'empty' excluded: every value is missing")));
    assert!(matrix.warnings.iter().any(|w| w.contains("'constant' excluded: every value is 3 (constant)")));
}

fn customer_spec(path: &str, rule: DuplicateIdRule) -> PipelineSpec {
    PipelineSpec {
        source: SourceSpec {
            source: DataSource::File(path.into()),
            read_options: ReadOptions::default(),
            fingerprint: None,
        },
        table: TableKind::CustomerTable { id_column: Some("id".into()), no_id: false },
        attributes: None,
        attributes_key: None,
        duplicate_ids: rule,
        role_overrides: vec![],
        recipe: frame_recipe(&["x"]),
        model: ModelSpec {
            algorithm: Algorithm::KMeans(KMeansParams::new(2)),
            k_range: None,
            min_segment_share: None,
            stability: None,
            explain_depth: None,
        },
        derived: Default::default(),
    }
}

#[test]
fn duplicate_ids_are_reported_and_the_users_choice_is_applied_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "dupes.csv", b"id,x\na,1\nb,2\na,3\nc,4\na,5\nb,6\nd,7\n");
    let resolver = SourceResolver { base_dir: dir.path().to_path_buf(), allow_outside: false };
    let refused =
        pipeline::build_customer_table(&customer_spec("dupes.csv", DuplicateIdRule::Refuse), &resolver).err().unwrap();
    let message = refused.to_string();
    assert!(
        message.contains("2 id(s) occur on more than one row (3 extra rows; for example 'a' x3, 'b' x2)"),
        "{message}"
    );
    assert!(message.contains("keep-first or aggregate"));

    let first = pipeline::build_customer_table(&customer_spec("dupes.csv", DuplicateIdRule::KeepFirst), &resolver)
        .ok()
        .unwrap();
    let xs: Vec<f64> =
        first.frame.column("x").unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().into_no_null_iter().collect();
    assert_eq!(xs, vec![1.0, 2.0, 4.0, 7.0]);
    assert!(first.warnings.iter().any(|w| w.contains("kept the first row of each (your choice)")));

    let aggregated = pipeline::build_customer_table(&customer_spec("dupes.csv", DuplicateIdRule::Aggregate), &resolver)
        .ok()
        .unwrap();
    let xs: Vec<f64> = aggregated.frame.column("x").unwrap().f64().unwrap().into_no_null_iter().collect();
    assert_eq!(xs, vec![3.0, 4.0, 4.0, 7.0]);
    assert!(aggregated.warnings.iter().any(|w| w.contains("aggregated per id")));
}

fn transactions() -> DataFrame {
    df!(
        "cust" => ["a", "a", "b", "b", "c", "d"],
        "day" => ["2024-01-01", "2024-03-01", "2024-02-10", "2030-01-01", "1890-05-05", "2024-02-29"],
        "amount" => [10.0, -4.0, 20.0, 99.0, 5.0, 7.5],
    )
    .unwrap()
}

fn columns(negative: NegativeAmounts, as_of: Option<NaiveDate>) -> TransactionColumns {
    TransactionColumns {
        customer_id: "cust".into(),
        date: "day".into(),
        amount: Some("amount".into()),
        as_of,
        negative_amounts: negative,
        since: None,
        behaviour: Default::default(),
        value: None,
    }
}

#[test]
fn negative_amounts_are_allowed_counted_and_can_be_forbidden() {
    let as_of = NaiveDate::from_ymd_opt(2024, 6, 1);
    let rfm = aggregate_transactions(&transactions(), &columns(NegativeAmounts::Allow, as_of)).unwrap();
    assert_eq!(rfm.n_negative_amounts, 1);
    assert!(rfm.warnings.iter().any(|w| w.starts_with("1 transaction(s) have a negative amount")));
    let total: Vec<f64> = rfm.customers.column("monetary_total").unwrap().f64().unwrap().into_no_null_iter().collect();
    assert_eq!(total[0], 6.0);
    let err = aggregate_transactions(&transactions(), &columns(NegativeAmounts::Forbid, as_of)).unwrap_err();
    assert!(err.to_string().contains("1 negative amount(s), which the column's rule forbids"), "{err}");
}

#[test]
fn future_and_implausibly_old_dates_are_judged_against_the_as_of_date() {
    let as_of = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
    let rfm = aggregate_transactions(&transactions(), &columns(NegativeAmounts::Allow, Some(as_of))).unwrap();
    assert_eq!(rfm.n_after_as_of, 1);
    assert!(rfm.warnings.iter().any(|w| w.contains("1 transaction(s) after the as-of date 2024-06-01 were ignored")));
    assert!(rfm.warnings.iter().any(|w| w.contains("more than 100 years before the as-of date")));
    // The same data judged as of 2031 has nothing in the future: "now" plays no part.
    let later =
        aggregate_transactions(&transactions(), &columns(NegativeAmounts::Allow, NaiveDate::from_ymd_opt(2031, 1, 1)))
            .unwrap();
    assert_eq!(later.n_after_as_of, 0);
    // The quality report applies the same judgement to date columns.
    let frame =
        df!("d" => [0i32, 20_000, 30_000]).unwrap().lazy().select([col("d").cast(DataType::Date)]).collect().unwrap();
    let report = quality_report(&frame, None, Some(as_of)).unwrap();
    assert_eq!(report.columns[0].n_future_dates, 2);
}

#[test]
fn nan_infinity_and_inf_text_never_reach_a_fit() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "inf.csv", b"id,x,y\n1,1,5\n2,inf,6\n3,NaN,7\n4,-Infinity,8\n5,2,9\n6,3,1\n");
    let table = read(&path).unwrap();
    assert_eq!(table.frame.column("x").unwrap().dtype(), &DataType::Float64);
    assert!(table.warnings.iter().any(|w| w.contains("3 NaN or infinite value(s)")));
    for rule in [MissingRule::ImputeMedian, MissingRule::DropRows, MissingRule::FallbackSegment] {
        let recipe = FeatureRecipe {
            features: vec![FeatureSpec { missing: rule, ..FeatureSpec::numeric("x") }, FeatureSpec::numeric("y")],
        };
        let (_, matrix) = recipe.fit_transform(&table.frame, &HashMap::new()).unwrap();
        assert!(matrix.values.iter().all(|v| v.is_finite()), "{rule:?}");
        assert!(fit(matrix.values.view(), &KMeansParams::new(2), &CancelToken::new()).is_ok());
    }
    // Passed directly, a non-finite value is refused, not a panic.
    let bad = ndarray::array![[1.0], [f64::NAN]];
    assert!(matches!(
        fit(bad.view(), &KMeansParams::new(1), &CancelToken::new()),
        Err(ClusterError::NonFinite { row: 1, column: 0 })
    ));
}

#[test]
fn no_rows_left_after_filters_is_an_error() {
    let frame = df!("x" => [None::<f64>, None, Some(1.0)], "y" => [Some(1.0), Some(2.0), None]).unwrap();
    let drop = |c: &str| FeatureSpec { missing: MissingRule::DropRows, ..FeatureSpec::numeric(c) };
    let recipe = FeatureRecipe { features: vec![drop("x"), drop("y")] };
    // Fitting sees x = {1} constant... so use transform of a fitted recipe on data where every row drops.
    let fit_frame = df!("x" => [1.0, 2.0], "y" => [3.0, 5.0]).unwrap();
    let (fitted, _) = recipe.fit_transform(&fit_frame, &HashMap::new()).unwrap();
    let err = fitted.transform(&frame).unwrap_err();
    assert!(matches!(err, FeatureError::NoRowsLeft));
    assert_eq!(err.to_string(), "no rows left after filters");
    // Transactions all after the as-of date leave no customers either.
    let early =
        aggregate_transactions(&transactions(), &columns(NegativeAmounts::Allow, NaiveDate::from_ymd_opt(1800, 1, 1)));
    assert!(early.unwrap_err().to_string().contains("no rows left after filters"));
}

#[test]
fn k_too_large_is_an_error_for_a_fixed_k_and_clamped_with_a_warning_for_a_range() {
    let x = ndarray::array![[0.0], [0.0], [1.0], [2.0]];
    let err = fit(x.view(), &KMeansParams::new(5), &CancelToken::new()).unwrap_err();
    assert_eq!(err, ClusterError::KTooLarge { k: 5, available: 4, what: "rows" });
    let err = fit(x.view(), &KMeansParams::new(4), &CancelToken::new()).unwrap_err();
    assert_eq!(err, ClusterError::KTooLarge { k: 4, available: 3, what: "distinct rows" });
    let result = sweep(x.view(), 2, 8, &Algorithm::KMeans(KMeansParams::default()), &JobContext::inline()).unwrap();
    assert_eq!(result.runs.last().unwrap().k, 3);
    assert!(result.warnings[0].contains("clamped to 2..3"));
}

#[test]
fn no_usable_feature_is_an_error() {
    let frame = df!("c" => [1.0, 1.0], "name" => ["a", "b"]).unwrap();
    let err = frame_recipe(&["c"]).fit_transform(&frame, &HashMap::new()).unwrap_err();
    assert!(err.to_string().starts_with("no usable feature selected; 'c' every value is 1 (constant)"), "{err}");
    let err = FeatureRecipe::default().fit_transform(&frame, &HashMap::new()).unwrap_err();
    assert!(matches!(err, FeatureError::NoUsableFeature { .. }));
    // A sensitive column is not usable without the explicit override.
    let roles = HashMap::from([("c".to_string(), ColumnRole::Sensitive)]);
    assert!(matches!(frame_recipe(&["c"]).fit_transform(&frame, &roles), Err(FeatureError::SensitiveFeature { .. })));
}

#[test]
fn a_source_outside_the_project_folder_is_not_read_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("project");
    std::fs::create_dir(&inner).unwrap();
    write(dir.path(), "outside.csv", b"id,x\na,1\nb,2\n");
    let resolver = SourceResolver { base_dir: inner.clone(), allow_outside: false };
    let spec = customer_spec("../outside.csv", DuplicateIdRule::Refuse);
    let err = pipeline::build_customer_table(&spec, &resolver).err().unwrap();
    assert!(matches!(err, PipelineError::Project(ProjectError::OutsideProject { .. })), "{err}");
    let absolute = customer_spec(&dir.path().join("outside.csv").to_string_lossy(), DuplicateIdRule::Refuse);
    assert!(pipeline::build_customer_table(&absolute, &resolver).is_err());
    let allowed = SourceResolver { base_dir: inner, allow_outside: true };
    assert!(pipeline::build_customer_table(&spec, &allowed).is_ok());
}
